"""Step 4: titles checked by code with a fallback, summaries of all the ideas, proportions."""

import json

import pytest
from fakes import FakeLLM

from synthese.calls import CachedLLM
from synthese.llm import LLMResult
from synthese.prompts import load_prompt
from synthese.summarise import (
    PROMPTS,
    SUMMARY_IDEA_CHARS,
    SUMMARY_IDEAS,
    brief_summary,
    brief_title,
    brief_words,
    content_stems,
    denied_in,
    fallback_title,
    idea_title,
    is_brief,
    majority_phrase,
    model_title_problem,
    noun_then_infinitive,
    plural_without_mark,
    repeated_word,
    short_words,
    strip_openers,
    summarise_theme,
    tidy_summary,
    title_problem,
    title_theme,
    title_words,
)

Q = "Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements scolaires ?"
TITLE = load_prompt(*PROMPTS["title"])
# Similarities under which a title passes every check of its vector.
PASSING = {"question_similarity": 0.1, "question_threshold": 0.6, "own_similarity": 0.7,
           "other_similarity": 0.2, "question": Q}
IDEAS = ["Les élèves trichent avec ChatGPT.", "La triche avec ChatGPT explose.",
         "ChatGPT facilite la triche aux devoirs."]


class Titles(FakeLLM):
    """Answers each title request with the next of the given titles."""

    def __init__(self, titles):
        super().__init__()
        self.titles = list(titles)

    def chat(self, messages, *, schema=None, **kwargs):
        self.calls.append({"messages": messages})
        return LLMResult(json.dumps({"titre": self.titles.pop(0)}), 10, 5, 0.0, "stop")


def _checks(question_similarity=0.1, own=0.8, other=0.3):
    def problem(title, taken):
        return title_problem(title, taken, question_similarity=question_similarity,
                             question_threshold=0.6, own_similarity=own, other_similarity=other)
    return problem


def test_a_title_that_passes_the_checks_is_kept():
    taken: list[str] = []
    title = title_theme(IDEAS, Q, CachedLLM(Titles(["La triche aux devoirs."])), TITLE,
                        lambda t: _checks()(t, taken), taken)
    assert (title.text, title.origin, title.rejected) == ("La triche aux devoirs", "modele", [])


def test_a_rejected_title_is_asked_again_then_replaced_by_the_central_idea():
    llm = Titles(["L'usage de l'IA dans les établissements", "L'IA à l'école"])
    title = title_theme(IDEAS, Q, CachedLLM(llm), TITLE,
                        lambda t: _checks(question_similarity=0.9)(t, []), [])
    assert len(llm.calls) == 2
    assert title.origin == "idee" and title.text == "Les élèves trichent avec ChatGPT"
    assert [reason for _, reason in title.rejected] == ["reprend la question"] * 2


def test_title_checks_refuse_lists_repeats_the_question_and_other_themes():
    kw = {"question_threshold": 0.6, "own_similarity": 0.7, "other_similarity": 0.2}
    assert title_problem("élèves · profs · aide · outil", [], question_similarity=0.1, **kw) \
        == "liste de mots"
    assert title_problem("La triche aux devoirs", ["La Triche aux devoirs"],
                         question_similarity=0.1, **kw) == "titre déjà donné à un autre thème"
    assert title_problem("L'usage de l'IA à l'école", [], question_similarity=0.7, **kw) \
        == "reprend la question"
    assert title_problem("La triche aux devoirs", [], question_similarity=0.1,
                         question_threshold=0.6, own_similarity=0.3, other_similarity=0.5) \
        == "plus proche d'un autre thème"
    assert title_problem("Triche", [], question_similarity=0.1, **kw) == "1 mots"
    # Closer to its own theme than to any other, but about one of its ideas only.
    assert title_problem("Générer une banque de questions de QCM", [], question_similarity=0.1,
                         question_threshold=0.6, own_similarity=0.11, other_similarity=0.05) \
        == "loin de son thème"
    assert title_problem("La triche aux devoirs", [], question_similarity=0.1, **kw) is None


def test_a_title_made_only_of_the_questions_words_restates_it_whatever_its_vector():
    kw = PASSING
    assert title_problem("Intelligence artificielle dans les établissements", [], **kw) \
        == "seulement les mots de la question"
    assert title_problem("Intelligence artificielle et triche", [], **kw) is None


def test_the_fallback_title_is_never_one_already_taken():
    taken = ["Les élèves trichent avec ChatGPT"]
    title = title_theme(IDEAS, Q, CachedLLM(Titles(["x", "y"])), TITLE,
                        lambda t: "refusé", taken)
    assert title.text == "La triche avec ChatGPT explose"


