"""A digest of every marts view, to prove that a refactoring changed nothing a user sees.

Run ids, dates and durations differ from run to run and are left out; rows are sorted.
Float columns (similarities, support scores) differ by 1e-7 between machines (BLAS and
numba pick other kernels), so they are left out of the hash and kept as per-column sums,
compared with a tolerance. What is left is what an analyst reads in DuckDB, and it must not
move when the code is reorganised.

    .venv/bin/python tests/marts_digest.py --update   # rewrite tests/digests/demo_fake.json

The stored digest changes only with a deliberate change of behaviour, in its own commit.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
STORED = HERE / "digests" / "demo_fake.json"
# Columns that name or time one run, not what it found.
VOLATILE = {"run_id", "started_at", "finished_at", "created_at", "report_path", "timings",
            "respondent_label",  # keyed by a secret drawn for each database
            # measured on this machine (energy.py): seconds, kWh, and how codecarbon measured
            "seconds", "energy_kwh", "cpu_kwh", "ram_kwh", "gpu_kwh", "energy_method",
            "kwh_per_1000_answers", "seconds_per_1000_answers"}
# Inside the JSON columns of marts.runs: seconds measured, not computed.
VOLATILE_KEYS = {"seconds", "duration_s"}


def _clean(value):
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _clean(json.loads(value))
        except json.JSONDecodeError:
            return value
    return value


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def marts_digest(db: str | Path, run_id: str | None = None) -> dict[str, dict]:
    """{view: {"rows": n, "columns": [...], "sha256": ...}} for every view of ``marts``;
    with ``run_id``, the views that have a run_id column show that run only."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        views = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "ORDER BY table_name").fetchall()]
        out = {}
        for view in views:
            has_run = con.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'marts' "
                "AND table_name = ? AND column_name = 'run_id'", [view]).fetchone()[0]
            where = " WHERE run_id = ?" if run_id and has_run else ""
            cursor = con.execute(f'SELECT * FROM marts."{view}"{where}',
                                 [run_id] if where else [])
            columns = [d[0] for d in cursor.description]
            kept = [i for i, c in enumerate(columns) if c not in VOLATILE]
            fetched = cursor.fetchall()
            floats = {columns[i]: [row[i] for row in fetched if isinstance(row[i], float)
                                   and not math.isnan(row[i])] for i in kept}
            floats = {c: round(sum(v), 4) for c, v in floats.items() if v}
            rows = sorted(
                _canonical([None if columns[i] in floats else _clean(row[i]) for i in kept])
                for row in fetched
            )
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            out[view] = {"rows": len(rows), "columns": [columns[i] for i in kept],
                         "sha256": digest, "float_sums": floats}
        return out
    finally:
        con.close()


def run_costs_blanked(html: str) -> str:
    """The report with what this run measured blanked: its energy, how it was measured (it
    depends on the machine), and its cost for 1,000 answers (a resumed run made fewer calls)."""
    html = re.sub(r"\d+(,\d+)?&nbsp;kWh", "N kWh", html)
    html = re.sub(r"<dt>Pour 1&nbsp;000 réponses</dt><dd>.*?</dd>", "PER1000", html)
    return re.sub(r'<p class="note-energie">.*?</p>', "NOTE", html, flags=re.DOTALL)


def report_digest(html: str) -> str:
    """The report with run ids, dates and durations blanked, hashed."""
    html = re.sub(r"\d{8}-\d{6}-[0-9a-f]{6}", "RUN", html)
    html = re.sub(r"\bR-[0-9a-f]{8}\b", "R-LABEL", html)  # respondent labels: a secret each
    html = re.sub(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?", "DATE", html)
    html = re.sub(r"\d{1,2} \w+ \d{4}( à \d{1,2} h \d{2})?", "DATE", html)
    html = re.sub(r"(\d+\s*min\s*)?\d+([.,]\d+)?(\s|&nbsp;| )*s\b", "N s", html)
    html = run_costs_blanked(html)
    return hashlib.sha256(html.encode()).hexdigest()


def demo_run(tmp: Path):
    """The demo consultation through every stage with the fake LLM and embedder."""
    sys.path.insert(0, str(HERE))
    from conftest import DEMO
    from fakes import FakeEmbedder, FakeLLM

    from synthese.config import Settings
    from synthese.runner import run_all

    settings = Settings(export=DEMO, questions=("q_usage_ia",), id_column="id_reponse",
                        db=tmp / "demo.duckdb", out=tmp / "reports")
    row = run_all(settings, llm=FakeLLM(), embedder=FakeEmbedder(), log=lambda m: None,
                  progress=False)
    return settings.db, Path(row["report_path"])


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        db, report = demo_run(Path(tmp))
        digest = {"marts": marts_digest(db), "report": report_digest(report.read_text("utf-8"))}
    text = json.dumps(digest, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if "--update" in sys.argv:
        STORED.parent.mkdir(exist_ok=True)
        STORED.write_text(text, encoding="utf-8")
    print(text)
