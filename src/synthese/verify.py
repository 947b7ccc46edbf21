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

import numpy as np

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
