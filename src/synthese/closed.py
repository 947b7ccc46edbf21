"""Closed questions: which metadata columns are closed, and what their « Extrait » box shows.

A closed question is a column of the export that is not a free-text question: a level of
school, an académie, « formé à l'IA ? », a score from 0 to 10. It is shown the way the
IGÉSR report shows one (Annexe 5): « Extrait N — question — N répondants à la question
pour M répondants au questionnaire », then the counts as a chart.

The rule (docs/closed-questions.md):
- a column named with ``--closed`` is closed, unless it has more than ``CLOSED_MAX_VALUES``
  distinct values: it is then not charted, and the report says it is treated as free text
  or an identifier;
- any other metadata column is closed when it has between 2 and ``CLOSED_MAX_VALUES``
  distinct values and at most half as many distinct values as filled cells (a free-text
  column of a small export has nearly one value per cell);
- a cell « a ; b » holds two choices (a multiple-choice question), each counted;
- a column whose every value is a number is a scale (histogram, mean and median).

Pure: rows in, plain dicts out.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from typing import Any

# More distinct values than this and a column is not a closed question (free text, dates,
# ids): it is not charted, and the workbook leaves it out.
CLOSED_MAX_VALUES = 40
CHOICE_SEPARATOR = ";"
MISSING = "Non renseigné"


@dataclass(frozen=True)
class ClosedColumn:
    """A closed column: the choices of each respondent (empty when not answered)."""

    column: str
    kind: str  # "categories", "multiple" (cells « a ; b ») or "scale" (numbers)
    choices: dict[str, list[str]]  # respondent id -> choices
    named: bool  # given with --closed

    def answered(self) -> set[str]:
        return {r for r, c in self.choices.items() if c}


def choices_of(cell: Any) -> list[str]:
    """The choices of one cell: « a ; b » is two choices; an empty cell none."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return []
    parts = (p.strip() for p in str(cell).split(CHOICE_SEPARATOR))
    return list(dict.fromkeys(p for p in parts if p))


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except ValueError:
        return None
    return None if math.isnan(value) else value


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}".replace(".", ",")


