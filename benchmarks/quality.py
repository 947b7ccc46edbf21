"""The quality figures of issue 11, read from the database of a finished run.

    PYTHONPATH=src .venv/bin/python benchmarks/quality.py data/processed/synthese.duckdb [--demo]

For the latest completed run of the database it prints, as a Markdown table:

- synthesis sentences supported by the themes they cite, and pairs of synthesis sentences
  with cosine >= 0.9 (the default embedder);
- respondent coverage: respondents with an idea in a cited theme, over respondents with an
  idea;
- themes with >= 5 % of respondents that the synthesis does not cite;
- summary sentences supported, and the share of the model's own sentences supported;
- summaries by their number of sentences, and summary sentences that publish an idea the
  model's bound cut short (``cut_short``);
- titles: distinct, keyword lists, closer to their own centroid than to any other, written by
  the model;
- « autres / inclassables » share of the arguments;
- ideas whose reformulation says a content word their answer does not (``words_not_in_answer``);
- with --demo, which of the ten themes the demo was written around the synthesis names
  (a pattern per theme, listed below; read the synthesis too).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthese.cluster import centroids, vector_texts
from synthese.embed import make_embedder
from synthese.storage import Store
from synthese.summarise import content_stems
from synthese.verify import said_form, whole_idea

# The themes the demo was written around (data/raw/README.md), and words that name each.
DEMO_THEMES = {
    "personnalisation": r"personnalis|différenci|adapt\w* (aux|à chaque|au niveau)|sur mesure|niveaux",
    "temps gagné": r"gagn\w* du temps|gain de temps|temps gagné|tâches administratives|paperasse"
                   r"|administrati",
    # « réfléchi », not « réfléchir »: « les élèves ne réfléchissent déjà plus » says it too
    # (widened on 6 December 2026, evening; docs/quality.md says what each form counts)
    "dépendance et esprit critique": r"esprit critique|dépendance|réfléchi|effort|autonomie",
    "inégalités": r"inégalit|fracture|équit|milieux? (défavoris|modeste)|zones? rurale",
    "données personnelles": r"données|rgpd|vie privée|confidentialit",
    "formation": r"formation|former|formés?",
    "équipement": r"équipement|matériel|wifi|infrastructure|ordinateur|réseau|tablettes?|\btbi\b"
                   r"|informatique",
    "objectifs clairs": r"cadre|objectifs?|charte|consignes?|règles",
    "triche": r"trich|fraud|devoirs? (à la )?maison|plagiat",
    "peur du remplacement": r"remplac",
}


def words_not_in_answer(trace, question: str) -> float:
    """The share of ideas whose reformulation says a content word its answer does not say:
    neither the question's nor one sharing its first four letters with a word of the answer
    (« utilisation » for « utiliser » is the answer's). Paraphrase (« nécessité ») and
    invention (« Utilisation du gymnase… », a 1.5B idea on an answer that names no
    gymnasium) alike; the 0.5B keeps to its answers' words (docs/quality.md)."""
    asked = content_stems(question)
    ideas = trace.drop_duplicates("argument_id")
    saying = 0
    for idea, answer in zip(ideas["argument_text"], ideas["answer_text"], strict=True):
        said = content_stems(str(answer))
        prefixes = {a[:4] for a in said}
        saying += any(w[:4] not in prefixes for w in content_stems(str(idea)) - said - asked)
    return saying / len(ideas) if len(ideas) else 0.0


def cut_short(checks, trace) -> int:
    """Summary sentences that publish an idea the model's bound cut short (« …mais elle est
    devenue mon. ») rather than its quote: the idea whole (``verify.whole_idea``) is not what
    the sentence says."""
    ideas = trace.drop_duplicates("argument_id").set_index("argument_id")
    cut = 0
    for text, origin, ids in zip(checks["text"], checks["origin"], checks["argument_ids"],
                                 strict=True):
        if origin != "argument" or ids is None or not len(ids) or ids[0] not in ideas.index:
            continue
        idea, quote = ideas.loc[ids[0], "argument_text"], ideas.loc[ids[0], "quote"]
        bare = " ".join(str(idea).split())
        cut += whole_idea(idea, quote) != bare and said_form(text) == said_form(bare)
    return cut


def figures(db: Path, demo: bool) -> dict:
    store = Store(db, read_only=True)
    run = store.query("SELECT * FROM core.runs WHERE status = 'completed' "
                      "ORDER BY finished_at DESC LIMIT 1").iloc[0]
    synth = store.query("SELECT * FROM marts.synthesis_sentences WHERE run_id = ? "
                        "ORDER BY section, paragraph, position", [run["run_id"]])
    themes = store.query("SELECT * FROM marts.clusters WHERE run_id = ? ORDER BY cluster_id",
                         [run["run_id"]])
    trace = store.query("SELECT * FROM marts.trace WHERE run_id = ?", [run["run_id"]])
    checks = store.query(
        "SELECT s.* FROM core.summary_sentences s JOIN core.run_themes t USING (summary_key) "
        "WHERE t.run_id = ?", [run["run_id"]])
    embedder = make_embedder()
    vectors = embedder.embed(list(synth["text"])) if len(synth) else np.zeros((0, 1))
    sims = vectors @ vectors.T if len(synth) else np.zeros((0, 0))
    pairs = int(((sims >= 0.9).sum() - len(synth)) // 2) if len(synth) else 0
    cited = {int(i) for ids in synth["cluster_ids"] for i in ids}
    with_ideas = trace["respondent_id"].nunique()
    covered = trace[trace["cluster_id"].isin(cited)]["respondent_id"].nunique()
    real = themes[themes["cluster_id"] >= 0]
    uncited = [int(c) for c, share in zip(real["cluster_id"], real["share_respondents"])
               if share >= 0.05 and int(c) not in cited]
    titles = list(real["label"])
    folded = [" ".join(re.findall(r"\w+", t.lower())) for t in titles]
    keyword_lists = sum("·" in t for t in titles)
    args = trace[trace["cluster_id"] >= 0]
    # The vectors themes are built on: the quotes (cluster.vector_texts).
    arg_vectors = embedder.embed(vector_texts(args.rename(columns={"argument_text": "text"})))
    cents = centroids(arg_vectors, args["cluster_id"].to_numpy())
    title_vectors = embedder.embed(titles) if titles else np.zeros((0, 1))
    closer = 0
    for cid, vec in zip(real["cluster_id"], title_vectors):
        own = float(cents[int(cid)] @ vec)
        others = [float(c @ vec) for k, c in cents.items() if k != int(cid)]
        closer += own > max(others, default=-1)
    origin = checks["origin"].fillna("modele")
    model_sentences = (origin == "modele").sum() + (origin == "argument").sum()
    out = {
        "run": run["run_id"],
        "synthesis sentences": len(synth),
        "synthesis sentences supported": float(synth["supported"].mean()) if len(synth) else 0.0,
        "synthesis sentence pairs with cosine >= 0.9": pairs,
        "respondent coverage (of respondents with an idea)": covered / with_ideas if with_ideas else 0,
        "themes >= 5 % not cited": uncited,
        "summary sentences supported": float(checks["supported"].mean()) if len(checks) else 0.0,
        "summaries by number of sentences": dict(sorted(Counter(
            checks.groupby("summary_key").size().tolist()).items())),
        "summary sentences of an idea cut short": cut_short(checks, trace),
        "model's summary sentences supported":
            float(((origin == "modele") & checks["supported"]).sum() / model_sentences)
            if model_sentences else 0.0,
        "themes": len(real),
        "titles distinct": len(set(folded)) / len(folded) if folded else 1.0,
        "titles that are keyword lists": keyword_lists,
        "titles closer to their own centroid": closer / len(real) if len(real) else 1.0,
        "titles written by the model": float((real["title_origin"] == "modele").mean())
        if len(real) else 0.0,
        "autres / inclassables (arguments)": float((trace["cluster_id"] < 0).mean()),
        "ideas saying a word their answer does not": words_not_in_answer(
            trace, " ".join(json.loads(run["config"]).get("question_texts") or [])),
        "timings": json.loads(run["timings"]),
        "tokens": {k: v for k, v in json.loads(run["tokens"]).items() if k != "by_stage"},
    }
    if demo:
        text = " ".join(synth["text"]).lower()
        out["demo themes named"] = {name: bool(re.search(pattern, text))
                                    for name, pattern in DEMO_THEMES.items()}
    store.close()
    return out


def markdown(found: dict) -> str:
    lines = ["| figure | value |", "|---|---|"]
    for key, value in found.items():
        if isinstance(value, float):
            value = f"{value:.1%}" if value <= 1 else f"{value:.2f}"
        lines.append(f"| {key} | {value} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--demo", action="store_true", help="check the demo's ten themes")
    args = parser.parse_args(argv)
    print(markdown(figures(args.db, args.demo)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
