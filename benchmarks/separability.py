"""How well do the vectors separate the human categories, when a classifier learns them?

    PYTHONPATH=src .venv/bin/python benchmarks/separability.py \
        benchmarks/out/datasets/grand-debat-themes.csv      # about 2 min on 2 cores

The upper reference for issue 18's « F1 after merging »: each text is pseudonymised as a run
does, vectorised by each embedder (and as TF-IDF words), and a logistic regression learns
the human label (first label of each text) under 5-fold cross-validation; macro F1 and F1
per label are printed. If a classifier that *learns* the labels cannot separate a category,
no unsupervised theme will.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from synthese.embed import make_embedder
from synthese.evaluate import load_dataset
from synthese.pseudonymise import Pseudonymiser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--embedders", default="use-multilingual,e5-small-fr")
    args = parser.parse_args()
    data = load_dataset(args.dataset, "themes")
    y = np.array([labels[0] for labels in data.labels])
    texts = [r.text for r in Pseudonymiser().pseudonymise_many(list(data.texts))]
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    names = sorted(set(y))
    print(f"{len(y)} texts; labels: " + ", ".join(f"{n} {int(np.sum(y == n))}" for n in names))
    print("| vectors | classifier | macro F1 | " + " | ".join(names) + " |")
    print("|---|---|---:|" + "---:|" * len(names))
    spaces = [(name, make_embedder(name).embed(texts)) for name in args.embedders.split(",")]
    spaces.append(("tf-idf words", TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)))
    for space, x in spaces:
        classifiers = [("logistic, balanced",
                        LogisticRegression(C=10, max_iter=3000, class_weight="balanced")),
                       ("logistic", LogisticRegression(C=10, max_iter=3000))]
        if space != "tf-idf words":
            classifiers.append(("15 neighbours", KNeighborsClassifier(15, metric="cosine")))
        for how, clf in classifiers:
            pred = cross_val_predict(clf, x, y, cv=folds)
            per = f1_score(y, pred, average=None, labels=names)
            print(f"| {space} | {how} | {f1_score(y, pred, average='macro'):.3f} | "
                  + " | ".join(f"{v:.2f}" for v in per) + " |", flush=True)


if __name__ == "__main__":
    main()