def test_a_model_error_on_titles_still_gives_a_title():
    title = title_theme(IDEAS, Q, CachedLLM(FakeLLM(fail=2)), TITLE, lambda t: None, [])
    assert title.origin == "idee" and title.text and len(title.rejected) == 2


@pytest.mark.parametrize(("share", "words"), [
    (0.8, "une large majorité (80\u202f%)"), (0.62, "une majorité (62\u202f%)"),
    (0.47, "près de la moitié (47\u202f%)"), (0.31, "près d'un tiers (31\u202f%)"),
    (0.25, "près d'un quart (25\u202f%)"), (0.1, "environ un dixième (10\u202f%)"),
    (0.04, "une minorité (4\u202f%)"), (0.003, "une minorité (moins de 1\u202f%)")])
def test_the_share_of_respondents_is_said_in_words_with_its_figure(share, words):
    assert majority_phrase(share) == words


def test_a_summary_reads_the_most_central_ideas_in_stages_when_they_do_not_fit_one_call():
    llm = FakeLLM(context_size=900)
    ideas = [f"Idée numéro {i} sur la formation des enseignants à l'IA." for i in range(60)]
    summary = summarise_theme(ideas, Q, CachedLLM(llm), load_prompt(*PROMPTS["summary"]),
                              load_prompt(*PROMPTS["reduce"]))
    sent = "\n".join(c["messages"][-1]["content"] for c in llm.calls)
    assert summary.n_stages >= 2 and summary.summary
    # the most central first: every one of them is read, none of the others
    assert all(f"Idée numéro {i} " in sent for i in range(SUMMARY_IDEAS))
    assert not any(f"Idée numéro {i} " in sent for i in range(SUMMARY_IDEAS, 60))


def test_a_summary_is_shown_long_ideas_cut_at_a_whole_word():
    long = ("Avant de parler d'usage en classe, il faudrait former les enseignants, et pas en "
            "deux heures un mercredi après-midi.")
    llm = FakeLLM()
    summarise_theme([long, "Former les enseignants."], Q, CachedLLM(llm),
                    load_prompt(*PROMPTS["summary"]), load_prompt(*PROMPTS["reduce"]))
    sent = llm.calls[0]["messages"][-1]["content"]
    shown = next(line[2:] for line in sent.splitlines() if line.startswith("- Avant"))
    assert len(shown) <= SUMMARY_IDEA_CHARS and long.startswith(shown)
    assert long[len(shown)] == " " and "- Former les enseignants." in sent


def test_a_failed_summary_says_why_and_is_empty():
    summary = summarise_theme(IDEAS, Q, CachedLLM(FakeLLM(fail=10)),
                              load_prompt(*PROMPTS["summary"]), load_prompt(*PROMPTS["reduce"]))
    assert summary.summary == "" and "résumé impossible" in summary.failed


def test_tidy_summary_undoes_loops_repeats_and_cut_sentences():
    looping = ("L'IA aide les enseignants à l'école primaire, à l'école primaire, à l'école "
               "primaire, à l'école primaire. Elle inquiète les parents. Elle inquiète les "
               "parents. Les élèves doivent apprendre à pen")
    assert tidy_summary(looping) == ("L'IA aide les enseignants à l'école primaire. "
                                     "Elle inquiète les parents.")
    assert tidy_summary("Une seule phrase coupée par la limi") == "Une seule phrase coupée par la limi"


def test_a_fallback_title_drops_the_connective_that_opened_the_sentence():
    assert idea_title("Ensuite, les élèves trichent avec ChatGPT") == "Les élèves trichent avec ChatGPT"
    assert idea_title("Personnellement, l'IA doit devenir un objet d'enseignement") \
        == "L'IA doit devenir un objet d'enseignement"
    assert idea_title("Oui.") == "Oui"  # nothing left: the idea as it is


def test_a_fallback_title_never_ends_on_a_word_that_needs_a_sequel():
    # An idea the model cut at its token bound, as a demo theme was titled.
    cut = "Les élèves l'utilisent déjà massivement, souvent pour tricher, parce que"
    assert idea_title(cut) == "Les élèves l'utilisent déjà massivement, souvent pour tricher…"
    # A long idea is cut at its last clause boundary among the first 12 words...
    long = ("Les élèves l'utilisent déjà massivement, souvent pour tricher, parce que personne "
            "ne leur a appris à faire autrement")
    assert idea_title(long) == "Les élèves l'utilisent déjà massivement, souvent pour tricher…"
    # ...or, without one, at 12 words less those it cannot end on (« de », « nos »).
    assert idea_title("Je refuse qu'elle serve à justifier la dégradation de nos conditions de "
                      "travail et de nos salaires") \
        == "Je refuse qu'elle serve à justifier la dégradation de nos conditions…"
    # Nor on a pronoun that awaits its verb (a demo theme's title at the sixth pass).
    assert idea_title("Un élève allophone de ma classe utilise la traduction instantanée et il "
                      "participe enfin.") \
        == "Un élève allophone de ma classe utilise la traduction instantanée…"
    # A whole idea that ends well is left whole, and counts as whole for the fallback.
    assert idea_title("La triche aux devoirs") == "La triche aux devoirs"
    assert fallback_title([cut, "La triche aux devoirs"], lambda t: None, []) \
        == "La triche aux devoirs"


