"""Do the themes gather one subject each? Vectors of the quotes against vectors of the
reformulations, and of the quotes without the question's subject (what the run clusters on,
``cluster.placement_texts``), on the arguments of a finished run.

    PYTHONPATH=src .venv/bin/python benchmarks/theme_topics.py data/processed/synthese.duckdb

The demo has no human theme labels, so each argument is labelled by word patterns
(``TOPICS``, the subjects the demo was written around, data/raw/README.md): an argument
whose words match exactly one pattern gets that topic, the others are left out of the
scores. Labels are set twice, on the quotes and on the reformulations, so that neither
vector source is favoured by the labels. For each source the arguments are clustered as the
pipeline does (``cluster_vectors`` with the kinds, seed 42 and 43) and scored by:

- NMI and ARI between themes and topics (labelled arguments in a theme);
- topics recovered: topics that hold at least 40 % (and 4) of a theme's labelled arguments;
- the biggest theme's share and « autres / inclassables ».

Patterns are crude; read the figures as a comparison of two sources on the same labels,
not as an absolute quality.
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

from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from synthese.cluster import cluster_vectors, placement_texts, subject_terms, vector_texts
from synthese.embed import make_embedder
from synthese.storage import Store

TOPICS = {
    "préparation, différenciation": r"préparer|préparation|différenci|personnalis|adapt|exercices|niveaux",
    "temps, administratif": r"gagn\w* du temps|gain de temps|temps gagné|administrati|paperasse"
                            r"|mails?|courriers?|comptes? rendus",
    "triche, devoirs": r"trich|fraud|devoirs?|plagiat|copi",
    "esprit critique, effort": r"esprit critique|réfléchir|réflexion|effort|autonomie|paresse|dépendan",
    "formation": r"formation|formé|former|tutoriel",
    "cadre, charte": r"cadre|charte|règles|consignes|institution|ministère|éthique|permis|interdi",
    "données, RGPD": r"données|rgpd|vie privée|confidentiel|souverain",
    "inégalités, équipement": r"inégalit|équipement|matériel|wifi|ordinateur|réseau|fracture|tablette",
    "remplacement, rôle": r"remplac|rôle|métier",
    "environnement": r"environnement|énergie|écolog|carbone|climat",
    "évaluation": r"évaluation|évaluer|notes?|copies|correction",
    "enseigner l'IA": r"enseigner l'ia|objet d'enseignement|éducation aux médias|apprendre aux "
                      r"élèves à|culture numérique",
    "inclusion": r"dys|ulis|allophone|aesh|handicap|inclusi|traduction",
    "fiabilité": r"hallucin|erreurs?|fiab|faux|inventé|sources",
    "1er degré, écrans": r"trop jeunes|écrans?|13 ans|maternelle|petits",
}


def topic_of(text: str) -> str:
    """The one topic whose pattern the text matches, or "" (none, or several)."""
    hits = [name for name, pattern in TOPICS.items() if re.search(pattern, text.lower())]
    return hits[0] if len(hits) == 1 else ""


def scores(labels: np.ndarray, topics: np.ndarray) -> dict:
    inside = (topics != "") & (labels >= 0)
    recovered = set()
    for theme in np.unique(labels[labels >= 0]):
        found = Counter(topics[inside & (labels == theme)])
        if found:
            top, n = found.most_common(1)[0]
            if n >= 4 and n / sum(found.values()) >= 0.4:
                recovered.add(top)
    sizes = np.bincount(labels[labels >= 0])
    return {
        "themes": int(labels.max()) + 1,
        "NMI": round(normalized_mutual_info_score(topics[inside], labels[inside]), 3),
        "ARI": round(adjusted_rand_score(topics[inside], labels[inside]), 3),
        "topics recovered": len(recovered),
        "biggest theme": f"{sizes.max() / labels.size:.1%}",
        "autres": f"{np.mean(labels < 0):.1%}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43])
    args = parser.parse_args(argv)
    store = Store(args.db, read_only=True)
    latest = store.query("SELECT run_id, config FROM core.runs WHERE status = 'completed' "
                         "ORDER BY finished_at DESC LIMIT 1")
    run = latest["run_id"][0]
    question = " / ".join(json.loads(latest["config"][0]).get("question_texts") or [])
    trace = store.query("SELECT DISTINCT argument_id, argument_text, quote, kind FROM marts.trace "
                        "WHERE run_id = ? ORDER BY argument_id", [run])
    store.close()
    quotes = vector_texts(trace.rename(columns={"argument_text": "text"}))
    terms = subject_terms(question, quotes)
    texts = {"reformulations": list(trace["argument_text"]), "quotes": quotes}
    sources = {**texts, f"quotes without {', '.join(terms) or 'nothing'}":
               placement_texts(quotes, terms)}
    embedder = make_embedder()
    kinds = list(trace["kind"].fillna("constat"))
    print(f"{len(trace)} arguments of run {run}; embedder {embedder.name}\n")
    print("| vectors of | topics set on | seed | themes | NMI | ARI | topics recovered "
          "| biggest theme | autres |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for source, words in sources.items():
        vectors = embedder.embed(words)
        for seed in args.seeds:
            labels = cluster_vectors(vectors, seed=seed, kinds=kinds).labels
            for labelled_on, on in texts.items():
                topics = np.array([topic_of(t) for t in on])
                s = scores(labels, topics)
                print(f"| {source} | {labelled_on} | {seed} | " + " | ".join(map(str, s.values()))
                      + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
