"""Evaluation harness: how close are synthese's themes and arguments to what humans wrote?

Two dataset formats (docs/datasets.md), read with the same reader as consultation exports:

- theme labels ``id,text,labels``: one row per text, its human labels separated by ``|``;
- argument gold ``id,text,argument``: one row per human-written argument of an answer.

Definitions (docs/benchmarks.md shows them at work):

- ARI, NMI, homogeneity and completeness compare the clustering with each text's FIRST label
  (partition metrics need exactly one class per text). « Autres / inclassables » (-1) counts as
  one more cluster, so leaving texts out is not free. sklearn's NMI with its default
  arithmetic normalisation is the V-measure: one figure, shown once.
- Theme F1 uses ALL labels: label L is the set of texts carrying L, cluster C the set of texts
  in C; F1(L, C) = 2|L∩C| / (|L| + |C|). Labels and clusters are paired one-to-one by the
  Hungarian algorithm (maximum total F1); an unpaired label scores 0. Reported as the mean
  over labels (macro) and weighted by label size. « F1 après fusion » instead maps every
  cluster to the label it is most precise for and scores each label against the union of its
  clusters: fine themes that split a human label are not penalised there.
- A human theme is « retrouvé » when its paired F1 is at least ``RECOVERED_F1``. Stability is
  the ARI between the labels of two seeds and the share of human themes retrouvés in both.
- Arguments: per answer, gold and extracted arguments are embedded and paired greedily,
  one-to-one, by decreasing cosine similarity, pairs below the threshold excluded. Recall =
  paired gold / gold, precision = paired extracted / extracted (micro, over all answers; a
  failed extraction pairs nothing). Volunteers often wrote the same point twice, which caps
  one-to-one recall, so two more figures: « rappel (points distincts) », the share of gold
  points (gold arguments grouped by complete linkage at the threshold) reached by at least
  one extracted argument, and « précision (toute correspondance) », the share of extracted
  arguments similar enough to at least one gold argument.
"""

from __future__ import annotations

import re
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthese.errors import SyntheseError

LABEL_SEPARATOR = "|"
RECOVERED_F1 = 0.5
DEFAULT_SEEDS = (42, 43, 44)
UNITS = ("answers", "sentences", "arguments")
DEFAULT_QUESTION = "Question ouverte de la consultation"
# Cosine above which an extracted argument matches a human one, per embedder. Calibrated on
# 99 hand-judged pairs of human arguments of the same answer (42 paraphrases, 57 different
# points) from an-egalite-dev: the lowest threshold (0.01 steps) that lets at most 10 % of the
# different-point pairs through. `python benchmarks/run_eval.py --calibrate` reproduces it;
# the distributions are in docs/benchmarks.md.
MATCH_THRESHOLDS: dict[str, float] = {
    "use-multilingual": 0.50,
    "minilm-l6": 0.71,
    "spacy-fr-md": 0.78,
    "e5-small-fr": 0.91,
}
_SENTENCES = re.compile(r"(?<=[.!?…;])\s+|\n+")
_WORD = re.compile(r"[^\W_]+")
Log = Callable[[str], None]


# --- datasets --------------------------------------------------------------------------------


@dataclass
class ThemeDataset:
    """Texts with their human theme labels (the first one is the primary label)."""

    path: Path
    ids: list[str]
    texts: list[str]
    labels: list[tuple[str, ...]]
    questions: list[str | None]

    def head(self, limit: int | None) -> ThemeDataset:
        if limit is None:
            return self
        return ThemeDataset(self.path, self.ids[:limit], self.texts[:limit],
                            self.labels[:limit], self.questions[:limit])


@dataclass
class GoldAnswer:
    id: str
    text: str
    question: str | None
    arguments: list[str]
    types: list[str] = field(default_factory=list)  # the human type of each argument, if given


# The human argument types of an-egalite-dev (column argument_type) and the kinds of
# extract.KINDS each one agrees with (docs/quality.md explains the mapping).
TYPE_KINDS: dict[str, frozenset[str]] = {
    "des propositions de nouvelles mesures": frozenset({"condition"}),
    "une description d'un problème": frozenset({"risque"}),
    "l'évocation d'expérience(s) personnelle(s)": frozenset({"constat"}),
    "des analyses ou proposition d'ordre général": frozenset({"constat", "condition"}),
    "des prises de position contre une mesure existante": frozenset({"risque"}),
    "une analyse des causes du problème": frozenset({"constat"}),
    "des questions ou demandes d'information": frozenset({"condition"}),
}


@dataclass
class ArgumentDataset:
    """Answers with the arguments humans wrote for them, in file order."""

    path: Path
    answers: list[GoldAnswer]


def load_dataset(path: str | Path, fmt: str | None = None) -> ThemeDataset | ArgumentDataset:
    """Read a labelled dataset; ``fmt`` is "themes", "arguments" or None (from the columns)."""
    from synthese.ingest import read_export

    export = read_export(path)
    columns = {str(c).strip().lower(): c for c in export.frame.columns}
    if fmt is None:
        fmt = "themes" if "labels" in columns else "arguments" if "argument" in columns else None
    if fmt == "themes":
        return _theme_dataset(export.path, export.frame, columns)
    if fmt == "arguments":
        return _argument_dataset(export.path, export.frame, columns)
    if fmt is not None:
        raise SyntheseError(f"Format de jeu d'évaluation inconnu « {fmt} » : themes ou arguments.")
    raise SyntheseError(
        f"{export.path} n'a ni colonne « labels » ni colonne « argument » : donnez les colonnes "
        "id,text,labels (thèmes) ou id,text,argument (arguments), voir docs/datasets.md."
    )