def test_the_fallback_title_skips_ideas_that_restate_the_question_and_prefers_whole_ones():
    def problem(t):
        return "reprend la question" if "intelligence artificielle" in t.lower() else None
    long = "La triche aux devoirs avec ChatGPT est devenue massive dans toutes les classes du lycée"
    ideas = ["L'intelligence artificielle dans les établissements", long, "La triche aux devoirs"]
    assert fallback_title(ideas, problem, []) == "La triche aux devoirs"
    assert fallback_title(ideas[:2], problem, []).endswith("…")  # cut, but not the question


def test_a_title_with_a_word_that_is_not_the_themes_is_refused():
    kw = PASSING
    stems = set().union(*(content_stems(i) for i in IDEAS))
    # The words of a prompt's example, or a subject the ideas never mention.
    assert title_problem("Les transports en zone rurale", [], idea_stems=stems, **kw) \
        == "mots absents des idées du thème"
    assert title_problem("La perte de pouvoir d'achat", [], idea_stems=stems, **kw) \
        == "mots absents des idées du thème"
    assert title_problem("La triche avec ChatGPT", [], idea_stems=stems, **kw) is None
    # One word is enough: « Les outils américains et les carres », a word no respondent wrote.
    assert title_problem("La triche, un fléau", [], idea_stems=stems, **kw) \
        == "mots absents des idées du thème"
    # The question's words and function words are not counted; plurals and genders are one.
    assert title_problem("Les triches des élèves avec ChatGPT", [], idea_stems=stems, **kw) is None


def test_a_title_with_a_short_word_that_is_not_the_themes_is_refused():
    """« J'utilise le bus avec prudence », the 1.5B's title of a demo theme of brief
    favourable answers that never say « bus » (7 December 2026): a word of three letters
    escaped the check of absent words, which saw only words of four letters or more."""
    kw = PASSING
    ideas = ["J'y suis plutôt favorable.", "Je l'utilise un peu, avec prudence.",
             "Pour préparer les APC, c'est très pratique.", "Super pour les élèves dys !"]
    stems = set().union(*(title_words(i) for i in ideas))
    assert title_problem("J'utilise le bus avec prudence", [], idea_stems=stems, **kw) \
        == "mots absents des idées du thème"
    assert title_problem("Les TBI avec prudence", [], idea_stems=stems, **kw) \
        == "mots absents des idées du thème"
    # Short words the ideas say, function words, and the question's subject by its initials
    # (« IA », « intelligence artificielle ») pass.
    assert title_problem("J'utilise l'IA avec prudence", [], idea_stems=stems, **kw) is None
    assert title_problem("Préparer les APC pour les élèves dys", [], idea_stems=stems,
                         **kw) is None
    assert short_words("Le bus, l'IA et les APC en CP") == {"bus", "ia", "apc", "cp"}
    assert {"ia", "bus"} <= title_words("L'intelligence artificielle dans le bus")
    # Without the short words among the theme's (content stems only), a short word is absent.
    assert title_problem("Préparer les APC", [], idea_stems=set().union(
        *(content_stems(i) for i in ideas)), **kw) == "mots absents des idées du thème"


def test_a_title_farther_from_its_theme_than_every_idea_is_refused():
    kw = {"question_similarity": 0.1, "question_threshold": 0.6, "other_similarity": 0.1}
    # Far enough from its centroid in absolute terms, and closer to it than to any other
    # theme, but farther than the theme's least typical idea (0.35).
    assert title_problem("Les textes officiels", [], own_similarity=0.22, **kw) is None
    assert title_problem("Les textes officiels", [], own_similarity=0.22, least_similarity=0.35,
                         **kw) == "moins proche du thème que chacune de ses idées"
    assert title_problem("La triche aux devoirs", [], own_similarity=0.6, least_similarity=0.35,
                         **kw) is None
    # Only the model's titles are checked so: asked again, then an idea stands.
    far = "moins proche du thème que chacune de ses idées"
    title = title_theme(IDEAS, Q, CachedLLM(Titles(["Les textes officiels"] * 2)), TITLE,
                        lambda t: None, [], model_problem=lambda t: far)
    assert [reason for _, reason in title.rejected] == [far] * 2
    assert title.origin == "idee" and title.text == "Les élèves trichent avec ChatGPT"


