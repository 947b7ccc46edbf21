"""Traceability checks by code: supported sentences, citations, coverage (issue 6)."""

import numpy as np
from fakes import FakeLLM
from runs import run

from synthese.verify import best_themes, support

INVENTED = "Les enseignants exigent une prime annuelle de cinq cents euros versée par la mairie."


def test_support_reports_best_candidates_and_threshold():
    cands = np.eye(3, dtype=np.float32)
    sents = np.array([[0.9, 0.1, 0.0], [0.3, 0.3, 0.3]], dtype=np.float32)
    first, second = support(sents, cands, threshold=0.5)
    assert first.supported and first.best[0] == 0 and first.score == np.float32(0.9)
    assert not second.supported


def test_best_themes_picks_the_themes_of_the_closest_arguments():
    cands = np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32)
    themes, score = best_themes(np.array([0, 1], dtype=np.float32), np.array([0, 0, 1]), cands, 0.5)
    assert themes == [1] and score == 1.0


def _run(export, tmp_path, llm):
    return run(export, tmp_path, llm, pseudonymise=False)


def _themed_export(tmp_path):
    """Three subjects, each said in six different ways, each way by two respondents: themes
    whatever the order of the ideas (the ten answers of ``small_export`` are few enough that
    one order gave a single theme of brief answers, summed up by code), and ideas distinct
    enough to replace a planted sentence with one not said already."""
    topics = [
        ["ChatGPT et la triche : les devoirs maison sont copiés.",
         "Avec ChatGPT la triche devient massive au lycée.",
         "La triche via ChatGPT fausse toutes les notes.",
         "ChatGPT rend la triche indétectable en rédaction.",
         "Triche généralisée grâce à ChatGPT, même en sixième.",
         "Contre la triche par ChatGPT, rien n'est prévu."],
        ["Formation des professeurs : rien de sérieux proposé.",
         "Aucune formation pour les professeurs du premier degré.",
         "Les professeurs attendent une vraie formation pratique.",
         "Une formation courte ne suffira pas aux professeurs.",
         "Une formation obligatoire des professeurs avant tout usage.",
         "Sans formation, les professeurs bricolent seuls."],
        ["Les données des élèves partent vers des entreprises américaines.",
         "Données personnelles livrées aux entreprises américaines : inacceptable.",
         "Aucune garantie sur les données confiées aux entreprises.",
         "Nos données face aux géants et aux entreprises étrangères, quel risque.",
         "Les entreprises collectent nos données sans contrôle.",
         "Qui garde les données ? Des entreprises américaines."],
    ]
    rows = ["id;q"] + [f"R{t}{i}{k};{text}" for t, texts in enumerate(topics)
                       for i, text in enumerate(texts) for k in range(2)]
    export = tmp_path / "export.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return export


def test_an_invented_summary_sentence_is_never_published_as_the_models(tmp_path):
    p = _run(_themed_export(tmp_path), tmp_path, FakeLLM(invent=INVENTED))
    store = p.store()
    rows = store.query("SELECT text, supported, origin, model_text, argument_ids "
                       "FROM core.summary_sentences")
    planted = rows[rows["model_text"] == INVENTED]
    # every planted sentence was caught and replaced by the closest idea of its theme
    assert len(planted) >= 1 and (planted["origin"] == "argument").all()
    assert INVENTED not in set(rows["text"])
    assert rows["supported"].all() and all(len(ids) > 0 for ids in rows["argument_ids"])
    assert p.trust["summary_model_sentences_supported_share"] < 1.0
    assert p.trust["summary_sentences_replaced"] == len(planted)
    html = p.report_path.read_text()
    assert "idée d&#39;un répondant" in html or "idée d'un répondant" in html
    assert INVENTED in html  # shown to the reader as the sentence that was replaced
    stored = store.query("SELECT trust FROM core.runs WHERE run_id = ?", [p.run_id])["trust"][0]
    assert "summary_sentences_replaced" in stored
    store.close()


