"""Sample fit against full fit, and what the second level finds: themes at scale.

N synthetic arguments (benchmarks/scale.py's generator, 6 latent themes) plus ``--rare``
planted rare themes of ``--rare-share`` of the corpus each (their own words, absent from the
6), through the default embedder, then clustered with seed 42:

- ``two levels``: the default past SECOND_LEVEL_FROM arguments (forced below; consensus of CONSENSUS_RUNS fits on
  a FIT_SAMPLE content-hash sample, the rest by its nearest sampled neighbours, then each
  top theme, and the sample's noise, clustered again on its own members: ``_second_level``);
- ``one level``: the same without the second level (the clustering of issue 18);
- ``full, one fit`` (``--full``): one UMAP + HDBSCAN fit on every argument (the clustering
  before issue 18, 192.5 s for 100,000 in section 4 of docs/benchmarks.md);

with the ARI between them, each against the latent themes, and for each planted rare theme
the F1 of the theme that matches it best (found when >= 0.5).

    PYTHONPATH=src .venv/bin/python benchmarks/sample_fit.py [--n 100000] [--full]

The vectors are cached in benchmarks/out/sample_fit-N.npy (the embedding of 100,000
arguments takes about 2 minutes here).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Rare themes: words none of the six latent themes use.
RARE: dict[str, dict[str, list[str]]] = {
    "cantine": {
        "sujet": ["la cantine scolaire", "la restauration au self", "les repas du midi",
                  "le menu de la cantine"],
        "verbe": ["pourrait servir à planifier", "aiderait à équilibrer",
                  "permettrait de réduire le gaspillage dans"],
        "objet": ["les menus de la semaine", "les commandes de produits locaux",
                  "les allergies alimentaires des enfants"],
    },
    "harcelement": {
        "sujet": ["le harcèlement entre élèves", "le cyberharcèlement",
                  "les moqueries dans la cour", "les insultes sur les réseaux"],
        "verbe": ["pourrait être repéré par", "risque d'être aggravé par",
                  "doit être signalé malgré"],
        "objet": ["les montages truqués", "les fausses photos d'élèves",
                  "les messages anonymes"],
    },
    "transport": {
        "sujet": ["le ramassage scolaire", "les horaires du car", "le transport des internes",
                  "les trajets en autobus"],
        "verbe": ["seraient mieux organisés avec", "dépendent trop de",
                  "pourraient être optimisés par"],
        "objet": ["un calcul d'itinéraires", "la coordination avec la mairie",
                  "les arrêts en zone rurale"],
    },
    "orientation": {
        "sujet": ["l'orientation en fin de troisième", "le choix des spécialités",
                  "Parcoursup", "les vœux d'affectation"],
        "verbe": ["ne doit pas être confié à", "pourrait être éclairé par",
                  "inquiète les familles face à"],
        "objet": ["un algorithme opaque", "des fiches métiers générées",
                  "un conseiller virtuel"],
    },
}


def planted(n: int, rare: int, share: float) -> tuple[list[str], list[str]]:
    """``n`` arguments: the generator's, with ``rare`` rare themes of ``share`` each."""
    from scale import CLOSERS, OPENERS, generate_arguments

    per = round(n * share)
    texts, latent = generate_arguments(n - per * rare)
    rng = np.random.default_rng(11)
    for name in list(RARE)[:rare]:
        pools = RARE[name]
        for _ in range(per):
            body = " ".join(str(rng.choice(pools[k])) for k in ("sujet", "verbe", "objet"))
            text = str(rng.choice(OPENERS)) + body + str(rng.choice(CLOSERS))
            texts.append(text[0].upper() + text[1:])
            latent.append(name)
    return texts, latent


def best_f1(latent: np.ndarray, labels: np.ndarray, name: str) -> float:
    gold = latent == name
    best = 0.0
    for cid in np.unique(labels[labels >= 0]):
        found = labels == cid
        hit = int(np.sum(found & gold))
        if hit:
            best = max(best, 2 * hit / (int(found.sum()) + int(gold.sum())))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rare", type=int, default=4, help="planted rare themes (at most 4)")
    parser.add_argument("--rare-share", type=float, default=0.002)
    parser.add_argument("--full", action="store_true", help="also one UMAP fit on everything")
    args = parser.parse_args(argv)

    from sklearn.metrics import adjusted_rand_score

    from synthese import cluster
    from synthese.embed import make_embedder

    texts, latent = planted(args.n, args.rare, args.rare_share)
    latent = np.asarray(latent)
    cache = Path(__file__).resolve().parent / "out" / (
        f"sample_fit-{args.n}-{args.rare}-{args.rare_share:g}.npy")
    if cache.exists():
        vectors = np.load(cache)
    else:
        start = time.perf_counter()
        vectors = make_embedder().embed(texts)
        print(f"embedding {args.n}: {time.perf_counter() - start:.1f} s", file=sys.stderr,
              flush=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    rare = list(RARE)[:args.rare]
    print(f"{args.n:,} arguments, {len(set(latent)) - len(rare)} latent themes and {len(rare)} "
          f"rare ones of {args.rare_share:.1%} each ({int(np.sum(latent == rare[0])) if rare else 0}"
          f" arguments)")
    print("| clustering | s | peak RSS (MiB) | top themes | themes | autres | ARI vs latent "
          "(themes ; parent themes) | "
          + " | ".join(f"F1 {r}" for r in rare) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(rare))
    out = {}
    default_min = cluster.SECOND_LEVEL_MIN
    default_from = cluster.SECOND_LEVEL_FROM
    runs = [("two levels", cluster.FIT_SAMPLE, None, default_min, min(default_from, args.n - 1)),
            ("one level (issue 18)", cluster.FIT_SAMPLE, None, args.n + 1, args.n)]
    if args.full:
        runs.append(("full, one fit", args.n + 1, 1, args.n + 1, args.n))
    for name, sample, fits, second, start_at in runs:
        cluster.FIT_SAMPLE, cluster.SECOND_LEVEL_MIN = sample, second
        cluster.SECOND_LEVEL_FROM = start_at
        start = time.perf_counter()
        result = cluster.cluster_vectors(vectors, seed=42, runs=fits)
        seconds = time.perf_counter() - start
        out[name] = result.labels
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        level = result.params.get("second_level", {})
        parent_ari = "–"
        if result.parents is not None:
            by_parent = np.where(result.labels >= 0,
                                 result.parents[np.maximum(result.labels, 0)], -1)
            parent_ari = f"{adjusted_rand_score(latent, by_parent):.2f}"
        print(f"| {name} | {seconds:.1f} | {peak:,.0f} | {level.get('top_themes', '–')} | "
              f"{result.n_clusters} | {result.unassigned_share:.1%} | "
              f"{adjusted_rand_score(latent, result.labels):.2f} ; {parent_ari} | "
              + " | ".join(f"{best_f1(latent, result.labels, r):.2f}" for r in rare) + " |",
              flush=True)
        if level:
            print(f"  second level: {level}", file=sys.stderr, flush=True)
    names = list(out)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            print(f"ARI {a} vs {b}: {adjusted_rand_score(out[a], out[b]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