def test_the_stage_refuses_a_title_that_names_one_idea_of_its_theme_only():
    """The demo's « Les textes officiels » titled a theme on pupils' copied homework from
    the one idea that asked for official texts (5 December 2026)."""
    from types import SimpleNamespace

    import pandas as pd
    from fakes import FakeEmbedder

    from synthese.stages import _TitleChecks

    cheating = ["Les élèves copient leurs devoirs sur ChatGPT sans les lire.",
                "Des devoirs copiés sur ChatGPT, rendus parfaits par des élèves moyens.",
                "Les rédactions faites à la maison sont copiées sur ChatGPT.",
                "Les élèves photographient l'exercice et ChatGPT donne la solution des devoirs.",
                "J'attends des textes officiels sur ChatGPT pour les devoirs des élèves."]
    network = ["Le wifi ne fonctionne pas dans les salles.",
               "Le réseau du collège tombe sans cesse, pas de wifi.",
               "Les salles n'ont ni wifi ni ordinateurs pour cet usage."]
    embedder = FakeEmbedder()
    args = pd.DataFrame({"cluster_id": [0] * len(cheating) + [1] * len(network)})
    checks = _TitleChecks(SimpleNamespace(embedder=embedder, question_label="Quel usage ?"),
                          args, embedder.embed(cheating + network))
    problem = checks.problem(0, cheating, model=True)
    assert problem("Des textes officiels attendus") \
        == "moins proche du thème que chacune de ses idées"
    assert problem("Les devoirs copiés sur ChatGPT") is None
    assert problem("Le wifi dans les salles") == "mots absents des idées du thème"
    assert problem("Les devoirs copiés dans le bus") == "mots absents des idées du thème"
    # A fallback title is one of the ideas, a reformulation or a cut: not checked so.
    assert checks.problem(0, cheating)("Des textes officiels attendus") is None


def test_a_model_title_saying_a_word_twice_or_a_connective_is_asked_again():
    llm = Titles(["Une formation claire et de formation", "Une formation claire"])
    title = title_theme(IDEAS, Q, CachedLLM(llm), TITLE, lambda t: None, [])
    assert title.rejected == [("Une formation claire et de formation", "mot répété")]
    assert (title.text, title.origin) == ("Une formation claire", "modele")
    assert repeated_word("L'élève et les élèves en difficulté") == "eleve"
    assert repeated_word("Prudence, prudence") == "prudence"
    # different words sharing their first letters, short or function words said twice, and a
    # word said twice in one phrase
    for text in ("Les professeurs de lycée professionnel", "La formation des formateurs",
                 "Le pour et le contre de l'IA", "Une aide pour et avec les élèves",
                 "Synthétiser en une page une circulaire de trente pages"):
        assert repeated_word(text) is None
    assert model_title_problem("Les élèves en revanche sont très partagés") == (
        "connecteur d'une phrase")
    assert model_title_problem("De plus en plus de copies identiques") is None
    # the fallback, a respondent's own sentence, may say a word twice or hold a connective
    llm = Titles(["La formation et la formation", "Formation, donc formation"])
    said = ["Il faut une formation, une vraie formation."]
    assert title_theme(said, Q, CachedLLM(llm), TITLE, lambda t: None, []).text == said[0][:-1]


def test_a_model_title_with_a_noun_then_an_infinitive_is_asked_again():
    llm = Titles(["Les élèves tricher avec ChatGPT", "La triche avec ChatGPT"])
    title = title_theme(IDEAS, Q, CachedLLM(llm), TITLE, lambda t: None, [])
    assert title.rejected == [("Les élèves tricher avec ChatGPT", "nom suivi d'un infinitif")]
    assert (title.text, title.origin) == ("La triche avec ChatGPT", "modele")
    assert noun_then_infinitive("Les élèves reprendre confiance") == "élèves reprendre"
    assert noun_then_infinitive("Un outil aider les élèves") == "outil aider"
    # words that end like infinitives, and infinitives after a verb or a preposition
    for text in ("Un cadre clair", "L'IA contre l'école", "Des usages divers",
                 "L'IA doit rester un outil pour l'enseignant",
                 "Les élèves doivent créer des comptes", "Le temps de préparer les cours",
                 "Des outils pour apprendre", "Le pouvoir d'achat des familles",
                 "Synthétiser en une page une circulaire de trente pages"):
        assert noun_then_infinitive(text) is None, text