def test_trust_figures_are_printed_and_stored(small_export, tmp_path):
    p = _run(small_export, tmp_path, FakeLLM())
    t = p.trust
    assert t["quotes_verified_share"] == 1.0 and t["quotes_segment_share"] == 1.0
    with p.store() as store:
        uncited = store.query("SELECT origin, text FROM marts.synthesis_sentences "
                              "WHERE run_id = ? AND len(cluster_ids) = 0", [p.run_id])
    # only code's statements of an absence (« aucun répondant n'en exprime ») cite no theme
    assert all(o == "code" and "aucun" in t.lower() for o, t in uncited.itertuples(index=False))
    assert t["synthesis_sentences_cited_share"] > 0
    assert 0 < t["respondent_coverage"] <= 1.0
    text = "\n".join(p.lines())
    assert "citations retrouvées dans les réponses 100.0%" in text
    assert "couverture des répondants" in text and "Replis : " in text
    with p.store() as store:
        trace = store.query("SELECT * FROM marts.trace WHERE run_id = ?", [p.run_id])
    assert {"quote_start", "quote_end", "match_kind", "argument_flags", "cluster_id",
            "summary_key"} <= set(trace.columns)


def test_an_unsupported_summary_sentence_is_replaced_by_the_closest_idea():
    import pandas as pd

    from synthese.verify import ground_summary

    members = pd.DataFrame({"argument_id": ["a", "b"],
                            "text": ["la triche avec ChatGPT", "les devoirs faits par l'IA"]})
    ideas = np.array([[1, 0, 0], [0.8, 0.6, 0]], dtype=np.float32)
    sentences = ["La triche progresse.", "Les enseignants veulent une prime."]
    vectors = np.array([[0.9, 0.1, 0.0], [0.1, 0.2, 0.97]], dtype=np.float32)

    kept, replaced = ground_summary(sentences, vectors, members, ideas)

    assert (kept.text, kept.origin, kept.supported) == ("La triche progresse.", "modele", True)
    assert replaced.origin == "argument" and replaced.supported
    assert replaced.model_text == "Les enseignants veulent une prime."
    assert replaced.text == "Les devoirs faits par l'IA."  # the idea closest to the sentence


def test_an_unsupported_sentence_takes_the_closest_idea_not_said_even_past_the_closest_few():
    import pandas as pd

    from synthese.verify import TOP_K, ground_summary

    # The closest ideas are copies of the sentence already published (a text pasted by
    # many respondents): the next idea of the theme replaces the invented sentence.
    copies = TOP_K + 1
    members = pd.DataFrame({"argument_id": [f"c{i}" for i in range(copies)] + ["d"],
                            "text": ["la triche avec ChatGPT"] * copies
                            + ["les devoirs faits par l'IA"]})
    ideas = np.array([[1, 0, 0]] * copies + [[0, 1, 0]], dtype=np.float32)
    sentences = ["La triche avec ChatGPT.", "Les enseignants veulent une prime."]
    vectors = np.array([[1, 0, 0], [0.5, 0.1, 0.86]], dtype=np.float32)

    kept, replaced = ground_summary(sentences, vectors, members, ideas)

    assert kept.origin == "modele"
    assert (replaced.origin, replaced.text, replaced.supported) == (
        "argument", "Les devoirs faits par l'IA.", True)


def test_an_empty_summary_falls_back_to_the_most_central_ideas():
    import pandas as pd

    from synthese.verify import ground_summary

    members = pd.DataFrame({"argument_id": ["a", "b", "c"], "text": ["un", "deux", "trois"]})
    out = ground_summary([], np.zeros((0, 2), np.float32), members, np.eye(3, dtype=np.float32))
    assert [(g.text, g.origin) for g in out] == [("Un.", "argument"), ("Deux.", "argument")]


