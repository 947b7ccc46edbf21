"""How fast, and in how many lines, does ``synthese run`` refuse bad input? (issue 16)

Every bad export of tests/bad_inputs.py, every refused option, and the --out/--db cases,
each run as a real process against a database that holds one completed run:

    flock /tmp/synthese-cpu.lock .venv/bin/python benchmarks/bad_input.py [--out docs/...]

Reported per case: exit code, lines on stderr, wall-clock seconds, and whether the database
is unchanged. Timings include Python's start and imports; the load average is printed
because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]

from bad_inputs import BAD_EXPORTS, BAD_OPTIONS
from runs import run as run_fake
from test_cli import GOOD, digest


def case_runs(tmp: Path, db: Path) -> list[tuple[str, list[str]]]:
    """(case id, arguments after ``synthese run``) for every case."""
    good = tmp / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    cases = []
    for case in BAD_EXPORTS:
        folder = tmp / case.id
        folder.mkdir()
        path = case.write(folder)
        cases.append((case.id, [str(path), "--question", case.question, "--db", str(db)]
                      + (["--id-column", case.id_column] if case.id_column else [])))
    for name, options, _ in BAD_OPTIONS:
        cases.append((name, [str(good), "--question", "avis", "--db", str(db), *options]))
    (tmp / "report.html").write_text("x", encoding="utf-8")
    cases.append(("out-is-a-file", [str(good), "--question", "avis", "--db", str(db),
                                    "--out", str(tmp / "report.html")]))
    (tmp / "dbdir").mkdir()
    cases.append(("db-is-a-folder", [str(good), "--question", "avis", "--db", str(tmp / "dbdir")]))
    (tmp / "notes.duckdb").write_text("pas une base", encoding="utf-8")
    cases.append(("db-not-duckdb", [str(good), "--question", "avis", "--db",
                                    str(tmp / "notes.duckdb")]))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the markdown table here too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "stored").mkdir()
        export = tmp / "stored" / "export.csv"
        export.write_text(GOOD, encoding="utf-8")
        db = run_fake(export, tmp / "stored", questions=("avis",)).settings.db
        before = digest(db)
        rows, load = [], os.getloadavg()[0]
        for name, arguments in case_runs(tmp, db):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "synthese.cli", "run", *arguments],
                                  capture_output=True, text=True, cwd=tmp, check=False)
            seconds = time.perf_counter() - started
            rows.append((name, done.returncode, len(done.stderr.splitlines()), seconds,
                         digest(db) == before))
    lines = [f"Load average at start: {load:.1f} (2 cores).", "",
             "| case | exit code | stderr lines | seconds | database unchanged |",
             "|---|---:|---:|---:|---|"]
    lines += [f"| {n} | {rc} | {k} | {s:.2f} | {'yes' if same else 'NO'} |"
              for n, rc, k, s, same in rows]
    seconds = sorted(r[3] for r in rows)
    lines += ["", (f"{len(rows)} cases: median {seconds[len(seconds) // 2]:.2f} s, "
              f"slowest {seconds[-1]:.2f} s.")]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
