"""The runner's side of each stage: read what is pending, call the stage, write the result.

Each function here takes the run (runner.Run) and the records of the earlier stages it
needs, reads pending rows from the Store, calls the pure function of the stage's module
(which takes rows and models and returns rows, and could run on a batch in another
process), writes the result in one batch keyed by content hashes, and returns a small
record of what it did. A rerun finds everything done and does nothing; a killed run
resumes where it stopped. Only runner.py and the flows use this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthese.keys import to_json
from synthese.progress import Progress
from synthese.prompts import load_prompt

if TYPE_CHECKING:
    from synthese.runner import Run


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class Imported:
    source: dict[str, str]  # file name and SHA-256 of the export
    counts: dict[str, int]  # export_rows, export_answers, new_answers, new_respondents


def ingest(run: Run) -> Imported:
    from synthese.ingest import Identity, import_rows, personal_id_column, read_export

    s, store = run.settings, run.store
    export = read_export(s.export)
    personal = False
    if s.id_column:
        # decided once per file and id column (the pseudonymiser loads in seconds)
        personal = store.personal_ids(export.sha256, s.id_column)
        if personal is None:
            personal = personal_id_column(export, s.id_column.strip(),
                                          run.pseudonymiser() if s.pseudonymise else None)
    identity = Identity(store.respondent_secret(), personal,
                        None if s.id_column else store.stored_answers(export.sha256))
    rows = import_rows(export, list(s.questions), s.id_column, s.limit, run.started_at, identity)
    for warning in export.warnings:
        run.log(f"Attention : {warning}")
    if personal:
        run.log(f"La colonne « {s.id_column} » contient des données personnelles : elle reste "
                "dans la couche brute, et les répondants sont désignés ailleurs par un "
                "pseudonyme.")
    new_resp, new_answers = store.record_import(
        rows.import_row, rows.raw_respondents, rows.staged_respondents, rows.raw_answers)
    if rows.identifying:
        run.log("Colonnes identifiantes conservées dans la couche brute uniquement : "
                + ", ".join(rows.identifying))
    run.log(f"Import : {len(rows.raw_answers)} réponses lues dans {export.path.name}, "
            f"{new_answers} nouvelles.")
    counts = {"export_rows": len(rows.raw_respondents), "export_answers": len(rows.raw_answers),
              "new_answers": new_answers, "new_respondents": new_resp}
    return Imported({"file": export.path.name, "sha256": export.sha256}, counts)


@dataclass(frozen=True)
class Staged:
    method: str  # the pseudonymisation method, or « aucune »
    entities: dict[str, int]  # entities replaced in all the answers to the questions


def pseudonymise(run: Run) -> Staged:
    from synthese.pseudonymise import pseudonymise_answers, total_entity_counts

    s, store = run.settings, run.store
    method = run.pseudonymisation_method()
    pending = store.answers_to_pseudonymise(s.questions, method).to_dict("records")
    replaced = 0
    if pending:
        staged, mapping = pseudonymise_answers(
            pending, run.pseudonymiser() if s.pseudonymise else None, method)
        store.replace_staged_answers(staged, mapping)
        replaced = len(mapping)
    entities = total_entity_counts(store.entity_counts(s.questions))
    if s.pseudonymise:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(entities.items())) or "aucune"
        run.log(f"Pseudonymisation : {replaced} entités remplacées dans {len(pending)} réponses "
                f"traitées maintenant ; au total : {detail}.")
    else:
        run.log("ATTENTION : pseudonymisation désactivée ; le modèle voit les réponses "
                "telles quelles.")
    return Staged(method, entities)


@dataclass(frozen=True)
class Campaigned:
    campaign_ids: list[str]  # the campaigns found among the answers, largest first
    representative_of: dict[str, str]  # each other member's answer id -> its representative
    texts: dict[str, str]  # each representative's text


def campaigns(run: Run) -> Campaigned:
    """Group the answers that repeat one text (campaigns.py) before the extraction, so that
    the model reads each campaign's text once."""
    from synthese.campaigns import campaign_rows, find_campaigns

    store = run.store
    candidates = store.campaign_candidates(run.settings.questions)
    found = find_campaigns(list(candidates.itertuples(index=False, name=None)))
    store.write_campaigns(run.run_id, campaign_rows(found, _now()))
    if found:
        run.log(f"Textes repris : {len(found)} texte(s) repris par "
                f"{sum(c.n_answers for c in found)} réponses ; chacun est lu une fois par le "
                "modèle.")
    return Campaigned([c.campaign_id for c in found],
                      {m: c.representative_id for c in found for m in c.answer_ids[1:]},
                      {c.representative_id: c.text for c in found})


def _extract_members(run: Run, key: str, members: pd.DataFrame, campaigns: Campaigned,
                     attempt_of: dict[str, int], source_of: dict[str, str]) -> list[str]:
    """Extract the members of campaigns from their representative's stored extraction
    (campaigns.derive_extraction, no model call); returns the members whose representative
    has no processed extraction, to be extracted by the model like any answer."""
    from synthese.campaigns import derive_extraction
    from synthese.extract import extraction_rows

    derived, by_model = [], []
    for answer_id, text in zip(members["answer_id"], members["text"]):
        representative = campaigns.representative_of[answer_id]
        status, arguments = run.store.representative_arguments(representative, key)
        if status != "processed":
            by_model.append(answer_id)
            continue
        derived.append(derive_extraction(answer_id, text, campaigns.texts[representative],
                                         arguments))
    if derived:
        run.store.write_extractions(*extraction_rows(derived, key, attempt_of, source_of, _now()))
        run.log(f"Textes repris : {len(derived)} réponses extraites depuis le texte de leur "
                "campagne, sans appel au modèle.")
    return by_model


def _extract_in_order(run: Run, key: str, pending: pd.DataFrame, question_of: dict[str, str],
                      attempt_of: dict[str, int], source_of: dict[str, str]) -> None:
    """The extraction in this process, answer after answer, stored every 10 answers."""
    from synthese.extract import extract_answers, extraction_rows

    s, store, prompt = run.settings, run.store, run.prompts["extraction"]
    llm = run.llm.for_stage("extraction", prompt)
    batch: list[Any] = []

    def write(extractions: list[Any]) -> None:
        if extractions:
            store.write_extractions(*extraction_rows(extractions, key, attempt_of, source_of,
                                                     _now()))

    with Progress(len(pending), "Extraction", run.progress, run.log) as bar:
        def on_done(extraction: Any) -> None:
            batch.append(extraction)
            bar.advance()
            if len(batch) >= 10:
                write(batch)
                batch.clear()

        try:
            extract_answers(list(zip(pending["answer_id"], pending["text"])),
                            lambda aid: s.question_text(question_of[aid]), llm, prompt,
                            on_done)
        finally:  # stopped or failed: what was extracted is kept all the same
            write(batch)