def test_a_model_title_with_a_plural_determiner_before_a_singular_word_is_asked_again():
    # « Les usages et les débat »: the 0.5B's title of a demo theme, published on 7 December
    llm = Titles(["Les usages et les débat", "Les débats sur les usages"])
    title = title_theme(IDEAS, Q, CachedLLM(llm), TITLE, lambda t: None, [])
    assert title.rejected == [("Les usages et les débat", "pluriel sans marque")]
    assert (title.text, title.origin) == ("Les débats sur les usages", "modele")
    assert plural_without_mark("Les grand dirigeant") == "Les grand"
    assert plural_without_mark("Favoriser les circuit court") == "les circuit"
    # plural marks, invariable words, capitals, figures, compounds and the pronoun « les »
    for text in ("Les prix des logiciels", "Les jeux et les gaz", "Des usages divers",
                 "Les nouveaux outils", "Les TBI de mon lycée", "Les 4e et les 3e",
                 "Accéder aux centre-villes", "On les encourage à lire", "Les deux écoles",
                 "Les plus fragiles", "La fin des devoirs maison"):
        assert plural_without_mark(text) is None, text
    # a respondent's sentence, the fallback, keeps its spelling
    llm = Titles(["Les usages et les débat", "Des débat sur les usage"])
    said = ["Les élu sont mandatés par le peuple."]
    assert title_theme(said, Q, CachedLLM(llm), TITLE, lambda t: None, []).text == said[0][:-1]


def test_a_title_cut_at_a_connective_is_refused():
    kw = {"question_similarity": 0.1, "question_threshold": 0.6, "own_similarity": 0.7,
          "other_similarity": 0.2}
    for title in ("Les élèves en revanche", "La triche, par contre", "Les devoirs néanmoins"):
        assert title_problem(title, [], **kw) == "se termine par un connecteur"
    assert title_problem("Le pour et le contre", [], **kw) is None


def test_a_title_carrying_a_few_shot_examples_word_the_theme_never_says_is_asked_again():
    phones = ["Mes élèves n'ont qu'un téléphone avec un forfait limité.",
              "On lutte déjà contre les téléphones en classe."]
    # after « Les horaires des bus et des cars », an example of the title prompt
    llm = Titles(["Les horaires des car et des téléphones", "Les téléphones des élèves"])
    title = title_theme(phones, Q, CachedLLM(llm), TITLE, lambda t: None, [])
    assert title.rejected == [("Les horaires des car et des téléphones",
                               "mots d'un exemple du prompt")]
    assert (title.text, title.origin) == ("Les téléphones des élèves", "modele")
    # the same word is a title's own when the theme says it
    llm = Titles(["Les horaires des cours"])
    title = title_theme(["Les horaires des cours changent sans cesse."], Q, CachedLLM(llm),
                        TITLE, lambda t: None, [])
    assert (title.text, title.rejected) == ("Les horaires des cours", [])


def test_the_model_sees_the_texts_shown_and_the_fallback_is_one_of_the_ideas():
    quotes = ["Mes élèves rendent des devoirs faits par ChatGPT.", "Ils copient sans lire."]
    llm = Titles(["L'usage de l'IA dans les établissements", "L'IA à l'école"])
    title = title_theme(IDEAS, Q, CachedLLM(llm), TITLE,
                        lambda t: _checks(question_similarity=0.9)(t, []), [], shown=quotes)
    prompt = llm.calls[0]["messages"][-1]["content"]
    assert all(f"- {q}" in prompt for q in quotes) and IDEAS[1] not in prompt
    assert "Que pensez-vous" not in prompt  # v2 does not show the question: it was restated
    assert title.origin == "idee" and title.text == "Les élèves trichent avec ChatGPT"


def test_a_theme_of_brief_answers_is_told_by_its_quotes_and_titled_with_two_of_them():
    brief = ["Plutôt pour.", "Très mauvaise idée.", "Je reste sceptique.", "Voilà mon avis.",
             "Grande méfiance.", "Franchement, c'est une chance.",
             "Les élèves trichent avec ChatGPT aux devoirs maison notés."]
    assert is_brief(brief)
    assert not is_brief(IDEAS + ["Il faut former les enseignants à l'IA sur leur temps."])
    # Short, but on one subject: a theme to name.
    assert not is_brief(["Formation indispensable.", "Former les enseignants.", "Plutôt pour.",
                         "Une formation concrète.", "Grande méfiance.", "Voilà mon avis."])
    assert not is_brief([])
    # A phrase that only links (« par exemple : ») is no shared subject.
    hedged = ["Oui.", "Évidemment oui.", "Par exemple :", "Par exemple :", "Bonne idée.",
              "Excellente proposition !", "Oui, bien sûr.", "OUI", "Non.", "Je suis pour."]
    assert is_brief(hedged)
    assert not is_brief([h.replace("Par exemple", "Le vote blanc") for h in hedged])
    # Nor is a word about the answer itself (« Excellente proposition ! », « Bonne idée »):
    # a Grand Débat theme of « Oui » said « proposition » or « propose » in 4 of its 23 quotes.
    judged = ["Oui.", "Évidemment oui.", "OUI", "Oui, bien sûr.", "Excellente proposition !",
              "Bonne proposition.", "Pas de proposition.", "Non.", "Je suis pour.",
              "Plutôt d'accord.", "Bonne idée.", "Mauvaise idée.", "Idées reçues."]
    assert is_brief(judged)
    assert not is_brief([j.replace("proposition", "taxe").replace("idée", "taxe").replace(
        "Idées", "Taxes") for j in judged])
    # Distinct answers, as written, without their final punctuation.
    assert brief_title(["Plutôt pour.", "plutôt pour !", "Très mauvaise idée."]) \
        == "Réponses brèves : « Plutôt pour », « Très mauvaise idée »"


