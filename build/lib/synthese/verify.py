"""Checks by code that every statement is supported by the answers.

- a summary sentence is supported when it is close enough, in embedding space, to at
  least one argument of its theme; the best-supporting arguments are recorded;
- a synthesis sentence is supported when it is close enough to an argument of the themes
  it cites; when the model cited no valid theme, the best-supporting themes are found by
  code and recorded as such (``cited_by = 'code'``);
- coverage is the share of respondents with at least one argument in a cited theme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthese.keys import content_hash

# Cosine similarity above which a sentence counts as supported by an argument. Chosen on
# the demo data with the default embedder: see docs/traceability.md.
SUPPORT_THRESHOLD = 0.55
TOP_K = 3


@dataclass(frozen=True)
class Support:
    score: float
    supported: bool
    best: list[int]  # indices into the candidates, best first


def support(sentence_vectors: np.ndarray, candidate_vectors: np.ndarray,
            threshold: float = SUPPORT_THRESHOLD, top_k: int = TOP_K) -> list[Support]:
    """For each sentence, its best similarity to the candidates and the top-k candidates."""
    if len(sentence_vectors) == 0:
        return []
    if len(candidate_vectors) == 0:
        return [Support(0.0, False, []) for _ in range(len(sentence_vectors))]
    sims = sentence_vectors @ candidate_vectors.T
    out = []
    for row in sims:
        order = np.argsort(-row, kind="stable")[:top_k]
        score = float(row[order[0]])
        out.append(Support(round(score, 4), score >= threshold, [int(i) for i in order]))
    return out


def best_themes(sentence_vector: np.ndarray, theme_of: np.ndarray, candidate_vectors: np.ndarray,
                threshold: float = SUPPORT_THRESHOLD, max_themes: int = 2) -> tuple[list[int], float]:
    """Themes whose arguments best support a sentence (when the model cited none)."""
    if len(candidate_vectors) == 0:
        return [], 0.0
    sims = candidate_vectors @ sentence_vector
    best: dict[int, float] = {}
    for theme, sim in zip(theme_of.tolist(), sims.tolist()):
        if theme >= 0 and sim > best.get(theme, -1.0):
            best[theme] = sim
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    chosen = [t for t, s in ranked[:max_themes] if s >= threshold]
    return chosen, (ranked[0][1] if ranked else 0.0)


def check_key(summary_key: str, embed_model_id: str) -> str:
    """Identity of the support check of one summary: a new embedder or threshold, a new check."""
    return content_hash(summary_key, embed_model_id, SUPPORT_THRESHOLD)


def summary_checks(summary_key: str, key: str, sentences: list[str], sentence_vectors: np.ndarray,
                   members: pd.DataFrame, member_vectors: np.ndarray) -> list[dict[str, Any]]:
    """Rows of core.summary_sentences: each sentence of a theme summary, its support by the
    theme's arguments (``members``, with argument_id, in the order of ``member_vectors``) and
    its best-supporting arguments."""
    checked = support(sentence_vectors, member_vectors)
    return [
        {"summary_key": summary_key, "check_key": key, "position": pos, "text": sentence,
         "support": sup.score, "supported": sup.supported,
         "argument_ids": [members["argument_id"].iloc[i] for i in sup.best]}
        for pos, (sentence, sup) in enumerate(zip(sentences, checked))
    ]


def cite_and_check(cited: list[int], vector: np.ndarray, theme_of: np.ndarray,
                   argument_vectors: np.ndarray) -> tuple[list[int], float, str | None]:
    """The themes a synthesis sentence cites, its support score, and who cited them.

    The sentence's support is its best similarity to an argument of the themes it cites.
    When that is under the threshold and other themes support it better, code cites those
    instead (``"code"``); ``None`` when nothing is cited.
    """
    mask = np.isin(theme_of, cited) if cited else np.zeros(len(theme_of), dtype=bool)
    score = float((argument_vectors[mask] @ vector).max()) if mask.any() else 0.0
    by = "modele"
    if score < SUPPORT_THRESHOLD:
        found, best = best_themes(vector, theme_of, argument_vectors)
        if found and best > score:
            cited, score, by = found, best, "code"
    return cited, score, (by if cited else None)


def _share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def trust_figures(args: pd.DataFrame, summary_sentences: pd.DataFrame, synth: pd.DataFrame,
                  n_respondents: int) -> dict[str, Any]:
    """The figures of the « Indicateurs de fiabilité » panel, stored with each run.

    ``args``: the arguments with their cluster_id, respondent_id and match_kind;
    ``summary_sentences`` and ``synth``: the checked sentences of the summaries and of the
    synthesis.
    """
    n = len(args)
    kinds = args["match_kind"].value_counts().to_dict() if n else {}
    cited = synth[synth["cluster_ids"].map(lambda ids: len(ids) > 0)] if len(synth) else synth
    cited_ids = {int(i) for ids in cited["cluster_ids"] for i in ids} if len(cited) else set()
    covered = (args[args["cluster_id"].isin(cited_ids)]["respondent_id"].nunique()
               if n and cited_ids else 0)
    return {
        "quotes_verified_share": _share(sum(kinds.values()), n),
        "quotes_exact_share": _share(kinds.get("exact", 0), n),
        "quotes_normalised_share": _share(kinds.get("normalised", 0), n),
        "quotes_fuzzy_share": _share(kinds.get("fuzzy", 0), n),
        "unverified_quotes": n - sum(kinds.values()),
        "summary_sentences_supported_share": _share(
            int(summary_sentences["supported"].sum()) if len(summary_sentences) else 0,
            len(summary_sentences)),
        "unsupported_summary_sentences": int((~summary_sentences["supported"]).sum())
        if len(summary_sentences) else 0,
        "synthesis_sentences_cited_share": _share(len(cited), len(synth)),
        "synthesis_sentences_supported_share": _share(
            int(synth["supported"].sum()) if len(synth) else 0, len(synth)),
        "respondent_coverage": _share(covered, n_respondents),
    }