def test_a_supported_summary_sentence_in_english_or_cut_short_is_replaced_all_the_same():
    import pandas as pd

    from synthese.verify import ground_summary

    members = pd.DataFrame({"argument_id": ["a", "b"],
                            "text": ["la triche avec ChatGPT", "les devoirs faits par l'IA"]})
    ideas = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
    sentences = ["Parents do their homework with ChatGPT, it is just a tool.",
                 "Les devoirs sont faits par l'IA et les"]
    vectors = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)  # both fully "supported"

    english, cut = ground_summary(sentences, vectors, members, ideas)

    assert (english.origin, english.text) == ("argument", "La triche avec ChatGPT.")
    assert (cut.origin, cut.text) == ("argument", "Les devoirs faits par l'IA.")
    assert english.model_text == sentences[0] and cut.model_text == sentences[1]


def test_a_supported_summary_sentence_in_the_first_person_or_looping_is_replaced():
    import pandas as pd

    from synthese.verify import ground_summary, repeated_phrase, summary_problem

    members = pd.DataFrame({"argument_id": ["a", "b", "c"],
                            "text": ["l'IA aide à préparer les cours", "la peur pour le métier",
                                     "le temps gagné"]})
    ideas = np.eye(3, dtype=np.float32)
    # Two respondents spliced into one voice, a loop, and a sentence fit to publish: all
    # three fully "supported" by their idea.
    sentences = ["L'IA m'a sauvé la mise, je suis très inquiète pour mon métier.",
                 "L'IA sert à préparer les cours, à préparer les cours.",
                 "Les enseignants disent gagner du temps."]

    spliced, looping, kept = ground_summary(sentences, ideas, members, ideas)

    assert (spliced.origin, spliced.text) == ("argument", "L'IA aide à préparer les cours.")
    assert (looping.origin, looping.text) == ("argument", "La peur pour le métier.")
    assert (kept.origin, kept.text) == ("modele", sentences[2])
    assert spliced.model_text == sentences[0] and looping.model_text == sentences[1]
    # What counts as the first person and as a loop, and what does not.
    for text in ("J’ai essayé avec mes élèves.", "Il me semble utile.", "C'est ma classe."):
        assert summary_problem(text) == "à la première personne", text
    for text in ("Même les parents s'en servent.", "Les mesures manquent.",
                 "Mme Durand en parle, moins souvent."):
        assert summary_problem(text) is None, text
    assert repeated_phrase("pour préparer mes cours, pour préparer mes cours") == \
        "pour préparer mes cours"
    assert repeated_phrase("de plus en plus, très très utile, vous vous en servez") is None
    # A loop longer than a few words, around a linking word (a demo summary, 7 December 2026).
    assert repeated_phrase("Les formations du PAF sur l'IA sont prises d'assaut, et les "
                           "formations du PAF sur l'IA sont prises d'assaut.") == \
        "les formations du paf sur l'ia sont prises d'assaut"
    for text in ("Réduire le nombre de parlementaires, réduire le nombre de mandats.",
                 "Petit à petit, encore et encore, pas à pas.",
                 "Les élèves et les parents, les élèves et les enseignants."):
        assert repeated_phrase(text) is None, text