def test_brief_answers_give_the_nouns_most_of_them_say_and_how_many_say_each():
    brief = ["Triche généralisée.", "triche", "Risque de triche.", "Les élèves trichent.",
             "Un outil de plus.", "Outils puissants.", "Dépendance à l'outil.",
             "Un usage de plus.", "Usage solitaire.", "Usage à encadrer.", "Plutôt pour.",
             "Par exemple :", "par exemple.", "Ce n'est qu'un exemple.", "Grande méfiance.",
             "Méfiance.", "Non."]
    # Nouns only (« trichent » is a verb), singular and plural alike, most said first; ties
    # in the answers' order; « par exemple » only links. Three answers at least.
    assert brief_words(brief) == [("triche", 3), ("outil", 3), ("usage", 3)]
    # The question's words are not news: « usage » is left out.
    assert brief_words(brief, frozenset(content_stems(Q))) == [("triche", 3), ("outil", 3)]
    # Said by fewer than a twentieth of the answers, a word is not what they repeat.
    assert brief_words(brief + ["Oui."] * 50) == []
    assert brief_words([]) == []
    # Words about the answer itself say nothing of its subject.
    meta = ["Avis partagé.", "Mon avis : non.", "Avis mitigé.", "Question complexe.",
            "Bonne question.", "Vaste question.", "Sans opinion.", "Triche partout.",
            "Triche assurée.", "Triche."]
    assert brief_words(meta) == [("triche", 3)]


def test_a_theme_of_brief_answers_is_summed_up_by_code_with_the_answers_behind_its_words():
    brief = ["Triche généralisée.", "Plutôt pour.", "triche", "Grande méfiance.",
             "Risque de triche.", "Je reste sceptique.", "Un usage de plus."]
    kinds = ["risque", "opportunite", "risque", "risque", "risque", "constat", "constat"]
    first, words = brief_summary(brief, kinds, frozenset(content_stems(Q)))
    assert first == (("7 réponses de quelques mots, sans développer : 1 favorable, "
                     "4 réservées ou inquiètes, 2 autres."), [])
    # The answers that say the word, for the report to link to; « usage » is the question's.
    assert words == ("Le mot qui y revient le plus : « triche » (3 réponses).", [0, 2, 4])
    # No word said by three answers: the counts alone.
    assert brief_summary(["Oui.", "Non."], ["opportunite", "risque"]) == [
        (("2 réponses de quelques mots, sans développer : 1 favorable, 1 réservée ou "
         "inquiète."), [])]


def test_a_failed_summary_is_tried_again_with_new_calls_not_the_stored_answers(tmp_path):
    from synthese.storage import Store

    class Stubborn(FakeLLM):
        """Cut at the token limit, greedy or not, until its fifth seed."""

        def chat(self, messages, *, schema=None, max_tokens=512, temperature=0.0, seed=42):
            self.calls.append((temperature, seed))
            if seed < 46:
                return LLMResult('{"resume": "Les élèves', 10, 320, 0.0, "length")
            return LLMResult(json.dumps({"resume": "Les élèves trichent avec ChatGPT."}),
                             10, 8, 0.0, "stop")

    prompts = (load_prompt(*PROMPTS["summary"]), load_prompt(*PROMPTS["reduce"]))
    model = Stubborn()
    with Store(tmp_path / "s.duckdb") as store:
        llm = CachedLLM(model, store).for_stage("summary", *prompts)
        runs = [summarise_theme(IDEAS, Q, llm, *prompts, attempt=a) for a in (1, 2, 3)]
        again = summarise_theme(IDEAS, Q, llm, *prompts, attempt=3)
    assert runs[0].failed and runs[1].failed and runs[2].failed is None
    assert runs[2].summary == again.summary == "Les élèves trichent avec ChatGPT."
    # Greedy first, then sampled with a new seed per try (two tries a run): never the same
    # call twice, and a rerun of the third attempt is answered from the cache.
    assert model.calls == [(0.0, 42), (0.4, 43), (0.4, 44), (0.4, 45), (0.4, 46)]


