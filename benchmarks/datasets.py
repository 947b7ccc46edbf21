"""Convert the shared real datasets into synthese's evaluation formats (docs/datasets.md).

    PYTHONPATH=src .venv/bin/python benchmarks/datasets.py            # into a temp folder
    PYTHONPATH=src .venv/bin/python benchmarks/datasets.py --out benchmarks/out/datasets

Writes, never into the repository's data/ folder:

- grand-debat-themes.csv     id,text,labels,question : Grand Débat (Lille) comments, labels =
                             their theme (`categorie`, 4 themes), question = the debate question;
- grand-debat-questions.csv  id,text,labels : the same comments, labels = their debate question
                             (28, finer);
- grand-debat-propositions.csv id,text,labels : the 196 free proposals, labels = the category
                             their author chose (including « Aucune » and « Autre sujet »).

an-egalite-dev/arguments.csv is already in the argument gold format (id,text,argument plus
extra columns) and needs no conversion: ``an_egalite_path()`` returns it.

The same comment text posted under several questions (40 characters or more, identical after
trimming) becomes one text carrying every label of its copies: that is the multi-label case.
Short identical answers (« Oui ») are different people's and stay separate rows.
"""

from __future__ import annotations

import argparse
import csv
import re
import tempfile
from html import unescape
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
GRAND_DEBAT = SHARED / "grand-debat-mel"
AN_EGALITE = SHARED / "an-egalite-dev" / "arguments.csv"
MERGE_MIN_CHARS = 40
SEPARATOR = "|"

# Hand-judged pairs of human arguments written for the same answer in an-egalite-dev
# (answer id, k-th argument of that answer, m-th argument, 1 = same point, 0 = different
# points), from a random sample of 120 of the 472 same-answer pairs; 21 ambiguous or truncated
# pairs were left out. Used by `run_eval.py --calibrate` to set the matching threshold.
PARAPHRASE_PAIRS: tuple[tuple[int, int, int, int], ...] = (
    (315, 2, 3, 1), (315, 2, 4, 0), (315, 2, 6, 0), (315, 6, 8, 1), (315, 8, 9, 0),
    (316, 0, 1, 0), (316, 0, 4, 1), (316, 2, 4, 0), (317, 0, 1, 0), (319, 0, 1, 0),
    (320, 0, 6, 0), (320, 1, 5, 0), (320, 1, 6, 0), (321, 0, 1, 1), (326, 0, 1, 1),
    (326, 0, 2, 1), (326, 0, 3, 1), (326, 1, 4, 0), (326, 2, 3, 1), (329, 1, 3, 1),
    (332, 0, 1, 0), (334, 1, 2, 0), (337, 1, 3, 0), (340, 0, 1, 1), (340, 2, 3, 0),
    (342, 1, 2, 1), (344, 0, 1, 1), (344, 0, 2, 0), (344, 0, 3, 1), (344, 0, 4, 1),
    (344, 1, 3, 1), (344, 1, 5, 0), (344, 2, 5, 0), (347, 0, 1, 1), (348, 1, 4, 1),
    (348, 2, 3, 1), (348, 3, 4, 1), (352, 0, 2, 1), (352, 0, 3, 1), (352, 0, 4, 1),
    (354, 0, 3, 0), (354, 1, 5, 0), (354, 2, 4, 1), (355, 0, 3, 0), (355, 0, 4, 0),
    (356, 0, 3, 1), (359, 0, 2, 0), (359, 0, 3, 0), (359, 1, 2, 0), (359, 3, 4, 1),
    (362, 0, 2, 0), (363, 0, 2, 0), (363, 1, 2, 0), (364, 0, 3, 0), (364, 2, 3, 0),
    (365, 0, 1, 0), (368, 0, 1, 0), (368, 0, 3, 0), (368, 1, 2, 0), (369, 0, 1, 0),
    (369, 1, 2, 0), (370, 1, 2, 1), (370, 1, 4, 1), (374, 0, 4, 0), (374, 1, 4, 0),
    (378, 0, 1, 1), (380, 0, 3, 1), (383, 0, 1, 1), (393, 0, 2, 1), (569, 0, 4, 1),
    (570, 0, 2, 0), (570, 1, 2, 0), (577, 0, 1, 0), (577, 0, 2, 0), (578, 1, 2, 0),
    (579, 0, 1, 0), (579, 1, 3, 0), (617, 0, 1, 0), (618, 0, 1, 1), (618, 0, 2, 0),
    (618, 0, 3, 1), (659, 1, 2, 0), (660, 0, 3, 0), (660, 1, 3, 0), (661, 1, 2, 0),
    (703, 0, 1, 0), (703, 0, 2, 0), (703, 0, 3, 1), (755, 1, 2, 0), (757, 0, 1, 1),
    (757, 1, 2, 1), (758, 0, 3, 1), (758, 1, 2, 1), (761, 2, 3, 0), (781, 0, 1, 0),
    (782, 1, 2, 1), (782, 1, 3, 1), (784, 0, 1, 1), (811, 0, 3, 0),
)  # fmt: skip


