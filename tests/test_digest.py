"""The demo through every stage with the fake LLM gives the stored marts and report.

This is the guard of refactorings: what an analyst reads in DuckDB and what a reader
sees in the report must not move when the code is reorganised. A deliberate change of
behaviour updates tests/digests/demo_fake.json in its own commit
(``.venv/bin/python tests/marts_digest.py --update``) and says why.
"""

from __future__ import annotations

import json

import pytest
from marts_digest import STORED, demo_run, marts_digest, report_digest

pytestmark = pytest.mark.slow


def test_demo_marts_and_report_match_the_stored_digest(tmp_path):
    stored = json.loads(STORED.read_text("utf-8"))
    db, report = demo_run(tmp_path)
    found = marts_digest(db)

    assert sorted(found) == sorted(stored["marts"])
    for view, expected in stored["marts"].items():
        got = found[view]
        assert (got["rows"], got["columns"]) == (expected["rows"], expected["columns"]), view
        assert got["sha256"] == expected["sha256"], view
        assert got["float_sums"] == pytest.approx(expected["float_sums"], abs=1e-3), view
    assert report_digest(report.read_text("utf-8")) == stored["report"]
