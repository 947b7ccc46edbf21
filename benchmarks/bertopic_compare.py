"""synthese's clustering and BERTopic side by side, on the same texts and the same vectors.

    PYTHONPATH=src .venv/bin/python benchmarks/bertopic_compare.py
    PYTHONPATH=src .venv/bin/python benchmarks/bertopic_compare.py --units answers --runs 1

Data: the Grand Débat (Lille) comments converted by benchmarks/datasets.py, compared with
their theme (4 labels) and their debate question (28 labels), as whole comments and as
sentences (closer to the short arguments the extraction step produces). Vectors: synthese's
default embedder, computed once per unit and given to both methods.

- synthese: ``cluster_vectors`` with its defaults (UMAP + HDBSCAN scaled on the corpus, noise
  attached to the nearest theme when close enough), seeds 42 and 43.
- BERTopic 0.17.4 with default settings, ``language="multilingual"``, the precomputed
  embeddings passed to ``fit_transform``; its UMAP is not seeded, so two runs differ.
- KMeans with k = the number of human labels (it is told the answer: a reference, not a peer).

One UMAP fit runs before any timing so that numba's one-off compilation (15-20 s) is charged
to neither method. Timings are wall-clock on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from datasets import grand_debat

from synthese.evaluate import (
    load_dataset,
    partition_scores,
    peak_rss_mb,
    split_sentences,
    theme_f1,
)


def _units(texts: list[str], labels: list, units: str) -> tuple[list[str], list]:
    if units == "answers":
        return texts, labels
    out_texts, out_labels = [], []
    for text, labs in zip(texts, labels, strict=True):
        pieces = split_sentences(text)
        out_texts += pieces
        out_labels += [labs] * len(pieces)
    return out_texts, out_labels


def _warm_up() -> None:
    """Compile UMAP's numba code and import BERTopic (seconds of imports) before any timing."""
    import bertopic  # noqa: F401
    import umap

    rng = np.random.default_rng(0)
    umap.UMAP(n_components=5, n_neighbors=10, n_epochs=20).fit(rng.normal(size=(200, 16)))


def _synthese(vectors: np.ndarray, seed: int) -> np.ndarray:
    from synthese.cluster import cluster_vectors

    return cluster_vectors(vectors, seed=seed).labels


def _bertopic(docs: list[str], vectors: np.ndarray, seed: int) -> np.ndarray:
    from bertopic import BERTopic

    topics, _ = BERTopic(language="multilingual").fit_transform(docs, embeddings=vectors)
    return np.asarray(topics)


def _kmeans(vectors: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(vectors)


def compare(units: str, runs: int, out_dir: Path) -> list[str]:
    """Markdown rows for one unit kind, both label sets, every method and run."""
    from sklearn.metrics import adjusted_rand_score

    from synthese.embed import make_embedder

    paths = grand_debat(out_dir)
    themes, questions = load_dataset(paths["themes"]), load_dataset(paths["questions"])
    assert themes.ids == questions.ids
    docs, theme_labels = _units(themes.texts, themes.labels, units)
    _, question_labels = _units(questions.texts, questions.labels, units)
    embedder = make_embedder()
    started, cpu = time.perf_counter(), time.process_time()
    vectors = embedder.embed(docs)
    embed_s, embed_cpu = time.perf_counter() - started, time.process_time() - cpu
    n_themes = len({lab for labs in theme_labels for lab in labs})
    methods = {
        "synthese (UMAP + HDBSCAN + rattachement)": lambda seed: _synthese(vectors, seed),
        "BERTopic 0.17.4, réglages par défaut": lambda seed: _bertopic(docs, vectors, seed),
        f"KMeans k = {n_themes} (référence)": lambda seed: _kmeans(vectors, n_themes, seed),
    }
    rows = []
    for name, method in methods.items():
        results = []
        for run in range(runs):
            started, cpu = time.perf_counter(), time.process_time()
            labels = method(42 + run)
            results.append((labels, time.perf_counter() - started, time.process_time() - cpu))
        stability = (adjusted_rand_score(results[0][0], results[1][0])
                     if len(results) > 1 else float("nan"))
        for run, (labels, seconds, cpu) in enumerate(results):
            t = partition_scores([labs[0] for labs in theme_labels], labels)
            q = partition_scores([labs[0] for labs in question_labels], labels)
            f1 = theme_f1(theme_labels, labels)
            n_topics = len(set(labels[labels >= 0].tolist()))
            rows.append(
                f"| {units_fr(units)} ({len(docs)}) | {name} | {run + 1} | {_d(seconds, 1)} | "
                f"{_d(cpu, 1)} | "
                f"{n_topics} | {_d(100 * np.mean(labels < 0), 1)} % | {_d(t['ari'])} | "
                f"{_d(t['nmi'])} | {_d(f1.macro_f1)} | {_d(q['ari'])} | {_d(q['nmi'])} | "
                f"{'–' if np.isnan(stability) else _d(stability)} |"
            )
    rows.append(f"| {units_fr(units)} ({len(docs)}) | vectorisation ({embedder.name}), "
                f"commune | – | {_d(embed_s, 1)} | {_d(embed_cpu, 1)} | | | | | | | | |")
    return rows


def _d(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def units_fr(units: str) -> str:
    return {"answers": "commentaires", "sentences": "phrases"}[units]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", choices=["answers", "sentences", "both"], default="both")
    parser.add_argument("--runs", type=int, default=2, help="runs per method (seeds 42, 43...)")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    _warm_up()
    header = [
        ("| unités | méthode | exécution | durée (s) | CPU (s) | thèmes | hors thème (-1) "
         "| ARI thèmes | NMI thèmes | F1 appariée thèmes | ARI questions | NMI questions "
         "| ARI entre 2 exécutions |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="synthese-bertopic-") as tmp:
        for units in (["answers", "sentences"] if args.units == "both" else [args.units]):
            rows += compare(units, args.runs, Path(tmp))
    text = "\n".join(header + rows) + f"\n\nPic de mémoire du processus : {peak_rss_mb():.0f} Mio.\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