def _extract_mapped(run: Run, key: str, pending: pd.DataFrame, question_of: dict[str, str],
                    attempt_of: dict[str, int], source_of: dict[str, str]) -> None:
    """The extraction as mapped batches over the run's model servers (distribute.py): each
    task extracts its batch and returns rows; this process, the one writer, stores each
    batch as it comes back (a killed run redoes only the batches not stored)."""
    from synthese.distribute import map_extraction
    from synthese.extract import extraction_rows

    s, store, prompt = run.settings, run.store, run.prompts["extraction"]
    pool = run.endpoints()
    items = [(aid, text, s.question_text(question_of[aid]))
             for aid, text in zip(pending["answer_id"], pending["text"])]
    run.log(f"Extraction répartie : {len(items)} réponses en lots de {s.batch_size} sur "
            f"{len(pool)} serveur(s) de modèle, {s.llm_concurrency} lot(s) à la fois chacun.")
    with Progress(len(items), "Extraction", run.progress, run.log) as bar:
        def write(out: Any) -> None:
            for call in out.calls:
                store.put_llm_call(call)
            if out.extractions:
                store.write_extractions(*extraction_rows(out.extractions, key, attempt_of,
                                                         source_of, _now()))
            run.llm.stats.merge(out.stats)
            for _ in out.extractions:
                bar.advance()

        retired = map_extraction(items, pool, run.llm.model_id, prompt, run.mapper, write,
                                 run.log, s.batch_size)
    for member in getattr(run.llm.llm, "members", ()):  # the pool the later stages call
        if member.host in retired:
            member.failure = "retiré pendant l'extraction"


@dataclass(frozen=True)
class Extracted:
    extractor_key: str
    counts: dict[str, int]  # answers, respondents, blank, processed, failed, pending…
    calls_made: int


def extract(run: Run, campaigns: Campaigned | None = None) -> Extracted:
    from synthese.extract import extract_answers, extraction_rows, extractor_key

    s, store, prompt = run.settings, run.store, run.prompts["extraction"]
    key = extractor_key(run.llm.model_id, prompt)
    pending = store.answers_to_extract(s.questions, key)
    before = run.llm.stats.made
    # A campaign's members wait for its representative, then take its ideas (campaigns.py).
    members = pending["answer_id"].isin(campaigns.representative_of if campaigns else {})
    waiting, pending = pending[members], pending[~members]
    if not pending.empty:
        run.log(f"Extraction des arguments : {len(pending)} réponses à traiter.")
        question_of = dict(zip(pending["answer_id"], pending["question"]))
        attempt_of = dict(zip(pending["answer_id"], pending["attempt"].astype(int)))
        source_of = dict(zip(pending["answer_id"], pending["source_hash"]))
        if run.mapper is not None:
            _extract_mapped(run, key, pending, question_of, attempt_of, source_of)
        else:
            _extract_in_order(run, key, pending, question_of, attempt_of, source_of)
    if not waiting.empty:
        attempt_of = dict(zip(waiting["answer_id"], waiting["attempt"].astype(int)))
        source_of = dict(zip(waiting["answer_id"], waiting["source_hash"]))
        alone = _extract_members(run, key, waiting, campaigns, attempt_of, source_of)
        if alone:  # their representative failed: each is read by the model after all
            rest = waiting[waiting["answer_id"].isin(alone)]
            question_of = dict(zip(rest["answer_id"], rest["question"]))
            llm = run.llm.for_stage("extraction", prompt)
            store.write_extractions(*extraction_rows(
                extract_answers(list(zip(rest["answer_id"], rest["text"])),
                                lambda aid: s.question_text(question_of[aid]), llm, prompt),
                key, attempt_of, source_of, _now()))
    return Extracted(key, store.answer_counts(s.questions, key), run.llm.stats.made - before)