def test_a_fallback_title_of_title_length_comes_before_a_longer_more_central_sentence():
    def problem(t):
        return f"{len(t.split())} mots" if len(t.split()) > 10 else None
    long = ("Rendez-vous de carrière sont une vaste blague et on n'est jamais "
            "accompagnés")  # 12 words: whole, and too long for a title
    ideas = [long, "Aucun accompagnement des enseignants", "Personne ne nous accompagne"]
    assert fallback_title(ideas, problem, []) == "Aucun accompagnement des enseignants"
    # With no shorter idea, the long one (whole) is still taken rather than nothing.
    assert fallback_title(ideas[:1], problem, []) == long
    # Only among the 5 most central: a short idea further down is not preferred.
    far = [long] + [f"{long} {n}" for n in range(4)] + ["Les éducateurs dans la rue"]
    assert fallback_title(far, problem, []) == long


def test_a_fallback_idea_of_the_wrong_length_is_taken_only_when_its_length_is_all_that_fails():
    """A theme on transport of 200 Grand Débat comments was titled by an idea of 12 words
    closer to another theme (on cars in town centres): its length, checked first, hid it."""
    car = "Taxer l'accès en voiture au centre des villes pour les non-résidents"
    bus = "Aider les petites communes à développer les lignes de transport en commun"
    ideas = [car, bus,
             ("Encourager voire rendre obligatoire le ferroutage pour les camions qui "
              "traversent le pays"),
             "Au niveau local, développer les couloirs pour les vélos sur les rues et les routes",
             "Multiplier les bus, les TER et les trams et les rendre gratuits pour les jeunes",
             "Relocaliser les entreprises en France", "Développer les circuits courts"]

    def problem(t):
        return title_problem(t, [], question_similarity=0.1, question_threshold=0.6,
                             own_similarity=0.5, other_similarity=0.6 if "voiture" in t else 0.3)
    assert problem(car) == "plus proche d'un autre thème" and problem(bus) == "12 mots"
    # Not the idea closer to another theme, nor a short idea further down: the central one
    # whose length alone fails.
    assert fallback_title(ideas, problem, []) == bus


def test_when_no_idea_passes_one_of_its_theme_comes_before_one_of_another_theme():
    """The demo's theme of a motion signed by 31 teachers: every central idea is near the
    question in vector (it names « l'intelligence artificielle »), the next closer to
    another theme."""
    motion = "Nous refusons l'intelligence artificielle pour supprimer des postes"
    other = "Les conditions de travail des enseignants"
    words = "L'intelligence artificielle dans les établissements"

    def problem(t):
        near = "intelligence" in t
        return title_problem(t, [], question_similarity=0.7 if near else 0.1,
                             question_threshold=0.6, own_similarity=0.5,
                             other_similarity=0.3 if near else 0.6, question=Q)
    assert problem(motion) == "reprend la question"
    assert problem(other) == "plus proche d'un autre thème"
    assert problem(words) == "seulement les mots de la question"
    assert fallback_title([motion, other], problem, []) == motion
    # A title made of the question's words alone is still the very last resort.
    assert fallback_title([words, other], problem, []) == other


def test_an_idea_that_points_back_at_what_was_said_before_it_never_titles_a_theme():
    kw = {"question_threshold": 0.6, "own_similarity": 0.7, "other_similarity": 0.2}
    for title in ("Va exactement dans le sens contraire", "C'est exactement l'inverse",
                  "L'IA, c'est aussi ça", "Les élèves font la même chose",
                  "Celui-ci ne sert à rien en classe", "C'est à l'école de le faire",
                  "Personne n'ose le dire.",
                  "Dans cet esprit je propose que les solutions soient un abondement",
                  "Pour ce faire il faut exiger des élus qu'ils s'engagent",
                  "C'est pourquoi je refuse ces outils"):
        assert title_problem(title, [], question_similarity=0.1, **kw) \
            == "renvoie à ce qui précède", title
    for title in ("Le contraire de ce qu'on attend de l'école", "Ça aide les élèves dys",
                  "La même chose que les calculatrices", "Le faire faire par la machine",
                  "Les élèves n'ont plus rien à faire",
                  "Je propose dans cet esprit un abondement",
                  "Pour celles et ceux qui n'ont pas d'ordinateur",
                  "Dans ce collège, le wifi ne marche pas"):
        assert title_problem(title, [], question_similarity=0.1, **kw) is None, title
    ideas = ["Une IA qui pense à la place des élèves, c'est exactement l'inverse",
             "Les élèves ne réfléchissent plus par eux-mêmes"]
    assert fallback_title(ideas, lambda t: _checks()(t, []), []) == ideas[1]