def _clean_label(value: object) -> str:
    # A label may not contain the separator; newlines inside a label help nobody.
    return " ".join(str(value).split()).replace(SEPARATOR, "/")


def _canonical(labels: pd.Series) -> pd.Series:
    """One spelling per case-folded label: the export spells one theme two ways."""
    folded = labels.str.casefold()
    spelling = labels.groupby(folded).agg(lambda s: s.value_counts().index[0])
    return folded.map(spelling)


def read_grand_debat_comments(folder: Path | None = None) -> pd.DataFrame:
    """Every comment of by_theme_comments/*.csv: id, text, theme, question."""
    folder = folder or GRAND_DEBAT / "by_theme_comments"
    frames = []
    for path in sorted(folder.glob("*.csv")):
        df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
        missing = {"body", "question", "categorie"} - set(df.columns)
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        # Row numbers as a spreadsheet shows them (header = 1), so an id points at the source.
        df["id"] = [f"{path.stem}-{row}" for row in range(2, len(df) + 2)]
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["text"] = df["body"].str.strip()
    df = df[df["text"] != ""]
    return pd.DataFrame({
        "id": df["id"],
        "text": df["text"],
        "theme": _canonical(df["categorie"].map(_clean_label)),
        "question": df["question"].map(_clean_label),
    }).reset_index(drop=True)


def merge_copies(df: pd.DataFrame, label_column: str) -> pd.DataFrame:
    """One row per long text posted several times, carrying the labels of all its copies."""
    long_text = df["text"].str.len() >= MERGE_MIN_CHARS
    key = df["text"].where(long_text, df["id"])  # short texts never merge
    rows = []
    for _, group in df.groupby(key, sort=False):
        labels = list(dict.fromkeys(group[label_column]))
        first = group.iloc[0]
        rows.append({"id": first["id"], "text": first["text"],
                     "labels": SEPARATOR.join(labels), "question": first["question"]})
    return pd.DataFrame(rows)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, encoding="utf-8")
    return path


def grand_debat(out: Path) -> dict[str, Path]:
    """Write the Grand Débat theme, question and proposal label files into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    comments = read_grand_debat_comments()
    themes = merge_copies(comments, "theme")
    questions = merge_copies(comments, "question").drop(columns="question")
    proposals = pd.read_csv(GRAND_DEBAT / "raw" / "propositions-libres.csv", sep=";", dtype=str,
                            keep_default_na=False)
    return {
        "themes": _write(themes, out / "grand-debat-themes.csv"),
        "questions": _write(questions, out / "grand-debat-questions.csv"),
        "propositions": _write(_proposals(proposals), out / "grand-debat-propositions.csv"),
    }


def _proposals(raw: pd.DataFrame) -> pd.DataFrame:
    """Free proposals: title + body as text, the author's category as label."""
    def text_of(row: pd.Series) -> str:
        body = re.sub(r"<[^>]+>", " ", unescape(row.get("body", "") or ""))
        return " ".join(f"{row.get('title', '')}. {body}".split()).strip(". ")

    category = "category/name/fr"
    frame = pd.DataFrame({
        "id": [f"proposition-{v}" for v in raw["id"]],
        "text": raw.apply(text_of, axis=1),
        "labels": raw[category].map(_clean_label).replace("", "Aucune"),
    })
    return frame[frame["text"] != ""]


def an_egalite_path() -> Path:
    """The argument gold file of the Assemblée nationale consultation (already in format)."""
    return AN_EGALITE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: a new temporary folder)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="synthese-datasets-"))
    for name, path in grand_debat(out).items():
        n = sum(1 for _ in csv.reader(path.open(encoding="utf-8"))) - 1
        print(f"{name}: {path} ({n} lignes)")
    print(f"arguments: {an_egalite_path()} (déjà au format id,text,argument)")


if __name__ == "__main__":
    main()
