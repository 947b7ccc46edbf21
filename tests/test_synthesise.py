"""Step 5: the synthesis composed by code from one checked sentence per theme."""

import json

from fakes import FakeEmbedder, FakeLLM

from synthese.calls import CachedLLM
from synthese.llm import LLMResult
from synthese.prompts import load_prompt
from synthese.summarise import brief_summary, content_stems
from synthese.synthesise import (
    MAX_THEMES_PER_SECTION,
    PROMPTS,
    TITLE_QUOTE_MIN,
    Theme,
    common_stems,
    compose_synthesis,
    free_synthesis,
    repeats_title,
    representative_quote,
    section_of,
    sentence_problem,
    typical_partners,
    typical_words,
)

Q = "Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements scolaires ?"
EMBED = FakeEmbedder()
PROMPT = load_prompt(*PROMPTS["composee"])


def _theme(cid, title, ideas, share, kinds, summary=None):
    return Theme(cid, title, summary or ideas[0], share, kinds, ideas, EMBED.embed(ideas), ideas)


def _quoted(cid, title, quotes, kind, share=0.2, **fields):
    """A theme whose ideas are its quotes, all of one kind, the first as its summary."""
    return Theme(cid, title, quotes[0], share, {kind: len(quotes)}, quotes, EMBED.embed(quotes),
                 quotes=quotes, idea_kinds=[kind] * len(quotes), **fields)


THEMES = [
    _theme(0, "La triche aux devoirs", ["Les élèves trichent avec ChatGPT aux devoirs.",
                                        "La triche aux devoirs avec ChatGPT explose."],
           0.41, {"risque": 30, "constat": 4}),
    _theme(1, "La préparation des cours", ["L'IA aide à préparer les cours.",
                                           "Préparer les cours avec l'IA fait gagner du temps."],
           0.33, {"opportunite": 25, "risque": 2}),
    _theme(2, "La formation des enseignants", ["Il faut former les enseignants à l'IA.",
                                               "Une formation des enseignants est indispensable."],
           0.21, {"condition": 18}),
    _theme(3, "Le gain de temps administratif", ["L'IA fait gagner du temps sur l'administratif.",
                                                 "Les tâches administratives vont plus vite."],
           0.12, {"opportunite": 9}),
    _theme(4, "Les souvenirs de classe", ["J'ai enseigné trente ans en lycée.",
                                          "Mon premier poste était en Bretagne."],
           0.05, {"constat": 6}),
]
SHARES = {"opportunite": 0.45, "risque": 0.5, "condition": 0.3}


class Sentences(FakeLLM):
    """Writes each theme's sentence from its first idea, or an unrelated one for a theme."""

    def __init__(self, unrelated_for=(), say=None):
        super().__init__()
        self.unrelated_for = set(unrelated_for)
        self.say = say or {}  # title -> the sentence to write for that theme

    def chat(self, messages, *, schema=None, **kwargs):
        user = messages[-1]["content"]
        title = next(line[8:] for line in user.splitlines() if line.startswith("Thème : "))
        first = next(line[2:] for line in user.splitlines() if line.startswith("- "))
        text = ("Les cantines servent des frites le vendredi." if title in self.unrelated_for
                else self.say.get(title, first))
        self.calls.append(title)
        return LLMResult(json.dumps({"phrase": text}, ensure_ascii=False), 10, 10, 0.0, "stop")


def _compose(llm, themes=THEMES):
    return compose_synthesis(themes, Q, CachedLLM(llm), PROMPT, EMBED.embed, SHARES)


def _citations(themes):
    """The synthesis in the « citations » mode, which asks the model nothing."""
    return compose_synthesis(themes, Q, CachedLLM(Sentences()), PROMPT, EMBED.embed, SHARES,
                             write=False)


def test_each_theme_goes_to_the_section_of_its_dominant_kind():
    assert section_of({"risque": 30, "constat": 40}) == "risques"
    assert section_of({"opportunite": 5, "condition": 5}) == "opportunites"  # ties in order
    assert section_of({"constat": 6, "hors_sujet": 2}) is None
    # a theme of observations with a risk or two said in it is one of observations
    assert section_of({"constat": 18, "risque": 1}) is None
    assert section_of({"constat": 11, "risque": 2}) is None
    assert section_of({"constat": 30, "risque": 10}) == "risques"


def test_sections_open_with_a_share_computed_by_code_then_one_sentence_per_theme_by_weight():
    draft = _compose(Sentences())
    by_section = {}
    for s in draft.sentences:
        by_section.setdefault(s.section, []).append(s)
    opening, first, second = by_section["opportunites"]
    assert opening.origin == "code" and opening.text == (
        "Près de la moitié (45\u202f%) des répondants expriment au moins un apport ou un avis "
        "favorable.")
    assert first.cluster_ids == [1] and second.cluster_ids == [3]  # biggest share first
    assert first.text == ("D'abord, l'IA aide à préparer les cours (près d'un tiers des "
                          "répondants, 33\u202f%).")
    assert second.text.startswith("De plus, l'IA fait gagner du temps")
    assert [s.cluster_ids for s in by_section["risques"][1:]] == [[0]]
    assert all(s.supported for s in draft.sentences)


def test_an_unsupported_sentence_is_replaced_by_a_respondents_quote_and_counted():
    draft = _compose(Sentences(unrelated_for={"La triche aux devoirs"}))
    sentence = next(s for s in draft.sentences if s.cluster_ids == [0] and s.origin != "code")
    assert sentence.origin == "repli" and sentence.supported
    assert sentence.model_text == "Les cantines servent des frites le vendredi."
    # Built by code from the title and the theme's most central quote, verbatim.
    assert sentence.body == ("La triche aux devoirs : « Les élèves trichent avec ChatGPT aux "
                             "devoirs ».")
    assert draft.fallbacks["phrase_remplacee"] == 1


def test_observations_only_themes_are_cited_in_the_conclusion_drawn_from_the_section_heads():
    draft = _compose(Sentences())
    conclusion = [s for s in draft.sentences if s.section == "conclusion"]
    heads, aside = conclusion
    assert heads.text.startswith("En conclusion, les apports les plus cités sont « La "
                                 "préparation des cours » et « Le gain de temps administratif » ;"
                                 " les risques les plus cités sont « La triche aux devoirs »")
    assert aside.cluster_ids == [4] and "« Les souvenirs de classe »" in aside.text
    assert aside.text.endswith("(une minorité (5\u202f%) des répondants).")  # one theme
    cited = {i for s in draft.sentences for i in s.cluster_ids}
    assert cited == {0, 1, 2, 3, 4}


