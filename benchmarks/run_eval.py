"""Evaluate synthese against human labels and print a markdown table (same as `synthese eval`).

    # theme labels (convert the Grand Débat first: benchmarks/datasets.py)
    PYTHONPATH=src .venv/bin/python benchmarks/run_eval.py /tmp/ds/grand-debat-themes.csv
    ... benchmarks/run_eval.py /tmp/ds/grand-debat-themes.csv --units sentences --no-pseudonymise
    # argument extraction with the embedded LLM (slow: 5-40 s per answer on 2 busy cores)
    ... benchmarks/run_eval.py ../shared/data/an-egalite-dev/arguments.csv \
            --model qwen2.5-coder-0.5b --limit 16 --cache benchmarks/out/eval-cache.duckdb
    # baseline: the answer's sentences as its arguments (the baseline backend), no model at all
    ... benchmarks/run_eval.py ../shared/data/an-egalite-dev/arguments.csv --llm baseline
    # the matching threshold: similarity of hand-judged paraphrase pairs vs other pairs
    ... benchmarks/run_eval.py --calibrate

Timings are wall-clock on a shared 2-core machine: read them as orders of magnitude.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthese.errors import SyntheseError

MAX_FALSE_PASS = 0.10  # calibration rule: at most 10 % of different-point pairs pass


def calibrate(embedders: list[str]) -> str:
    """Markdown: similarity of hand-judged pairs per embedder and the threshold the rule gives."""
    import pandas as pd
    from datasets import AN_EGALITE, PARAPHRASE_PAIRS
    from sklearn.metrics import roc_auc_score

    from synthese.embed import make_embedder

    gold = pd.read_csv(AN_EGALITE, dtype=str, keep_default_na=False)
    gold["k"] = gold.groupby("id").cumcount()
    row = {(int(i), int(k)): n for n, (i, k) in enumerate(zip(gold["id"], gold["k"]))}
    ids = gold["id"].to_numpy()
    rng = np.random.default_rng(0)
    random_pairs = []
    while len(random_pairs) < 2000:  # arguments of two different answers (same consultation)
        a, b = rng.integers(len(gold), size=2)
        if ids[a] != ids[b]:
            random_pairs.append((a, b))
    y = np.array([label for *_, label in PARAPHRASE_PAIRS])
    lines = [
        (f"{int(y.sum())} paraphrases et {int((1 - y).sum())} paires de points différents "
        "(arguments humains d'une même réponse, jugés à la main), 2 000 paires au hasard "
        "d'arguments de réponses différentes."),
        "",
        ("| modèle | paraphrases : médiane [p25–p75] | points différents : médiane [p75–p90] "
        "| au hasard : médiane [p90–p95] | AUC | seuil (≤ 10 % de points différents) "
        "| paraphrases retenues | au hasard retenues |"),
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for name in embedders:
        embedder = make_embedder(name)
        vectors = embedder.embed(list(gold["argument"]))
        sims = np.array([float(vectors[row[(i, a)]] @ vectors[row[(i, b)]])
                         for i, a, b, _ in PARAPHRASE_PAIRS])
        rand = np.array([float(vectors[a] @ vectors[b]) for a, b in random_pairs])
        pos, neg = sims[y == 1], sims[y == 0]
        grid = np.round(np.arange(0.0, 1.0, 0.01), 2)
        threshold = next(t for t in grid if np.mean(neg >= t) <= MAX_FALSE_PASS)

        def q(values: np.ndarray, a: int, b: int) -> str:
            return (f"{np.median(values):.2f} [{np.percentile(values, a):.2f}–"
                    f"{np.percentile(values, b):.2f}]")

        lines.append(
            f"| {name} | {q(pos, 25, 75)} | {q(neg, 75, 90)} | {q(rand, 90, 95)} | "
            f"{roc_auc_score(y, sims):.2f} | {threshold:.2f} | {np.mean(pos >= threshold):.0%} | "
            f"{np.mean(rand >= threshold):.0%} |"
        )
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Évaluer synthese sur un jeu étiqueté.")
    p.add_argument("dataset", nargs="?", type=Path, help="CSV id,text,labels ou id,text,argument")
    p.add_argument("--format", dest="fmt", choices=["themes", "arguments"], default=None)
    p.add_argument("--llm", default="llamacpp", choices=["llamacpp", "ollama", "baseline"],
                   help="baseline : sans modèle, les phrases de la réponse (niveau de base)")
    p.add_argument("--model", default=None)
    p.add_argument("--llm-host", default=None)
    p.add_argument("--embedder", default=None)
    p.add_argument("--seed", type=int, action="append", default=None,
                   help="graine (répétable ; défaut : 42 et 43)")
    p.add_argument("--units", default="answers", choices=["answers", "sentences", "arguments"])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--pseudonymise", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--cache", type=Path, default=None, help="base DuckDB des appels au modèle")
    p.add_argument("--min-cluster-size", type=int, default=None)
    p.add_argument("--threads", type=int, default=None, help="fils du LLM embarqué")
    p.add_argument("--question", default=None, help="question posée (si le CSV n'en a pas)")
    p.add_argument("--out", type=Path, default=None, help="écrire aussi le tableau ici")
    p.add_argument("--details", type=Path, default=None, help="détail JSON (arguments)")
    p.add_argument("--calibrate", action="store_true", help="calibrer le seuil d'appariement")
    p.add_argument("--calibrate-embedders", default="use-multilingual,minilm-l6,spacy-fr-md,"
                   "e5-small-fr")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = parse(argv)
    try:
        if args.calibrate:
            text = calibrate([n for n in args.calibrate_embedders.split(",") if n])
        else:
            if args.dataset is None:
                raise SyntheseError("Indiquez le fichier du jeu d'évaluation (ou --calibrate).")
            from synthese.evaluate import DEFAULT_SEEDS, ArgumentEval, run_eval

            result = run_eval(
                args.dataset, fmt=args.fmt, llm_backend=args.llm, model=args.model,
                llm_host=args.llm_host, embedder_name=args.embedder,
                seeds=tuple(args.seed or DEFAULT_SEEDS), units=args.units, limit=args.limit,
                pseudonymise=args.pseudonymise, threshold=args.threshold, cache=args.cache,
                min_cluster_size=args.min_cluster_size, question=args.question,
                threads=args.threads,
                log=lambda m: print(m, file=sys.stderr, flush=True),
            )
            text = result.markdown()
            if args.details and isinstance(result, ArgumentEval):
                args.details.parent.mkdir(parents=True, exist_ok=True)
                args.details.write_text(json.dumps(result.details, ensure_ascii=False, indent=1))
    except SyntheseError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