def _required(path: Path, columns: dict[str, Any], needed: tuple[str, ...]) -> list[Any]:
    for name in needed:
        if name not in columns:
            raise SyntheseError(
                f"Colonne « {name} » absente de {path} : ce format demande les colonnes "
                f"{','.join(needed)} (voir docs/datasets.md)."
            )
    return [columns[name] for name in needed]


def _cell(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _theme_dataset(path: Path, frame: Any, columns: dict[str, Any]) -> ThemeDataset:
    id_col, text_col, labels_col = _required(path, columns, ("id", "text", "labels"))
    question_col = columns.get("question")
    seen: dict[str, int] = {}
    ids, texts, labels, questions = [], [], [], []
    for row, record in zip(frame.index, frame.to_dict("records"), strict=True):
        rid, text = _cell(record[id_col]), _cell(record[text_col])
        _check_row(path, row, rid, text)
        if rid in seen:
            raise SyntheseError(
                f"Identifiant « {rid} » en double dans {path} (colonne « id », lignes {seen[rid]} "
                f"et {row}) : chaque texte doit avoir un identifiant unique."
            )
        seen[rid] = int(row)
        found = [part.strip() for part in _cell(record[labels_col]).split(LABEL_SEPARATOR)]
        found = list(dict.fromkeys(part for part in found if part))
        if not found:
            raise SyntheseError(
                f"Aucune étiquette ligne {row} de {path} (colonne « labels ») : donnez au moins "
                f"une étiquette, plusieurs séparées par « {LABEL_SEPARATOR} »."
            )
        ids.append(rid)
        texts.append(text)
        labels.append(tuple(found))
        questions.append(_cell(record[question_col]) or None if question_col else None)
    return ThemeDataset(path, ids, texts, labels, questions)


def _argument_dataset(path: Path, frame: Any, columns: dict[str, Any]) -> ArgumentDataset:
    id_col, text_col, arg_col = _required(path, columns, ("id", "text", "argument"))
    question_col = columns.get("question")
    type_col = columns.get("argument_type")
    answers: dict[str, GoldAnswer] = {}
    first_row: dict[str, int] = {}
    for row, record in zip(frame.index, frame.to_dict("records"), strict=True):
        rid, text = _cell(record[id_col]), _cell(record[text_col])
        _check_row(path, row, rid, text)
        argument = " ".join(_cell(record[arg_col]).split())
        if rid not in answers:
            question = _cell(record[question_col]) or None if question_col else None
            answers[rid] = GoldAnswer(rid, text, question, [])
            first_row[rid] = int(row)
        elif answers[rid].text != text:
            raise SyntheseError(
                f"Le texte de la réponse « {rid} » diffère entre les lignes {first_row[rid]} et "
                f"{row} de {path} (colonne « text ») : répétez le même texte sur chaque ligne."
            )
        if argument:  # an empty cell is an answer in which humans found no argument
            answers[rid].arguments.append(argument)
            answers[rid].types.append(_cell(record[type_col]) if type_col else "")
    return ArgumentDataset(path, list(answers.values()))


def _check_row(path: Path, row: object, rid: str, text: str) -> None:
    if not rid:
        raise SyntheseError(f"Identifiant vide ligne {row} de {path} (colonne « id ») : "
                            "complétez-le.")
    if not text:
        raise SyntheseError(f"Texte vide ligne {row} de {path} (colonne « text ») : "
                            "complétez-le ou retirez la ligne.")


# --- clustering metrics --------------------------------------------------------------------


def partition_scores(primary: Sequence[str], predicted: Sequence[int]) -> dict[str, float]:
    """ARI, NMI (= V-measure), homogeneity and completeness against one label per item."""
    from sklearn.metrics import (
        adjusted_rand_score,
        homogeneity_completeness_v_measure,
        normalized_mutual_info_score,
    )

    pred = np.asarray(predicted)
    homogeneity, completeness, _ = homogeneity_completeness_v_measure(primary, pred)
    return {
        "ari": float(adjusted_rand_score(primary, pred)),
        "nmi": float(normalized_mutual_info_score(primary, pred)),
        "homogeneity": float(homogeneity),
        "completeness": float(completeness),
    }


@dataclass
class ThemeMatch:
    """Human labels paired with clusters (Hungarian, on F1), and the F1 summaries."""

    pairs: dict[str, tuple[int | None, float]]  # label -> (cluster or None, F1)
    sizes: dict[str, int]
    macro_f1: float
    weighted_f1: float
    merged_macro_f1: float
    recovered: frozenset[str]


def theme_f1(
    labels: Sequence[Sequence[str]], predicted: Sequence[int], *, recovered_at: float = RECOVERED_F1
) -> ThemeMatch:
    """Pair human labels (all of them, multi-label) with clusters and score each pair by F1."""
    from scipy.optimize import linear_sum_assignment

    pred = np.asarray(predicted)
    names = sorted({lab for item in labels for lab in item})
    index = {name: i for i, name in enumerate(names)}
    gold = np.zeros((len(labels), len(names)), dtype=np.int64)
    for row, item in enumerate(labels):
        gold[row, [index[lab] for lab in item]] = 1
    clusters = np.unique(pred[pred >= 0])
    found = (pred[:, None] == clusters[None, :]).astype(np.int64)
    inter = gold.T @ found  # labels x clusters
    g_size, c_size = gold.sum(axis=0), found.sum(axis=0)
    denom = g_size[:, None] + c_size[None, :]
    f1 = np.divide(2 * inter, denom, out=np.zeros(inter.shape), where=denom > 0)
    pairs: dict[str, tuple[int | None, float]] = {name: (None, 0.0) for name in names}
    if clusters.size:
        rows, cols = linear_sum_assignment(-f1)
        for r, c in zip(rows, cols, strict=True):
            pairs[names[r]] = (int(clusters[c]), float(f1[r, c]))
    scores = np.array([pairs[name][1] for name in names])
    sizes = {name: int(g_size[i]) for i, name in enumerate(names)}
    merged = np.zeros(len(names))
    if clusters.size:
        # Each cluster goes to the label most of its members carry (ties: first label).
        owner = np.argmax(inter, axis=0)
        for i in range(len(names)):
            union = found[:, owner == i].any(axis=1)
            hit = int((union & (gold[:, i] == 1)).sum())
            total = int(union.sum()) + int(g_size[i])
            merged[i] = 2 * hit / total if total else 0.0
    weights = g_size / g_size.sum() if g_size.sum() else np.zeros(len(names))
    return ThemeMatch(
        pairs=pairs,
        sizes=sizes,
        macro_f1=float(scores.mean()) if names else 0.0,
        weighted_f1=float((scores * weights).sum()),
        merged_macro_f1=float(merged.mean()) if names else 0.0,
        recovered=frozenset(n for n in names if pairs[n][1] >= recovered_at),
    )


@dataclass
class MultiLabel:
    """Each answer's themes against its human labels, as Consult's harness scores them.

    A theme is read as the human label most of its units carry (as in « F1 après fusion »);
    an answer's predicted labels are those of every theme one of its units falls in, so an
    answer whose arguments fall in two themes gets both. Intervals are 95 % bootstrap
    intervals over answers."""

    micro_f1: float
    macro_f1: float
    micro_ci: tuple[float, float]
    macro_ci: tuple[float, float]
    labels_per_answer: float  # mean number of predicted labels per answer
    alpha: float | None  # Krippendorff's alpha (nominal), answers with one label on each side
    alpha_answers: int


BOOTSTRAP_RESAMPLES = 1000


def multilabel_scores(gold: Sequence[Sequence[str]], answer_of: Sequence[int],
                      predicted: Sequence[int], *, resamples: int = BOOTSTRAP_RESAMPLES,
                      seed: int = 0) -> MultiLabel:
    """Score each answer's set of themes (``answer_of`` gives each unit's answer index in
    ``gold``; ``predicted`` each unit's theme, -1 for none) against its human labels."""
    names = sorted({lab for item in gold for lab in item})
    index = {name: i for i, name in enumerate(names)}
    n, width = len(gold), len(names)
    truth = np.zeros((n, width), dtype=bool)
    for row, item in enumerate(gold):
        truth[row, [index[lab] for lab in item]] = True
    answer_of, pred = np.asarray(answer_of, dtype=np.int64), np.asarray(predicted)
    guess = np.zeros((n, width), dtype=bool)
    inside = pred >= 0
    if inside.any() and width:
        clusters = np.unique(pred[inside])
        votes = np.zeros((clusters.size, width), dtype=np.int64)
        position = np.searchsorted(clusters, pred[inside])
        np.add.at(votes, position, truth[answer_of[inside]].astype(np.int64))
        owner = votes.argmax(axis=1)  # ties: the first label
        guess[answer_of[inside], owner[position]] = True
    hit, made, real = (truth & guess).astype(float), guess.astype(float), truth.astype(float)

    def f1s(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tp, pr, gt = weights @ hit, weights @ made, weights @ real
        micro = 2 * tp.sum(axis=1) / np.maximum(pr.sum(axis=1) + gt.sum(axis=1), 1e-12)
        per_label = np.divide(2 * tp, pr + gt, out=np.zeros_like(tp), where=(pr + gt) > 0)
        return micro, per_label.mean(axis=1) if width else np.zeros(len(weights))

    micro, macro = f1s(np.ones((1, n)))
    rng = np.random.default_rng(seed)
    draws = np.stack([np.bincount(rng.integers(0, n, n), minlength=n)
                      for _ in range(resamples)]).astype(float) if n else np.zeros((0, 0))
    boot_micro, boot_macro = f1s(draws) if n else (np.zeros(1), np.zeros(1))
    alpha, single = _alpha(truth, guess)
    return MultiLabel(
        micro_f1=float(micro[0]), macro_f1=float(macro[0]),
        micro_ci=(float(np.percentile(boot_micro, 2.5)), float(np.percentile(boot_micro, 97.5))),
        macro_ci=(float(np.percentile(boot_macro, 2.5)), float(np.percentile(boot_macro, 97.5))),
        labels_per_answer=float(guess.sum(axis=1).mean()) if n else 0.0,
        alpha=alpha, alpha_answers=single,
    )


def _alpha(truth: np.ndarray, guess: np.ndarray) -> tuple[float | None, int]:
    """Krippendorff's alpha (nominal) between the human coder and synthese, on the answers
    each gives exactly one label: it is defined for one value per coder and item."""
    one = (truth.sum(axis=1) == 1) & (guess.sum(axis=1) == 1)
    if one.sum() < 2:
        return None, int(one.sum())
    import krippendorff

    data = np.stack([truth[one].argmax(axis=1), guess[one].argmax(axis=1)]).astype(float)
    if np.unique(data).size < 2:
        return None, int(one.sum())
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")), \
        int(one.sum())


# --- argument metrics ----------------------------------------------------------------------


def greedy_match(similarity: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """One-to-one (gold, extracted, cosine) pairs, best first, each at least ``threshold``.

    Ties go to the lower gold index, then the lower extracted index.
    """
    sim = np.asarray(similarity, dtype=np.float64)
    if sim.size == 0:
        return []
    rows, cols = np.nonzero(sim >= threshold)
    order = np.lexsort((cols, rows, -sim[rows, cols]))
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    out = []
    for k in order:
        r, c = int(rows[k]), int(cols[k])
        if r in used_gold or c in used_pred:
            continue
        used_gold.add(r)
        used_pred.add(c)
        out.append((r, c, float(sim[r, c])))
    return out


def gold_points(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Group one answer's gold arguments into distinct points (complete linkage at the
    threshold: every two arguments of a point are at least ``threshold`` similar)."""
    n = len(vectors)
    if n <= 1:
        return np.zeros(n, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="complete")
    return fcluster(tree, t=1.0 - threshold, criterion="distance").astype(np.int64) - 1


@dataclass
class ArgumentScores:
    threshold: float
    n_answers: int
    n_gold: int
    n_extracted: int
    n_matched: int
    n_points: int
    n_points_reached: int
    n_extracted_similar: int

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_gold if self.n_gold else 0.0

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_extracted if self.n_extracted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def points_recall(self) -> float:
        return self.n_points_reached / self.n_points if self.n_points else 0.0

    @property
    def precision_any(self) -> float:
        return self.n_extracted_similar / self.n_extracted if self.n_extracted else 0.0


def argument_scores(
    gold: Sequence[np.ndarray], extracted: Sequence[np.ndarray], threshold: float
) -> ArgumentScores:
    """Score extracted against gold argument vectors, answer by answer (same order)."""
    totals = {"n_gold": 0, "n_extracted": 0, "n_matched": 0, "n_points": 0,
              "n_points_reached": 0, "n_extracted_similar": 0}
    for g, p in zip(gold, extracted, strict=True):
        g, p = np.asarray(g, dtype=np.float32), np.asarray(p, dtype=np.float32)
        totals["n_gold"] += len(g)
        totals["n_extracted"] += len(p)
        points = gold_points(g, threshold)
        totals["n_points"] += len(set(points.tolist()))
        if not len(g) or not len(p):
            continue
        sim = g @ p.T
        totals["n_matched"] += len(greedy_match(sim, threshold))
        reached = sim.max(axis=1) >= threshold
        totals["n_points_reached"] += len(set(points[reached].tolist()))
        totals["n_extracted_similar"] += int((sim.max(axis=0) >= threshold).sum())
    return ArgumentScores(threshold=threshold, n_answers=len(gold), **totals)


# --- timing and memory ---------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class StageStat:
    stage: str
    items: int
    unit: str
    seconds: float  # wall clock
    peak_rss_mb: float
    cpu_seconds: float = 0.0  # all threads of this process: less noisy on a shared machine

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class StageClock:
    """Wall time per stage and the process's peak RSS when each stage ended."""

    stats: list[StageStat] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str, items: int, unit: str) -> Iterator[None]:
        started, cpu = time.perf_counter(), time.process_time()
        yield
        self.stats.append(StageStat(name, items, unit, time.perf_counter() - started,
                                    peak_rss_mb(), time.process_time() - cpu))


# --- runs ----------------------------------------------------------------------------------


@dataclass
class SeedRun:
    seed: int
    labels: np.ndarray
    n_clusters: int
    unassigned_share: float
    scores: dict[str, float]
    match: ThemeMatch
    multilabel: MultiLabel | None = None


@dataclass
class ThemeEval:
    """Clustering of a theme-labelled dataset compared with its labels, for each seed."""

    dataset: str
    n_texts: int
    units: str
    n_units: int
    embedder: str
    n_labels: int
    n_multi_label: int
    runs: list[SeedRun]
    stages: list[StageStat]
    pseudonymised: bool
    llm: str | None = None
    n_failed: int = 0
    n_without_units: int = 0
    llm_calls: dict | None = None  # CallStats.as_dict() of the extraction, when there was one

    @property
    def stability_ari(self) -> float | None:
        """Mean ARI over every pair of seeds' labels (-1 counted as a cluster)."""
        pairs = self.pairwise_ari
        return float(np.mean(pairs)) if pairs else None

    @property
    def pairwise_ari(self) -> list[float]:
        """ARI of each pair of seeds, in the order (0, 1), (0, 2), ..., (1, 2), ..."""
        from itertools import combinations

        from sklearn.metrics import adjusted_rand_score

        return [float(adjusted_rand_score(a.labels, b.labels))
                for a, b in combinations(self.runs, 2)]

    @property
    def recovered_both(self) -> frozenset[str] | None:
        """Human themes retrouvés (F1 >= RECOVERED_F1) with every seed."""
        if len(self.runs) < 2:
            return None
        return frozenset.intersection(*(run.match.recovered for run in self.runs))

    def markdown(self) -> str:
        return _theme_markdown(self)


@dataclass
class ArgumentEval:
    """Extracted arguments compared with human-written ones."""

    dataset: str
    llm: str
    embedder: str
    pseudonymised: bool
    scores: ArgumentScores
    sensitivity: list[ArgumentScores]
    n_failed: int
    failures: dict[str, int]
    stages: list[StageStat]
    details: list[dict] = field(default_factory=list)
    llm_calls: dict | None = None
    kinds: dict[str, int] = field(default_factory=dict)  # extracted arguments by kind
    kind_agreement: tuple[int, int] | None = None  # (agreeing, matched pairs with a human type)
    flags: dict[str, int] = field(default_factory=dict)

    def markdown(self) -> str:
        return _argument_markdown(self)


def split_sentences(text: str, min_words: int = 3) -> list[str]:
    """Sentences of at least ``min_words`` words; the whole text when there is none."""
    found = [s.strip(" -•*\t") for s in _SENTENCES.split(text)]
    kept = [s for s in found if len(_WORD.findall(s)) >= min_words]
    return kept or [text.strip()]


def _pseudonymised(texts: list[str], pseudonymiser: Any, clock: StageClock) -> list[str]:
    if pseudonymiser is None:
        return texts
    with clock.stage("pseudonymisation", len(texts), "réponses"):
        return [r.text for r in pseudonymiser.pseudonymise_many(texts)]


def _extract_all(
    items: list[tuple[str, str, str]], llm: Any, clock: StageClock, log: Log | None
) -> tuple[list[Any], dict]:
    """Extract (id, text, question) items one by one, as the pipeline does; also return the
    model calls made and reused (from the cache)."""
    from synthese.extract import extract_answers
    from synthese.prompts import load_prompt

    question_of = {answer_id: question for answer_id, _, question in items}
    last = [time.perf_counter(), 0]

    def progress(extraction: Any) -> None:
        now = time.perf_counter()
        last[1] += 1
        if log:
            log(f"Extraction {last[1]}/{len(items)} : {len(extraction.arguments)} arguments, "
                f"{now - last[0]:.1f} s.")
        last[0] = now

    from synthese.calls import CachedLLM
    from synthese.extract import prompt_for

    prompt = load_prompt(*prompt_for(llm.backend))
    # Counted (and cached when run_eval was given a cache) like the pipeline's calls.
    cached = (llm if isinstance(llm, CachedLLM) else CachedLLM(llm)).for_stage("extraction", prompt)
    with clock.stage("extraction", len(items), "réponses"):
        out = extract_answers([(answer_id, text) for answer_id, text, _ in items],
                              question_of.__getitem__, cached, prompt, progress)
    return out, cached.stats.as_dict()


def evaluate_themes(
    dataset: ThemeDataset,
    *,
    embedder: Any,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    units: str = "answers",
    llm: Any = None,
    pseudonymiser: Any = None,
    min_cluster_size: int | None = None,
    limit: int | None = None,
    question: str | None = None,
    clock: StageClock | None = None,
    log: Log | None = None,
    granularity: dict[str, Any] | None = None,
) -> ThemeEval:
    """Pseudonymise (optional), cut into units, embed, cluster with each seed, and score."""
    from synthese.cluster import cluster_vectors, vector_text

    if units not in UNITS:
        raise SyntheseError(f"Unité inconnue « {units} » : choisissez {', '.join(UNITS)}.")
    if units == "arguments" and llm is None:
        raise SyntheseError("L'unité « arguments » demande un modèle de langage (--llm).")
    if not seeds:
        raise SyntheseError("Donnez au moins une graine pour le regroupement.")
    clock = clock or StageClock()
    data = dataset.head(limit)
    texts = _pseudonymised(list(data.texts), pseudonymiser, clock)
    unit_texts: list[str] = []
    unit_labels: list[tuple[str, ...]] = []
    answer_of: list[int] = []  # the answer each unit comes from
    n_failed = n_without = 0
    llm_calls = None
    if units == "answers":
        unit_texts, unit_labels = texts, list(data.labels)
        answer_of = list(range(len(texts)))
    elif units == "sentences":
        for i, (text, labs) in enumerate(zip(texts, data.labels, strict=True)):
            pieces = split_sentences(text)
            unit_texts += pieces
            unit_labels += [labs] * len(pieces)
            answer_of += [i] * len(pieces)
    else:
        items = [(rid, text, q or question or DEFAULT_QUESTION)
                 for rid, text, q in zip(data.ids, texts, data.questions, strict=True)]
        extractions, llm_calls = _extract_all(items, llm, clock, log)
        for i, (extraction, labs) in enumerate(zip(extractions, data.labels, strict=True)):
            n_failed += extraction.status == "failed"
            n_without += not extraction.arguments
            # Placed by their quotes, as the pipeline places them.
            unit_texts += [vector_text(a.text, a.quote) for a in extraction.arguments]
            unit_labels += [labs] * len(extraction.arguments)
            answer_of += [i] * len(extraction.arguments)
    if not unit_texts:
        raise SyntheseError(f"Rien à regrouper dans {dataset.path} : aucune unité de texte.")
    with clock.stage("vectorisation", len(unit_texts), "textes"):
        vectors = embedder.embed(unit_texts)
    primary = [labs[0] for labs in unit_labels]
    runs = []
    for seed in seeds:
        # The first fit of a process includes numba's compilation of UMAP (~15-20 s).
        with clock.stage(f"regroupement (graine {seed})", len(unit_texts), "vecteurs"):
            result = cluster_vectors(vectors, seed=seed, min_cluster_size=min_cluster_size,
                                     **(granularity or {}))
        runs.append(SeedRun(seed, result.labels, result.n_clusters, result.unassigned_share,
                            partition_scores(primary, result.labels),
                            theme_f1(unit_labels, result.labels),
                            multilabel_scores(list(data.labels), answer_of, result.labels)))
    return ThemeEval(
        dataset=dataset.path.name, n_texts=len(data.texts), units=units,
        n_units=len(unit_texts), embedder=getattr(embedder, "name", type(embedder).__name__),
        n_labels=len({lab for labs in data.labels for lab in labs}),
        n_multi_label=sum(len(labs) > 1 for labs in data.labels), runs=runs,
        stages=clock.stats, pseudonymised=pseudonymiser is not None,
        llm=getattr(llm, "model_id", None) if llm is not None else None,
        n_failed=n_failed, n_without_units=n_without, llm_calls=llm_calls,
    )


def match_threshold(embedder_name: str, threshold: float | None = None) -> float:
    """The given threshold, or the one calibrated for this embedder."""
    if threshold is not None:
        if not 0.0 < threshold < 1.0:
            raise SyntheseError(f"Seuil de similarité invalide ({threshold}) : donnez une "
                                "valeur entre 0 et 1.")
        return float(threshold)
    if embedder_name not in MATCH_THRESHOLDS:
        raise SyntheseError(
            f"Aucun seuil de similarité calibré pour le modèle « {embedder_name} » : indiquez "
            "--threshold (voir docs/benchmarks.md pour le calibrer)."
        )
    return MATCH_THRESHOLDS[embedder_name]


def evaluate_arguments(
    dataset: ArgumentDataset,
    *,
    llm: Any,
    embedder: Any,
    threshold: float | None = None,
    pseudonymiser: Any = None,
    limit: int | None = None,
    question: str | None = None,
    clock: StageClock | None = None,
    log: Log | None = None,
) -> ArgumentEval:
    """Extract each answer's arguments with the LLM and match them with the human ones."""
    name = getattr(embedder, "name", type(embedder).__name__)
    threshold = match_threshold(name, threshold)
    clock = clock or StageClock()
    answers = dataset.answers[:limit] if limit is not None else dataset.answers
    texts = _pseudonymised([a.text for a in answers], pseudonymiser, clock)
    items = [(a.id, text, a.question or question or DEFAULT_QUESTION)
             for a, text in zip(answers, texts, strict=True)]
    extractions, llm_calls = _extract_all(items, llm, clock, log)
    extracted = [[arg.text for arg in e.arguments] for e in extractions]
    everything = [t for a in answers for t in a.arguments] + [t for ex in extracted for t in ex]
    with clock.stage("vectorisation", len(everything), "arguments"):
        vectors = embedder.embed(everything) if everything else np.zeros((0, 1), np.float32)
    gold_vecs, pred_vecs, start = [], [], 0
    for a in answers:
        gold_vecs.append(vectors[start : start + len(a.arguments)])
        start += len(a.arguments)
    for ex in extracted:
        pred_vecs.append(vectors[start : start + len(ex)])
        start += len(ex)
    scores = argument_scores(gold_vecs, pred_vecs, threshold)
    sensitivity = [argument_scores(gold_vecs, pred_vecs, round(t, 2))
                   for t in (threshold - 0.1, threshold + 0.1) if 0.0 < t < 1.0]
    failures: dict[str, int] = {}
    details = []
    agree = typed = 0
    for a, e, g, p in zip(answers, extractions, gold_vecs, pred_vecs, strict=True):
        if e.status == "failed":
            failures[e.reason or "?"] = failures.get(e.reason or "?", 0) + 1
        pairs = greedy_match(g @ p.T, threshold) if len(g) and len(p) else []
        for i, j, _ in pairs:
            if a.types and a.types[i] in TYPE_KINDS:
                typed += 1
                agree += e.arguments[j].kind in TYPE_KINDS[a.types[i]]
        details.append({"id": a.id, "status": e.status, "gold": a.arguments,
                        "gold_types": a.types,
                        "extracted": [arg.text for arg in e.arguments],
                        "kinds": [arg.kind for arg in e.arguments],
                        "flags": [arg.flags for arg in e.arguments],
                        "pairs": [(i, j, round(s, 3)) for i, j, s in pairs]})
    kinds = Counter(arg.kind for e in extractions for arg in e.arguments)
    flags = Counter(f for e in extractions for arg in e.arguments for f in arg.flags)
    return ArgumentEval(
        dataset=dataset.path.name, llm=getattr(llm, "model_id", "?"), embedder=name,
        pseudonymised=pseudonymiser is not None, scores=scores, sensitivity=sensitivity,
        n_failed=sum(failures.values()), failures=failures, stages=clock.stats,
        details=details, llm_calls=llm_calls, kinds=dict(kinds),
        kind_agreement=(agree, typed) if typed else None, flags=dict(flags),
    )


def run_eval(
    dataset: str | Path,
    *,
    fmt: str | None = None,
    llm_backend: str = "llamacpp",
    model: str | None = None,
    llm_host: str | None = None,
    embedder_name: str | None = None,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    units: str = "answers",
    limit: int | None = None,
    pseudonymise: bool = True,
    threshold: float | None = None,
    cache: str | Path | None = None,
    min_cluster_size: int | None = None,
    question: str | None = None,
    threads: int | None = None,
    llm: Any = None,
    embedder: Any = None,
    pseudonymiser: Any = None,
    log: Log | None = None,
    themes: int | None = None,
    granularity: str = "medium",
) -> ThemeEval | ArgumentEval:
    """Load a dataset, build what was not given (embedder, LLM, pseudonymiser), evaluate.

    ``cache`` is a DuckDB file where LLM calls are kept, so that a second evaluation with
    the same model, prompt and answers makes no model call. ``threads`` goes to the embedded
    LLM (on a loaded machine one thread can beat two that keep waiting for each other).
    """
    if limit is not None and limit < 1:
        raise SyntheseError(f"--limit doit être un entier positif (reçu : {limit}).")
    if units not in UNITS:
        raise SyntheseError(f"Unité inconnue « {units} » : choisissez {', '.join(UNITS)}.")
    data = load_dataset(dataset, fmt)
    clock = StageClock()
    needs_llm = isinstance(data, ArgumentDataset) or units == "arguments"
    own_llm = store = None
    with clock.stage("chargement des modèles", 1, "lot"):
        if embedder is None:
            from synthese.embed import make_embedder

            embedder = make_embedder(embedder_name)
        if pseudonymise and pseudonymiser is None:
            from synthese.pseudonymise import Pseudonymiser

            pseudonymiser = Pseudonymiser()
        if needs_llm and llm is None:
            from synthese.llm import make_llm

            llm = own_llm = make_llm(llm_backend, model, host=llm_host, threads=threads)
    try:
        if needs_llm:
            from synthese.calls import CachedLLM
            from synthese.storage import Store

            store = Store(cache) if cache else None
            llm = CachedLLM(llm.llm if isinstance(llm, CachedLLM) else llm, store)
        common: dict[str, Any] = {
            "embedder": embedder, "pseudonymiser": pseudonymiser if pseudonymise else None,
            "limit": limit, "question": question, "clock": clock, "log": log,
        }
        if isinstance(data, ArgumentDataset):
            return evaluate_arguments(data, llm=llm, threshold=threshold, **common)
        return evaluate_themes(data, seeds=seeds, units=units, llm=llm,
                               min_cluster_size=min_cluster_size,
                               granularity={"themes": themes, "granularity": granularity},
                               **common)
    finally:
        if store is not None:
            store.close()
        if own_llm is not None:
            own_llm.close()


# --- markdown (French: it is what the user reads) ---------------------------------------------


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}".replace(".", ",")


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %".replace(".", ",")


def _calls_markdown(calls: dict | None) -> list[str]:
    if not calls:
        return []
    made = calls["made"]
    line = (f"Appels au modèle : {made} effectués, {calls['reused']} repris du cache")
    if made and calls["seconds"] >= 0.01:  # a fake model answers in no measurable time
        line += (f" ; {_num(calls['seconds'] / made, 1)} s par appel effectué, "
                 f"{calls['completion_tokens']} jetons produits "
                 f"({_num(calls['completion_tokens'] / max(calls['seconds'], 1e-9), 1)} "
                 "jetons/s, lecture du prompt comprise)")
    return ["", line + "."]


def _stages_markdown(stages: list[StageStat]) -> list[str]:
    lines = ["| étape | éléments | durée (s) | temps CPU (s) | débit | pic de mémoire (Mio) |",
             "|---|---:|---:|---:|---:|---:|"]
    for s in stages:
        if s.unit == "lot" or not s.items:
            rate = "–"
        elif s.rate < 1:  # slow stages (the LLM): seconds per item reads better
            rate = f"{_num(s.seconds / s.items, 1)} s/{s.unit.removesuffix('s')}"
        else:
            rate = f"{_num(s.rate, 1)} {s.unit}/s"
        lines.append(f"| {s.stage} | {s.items} | {_num(s.seconds, 1)} | "
                     f"{_num(s.cpu_seconds, 1)} | {rate} | {s.peak_rss_mb:.0f} |")
    return lines


_UNIT_NAMES = {"answers": "réponses entières", "sentences": "phrases des réponses",
               "arguments": "arguments extraits par le modèle"}


def _theme_markdown(ev: ThemeEval) -> str:
    lines = [
        f"## Évaluation des thèmes : {ev.dataset}",
        "",
        f"{ev.n_texts} textes, dont {ev.n_multi_label} à plusieurs étiquettes ; {ev.n_labels} "
        f"étiquettes humaines ; unités regroupées : {_UNIT_NAMES[ev.units]} ({ev.n_units}) ; "
        f"vectorisation : {ev.embedder} ; pseudonymisation : "
        f"{'oui' if ev.pseudonymised else 'non'}"
        + (f" ; modèle : {ev.llm}" if ev.llm else "") + ".",
    ]
    if ev.units == "arguments":
        lines.append(f"Extraction : {ev.n_failed} réponse(s) en échec, {ev.n_without_units} "
                     "sans argument.")
        lines += _calls_markdown(ev.llm_calls)
    lines += [
        "",
        ("| graine | thèmes | autres / inclassables | ARI | NMI (= V-mesure) | homogénéité | "
         "complétude | F1 appariée (macro) | F1 appariée (pondérée) | F1 après fusion (macro) "
         f"| thèmes humains retrouvés (F1 ≥ {_num(RECOVERED_F1, 1)}) |"),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in ev.runs:
        s, m = run.scores, run.match
        lines.append(
            f"| {run.seed} | {run.n_clusters} | {_pct(run.unassigned_share)} | {_num(s['ari'])} "
            f"| {_num(s['nmi'])} | {_num(s['homogeneity'])} | {_num(s['completeness'])} "
            f"| {_num(m.macro_f1)} | {_num(m.weighted_f1)} | {_num(m.merged_macro_f1)} "
            f"| {len(m.recovered)}/{ev.n_labels} |"
        )
    if any(run.multilabel for run in ev.runs):
        lines += ["", ("Chaque réponse reçoit les étiquettes de tous les thèmes où tombe l'une "
                       "de ses unités (thème lu comme l'étiquette majoritaire de ses unités) ; "
                       "intervalles à 95 % par rééchantillonnage des réponses "
                       f"({BOOTSTRAP_RESAMPLES} tirages)."), "",
                  ("| graine | F1 multi-étiquettes (micro) | IC 95 % | F1 multi-étiquettes "
                   "(macro) | IC 95 % | étiquettes par réponse | α de Krippendorff (réponses) |"),
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        for run in ev.runs:
            m = run.multilabel
            if m is None:
                continue
            lines.append(
                f"| {run.seed} | {_num(m.micro_f1)} | {_num(m.micro_ci[0])}–{_num(m.micro_ci[1])} "
                f"| {_num(m.macro_f1)} | {_num(m.macro_ci[0])}–{_num(m.macro_ci[1])} "
                f"| {_num(m.labels_per_answer)} | {_num(m.alpha)} ({m.alpha_answers}) |")
    if ev.stability_ari is not None:
        both = ev.recovered_both or frozenset()
        seeds = ", ".join(str(run.seed) for run in ev.runs)
        counts = [run.n_clusters for run in ev.runs]
        lines += ["", (f"Stabilité entre les graines {seeds} : ARI moyen "
                       f"{_num(ev.stability_ari)} (par paire : "
                       f"{' ; '.join(_num(a) for a in ev.pairwise_ari)}) ; de {min(counts)} à "
                       f"{max(counts)} thèmes ; thèmes humains retrouvés dans toutes les "
                       f"exécutions : {len(both)}/{ev.n_labels} "
                       f"({_pct(len(both) / ev.n_labels)}).")]
    first = ev.runs[0]
    lines += ["", f"### Détail par étiquette (graine {first.seed})", "",
              "| étiquette | unités | thème apparié | F1 |", "|---|---:|---:|---:|"]
    ranked = sorted(first.match.pairs.items(), key=lambda kv: (-first.match.sizes[kv[0]], kv[0]))
    for label, (cluster, f1) in ranked:
        shown = label if len(label) <= 70 else label[:69] + "…"
        shown = shown.replace("|", "/")
        lines.append(f"| {shown} | {first.match.sizes[label]} | "
                     f"{'–' if cluster is None else cluster} | {_num(f1)} |")
    lines += ["", "### Vitesse et mémoire", "", *_stages_markdown(ev.stages)]
    return "\n".join(lines) + "\n"


def _argument_markdown(ev: ArgumentEval) -> str:
    s = ev.scores
    lines = [
        f"## Évaluation de l'extraction des arguments : {ev.dataset}",
        "",
        (f"{s.n_answers} réponses ; modèle : {ev.llm} ; appariement par similarité cosinus "
         f"({ev.embedder}) ≥ {_num(s.threshold)} ; pseudonymisation : "
         f"{'oui' if ev.pseudonymised else 'non'}."),
        (f"Arguments humains : {s.n_gold} ({s.n_points} points distincts) ; arguments "
         f"extraits : {s.n_extracted} ; réponses en échec : {ev.n_failed}."),
        "",
        ("| seuil | rappel | précision | F1 | rappel (points distincts) | précision (toute "
         "correspondance) |"),
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for sc in sorted([s, *ev.sensitivity], key=lambda x: x.threshold):
        mark = " (retenu)" if sc is s else ""
        lines.append(f"| {_num(sc.threshold)}{mark} | {_num(sc.recall)} | {_num(sc.precision)} "
                     f"| {_num(sc.f1)} | {_num(sc.points_recall)} | {_num(sc.precision_any)} |")
    if ev.failures:
        lines += ["", "Échecs : " + " ; ".join(f"{k} ({v})" for k, v in ev.failures.items())]
    if ev.kinds:
        lines += ["", "Types des arguments extraits : " + " ; ".join(
            f"{k} {v}" for k, v in sorted(ev.kinds.items(), key=lambda kv: -kv[1]))]
    if ev.kind_agreement:
        agree, typed = ev.kind_agreement
        lines.append(f"Accord du type avec le type humain (arguments appariés, correspondance de "
                     f"docs/quality.md) : {_pct(agree / typed)} ({agree} sur {typed}).")
    if ev.flags:
        lines.append("Signalements : " + " ; ".join(f"{k} {v}" for k, v in sorted(ev.flags.items())))
    if ev.llm_calls and s.n_answers:
        lines.append(f"Jetons de sortie par réponse : "
                     f"{ev.llm_calls['completion_tokens'] / s.n_answers:.0f}.")
    lines += _calls_markdown(ev.llm_calls)
    lines += ["", "### Vitesse et mémoire", "", *_stages_markdown(ev.stages)]
    return "\n".join(lines) + "\n"
