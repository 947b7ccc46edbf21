"""Agreement of the ideas' kinds with segments of the demo labelled by hand.

    # the rules of kinds.py, on each labelled segment's text (no model, no database)
    PYTHONPATH=src .venv/bin/python benchmarks/kind_agreement.py rules \\
        benchmarks/labels/demo_segment_kinds.csv benchmarks/labels/demo_segment_kinds_holdout.csv
    # the kinds a finished run stored, for the ideas resting on each labelled segment
    PYTHONPATH=src .venv/bin/python benchmarks/kind_agreement.py run DB \\
        benchmarks/labels/demo_segment_kinds_holdout.csv

A label file has the columns answer_id, segment (the number segments.split_segments gives),
text and label (one of extract.KINDS). benchmarks/labels/README.md says how they were made;
the holdout file was never used to write the rules.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthese.extract import KINDS
from synthese.kinds import kind_of


def read_labels(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["label"]]
    bad = sorted({r["label"] for r in rows} - set(KINDS))
    if bad:
        raise SystemExit(f"{path} : étiquettes inconnues {bad}")
    return rows


def table(name: str, pairs: list[tuple[str, str]]) -> None:
    agree = sum(a == b for a, b in pairs)
    majority = Counter(a for a, _ in pairs).most_common(1)[0]
    print(f"\n{name} : {len(pairs)} segments ; accord {agree}/{len(pairs)} = "
          f"{agree / len(pairs):.1%} (toujours « {majority[0]} » : {majority[1] / len(pairs):.1%})")
    print("\n| étiquette \\ prédit | " + " | ".join(KINDS) + " |")
    print("|---|" + "---:|" * len(KINDS))
    counts = Counter(pairs)
    for label in KINDS:
        print(f"| {label} | " + " | ".join(str(counts[(label, k)]) for k in KINDS) + " |")


def stored_kinds(db: Path) -> dict[tuple[str, int], str]:
    """For each (answer id, segment) of the latest completed run, the kind of the first idea
    resting on it."""
    from synthese.storage import Store

    store = Store(db, read_only=True)
    run = store.query("SELECT run_id FROM core.runs WHERE status = 'completed' "
                      "ORDER BY finished_at DESC LIMIT 1")["run_id"].iloc[0]
    rows = store.query("SELECT answer_id, segments, kind FROM marts.trace WHERE run_id = ? "
                       "ORDER BY answer_id, argument_id", [run])
    store.close()
    found: dict[tuple[str, int], str] = {}
    for r in rows.itertuples(index=False):
        for number in list(r.segments if r.segments is not None else []):
            found.setdefault((r.answer_id, int(number)), r.kind)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rules")
    r.add_argument("labels", type=Path, nargs="+")
    s = sub.add_parser("run")
    s.add_argument("db", type=Path)
    s.add_argument("labels", type=Path, nargs="+")
    args = parser.parse_args(argv)
    kinds = stored_kinds(args.db) if args.command == "run" else None
    for path in args.labels:
        rows = read_labels(path)
        if kinds is None:
            pairs = [(r["label"], kind_of(r["text"])) for r in rows]
        else:
            pairs = [(r["label"], kinds[(r["answer_id"], int(r["segment"]))]) for r in rows
                     if (r["answer_id"], int(r["segment"])) in kinds]
        table(path.name, pairs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
