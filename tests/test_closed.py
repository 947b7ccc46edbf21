"""Closed questions: which columns are closed, multiple choices, scales, and the boxes."""

from __future__ import annotations

import pytest

from synthese.closed import (
    CLOSED_MAX_VALUES,
    choices_of,
    closed_columns,
    extract_box,
    respondent_segments,
)


def _respondents(n: int = 60) -> list[tuple[str, dict]]:
    out = []
    for i in range(n):
        out.append((f"R{i:03d}", {
            "degre": "1er degré" if i % 3 == 0 else "2nd degré",
            "ressenti": str(i % 11) if i % 10 else None,
            "outils": "ChatGPT ; Mistral" if i % 4 == 0 else "ChatGPT" if i % 4 == 1 else "",
            "date": f"2025-03-{i % 28 + 1:02d} 10:{i:02d}",
            "code": f"X{i:04d}",
        }))
    return out


def test_columns_with_few_values_are_closed_and_the_others_left_out() -> None:
    closed, left_out = closed_columns(_respondents())
    kinds = {c.column: c.kind for c in closed}
    assert kinds == {"degre": "categories", "ressenti": "scale", "outils": "multiple"}
    assert {c["column"] for c in left_out} == {"date", "code"}


def test_a_named_column_with_too_many_values_is_not_charted_and_says_so() -> None:
    respondents = [(f"R{i}", {"matricule": f"M{i:05d}"}) for i in range(500)]
    closed, left_out = closed_columns(respondents, named=("matricule",))
    assert closed == []
    assert left_out == [{"column": "matricule", "n_values": 500, "named": True}]
    assert 500 > CLOSED_MAX_VALUES


def test_multiple_choices_are_counted_per_choice() -> None:
    assert choices_of("ChatGPT ; Mistral;  ") == ["ChatGPT", "Mistral"]
    assert choices_of(None) == [] and choices_of(float("nan")) == []
    closed, _ = closed_columns(_respondents())
    outils = next(c for c in closed if c.column == "outils")
    box = extract_box(outils, n_total=60, k=5, number=3)
    assert box["n_answered"] == 30  # 15 with two choices, 15 with one
    assert {b["label"]: b["n"] for b in box["bars"]} == {"ChatGPT": 30, "Mistral": 15}
    assert box["multiple"]


def test_categories_box_gives_n_of_m_and_merges_small_groups() -> None:
    respondents = [(f"R{i}", {"academie": "Lyon" if i < 12 else "Lille" if i < 20
                              else "Mayotte" if i < 21 else None}) for i in range(25)]
    closed, _ = closed_columns(respondents, named=("academie",))
    box = extract_box(closed[0], n_total=25, k=10, number=1)
    assert (box["n_answered"], box["n_total"]) == (21, 25)
    assert box["bars"][0] == {"label": "Lyon", "n": 12, "share": round(12 / 21, 4)}
    # Lille (8) and Mayotte (1) merged: 9, still under k, so its count is not shown
    assert box["bars"][1] == {"label": "Autres (moins de 10 répondants)", "n": None,
                              "share": None}


def test_a_scale_gets_a_histogram_with_mean_and_median() -> None:
    respondents = [(f"R{i}", {"ressenti": v}) for i, v in enumerate(["0", "3", "3", "7", "10"])]
    closed, _ = closed_columns(respondents, named=("ressenti",))
    box = extract_box(closed[0], n_total=5, k=10, number=1)
    assert [b["n"] for b in box["bins"]] == [1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1]
    assert box["mean"] == pytest.approx(4.6) and box["median"] == 3
    segments = respondent_segments(closed[0])
    assert segments == {"R0": ["0 à 3"], "R1": ["0 à 3"], "R2": ["0 à 3"], "R3": ["7 à 10"],
                        "R4": ["7 à 10"]}


def test_a_scale_keeps_its_thirds_in_order_in_the_themes_by_segment() -> None:
    from synthese.closed import segment_order
    from synthese.crosstab import theme_segments

    respondents = [(f"R{i}", {"ressenti": str(v)}) for i, v in
                   enumerate([0, 1, 5, 5, 5, 5, 6, 9, 9, 10, 2, 4, 4, 6, 8])]
    closed, _ = closed_columns(respondents, named=("ressenti",))
    features = {r: set() for r, _ in respondents}
    rows = theme_segments("ressenti", respondent_segments(closed[0]), features,
                          [("kind", "risque")], 1, segment_order(closed[0]))
    assert [r["segment"] for r in rows] == ["0 à 3", "4 à 6", "7 à 10"]
