"""Do other views of the same vectors give themes closer to the human categories?

    PYTHONPATH=src .venv/bin/python benchmarks/representations.py \
        benchmarks/out/datasets/grand-debat-themes.csv      # about 6 min on 2 cores

Issue 18's « F1 after merging » on the 690 Grand Débat comments, seeds 42, 43 and 44, with
the clustering a run uses (cluster.cluster_vectors), for:

- ``use``: the default embedder's vectors, as a run clusters them (the reference);
- ``centred``: the same vectors minus their mean, then unit length again; ``centred-1``
  also without their first principal component (« all-but-the-top », Mu and Viswanath
  2018): what every text shares (here, French politics) no longer pulls them together;
- ``use+e5 W``: the default vectors joined with ``e5-small-fr``'s, the second weighted W
  (each unit length, the join unit length): two embedders that separate the categories
  differently (docs/benchmarks.md, section 9: a classifier reaches 0.751 on the first and
  0.771 on the second);
- ``use+tfidf W``: the default vectors joined with a 100-dimension LSA of the texts' TF-IDF
  words (function words out), weighted W: words that name a subject (« impôts »,
  « services publics ») weigh more than in a sentence vector.

Each text is pseudonymised as a run does. Prints one markdown row per variant: the mean F1
after merging (and per seed), the mean pairwise ARI of the seeds, the theme counts.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score

from synthese.cluster import cluster_vectors
from synthese.embed import make_embedder
from synthese.evaluate import load_dataset, theme_f1
from synthese.pseudonymise import Pseudonymiser
from synthese.summarise import FUNCTION_WORDS

SEEDS = (42, 43, 44)


def _unit(v: np.ndarray) -> np.ndarray:
    """Unit rows; a row of zeros (a text with no word the TF-IDF keeps) stays zeros."""
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def centred(vectors: np.ndarray, components: int = 0) -> np.ndarray:
    """Unit vectors minus their mean and their first ``components`` principal directions."""
    u = _unit(vectors)
    u = u - u.mean(axis=0)
    if components:
        _, _, vt = np.linalg.svd(u, full_matrices=False)
        top = vt[:components]
        u = u - (u @ top.T) @ top
    return _unit(u)


def joined(first: np.ndarray, second: np.ndarray, weight: float) -> np.ndarray:
    """Both unit vectors side by side, the second weighted ``weight`` (shares of the norm)."""
    return _unit(np.hstack([_unit(first) * np.sqrt(1 - weight), _unit(second) * np.sqrt(weight)]))


# Short function words that FUNCTION_WORDS (four letters or more) leaves out.
SHORT_FUNCTION_WORDS = {"les", "des", "une", "est", "pas", "que", "qui", "sur", "nous", "vous",
                        "ils", "elle", "mais", "plus", "pour", "dans", "avec", "aux", "son",
                        "ses", "par", "ces", "cet", "ont", "été", "sont", "leur", "tout"}


def words_lsa(texts: list[str], dims: int = 100) -> np.ndarray:
    """Unit vectors of a TF-IDF on the texts' words (two letters or more, function words
    out, in two texts at least), reduced to ``dims`` dimensions by a truncated SVD."""
    stop = sorted(set(FUNCTION_WORDS) | SHORT_FUNCTION_WORDS)
    tfidf = TfidfVectorizer(stop_words=stop, min_df=2, sublinear_tf=True)
    matrix = tfidf.fit_transform([t.lower() for t in texts])
    return _unit(TruncatedSVD(min(dims, matrix.shape[1] - 1), random_state=0)
                 .fit_transform(matrix))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.25, 0.5])
    args = parser.parse_args()
    data = load_dataset(args.dataset, "themes")
    labels = [tuple(lab) for lab in data.labels]
    texts = [r.text for r in Pseudonymiser().pseudonymise_many(list(data.texts))]
    use = make_embedder("use-multilingual").embed(texts)
    e5 = make_embedder("e5-small-fr").embed(texts)
    variants = [("use (the default)", use), ("centred", centred(use)),
                ("centred-1", centred(use, 1))]
    variants += [(f"use+e5 {w}", joined(use, e5, w)) for w in args.weights]
    lsa = words_lsa(texts)
    variants += [(f"use+tfidf {w}", joined(use, lsa, w)) for w in (0.2, 0.35)]
    print("| vectors | F1 after merging (42 ; 43 ; 44) | ARI seeds (mean) | themes | s |")
    print("|---|---|---:|---|---:|")
    for name, vectors in variants:
        start = time.perf_counter()
        results = [cluster_vectors(vectors, seed=seed) for seed in SEEDS]
        merged = [theme_f1(labels, r.labels).merged_macro_f1 for r in results]
        aris = [adjusted_rand_score(a.labels, b.labels)
                for a, b in itertools.combinations(results, 2)]
        print(f"| {name} | {np.mean(merged):.3f} ({' ; '.join(f'{m:.3f}' for m in merged)}) "
              f"| {np.mean(aris):.3f} | {', '.join(str(r.n_clusters) for r in results)} "
              f"| {time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