def test_no_sentence_appears_twice():
    twin = _theme(5, "La triche aux devoirs bis", THEMES[0].ideas, 0.2, {"risque": 10})
    draft = _compose(Sentences(), THEMES + [twin])
    said = [s for s in draft.sentences if "trichent avec ChatGPT" in s.text]
    assert len(said) == 1 and said[0].cluster_ids == [0, 5]  # the twin is cited, not repeated
    assert draft.fallbacks["phrase_doublon"] == 1


def test_a_model_that_fails_still_gives_a_synthesis_with_every_fallback_counted():
    draft = _compose(FakeLLM(fail=100))
    assert draft.fallbacks["phrase_sans_reponse"] == 4 and draft.fallbacks["phrase_remplacee"] == 4
    assert "4 phrases sans réponse" in draft.failure  # so that the next run tries again
    assert all(s.origin in ("code", "repli") for s in draft.sentences)


def test_no_theme_gives_a_sentence_that_says_so():
    draft = _compose(FakeLLM(), [])
    assert [s.text for s in draft.sentences] == [
        "Aucun thème ne s'est dégagé des réponses : la synthèse est vide."]
    assert draft.fallbacks == {"synthese_vide": 1}


def test_the_free_mode_keeps_each_sentence_once_per_section():
    same = "L'IA aide les enseignants à préparer les cours."
    reply = {"opportunites": [{"texte": same, "themes": [1]}, {"texte": same, "themes": [1]}],
             "risques": [{"texte": "La triche inquiète.", "themes": [0]}],
             "conditions": [{"texte": "Former les enseignants.", "themes": [2]}],
             "conclusion": [{"texte": same + " Tout dépendra des moyens.", "themes": [0, 9]}]}

    class Free(FakeLLM):
        def chat(self, messages, *, schema=None, **kwargs):
            return LLMResult(json.dumps(reply, ensure_ascii=False), 10, 10, 0.01, "stop")

    draft = free_synthesis(THEMES, Q, CachedLLM(Free()), load_prompt(*PROMPTS["libre"]))
    assert [s.text for s in draft.sentences if s.section == "opportunites"] == [same]
    conclusion = [(s.text, s.cluster_ids) for s in draft.sentences if s.section == "conclusion"]
    assert conclusion == [(same, [0]), ("Tout dépendra des moyens.", [0])]  # 9: no such theme


def test_code_refuses_template_marks_a_contrary_sentence_and_the_question_restated():
    assert sentence_problem("L'IA aide à réviser}, {Idées", "opportunites", Q) == "marques de gabarit"
    assert sentence_problem("Les élèves trichent avec ChatGPT.", "opportunites", Q) \
        == "contraire à sa partie"
    assert sentence_problem("L'intelligence artificielle dans les établissements scolaires.",
                            "risques", Q) == "reprend la question"
    assert sentence_problem("On a appris aux élèves à argumenter, à争论.", "opportunites", Q) \
        == "caractères étrangers"
    assert sentence_problem("L'IA aide à préparer les cours (30 %) — « vraiment ».",
                            "opportunites", Q) is None


def test_a_refused_model_sentence_is_replaced_by_title_and_quote_and_counted():
    draft = _compose(Sentences(say={"La préparation des cours": "Les élèves trichent en classe."}))
    sentence = next(s for s in draft.sentences if s.cluster_ids == [1] and s.origin != "code")
    assert sentence.origin == "repli" and sentence.model_text == "Les élèves trichent en classe."
    assert sentence.body == "La préparation des cours : « L'IA aide à préparer les cours »."
    assert draft.fallbacks["phrase_refusee"] == 1


def test_only_the_first_sentence_the_model_writes_is_kept():
    draft = _compose(Sentences(say={"La préparation des cours":
                                    "L'IA aide à préparer les cours. Et bien d'autres choses."}))
    sentence = next(s for s in draft.sentences if s.cluster_ids == [1] and s.origin != "code")
    assert sentence.origin == "modele" and "autres choses" not in sentence.text


def test_brief_answers_are_counted_apart_by_code_not_as_an_opportunity_or_a_risk():
    answers = ["Plutôt pour.", "Je reste sceptique.", "Très favorable.", "Grande méfiance.",
               "Voilà mon avis.", "Une chance."]
    brief = Theme(5, "Réponses brèves : « Plutôt pour », « Je reste sceptique »", answers[0],
                  0.43, {"opportunite": 37, "risque": 42, "constat": 10}, answers,
                  EMBED.embed(answers), quotes=answers)
    assert brief.brief and not any(t.brief for t in THEMES)
    llm = Sentences()
    draft = _compose(llm, [brief, *THEMES])
    about = [s for s in draft.sentences if 5 in s.cluster_ids]
    assert len(about) == 1 and (about[0].section, about[0].origin) == ("conclusion", "code")
    assert about[0].text == (
        "Plus d'un tiers (43\u202f%) des répondants répondent aussi en quelques mots, sans "
        "développer (« Plutôt pour », « Je reste sceptique ») : parmi ces réponses, 37 "
        "favorables, 42 réservées ou inquiètes, 10 autres.")
    assert brief.title not in llm.calls  # no model sentence is asked for it
    # The nouns most of its answers say are named with how many say them, none of the
    # question's (« usage »).
    said = ["Triche généralisée.", "triche", "Risque de triche.", "Usage solitaire.",
            "Un usage de plus.", "L'usage, encore.", "Grande méfiance.", "Plutôt pour.",
            "Je reste sceptique.", "Voilà mon avis.", "Franchement, non.", "Très favorable.",
            "On verra.", "Prudence.", "Vaste sujet.", "Sentiments mitigés.", "Pas convaincu.",
            "Bof."]
    repeated = Theme(8, "Réponses brèves", said[0], 0.2, {"risque": 12, "opportunite": 6},
                     said, EMBED.embed(said), quotes=said)
    assert repeated.brief
    told = next(s.text for s in _compose(Sentences(), [repeated, *THEMES]).sentences
                if 8 in s.cluster_ids)
    assert told.endswith("parmi ces réponses, 6 favorables, 12 réservées ou inquiètes ; le mot "
                         "qui y revient le plus : « triche » (3 réponses).")
    one = Theme(6, "Réponses brèves", "Oui.", 0.05, {"opportunite": 1, "risque": 1}, ["Oui."],
                EMBED.embed(["Oui."]), quotes=["Oui.", "Non."])
    last = _compose(Sentences(), [one, *THEMES]).sentences
    # A leaning no brief answer took is not listed (« 0 autre »).
    assert "parmi ces réponses, 1 favorable, 1 réservée ou inquiète." in \
        next(s.text for s in last if 6 in s.cluster_ids)
    heads = next(s for s in draft.sentences if s.text.startswith("En conclusion"))
    assert 5 not in heads.cluster_ids


