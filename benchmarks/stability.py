"""Do the themes hold? Seeds, ten new answers, granularity, and multi-label agreement (issue 18).

On a labelled theme dataset (benchmarks/datasets.py writes grand-debat-themes.csv: the 690
Grand Débat comments of Lille with their human categories), pseudonymised and embedded as a
run does, it measures with the clustering a run uses (cluster.cluster_vectors):

- seeds: the themes of seeds 42, 43 and 44, mean pairwise ARI and theme counts, with the
  consensus (the default) and with one fit (``runs=1``, what synthese did before);
- ten new answers: the clustering of all answers but the last ten, then of all of them; the
  share of the earlier arguments that keep their theme, raw (fresh themes matched one to one
  to the previous ones, Hungarian) and kept in place (cluster.keep_in_place);
- multi-label: each answer gets every theme one of its units falls in; micro and macro F1
  against the human label sets with a bootstrap 95 % interval, Krippendorff's alpha, and
  the matched F1 after merging (evaluate.theme_f1), for answers and for sentences as units;
- granularity: coarse, medium, fine, and the theme count against the human categories.

    PYTHONPATH=src .venv/bin/python benchmarks/datasets.py        # once
    PYTHONPATH=src .venv/bin/python benchmarks/stability.py [--units answers sentences] \
        [--seeds 42 43 44] [--runs N]

Prints a markdown table (docs/benchmarks.md, section 9). About 12 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

DATASET = Path("benchmarks/out/datasets/grand-debat-themes.csv")
SEEDS = (42, 43, 44)
ADDED = 10


def _units(texts: list[str], labels: list[tuple[str, ...]], unit: str):
    from synthese.evaluate import split_sentences

    if unit == "answers":
        return texts, list(range(len(texts)))
    out, owner = [], []
    for i, text in enumerate(texts):
        for sentence in split_sentences(text) or [text]:
            out.append(sentence)
            owner.append(i)
    return out, owner


def _matched_kept(previous: np.ndarray, fresh: np.ndarray) -> float:
    """Share of the previous arguments whose fresh theme is their previous theme's best
    one-to-one match (Hungarian on the overlap counts): how many keep a theme without
    keep_in_place."""
    p_ids, f_ids = np.unique(previous[previous >= 0]), np.unique(fresh[fresh >= 0])
    overlap = np.zeros((p_ids.size, f_ids.size))
    for i, p in enumerate(p_ids):
        for j, f in enumerate(f_ids):
            overlap[i, j] = np.sum((previous == p) & (fresh == f))
    rows, cols = linear_sum_assignment(-overlap)
    mapping = {int(p_ids[r]): int(f_ids[c]) for r, c in zip(rows, cols, strict=True)}
    same = [mapping.get(int(p), -99) == int(f) if p >= 0 else f < 0
            for p, f in zip(previous, fresh, strict=True)]
    return float(np.mean(same))


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DATASET)
    parser.add_argument("--units", nargs="+", default=["answers", "sentences"])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS),
                        help="the seeds compared (42 43 44 by default)")
    parser.add_argument("--runs", type=int, default=None,
                        help="fits of the consensus (cluster.CONSENSUS_RUNS by default)")
    parser.add_argument("--no-single-fit", action="store_true",
                        help="skip the one-fit baseline (the 'before' column)")
    args = parser.parse_args(argv)

    from synthese.cluster import NEW, cluster_vectors, keep_in_place
    from synthese.embed import make_embedder
    from synthese.evaluate import load_dataset, multilabel_scores, theme_f1
    from synthese.pseudonymise import Pseudonymiser

    data = load_dataset(args.dataset, "themes")
    texts = [r.text for r in Pseudonymiser().pseudonymise_many(list(data.texts))]
    labels = [tuple(lab) for lab in data.labels]
    embedder = make_embedder(None)
    n_human = len({lab for item in labels for lab in item})
    print(f"# {args.dataset}: {len(texts)} answers, {n_human} human categories, "
          f"{np.mean([len(x) for x in labels]):.2f} per answer; embedder {embedder.model_id}",
          file=sys.stderr)
    lines = []
    for unit in args.units:
        unit_texts, owner = _units(texts, labels, unit)
        vectors = embedder.embed(unit_texts)
        owner = np.asarray(owner)
        unit_labels = [labels[i] for i in owner]
        consensus = f"consensus, {args.runs} fits" if args.runs else "consensus"
        for name, runs in (("one fit", 1), (consensus, args.runs)):
            if runs == 1 and args.no_single_fit:
                continue
            results, seconds = [], []
            for seed in args.seeds:
                start = time.perf_counter()
                results.append(cluster_vectors(vectors, seed=seed, runs=runs))
                seconds.append(time.perf_counter() - start)
            aris = [adjusted_rand_score(a.labels, b.labels)
                    for a, b in itertools.combinations(results, 2)]
            counts = [r.n_clusters for r in results]
            ml = [multilabel_scores(labels, owner, r.labels) for r in results]
            merged = [theme_f1(unit_labels, r.labels).merged_macro_f1 for r in results]
            # Ten new answers: the last ten answers' units arrive in a second run.
            cut = int(np.searchsorted(owner, len(texts) - ADDED))
            kept_raw, kept_place = [], []
            for seed in args.seeds:
                before = cluster_vectors(vectors[:cut], seed=seed, runs=runs).labels
                fresh = cluster_vectors(vectors, seed=seed, runs=runs).labels
                kept_raw.append(_matched_kept(before, fresh[:cut]))
                previous = np.concatenate([before, np.full(len(vectors) - cut, NEW)])
                kept_place.append(keep_in_place(fresh, previous, 5).kept_share)
            best = max(range(len(ml)), key=lambda i: ml[i].micro_f1)
            lines.append(_row(
                unit, name, f"{np.mean(aris):.3f} ({' ; '.join(f'{a:.2f}' for a in aris)})",
                f"{min(counts)}–{max(counts)}",
                f"{np.mean(kept_raw):.3f}", f"{np.mean(kept_place):.3f}",
                f"{np.mean([m.micro_f1 for m in ml]):.3f} "
                f"[{ml[best].micro_ci[0]:.2f}–{ml[best].micro_ci[1]:.2f}]",
                f"{np.mean([m.macro_f1 for m in ml]):.3f}",
                f"{np.mean([m.labels_per_answer for m in ml]):.2f}",
                f"{np.mean([m.alpha for m in ml if m.alpha is not None]):.2f}",
                f"{np.mean(merged):.3f}", f"{np.mean(seconds):.1f}"))
            print(lines[-1], file=sys.stderr, flush=True)
        if unit == "answers":
            steering = [("granularity " + g, {"granularity": g})
                        for g in ("coarse", "medium", "fine")]
            steering += [(f"--themes {k}", {"themes": k}) for k in (4, 28)]
            for name, how in steering:
                r = cluster_vectors(vectors, seed=42, **how)
                m = multilabel_scores(labels, owner, r.labels)
                lines.append(_row(unit, f"{name} (seed 42)", "", r.n_clusters,
                                  "", "", f"{m.micro_f1:.3f}", f"{m.macro_f1:.3f}", "", "",
                                  f"{theme_f1(unit_labels, r.labels).merged_macro_f1:.3f}", ""))
                print(lines[-1], file=sys.stderr, flush=True)
    print(f"Human categories: {n_human}.\n")
    seeds = "/".join(map(str, args.seeds))
    print(_row("units", "clustering", f"ARI seeds {seeds} (pairs)", "themes",
               f"kept after +{ADDED} answers (raw)", "kept in place", "multi-label micro F1 [95 %]",
               "macro F1", "themes per answer", "alpha", "matched F1 after merging",
               "s per clustering"))
    print("|" + "---|" * 12)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
