"""Sample fit against full fit: how much do themes move when the fits see 5,000 arguments?

N synthetic arguments (benchmarks/scale.py's generator) through the default embedder, then
clustered three ways with seed 42:

- ``sample``: the default (consensus of CONSENSUS_RUNS fits on a FIT_SAMPLE content-hash
  sample, the rest by its nearest sampled neighbours);
- ``full, one fit``: one UMAP + HDBSCAN fit on every argument (the clustering before
  issue 18, which section 4 of docs/benchmarks.md timed at 192.5 s for 100,000);
- ARI between them, and each against the 6 latent themes.

    PYTHONPATH=src .venv/bin/python benchmarks/sample_fit.py [--n 100000]

A full consensus (10 fits on 100,000) would take about half an hour here; the one-fit full
clustering is the reference the sample must not drift far from.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args(argv)

    from scale import generate_arguments
    from sklearn.metrics import adjusted_rand_score

    from synthese import cluster
    from synthese.embed import make_embedder

    texts, latent = generate_arguments(args.n)
    start = time.perf_counter()
    vectors = make_embedder().embed(texts)
    print(f"embedding {args.n}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    out = {}
    for name, sample, runs in (("sample", cluster.FIT_SAMPLE, None),
                               ("full, one fit", args.n + 1, 1)):
        cluster.FIT_SAMPLE = sample
        start = time.perf_counter()
        result = cluster.cluster_vectors(vectors, seed=42, runs=runs)
        seconds = time.perf_counter() - start
        out[name] = result.labels
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {name} | {seconds:.1f} | {peak:,.0f} | {result.n_clusters} | "
              f"{result.unassigned_share:.1%} | "
              f"{adjusted_rand_score(latent, result.labels):.2f} |", flush=True)
    print(f"ARI sample vs full: {adjusted_rand_score(out['sample'], out['full, one fit']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