def _vector_hashes(args: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """The key of each argument's vector, and the text of each key (cluster.vector_texts)."""
    from synthese.cluster import vector_texts
    from synthese.keys import content_hash

    texts = vector_texts(args)
    hashes = [content_hash(t) for t in texts]
    return hashes, dict(zip(hashes, texts, strict=True))


def _placement_hashes(run: Run, args: pd.DataFrame) -> tuple[list[str], dict[str, str], list[str]]:
    """The key of the vector each argument is placed in a theme by (its vector text without
    the question's subject, cluster.placement_texts), the text of each key, and the subject's
    terms left out (none: the vector texts themselves)."""
    from synthese.cluster import placement_texts, subject_terms, vector_texts
    from synthese.keys import content_hash

    texts = vector_texts(args)
    terms = subject_terms(run.question_label, texts)
    placed = placement_texts(texts, terms)
    hashes = [content_hash(t) for t in placed]
    return hashes, dict(zip(hashes, placed, strict=True)), terms


def _vector_model(run: Run) -> str:
    """The identity of the argument vectors in the summary and synthesis keys."""
    from synthese.cluster import VECTOR_TEXT

    return f"{run.embedder.model_id}|{VECTOR_TEXT}"


def embed(run: Run, extract: Extracted) -> int:
    """Vectorise the arguments not yet embedded by this model; returns how many."""
    store, embedder = run.store, run.embedder
    args = store.arguments(run.settings.questions, extract.extractor_key)
    hashes, text_of = _vector_hashes(args)
    placed, placed_text, _ = _placement_hashes(run, args)
    hashes, text_of = hashes + placed, {**text_of, **placed_text}
    missing = sorted(store.missing_embeddings(list(dict.fromkeys(hashes)), embedder.model_id))
    if missing:
        run.log(f"Vectorisation : {len(missing)} arguments.")
        vectors = embedder.embed([text_of[h] for h in missing], progress=run.progress)
        store.put_embeddings(missing, vectors, embedder.model_id)
    return len(missing)


@dataclass(frozen=True)
class Clustered:
    clustering_id: str
    reused: bool


def cluster(run: Run, extract: Extracted) -> Clustered:
    from synthese.cluster import cluster_vectors, clustering_key, theme_rows

    s, store, model_id = run.settings, run.store, run.embedder.model_id
    args = store.arguments(s.questions, extract.extractor_key)
    placed, _, subject = _placement_hashes(run, args)
    key = clustering_key(list(args["argument_id"]), model_id, s.seed, s.min_cluster_size,
                         s.themes, s.granularity, subject)
    if store.has_clustering(key):
        return Clustered(key, True)
    # Placed by their quotes without the question's subject; every check against the
    # themes (titles, support) takes the whole quotes' vectors (_argument_vectors).
    vectors = (store.get_embeddings(placed, model_id) if len(args)
               else np.zeros((0, 8), dtype=np.float32))
    result = cluster_vectors(vectors, seed=s.seed, min_cluster_size=s.min_cluster_size,
                             kinds=list(args["kind"].fillna("constat")), themes=s.themes,
                             granularity=s.granularity)
    result.params["subject_terms"] = subject
    previous = store.previous_clustering(list(args["argument_id"]), model_id, key)
    if previous is not None:
        result = _kept_in_place(run, args, vectors, result, *previous)
    clusters, assignments = theme_rows(args, vectors, result, key,
                                       extract.counts["respondents_answering"])
    store.write_clustering({
        "clustering_id": key, "embed_model_id": model_id, "params": to_json(result.params),
        "n_arguments": len(args), "n_clusters": result.n_clusters,
        "unassigned_share": result.unassigned_share, "created_at": _now()},
        assignments, clusters)
    return Clustered(key, False)


def _kept_in_place(run: Run, args: pd.DataFrame, vectors: np.ndarray, result: Any,
                   previous_id: str, previous: pd.DataFrame) -> Any:
    """The fresh themes kept in place from the previous clustering of these answers
    (cluster.keep_in_place): same ids and members, new arguments where they fall; only a
    real change of structure creates, splits or merges a theme, and the run says which."""
    from synthese.cluster import NEW, keep_in_place, relabel
    from synthese.report import format_number, format_share

    before = dict(zip(previous["argument_id"], previous["cluster_id"].astype(int), strict=True))
    old = np.array([before.get(a, NEW) for a in args["argument_id"]], dtype=np.int64)
    size = int(result.params.get("hdbscan_min_cluster_size") or 2)
    kept = keep_in_place(result.labels, old, size)
    moved = relabel(vectors, result, kept.labels)
    changes = kept.changes
    moved.params["continuity"] = {
        "previous_clustering_id": previous_id, "previous_ari": round(kept.previous_ari, 4),
        "kept_share": round(kept.kept_share, 4), "shared_arguments": int(np.sum(old != NEW)),
        "new_arguments": int(np.sum(old == NEW)),
        "changes": {k: ({str(a): b for a, b in v.items()} if isinstance(v, dict) else v)
                    for k, v in changes.items()}}
    said = [f"{len(changes['created'])} créé(s)", f"{len(changes['split'])} scindé(s)",
            f"{len(changes['merged'])} fusionné(s)", f"{len(changes['removed'])} disparu(s)"]
    run.log(f"Thèmes gardés en place depuis le regroupement précédent : "
            f"{format_share(kept.kept_share)} des arguments déjà classés gardent leur thème "
            f"(accord du nouveau regroupement avec le précédent : ARI "
            f"{format_number(kept.previous_ari, 2)}) ; "
            f"thèmes {', '.join(said)}.")
    return moved


def _theme_arguments(run: Run, extract: Extracted, clustering_id: str) -> pd.DataFrame:
    args = run.store.arguments(run.settings.questions, extract.extractor_key)
    return args.merge(run.store.assignments(clustering_id), on="argument_id")


@dataclass(frozen=True)
class Summarised:
    summary_keys: dict[int, str]  # the summary of each theme (cluster_id >= 0)
    made: int
    reused: int


def summarise(run: Run, extract: Extracted, cluster: Clustered) -> Summarised:
    """Title and summarise each theme, biggest first (a title must differ from the titles
    of the bigger themes), checked by code; then label the parent themes."""
    from synthese.summarise import parent_labels, summary_key
    from synthese.verify import SUPPORT_THRESHOLD

    store, prompts = run.store, {k: run.prompts[k] for k in ("title", "summary", "reduce")}
    themes = store.clusters(cluster.clustering_id)
    themes = themes[themes["cluster_id"] >= 0].sort_values("cluster_id")
    args = _theme_arguments(run, extract, cluster.clustering_id)
    vectors = _argument_vectors(run, args)
    llm = run.llm.for_stage("summary", *prompts.values())
    checks = _TitleChecks(run, args, vectors)
    kept = _kept_titles(run, cluster.clustering_id, llm.model_id, prompts)
    keys: dict[int, str] = {}
    made = 0
    if run.mapper is not None:
        _summaries_mapped(run, llm, prompts, themes, args, vectors)
    else:
        _summaries_first(run, llm, prompts, themes, args, vectors)
    with Progress(len(themes), "Titres des thèmes", run.progress, run.log) as bar:
        for c in themes.itertuples(index=False):
            key = keys[int(c.cluster_id)] = summary_key(c.members_key, llm.model_id, prompts,
                                                        _vector_model(run), SUPPORT_THRESHOLD)
            latest = store.latest_summary(key)
            if latest is None or latest["failure"] is not None:
                _summarise_theme(run, llm, prompts, c, key, latest, args, vectors, checks,
                                 kept.get(int(c.cluster_id)))
                made += 1
            checks.taken.append(store.latest_summary(key)["title"])
            bar.advance()
    written = store.summaries(list(keys.values())).set_index("summary_key")
    titles = [(int(c.parent_id), written.at[keys[int(c.cluster_id)], "title"], int(c.n_arguments))
              for c in themes.itertuples(index=False) if not pd.isna(c.parent_id)]
    store.write_parent_labels([{"clustering_id": cluster.clustering_id, "parent_id": p, "label": label}
                               for p, label in parent_labels(titles).items()])
    return Summarised(keys, made, len(keys) - made)


def _pending_summaries(run: Run, llm: Any, prompts: dict, themes: pd.DataFrame,
                       args: pd.DataFrame, vectors: np.ndarray) -> list[tuple[int, list[str], int]]:
    """(theme id, ideas most central first, attempt) of each theme whose summary the model
    is to write in this run: none stored, or the stored one failed; not a theme of answers
    that address the model only (``_members``), nor one of brief answers, which code sums
    up (``summarise.is_brief``, judged on its quotes as ``_summarise_theme`` judges it)."""
    from synthese.cluster import vector_texts
    from synthese.summarise import is_brief, summary_key
    from synthese.verify import SUPPORT_THRESHOLD

    pending = []
    for c in themes.itertuples(index=False):
        key = summary_key(c.members_key, llm.model_id, prompts, _vector_model(run),
                          SUPPORT_THRESHOLD)
        latest = run.store.latest_summary(key)
        members, _ = _members(args, vectors, int(c.cluster_id))
        if ((latest is None or latest["failure"] is not None) and len(members)
                and not is_brief(list(vector_texts(members)))):
            pending.append((int(c.cluster_id), list(members["text"]),
                            (latest["attempt"] if latest else 0) + 1))
    return pending


# The summaries are asked first, one after the other, then the titles: llama.cpp reuses the
# part of a prompt it has just read, and a title prompt and a summary prompt share nothing
# but their first template tokens. Asked in turn per theme (title, summary, title…), the
# demo's 29 summary calls took 224.9 s; one after the other, 200.6 s (7 December 2026;
# docs/quality.md).
def _summaries_first(run: Run, llm: Any, prompts: dict, themes: pd.DataFrame,
                     args: pd.DataFrame, vectors: np.ndarray) -> None:
    """The model calls of the summaries, made here in the themes' order and stored in the
    call cache, so that ``_summarise_theme`` finds them there (not counted twice: the
    ``prefetched`` keys). At the first summary that fails (the server down), the rest is
    left to ``_summarise_theme``, which tries each once, as before."""
    from synthese.summarise import summarise_theme

    pending = _pending_summaries(run, llm, prompts, themes, args, vectors)
    with Progress(len(pending), "Résumés des thèmes", run.progress, run.log) as bar:
        for _, ideas, attempt in pending:
            summary = summarise_theme(ideas, run.question_label, llm, prompts["summary"],
                                      prompts["reduce"], attempt)
            run.llm.stats.prefetched.update(summary.call_keys)
            if summary.failed:
                return
            bar.advance()


def _summaries_mapped(run: Run, llm: Any, prompts: dict, themes: pd.DataFrame,
                      args: pd.DataFrame, vectors: np.ndarray) -> None:
    """The model calls of the summaries, mapped over the run's servers one theme per task
    (distribute.summarise_batch) and stored here, the one writer: the themes are then
    summarised and titled in order (``summarise``), every summary call found in the cache."""
    from synthese.distribute import map_batches, summarise_batch

    pending = _pending_summaries(run, llm, prompts, themes, args, vectors)
    if not pending:
        return
    run.log(f"Résumés répartis : {len(pending)} thèmes sur {len(run.endpoints())} serveur(s) "
            "de modèle.")

    def write(out: Any) -> None:
        for call in out.calls:
            run.store.put_llm_call(call)
        run.llm.stats.merge(out.stats)
        run.llm.stats.prefetched.update(call["call_key"] for call in out.calls)

    retired, _ = map_batches(summarise_batch, pending, run.endpoints(), llm.model_id,
                             (run.question_label, tuple(prompts.values())), run.mapper, write,
                             run.log, 1, "thèmes")
    for member in getattr(run.llm.llm, "members", ()):
        if member.host in retired:
            member.failure = "retiré pendant les résumés"


def _injected(args: pd.DataFrame) -> np.ndarray:
    """Which arguments come from an answer that addresses the model (synthese.injection)."""
    from synthese.injection import FLAG

    return np.array([f is not None and FLAG in list(f) for f in args["flags"]], dtype=bool)


def _members(args: pd.DataFrame, vectors: np.ndarray,
             cluster_id: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A theme's arguments and their vectors, most central first; the arguments of answers
    that address the model are left out: they are counted, never given to the model to title
    or summarise, never quoted in the synthesis."""
    inside = (args["cluster_id"] == cluster_id).to_numpy() & ~_injected(args)
    order = np.argsort(-args["similarity"].to_numpy()[inside], kind="stable")
    return args[inside].iloc[order], vectors[inside][order]


def _argument_vectors(run: Run, args: pd.DataFrame) -> np.ndarray:
    return (run.store.get_embeddings(_vector_hashes(args)[0], run.embedder.model_id) if len(args)
            else np.zeros((0, 1), dtype=np.float32))


QUESTION_MAX_SIMILARITY = 0.5


class _TitleChecks:
    """The checks of a title against the question and the themes' centroids (summarise.py)."""

    def __init__(self, run: Run, args: pd.DataFrame, vectors: np.ndarray) -> None:
        self.embed = run.embedder.embed
        self.run, self.args, self.vectors = run, args, vectors
        self.taken: list[str] = []
        self.question: np.ndarray | None = None

    def _prepare(self) -> None:
        """Computed on the first title checked: a rerun with every title stored embeds nothing."""
        from synthese.cluster import centroids

        self.question = self.embed([self.run.question_label])[0]
        args, vectors = self.args, self.vectors
        labels = args["cluster_id"].to_numpy() if len(args) else np.zeros(0, dtype=int)
        self.centroids = centroids(vectors, labels) if len(args) else {}
        # The cosine of each theme's least typical idea to its centroid: a model's title must
        # be no farther (summarise.title_problem).
        # The vectors are L2-normalised (embed.py), as the question's similarities below
        # take them.
        self.least = {int(t): float((vectors[labels == t] @ c).min())
                      for t, c in self.centroids.items()}
        # Calibrated per consultation: a title may be no closer to the question than 95 % of
        # the consultation's own ideas are, and never at 0.5 or more: where many answers
        # restate the question, their 95th percentile lets restating titles through
        # (docs/quality.md).
        sims = vectors @ self.question if len(args) else np.zeros(1)
        self.question_threshold = min(float(np.quantile(sims, 0.95)), QUESTION_MAX_SIMILARITY)

    def problem(self, cluster_id: int, seen: list[str], *, model: bool = False) -> Any:
        """The check of a title for this theme, whose model saw the texts ``seen``; with
        ``model``, of the model's titles, which must also be no farther from the theme's
        centroid than its least typical idea (a fallback is one of the ideas)."""
        from synthese.summarise import title_problem, title_words

        stems = set().union(*(title_words(t) for t in seen))

        def check(title: str) -> str | None:
            if self.question is None:
                self._prepare()
            vec = self.embed([title])[0]
            others = [float(c @ vec) for t, c in self.centroids.items() if t != cluster_id]
            return title_problem(title, self.taken, question_similarity=float(vec @ self.question),
                                 question_threshold=self.question_threshold,
                                 own_similarity=float(self.centroids[cluster_id] @ vec),
                                 other_similarity=max(others, default=-1.0),
                                 question=self.run.question_label, idea_stems=stems,
                                 least_similarity=self.least[cluster_id] if model else None)
        return check


def _grounded(summary: str, embed: Any, members: pd.DataFrame, vectors: np.ndarray) -> list[Any]:
    """A summary's sentences, each checked against the theme's ideas (verify.ground_summary)."""
    from synthese.summarise import split_sentences
    from synthese.verify import ground_summary

    sentences = split_sentences(summary)
    return ground_summary(sentences, embed(sentences) if sentences
                          else np.zeros((0, 1), dtype=np.float32), members, vectors)


def _brief_grounded(members: pd.DataFrame, quotes: list[str], question: str) -> list[Any]:
    """The summary of a theme of brief answers (``summarise.is_brief``), written by code
    (``summarise.brief_summary``): each sentence with the ideas behind its words, support 1,
    origin ``code``. The model has nothing to sum up in answers of a few words: it gave
    « Question complexe. L'IA, franchement... », three of them, for the demo's."""
    from synthese.summarise import brief_summary, content_stems
    from synthese.verify import Grounded

    return [Grounded(text, 1.0, True, list(members["argument_id"].iloc[at]), "code", None)
            for text, at in brief_summary(quotes, list(members["kind"].fillna("constat")),
                                          frozenset(content_stems(question)))]


def _kept_titles(run: Run, clustering_id: str, model_id: str,
                 prompts: dict) -> dict[int, tuple[str, str]]:
    """The title (and its origin) of each theme kept in place from the previous clustering
    with the same members plus new arguments (stages._kept_in_place): a theme that was
    created, split or merged is titled again."""
    from synthese.summarise import summary_key
    from synthese.verify import SUPPORT_THRESHOLD

    continuity = run.store.clustering_params(clustering_id).get("continuity")
    if not continuity:
        return {}
    changes = continuity["changes"]
    changed = {int(x) for x in changes["created"]} | {int(x) for x in changes["merged"]}
    for source, parts in changes["split"].items():
        changed |= {int(source), *(int(x) for x in parts)}
    out = {}
    for c in run.store.clusters(continuity["previous_clustering_id"]).itertuples(index=False):
        if c.cluster_id < 0 or int(c.cluster_id) in changed:
            continue
        before = run.store.latest_summary(summary_key(c.members_key, model_id, prompts,
                                                      _vector_model(run), SUPPORT_THRESHOLD))
        if before is not None and before["title"] and before["failure"] is None:
            out[int(c.cluster_id)] = (before["title"], before["title_origin"] or "modele")
    return out


def _summarise_theme(run: Run, llm: Any, prompts: dict, c: Any, key: str, latest: Any,
                     args: pd.DataFrame, vectors: np.ndarray, checks: _TitleChecks,
                     kept_title: tuple[str, str] | None = None) -> None:
    from synthese.cluster import vector_texts
    from synthese.summarise import (
        FALLBACK_CANDIDATES,
        TITLE_IDEAS,
        ThemeSummary,
        Title,
        brief_title,
        is_brief,
        summarise_theme,
        title_theme,
    )
    from synthese.verify import check_key

    members, member_vectors = _members(args, vectors, int(c.cluster_id))
    if not len(members):  # only answers addressing the model: named by code, not summarised
        _write_contained_theme(run, llm, prompts, c, key, latest)
        return
    ideas = list(members["text"])
    # Titles are made from the model's reformulations first (short noun phrases), then from
    # the segments kept in the respondents' words, most central first in each (stable sort).
    raw = [("non_reformule" in list(f if f is not None else [])) for f in members["flags"]]
    title_ideas = [i for i, _ in sorted(zip(ideas, raw, strict=True), key=lambda p: p[1])]
    # The model sees what the most central respondents wrote (the quotes the theme was
    # built on); the 0.5B's reformulations gave it too little to name (docs/quality.md).
    quotes = list(vector_texts(members))
    shown = list(dict.fromkeys(quotes))
    # What a title may draw its words from: the texts shown, and the fallback's candidates.
    seen = shown[:2 * TITLE_IDEAS] + title_ideas[:FALLBACK_CANDIDATES]
    # Judged on every quote, repeated ones included, as the synthesis judges it
    # (synthesise.Theme.brief): on the distinct quotes alone, a demo theme of « Plutôt
    # pour. » and « Globalement positif. » was titled and summed up by the model, then
    # reported as brief answers by the synthesis (« utilis… » in 8 of 43 distinct quotes,
    # 8 of 48 in all; 6 December 2026).
    brief = is_brief(quotes)
    if kept_title is not None:  # kept in place with its members: its title too
        title = Title(*kept_title)
    elif brief:
        title = Title(brief_title(shown), "code")
    else:
        title = title_theme(title_ideas, run.question_label, llm, prompts["title"],
                            checks.problem(int(c.cluster_id), seen), checks.taken, shown=shown,
                            model_problem=checks.problem(int(c.cluster_id), seen, model=True))
    attempt = (latest["attempt"] if latest else 0) + 1
    if brief:  # code counts how they lean and the nouns they repeat
        summary = ThemeSummary("", 0)
        grounded = _brief_grounded(members, quotes, run.question_label)
    else:
        summary = summarise_theme(ideas, run.question_label, llm, prompts["summary"],
                                  prompts["reduce"], attempt)
    failure = summary.failed or ("titre : le modèle n'a pas répondu" if title.unanswered else None)
    if failure:  # published with its fallbacks; tried again at the next run
        run.log(f"Résumé du thème {c.cluster_id} en échec : {failure}")
    if not brief:
        grounded = _grounded(summary.summary, run.embedder.embed, members, member_vectors)
    check = check_key(key, run.embedder.model_id)
    run.store.write_summary({
        "summary_key": key, "attempt": attempt,
        "members_key": c.members_key, "model_id": llm.model_id,
        "prompt_hash": prompts["summary"].sha256, "title": title.text,
        "summary": " ".join(g.text for g in grounded) or None, "n_stages": summary.n_stages,
        "failure": failure, "call_keys": title.call_keys + summary.call_keys,
        "title_origin": title.origin, "title_rejected": to_json(title.rejected),
        "n_replaced": sum(g.origin == "argument" for g in grounded), "created_at": _now()}, [
        {"summary_key": key, "check_key": check, "position": i, "text": g.text,
         "support": g.support, "supported": g.supported, "argument_ids": g.argument_ids,
         "origin": g.origin, "model_text": g.model_text} for i, g in enumerate(grounded)])


INJECTION_TITLE = "Instructions adressées au modèle (tentatives d'injection)"


def _write_contained_theme(run: Run, llm: Any, prompts: dict, c: Any, key: str,
                           latest: Any) -> None:
    run.store.write_summary({
        "summary_key": key, "attempt": (latest["attempt"] if latest else 0) + 1,
        "members_key": c.members_key, "model_id": llm.model_id,
        "prompt_hash": prompts["summary"].sha256, "title": INJECTION_TITLE, "summary": None,
        "n_stages": 0, "failure": None, "call_keys": [], "title_origin": "code",
        "title_rejected": to_json([]), "n_replaced": 0, "created_at": _now()}, [])


@dataclass(frozen=True)
class Synthesised:
    synthesis_key: str
    attempt: int
    reused: bool


def synthesise(run: Run, extract: Extracted, cluster: Clustered,
               summarise: Summarised) -> Synthesised:
    from synthese.cluster import kind_shares
    from synthese.synthesise import compose_synthesis, synthesis_key

    store, prompt, mode = run.store, run.prompts["synthesis"], run.settings.synthesis
    args = _theme_arguments(run, extract, cluster.clustering_id)
    vectors = _argument_vectors(run, args)
    themes = _synthesis_themes(run, args, vectors, cluster, summarise, extract)
    llm = run.llm.for_stage("synthesis", prompt)
    key = synthesis_key(cluster.clustering_id, [summarise.summary_keys[t.cluster_id] for t in themes],
                        llm.model_id, prompt, mode, _vector_model(run))
    latest = store.latest_synthesis(key)
    if latest is not None and latest["failure"] is None:
        return Synthesised(key, int(latest["attempt"]), True)
    attempt = (int(latest["attempt"]) if latest else 0) + 1
    run.log("Synthèse des thèmes par le modèle de langage.")
    if mode == "libre":
        draft = _free_synthesis(run.question_label, run.embedder.embed, themes, llm, prompt,
                                args, vectors)
    else:
        draft = compose_synthesis(themes, run.question_label, llm, prompt, run.embedder.embed,
                                  kind_shares(args, extract.counts["respondents_answering"]),
                                  write=mode == "composee")
    if draft.failure:
        run.log(f"Synthèse en échec : {draft.failure}")
    rows = [{"synthesis_key": key, "attempt": attempt, **r} for r in _sentence_rows(draft)]
    store.write_synthesis({
        "synthesis_key": key, "attempt": attempt, "clustering_id": cluster.clustering_id,
        "model_id": llm.model_id, "prompt_hash": prompt.sha256, "failure": draft.failure,
        "call_keys": list(dict.fromkeys(draft.call_keys)), "mode": mode,
        "fallbacks": to_json(draft.fallbacks), "created_at": _now()}, rows)
    return Synthesised(key, attempt, False)


def _sentence_rows(draft: Any) -> list[dict[str, Any]]:
    """The sentences of a synthesis draft as rows (core.synthesis_sentences, review events)."""
    return [{"section": s.section, "paragraph": s.paragraph, "position": s.position,
             "text": s.text, "cluster_ids": [int(i) for i in s.cluster_ids],
             "cited_by": s.cited_by, "support": round(float(s.support), 4),
             "supported": bool(s.supported), "origin": s.origin, "model_text": s.model_text}
            for s in draft.sentences]


def _synthesis_themes(run: Run, args: pd.DataFrame, vectors: np.ndarray, cluster: Clustered,
                      summarise: Summarised, extract: Extracted) -> list[Any]:
    """The themes as the synthesis sees them, biggest share first."""
    summaries = run.store.summaries(list(summarise.summary_keys.values())).set_index("summary_key")
    themes = run.store.clusters(cluster.clustering_id)
    themes = themes[themes["cluster_id"] >= 0].copy()
    keys = themes["cluster_id"].map(summarise.summary_keys)
    themes["title"], themes["summary"] = keys.map(summaries["title"]), keys.map(summaries["summary"])
    themes["title_origin"] = keys.map(summaries["title_origin"])
    return _themes_of(themes, args, vectors, extract.counts["respondents_answering"])


def _or_empty(value: Any) -> str:
    """A stored text, or "" for NULL (a failed summary, a title of unknown origin)."""
    return value if isinstance(value, str) else ""


def _themes_of(themes: pd.DataFrame, args: pd.DataFrame, vectors: np.ndarray,
               respondents: int) -> list[Any]:
    """Theme frame (cluster_id, title, summary, share_respondents, kinds) + the arguments and
    their vectors -> the synthesis's Themes, in the frame's order, « autres » left out; each
    with the share of the ``respondents`` who said each kind in it."""
    from synthese.cluster import kind_shares, vector_texts
    from synthese.synthesise import Theme

    out = []
    for t in themes.itertuples(index=False):
        if t.cluster_id < 0:
            continue
        members, member_vectors = _members(args, vectors, int(t.cluster_id))
        if not len(members):
            continue  # only answers addressing the model: not for the synthesis
        out.append(Theme(int(t.cluster_id), _or_empty(t.title), _or_empty(t.summary),
                         float(t.share_respondents), json.loads(t.kinds or "{}"),
                         list(members["text"]), member_vectors,
                         quotes=vector_texts(members), idea_kinds=list(members["kind"]),
                         kind_shares=kind_shares(args[args["cluster_id"] == t.cluster_id],
                                                 respondents),
                         title_origin=_or_empty(getattr(t, "title_origin", None))))
    return out


def _free_synthesis(question: str, embed: Any, themes: list[Any], llm: Any, prompt: Any,
                    args: pd.DataFrame, vectors: np.ndarray) -> Any:
    """The free mode: the model writes it all; code checks each sentence and, when it cites
    no theme that supports it, finds the themes that do."""
    from synthese.synthesise import free_synthesis
    from synthese.verify import SUPPORT_THRESHOLD, cite_and_check

    draft = free_synthesis(themes, question, llm, prompt)
    inside = (args["cluster_id"] >= 0).to_numpy()
    theme_of, cand = args["cluster_id"].to_numpy()[inside], vectors[inside]
    texts = [s.text for s in draft.sentences]
    for s, vec in zip(draft.sentences, embed(texts) if texts else []):
        s.cluster_ids, score, s.cited_by = cite_and_check(s.cluster_ids, vec, theme_of, cand)
        s.support, s.supported = score, score >= SUPPORT_THRESHOLD
    return draft


@dataclass(frozen=True)
class Published:
    report_path: Path
    counts: dict[str, Any]  # arguments, themes, unassigned, unassigned_share
    trust: dict[str, Any]
    answer_counts: dict[str, int]
    report: dict[str, Any]  # what the report says of the run (reportdata's ``run``)
    inputs: dict[str, Any]  # the keys the report was read from (read_report_rows)


def read_report_rows(store: Any, inputs: dict[str, Any]) -> Any:
    """The rows a report shows, read from the store with the keys a run recorded
    (``inputs``: questions, extractor_key, clustering_id, summary_keys by theme, check_keys
    by summary, synthesis_key, synthesis_attempt). The review page reads them again."""
    from synthese.reportdata import ReportRows

    clustering_id, keys = inputs["clustering_id"], {int(k): v for k, v in
                                                    inputs["summary_keys"].items()}
    args = store.arguments(inputs["questions"], inputs["extractor_key"]).merge(
        store.assignments(clustering_id), on="argument_id")
    themes = store.clusters(clustering_id)
    summaries = store.summaries(list(keys.values())).set_index("summary_key")
    themes["summary_key"] = themes["cluster_id"].map(keys)
    for column in ("title", "summary", "title_origin", "title_rejected", "failure"):
        themes[column] = themes["summary_key"].map(summaries[column]) if len(summaries) else None
    themes["parent_label"] = themes["parent_id"].map(store.parent_labels(clustering_id))
    return ReportRows(
        arguments=args, themes=themes, summary_sentences=store.summary_checks(inputs["check_keys"]),
        synthesis_sentences=store.synthesis_sentences(inputs["synthesis_key"],
                                                      inputs["synthesis_attempt"]),
        answers=store.staged_answers(sorted(set(args["answer_id"])) if len(args) else []),
        respondent_metadata=store.respondent_metadata(inputs["questions"]),
        respondents=store.respondents(inputs["questions"]),
        campaigns=store.campaigns(inputs.get("campaign_ids") or []),
        clustering_params=store.clustering_params(clustering_id),
        lineage=store.lineage_cost(inputs["questions"], inputs["extractor_key"],
                                   list(keys.values()), inputs["synthesis_key"],
                                   inputs["synthesis_attempt"]),
    )


def publish(run: Run, ingest: Imported, pseudonymise: Staged, extract: Extracted,
            cluster: Clustered, summarise: Summarised, synthesise: Synthesised,
            campaigns: Campaigned | None = None) -> Published:
    from synthese.report import render_report
    from synthese.reportdata import build_report_data

    s, store = run.settings, run.store
    counts = store.answer_counts(s.questions, extract.extractor_key)
    inputs = {"questions": list(s.questions), "extractor_key": extract.extractor_key,
              "clustering_id": cluster.clustering_id,
              "summary_keys": {str(k): v for k, v in summarise.summary_keys.items()},
              "check_keys": run.summary_checks(summarise.summary_keys.values()),
              "synthesis_key": synthesise.synthesis_key,
              "synthesis_attempt": synthesise.attempt,
              "campaign_ids": list(campaigns.campaign_ids) if campaigns else []}
    rows = read_report_rows(store, inputs)
    synthesis = store.latest_synthesis(synthesise.synthesis_key) or {}
    failures = {"summaries_failed": int(rows.themes["failure"].notna().sum()),
                "synthesis_failure": synthesis.get("failure"),
                "synthesis_fallbacks": json.loads(synthesis.get("fallbacks") or "{}"),
                "synthesis_mode": synthesis.get("mode") or s.synthesis}
    described = run.describe(ingest.source, pseudonymise, counts) | failures | {
        "campaign_savings": store.campaign_savings(extract.extractor_key,
                                                   inputs["campaign_ids"])}
    data = build_report_data(rows, described)
    store.write_theme_segments(run.run_id, segment_rows(data))
    name = s.report_name or f"synthese-{_slug(s.export.stem)}.html"
    path = render_report(data, s.out / name)
    kept = {k: data["counts"][k] for k in ("arguments", "themes", "unassigned", "unassigned_share")}
    kept["campaign_calls_saved"] = described["campaign_savings"]["calls"]
    return Published(path, kept, data["trust"], counts, described, inputs)


def segment_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The themes by segment of each closed question, as the report ``data`` shows them
    (rows of core.theme_segments, less the run id and the row key)."""
    return [row for box in data["closed_questions"] for row in box.get("segments") or []]


@dataclass
class ReviewView:
    """A run as its reviewer sees it: the rows the method published, the review's events,
    and the rows after them (counts recomputed by code, review.apply_events)."""

    run: dict[str, Any]  # its core.runs row
    described: dict[str, Any]  # what the report says of the run (Published.report)
    base: Any  # ReportRows as published by the run
    rows: Any  # ReportRows after the review
    state: Any  # review.Reviewed
    events: list[dict[str, Any]]
    # the report data, built once (dataclasses.replace starts a new view with an empty one)
    _data: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def run_id(self) -> str:
        return self.run["run_id"]

    def report_data(self) -> dict[str, Any]:
        from synthese.reportdata import build_report_data

        if not self._data:
            self._data.update(build_report_data(
                self.rows, self.described | {"review": self.state.status()}))
        return self._data


def latest_run_to_review(store: Any, run_id: str | None = None) -> dict[str, Any]:
    """The core.runs row of a run that can be reviewed (the latest completed one when
    ``run_id`` is None), or a French error."""
    from synthese.errors import SyntheseError

    row = store.run_row(run_id)
    if row is None or not row.get("report_inputs"):
        raise SyntheseError("Aucune exécution terminée à relire dans cette base : lancez "
                            "d'abord « synthese run ».")
    return row


def review_key(store: Any) -> tuple[str, int]:
    """What identifies the latest run's reviewed state without loading it: the run and its
    last review event (the page keeps the view it built while this stays the same)."""
    run_id = latest_run_to_review(store)["run_id"]
    return run_id, store.last_review_seq(run_id)


def load_review(store: Any, run_id: str | None = None) -> ReviewView:
    """The reviewed state of a run (the latest completed one when ``run_id`` is None)."""
    from synthese.review import apply_events

    row = latest_run_to_review(store, run_id)
    described = json.loads(row["report"])
    base = read_report_rows(store, json.loads(row["report_inputs"]))
    events = store.review_events(row["run_id"])
    rows, state = apply_events(base, events, share_base(described))
    return ReviewView(row, described, base, rows, state, events)


def share_base(described: dict[str, Any]) -> int:
    """The denominator of the themes' shares: respondents with a non-blank answer (as in
    the cluster stage)."""
    counts = described["counts"]
    return int(counts.get("respondents_answering", counts.get("respondents")) or 0)


def publish_review(view: ReviewView) -> Path:
    """Render the run's report again, in its reviewed state, where the run wrote it."""
    from synthese.report import render_report

    return render_report(view.report_data(), Path(view.run["report_path"]))


def store_review(store: Any, view: ReviewView, events: list[dict[str, Any]]) -> ReviewView:
    """Append ``events`` to the review of ``view``'s run, with the reviewed state after them
    (review.apply_events: raises review.ReviewError, storing nothing, when one does not
    apply) and its themes by segment, and render the report again. Returns the new view."""
    from synthese.review import apply_events, state_rows

    rows, state = apply_events(view.base, view.events + events, share_base(view.described))
    reviewed = replace(view, rows=rows, state=state, events=view.events + events)
    data = reviewed.report_data()
    store.append_review(events, state_rows(rows, state, view.base.arguments)
                        | {"theme_segments": segment_rows(data)})
    publish_review(reviewed)
    # the events as stored (with their seq and event_id), the report data kept
    stored = replace(reviewed, events=store.review_events(view.run_id))
    stored._data.update(data)
    return stored


def carry_review(store: Any, run_id: str, questions: list[str]) -> dict[str, Any] | None:
    """Carry the review of the previous reviewed run of these questions over to ``run_id``
    (review.carry_over), append it as events by code, and render the report again.
    None when no earlier run was reviewed."""
    from synthese.review import SYSTEM_REVIEWER, ReviewError, apply_events, carry_over

    previous = store.previous_reviewed_run(run_id, questions)
    if previous is None:
        return None
    old, new = load_review(store, previous), load_review(store, run_id)
    now = _now().isoformat()
    carried = carry_over(old.base, old.events, new.base, previous, run_id, now)
    kept: list[dict[str, Any]] = []
    missed = list(carried.not_carried)
    for event in carried.events:  # an event that no longer applies is listed, not forced
        try:
            apply_events(new.base, kept + [event], share_base(new.described))
            kept.append(event)
        except ReviewError as exc:
            missed.append(f"{event['action']} : {exc}")
    head = {"run_id": run_id, "reviewer": SYSTEM_REVIEWER, "made_at": now,
            "action": "carry_over", "target": "{}", "before": "{}", "note": None,
            "after": to_json({"from_run": previous, "not_carried": missed,
                              "changed_themes": carried.changed_themes}),
            "origin_event_id": None}
    reviewed = store_review(store, new, [head] + kept)
    return {"from_run": previous, "carried": len(kept), "not_carried": missed,
            "changed_themes": carried.changed_themes,
            "validated": reviewed.state.synthesis_validated is not None}


# -- what the review page asks of the models (revue.py); every call goes through the cache --

def _reviewed_members(store: Any, embedder: Any, args: pd.DataFrame,
                      cluster_ids: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    """The reviewed arguments of some themes, most central first, and their stored vectors;
    as in the run, none from an answer that addresses the model (``_members``)."""
    members = args[args["cluster_id"].isin(cluster_ids) & ~_injected(args)]
    members = members.sort_values("similarity", ascending=False, na_position="last", kind="stable")
    if not len(members):
        return members, np.zeros((0, 1), dtype=np.float32)
    return members, store.get_embeddings(_vector_hashes(members)[0], embedder.model_id)


def sentence_support(store: Any, embedder: Any, view: ReviewView, text: str,
                     cluster_ids: list[int]) -> tuple[float, bool]:
    """How well the themes a reviewer cites support their sentence: its best similarity to
    an argument of those themes (verify.SUPPORT_THRESHOLD), computed by code."""
    from synthese.verify import SUPPORT_THRESHOLD

    _, vectors = _reviewed_members(store, embedder, view.rows.arguments, cluster_ids)
    if not len(vectors) or not text.strip():
        return 0.0, False
    score = round(float((vectors @ embedder.embed([text])[0]).max()), 4)
    return score, score >= SUPPORT_THRESHOLD


def regenerate_summary(store: Any, llm: Any, embedder: Any, view: ReviewView,
                       cluster_id: int) -> dict[str, Any]:
    """A new summary of a reviewed theme from its current arguments, checked like the run's
    (verify.ground_summary). The same arguments give the cached answer. A theme of brief
    answers (``summarise.is_brief``) is summed up by code, as in the run, with no call."""
    from synthese.cluster import vector_texts
    from synthese.errors import SyntheseError
    from synthese.summarise import PROMPTS, is_brief, summarise_theme

    prompts = {k: load_prompt(*PROMPTS[k]) for k in ("summary", "reduce")}
    members, vectors = _reviewed_members(store, embedder, view.rows.arguments, [cluster_id])
    quotes = list(vector_texts(members)) if len(members) else []
    question = view.described["question"]
    if quotes and is_brief(quotes):  # as in the run (``_summarise_theme``)
        grounded, origin = _brief_grounded(members, quotes, question), "code"
    else:
        stage = llm.for_stage("summary", *prompts.values())
        summary = summarise_theme(list(members["text"]), question, stage, prompts["summary"],
                                  prompts["reduce"])
        if summary.failed:
            raise SyntheseError(f"Le modèle n'a pas pu résumer ce thème : {summary.failed}")
        grounded = _grounded(summary.summary, embedder.embed, members, vectors)
        origin = "modele"
    return {"summary": " ".join(g.text for g in grounded), "origin": origin,
            "sentences": [{"text": g.text, "support": g.support, "supported": g.supported,
                           "argument_ids": list(g.argument_ids), "origin": g.origin,
                           "model_text": g.model_text} for g in grounded]}


def regenerate_synthesis(store: Any, llm: Any, embedder: Any, view: ReviewView,
                         mode: str) -> list[dict[str, Any]]:
    """A new synthesis of the reviewed themes (their titles, summaries and members), made
    and checked as in the run (``synthesise``)."""
    from synthese.cluster import kind_shares
    from synthese.errors import SyntheseError
    from synthese.synthesise import PROMPTS, compose_synthesis

    prompt = load_prompt(*PROMPTS[mode])
    args = view.rows.arguments
    args, vectors = _reviewed_members(store, embedder, args, sorted(set(args["cluster_id"])))
    themes = _themes_of(view.rows.themes, args, vectors, share_base(view.described))
    stage, question = llm.for_stage("synthesis", prompt), view.described["question"]
    if mode == "libre":
        draft = _free_synthesis(question, embedder.embed, themes, stage, prompt, args, vectors)
    else:
        draft = compose_synthesis(themes, question, stage, prompt, embedder.embed,
                                  kind_shares(args, share_base(view.described)),
                                  write=mode == "composee")
    if draft.failure:
        raise SyntheseError(f"Le modèle n'a pas pu rédiger la synthèse : {draft.failure}")
    return _sentence_rows(draft)


def _slug(text: str) -> str:
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "consultation"
