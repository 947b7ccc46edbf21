"""Calibrate the support threshold of verify.py on the summaries of a real run.

A summary sentence is « étayée » when its cosine similarity to at least one argument of
its theme reaches SUPPORT_THRESHOLD. This script measures, for a range of thresholds, how
the check separates sentences that are supported from sentences that are not:

- **real**: every sentence of every theme summary the model wrote, scored against the
  arguments of its own theme (most are supported; the model may have invented a few);
- **other theme**: the same sentences scored against the arguments of another theme
  (the theme that follows in size order): a claim the theme's answers do not make, but
  on the consultation's subject and in the model's style, the hard case;
- **invented**: claims written by hand that no answer of the consultation makes
  (INVENTED below), scored against every theme: the case of a model that invents.

It reads a DuckDB file written by ``synthese run`` (its latest completed run), embeds
with the run's embedder, and prints one table. Example:

    PYTHONPATH=src .venv/bin/python benchmarks/support_threshold.py data/processed/synthese.duckdb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthese.cluster import vector_texts
from synthese.embed import make_embedder
from synthese.keys import content_hash
from synthese.storage import Store
from synthese.summarise import split_sentences

# Plausible statements for a summary of a French public consultation, that neither the
# demo consultation (AI at school) nor the Grand Débat comments (Lille) make. Some are
# on the demo's subject (AI, school) but assert something no answer says.
INVENTED = [
    "Les répondants demandent que l'intelligence artificielle remplace les inspecteurs lors des rendez-vous de carrière.",
    "Une majorité souhaite que les robots surveillent la cour de récréation.",
    "Les enseignants réclament la fermeture des cantines le mercredi.",
    "Les parents exigent que les notes du baccalauréat soient attribuées par tirage au sort.",
    "Plusieurs répondants proposent de construire une piscine olympique dans chaque collège.",
    "Les participants veulent interdire les vélos électriques sur les pistes cyclables.",
    "La suppression des vacances d'été est largement plébiscitée.",
    "Les répondants estiment que le prix du gazole doit tripler dès l'an prochain.",
    "Il est demandé que chaque élève reçoive un cheval pour se rendre à l'école.",
    "Les enseignants souhaitent être payés en cryptomonnaie.",
    "La majorité réclame le retour de l'uniforme militaire dans les lycées agricoles.",
    "Les participants proposent de déplacer la capitale à Lille.",
    "Les répondants demandent la gratuité des péages autoroutiers le dimanche.",
    "Une partie des répondants souhaite que la chasse à courre soit enseignée en maternelle.",
    "Les professeurs veulent que les réunions parents-professeurs se tiennent à minuit.",
    "L'intelligence artificielle devrait élire les délégués de classe à la place des élèves.",
    "Les répondants souhaitent que les téléphones portables soient distribués gratuitement dès la maternelle.",
    "La consultation montre un rejet massif de l'enseignement des mathématiques.",
    "Les personnels demandent la construction d'une centrale nucléaire dans chaque académie.",
    "Les enseignants proposent de remplacer les manuels scolaires par des bandes dessinées japonaises.",
]

THRESHOLDS = [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70]


def load_themes(store: Store) -> tuple[str, list[dict]]:
    embed_model, themes = store.latest_run_themes()
    if embed_model is None:
        raise SystemExit("aucun run terminé dans cette base")
    out = []
    for t in themes.itertuples(index=False):
        # The vectors the checks use: those of the quotes (cluster.vector_texts).
        texts = vector_texts(pd.DataFrame({"text": list(t.texts), "quote": list(t.quotes)}))
        out.append({"cluster_id": int(t.cluster_id), "sentences": split_sentences(t.summary),
                    "vectors": store.get_embeddings([content_hash(x) for x in texts], embed_model)})
    return embed_model, out


def best(sentence_vecs: np.ndarray, argument_vecs: np.ndarray) -> np.ndarray:
    return (sentence_vecs @ argument_vecs.T).max(axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--embedder", default=None, help="default: the run's embedder")
    args = parser.parse_args(argv)
    store = Store(args.db, read_only=True)
    embed_model, themes = load_themes(store)
    embedder = make_embedder(args.embedder or embed_model.split("@")[0])
    if len(themes) < 2:
        raise SystemExit("il faut au moins deux thèmes résumés")
    real, other = [], []
    invented_vecs = embedder.embed(INVENTED)
    invented = np.full(len(INVENTED), -1.0)
    for i, theme in enumerate(themes):
        if not theme["sentences"]:
            continue
        vecs = embedder.embed(theme["sentences"])
        real.extend(best(vecs, theme["vectors"]).tolist())
        neighbour = themes[(i + 1) % len(themes)]
        other.extend(best(vecs, neighbour["vectors"]).tolist())
        # An invented claim is scored against every theme, as if planted in each summary;
        # its best score over all themes is the hardest case.
        invented = np.maximum(invented, best(invented_vecs, theme["vectors"]))
    real_a, other_a = np.array(real), np.array(other)
    print(f"base : {args.db} ; encodeur : {embed_model} ; {len(themes)} thèmes, "
          f"{len(real)} phrases de résumé, {len(INVENTED)} affirmations inventées")
    print(f"médianes : réelles {np.median(real_a):.3f}, autre thème {np.median(other_a):.3f}, "
          f"inventées (meilleur thème) {np.median(invented):.3f}")
    print("| seuil | phrases réelles étayées | phrases d'un autre thème signalées | "
          "affirmations inventées signalées | Youden (réelles vs autre thème) |")
    print("|---:|---:|---:|---:|---:|")
    for t in THRESHOLDS:
        tpr = float(np.mean(real_a >= t))
        tnr_other = float(np.mean(other_a < t))
        tnr_inv = float(np.mean(invented < t))
        print(f"| {t:.2f} | {tpr:.1%} | {tnr_other:.1%} | {tnr_inv:.1%} | {tpr + tnr_other - 1:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
