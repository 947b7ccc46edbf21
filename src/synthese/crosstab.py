"""Themes by segment: each theme's share of respondents in each group of a closed question.

For a closed question (closed.py) and each theme (and each kind of idea: opportunité,
risque…), the share of the respondents of each segment who expressed the theme, with its
95 % Wilson interval. A cell is flagged when it differs from the rest of the respondents:
a 2 × 2 chi-square test (segment or not × theme or not, Yates' correction) whose p-value
stays under 5 % after the Benjamini–Hochberg correction over every cell of the question
(themes and kinds together). A respondent of a multiple-choice question is in each segment
it chose, and each cell is still segment against the rest, so the test stays valid.

Small groups, as everywhere in the report (reportdata.small_groups): a segment with fewer
than ``k`` respondents is merged into « Autres (moins de k répondants) », and a merged group
still under ``k`` is suppressed: no share, no interval, no test, no row in the mart.

Pure: rows in, rows out (the rows of ``marts.theme_segments``, less the run id).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from scipy.stats import chi2

Z95 = 1.959963984540054
ALPHA = 0.05


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % by default)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def chi2_2x2(a: int, b: int, c: int, d: int) -> float:
    """The p-value of the chi-square test (Yates' correction) of the table [[a, b], [c, d]];
    1 when a margin is empty (nothing to compare)."""
    n = a + b + c + d
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if not margins:
        return 1.0
    statistic = n * max(0.0, abs(a * d - b * c) - n / 2) ** 2 / margins
    return float(chi2.sf(statistic, 1))


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values, in the order given."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def merge_small(segments: dict[str, list[str]], population: Iterable[str],
                k: int) -> tuple[dict[str, list[str]], dict[str, int], set[str]]:
    """The segments of the respondents of ``population`` with those under ``k`` respondents
    merged into « Autres (moins de k répondants) »; their sizes; the suppressed ones."""
    people = list(population)
    sizes: dict[str, int] = {}
    for r in people:
        for s in segments.get(r, []):
            sizes[s] = sizes.get(s, 0) + 1
    other = f"Autres (moins de {k} répondants)"
    merged = {r: list(dict.fromkeys(s if sizes[s] >= k else other
                                    for s in segments.get(r, []))) for r in people}
    merged_sizes: dict[str, int] = {}
    for groups in merged.values():
        for s in groups:
            merged_sizes[s] = merged_sizes.get(s, 0) + 1
    suppressed = {s for s, n in merged_sizes.items() if n < k}
    return merged, merged_sizes, suppressed


def theme_segments(question: str, segments: dict[str, list[str]],
                   features: dict[str, set[Any]], rows_of: list[tuple[str, Any]],
                   k: int, natural: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per (row, segment) for one closed question.

    ``segments``: the segments of each respondent (closed.respondent_segments);
    ``features``: for each respondent of the population (those who answered the free
    question), the rows it belongs to, e.g. {("theme", 3), ("kind", "risque")};
    ``rows_of``: the rows to compute, in order, as (``"theme"`` or ``"kind"``, id);
    ``natural``: the segments' own order (a scale's thirds), else the biggest first.
    Rows: question, segment, row_type, cluster_id, kind, n_respondents, n_with, share,
    ci_low, ci_high, p_value, p_adjusted, significant, direction (+1 over, -1 under),
    suppressed.
    """
    merged, sizes, suppressed = merge_small(segments, features, k)
    rank = {s: i for i, s in enumerate(natural or [])}
    order = sorted(sizes, key=lambda s: (s in suppressed, s.startswith("Autres (moins de"),
                                         rank.get(s, len(rank)), -sizes[s], s))
    total = len(features)
    out: list[dict[str, Any]] = []
    for row_type, row_id in rows_of:
        key = (row_type, row_id)
        with_row = {r for r, f in features.items() if key in f}
        for segment in order:
            members = {r for r, groups in merged.items() if segment in groups}
            n, x = len(members), len(members & with_row)
            row = {"question": question, "segment": segment, "row_type": row_type,
                   "cluster_id": row_id if row_type == "theme" else None,
                   "kind": row_id if row_type == "kind" else None, "n_respondents": n,
                   "n_with": None, "share": None, "ci_low": None, "ci_high": None,
                   "p_value": None, "p_adjusted": None, "significant": False,
                   "direction": 0, "suppressed": segment in suppressed}
            if segment not in suppressed:
                low, high = wilson(x, n)
                rest_n, rest_x = total - n, len(with_row) - x
                rest_share = rest_x / rest_n if rest_n else x / n
                row.update(n_with=x, share=round(x / n, 4), ci_low=round(low, 4),
                           ci_high=round(high, 4),
                           p_value=chi2_2x2(x, n - x, rest_x, rest_n - rest_x) if rest_n else 1.0,
                           direction=(x / n > rest_share) - (x / n < rest_share))
            out.append(row)
    tested = [r for r in out if r["p_value"] is not None]
    for row, adjusted in zip(tested, benjamini_hochberg([r["p_value"] for r in tested])):
        row["p_adjusted"] = round(adjusted, 6)
        row["significant"] = adjusted < ALPHA
        row["p_value"] = round(row["p_value"], 6)
    return out