def test_a_summary_sentence_that_says_again_what_the_summary_said_is_left_out():
    import pandas as pd

    from synthese.verify import SAID_AGAIN_COSINE, ground_summary

    members = pd.DataFrame({"argument_id": ["a", "b", "c"],
                            "text": ["l'IA doit rester un outil pour l'enseignant",
                                     "un outil pour le professeur, pas pour l'élève",
                                     "il faut former les enseignants"]})
    ideas = np.array([[1, 0, 0], [0.95, 0.3122, 0], [0, 0, 1]], dtype=np.float32)
    assert float(ideas[0] @ ideas[1]) >= SAID_AGAIN_COSINE
    # The 0.5B's demo summary, nearly word for word twice (0.80 with the default embedder),
    # then a sentence of its own.
    sentences = ["L'IA doit rester un outil pour l'enseignant, pas pour les enfants.",
                 "Elle doit rester un outil pour l'enseignant, pas pour les enfants.",
                 "Les enseignants demandent à être formés."]
    vectors = np.array([[1, 0, 0], [0.8, 0.6, 0], [0, 0, 1]], dtype=np.float32)
    out = ground_summary(sentences, vectors, members, ideas)
    assert [g.text for g in out] == [sentences[0], sentences[2]]
    # Other words that say the same (a cosine of 0.9 or more) are left out too; a sentence
    # on the same subject that says something else is kept.
    other = "Un outil pour le professeur et pas pour les élèves, voilà ce qu'on demande."
    close = np.array([[1, 0, 0], [0.95, 0.3122, 0]], dtype=np.float32)
    assert [g.text for g in ground_summary([sentences[0], other], close, members, ideas,
                                           least=1)] == [sentences[0]]
    apart = np.array([[1, 0, 0], [0.8, 0.6, 0]], dtype=np.float32)
    assert [g.text for g in ground_summary([sentences[0], other], apart, members, ideas)] \
        == [sentences[0], other]
    # A sentence replaced by an idea does not bring back what was said either: the closest
    # idea says the first sentence again, so the next one is taken, or none.
    english = "The teacher must keep it as a tool."
    out = ground_summary([sentences[0], english], vectors[:2], members, ideas)
    assert [(g.origin, g.text) for g in out] == [("modele", sentences[0]),
                                                 ("argument", "Il faut former les enseignants.")]


def test_a_sentence_said_again_without_its_accents_is_left_out():
    import pandas as pd

    from synthese.verify import ground_summary, said_form

    # A demo summary of 7 December 2026: the model's sentence, then a respondent's idea that
    # says it again without accents (ratio 84.8 with them), each supported by its own idea.
    members = pd.DataFrame({"argument_id": ["a", "b", "c"],
                            "text": ["L'impact écologique de tout ce débat est l'angle mort",
                                     "L'impact ecologique est l'angle mort de tout ce debat",
                                     "Une requête consomme plus qu'une recherche classique"]})
    ideas = np.array([[1, 0, 0], [0.8, 0.6, 0], [0, 0, 1]], dtype=np.float32)
    sentences = ["L'impact écologique de tout ce débat est l'angle mort de tout ce debat.",
                 "L'impact ecologique est l'angle mort de tout ce debat.",
                 "Une requête consomme plus qu'une recherche classique."]
    out = ground_summary(sentences, ideas, members, ideas)
    assert [g.text for g in out] == [sentences[0], sentences[2]]
    assert said_form("L'écologie, Ça COMPTE !") == "l ecologie ca compte"


