"""Can the embedded models map comments to themes, as Consult's large LLM does?

    PYTHONPATH=src .venv/bin/python benchmarks/llm_mapping.py \
        benchmarks/out/datasets/grand-debat-themes.csv --model qwen2.5-coder-1.5b \
        --per-label 40        # about 10 min on 2 cores

Issue 18 asks an F1 after merging of 0.80 against the Grand Débat comments' human
categories. Consult reaches 0.76-0.82 by having a large LLM map each answer to themes. This
gives the embedded model the most it could ever have, the human categories' own names, and
asks it for each comment (pseudonymised as a run does) which category it belongs to, with a
grammar that allows only those names. It is an upper bound for any LLM mapping on this
machine: a run would map to themes the model titled itself.

Comments are drawn stratified (``--per-label`` of each category, all of a smaller one, seed
0) so that the small category weighs; macro F1 is then estimated for the whole set by
weighting each category's rows by its share of the 690 comments (the confusion counts are
scaled), with a bootstrap 95 % interval over the drawn comments.

Measured on 2026-12-04 (docs/benchmarks.md, section 9): the 1.5B reaches 0.38, 0.34 with the
categories' order rotated, against 0.78 for the unsupervised themes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthese.evaluate import load_dataset
from synthese.llm import LlamaCppLLM
from synthese.pseudonymise import Pseudonymiser

SYSTEM = ("Tu classes des contributions citoyennes au Grand Débat national. Réponds par la "
          "catégorie qui correspond le mieux au sujet de la contribution.")


def weighted_macro_f1(truth: list[str], pred: list[str], weight: dict[str, float],
                      names: list[str]) -> float:
    """Macro F1 with each row counted ``weight[its true label]`` times."""
    return float(f1_score(truth, pred, labels=names, average="macro", zero_division=0,
                          sample_weight=[weight[t] for t in truth]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--per-label", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rotate", action="store_true",
                        help="list the categories in another order for each comment (the "
                             "small models favour the first one listed)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    data = load_dataset(args.dataset, "themes")
    truth_all = [labels[0] for labels in data.labels]
    names = sorted(set(truth_all))
    population = Counter(truth_all)
    rng = random.Random(0)
    picked: list[int] = []
    for n in names:
        rows = [i for i, t in enumerate(truth_all) if t == n]
        picked += sorted(rng.sample(rows, min(args.per_label, len(rows))))
    drawn = Counter(truth_all[i] for i in picked)
    weight = {n: population[n] / drawn[n] for n in names}
    texts = [r.text for r in Pseudonymiser().pseudonymise_many([data.texts[i] for i in picked])]
    schema = {"type": "object", "properties": {"categorie": {"enum": names}},
              "required": ["categorie"]}
    llm = LlamaCppLLM(args.model, threads=args.threads)
    truth, pred, seconds = [], [], []
    try:
        for k, (i, text) in enumerate(zip(picked, texts)):
            shift = k % len(names) if args.rotate else 0
            listed = "\n".join(f"- {n}" for n in names[shift:] + names[:shift])
            messages = [{"role": "system", "content": SYSTEM},
                        {"role": "user", "content": f"Catégories :\n{listed}\n\n"
                                                    f"Contribution : {text}\n\nCatégorie ?"}]
            started = time.perf_counter()
            out = llm.chat(messages, schema=schema, max_tokens=40)
            seconds.append(time.perf_counter() - started)
            truth.append(truth_all[i])
            pred.append(json.loads(out.text)["categorie"])
    finally:
        llm.close()
    f1 = weighted_macro_f1(truth, pred, weight, names)
    boot = np.random.default_rng(0)
    samples = []
    for _ in range(1000):
        idx = boot.integers(0, len(truth), len(truth))
        samples.append(weighted_macro_f1([truth[j] for j in idx], [pred[j] for j in idx],
                                         weight, names))
    low, high = np.percentile(samples, [2.5, 97.5])
    rotated = " (order rotated)" if args.rotate else ""
    print(f"{args.model}{rotated}: {len(truth)} comments drawn ({dict(drawn)}), "
          f"{np.mean(seconds):.2f} s per comment")
    print(f"macro F1 (weighted to the 690): {f1:.3f} [{low:.3f}-{high:.3f}]")
    for n in names:
        tp = sum(t == n and p == n for t, p in zip(truth, pred))
        print(f"  {n}: recall {tp}/{drawn[n]}, predicted {sum(p == n for p in pred)} times")
    if args.out:
        args.out.write_text(json.dumps({"model": args.model, "truth": truth, "pred": pred,
                                        "seconds": seconds, "macro_f1": f1,
                                        "interval": [low, high]}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
