"""Step 3: group argument vectors into themes, losing none of them.

The pipeline is the one BERTopic popularised (reduce with UMAP, cluster densities with
HDBSCAN), with changes that matter for a consultation synthesis:

- Nothing is lost. HDBSCAN calls 20-45 % of the Grand Débat comments and sentences "noise".
  Each noise point is attached to the nearest theme centroid in the ORIGINAL embedding
  space when it is similar enough; only the rest is reported as -1 (« autres /
  inclassables »), and ``was_noise`` keeps the trace of what was attached.
- The attachment threshold adapts to the embedding model by default. Cosine levels differ
  widely between models (median cosine of random Grand Débat sentence pairs: 0.42 with
  all-MiniLM-L6-v2, 0.08 with multilingual USE), so a fixed number tuned on one model
  attaches everything or nothing with another (a fixed 0.5 leaves 1 % of the sentences
  unassigned with MiniLM, 38 % with USE). With ``attach_threshold=None`` a noise point is
  attached when it is at least as close to a centroid as the least typical
  ``ATTACH_PERCENTILE`` % of the points HDBSCAN did cluster. Measured over 3 seeds on the
  comments and sentences (benchmarks/clustering.py): 2-6 % left unassigned with either
  model, attached points 3-5 times purer than chance, with the same ARI/NMI as p5 or p10.
  That was with one fit (p2); the consensus's tighter cores need p1 for the same effect.
- HDBSCAN's "excess of mass" selection sometimes collapses into one theme holding >90 % of
  the corpus; themes above a quarter of the corpus are re-clustered on their own (see
  ``_split_giant_themes``), without breaking up a genuinely dominant copy-pasted answer.
- Parameters scale with the corpus (5 to 100,000 arguments) and everything is seeded:
  the same vectors and seed give the same labels, renumbered by decreasing theme size.
- Themes depend on the data, not on the seed. One UMAP + HDBSCAN fit moves with its seed
  (UMAP is stochastic): on the Grand Débat comments seeds 42, 43 and 44 agreed at a mean
  pairwise ARI of 0.58, with 18 to 25 themes. The themes are therefore the consensus of
  ``CONSENSUS_RUNS`` fits (evidence accumulation): groups of arguments are merged, average
  linkage, while their members share a theme in at least half of the fits on average, and
  the themes are the groups of at least the minimum theme size (see ``_consensus_labels``).
  The same comments then agree at ARI 0.94 on this 2-core AVX2 machine, with 19 themes
  for each seed (docs/benchmarks.md).
- Past ``FIT_SAMPLE`` arguments the fits are made on a sample, chosen by the vectors'
  content (the same arguments stay in it when answers are added), and every other
  argument takes the theme of most of its nearest sampled neighbours.

Tiny corpora (fewer than ``TINY_CORPUS`` vectors) skip UMAP/HDBSCAN, which need more
points than that to estimate densities, and use average-linkage agglomerative clustering.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthese.errors import SyntheseError
from synthese.keys import content_hash

UNASSIGNED = -1
# Part of every clustering key: bump it when the method changes. v2: the vectors are those
# of the arguments' quotes (``vector_texts``), not of the model's reformulations. v3: the
# themes are the consensus of several seeded fits (``_consensus_labels``). v6: that consensus
# merges groups by their mean agreement (average linkage), not by one linked pair. v7: the
# kind groups' noise is attached at one threshold calibrated on them all. v8: the
# arguments come in their answers' order (``Store.arguments``), not their ids', which hash
# the extractor's version: a version that changes no idea no longer reshuffles UMAP's input.
# v9: the groups of a kind said by too few ideas for UMAP are themes only at the corpus's
# minimum theme size (``_by_kind``).
# The key also holds the CPU numba compiles UMAP for (``generic``, set in synthese/__init__.py).
CLUSTER_ALGO = "umap-hdbscan-consensus-v9"
QUOTES_PER_THEME = 3
TINY_CORPUS = 15
# The consensus keeps tighter cores than one fit did, so the 2nd percentile it was
# calibrated at (one fit) left 14.5 % of 200 Grand Débat comments' ideas in « autres »
# (3.5 % before the consensus); the 1st leaves 8.4 % there, 1.2 % on the demo, 5.8 % of
# the 690 comments (docs/quality.md, fourth pass).
ATTACH_PERCENTILE = 1.0
# Used only when there is no clustered point to calibrate on (tiny corpora).
FALLBACK_ATTACH_THRESHOLD = 0.5
UMAP_COMPONENTS = 5
# HDBSCAN's min_samples: small values declare fewer points noise (measured in the benchmark).
MIN_SAMPLES = 5
# A theme holding more than this share of the corpus is re-clustered on its own (see below).
MAX_THEME_SHARE = 0.25
# Consensus (``_consensus_labels``): fits per clustering, and the mean share of fits in
# which two groups' members must share a theme for the groups to merge. Measured on the
# Grand Débat comments (benchmarks/stability.py, docs/benchmarks.md section 9): with
# average linkage, 10 fits agree at a mean seed-to-seed ARI of 0.88 over seeds 42-47 (15
# pairs), 20 fits at 0.89 for twice the time; a bar of 0.6 gave 0.91 on seeds 42-44 but an
# F1 after merging of 0.765 instead of 0.775, 0.4 gave 0.87 and 0.746.
CONSENSUS_RUNS = 10
CONSENSUS_AGREEMENT = 0.5
# Nearest sampled neighbours whose theme a vector left out of the fit sample takes.
CONSENSUS_NEIGHBOURS = 15
# Above this many arguments the fits are made on a sample of this size (``_fit_sample``).
FIT_SAMPLE = 5000
# A sample of 5,000 sees themes of ~1 % of the corpus, the medium granularity's own size;
# at scale that hides groups of thousands of respondents. Past SECOND_LEVEL_FROM arguments,
# each top theme (and the top noise) of at least SECOND_LEVEL_MIN arguments is clustered
# again on its own members (``_second_level``): fits on up to SECOND_LEVEL_SAMPLE of them (so
# the fitted points are a sample stratified by top theme), SECOND_LEVEL_RUNS fits of
# SECOND_LEVEL_EPOCHS, sub-themes of at least SECOND_LEVEL_SHARE of their top theme. At 100,000
# arguments 2,000-point samples and 5 fits cost 808 s; these settings are measured in
# docs/benchmarks.md, section 4.
SECOND_LEVEL_FROM = 50_000
SECOND_LEVEL_MIN = 500
SECOND_LEVEL_SAMPLE = 1000
SECOND_LEVEL_RUNS = 3
SECOND_LEVEL_EPOCHS = 100
SECOND_LEVEL_SHARE = 0.05


@dataclass
class ClusterResult:
    """Themes of one corpus: a label per vector, and how each label was obtained."""

    labels: np.ndarray  # int, 0..k-1 for themes, -1 = « autres / inclassables »
    was_noise: np.ndarray  # bool, HDBSCAN called it noise (even if later attached)
    similarity: np.ndarray  # float, cosine to its theme centroid (nan for -1)
    parents: np.ndarray | None  # int, parent theme of each theme id, or None (one level)
    params: dict  # every parameter actually used (runs table, report)
    # For a theme that was one theme mixing opposite views before it was split in two by
    # kind, the id of the other half (see split_opposed_views); absent otherwise.
    split_from: dict[int, int] = field(default_factory=dict)
    # Past SECOND_LEVEL_FROM arguments: each vector's top theme, of which the themes are
    # the sub-themes (``_second_level``); the parent themes are then the top themes.
    top: np.ndarray | None = None

    @property
    def n_clusters(self) -> int:
        """Number of themes, not counting « autres / inclassables »."""
        return int(np.unique(self.labels[self.labels >= 0]).size)  # ids kept in place may skip

    @property
    def unassigned_share(self) -> float:
        """Share of vectors left in « autres / inclassables » (0.0 for an empty corpus)."""
        return float(np.mean(self.labels == UNASSIGNED)) if self.labels.size else 0.0


def cluster_vectors(
    vectors: np.ndarray,
    *,
    seed: int = 42,
    min_cluster_size: int | None = None,
    attach_threshold: float | None = None,
    max_themes_flat: int = 15,
    kinds: list[str] | None = None,
    runs: int | None = None,
    themes: int | None = None,
    granularity: str = "medium",
) -> ClusterResult:
    """Group argument vectors into themes; deterministic for the same vectors and seed.

    ``min_cluster_size`` defaults to a size scaled on the corpus; ``attach_threshold``
    (cosine) defaults to a value calibrated on the clustered points. With more than
    ``max_themes_flat`` themes, themes are grouped into parent themes (``parents``). With
    the ``kinds`` of the arguments, each kind group is clustered apart (``BY_KIND``; under
    ``BY_KIND_FROM`` ideas, a theme that mixes opposite views is split in two instead).
    ``runs`` is the number of fits of the consensus (``CONSENSUS_RUNS`` by default).
    ``themes`` asks for about that many themes and ``granularity`` (coarse, medium, fine)
    for broader or narrower ones (see ``_steer``).
    """
    if granularity not in GRANULARITIES:
        raise SyntheseError(f"Granularité inconnue « {granularity} » : choisissez "
                            f"{', '.join(GRANULARITIES)}.")
    if themes is not None and themes < 1:
        raise SyntheseError(f"--themes doit être un entier positif (reçu : {themes}).")
    unit = _unit_vectors(vectors)
    n = unit.shape[0]
    params: dict = {
        "n_vectors": n,
        "dim": int(unit.shape[1]),
        "seed": seed,
        "max_themes_flat": max_themes_flat,
        "granularity": granularity,
        "themes_asked": themes,
    }
    by_kind = kinds is not None and BY_KIND and n >= BY_KIND_FROM
    if by_kind:
        raw, attached, top = _by_kind(unit, kinds, seed, min_cluster_size, attach_threshold,
                                      params, runs, themes, granularity)
    else:
        raw, attached, top = _themes_and_noise(unit, seed, min_cluster_size, attach_threshold,
                                               params, runs, themes, granularity)
    was_noise = raw == UNASSIGNED
    pairs: list[tuple[int, int]] = []
    if kinds is not None and not by_kind:
        attached, pairs = split_opposed_views(unit, attached, kinds)
        params.update(split_opposed=len(pairs), split_min_side=SPLIT_MIN_SIDE,
                      split_min_share=SPLIT_MIN_SHARE)
    labels = _renumber_by_size(attached)
    renamed = {int(a): int(labels[np.argmax(attached == a)]) for a in np.unique(attached[attached >= 0])}
    split_from = {}
    for a, b in pairs:
        split_from[renamed[a]], split_from[renamed[b]] = renamed[b], renamed[a]
    similarity = _similarity_to_centroid(unit, labels)
    parents = _parents(unit, labels, top, max_themes_flat, params)

    params.update(
        n_clusters=int(labels.max()) + 1 if n and labels.max() >= 0 else 0,
        noise_share=round(float(was_noise.mean()), 4) if n else 0.0,
        attached=int(np.sum(was_noise & (labels != UNASSIGNED))),
        unassigned_share=round(float(np.mean(labels == UNASSIGNED)), 4) if n else 0.0,
    )
    return ClusterResult(labels, was_noise, similarity, parents, params, split_from, top)


# Themes by kind: the opportunities, the conditions, and the risks with the observations
# are clustered apart (``_by_kind``), each with the corpus's minimum theme size, so that a
# theme never mixes opposite views and gathers one subject said one way. Observations go
# with the risks because the kind rules miss risks said without a risk word, which come
# out « constat » (docs/quality.md, kinds). Mixing the kinds, the demo's themes gathered
# every subject: on its stored ideas (seeds 42/43/44, topics set by word patterns,
# benchmarks/theme_topics.py) topics recovered 4-5 -> 7 of 15, NMI 0.33 -> 0.39, seed ARI
# 0.87 -> 0.86; all four kinds apart recovered 8 at ARI 0.84 but left the observations'
# themes out of every section; opportunities apart from the rest, 5. docs/quality.md,
# fifth pass. Used from BY_KIND_FROM ideas, when the kinds are given (a run always gives
# them). Under it, groups of a few dozen ideas hold no theme of the corpus's minimum size
# (a consultation of 8 answers and 16 ideas came out all « autres »): the ideas are then
# clustered together and a theme mixing opportunities and risks is split in two
# (``split_opposed_views``). The bound is not measured: three groups of about 30 ideas.
BY_KIND = True
BY_KIND_FROM = 100
# The noise of every kind group is attached at one threshold, the ``ATTACH_PERCENTILE`` of
# the similarities of all the groups' clustered ideas to their themes' centroids (one
# embedder, one scale). Calibrated per group, the 1st percentile of ~100 clustered ideas is
# their smallest or second smallest similarity: on the demo with kinds v9 it put the
# conditions' bar at 0.35 against 0.24 for the risks, and left 8.3-10.4 % of the ideas in
# « autres » over seeds 42-44; pooled, 6.2-7.3 %, at the same NMI with the demo's topics
# (0.446-0.463 against 0.456-0.463), and 6.6-8.9 % of 200 Grand Débat comments' ideas
# against 9.6-10.4 % (docs/quality.md, « Rules v10 and one attachment threshold »).
ATTACH_POOLED = True
KIND_GROUPS: dict[str, str] = {"constat": "risque"}


def _by_kind(unit: np.ndarray, kinds: list[str], seed: int, min_cluster_size: int | None,
             attach_threshold: float | None, params: dict, runs: int | None,
             themes: int | None, granularity: str,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Each kind group's ideas (``KIND_GROUPS``) clustered on their own (``_steer``, then
    noise attached within the group, at one threshold for all groups: ``ATTACH_POOLED``):
    the raw labels, the attached labels and the top themes, numbered across the groups.

    The minimum theme size is the corpus's (1 % of all ideas, at least 5), not the kind's,
    so a theme is as big as when the kinds were clustered together; ``themes=N`` is shared
    between the groups in proportion to their ideas."""
    n = unit.shape[0]
    size = min_cluster_size or max(5, round(n / 100))
    kinds_arr = np.asarray([KIND_GROUPS.get(str(k), str(k)) for k in kinds], dtype=object)
    raw = np.full(n, UNASSIGNED, dtype=np.int64)
    attached = raw.copy()
    tops: list[tuple[np.ndarray, np.ndarray | None]] = []
    first, groups = 0, {}
    fitted = []
    for kind in sorted({str(k) for k in kinds_arr}):
        members = np.flatnonzero(kinds_arr == kind)
        sub_params: dict = {}
        asked = None if themes is None else max(1, round(themes * members.size / n))
        r, t = _raw_themes(unit[members], seed, size, attach_threshold, sub_params, runs,
                           asked, granularity)
        if sub_params.get("method") == "agglomerative":
            # A kind said by a handful of ideas (the off-topic remarks of the demo: 9 of
            # 924) is grouped without UMAP; its groups are themes only at the corpus's
            # minimum theme size, like every other kind's, or a theme of 2 ideas would
            # stand beside themes of 20 (kinds v12 made the demo's first, 0.3 %).
            small = np.flatnonzero(np.bincount(r[r >= 0]) < size) if (r >= 0).any() else []
            r = np.where(np.isin(r, small), UNASSIGNED, r)
        fitted.append((kind, members, r, t, sub_params))
    # One threshold for the groups fitted by UMAP + HDBSCAN, calibrated on all their
    # clustered ideas (``ATTACH_POOLED``); a tiny group keeps its own rule.
    pooled = [(m, r) for _, m, r, _, p in fitted if p.get("method") == "umap+hdbscan"]
    sims = (np.concatenate([_similarity_to_centroid(unit[m], r)[r >= 0] for m, r in pooled])
            if pooled else np.zeros(0))
    bar = (round(float(np.percentile(sims, ATTACH_PERCENTILE)), 4)
           if attach_threshold is None and ATTACH_POOLED and sims.size else None)
    for kind, members, r, t, sub_params in fitted:
        if bar is not None and sub_params.get("method") == "umap+hdbscan":
            threshold = bar
            sub_params.update(attach_threshold=bar,
                              attach_rule=f"p{ATTACH_PERCENTILE:g} clustered, kinds pooled")
        else:
            threshold = _attach_threshold(unit[members], r, attach_threshold, sub_params)
        a = _attach_noise(unit[members], r, threshold)
        ids = np.unique(a[a >= 0])
        mapping = {int(x): first + i for i, x in enumerate(ids)}
        raw[members] = [mapping.get(int(x), UNASSIGNED) for x in r]
        attached[members] = [mapping.get(int(x), UNASSIGNED) for x in a]
        tops.append((members, t))
        groups[kind] = {"ideas": int(members.size), "themes": len(ids),
                        "attach_threshold": sub_params.get("attach_threshold")}
        first += len(ids)
        params.update(sub_params)  # the settings shared by the groups (the last one's)
    params.update(by_kind=groups, by_kind_min_cluster_size=size,
                  attach_threshold=None, attach_rule="per kind")
    top = None
    if any(t is not None for _, t in tops):
        top = np.full(n, UNASSIGNED, dtype=np.int64)
        offset = 0
        for members, t in tops:
            own = attached[members] if t is None else t
            top[members] = np.where(own >= 0, own + offset, UNASSIGNED)
            offset += int(own.max()) + 1 if own.size and own.max() >= 0 else 0
    return raw, attached, top