def test_an_idea_copied_and_cut_short_is_given_whole_and_a_run_said_again_is_replaced():
    import pandas as pd

    from synthese.verify import SHARED_RUN, ground_summary

    members = pd.DataFrame({
        "argument_id": ["a", "b", "c"],
        "text": [("L'école devrait rester un lieu où l'on apprend à réfléchir avec les autres, "
                  "pas seul face à une machine."),
                 "Les élèves s'y connectent une fois et n'y reviennent jamais",
                 "L'IA ne remplacera jamais la relation pédagogique"]})
    ideas = np.eye(3, dtype=np.float32)
    # The demo's summary of 7 December 2026: a copy cut before « à une machine », and a tail
    # of 15 words said again by the next sentence, both supported by their idea.
    tail = (", ce qui implique une diminution de la relation humaine entre un enseignant et "
            "ses élèves.")
    sentences = [("L'école devrait rester un lieu où l'on apprend à réfléchir avec les autres, "
                  "pas seul face."),
                 "L'IA ne remplacera jamais la relation pédagogique" + tail,
                 "Les élèves s'y connectent une fois et n'y reviennent jamais" + tail]
    cut, kept, looping = ground_summary(sentences, ideas[[0, 2, 1]], members, ideas)
    assert (cut.origin, cut.text) == ("argument", members["text"][0])
    assert cut.model_text == sentences[0]
    assert (kept.origin, kept.text) == ("modele", sentences[1])
    assert (looping.origin, looping.text) == ("argument", members["text"][1] + ".")
    assert len(tail.split()) > SHARED_RUN
    # A sentence that copies a whole idea, or shares fewer words in a row, stays the model's.
    whole = ["Les élèves s'y connectent une fois et n'y reviennent jamais.",
             "L'IA ne remplacera jamais la relation pédagogique, ni les élèves."]
    out = ground_summary(whole, ideas[1:], members, ideas)
    assert [(g.origin, g.text) for g in out] == [("modele", whole[0]), ("modele", whole[1])]
    # A whole sentence of an idea of two sentences is not cut short.
    from synthese.verify import copied_idea
    two = ["Les élèves trichent avec ChatGPT. Les parents aussi, d'ailleurs."]
    assert copied_idea("Les élèves trichent avec ChatGPT.", two) is None
    assert copied_idea("Les élèves trichent avec", two) == 0
    # A copy cut short of an idea the summary already said is left out.
    again = [members["text"][0], sentences[0]]
    out = ground_summary(again, ideas[[0, 0]], members, ideas, least=1)
    assert [g.text for g in out] == [members["text"][0]]


def test_an_idea_cut_short_by_the_grammar_is_published_as_its_whole_quote():
    import pandas as pd

    from synthese.verify import CUT_IDEA_CHARS, ground_summary, whole_idea

    # Three ideas of the published demo of 7 December 2026, each put in a summary in place
    # of an unsupported sentence of the model and published cut: one ends on « notre »,
    # one on « mon », one copies its quote and stops before « dans les discussions… ».
    quotes = [("Nous, enseignants syndiqués, refusons que l'intelligence artificielle serve de "
               "prétexte à supprimer des postes ou à alourdir notre charge de travail déjà très "
               "lourde."),
              ("En CM1-CM2, je n'utilise pas l'IA avec les élèves directement, mais elle est "
               "devenue mon assistante de préparation."),
              ("Enseignante en maternelle depuis quinze ans, je suis très inquiète de voir "
               "arriver l'IA dans les discussions sur l'école."),
              "L'IA ne remplacera jamais la relation pédagogique entre l'enseignant et l'élève."]
    texts = [("Nous refusons l'intelligence artificielle pour supprimer des postes ou à "
              "alourdir notre"),
             ("En CM1-CM2, je n'utilise pas l'IA avec les élèves directement, mais elle est "
              "devenue mon"),
             ("Enseignante en maternelle depuis quinze ans, je suis très inquiète de voir "
              "arriver l'IA"),
             "L'IA ne remplacera jamais la relation pédagogique"]
    members = pd.DataFrame({"argument_id": list("abcd"), "text": texts, "quote": quotes})
    ideas = np.eye(4, dtype=np.float32)
    off = np.full((4, 4), 0.1, dtype=np.float32) + 0.3 * ideas  # unsupported, closest to each
    out = ground_summary([f"Phrase {n} du modèle, sans appui." for n in range(4)], off,
                         members, ideas)
    assert [(g.origin, g.text) for g in out] == [
        ("argument", quotes[0]), ("argument", quotes[1]), ("argument", quotes[2]),
        ("argument", texts[3] + ".")]  # a short idea is kept as the model's reformulation
    assert all(len(t) >= CUT_IDEA_CHARS for t in texts[:3])
    # A long idea that ends finished, or says other words than its quote, stays as it is.
    finished = texts[2] + " dans les discussions sur l'école."
    assert whole_idea(finished, quotes[2]) == finished
    reworded = ("Une inquiétude forte de voir arriver l'intelligence artificielle à la maternelle "
                "et à l'école")
    assert len(reworded) >= CUT_IDEA_CHARS
    assert whole_idea(reworded, quotes[2]) == reworded
    assert whole_idea(texts[0], None) == texts[0]
    # The fallback of an empty summary is made of whole ideas too.
    empty = ground_summary([], np.zeros((0, 4), np.float32), members, ideas, least=1)
    assert [g.text for g in empty] == [quotes[0]]


