"""Agreement of the ideas' kinds with segments of the demo labelled by hand.

    # the rules of kinds.py, on each labelled segment's text (no model, no database)
    PYTHONPATH=src .venv/bin/python benchmarks/kind_agreement.py rules \\
        benchmarks/labels/demo_segment_kinds.csv benchmarks/labels/demo_segment_kinds_holdout.csv
    # the same, then each observation in its answer (kinds.kind_in_context), the answers'
    # texts read from a finished demo run (no model)
    PYTHONPATH=src .venv/bin/python benchmarks/kind_agreement.py rules --answers DB \\
        benchmarks/labels/demo_segment_kinds_holdout2.csv
    # the kinds a finished run stored, for the ideas resting on each labelled segment, on
    # the blind holdout (holdout2: on demo_segment_kinds_holdout.csv, which the rules were
    # extended on, a run of rules v4 scored 75.6 % where the blind figure was 63.3 %)
    PYTHONPATH=src .venv/bin/python benchmarks/kind_agreement.py run DB \\
        benchmarks/labels/demo_segment_kinds_holdout2.csv
    # a classifier learnt on the labels (logistic regression on the embedder's vectors),
    # scored on the blind holdout and, out of the demo, on an-egalite-dev's human types
    PYTHONPATH=src .venv/bin/python benchmarks/kind_agreement.py classifier

A label file has the columns answer_id, segment (the number segments.split_segments gives),
text and label (one of extract.KINDS). benchmarks/labels/README.md says how they were made;
demo_segment_kinds_holdout2.csv was never used to write the rules (the file named
« holdout » without a number became a second development set).
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
from synthese.kinds import kind_in_context, kind_of


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


def latest_trace(db: Path):
    """The ideas of the latest completed run (``marts.trace``), by answer, in order."""
    from synthese.storage import Store

    store = Store(db, read_only=True)
    run = store.query("SELECT run_id FROM core.runs WHERE status = 'completed' "
                      "ORDER BY finished_at DESC LIMIT 1")["run_id"].iloc[0]
    rows = store.query("SELECT answer_id, answer_text, segments, kind FROM marts.trace "
                       "WHERE run_id = ? ORDER BY answer_id, argument_id", [run])
    store.close()
    return rows


def stored_kinds(db: Path) -> dict[tuple[str, int], str]:
    """For each (answer id, segment) of the latest completed run, the kind of the first idea
    resting on it."""
    rows = latest_trace(db)
    found: dict[tuple[str, int], str] = {}
    for r in rows.itertuples(index=False):
        for number in list(r.segments if r.segments is not None else []):
            found.setdefault((r.answer_id, int(number)), r.kind)
    return found


def answer_segments(db: Path) -> dict[str, dict[int, str]]:
    """The content segments of each answer of the latest completed run, by number."""
    from synthese.segments import split_segments

    rows = latest_trace(db).drop_duplicates("answer_id")
    return {r.answer_id: {s.number: s.text for s in split_segments(r.answer_text) if s.content}
            for r in rows.itertuples(index=False)}


def rule_kind(row: dict, answers: dict[str, dict[int, str]] | None) -> str:
    """The rules' kind of a labelled segment, in its answer when the answers are given."""
    if answers is None:
        return kind_of(row["text"])
    if row["answer_id"] not in answers:
        raise SystemExit(f"réponse {row['answer_id']} absente de la base : est-ce une base "
                         "de la démo ?")
    own, n = answers[row["answer_id"]], int(row["segment"])
    return kind_in_context(row["text"], own.get(n - 1), own.get(n + 1))


LABELS = REPO / "benchmarks" / "labels"
TRAIN = ("demo_segment_kinds.csv", "demo_segment_kinds_holdout.csv",
         "demo_segment_kinds_train3.csv")
BLIND = "demo_segment_kinds_holdout2.csv"
AN_EGALITE = REPO.parent / "shared" / "data" / "an-egalite-dev" / "arguments.csv"


def classifier(embedder_name: str | None) -> None:
    """Would a classifier learnt from hand labels beat the rules? Learnt on the three
    labelled files except the segments that are near-copies of a blind holdout segment (the
    demo repeats answers), scored on the blind holdout (in the demo) and on the human
    arguments of an-egalite-dev typed by volunteers (another consultation)."""
    import re

    import numpy as np
    import pandas as pd
    from rapidfuzz import fuzz
    from sklearn.linear_model import LogisticRegression

    from synthese.embed import make_embedder
    from synthese.evaluate import TYPE_KINDS

    def fold(text: str) -> str:
        return " ".join(re.findall(r"\w+", text.lower()))

    blind = read_labels(LABELS / BLIND)
    folded = [fold(r["text"]) for r in blind]
    rows = [r for name in TRAIN for r in read_labels(LABELS / name)]
    train = [r for r in rows if max(fuzz.ratio(fold(r["text"]), b) for b in folded) < 90]
    embedder = make_embedder(embedder_name)
    model = LogisticRegression(C=3.0, max_iter=4000).fit(
        embedder.embed([r["text"] for r in train]), [r["label"] for r in train])
    print(f"Appris sur {len(train)} segments étiquetés ({len(rows) - len(train)} quasi-copies "
          f"de segments du jeu aveugle écartées) ; modèle de vectorisation : {embedder.name}.")
    predicted = model.predict(embedder.embed([r["text"] for r in blind]))
    table(f"{BLIND}, classifieur", [(r["label"], p) for r, p in zip(blind, predicted)])
    table(f"{BLIND}, règles", [(r["label"], kind_of(r["text"])) for r in blind])
    gold = pd.read_csv(AN_EGALITE, dtype=str, keep_default_na=False)
    gold = gold[gold["argument_type"].isin(TYPE_KINDS)]
    texts, types = list(gold["argument"]), list(gold["argument_type"])
    for name, kinds in (("règles", [kind_of(t) for t in texts]),
                        ("classifieur", list(model.predict(embedder.embed(texts))))):
        agree = np.mean([k in TYPE_KINDS[t] for k, t in zip(kinds, types)])
        print(f"\nan-egalite-dev, {len(texts)} arguments humains typés, {name} : accord "
              f"{agree:.1%} ; types donnés : {dict(Counter(kinds).most_common())}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rules")
    r.add_argument("labels", type=Path, nargs="+")
    r.add_argument("--answers", type=Path, default=None,
                   help="a finished demo run's database: each segment in its answer")
    s = sub.add_parser("run")
    s.add_argument("db", type=Path)
    s.add_argument("labels", type=Path, nargs="+")
    c = sub.add_parser("classifier")
    c.add_argument("--embedder", default=None)
    args = parser.parse_args(argv)
    if args.command == "classifier":
        classifier(args.embedder)
        return 0
    kinds = stored_kinds(args.db) if args.command == "run" else None
    answers = answer_segments(args.answers) if args.command == "rules" and args.answers else None
    for path in args.labels:
        rows = read_labels(path)
        if kinds is None:
            pairs = [(r["label"], rule_kind(r, answers)) for r in rows]
        else:
            pairs = [(r["label"], kinds[(r["answer_id"], int(r["segment"]))]) for r in rows
                     if (r["answer_id"], int(r["segment"])) in kinds]
        table(path.name, pairs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
