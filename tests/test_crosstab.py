"""Themes by segment: Wilson intervals, chi-square tests, Benjamini–Hochberg flags and the
suppression of small groups, on a small example computed by hand."""

from __future__ import annotations

import pytest
from scipy.stats import chi2

from synthese.crosstab import benjamini_hochberg, chi2_2x2, merge_small, theme_segments, wilson
from synthese.storage import Store


def test_wilson_interval_matches_the_hand_computation() -> None:
    # p = 0.8, n = 10, z = 1.96: centre (0.8 + 0.19207) / 1.38415 = 0.71673,
    # half-width 1.96 / 1.38415 * sqrt(0.016 + 0.0096037) = 0.22658
    assert wilson(8, 10) == pytest.approx((0.49016, 0.94331), abs=5e-5)
    assert wilson(2, 10) == pytest.approx((0.05669, 0.50984), abs=5e-5)
    low, high = wilson(0, 25)  # never below 0, and not the empty interval of a naive Wald
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(0.13319, abs=5e-5)


def test_chi_square_with_yates_correction_by_hand() -> None:
    # [[8, 2], [2, 8]]: 20 * (|64 - 4| - 10)^2 / (10 * 10 * 10 * 10) = 5.0
    assert chi2_2x2(8, 2, 2, 8) == pytest.approx(chi2.sf(5.0, 1))
    assert chi2_2x2(8, 2, 2, 8) == pytest.approx(0.02535, abs=5e-5)
    assert chi2_2x2(5, 5, 0, 0) == 1.0  # nothing to compare with


def test_benjamini_hochberg_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04, 0.20 (m = 4): 0.04, 0.06, 0.0533, 0.20, made monotone
    adjusted = benjamini_hochberg([0.01, 0.04, 0.03, 0.20])
    assert adjusted == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])


def _example() -> tuple[dict, dict]:
    """24 respondents: A (10, 8 of them with the theme), B (10, 2 with it), C (3) and D (1)."""
    segments, features = {}, {}
    for i in range(24):
        r = f"R{i:02d}"
        segment = "A" if i < 10 else "B" if i < 20 else "C" if i < 23 else "D"
        segments[r] = [segment]
        theme = (segment == "A" and i < 8) or (segment == "B" and i < 12)
        features[r] = {("theme", 0)} if theme else set()
    return segments, features


def test_small_groups_are_merged_then_suppressed() -> None:
    segments, features = _example()
    merged, sizes, suppressed = merge_small(segments, features, k=5)
    assert sizes == {"A": 10, "B": 10, "Autres (moins de 5 répondants)": 4}
    assert suppressed == {"Autres (moins de 5 répondants)"}
    assert merged["R23"] == ["Autres (moins de 5 répondants)"]


def test_theme_segments_by_hand() -> None:
    segments, features = _example()
    rows = theme_segments("degre", segments, features, [("theme", 0)], k=5)
    by_segment = {r["segment"]: r for r in rows}
    a, b = by_segment["A"], by_segment["B"]
    other = by_segment["Autres (moins de 5 répondants)"]
    assert (a["n_respondents"], a["n_with"], a["share"]) == (10, 8, 0.8)
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    # A against the 14 others: [[8, 2], [2, 12]]: 24 * (|96 - 4| - 12)^2 / (10*14*10*14)
    assert a["p_value"] == pytest.approx(chi2.sf(24 * 80**2 / 19600, 1), abs=1e-6)
    # B against the 14 others: [[2, 8], [8, 6]]: 24 * (|12 - 64| - 12)^2 / 19600
    assert b["p_value"] == pytest.approx(chi2.sf(24 * 40**2 / 19600, 1), abs=1e-6)
    # Benjamini–Hochberg over the two tests: A's p doubled, B's unchanged
    assert a["p_adjusted"] == pytest.approx(2 * a["p_value"], abs=5e-6)
    assert b["p_adjusted"] == pytest.approx(b["p_value"], abs=1e-6)
    assert a["significant"] and a["direction"] == 1
    assert not b["significant"] and b["direction"] == -1
    # the merged group of 4 respondents shows nothing and is not tested
    assert other["suppressed"] and other["share"] is None and other["p_value"] is None
    assert other["ci_low"] is None and not other["significant"]


def test_a_multiple_choice_respondent_counts_in_each_segment() -> None:
    segments = {f"R{i}": (["a", "b"] if i < 6 else ["a"]) for i in range(12)}
    features = {r: {("kind", "risque")} if int(r[1:]) % 2 else set() for r in segments}
    rows = theme_segments("q", segments, features, [("kind", "risque")], k=5)
    sizes = {r["segment"]: r["n_respondents"] for r in rows}
    assert sizes == {"a": 12, "b": 6}
    assert all(r["kind"] == "risque" and r["cluster_id"] is None for r in rows)


def test_marts_theme_segments_leave_out_the_suppressed_groups(tmp_path) -> None:
    segments, features = _example()
    rows = theme_segments("degre", segments, features, [("theme", 0)], k=5)
    with Store(tmp_path / "s.duckdb") as store:
        store.write_theme_segments("run-1", rows)
        store.refresh_marts()
        mart = store.query("SELECT * FROM marts.theme_segments ORDER BY segment")
    assert list(mart["segment"]) == ["A", "B"]
    assert list(mart["significant"]) == [True, False]
    assert {"run_id", "cluster_id", "question", "segment", "n_respondents", "share", "ci_low",
            "ci_high", "significant"} <= set(mart.columns)