def closed_columns(respondents: list[tuple[str, dict[str, Any]]], named: tuple[str, ...] = ()
                   ) -> tuple[list[ClosedColumn], list[dict[str, Any]]]:
    """The closed columns of the respondents' metadata (``(respondent_id, metadata)``), in
    the export's order, and the columns left out with the reason (``column``, ``n_values``,
    ``named``): those with too many distinct values to be a closed question."""
    columns: list[str] = list(dict.fromkeys(c for _, meta in respondents for c in meta))
    closed, left_out = [], []
    for column in columns:
        choices = {rid: choices_of(meta.get(column)) for rid, meta in respondents}
        distinct = {c for cs in choices.values() for c in cs}
        filled = sum(bool(cs) for cs in choices.values())
        is_named = column in named
        if len(distinct) > CLOSED_MAX_VALUES or (
                not is_named and len(distinct) > max(2, filled // 2)):
            left_out.append({"column": column, "n_values": len(distinct), "named": is_named})
            continue
        if len(distinct) < 2 and not is_named:
            continue  # one value for everyone says nothing
        multiple = any(len(cs) > 1 for cs in choices.values())
        numbers = [_number(c) for c in distinct]
        kind = ("multiple" if multiple else
                "scale" if distinct and all(n is not None for n in numbers) and len(distinct) > 2
                else "categories")
        closed.append(ClosedColumn(column, kind, choices, is_named))
    return closed, left_out


def parse_metadata(rows: list[tuple[str, str | dict]]) -> list[tuple[str, dict[str, Any]]]:
    """``(respondent_id, metadata as JSON or dict)`` -> ``(respondent_id, dict)``."""
    return [(rid, json.loads(m) if isinstance(m, str) else dict(m or {})) for rid, m in rows]


def extract_box(closed: ClosedColumn, n_total: int, k: int, number: int) -> dict[str, Any]:
    """What the « Extrait » box of a closed column shows: the counts by choice (small
    groups merged, as in the respondents' profile) or the histogram of a scale."""
    answered = closed.answered()
    counts: dict[str, int] = {}
    for cs in closed.choices.values():
        for c in cs:
            counts[c] = counts.get(c, 0) + 1
    box: dict[str, Any] = {"number": number, "column": closed.column, "kind": closed.kind,
                           "n_answered": len(answered), "n_total": n_total, "k": k,
                           "multiple": closed.kind == "multiple"}
    if closed.kind == "scale":
        values = [_number(c) for cs in closed.choices.values() for c in cs]
        values = [v for v in values if v is not None]
        box["bins"] = scale_bins(values)
        box["mean"] = round(statistics.fmean(values), 2) if values else None
        box["median"] = statistics.median(values) if values else None
        return box
    other = f"Autres (moins de {k} répondants)"
    bars: dict[str, int] = {}
    for choice, n in counts.items():
        label = choice if n >= k else other
        bars[label] = bars.get(label, 0) + n
    # Largest first, ties by name, « Autres » last: the same data gives the same report.
    ordered = sorted(((g, n) for g, n in bars.items() if g != other), key=lambda kv: (-kv[1], kv[0]))
    if other in bars:
        ordered.append((other, bars[other]))
    denominator = len(answered) or 1
    box["bars"] = [{"label": g, "n": None if n < k else n,
                    "share": None if n < k else round(n / denominator, 4)}
                   for g, n in ordered]
    return box


def scale_bins(values: list[float]) -> list[dict[str, Any]]:
    """One bar per integer value of a small integer scale (0 to 10: eleven bars, the empty
    ones included), else ten bins of equal width."""
    if not values:
        return []
    low, high = min(values), max(values)
    if all(float(v).is_integer() for v in values) and high - low <= CLOSED_MAX_VALUES:
        return [{"label": _format_number(x), "low": x, "high": x,
                 "n": sum(v == x for v in values)} for x in range(int(low), int(high) + 1)]
    width = (high - low) / 10 or 1.0
    bins = []
    for i in range(10):
        lo, hi = low + i * width, low + (i + 1) * width
        n = sum(lo <= v < hi or (i == 9 and v == hi) for v in values)
        bins.append({"label": f"{_format_number(round(lo, 2))}–{_format_number(round(hi, 2))}",
                     "low": lo, "high": hi, "n": n})
    return bins


def scale_segments(values: list[float]) -> list[tuple[str, float, float]]:
    """The three groups a scale is split into for the themes by segment: low, middle, high
    thirds of its range (« 0 à 3 », « 4 à 6 », « 7 à 10 » for 0 to 10)."""
    low, high = min(values), max(values)
    if all(float(v).is_integer() for v in values):
        span = int(high - low) + 1
        cuts = [int(low) + round(span * i / 3) for i in range(4)]
        return [(f"{cuts[i]} à {cuts[i + 1] - 1}" if cuts[i + 1] - 1 > cuts[i] else f"{cuts[i]}",
                 cuts[i], cuts[i + 1] - 1) for i in range(3) if cuts[i + 1] > cuts[i]]
    step = (high - low) / 3
    edges = [low + step * i for i in range(4)]
    return [(f"{_format_number(round(edges[i], 2))} à {_format_number(round(edges[i + 1], 2))}",
             edges[i], edges[i + 1]) for i in range(3)]


def segment_order(closed: ClosedColumn) -> list[str] | None:
    """The natural order of a scale's segments (low to high third); None for categories."""
    if closed.kind != "scale":
        return None
    values = [v for cs in closed.choices.values() for v in (_number(c) for c in cs)
              if v is not None]
    return [label for label, _, _ in scale_segments(values)] if values else None


def respondent_segments(closed: ClosedColumn) -> dict[str, list[str]]:
    """The segments of each respondent for the themes by segment: its choices (categories,
    multiple choice), or its third of a scale; « Non renseigné » when it gave none."""
    if closed.kind != "scale":
        return {r: list(cs) or [MISSING] for r, cs in closed.choices.items()}
    numbers = {r: [v for v in (_number(c) for c in cs) if v is not None]
               for r, cs in closed.choices.items()}
    values = [v for vs in numbers.values() for v in vs]
    if not values:
        return {r: [MISSING] for r in closed.choices}
    groups = scale_segments(values)
    out: dict[str, list[str]] = {}
    for r, vs in numbers.items():
        out[r] = [next(label for label, lo, hi in groups if v <= hi or (label, lo, hi) == groups[-1])
                  for v in vs[:1]] or [MISSING]
    return out
