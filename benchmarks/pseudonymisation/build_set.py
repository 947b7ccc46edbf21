"""Build eval_set.jsonl and holdout_set.jsonl from the hand-written markup files.

positives.txt holds sentences with gold spans marked ``[[TYPE|text]]``; lookalikes.txt holds
sentences that must come out unchanged; holdout.txt is the control set written after the
rules were frozen (a line without markup is a look-alike). Each JSONL line is
``{"id", "kind": "positive" | "lookalike", "text", "spans": [{"type", "start", "end"}]}``.

Run: .venv/bin/python benchmarks/pseudonymisation/build_set.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
from synthese.pseudonymise import ENTITY_TYPES

HERE = Path(__file__).resolve().parent
MARK = re.compile(r"\[\[([A-Z_]+)\|(.+?)\]\]")
TYPES = set(ENTITY_TYPES)


def parse_marked(line: str) -> tuple[str, list[dict]]:
    """Strip the markup from one line and return the plain text with its gold spans."""
    text, spans, pos = [], [], 0
    length = 0
    for match in MARK.finditer(line):
        before = line[pos : match.start()]
        text.append(before)
        length += len(before)
        kind, value = match.group(1), match.group(2)
        if kind not in TYPES:
            raise ValueError(f"unknown type {kind!r} in: {line}")
        spans.append({"type": kind, "start": length, "end": length + len(value)})
        text.append(value)
        length += len(value)
        pos = match.end()
    text.append(line[pos:])
    return "".join(text), spans


def read_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def build() -> list[dict]:
    rows = []
    for i, line in enumerate(read_lines(HERE / "positives.txt")):
        text, spans = parse_marked(line)
        rows.append({"id": f"p{i:03d}", "kind": "positive", "text": text, "spans": spans})
    for i, line in enumerate(read_lines(HERE / "lookalikes.txt")):
        if "[[" in line:
            raise ValueError(f"look-alike with markup: {line}")
        rows.append({"id": f"n{i:03d}", "kind": "lookalike", "text": line, "spans": []})
    return rows


def build_holdout() -> list[dict]:
    """The control set: lines with markup are positives, lines without are look-alikes."""
    rows = []
    for i, line in enumerate(read_lines(HERE / "holdout.txt")):
        text, spans = parse_marked(line)
        kind = "positive" if spans else "lookalike"
        rows.append({"id": f"h{i:03d}", "kind": kind, "text": text, "spans": spans})
    return rows


def write(rows: list[dict], out: Path) -> None:
    with out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} phrases écrites dans {out}")


if __name__ == "__main__":
    write(build(), HERE / "eval_set.jsonl")
    write(build_holdout(), HERE / "holdout_set.jsonl")