def test_a_summary_has_two_to_four_sentences_and_none_too_short():
    import pandas as pd

    from synthese.verify import (
        SUMMARY_LEAST,
        SUMMARY_MAX_WORDS,
        SUMMARY_MOST,
        ground_summary,
        summary_problem,
    )

    members = pd.DataFrame({"argument_id": list("abcdef"), "text": [
        "Il faut avancer prudemment, mais il faut y aller", "On manque de recul",
        "Il faut d'abord nous former", "Interdire ne sert à rien, il faut éduquer",
        "Créneaux dédiés dans nos emplois du temps", "Oui pour préparer, non pour évaluer"]})
    ideas = np.eye(6, dtype=np.float32)
    # The 0.5B's demo summary of 7 December 2026 copied its quotes one after the other,
    # sixteen sentences: the first four are published.
    sentences = [f"{t}." for t in members["text"]]
    out = ground_summary(sentences, ideas, members, ideas)
    assert [(g.origin, g.text) for g in out] == [("modele", t) for t in sentences[:SUMMARY_MOST]]
    # A single sentence is followed by the most central idea it did not say.
    out = ground_summary([sentences[2]], ideas[[2]], members, ideas)
    assert [(g.origin, g.text) for g in out] == [("modele", sentences[2]),
                                                 ("argument", sentences[0])]
    assert len(out) == SUMMARY_LEAST
    # Not with an idea too short to say anything (« Oui. », after « Évidemment oui. » in a
    # Grand Débat theme): the next one.
    yes = pd.DataFrame({"argument_id": list("xyz"), "text": [
        "Évidemment oui", "Oui", "Les référendums sur les questions essentielles"]})
    out = ground_summary(["Évidemment oui, bien sûr."], ideas[[0]], yes, np.eye(3, 6))
    assert [g.text for g in out] == ["Évidemment oui, bien sûr.",
                                     "Les référendums sur les questions essentielles."]
    # « La question », the whole summary of a Grand Débat theme, supported by its ideas
    # (cosine 0.8 here), is too short to publish: the closest idea stands in its place.
    assert summary_problem("La question") == "trop courte"
    assert summary_problem("On manque de recul.") is None
    # A sentence of more than 40 words splices the theme's quotes (a Grand Débat summary).
    spliced = ("Taxer les touristes comme le font bcp de pays, Taxer l'accès en voiture au "
               "centre villes pour les non résidents, Autoriser les voitures avec plusieurs "
               "passagers à accéder aux centre-villes, Parce que là, une personne à tourcoing "
               "qui achète une maison à 150 000 euros (avec 145 000 euros).")
    assert len(spliced.split()) > SUMMARY_MAX_WORDS
    assert summary_problem(spliced) == "trop longue"
    assert summary_problem(" ".join(spliced.split()[:SUMMARY_MAX_WORDS - 5]) + ".") is None
    close = (0.6 * ideas[1] + 0.8 * ideas[5])[None, :]
    out = ground_summary(["La question"], close, members, ideas)
    assert [(g.origin, g.text, g.model_text) for g in out] == [
        ("argument", sentences[5], "La question"), ("argument", sentences[0], None)]


