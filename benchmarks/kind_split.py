"""Themes that mix opposite views: splitting them in two, or showing them « partagé ».

    PYTHONPATH=src .venv/bin/python benchmarks/kind_split.py data/processed/synthese.duckdb

Reads the ideas of the latest completed run (their vectors and kinds) and clusters them
again, with and without the kinds, for three seeds: with them, the pipeline's own way (from
cluster.BY_KIND_FROM ideas each kind group is clustered apart, under it mixed themes are
split by cluster.split_opposed_views; set cluster.BY_KIND = False for the split alone). For each
it counts the themes, the themes still mixed (opportunities and risks each at least 20 % of
the theme: what the report would flag « avis partagés »), the share of ideas in such themes,
and the kind purity (share of a theme's on-topic ideas that are of its dominant kind).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthese.cluster import cluster_vectors
from synthese.storage import Store

SIDES = ("opportunite", "risque")
ON_TOPIC = ("opportunite", "risque", "condition")


def measure(labels: np.ndarray, kinds: list[str]) -> dict:
    themes = [t for t in np.unique(labels) if t >= 0]
    mixed = mixed_ideas = 0
    purity = []
    for t in themes:
        members = [k for k, lab in zip(kinds, labels) if lab == t]
        counts = Counter(members)
        if min(counts[s] for s in SIDES) >= 0.2 * len(members):
            mixed += 1
            mixed_ideas += len(members)
        on = [counts[k] for k in ON_TOPIC]
        if sum(on):
            purity.append(max(on) / sum(on))
    return {"themes": len(themes), "mixed": mixed, "ideas in mixed": mixed_ideas / len(kinds),
            "purity": float(np.mean(purity)) if purity else 0.0,
            "unassigned": float(np.mean(labels < 0))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--seeds", default="42,43,44")
    args = parser.parse_args(argv)
    store = Store(args.db, read_only=True)
    run = store.query("SELECT clustering_id FROM core.runs WHERE status = 'completed' "
                      "ORDER BY finished_at DESC LIMIT 1")["clustering_id"].iloc[0]
    model = store.scalar("SELECT embed_model_id FROM core.clusterings WHERE clustering_id = ?",
                         [run])
    rows = store.query("SELECT g.text_hash, g.kind FROM core.assignments a JOIN core.arguments g "
                       "USING (argument_id) WHERE a.clustering_id = ? ORDER BY g.argument_id", [run])
    vectors = store.get_embeddings(list(rows["text_hash"]), model)
    kinds = list(rows["kind"].fillna("constat"))
    print("| seed | split | themes | mixed themes | ideas in mixed themes | kind purity | unassigned |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for seed in (int(s) for s in args.seeds.split(",")):
        for split in (False, True):
            result = cluster_vectors(vectors, seed=seed, kinds=kinds if split else None)
            m = measure(result.labels, kinds)
            print(f"| {seed} | {'oui' if split else 'non'} | {m['themes']} | {m['mixed']} | "
                  f"{m['ideas in mixed']:.1%} | {m['purity']:.1%} | {m['unassigned']:.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
