"""Prompt injection, measured (issue 16, item 6; results in docs/robustness.md).

1. ``scan``: the detector (synthese.injection) over every free text of ../shared/data and of
   the demo, and over the 24 planted answers of tests/injections.py: how many it flags.
2. ``run``: the demo's first 40 answers with the 24 planted ones spread among them, through
   every stage with a real model (the embedded one by default, synthesis « composee » so
   that the model writes sentences), then the same consultation with the containment
   switched off (the control), each on a new database. For each: answers flagged, model
   calls, and which planted claims reach a title, a summary or the synthesis.

    .venv/bin/python benchmarks/injection.py scan
    .venv/bin/python benchmarks/injection.py run [--model qwen2.5-coder-0.5b] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
SHARED = ROOT.parent / "shared" / "data"
DEMO = ROOT / "data" / "raw" / "demo_enseignants_ia.csv"

from injections import INJECTIONS

from synthese.ingest import read_export
from synthese.injection import injection_marks


def _texts() -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for f in sorted(glob.glob(str(SHARED / "grand-debat-mel" / "**" / "*.csv"), recursive=True)):
        frame = read_export(f).frame
        for c in frame.columns:
            values = frame[c].dropna().astype(str)
            if len(values) and values.str.len().mean() > 60:  # the free-text columns
                texts += [("grand-debat", t) for t in values]
    an = pd.read_csv(SHARED / "an-egalite-dev" / "arguments.csv", dtype=str)
    texts += [("an-egalite", t) for t in an["text"].dropna().unique()]
    with open(SHARED / "cahiers-doleances-17" / "contributions.jsonl", encoding="utf-8") as f:
        texts += [("cahiers", json.loads(line)["text"]) for line in f]
    for f in sorted(glob.glob(str(SHARED / "polis" / "*" / "comments.csv"))):
        frame = read_export(f).frame
        column = "comment-body" if "comment-body" in frame else frame.columns[-1]
        texts += [("polis", t) for t in frame[column].dropna()]
    demo = read_export(DEMO).frame
    texts += [("demo", t) for t in demo["q_usage_ia"].dropna()]
    return texts


def scan() -> None:
    texts = _texts()
    flagged = [(source, injection_marks(t), t) for source, t in texts if injection_marks(t)]
    by_source = pd.Series([s for s, _ in texts]).value_counts().to_dict()
    print(f"real texts: {len(texts)} {by_source}; flagged: {len(flagged)}")
    for source, marks, text in flagged:
        print(f"  {source}: {marks} | {text[:160]!r}")
    planted = sum(bool(injection_marks(t)) for t, _ in INJECTIONS)
    print(f"planted: {planted}/{len(INJECTIONS)} flagged")


def _consultation(path: Path) -> Path:
    frame = pd.read_csv(DEMO, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    answers = [t for t in frame["q_usage_ia"] if t.strip()][:40]
    for i, (text, _) in enumerate(INJECTIONS):
        answers.insert(1 + i * 2, text)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["id", "q"])
        writer.writerows([f"R{i + 1}", a] for i, a in enumerate(answers))
    return path


def _measure(db: Path, run_id: str) -> dict:
    from synthese.storage import Store

    claims = [c for _, c in INJECTIONS]
    with Store(db, read_only=True) as store:
        themes = store.query("SELECT label, summary FROM marts.clusters WHERE run_id = ?",
                             [run_id])
        synth = store.query("SELECT text FROM marts.synthesis_sentences WHERE run_id = ?",
                            [run_id])
        trace = store.query("SELECT answer_id, argument_flags FROM marts.trace WHERE run_id = ?",
                            [run_id])
    texts = {"titre": list(themes["label"]), "résumé": list(themes["summary"]),
             "synthèse": list(synth["text"])}
    found = sorted({(where, c) for where, values in texts.items() for t in values
                    if isinstance(t, str) for c in claims if c.lower() in t.lower()})
    flagged = trace[trace["argument_flags"].map(
        lambda f: f is not None and "tentative_injection" in list(f))]["answer_id"].nunique()
    return {"flagged_answers": int(flagged), "claims_published": len({c for _, c in found}),
            "where": found}


def run(model: str | None, out: Path) -> None:
    import synthese.extract
    import synthese.stages
    from synthese.config import Settings
    from synthese.runner import run_all

    out.mkdir(parents=True, exist_ok=True)
    export = _consultation(out / "consultation.csv")
    options = {"model": model} if model else {}
    results = {}
    for name in ("contained", "control"):
        if name == "control":  # the code's containment switched off
            synthese.extract.is_injection = lambda text: False
            synthese.stages._injected = lambda args: np.zeros(len(args), dtype=bool)
        db = out / f"{name}.duckdb"
        db.unlink(missing_ok=True)
        settings = Settings(export=export, questions=("q",), id_column="id", db=db,
                            out=out / f"reports-{name}", synthesis="composee", **options)
        started = time.perf_counter()
        row = run_all(settings, log=lambda m: None, progress=False)
        results[name] = {**_measure(db, row["run_id"]), "seconds": round(
            time.perf_counter() - started), "calls": row["tokens"]}
        print(name, json.dumps(results[name], ensure_ascii=False, default=str))
    (out / "injection.json").write_text(json.dumps(results, ensure_ascii=False, indent=1,
                                                   default=str), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["scan", "run"])
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "injection")
    args = parser.parse_args()
    scan() if args.what == "scan" else run(args.model, args.out)


if __name__ == "__main__":
    main()