def test_an_idea_that_stands_in_a_summary_is_neither_too_short_nor_a_presentation():
    import pandas as pd

    from synthese.kinds import is_presentation
    from synthese.verify import ground_summary

    # A demo theme of 7 December 2026: the model copied « Prudence, prudence. », too short to
    # publish; the idea in its place was that same idea, published all the same.
    members = pd.DataFrame({"argument_id": list("abcd"), "text": [
        "Prudence, prudence", "Prudence quand même", "On manque de recul, prudence",
        "Il faut avancer prudemment, mais il faut y aller"]})
    ideas = np.eye(4, dtype=np.float32)
    close = (0.9 * ideas[0] + 0.3 * ideas[1] + 0.2 * ideas[2])[None, :]
    close /= np.linalg.norm(close)
    out = ground_summary(["Prudence, prudence."], close, members, ideas)
    first = out[0]
    assert (first.origin, first.text, first.model_text) == (
        "argument", "Prudence quand même.", "Prudence, prudence.")
    assert all(g.text != "Prudence, prudence." for g in out)
    # A respondent saying who they are says nothing of the theme: the next closest idea.
    assert is_presentation("Je suis professeur des écoles en CE1 dans une école de quartier "
                           "prioritaire.")
    assert is_presentation("J'enseigne dans une classe unique en zone rurale.")
    assert not is_presentation("Enseignante en maternelle depuis quinze ans, je suis très "
                               "inquiète de voir arriver l'IA dans les discussions sur l'école.")
    assert not is_presentation("Au lycée pro, beaucoup de mes élèves n'ont qu'un téléphone.")
    who = pd.DataFrame({"argument_id": list("xyz"), "text": [
        "Je suis professeur des écoles en CE1 dans une école de quartier prioritaire",
        "En formation, on nous parle très peu de la maternelle",
        "L'IA est en train de détruire ce que nous essayons de construire"]})
    copied = ["Je suis professeur des écoles en CE1 dans une école de quartier prioritaire."]
    out = ground_summary(copied, np.eye(3, dtype=np.float32)[[0]], who, np.eye(3) * 0.98
                         + 0.01)
    assert [g.text for g in out] == [
        "En formation, on nous parle très peu de la maternelle.",
        "L'IA est en train de détruire ce que nous essayons de construire."]
    # Ideas all unfit: a summary is still never empty.
    alone = who.iloc[[0]]
    out = ground_summary(copied, np.eye(3, dtype=np.float32)[[0]], alone, np.eye(3)[[0]])
    assert [g.text for g in out] == copied


def test_a_sentence_whose_words_are_inside_one_published_is_said_again():
    import pandas as pd

    from synthese.verify import contained, ground_summary, said_form

    # A demo summary of 7 December 2026: the whole letter several respondents copied, then
    # its first part, an idea of another respondent who copied it up to « personnels ».
    letter = ("Avant tout déploiement dans les établissements, nous demandons une formation "
              "sur le temps de service, un cadre national clair sur la protection des données "
              "des élèves et des personnels, et l'assurance qu'aucun outil ne sera imposé sans "
              "concertation réelle des équipes pédagogiques.")
    part = ("Avant tout déploiement dans les établissements, nous demandons une formation sur "
            "le temps de service, un cadre national clair sur la protection des données des "
            "élèves et des personnels.")
    other = "Il faut un cadre clair et de la formation, sur le temps de travail."
    members = pd.DataFrame({"argument_id": list("abc"), "text": [letter, part, other]})
    ideas = np.eye(3, dtype=np.float32)
    unsupported = np.full((2, 3), 0.1, dtype=np.float32) + 0.3 * ideas[:2]
    out = ground_summary(["Une phrase du modèle.", "Une autre phrase du modèle."], unsupported,
                         members, ideas)
    assert [g.text for g in out] == [letter, other]  # not the part, said inside the letter
    # Inside, word for word and whole words only, and four words or more.
    assert contained(said_form(part), said_form(letter))
    assert not contained(said_form("des élèves et des personnels"), said_form("les élèves"))
    assert not contained("tout deploiement", said_form(letter))
    assert not contained("out deploiement dans les", said_form(letter))  # « tout »
