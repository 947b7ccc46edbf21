"""Campaigns: near-identical answers grouped, and a member's ideas taken from its
representative on its own segments."""

from __future__ import annotations

from synthese.campaigns import campaign_units, derive_extraction, find_campaigns, jaccard, shingles
from synthese.extract import extract_answer
from synthese.prompts import load_prompt

TEMPLATE = ("Nous refusons que l'intelligence artificielle serve de prétexte à supprimer des "
            "postes d'enseignants. Nous demandons une formation sur le temps de service et un "
            "cadre national sur la protection des données des élèves. L'IA ne remplacera jamais "
            "la relation pédagogique entre un professeur et ses élèves.")
OTHERS = [
    ("L'IA m'aide à préparer des exercices différenciés pour mes élèves de cinquième, et je "
    "gagne un temps précieux le soir pour corriger les copies et préparer les séances suivantes."),
    ("Je crains que les élèves utilisent ChatGPT pour faire leurs devoirs à la maison sans rien "
    "apprendre, et nous n'avons aucun outil fiable pour détecter ces textes écrits par la machine."),
    ("Dans mon école, le réseau est si lent que tout usage de l'intelligence artificielle en classe "
    "est illusoire tant que l'équipement numérique des salles n'est pas renouvelé par la commune."),
]


def test_near_identical_answers_form_one_campaign_and_the_others_none() -> None:
    variants = [
        TEMPLATE,
        TEMPLATE.replace("intelligence", "inteligence").replace("élèves.", "eleves."),
        TEMPLATE + " Signé : une professeure des écoles syndiquée.",
        TEMPLATE.rsplit(" L'IA", 1)[0],  # the last sentence removed
        "Je reprends le texte de mon syndicat. " + TEMPLATE,
    ]
    answers = [(f"a{i}", "q", t) for i, t in enumerate(variants)]
    answers += [(f"b{i}", "q", t) for i, t in enumerate(OTHERS)]
    answers.append(("c0", "autre", TEMPLATE))  # another question: never mixed in
    campaigns = find_campaigns(answers)
    assert len(campaigns) == 1
    c = campaigns[0]
    assert sorted(c.answer_ids) == [f"a{i}" for i in range(5)]
    assert c.representative_id == c.answer_ids[0] and c.text in variants
    assert c.min_similarity >= 0.5


def test_two_copies_or_short_answers_are_not_a_campaign() -> None:
    assert find_campaigns([("a", "q", TEMPLATE), ("b", "q", TEMPLATE)]) == []
    short = [(f"s{i}", "q", "Plus de formation pour les enseignants.") for i in range(10)]
    assert find_campaigns(short) == []


def test_unrelated_answers_share_few_shingles() -> None:
    assert jaccard(shingles(OTHERS[0]), shingles(OTHERS[1])) < 0.2


def test_a_member_gets_the_representative_ideas_on_its_own_segments(fake_llm) -> None:
    prompt = load_prompt("extract_arguments", 2)
    representative = extract_answer("rep", TEMPLATE, "Que pensez-vous de l'IA ?", fake_llm, prompt)
    rows = [{"text": a.text, "kind": a.kind, "segments": a.segments, "flags": a.flags}
            for a in representative.arguments]
    member = ("Je reprends le texte de mon syndicat. "
              + TEMPLATE.rsplit(" L'IA", 1)[0].replace("intelligence", "inteligence"))
    derived = derive_extraction("m1", member, TEMPLATE, rows)
    assert derived.status == "processed" and derived.n_calls == 0
    assert "campagne" in derived.flags
    for a in derived.arguments:  # every quote is the member's own text at its offsets
        assert member[a.quote_start:a.quote_end] == a.quote
    quotes = " ".join(a.quote for a in derived.arguments)
    assert "inteligence" in quotes  # the member's spelling, not the representative's
    assert "relation pédagogique" not in quotes  # the sentence it removed
    own = [a for a in derived.arguments if "non_reformule" in a.flags
           and "syndicat" in a.quote]
    assert own, "the member's own sentence is kept as it is"
    assert any("campagne" in a.flags for a in derived.arguments)


def test_each_campaign_counts_once_as_a_unit() -> None:
    units = campaign_units({"a1": "R1", "a2": "R2", "a3": "R3"},
                           [{"campaign_id": "c", "answer_ids": ["a1", "a2"]}])
    assert units == {"R1": "campagne:c", "R2": "campagne:c"}


def test_a_campaign_is_extracted_once_and_every_member_is_counted(tmp_path) -> None:
    from fakes import FakeLLM
    from runs import run

    variants = [TEMPLATE, TEMPLATE + " Signé : un professeur syndiqué.",
                TEMPLATE.replace("intelligence", "inteligence"), "Texte commun : " + TEMPLATE]
    lines = ["id;degre;q"] + [f"C{i};1er degré;{t}" for i, t in enumerate(variants)]
    lines += [f"O{i};2nd degré;{t}" for i, t in enumerate(OTHERS)]
    export = tmp_path / "export.csv"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    llm = FakeLLM()
    done = run(export, tmp_path, llm)
    extraction_calls = [c for c in llm.calls
                        if "arguments" in ((c["schema"] or {}).get("properties") or {})]
    assert len(extraction_calls) == len(OTHERS) + 1  # the campaign's text is read once
    assert done.counts["processed"] == len(variants) + len(OTHERS)
    assert done.counts["campaigns"] == 1 and done.counts["campaign_members"] == 3
    with done.store() as store:
        mart = store.query("SELECT * FROM marts.campaigns")
        members = store.query(
            "SELECT a.answer_id, count(g.argument_id) AS n, bool_and(list_contains(g.flags, "
            "'campagne')) AS flagged FROM marts.answers a JOIN core.arguments g USING (answer_id) "
            "WHERE a.respondent_id LIKE 'C%' GROUP BY a.answer_id")
    assert len(mart) == 1 and mart["n_answers"][0] == 4
    assert len(members) == 4 and (members["n"] > 0).all()
    html = done.report_path.read_text("utf-8")
    assert "4 réponses reprennent un même texte" in html
    assert "appels au modèle évités" in html
    assert "Part, chaque texte repris compté une fois" in html