def test_an_idea_said_in_irony_never_titles_a_theme():
    kw = {"question_threshold": 0.6, "own_similarity": 0.7, "other_similarity": 0.2}
    for title in ("Bien sûr, l'IA va sauver l'école", "Génial, encore un outil imposé",
                  "Bravo ! Des copies écrites par la machine"):
        assert title_problem(title, [], question_similarity=0.1, **kw) == "ironique", title
    for title in ("Un outil génial pour les élèves dys", "Bien sûr qu'il faut former"):
        assert title_problem(title, [], question_similarity=0.1, **kw) is None, title
    ideas = ["Bien sûr, l'IA va sauver l'école", "Pas d'IA privée à l'école publique"]
    assert fallback_title(ideas, lambda t: _checks()(t, []), []) == ideas[1]
    # When every idea fails a check, the last resort passes over irony too.
    assert fallback_title(ideas, lambda t: _checks(own=0.2)(t, []), []) == ideas[1]


def test_a_respondent_presenting_themselves_never_titles_a_theme():
    kw = {"question_threshold": 0.6, "own_similarity": 0.7, "other_similarity": 0.2}
    for presentation in ("Enseignante en maternelle depuis quinze ans", "Je suis CPE en collège",
                         "Professeur de lycée professionnel syndiqué", "Professeure d'anglais",
                         "Un professeur de lycée professionnel syndiqué",
                         "Une enseignante en maternelle"):
        assert title_problem(presentation, [], question_similarity=0.1, **kw) \
            == "présentation d'un répondant", presentation
    for title in ("Les enseignants en maternelle", "La formation des enseignants",
                  "Professeurs et élèves face à l'IA"):
        assert title_problem(title, [], question_similarity=0.1, **kw) is None, title
    # The model copies the start of the most central idea: asked again, then the fallback
    # passes over the presentation to the next central idea.
    ideas = ["Enseignante en maternelle depuis quinze ans", "Les petits sont trop jeunes pour l'IA",
             "Les écrans n'ont rien à faire en maternelle"]
    llm = Titles(["Enseignante en maternelle depuis quinze ans"] * 2)
    title = title_theme(ideas, Q, CachedLLM(llm), TITLE, lambda t: _checks()(t, []), [])
    assert [reason for _, reason in title.rejected] == ["présentation d'un répondant"] * 2
    assert title.origin == "idee" and title.text == "Les petits sont trop jeunes pour l'IA"
    # Even when no idea passes every check, a presentation is the last resort.
    assert fallback_title(ideas[:2], lambda t: _checks(own=0.1, other=0.5)(t, []), []) \
        == "Les petits sont trop jeunes pour l'IA"


def test_a_model_title_saying_what_a_respondent_denies_is_asked_again():
    ideas = ["Je ne dis pas que l'IA est une mode comme les autres",
             "Les formations sur l'IA arrivent trop tard", "Il n'y a pas de formation sur l'IA"]
    assert denied_in("L'IA est une mode comme les autres", ideas) == ideas[0]
    # A subject named under a negation is still the theme's subject.
    assert denied_in("Une formation sur l'IA", ideas) is None
    llm = Titles(["L'IA est une mode comme les autres", "Des formations sur l'IA trop tardives"])
    title = title_theme(ideas, Q, CachedLLM(llm), TITLE, lambda t: _checks()(t, []), [])
    assert title.rejected == [("L'IA est une mode comme les autres",
                               "contraire de ce que dit une idée")]
    assert (title.origin, title.text) == ("modele", "Des formations sur l'IA trop tardives")


def test_a_last_resort_title_never_shows_pseudonymisation_marks():
    # A demo theme of contact details (6 December 2026): every central idea carries marks,
    # so every one is refused, and the last resort used to take the first as it was.
    ideas = ["[PERSONNE_1], professeur de SES, [TELEPHONE].", "Mon numéro : [TELEPHONE].",
             "Je suis CPE au [ETABLISSEMENT_1]."]

    def problem(title):
        return "marques de gabarit" if "[" in title else "présentation d'un répondant"

    title = fallback_title(ideas, problem, [])
    assert title == "Professeur de SES"
    assert fallback_title(ideas, problem, [title]) == "Mon numéro"
    # refused first for another reason (two commas read as a list), marks still never pass
    assert fallback_title(ideas, lambda t: "liste de mots", []) == "Professeur de SES"


@pytest.mark.parametrize(("said", "bare"), [
    ("Cela dit, l'IA m'aide à rédiger des commentaires personnalisés.",
     "l'IA m'aide à rédiger des commentaires personnalisés."),
    ("Ensuite, les élèves trichent.", "les élèves trichent."),
    ("Malgré tout, d'ailleurs, c'est utile.", "c'est utile."),
    ("Cela dit.", "Cela dit."),  # nothing would be left
])
def test_a_quote_or_title_drops_the_connective_that_tied_it_to_the_sentence_before(said, bare):
    assert strip_openers(said) == bare