def _themes_and_noise(unit: np.ndarray, seed: int, min_cluster_size: int | None,
                      attach_threshold: float | None, params: dict, runs: int | None,
                      themes: int | None, granularity: str,
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The raw themes of a corpus (a tiny one grouped by ``_tiny_labels``, else ``_steer``),
    the same with the noise attached (``_attach_noise``), and the top themes (or None)."""
    raw, top = _raw_themes(unit, seed, min_cluster_size, attach_threshold, params, runs,
                           themes, granularity)
    threshold = _attach_threshold(unit, raw, attach_threshold, params)
    return raw, _attach_noise(unit, raw, threshold), top


def _raw_themes(unit: np.ndarray, seed: int, min_cluster_size: int | None,
                attach_threshold: float | None, params: dict, runs: int | None,
                themes: int | None, granularity: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The themes before the noise is attached, and the top themes (or None)."""
    if unit.shape[0] < TINY_CORPUS:
        return _tiny_labels(unit, attach_threshold, params), None
    return _steer(unit, seed, min_cluster_size, params, runs, themes, granularity)


# Opposite views: a theme whose ideas are both opportunities and risks, each side at least
# this many ideas and this share of the theme, is split in two (docs/quality.md measures it).
OPPOSED = ("opportunite", "risque")
SPLIT_MIN_SIDE = 5
SPLIT_MIN_SHARE = 0.25


def split_opposed_views(unit: np.ndarray, labels: np.ndarray,
                        kinds: list[str]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Split each theme mixing opposite views into its opportunities and its risks.

    The other ideas of the theme (conditions, observations) go to the half whose centroid
    is nearer. Returns the new labels and the (theme, new half) pairs split.
    """
    labels = labels.copy()
    kinds_arr = np.asarray(kinds, dtype=object)
    pairs = []
    for theme in [int(t) for t in np.unique(labels[labels >= 0])]:
        members = np.flatnonzero(labels == theme)
        sides = [members[kinds_arr[members] == k] for k in OPPOSED]
        floor = max(SPLIT_MIN_SIDE, SPLIT_MIN_SHARE * members.size)
        if min(len(side) for side in sides) < floor:
            continue
        new = int(labels.max()) + 1
        pos, neg = (_normalise(unit[side].mean(axis=0)) for side in sides)
        others = np.setdiff1d(members, np.concatenate(sides))
        to_neg = np.concatenate([sides[1], others[unit[others] @ neg > unit[others] @ pos]])
        labels[to_neg] = new
        pairs.append((theme, new))
    return labels, pairs


# What each argument is vectorised from, for themes and for every check against them.
VECTOR_TEXT = "quote"


def vector_texts(arguments: pd.DataFrame) -> list[str]:
    """The text each argument is placed by: its quote, the respondent's own words.

    The small models' reformulations are short noun phrases that often lose the topic
    (« Prudence quand même » for « il faut apprendre aux élèves à vérifier les sources »).
    Themes built on them mixed every topic: on the demo, against topic labels set by word
    patterns (on either text), the quotes' themes score NMI 0.28-0.39, the reformulations'
    0.18-0.25 (benchmarks/theme_topics.py, seeds 42 and 43, docs/quality.md). The
    reformulation is still what a reader sees. An argument without a quote (an extractor
    that does not anchor on the answer) is placed by its text.
    """
    texts = arguments["text"].tolist()
    if "quote" not in arguments:
        return texts
    return [vector_text(t, q) for t, q in zip(texts, arguments["quote"].tolist(), strict=True)]


def vector_text(text: str, quote: str | None) -> str:
    """One argument's text to vectorise (see ``vector_texts``): its quote, else its text."""
    return quote if isinstance(quote, str) and quote.strip() else text


# The subject of the question, said in a large share of the answers, ties ideas together
# that share nothing else: on the demo (« Que pensez-vous de l'usage de l'intelligence
# artificielle… »), a theme of 48 risks gathered sentences that say « l'IA » and little else
# (« L'IA, franchement... », « Pour l'IA, on verra après », « L'IA devient l'alibi d'un
# désengagement de l'État »), under the title « L'IA est une triche ». Themes are therefore
# placed by the quote without the question's terms that at least SUBJECT_MIN_SHARE of the
# quotes say (``subject_terms``): a word of the question, or the acronym of two or three of
# its consecutive words (« IA »). Measured on the demo's 924 ideas (seeds 42, 43; topics by
# word patterns, benchmarks/theme_topics.py; docs/quality.md): NMI 0.37/0.36 -> 0.45/0.43,
# ARI 0.13/0.14 -> 0.20/0.18. In a scratch comparison, removing every word of the question
# left 5 to 9 % of the ideas in « autres », and removing the question's vector from the
# vectors gained nothing (NMI 0.38/0.36).
# The checks against the themes (titles, support) keep the whole quote's vectors.
SUBJECT_MIN_SHARE = 0.1
_QUESTION_WORD = re.compile(r"[^\W\d_]{4,}")


def subject_terms(question: str, texts: list[str]) -> list[str]:
    """The question's terms said in at least ``SUBJECT_MIN_SHARE`` of ``texts``: its words
    of four letters or more, and the acronyms of two or three consecutive ones (upper case,
    « intelligence artificielle » -> « IA »). Sorted; none for a question without text."""
    words = _QUESTION_WORD.findall(question)
    acronyms = {"".join(w[0] for w in words[i:i + n]).upper()
                for n in (2, 3) for i in range(len(words) - n + 1)}
    said = [t for t in texts if isinstance(t, str)]
    if not said:
        return []
    patterns = {t: _term(t) for t in sorted({w.lower() for w in words} | acronyms)}
    return [t for t, pattern in patterns.items()
            if sum(bool(pattern.search(x)) for x in said) >= SUBJECT_MIN_SHARE * len(said)]


def _term(term: str) -> re.Pattern[str]:
    """A term as a whole word, with its plural and an elided article (« l'IA », « d'IA »);
    an acronym in upper case only, a word in any case."""
    pattern = rf"\b(?:[ldLD]['’]\s*)?{re.escape(term)}s?\b"
    return re.compile(pattern) if term.isupper() else re.compile(pattern, re.IGNORECASE)


def placement_texts(texts: list[str], terms: list[str]) -> list[str]:
    """The texts the themes are made on: each text without the ``terms`` (``subject_terms``);
    a text left with fewer than two words stays whole."""
    if not terms:
        return list(texts)
    patterns = [_term(t) for t in terms]
    out = []
    for text in texts:
        left = text
        for pattern in patterns:
            left = pattern.sub(" ", left)
        left = " ".join(left.split())
        out.append(left if len(left.split()) >= 2 else text)
    return out


def centroids(vectors: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Unit-length mean vector of each theme (label >= 0), keyed by theme id."""
    unit = _unit_vectors(vectors)
    labels = np.asarray(labels)
    out: dict[int, np.ndarray] = {}
    for cluster_id in np.unique(labels[labels >= 0]):
        out[int(cluster_id)] = _normalise(unit[labels == cluster_id].mean(axis=0))
    return out


def representatives(
    vectors: np.ndarray, labels: np.ndarray, cluster_id: int, k: int = 3
) -> list[int]:
    """Indices of the ``k`` members closest (cosine) to the theme centroid, ties by index."""
    unit = _unit_vectors(vectors)
    members = np.flatnonzero(np.asarray(labels) == cluster_id)
    if members.size == 0 or k <= 0:
        return []
    centre = _normalise(unit[members].mean(axis=0))
    sims = unit[members] @ centre
    # lexsort sorts by its last key first: decreasing similarity, then increasing index.
    order = np.lexsort((members, -sims))
    return [int(i) for i in members[order[:k]]]


def clustering_key(argument_ids: list[str], embed_model_id: str, seed: int,
                   min_cluster_size: int | None, themes: int | None = None,
                   granularity: str = "medium", subject: list[str] | None = None) -> str:
    """Identity of a clustering: the arguments, their vectors' model and the parameters.
    Past SECOND_LEVEL_FROM arguments the second level's settings are part of it (below, the
    clustering is the same with or without it, and so is its key); so are the question's
    terms left out of the placement (``subject_terms``) when there are any."""
    parts: list[Any] = [CLUSTER_ALGO, sorted(argument_ids), embed_model_id, seed,
                        min_cluster_size, themes, granularity,
                        os.environ.get("NUMBA_CPU_NAME", "host")]
    if len(argument_ids) > SECOND_LEVEL_FROM:
        parts.append(["second-level", SECOND_LEVEL_MIN, SECOND_LEVEL_SAMPLE, SECOND_LEVEL_RUNS,
                      SECOND_LEVEL_EPOCHS, SECOND_LEVEL_SHARE])
    if subject:
        parts.append(["subject", SUBJECT_MIN_SHARE, list(subject)])
    return content_hash(*parts)


def kind_shares(members: pd.DataFrame, n_respondents: int) -> dict[str, float]:
    """For each kind, the share of all ``n_respondents`` who expressed at least one idea of
    it among ``members`` (a theme's arguments, or all of them)."""
    if not len(members) or not n_respondents:
        return {}
    return (members.groupby("kind")["respondent_id"].nunique() / n_respondents).to_dict()


def theme_counts(members: pd.DataFrame, n_respondents: int) -> dict[str, Any]:
    """What code counts of one theme's arguments: arguments, respondents, their share of
    all ``n_respondents``, and the split by kind (also after a review, review.recount)."""
    n_resp = int(members["respondent_id"].nunique())
    return {"n_arguments": len(members), "n_respondents": n_resp,
            "share_respondents": n_resp / max(1, n_respondents),
            "kinds": json.dumps(dict(Counter(members["kind"])), ensure_ascii=False)}


def theme_rows(
    arguments: pd.DataFrame, vectors: np.ndarray, result: ClusterResult, clustering_id: str,
    n_respondents: int,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Rows of core.clusters (one per theme, counted by code) and core.assignments.

    ``arguments`` has argument_id, respondent_id, kind and match_kind, in the order of
    ``vectors``. Each theme's quotes are its most central arguments whose quote was found in
    the answer; shares are of all ``n_respondents`` respondents.
    """
    labels = result.labels
    clusters = []
    for cid in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == cid)
        sub = arguments.iloc[members]
        quotes: list[str] = []
        if cid >= 0:
            verified = sub["match_kind"].notna().to_numpy()
            for idx in representatives(vectors, labels, cid, k=len(members)):
                if verified[np.searchsorted(members, idx)] and len(quotes) < QUOTES_PER_THEME:
                    quotes.append(arguments["argument_id"].iloc[idx])
        clusters.append({
            "clustering_id": clustering_id, "cluster_id": int(cid),
            "parent_id": (int(result.parents[cid]) if result.parents is not None and cid >= 0
                          else None),
            "members_key": content_hash(sorted(sub["argument_id"])), "summary_key": None,
            **theme_counts(sub, n_respondents), "quote_argument_ids": quotes, "stances": None,
            "split_from": result.split_from.get(int(cid)),
        })
    assignments = pd.DataFrame({
        "clustering_id": clustering_id, "argument_id": arguments["argument_id"],
        "cluster_id": labels.astype(int), "was_noise": result.was_noise.astype(bool),
        "similarity": result.similarity.astype(float),
    })
    return clusters, assignments


# --- steps -------------------------------------------------------------------------------


def _umap_params(n: int, seed: int) -> dict:
    """UMAP settings scaled on the corpus size (recorded verbatim in ``params``)."""
    return {
        "n_neighbors": int(np.clip(round(math.sqrt(n)), 5, 50)),
        "n_components": UMAP_COMPONENTS,
        "min_dist": 0.0,
        "metric": "cosine",
        # Seeded UMAP optimises the layout on one thread, and that loop is most of the time
        # at scale (100k points, 200 epochs: ~105 s CPU). On the Grand Débat comments and
        # sentences, 100, 200 and 500 epochs gave the same ARI/NMI within seed-to-seed spread.
        "n_epochs": 200 if n <= 20_000 else 100,
        "random_state": seed,
    }


def _hdbscan_params(n: int, min_cluster_size: int | None) -> dict:
    """HDBSCAN settings: themes of at least ~1 % of the corpus, at least 5 arguments."""
    size = int(min_cluster_size) if min_cluster_size else max(5, round(n / 100))
    size = max(2, min(size, n))
    return {
        "min_cluster_size": size,
        "min_samples": min(size, MIN_SAMPLES),
        "cluster_selection_method": "eom",
    }


def _hdbscan_labels(reduced: np.ndarray, h: dict, params: dict) -> np.ndarray:
    """HDBSCAN "excess of mass", then giant themes re-clustered on their own."""
    import hdbscan

    labels = hdbscan.HDBSCAN(**h).fit(reduced).labels_.astype(np.int64)
    labels, splits = _split_giant_themes(reduced, labels, h)
    params.update(giant_theme_share=MAX_THEME_SHARE, giant_splits=splits)
    single = bool(labels.max() < 0)
    if single:
        # No density contrast at all (e.g. near-identical answers): one theme, not all noise.
        model = hdbscan.HDBSCAN(allow_single_cluster=True, **h)
        labels = model.fit(reduced).labels_.astype(np.int64)
    params["hdbscan_allow_single_cluster"] = single
    return labels


def _split_giant_themes(reduced: np.ndarray, labels: np.ndarray, h: dict) -> tuple[np.ndarray, int]:
    """Re-run HDBSCAN inside each theme holding more than MAX_THEME_SHARE of the corpus.

    "Excess of mass" sometimes keeps one node holding >90 % of the corpus (measured: USE
    vectors of the Grand Débat comments, 2-3 themes instead of 11-18), or, next to a very
    dense group, one sparse theme made of everything else. On its own, such a theme splits
    into its sub-themes. A dominant theme without structure (a copy-pasted campaign answer)
    comes back mostly as noise and is then kept whole. Sub-themes still too big are split
    again; each split makes themes strictly smaller, so this ends.
    """
    import hdbscan

    labels = labels.copy()
    limit = labels.size * MAX_THEME_SHARE
    queue = [int(c) for c in np.unique(labels[labels >= 0]) if np.sum(labels == c) > limit]
    splits = 0
    while queue:
        members = np.flatnonzero(labels == queue.pop(0))
        if members.size < 2 * h["min_cluster_size"]:
            continue
        sub = hdbscan.HDBSCAN(**h).fit(reduced[members]).labels_.astype(np.int64)
        if sub.max() < 1 or np.mean(sub < 0) > 0.5:
            continue
        first = int(labels.max()) + 1
        labels[members] = np.where(sub >= 0, sub + first, UNASSIGNED)
        splits += 1
        queue += [first + s for s in range(int(sub.max()) + 1) if np.sum(sub == s) > limit]
    return labels, splits


GRANULARITIES = ("coarse", "medium", "fine")
# Coarse keeps about this share of the medium themes, merging the closest ones.
COARSE_SHARE = 1 / 3


def _steer(unit: np.ndarray, seed: int, min_cluster_size: int | None, params: dict,
           runs: int | None, themes: int | None,
           granularity: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Consensus themes at the granularity asked, and the top theme of each vector when
    they are the second level of a sampled clustering (else None).

    ``fine`` halves the minimum theme size (themes of ~0.5 % of the corpus instead of ~1 %);
    ``coarse`` merges the closest themes (Ward on their centroids) down to a third of them.
    ``themes=N`` merges down to N when there are more; when there are fewer, the minimum
    theme size is halved (at most twice, not below 3) before merging down to N. Merging
    never touches the noise, which is attached afterwards like any other. Past
    SECOND_LEVEL_FROM arguments the themes are refined by ``_second_level`` unless coarse
    themes, or no more than the top themes, are asked for.
    """
    n = unit.shape[0]
    size = min_cluster_size or max(5, round(n / 100))
    if granularity == "fine":
        size = max(3, round(size / 2))
        min_cluster_size = size
    raw = _umap_hdbscan_labels(unit, seed, min_cluster_size, params, runs)
    k = _count(raw)
    if themes is not None:
        for _ in range(2):
            if k >= themes or size <= 3:
                break
            size = max(3, size // 2)
            raw = _umap_hdbscan_labels(unit, seed, size, params, runs)
            k = _count(raw)
        target = min(k, themes)
    else:
        target = max(2, round(k * COARSE_SHARE)) if granularity == "coarse" else k
    top = None
    if n > SECOND_LEVEL_FROM and granularity != "coarse" and (themes is None or themes > k):
        top, raw = raw, _second_level(unit, raw, seed, params)
        k = _count(raw)
        target = k if themes is None else min(k, themes)
    params["themes_before_merge"] = k
    return (_merge_themes(unit, raw, target) if target < k else raw), top


def _count(labels: np.ndarray) -> int:
    return int(np.unique(labels[labels >= 0]).size)


def _merge_themes(unit: np.ndarray, labels: np.ndarray, target: int) -> np.ndarray:
    """Merge the closest themes (Ward on their centroids) until ``target`` remain."""
    from sklearn.cluster import AgglomerativeClustering

    cents = centroids(unit, labels)
    ids = np.array(sorted(cents))
    if ids.size <= max(1, target):
        return labels
    group = AgglomerativeClustering(n_clusters=max(1, target), linkage="ward").fit_predict(
        np.stack([cents[i] for i in ids]))
    mapping = dict(zip(ids.tolist(), group.tolist(), strict=True))
    return np.array([mapping.get(int(x), UNASSIGNED) for x in labels], dtype=np.int64)


def _umap_hdbscan_labels(
    unit: np.ndarray, seed: int, min_cluster_size: int | None, params: dict,
    runs: int | None = None, sample: int | None = None, epochs: int | None = None,
) -> np.ndarray:
    """The consensus of ``runs`` UMAP + HDBSCAN fits (on a sample past ``sample``,
    ``FIT_SAMPLE`` by default)."""
    n = unit.shape[0]
    runs = CONSENSUS_RUNS if runs is None else max(1, int(runs))
    sample = FIT_SAMPLE if sample is None else sample
    fit = _fit_sample(unit, sample)
    sub = unit[fit]
    m = sub.shape[0]
    u = _umap_params(m, seed)
    if epochs is not None:
        u["n_epochs"] = epochs
    # An explicit minimum theme size is the corpus's; on a sample it shrinks with it.
    h = _hdbscan_params(m, min_cluster_size if min_cluster_size is None or m == n
                        else max(2, round(min_cluster_size * m / n)))
    # Each fit's seed comes from the clustering's seed, so seeds 42 and 43 share no fit: the
    # agreement measured between them is the method's, not a shared draw's.
    seeds = [int(x) for x in np.random.SeedSequence(seed).generate_state(runs)]
    fits = [_one_fit(sub, dict(u, random_state=s), h, params) for s in seeds]
    labels_fit, pairs = _consensus_labels(fits, h["min_cluster_size"])
    params.update(
        method="umap+hdbscan",
        **{f"umap_{key}": value for key, value in u.items() if key != "random_state"},
        **{f"hdbscan_{key}": value for key, value in h.items()},
        consensus_runs=runs, consensus_linkage="average",
        consensus_agreement=CONSENSUS_AGREEMENT, consensus_pairs=pairs,
        fit_themes=[int(f.max()) + 1 for f in fits], fit_sample=sample, n_fit=m,
        versions=_versions(),
    )
    if m == n:
        return labels_fit
    labels = np.full(n, UNASSIGNED, dtype=np.int64)
    labels[fit] = labels_fit
    rest = np.setdiff1d(np.arange(n), fit)
    labels[rest] = _neighbour_vote(unit[rest], sub, labels_fit)
    return labels


def _one_fit(unit: np.ndarray, u: dict, h: dict, params: dict) -> np.ndarray:
    # Imported here: umap pulls numba, whose import alone costs seconds in every CLI call.
    import umap

    # n_jobs=1: UMAP is only reproducible single-threaded with a random_state (it would
    # force it anyway, with a warning). No PCA first: 50 components of MiniLM sentence
    # vectors kept only half of each point's 15 nearest neighbours.
    reduced = umap.UMAP(n_jobs=1, low_memory=True, **u).fit_transform(unit)
    return _hdbscan_labels(reduced, h, params)


def _consensus_labels(fits: list[np.ndarray], min_size: int) -> tuple[np.ndarray, int]:
    """Themes on which the fits agree, and the number of vector pairs that share a theme in
    at least ``CONSENSUS_AGREEMENT`` of the fits.

    The co-association of two vectors is the share of fits that put them in one theme (noise
    shares none). Groups are merged by average linkage on it while their members share a
    theme in at least ``CONSENSUS_AGREEMENT`` of the fits on average; a group of at least
    ``min_size`` vectors is a theme, the rest is noise (attached afterwards like HDBSCAN's).
    The mean over all pairs is what decides: a few vectors that each fit places on the
    border of one theme or the other no longer join two themes, as they did when a theme
    was a connected group of linked neighbours (single linkage): seeds 42 to 47 agreed at
    a mean ARI of 0.857 then, 0.882 now (docs/benchmarks.md, section 9).

    The cost is n squared: the fits are made on at most ``FIT_SAMPLE`` vectors (5,000: the
    pair distances take 100 MB). One fit is its own consensus.
    """
    n = len(fits[0])
    if len(fits) == 1 or n < 2:
        return fits[0], 0
    from scipy.cluster.hierarchy import average, fcluster, is_valid_linkage

    apart = fits_apart(fits)
    pairs = int(np.count_nonzero(apart <= 1 - CONSENSUS_AGREEMENT))
    tree = average(apart)
    if is_valid_linkage(tree):
        groups = fcluster(tree, t=1 - CONSENSUS_AGREEMENT, criterion="distance") - 1
    else:
        # SciPy 1.17's average linkage can merge a group with itself when many distances
        # tie (its nearest-neighbour chain; 200 Grand Débat comments with the fake model on
        # a VM with AVX-512 BF16, 7 December 2026: group 1761 merged with itself at 0.1),
        # and fcluster refuses the tree. The same linkage, computed plainly.
        groups = _average_groups(apart, n, 1 - CONSENSUS_AGREEMENT)
    del apart
    sizes = np.bincount(groups)
    labels = np.where(sizes[groups] >= min_size, groups, UNASSIGNED).astype(np.int64)
    kept = labels >= 0
    labels[kept] = np.unique(labels[kept], return_inverse=True)[1]  # ids 0..k-1
    if labels.max() < 0 and max(int(f.max()) for f in fits) >= 0:
        # The fits found themes but never the same ones: keep the first fit's rather than
        # calling everything noise.
        labels = fits[0]
    return labels, pairs


def fits_apart(fits: list[np.ndarray]) -> np.ndarray:
    """The condensed distances of the vectors across the fits: the share of fits that part
    two vectors (Hamming). One column per fit; each noise vector gets a label of its own so
    that it shares a theme with nobody."""
    from scipy.spatial.distance import pdist

    n = len(fits[0])
    columns = np.stack([np.where(f >= 0, f, -1 - np.arange(n)) for f in fits], axis=1)
    return pdist(columns, metric="hamming")


def _average_groups(apart: np.ndarray, n: int, height: float) -> np.ndarray:
    """Average linkage (UPGMA) on the condensed distances ``apart`` of ``n`` vectors, cut at
    ``height``: the group of each vector, as ``fcluster(…, criterion="distance") - 1`` gives
    it up to the groups' numbering. Plain O(n³) in the worst case, with the closest pair of
    lowest indices merged first; used only when SciPy's tree is not valid."""
    from scipy.spatial.distance import squareform

    dist = squareform(apart).astype(np.float64)
    np.fill_diagonal(dist, np.inf)
    size = np.ones(n)
    group = np.arange(n)
    while n > 1:
        i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
        if not dist[i, j] <= height:
            break
        i, j = min(i, j), max(i, j)
        merged = (size[i] * dist[i] + size[j] * dist[j]) / (size[i] + size[j])
        dist[i], dist[:, i] = merged, merged
        dist[i, i] = np.inf
        dist[j], dist[:, j] = np.inf, np.inf
        size[i] += size[j]
        group[group == j] = i
    return np.unique(group, return_inverse=True)[1]


def _fit_sample(unit: np.ndarray, size: int | None = None) -> np.ndarray:
    """Indices of the vectors the fits are made on: all of them up to ``size``
    (``FIT_SAMPLE`` by default), else the ``size`` whose content hash is smallest. The
    sample depends on the vectors only, not on their order or the seed, and answers added
    later change it by at most their own number (bottom-k sampling)."""
    n = unit.shape[0]
    size = FIT_SAMPLE if size is None else size
    if n <= size:
        return np.arange(n)
    import hashlib

    digests = np.array([int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(),
                                       "big") for row in unit], dtype=np.uint64)
    return np.sort(np.lexsort((np.arange(n), digests))[:size])


def _second_level(unit: np.ndarray, top: np.ndarray, seed: int, params: dict) -> np.ndarray:
    """Sub-themes of each top theme of a sampled clustering, numbered across top themes.

    Each top theme of at least ``SECOND_LEVEL_MIN`` arguments is clustered on its own
    members, as the corpus is (consensus of fits on a content-hash sample of them), with
    sub-themes of at least ``SECOND_LEVEL_SHARE`` of it. A member the refit calls noise
    goes to the nearest sub-theme of its own top theme, so the sub-themes partition the top
    theme exactly. A top theme that does not split, or is too small, stays one theme. The
    top noise is refit the same way: the themes found in it are kept (their parent is none
    of the top themes) and the rest stays noise, attached afterwards like any other.
    """
    out = np.full(top.shape[0], UNASSIGNED, dtype=np.int64)
    refit, splits, seconds, first = 0, [], 0.0, 0  # first: the next sub-theme id
    for t in np.unique(top):  # -1 (the noise) first
        members = np.flatnonzero(top == t)
        sub = None
        if members.size >= SECOND_LEVEL_MIN:
            start = time.perf_counter()
            # The sub-theme fits' seeds come from the run's seed and the top theme's id.
            sub = _umap_hdbscan_labels(
                unit[members], int(np.random.SeedSequence([seed, int(t) + 1]).generate_state(1)[0]),
                max(5, round(members.size * SECOND_LEVEL_SHARE)), {},
                runs=SECOND_LEVEL_RUNS, sample=SECOND_LEVEL_SAMPLE, epochs=SECOND_LEVEL_EPOCHS)
            seconds += time.perf_counter() - start
            refit += 1
        if t == UNASSIGNED:
            # What the sample's fits called noise may hold themes too rare for them to see:
            # those found are kept, the rest stays noise.
            if sub is not None and _count(sub) >= 2:  # one would be HDBSCAN's fallback
                kept = sub >= 0
                sub[kept] = np.unique(sub[kept], return_inverse=True)[1]  # ids without gaps
                out[members] = np.where(kept, first + sub, UNASSIGNED)
                splits.append(_count(sub))
                first += splits[-1]
            continue
        if sub is None or _count(sub) < 2:
            out[members] = first
            first += 1
            continue
        sub = _attach_noise(unit[members], sub, -np.inf)
        sub = np.unique(sub, return_inverse=True)[1]
        out[members] = first + sub
        splits.append(int(sub.max()) + 1)
        first += splits[-1]
    params.update(second_level={
        "top_themes": _count(top), "refit": refit, "split": len(splits),
        "sub_themes": _count(out), "min_members": SECOND_LEVEL_MIN,
        "sample": SECOND_LEVEL_SAMPLE, "runs": SECOND_LEVEL_RUNS, "epochs": SECOND_LEVEL_EPOCHS,
        "min_share": SECOND_LEVEL_SHARE, "seconds": round(seconds, 1)})
    return out


def _neighbour_vote(points: np.ndarray, sample: np.ndarray, labels: np.ndarray,
                    chunk: int = 4096) -> np.ndarray:
    """The theme most of each point's nearest sampled neighbours have (noise included as
    a vote, so a point among noise stays noise and is attached by centroid later)."""
    k = min(CONSENSUS_NEIGHBOURS, sample.shape[0])
    shifted = labels + 1  # noise becomes 0 for bincount
    out = np.empty(points.shape[0], dtype=np.int64)
    width = int(shifted.max()) + 1
    for start in range(0, points.shape[0], chunk):
        sims = points[start:start + chunk] @ sample.T
        near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        votes = np.zeros((near.shape[0], width), dtype=np.int64)
        np.add.at(votes, (np.repeat(np.arange(near.shape[0]), k), shifted[near].ravel()), 1)
        out[start:start + chunk] = votes.argmax(axis=1) - 1  # ties: the lower theme id
    return out


def _tiny_labels(unit: np.ndarray, attach_threshold: float | None, params: dict) -> np.ndarray:
    """Agglomerative grouping for a handful of vectors; singletons are noise."""
    n = unit.shape[0]
    threshold = FALLBACK_ATTACH_THRESHOLD if attach_threshold is None else attach_threshold
    params.update(method="agglomerative", agglomerative_linkage="average")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        # A lone argument is its own theme: there is nothing to call it an outlier of.
        return np.zeros(1, dtype=np.int64)
    from sklearn.cluster import AgglomerativeClustering

    # Merge while the average cosine between groups stays at or above the threshold,
    # the same bar a noise point must clear to join a theme.
    distance = float(np.clip(1.0 - threshold, 0.0, 2.0))
    params["agglomerative_distance_threshold"] = round(distance, 6)
    # Precomputed cosine distances: sklearn's "cosine" refuses the all-zero rows an embedder
    # returns for a text it knows nothing of (here they are simply similar to nothing).
    distances = np.clip(1.0 - unit @ unit.T, 0.0, 2.0).astype(np.float64)
    np.fill_diagonal(distances, 0.0)
    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, metric="precomputed", linkage="average"
    )
    labels = model.fit_predict(distances).astype(np.int64)
    sizes = np.bincount(labels)
    labels[sizes[labels] < 2] = UNASSIGNED
    return labels


def _attach_threshold(
    unit: np.ndarray, raw: np.ndarray, attach_threshold: float | None, params: dict
) -> float:
    """The explicit threshold, or one calibrated on the points HDBSCAN clustered."""
    if attach_threshold is not None:
        params.update(attach_threshold=float(attach_threshold), attach_rule="fixed")
        return float(attach_threshold)
    clustered = raw >= 0
    if params.get("method") != "umap+hdbscan" or not clustered.any():
        params.update(attach_threshold=FALLBACK_ATTACH_THRESHOLD, attach_rule="fallback")
        return FALLBACK_ATTACH_THRESHOLD
    sims = _similarity_to_centroid(unit, raw)[clustered]
    value = round(float(np.percentile(sims, ATTACH_PERCENTILE)), 4)
    params.update(attach_threshold=value, attach_rule=f"p{ATTACH_PERCENTILE:g} clustered")
    return value


def _attach_noise(unit: np.ndarray, raw: np.ndarray, threshold: float) -> np.ndarray:
    """Give each noise point the theme of its nearest centroid when close enough."""
    labels = raw.copy()
    noise = np.flatnonzero(raw == UNASSIGNED)
    cents = centroids(unit, raw)
    if noise.size == 0 or not cents:
        return labels
    ids = np.array(sorted(cents))
    matrix = np.stack([cents[i] for i in ids])
    # Centroids come from the clustered points only, so the order of attachment is moot.
    sims = unit[noise] @ matrix.T
    best = sims.argmax(axis=1)  # first maximum: ties go to the lower theme id
    close = sims[np.arange(noise.size), best] >= threshold
    labels[noise[close]] = ids[best[close]]
    return labels


def _renumber_by_size(labels: np.ndarray) -> np.ndarray:
    """Theme 0 is the biggest; equal sizes are ordered by their first member's index."""
    out = np.full_like(labels, UNASSIGNED)
    ids = np.unique(labels[labels >= 0])
    if ids.size == 0:
        return out
    sizes = np.array([np.sum(labels == i) for i in ids])
    first = np.array([np.argmax(labels == i) for i in ids])
    for new, idx in enumerate(np.lexsort((first, -sizes))):
        out[labels == ids[idx]] = new
    return out


def _similarity_to_centroid(unit: np.ndarray, labels: np.ndarray) -> np.ndarray:
    sims = np.full(labels.shape[0], np.nan, dtype=np.float64)
    for cluster_id, centre in centroids(unit, labels).items():
        members = labels == cluster_id
        sims[members] = unit[members] @ centre
    return sims


def _parents(unit: np.ndarray, labels: np.ndarray, top: np.ndarray | None,
             max_themes_flat: int, params: dict) -> np.ndarray | None:
    """Parent themes: the top themes of a two-level clustering (each theme goes to the top
    theme most of its members came from), else ``_parent_themes``."""
    k = int(labels.max()) + 1 if labels.size else 0
    if top is None or k <= max_themes_flat or k < 2 or _count(labels) != k:
        return _parent_themes(unit, labels, max_themes_flat, params)
    tops = np.unique(top[top >= 0])
    raw = np.zeros(k, dtype=np.int64)
    for cid in range(k):
        came = top[(labels == cid) & (top >= 0)]
        # A theme found in the top noise is its own parent.
        raw[cid] = np.bincount(np.searchsorted(tops, came), minlength=tops.size).argmax() \
            if came.size else tops.size + cid
    params.update(n_parents=int(np.unique(raw).size), parent_linkage="top themes")
    return _number_parents(raw, labels)


def _parent_themes(
    unit: np.ndarray, labels: np.ndarray, max_themes_flat: int, params: dict
) -> np.ndarray | None:
    """Group theme centroids into ~sqrt(k) parent themes when there are too many themes."""
    k = int(labels.max()) + 1 if labels.size else 0
    if k <= max_themes_flat or k < 2:
        params["n_parents"] = 0
        return None
    from sklearn.cluster import AgglomerativeClustering

    cents = centroids(unit, labels)
    matrix = np.stack([cents[i] for i in range(k)])
    n_parents = max(2, round(math.sqrt(k)))
    # Ward on unit vectors follows cosine distances and, unlike average linkage, does not
    # leave one giant parent next to a row of singletons.
    raw = AgglomerativeClustering(n_clusters=n_parents, linkage="ward").fit_predict(matrix)
    params.update(n_parents=n_parents, parent_linkage="ward")
    return _number_parents(raw, labels)


def _number_parents(raw: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each theme's parent (``raw``, any ids) renumbered: parent 0 holds the most arguments;
    equal weights are ordered by their first theme."""
    used = np.unique(raw)
    sizes = np.bincount(labels[labels >= 0], minlength=raw.size)
    weight = np.array([sizes[raw == p].sum() for p in used])
    first = np.array([np.argmax(raw == p) for p in used])
    parents = np.empty(raw.size, dtype=np.int64)
    for new, idx in enumerate(np.lexsort((first, -weight))):
        parents[raw == used[idx]] = new
    return parents


# --- helpers -----------------------------------------------------------------------------


def _unit_vectors(vectors: np.ndarray) -> np.ndarray:
    """Check the matrix and return it L2-normalised as float32 (zero rows stay zero)."""
    array = np.asarray(vectors)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, 0)
    if array.ndim != 2:
        raise SyntheseError(
            f"Les vecteurs d'arguments doivent former une matrice (n, dimension), pas un "
            f"tableau de forme {array.shape} : recalculez les embeddings."
        )
    array = array.astype(np.float32, copy=False)
    bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
    if bad.size:
        raise SyntheseError(
            f"Le vecteur de l'argument n° {int(bad[0])} contient des valeurs non finies "
            f"(NaN ou infini) : recalculez les embeddings de ce corpus."
        )
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)


def _normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _versions() -> dict:
    from importlib.metadata import version

    import numba

    return {**{name: version(name) for name in ("umap-learn", "hdbscan", "scikit-learn")},
            "numba_cpu": numba.config.CPU_NAME or "host"}


# --- keeping themes in place from one run to the next (issue 18) ---------------------------

NEW = -2  # previous label of an argument the previous clustering did not have
# A previous theme is split when at least two new themes each take this share of it; new
# themes are merged when they each give most of their members to one new theme.
SPLIT_SHARE = 0.3


@dataclass
class Continuity:
    """The themes of a clustering kept in place from the previous one on the same data."""

    labels: np.ndarray  # final labels: previous ids kept, new themes numbered after them
    previous_ari: float  # fresh clustering vs previous, on the arguments both have
    kept_share: float  # arguments of the previous clustering that kept their theme
    changes: dict[str, Any]  # created, split, merged and removed themes (final ids)


def keep_in_place(fresh: np.ndarray, previous: np.ndarray, min_size: int) -> Continuity:
    """Keep the previous themes where the fresh clustering does not really change them.

    ``previous`` gives each argument's theme in the previous clustering (``NEW`` for an
    argument it did not have). A previous theme keeps its id and its members; new
    arguments join it when the fresh theme they fall in is that theme's. Only a real change
    of structure changes the themes, and it is listed:

    - split: at least two fresh themes each hold ``SPLIT_SHARE`` of a previous theme (and
      ``min_size`` arguments); the biggest part keeps the id, the others get new ids;
    - merged: a fresh theme holds most of at least two previous themes; it takes the id of
      the biggest of them;
    - created: a fresh theme that is no previous theme's main part and is made mostly of
      new or previously unassigned arguments (at least ``min_size`` of them);
    - removed: a previous theme left with no argument.
    """
    from sklearn.metrics import adjusted_rand_score

    fresh, previous = np.asarray(fresh, dtype=np.int64), np.asarray(previous, dtype=np.int64)
    shared = previous != NEW
    old_ids = sorted(int(p) for p in np.unique(previous[shared & (previous >= 0)]))
    out = np.where(shared, previous, UNASSIGNED).astype(np.int64)
    next_id = (max(old_ids) + 1) if old_ids else 0
    changes: dict[str, Any] = {"created": [], "split": {}, "merged": {}, "removed": []}

    def parts_of(p: int) -> tuple[list[tuple[int, int]], int]:
        members = fresh[shared & (previous == p)]
        counts = Counter(int(f) for f in members if f >= 0)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])), members.size

    # Each previous theme's fresh parts, biggest first, and its size.
    split_up = {p: parts_of(p) for p in old_ids}
    # Merges: one fresh theme holding most of several previous themes.
    sources: dict[int, list[int]] = {}
    for p in old_ids:
        parts, size = split_up[p]
        if parts and parts[0][1] > size / 2:
            sources.setdefault(parts[0][0], []).append(p)
    fresh_to_final: dict[int, int] = {}
    for f, ps in sorted(sources.items()):
        if len(ps) < 2:
            fresh_to_final[f] = ps[0]
            continue
        sizes = {p: int(np.sum(shared & (previous == p))) for p in ps}
        keep = min(ps, key=lambda p: (-sizes[p], p))
        out[np.isin(previous, ps) & (fresh == f)] = keep
        fresh_to_final[f] = keep
        changes["merged"][keep] = sorted(ps)
    # Splits: a previous theme whose members fall in two or more big fresh parts.
    for p in old_ids:
        parts, size = split_up[p]
        big = [(f, c) for f, c in parts if c >= max(min_size, SPLIT_SHARE * size)]
        if len(big) < 2 or any(p in ps for ps in changes["merged"].values()):
            continue
        new_ids = []
        for f, _ in big[1:]:
            out[shared & (previous == p) & (fresh == f)] = next_id
            fresh_to_final.setdefault(f, next_id)
            new_ids.append(next_id)
            next_id += 1
        changes["split"][p] = new_ids
    # Created: fresh themes that are nobody's main part, made of new or unassigned arguments.
    claimed = {parts[0][0] for parts, _ in split_up.values() if parts}  # main parts
    for f in sorted(int(x) for x in np.unique(fresh[fresh >= 0])):
        if f in claimed or f in fresh_to_final:
            continue
        members = fresh == f
        newcomers = members & (~shared | (previous < 0))
        if newcomers.sum() >= min_size and newcomers.sum() > members.sum() / 2:
            out[newcomers] = next_id
            fresh_to_final[f] = next_id
            changes["created"].append(next_id)
            next_id += 1
    # New arguments go where their fresh theme went; in a fresh theme that maps to no final
    # theme, they take the previous theme most of its members had.
    for f in sorted(int(x) for x in np.unique(fresh[~shared & (fresh >= 0)])):
        if f not in fresh_to_final:
            before = Counter(int(p) for p in previous[shared & (fresh == f) & (previous >= 0)])
            fresh_to_final[f] = (min(before.items(), key=lambda kv: (-kv[1], kv[0]))[0]
                                 if before else UNASSIGNED)
        out[~shared & (fresh == f)] = fresh_to_final[f]
    changes["removed"] = [p for p in old_ids if not np.any(out == p)]
    both = shared
    ari = float(adjusted_rand_score(previous[both], fresh[both])) if both.sum() > 1 else 1.0
    kept = float(np.mean(out[both] == previous[both])) if both.any() else 1.0
    return Continuity(out, ari, kept, changes)


def relabel(unit_vectors: np.ndarray, result: ClusterResult, labels: np.ndarray) -> ClusterResult:
    """The same clustering under other labels (kept in place): similarities, parent themes
    and counts recomputed; a split pair is kept only while both halves keep one id each."""
    unit = _unit_vectors(unit_vectors)
    params = dict(result.params)
    mapping: dict[int, set[int]] = {}
    for old, new in zip(result.labels.tolist(), labels.tolist(), strict=True):
        mapping.setdefault(old, set()).add(new)
    split_from = {}
    for a, b in result.split_from.items():
        if len(mapping.get(a, ())) == 1 and len(mapping.get(b, ())) == 1:
            split_from[next(iter(mapping[a]))] = next(iter(mapping[b]))
    parents = _parents(unit, labels, result.top, params.get("max_themes_flat", 15), params) \
        if labels.size and labels.max() >= 0 and _count(labels) == int(labels.max()) + 1 else None
    params.update(n_clusters=_count(labels),
                  unassigned_share=round(float(np.mean(labels == UNASSIGNED)), 4)
                  if labels.size else 0.0)
    return ClusterResult(labels, result.was_noise, _similarity_to_centroid(unit, labels),
                         parents, params, split_from, result.top)