def test_brief_answers_name_the_same_words_in_the_synthesis_as_in_their_summary():
    # « élèves » is said in every theme: the synthesis's quotes pass over it
    # (``common_stems``), but the brief answers that say it are named as their theme's
    # summary names them, which is written before the themes are known together.
    themes = [_theme(i, f"Thème {i}", [f"Les élèves et le sujet {w} numéro un.",
                                       f"Les élèves parlent du sujet {w} aussi."], 0.1,
                     {"risque": 2}) for i, w in enumerate(
                         ["cantine", "piscine", "bibliothèque", "gymnase", "musique", "jardin"])]
    said = ["Les élèves d'abord.", "Élèves perdus.", "Pauvres élèves.", "Plutôt pour.",
            "Grande méfiance.", "Je reste sceptique.", "Voilà mon avis.", "Franchement, non.",
            "Très favorable.", "On verra.", "Prudence.", "Vaste sujet.", "Sentiments mitigés.",
            "Pas convaincu.", "Bof.", "Encore un questionnaire.", "Merci.", "Top."]
    brief = Theme(9, "Réponses brèves", said[0], 0.2, {"risque": 18}, said, EMBED.embed(said),
                  quotes=said)
    assert brief.brief
    draft = compose_synthesis([brief, *themes], Q, CachedLLM(Sentences()), PROMPT, EMBED.embed,
                              SHARES, write=False)
    assert "eleve" in draft.common
    told = next(s.text for s in draft.sentences if 9 in s.cluster_ids)
    summary = brief_summary(said, ["risque"] * len(said), frozenset(content_stems(Q)))
    assert "« élèves » (3 réponses)" in told and "« élèves » (3 réponses)" in summary[1][0]


def test_an_empty_section_says_where_its_ideas_are_or_that_there_are_none():
    risks = [THEMES[0]]
    shares = {"risque": 0.5, "opportunite": 0.08}
    draft = compose_synthesis(risks, Q, CachedLLM(Sentences()), PROMPT, EMBED.embed, shares)
    text = {s.section: s.text for s in draft.sentences if s.position == 0}
    assert text["opportunites"].endswith("une minorité (8\u202f%) des répondants en expriment, "
                                         "parmi les idées « autres / inclassables ».")
    assert text["conditions"].endswith(" : aucun répondant n'en exprime.")


MIXED = Theme(7, "L'esprit critique des élèves",
              "L'IA menace l'esprit critique des élèves.", 0.36,
              {"opportunite": 12, "risque": 9},
              ["L'IA menace l'esprit critique des élèves.",
               "Comparer les réponses de l'IA développe l'esprit critique.",
               "Les élèves ne vérifient plus rien, c'est un danger."],
              EMBED.embed(["L'IA menace l'esprit critique des élèves.",
                           "Comparer les réponses de l'IA développe l'esprit critique.",
                           "Les élèves ne vérifient plus rien, c'est un danger."]),
              quotes=["L'IA menace l'esprit critique des élèves.",
                      "Comparer les réponses de l'IA développe l'esprit critique.",
                      "Les élèves ne vérifient plus rien, c'est un danger."],
              idea_kinds=["risque", "opportunite", "risque"])


class Recorder(Sentences):
    """Sentences that also records the ideas each call was shown."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.shown = []

    def chat(self, messages, *, schema=None, **kwargs):
        self.shown.append([line[2:] for line in messages[-1]["content"].splitlines()
                           if line.startswith("- ")])
        return super().chat(messages, schema=schema, **kwargs)


def test_a_mixed_theme_is_written_from_its_ideas_of_the_sections_kind():
    llm = Recorder()
    draft = _compose(llm, [MIXED])
    assert llm.shown == [["Comparer les réponses de l'IA développe l'esprit critique."]]
    sentence = next(s for s in draft.sentences if s.cluster_ids == [7] and s.origin != "code")
    assert sentence.section == "opportunites" and "développe l'esprit critique" in sentence.text


def test_no_fallback_says_the_opposite_of_its_section():
    # The model's sentence is unsupported; the title + first summary sentence would say
    # « menace » in the opportunities: the most central opportunity quote is taken.
    llm = Sentences(say={MIXED.title: "Les cantines servent des frites le vendredi."})
    sentence = next(s for s in _compose(llm, [MIXED]).sentences
                    if s.cluster_ids == [7] and s.origin != "code")
    assert sentence.origin == "repli" and "menace" not in sentence.text
    assert sentence.body == ("L'esprit critique des élèves : « Comparer les réponses de l'IA "
                             "développe l'esprit critique ».")


def test_a_sentence_cut_short_is_not_published():
    class Cut(Sentences):
        def chat(self, messages, *, schema=None, **kwargs):
            result = super().chat(messages, schema=schema, **kwargs)
            text = json.loads(result.text)["phrase"]
            return LLMResult(json.dumps({"phrase": text + " et à gagner un temps le d"},
                                        ensure_ascii=False), 10, 10, 0.0, "length")

    draft = _compose(Cut())
    written = [s for s in draft.sentences if s.origin != "code"]
    assert written and all(s.origin == "repli" for s in written)
    assert all("le d" not in s.text for s in written)
    assert draft.fallbacks["phrase_refusee"] == len(written)


def test_code_refuses_a_respondents_sentence_copied_back_and_one_that_says_nothing():
    assert sentence_problem("J'ai essayé et c'est réellement utile pour mes cours.",
                            "opportunites", Q) == "à la première personne"
    assert sentence_problem("Un outil intéressant.", "opportunites", Q) == "trop courte"
    assert sentence_problem("Les enseignants gagnent du temps pour préparer les cours.",
                            "opportunites", Q) is None


def test_code_refuses_a_sentence_in_english_or_left_unfinished():
    assert sentence_problem("Parents themselves do their own work, ChatGPT is just a tool.",
                            "risques", Q) == "pas en français"
    assert sentence_problem("L'IA doit rester un outil pour l'enseignant et compléter le travail "
                            "des AESH, pas", "risques", Q) == "inachevée"
    assert sentence_problem("Pour favoriser l'intégration, il faut", "conditions", Q) == "inachevée"
    assert sentence_problem("Les élèves comparent une traduction automatique avec la leur, ça a",
                            "opportunites", Q) == "inachevée"


def test_without_a_quote_of_the_sections_kind_a_theme_falls_back_on_its_other_quotes():

    assert representative_quote(MIXED, "condition") == "L'IA menace l'esprit critique des élèves"
    short = Theme(8, "Brefs", "Oui.", 0.1, {"opportunite": 2}, ["Oui.", "Très bien."],
                  EMBED.embed(["Oui.", "Très bien."]), quotes=["Oui.", "Très bien."],
                  idea_kinds=["opportunite", "opportunite"])
    assert representative_quote(short, "opportunite") is None  # under 5 words: no quote
    # Six words, two content words, what « ça » is left unsaid: the next quote tells it.
    vague = ["L'IA ne changera rien à ça.", "On parle d'IA alors qu'on manque d'imprimantes."]
    theme = Theme(9, "L'alibi de l'État", vague[0], 0.1, {"risque": 2}, vague,
                  EMBED.embed(vague), quotes=vague, idea_kinds=["risque", "risque"])
    assert representative_quote(theme, "risque") == vague[1].rstrip(".")


def test_the_citations_mode_asks_the_model_nothing_and_quotes_each_theme():
    llm = Recorder()
    draft = compose_synthesis(THEMES, Q, CachedLLM(llm), PROMPT, EMBED.embed, SHARES,
                              write=False)
    assert llm.calls == []
    themed = [s for s in draft.sentences if s.origin not in ("code",)]
    assert {s.origin for s in themed} == {"citation"}
    first = next(s for s in themed if s.cluster_ids == [0])
    assert first.body == "La triche aux devoirs : « Les élèves trichent avec ChatGPT aux devoirs »."
    assert first.text.startswith("Cependant, la triche aux devoirs : « Les élèves trichent")
    assert all(s.supported for s in draft.sentences)
    assert "phrase_remplacee" not in draft.fallbacks  # a quote by design is not a fallback


def _with_kind_shares(theme, kind_shares):
    return Theme(theme.cluster_id, theme.title, theme.summary, theme.share, theme.kinds,
                 theme.ideas, theme.vectors, theme.quotes, theme.idea_kinds,
                 kind_shares=kind_shares)


# A broad theme (36 % of respondents) whose opportunities come from 6 % and risks from 30 %,
# and a narrow one (12 %) whose opportunities come from 10 %.
BROAD = _with_kind_shares(MIXED, {"opportunite": 0.06, "risque": 0.30})
NARROW = _with_kind_shares(THEMES[3], {"opportunite": 0.10})


def test_a_theme_is_given_the_share_of_respondents_who_said_the_sections_kind_in_it():
    draft = compose_synthesis([BROAD, NARROW], Q, CachedLLM(Sentences()), PROMPT, EMBED.embed,
                              SHARES, write=False)
    opportunities = [s for s in draft.sentences
                     if s.section == "opportunites" and s.origin != "code"]
    # The narrow theme's opportunities (10 %) come before the broad theme's (6 %), and neither
    # is given the broad theme's 36 %.
    assert [s.cluster_ids for s in opportunities] == [[3], [7]]
    assert opportunities[0].text.endswith("(environ un dixième des répondants, 10\u202f%).")
    assert opportunities[1].text.endswith("(une minorité des répondants, 6\u202f%).")
    assert "36" not in " ".join(s.text for s in draft.sentences if s.section != "conclusion")
    assert "Comparer les réponses de l'IA" in opportunities[1].text  # its opportunity quote


def test_a_theme_is_written_in_every_section_enough_respondents_said_its_kind_in():
    draft = compose_synthesis([BROAD], Q, CachedLLM(Sentences()), PROMPT, EMBED.embed,
                              SHARES, write=False)
    written = {s.section: s for s in draft.sentences if s.origin != "code"}
    assert set(written) == {"opportunites", "risques"}  # 6 % and 30 %, 12 and 9 ideas
    assert "développe l'esprit critique" in written["opportunites"].text
    assert "menace l'esprit critique" in written["risques"].text
    assert written["risques"].text.endswith("(près d'un tiers des répondants, 30\u202f%).")
    # Risks (not its dominant kind) said by under 5 % of the respondents, or in under 5 ideas:
    # only its own section.
    for shares, kinds in (({"opportunite": 0.30, "risque": 0.04}, MIXED.kinds),
                          ({"opportunite": 0.30, "risque": 0.06}, {"opportunite": 12,
                                                                    "risque": 4})):
        theme = _with_kind_shares(MIXED, shares)
        theme.kinds = kinds
        draft = compose_synthesis([theme], Q, CachedLLM(Sentences()), PROMPT, EMBED.embed,
                                  SHARES, write=False)
        assert {s.section for s in draft.sentences if s.origin != "code"} == {"opportunites"}


def test_the_quote_under_a_title_is_the_central_one_closest_to_it():
    quotes = ["On nous demande d'intégrer l'IA sans nous avoir formés, comme toujours.",
              "Cette mode de l'IA passera comme les autres modes pédagogiques.",
              "Les élèves copient les réponses sans les comprendre du tout."]
    theme = _quoted(9, "Une mode pédagogique qui passera", quotes, "risque")
    title = EMBED.embed([theme.title])[0]
    assert representative_quote(theme, "risque") == quotes[0].rstrip(".")  # the most central
    assert representative_quote(theme, "risque", title) == quotes[1].rstrip(".")
    draft = _citations([theme])
    assert any("Cette mode de l'IA passera" in s.text for s in draft.sentences)
    # Only among the most central few: a closer quote further down is not taken.
    far = [f"Réponse numéro {n} sur les devoirs faits à la maison." for n in range(5)]
    later = Theme(9, theme.title, quotes[0], 0.2, {"risque": 7}, far + quotes[1:2],
                  EMBED.embed(far + quotes[1:2]), quotes=far + quotes[1:2],
                  idea_kinds=["risque"] * 6)
    assert representative_quote(later, "risque", title) == far[0].rstrip(".")


def test_a_quote_that_points_back_at_what_was_said_before_it_is_not_taken():
    quotes = ["L'usage de l'IA générative par les élèves va exactement dans le sens contraire.",
              "Une IA qui pense à la place des élèves, c'est exactement l'inverse.",
              "Je suis contre, les élèves ne réfléchissent déjà plus assez par eux-mêmes."]
    theme = _quoted(9, "Les élèves ne réfléchissent plus", quotes, "risque")
    assert representative_quote(theme, "risque") == quotes[2].rstrip(".")
    draft = _citations([theme])
    said = " ".join(s.text for s in draft.sentences)
    assert "ne réfléchissent déjà plus" in said and "sens contraire" not in said
    # Said with what it is contrary to, a contrary is whole.
    whole = "C'est le contraire de ce qu'on attend de l'école, qui doit apprendre à penser."
    alone = _quoted(9, theme.title, [whole], "risque")
    assert representative_quote(alone, "risque") == whole.rstrip(".")


def test_a_quote_that_announces_what_follows_it_is_not_taken():
    # 200 Grand Débat comments: the line before a list of conditions led the opportunities,
    # « Aux référendums d initiative gouvernementale ou citoyenne à conditionde ».
    quotes = ["Oui aux référendums d initiative gouvernementale ou citoyenne à conditionde:",
              "Il faut donc tirer au sort des citoyens pour participer à toutes nouvelles lois."]
    theme = _quoted(9, "Les référendums d'initiative citoyenne", quotes, "condition")
    assert representative_quote(theme, "condition") == quotes[1].rstrip(".")
    said = " ".join(s.text for s in _citations([theme]).sentences)
    assert "tirer au sort" in said and "conditionde" not in said
    # A colon inside a quote announces nothing left unsaid.
    inside = "Deux conditions : définir les sujets et respecter le résultat du vote."
    assert representative_quote(_quoted(9, theme.title, [inside], "condition"),
                                "condition") == inside.rstrip(".")


def test_a_list_mark_does_not_open_a_quote_and_an_exclaiming_title_is_no_heading():
    # Two Grand Débat quotes of 7 December 2026, the dash glued to the word.
    quotes = ["-au niveau national, aider les petites communes à développer les lignes de bus.",
              "-20 % de TVA sur les transports en commun pour les petites communes."]
    theme = _quoted(9, "Les transports des petites communes", quotes, "condition")
    assert representative_quote(theme, "condition") == (
        "Au niveau national, aider les petites communes à développer les lignes de bus")
    # Before a figure, the dash is a minus.
    assert representative_quote(_quoted(9, theme.title, quotes[1:], "condition"),
                                "condition") == quotes[1].rstrip(".")
    # « …qui est pollueur ! : « Par le principe du pollueur payeur! » »: the quote alone.
    payer = ["Par le principe du pollueur payeur, chacun paie ce qu'il pollue vraiment.",
             "Que les entreprises qui polluent paient la dépollution des rivières."]
    shouted = _quoted(9, "En s'entendant sur qui est pollueur !", payer, "condition")
    said = " ".join(s.text for s in _citations([shouted]).sentences)
    assert "pollueur ! :" not in said and "« Par le principe du pollueur payeur" in said


def test_a_quote_with_a_pseudonymisation_mark_is_given_only_when_none_other_is():
    quotes = ["J'enseigne au [ETABLISSEMENT_1], [ADRESSE], où nous n'avons toujours pas de wifi.",
              "Dans mon collège, le wifi ne fonctionne pas dans la moitié des salles.",
              "Nos salles informatiques datent de dix ans et le réseau sature."]
    theme = _quoted(9, "Le wifi et les salles informatiques", quotes, "risque")
    assert representative_quote(theme, "risque") == quotes[1].rstrip(".")
    draft = _citations([theme])
    said = " ".join(s.text for s in draft.sentences)
    assert "moitié des salles" in said and "[" not in said
    # A theme whose every quote carries a mark is still quoted.
    marked = _quoted(9, theme.title, quotes[:1], "risque")
    assert representative_quote(marked, "risque") == quotes[0].rstrip(".")


def test_a_quote_that_trails_off_keeps_its_dots():
    quotes = ["Dans mon collège, le wifi ne fonctionne pas dans la moitié des salles, alors l'IA...",
              "Nos salles informatiques datent de dix ans et le réseau sature."]
    theme = _quoted(9, "Le wifi et les salles informatiques", quotes, "risque")
    assert representative_quote(theme, "risque") == quotes[0][:-3] + "…"
    draft = _citations([theme])
    said = " ".join(s.text for s in draft.sentences)
    assert "alors l'IA… »" in said
    # Dots said as one character are kept as they are, once.
    once = _quoted(9, theme.title, ["Au collège, le wifi ne marche jamais, alors l'IA…", quotes[1]],
                   "risque")
    assert representative_quote(once, "risque") == "Au collège, le wifi ne marche jamais, alors l'IA…"


def test_a_quote_that_repeats_the_title_is_given_alone():
    quotes = ["Une opportunité à saisir pour l'école, vraiment.",
              "Les élèves y gagnent en autonomie quand on les guide bien."]
    # A fallback title is an idea in the respondent's words: the first quote, cut.
    theme = Theme(4, "Une opportunité à saisir pour l'école", quotes[0], 0.2,
                  {"opportunite": 2}, quotes, EMBED.embed(quotes), quotes=quotes,
                  idea_kinds=["opportunite"] * 2)
    assert repeats_title(theme.title, quotes[0]) and not repeats_title(theme.title, quotes[1])
    # A title the quote only ends on is not repeated: the quote says more.
    assert not repeats_title("L'esprit critique", "L'IA menace l'esprit critique des élèves")
    # One word before the title's is still the title said again (a reformulation as title).
    assert repeats_title("Préparer des textes adaptés à différents niveaux de lecture",
                         "Pour préparer des textes adaptés à différents niveaux de lecture, "
                         "c'est vraiment efficace")
    # After words that say nothing, too (a model's title copied from its quote).
    assert repeats_title("Un potentiel énorme, encore faut-il nous laisser le temps",
                         "Il y a un potentiel énorme, encore faut-il nous laisser le temps "
                         "d'expérimenter")
    # Not after words with content: the quote says more than the title.
    assert not repeats_title("L'esprit critique des élèves",
                             "L'IA menace l'esprit critique des élèves")
    assert not repeats_title("Un potentiel", "Il y a un potentielle erreur")  # inside a word
    # A title that opens on an opener (« Oui ») repeats a quote that does not.
    assert repeats_title("Oui tout le monde s'accorde à le dire",
                         "Tout le monde s'accorde à le dire")
    draft = _citations([theme])
    cited = [s.text for s in draft.sentences if s.cluster_ids == [4] and s.origin != "code"]
    assert cited and all(s.count("opportunité à saisir") == 1 for s in cited)
    assert any("« Une opportunité à saisir pour l'école, vraiment »" in s for s in cited)
    # A title that is a stub of its quote: the conclusion names the theme as its sentence
    # does, by the quote.
    said = [("À l'école élémentaire, l'IA doit rester un outil pour l'enseignant, pas pour "
             "les enfants."), "Bien pour nous, pas pour les élèves avant le lycée."]
    stub = _quoted(6, "L'école élémentaire", said, "condition")
    draft = _citations([stub])
    conclusion = " ".join(s.text for s in draft.sentences if s.section == "conclusion")
    assert "« À l'école élémentaire, l'IA doit rester" in conclusion
    assert "« L'école élémentaire »" not in conclusion


def test_a_title_about_something_else_than_its_quote_gives_the_quote_alone():
    # The demo's 0.5B titled a theme of conditions after one of its ideas; the quote chosen
    # for it said another thing: « Les élèves doivent créer des comptes avec leur adresse
    # personnelle : « Le plus important est d'apprendre aux élèves quand ne pas l'utiliser » ».
    quotes = ["Le plus important est d'apprendre aux élèves quand ne pas l'utiliser.",
              "Il faut apprendre aux élèves à savoir quand ne pas s'en servir."]
    title = "Les élèves doivent créer des comptes avec leur adresse personnelle"
    theme = Theme(5, title, quotes[0], 0.2, {"condition": 2}, quotes, EMBED.embed(quotes),
                  quotes=quotes, idea_kinds=["condition"] * 2)
    vectors = EMBED.embed([title, quotes[0].rstrip(".")])
    assert float(vectors[0] @ vectors[1]) < TITLE_QUOTE_MIN
    draft = _citations([theme])
    cited = [s.text for s in draft.sentences if s.cluster_ids == [5] and s.origin != "code"]
    assert cited and "« Le plus important est d'apprendre aux élèves" in cited[0]
    assert "adresse personnelle" not in cited[0]
    # and the conclusion names the theme by that quote, not by the title
    conclusion = [s.text for s in draft.sentences if s.section == "conclusion"]
    assert "« Le plus important est d'apprendre aux élèves" in conclusion[0]
    assert not any("adresse personnelle" in s.text for s in draft.sentences)

    def cited_under(title: str, part: str = "") -> list[str]:
        theme = Theme(5, title, quotes[0], 0.2, {"condition": 2}, quotes, EMBED.embed(quotes),
                      quotes=quotes, idea_kinds=["condition"] * 2)
        draft = compose_synthesis([theme], Q, CachedLLM(Sentences()), PROMPT, EMBED.embed,
                                  SHARES, write=False)
        if part:
            return [s.text for s in draft.sentences if s.section == part]
        return [s.text for s in draft.sentences if s.cluster_ids == [5] and s.origin != "code"]

    # A title about its quote keeps both: « Titre : « quote » ».
    cited = cited_under("Apprendre aux élèves quand ne pas l'utiliser")
    assert cited and "apprendre aux élèves quand ne pas l'utiliser : « " in cited[0]
    # The same title cut short (a fallback idea, « … ») would break the sentence it opens:
    # the quote alone.
    cited = cited_under("Apprendre aux élèves quand ne pas l'utiliser ou à…")
    assert cited and "« Le plus important est d'apprendre aux élèves" in cited[0]
    assert "…" not in cited[0] and " : « " not in cited[0]
    # and the conclusion names it by that quote too, not by the cut title, a reformulation
    # that can bend what the quote says (the demo's « Nous refusons l'intelligence
    # artificielle pour supprimer des postes ou à alourdir… », 7 December 2026)
    conclusion = cited_under("Apprendre aux élèves quand ne pas l'utiliser ou à…",
                             "conclusion")
    assert "« Le plus important est d'apprendre aux élèves" in conclusion[0]
    assert "ou à…" not in " ".join(conclusion)


def test_a_title_and_a_quote_that_share_only_a_word_said_everywhere_are_not_paired():
    # « Les élèves en savent souvent plus que nous : « À l'école primaire, aucun intérêt
    # pour les élèves eux-mêmes » », a demo risk of 5 December 2026, at cosine 0.47: close
    # vectors, two subjects. Here each title has its quote's vector, so only words decide.
    said = [["À l'école primaire, aucun intérêt pour les élèves eux-mêmes."],
            ["Les élèves copient les réponses sans les lire, ils ne réfléchissent plus."],
            ["Les élèves n'ont pas tous un ordinateur à la maison, c'est injuste."],
            ["Les données des élèves partent chez des entreprises américaines."],
            ["Les élèves délèguent leur réflexion à une machine, c'est grave."],
            ["Avec prudence, mais il faut y aller, pour nos élèves aussi."]]
    titles = ["Les élèves en savent souvent plus que nous", "La copie sans lecture",
              "L'équipement des familles", "La fuite des données", "La réflexion déléguée",
              "Il faut avancer prudemment"]
    kinds = ["risque"] * 5 + ["condition"]
    alias = {t: q[0].rstrip(".") for t, q in zip(titles, said, strict=True)}

    def embed(texts):
        return EMBED.embed([alias.get(t, t) for t in texts])

    themes = [Theme(i, t, q[0], 0.3 - 0.02 * i, {k: 3}, q, EMBED.embed(q), quotes=q,
                    idea_kinds=[k])
              for i, (t, q, k) in enumerate(zip(titles, said, kinds, strict=True))]
    assert "eleve" in common_stems(themes, Q)  # said in every theme
    assert "eleve" not in common_stems(themes[:5], Q)  # five themes tell nothing apart
    draft = compose_synthesis(themes, Q, CachedLLM(Sentences()), PROMPT, embed, SHARES,
                              write=False)
    cited = {s.cluster_ids[0]: s.text for s in draft.sentences
             if s.origin != "code" and len(s.cluster_ids) == 1}
    assert "« À l'école primaire, aucun intérêt pour les élèves eux-mêmes »" in cited[0]
    assert "en savent souvent plus" not in cited[0]
    # A title that shares a word of its own with the quote keeps it: « Titre : « quote » ».
    assert "il faut avancer prudemment : « Avec prudence" in cited[5]
    assert "la fuite des données : « Les données des élèves partent" in cited[3]
    assert "la copie sans lecture : « Les élèves copient" in cited[1]


def test_the_connectives_of_a_full_section_never_repeat():
    """Six themes of one kind shown one by one: each opens on its own connective, the last
    on « Enfin » (the demo once read « En outre, … En outre, … » and « De plus, … De
    plus »)."""
    topics = [("Les exercices différenciés", "Préparer des exercices différenciés"),
              ("La synthèse vocale", "La synthèse vocale aide les élèves dys"),
              ("Les comptes rendus", "Rédiger les comptes rendus de conseil"),
              ("La traduction", "Traduire pour un élève allophone"),
              ("Les corrigés détaillés", "Produire des corrigés détaillés"),
              ("Les textes simplifiés", "Simplifier des textes en version FALC"),
              ("Les quiz de révision", "Générer des quiz de révision"),
              ("Les mails aux familles", "Écrire les mails aux familles")]
    many = [_theme(10 + i, title, [f"{idea}.", f"{idea} est utile."], 0.3 - 0.02 * i,
                   {"opportunite": 20 - i}) for i, (title, idea) in enumerate(topics)]
    draft = _citations(many)
    themed = [s for s in draft.sentences if s.section == "opportunites" and s.position > 0
              and len(s.cluster_ids) == 1]
    assert len(themed) == MAX_THEMES_PER_SECTION
    openers = [s.text.split(",")[0] for s in themed]
    assert len(set(openers)) == len(openers) and openers[-1] == "Enfin", openers


def test_the_quote_says_the_word_a_themes_quotes_share_most():
    # A demo theme of 5 December 2026: its most central quote is its most generic, while a
    # third of its quotes say « gain de temps ».
    quotes = ["Très utile pour préparer mes cours, vraiment.",
              "Un outil formidable pour mes élèves, si on apprend.",
              "Gain de temps énorme pour la préparation des cours !",
              "Les élèves adorent ces nouvelles activités en classe.",
              "Un vrai gain de temps sur les corrections des copies.",
              "Tout le monde gagnera du temps sur les tâches répétitives."]
    theme = Theme(1, "Très utile pour préparer mes cours", quotes[0], 0.3,
                  {"opportunite": 6}, quotes, EMBED.embed(quotes), quotes=quotes,
                  idea_kinds=["opportunite"] * 6)
    other = _theme(2, "Les élèves trichent", ["Les élèves trichent aux devoirs maison."], 0.2,
                   {"risque": 1})
    # « temps » (3 quotes) outweighs « cours » and « élèves » (2 each, « élèves » said in the
    # other theme too); a word said by one quote weighs nothing, nor a word said everywhere.
    assert typical_words([theme, other], frozenset()) == {1: "temps"}
    assert typical_words([theme, other], frozenset({"temps"}))[1] != "temps"
    title = EMBED.embed([theme.title])[0]
    assert representative_quote(theme, "opportunite", title) == quotes[0].rstrip(".")
    assert representative_quote(theme, "opportunite", title, "temps") == quotes[2].rstrip(".")
    # A word none of the central candidates says leaves the choice as it was.
    assert representative_quote(theme, "opportunite", title, "wifi") == quotes[0].rstrip(".")
    draft = compose_synthesis([theme, other], Q, CachedLLM(Sentences()), PROMPT, EMBED.embed,
                              SHARES, write=False)
    cited = [s.text for s in draft.sentences if s.cluster_ids == [1] and s.origin != "code"]
    assert cited and "« Gain de temps énorme pour la préparation des cours ! »" in cited[0]


def test_a_quote_that_goes_with_a_title_the_model_wrote_comes_before_the_typical_word():
    # The demo's biggest theme of risks on 6 December 2026: the model's title « Les élèves
    # n'apprennent plus rien », the typical word « école », and the quote « À l'école
    # primaire, aucun intérêt pour les élèves eux-mêmes », about something else.
    quotes = ["À l'école primaire, aucun intérêt pour les élèves eux-mêmes.",
              "Les élèves n'apprennent plus rien, ils recopient tout.",
              "Une école qui copie la machine ne forme plus personne.",
              "Ils délèguent leur réflexion à une machine sans rien retenir."]
    other = _theme(2, "Le coût des licences", ["Les licences coûtent trop cher aux communes."],
                   0.2, {"risque": 1})

    def cited_under(origin: str) -> str:
        theme = _quoted(1, "Les élèves n'apprennent plus rien", quotes, "risque", 0.3,
                        title_origin=origin)
        assert typical_words([theme, other], frozenset())[1] == "ecole"
        draft = compose_synthesis([theme, other], Q, CachedLLM(Sentences()), PROMPT,
                                  EMBED.embed, SHARES, write=False)
        return next(s.text for s in draft.sentences if s.cluster_ids == [1]
                    and s.origin != "code")

    assert "Les élèves n'apprennent plus rien, ils recopient tout" in cited_under("modele")
    assert "Les élèves n'apprennent plus rien, ils recopient tout" in cited_under("relecteur")
    # A title that is one respondent's idea does not tell the theme: the typical word does.
    assert "école" in cited_under("idee")
    # A title that says the typical word agrees with it; a title whose words fewer quotes
    # say than the typical word does not win.
    from synthese.synthesise import _title_wins

    def theme_titled(title: str, said: list[str]) -> Theme:
        return _quoted(3, title, said, "risque", 0.3, title_origin="modele")

    tools = ["Je refuse d'entrer des informations sur mes élèves dans ces outils.",
             "Ces outils collectent des données sur des mineurs.",
             "Professeur de technologie, je connais ces outils et ils m'inquiètent."]
    assert not _title_wins(theme_titled("Les outils de la tech", tools), "outil", frozenset())
    assert _title_wins(theme_titled("Les données des mineurs", tools), "outil",
                       frozenset()) is False  # « données », « mineurs »: 1 quote, « outils »: 3
    assert _title_wins(theme_titled("Les données des mineurs", tools[:2]), "outil",
                       frozenset()) is False
    assert _title_wins(theme_titled("Ces outils collectent des données", tools[1:]), "donne",
                       frozenset()) is False  # it says the word


def test_the_quote_says_the_typical_word_in_the_sense_most_quotes_share():
    # A demo theme of 6 December 2026: « temps » is its typical word, and its most central
    # quote says it in another sense than the « gain de temps » of four of its quotes.
    quotes = ["Il y a un potentiel énorme, encore faut-il nous laisser le temps d'essayer.",
              "Gain de temps énorme pour la préparation des cours !",
              "Un vrai gain de temps sur les corrections des copies.",
              "Un gain de temps pour les bulletins et les courriels.",
              "Tout le monde gagnera du temps, vraiment, partout.",
              "Une opportunité à saisir pour notre école publique."]
    theme = Theme(1, "Un potentiel énorme, encore faut-il nous laisser le temps d'essayer",
                  quotes[0], 0.3, {"opportunite": 6}, quotes, EMBED.embed(quotes),
                  quotes=quotes, idea_kinds=["opportunite"] * 6)
    cheat = ["Les élèves trichent aux devoirs maison.", "Copier-coller sans même relire.",
             "La triche devient massive au lycée.", "Les rédactions sont toutes identiques.",
             "On ne peut plus noter les devoirs.", "ChatGPT écrit les dissertations.",
             "Les copies se ressemblent toutes.", "Aucun outil pour prouver la fraude."]
    other = _theme(2, "Les élèves trichent", cheat, 0.2, {"risque": 8})
    typical = typical_words([theme, other], frozenset())
    assert typical[1] == "temps"
    # « gain » goes with « temps » in three quotes, « enorm » in two.
    assert typical_partners([theme, other], frozenset(), typical)[1] == "gain"
    assert 1 not in typical_partners([theme, other], frozenset({"gain", "enorm"}), typical)
    title = EMBED.embed([theme.title])[0]
    assert representative_quote(theme, "opportunite", title, "temps") == quotes[0].rstrip(".")
    picked = representative_quote(theme, "opportunite", title, "temps", "gain")
    assert picked in {q.rstrip(".") for q in quotes[1:4]}
    # A partner no candidate says with the word leaves the word's choice.
    assert representative_quote(theme, "opportunite", title, "temps", "wifi") \
        == quotes[0].rstrip(".")
    draft = compose_synthesis([theme, other], Q, CachedLLM(Sentences()), PROMPT, EMBED.embed,
                              SHARES, write=False)
    cited = next(s.text for s in draft.sentences if s.cluster_ids == [1] and s.origin != "code")
    assert "gain de temps" in cited.lower() and "laisser le temps" not in cited


def test_the_partner_is_the_themes_next_most_typical_word_not_the_one_said_most_beside():
    # The demo's theme on time saved preparing lessons (7 December 2026): « prépar » is its
    # typical word; « cours » goes with it in three quotes, « temps » in two, but « temps »
    # is said by more of the theme's quotes. « Très utile pour préparer mes cours » told the
    # theme; « Gain de temps énorme pour la préparation » says what its quotes share.
    quotes = ["Très utile pour préparer mes cours, vraiment.",
              "Gain de temps énorme pour la préparation !",
              "Ça m'a réconcilié avec la préparation des cours.",
              "Très utile pour préparer mes cours perso.",
              "Gain de temps pour les préparations.",
              "Pour préparer une séance, c'est pratique.",
              "Tout le monde gagnera du temps.",
              "On aura plus de temps pour l'humain.",
              "Ça libère du temps pour écouter les élèves."]
    theme = _quoted(1, "Les APC avec des exercices vraiment ciblés", quotes, "opportunite", 0.3)
    cheat = ["Les élèves trichent aux devoirs maison.", "Copier-coller sans même relire.",
             "La triche devient massive au lycée.", "Les rédactions sont toutes identiques.",
             "On ne peut plus noter les devoirs.", "ChatGPT écrit les dissertations.",
             "Les copies se ressemblent toutes.", "Aucun outil pour prouver la fraude."]
    other = _quoted(2, "Les élèves trichent", cheat, "risque")
    typical = typical_words([theme, other], frozenset())
    assert typical[1] == "prepa"
    assert typical_partners([theme, other], frozenset(), typical)[1] == "temps"
    # A word no quote says with the typical word is no partner, however typical.
    alone = _quoted(1, "La préparation", [q for q in quotes if "temps" not in q]
                    + ["Le temps manque.", "Plus de temps pour l'humain.", "Du temps libre."],
                    "opportunite", 0.3)
    assert typical_partners([alone, other], frozenset(), {1: "prepa"})[1] == "cours"
    assert representative_quote(theme, "opportunite", None, "prepa", "temps") \
        == "Gain de temps énorme pour la préparation !"
    draft = _citations([theme, other])
    assert any("Gain de temps énorme pour la préparation" in s.text for s in draft.sentences)


def test_a_quote_given_alone_is_the_most_central_not_the_closest_to_a_title_it_leaves():
    # The demo's biggest theme of risks on 5 December 2026: no quote pairs with its title,
    # and the one closest to it (« Nous refusons que l'IA serve à supprimer des postes »)
    # made job cuts its most cited risk, beside a campaign that says just that.
    quotes = ["On nous demande d'intégrer l'IA sans nous avoir formés, comme d'habitude.",
              "Nous refusons que l'État serve de prétexte pour supprimer des postes ici.",
              "On parle d'IA alors qu'on manque d'imprimantes dans les salles."]
    title = "Le désengagement de l'État"
    theme = Theme(6, title, quotes[0], 0.3, {"risque": 3}, quotes, EMBED.embed(quotes),
                  quotes=quotes, idea_kinds=["risque"] * 3)
    vectors = EMBED.embed([title] + [q.rstrip(".") for q in quotes])
    closeness = vectors[1:] @ vectors[0]
    assert closeness.argmax() == 1 and closeness.max() < TITLE_QUOTE_MIN  # closest, yet apart
    assert representative_quote(theme, "risque", vectors[0]) == quotes[1].rstrip(".")
    draft = _citations([theme])
    cited = [s.text for s in draft.sentences if s.cluster_ids == [6] and s.origin != "code"]
    assert cited and f"« {quotes[0].rstrip('.')} »" in cited[0]
    assert "supprimer des postes" not in cited[0] and title not in cited[0]


def test_a_title_after_a_connective_starts_in_lower_case_unless_it_is_a_name():
    from synthese.synthesise import _lower_first

    assert _lower_first("Prudence, prudence") == "prudence, prudence"
    assert _lower_first("L'IA aide") == "l'IA aide"
    assert _lower_first("ChatGPT, partout") == "ChatGPT, partout"
    assert _lower_first("IA : prudence") == "IA : prudence"


def test_a_title_taken_from_the_summary_is_not_said_again_before_it():
    # No quote of 5-40 words: the fallback is the summary's first sentence, which the
    # title, cut short, was taken from.
    said = [("Il serait souhaitable que tout le monde paie l'impôt sur le revenu, même un "
            "euro, parce que chacun doit contribuer aux dépenses communes de la nation, aux "
            "écoles, aux hôpitaux, aux routes, à la police et à la justice, et que personne "
            "ne doit s'estimer dispensé de cet effort partagé par tous les citoyens."),
            ("Que chacun paie l'impôt sur le revenu selon ses moyens, même un tout petit "
            "montant symbolique, serait juste pour que tout le monde participe au budget "
            "commun et se sente concerné par les dépenses publiques, les écoles, les "
            "hôpitaux, les routes, la police et la justice de notre pays entier.")]
    summary = "Il serait souhaitable que tout le monde paie l'impôt sur le revenu."
    theme = Theme(5, "Il serait souhaitable que tout le monde paie l'impôt…", summary, 0.2,
                  {"opportunite": 2}, said, EMBED.embed(said), quotes=said,
                  idea_kinds=["opportunite", "opportunite"])
    draft = compose_synthesis([theme], Q, CachedLLM(FakeLLM()), PROMPT, EMBED.embed, SHARES,
                              write=False)
    sentence = next(s for s in draft.sentences if s.cluster_ids == [5] and s.origin != "code")
    assert sentence.origin == "repli" and sentence.body == summary

