"""Step 1: ideas anchored on the answer's numbered segments, checked by code."""

import json

import pytest
from fakes import FakeLLM

from synthese.calls import CachedLLM
from synthese.extract import (
    LINES_PROMPT,
    MIN_OVERLAP,
    chunks,
    example_ideas,
    extract_answer,
    extraction_schema,
    extractor_key,
    lines_grammar,
    overlap,
    prompt_for,
    salvage_json,
)
from synthese.extract import (
    PROMPT as PROMPT_NAME,
)
from synthese.llm import LLMResult
from synthese.prompts import load_prompt
from synthese.segments import split_segments
from synthese.storage import Store

PROMPT = load_prompt(*PROMPT_NAME)
LINES = load_prompt(*LINES_PROMPT)
Q = "Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements scolaires ?"
ANSWER = ("L'IA aide à préparer les cours. Mais les élèves trichent avec ChatGPT à la maison. "
          "Il faut former les enseignants. Merci.")


class ScriptedLLM(FakeLLM):
    """Returns the given JSON texts in turn (then the fake's own answer)."""

    def __init__(self, replies, finish="stop"):
        super().__init__()
        self.replies = list(replies)
        self.finish = finish

    def chat(self, messages, *, schema=None, max_tokens=512, temperature=0.0, seed=42):
        self.calls.append({"messages": messages, "max_tokens": max_tokens, "schema": schema})
        if self.replies:
            text = self.replies.pop(0)
            finish = self.finish if not text.rstrip().endswith("}") else "stop"
            return LLMResult(text, 10, 10, 0.01, finish)
        return super().chat(messages, schema=schema, max_tokens=max_tokens)


def _idea(segments, text):
    return {"segments": segments, "idee": text}


def _reply(*ideas):
    return json.dumps({"arguments": list(ideas)}, ensure_ascii=False)


def _extract(replies, text=ANSWER, **kw):
    return extract_answer("a1", text, Q, CachedLLM(ScriptedLLM(replies, **kw)), PROMPT)


def test_each_quote_is_the_text_of_its_segments_with_offsets():
    e = _extract([_reply(_idea([1], "L'IA facilite la préparation des cours."),
                         _idea([2], "Les élèves fraudent avec ChatGPT."),
                         _idea([3], "Il faut former les enseignants."))])
    # Kinds by rule from each quote, the respondent's own words (kinds.py).
    assert e.status == "processed" and [a.kind for a in e.arguments] == [
        "opportunite", "risque", "condition"]
    assert [a.quote for a in e.arguments] == ["L'IA aide à préparer les cours.",
                                              "Mais les élèves trichent avec ChatGPT à la maison.",
                                              "Il faut former les enseignants."]
    for a in e.arguments:
        assert ANSWER[a.quote_start:a.quote_end] == a.quote
    assert e.n_segments == 4 and e.n_empty_segments == 1 and e.n_uncovered == 0


def test_the_model_is_shown_numbered_segments_and_may_only_name_them():
    llm = ScriptedLLM([_reply(_idea([1, 2, 3], "L'IA change la classe."))])
    extract_answer("a1", ANSWER, Q, CachedLLM(llm), PROMPT)
    user = llm.calls[0]["messages"][-1]["content"]
    assert "[1] L'IA aide à préparer les cours.\n[2] Mais les élèves" in user and "[4] Merci." in user
    item = llm.calls[0]["schema"]["properties"]["arguments"]["items"]["properties"]
    assert item["segments"]["items"]["enum"] == [1, 2, 3, 4]
    assert set(item) == {"segments", "idee"}  # the kind is given by rule, not asked


def test_an_idea_over_following_segments_quotes_them_together():
    e = _extract([_reply(_idea([1, 2], "L'IA aide à préparer mais favorise la triche."),
                         _idea([3], "Former les enseignants."))])
    assert e.arguments[0].quote == ("L'IA aide à préparer les cours. Mais les élèves trichent "
                                    "avec ChatGPT à la maison.")


def test_an_answer_of_one_short_sentence_is_its_own_idea_with_no_model_call():
    llm = ScriptedLLM([])
    short = "Bien pour nous, pas pour les élèves avant le lycée. Merci !"
    e = extract_answer("a1", short, Q, CachedLLM(llm), PROMPT)
    assert llm.calls == [] and e.n_calls == 0
    [a] = e.arguments
    assert (a.text, a.quote, a.flags) == ("Bien pour nous, pas pour les élèves avant le lycée.",
                                          short[a.quote_start:a.quote_end], ["reponse_courte"])
    # 13 words, or two sentences: the model is asked
    for text in ("Bien pour nous les enseignants, mais pas pour les élèves avant le lycée.",
                 "Bien pour nous. Pas pour les élèves."):
        llm = ScriptedLLM([_reply(_idea([1], "Utile aux enseignants"))])
        e = extract_answer("a1", text, Q, CachedLLM(llm), PROMPT)
        assert len(llm.calls) == 1 and "reponse_courte" not in e.arguments[0].flags


def test_a_segment_no_idea_covers_is_kept_in_its_own_words_and_flagged():
    e = _extract([_reply(_idea([1], "L'IA facilite la préparation des cours."))])
    kept = [(a.text, a.flags) for a in e.arguments]
    assert ("Mais les élèves trichent avec ChatGPT à la maison.", ["non_reformule"]) in kept
    assert ("Il faut former les enseignants.", ["non_reformule"]) in kept
    assert all("Merci" not in t for t, _ in kept)  # courtesy is not an idea
    assert e.n_uncovered == 2


def test_an_observation_said_after_a_fear_is_a_risk_and_says_why():
    text = "Je suis très inquiet. C'est la fin des devoirs maison. J'enseigne en lycée."
    e = _extract([_reply(_idea([1], "Une inquiétude"), _idea([2], "La fin des devoirs maison"),
                         _idea([3], "Un enseignant de lycée"))], text=text)
    by_quote = {a.quote: (a.kind, a.flags) for a in e.arguments}
    assert by_quote["C'est la fin des devoirs maison."] == ("risque", ["nature_du_contexte"])
    assert by_quote["Je suis très inquiet."] == ("risque", [])
    # after an observation, nothing to take; a presentation stays what it is
    assert by_quote["J'enseigne en lycée."] == ("constat", [])


def test_an_idea_pointing_at_the_wrong_segment_is_moved_to_the_one_it_matches():
    e = _extract([_reply(_idea([1], "Il faut former les enseignants."),
                         _idea([2], "L'IA aide à préparer les cours."))])
    first = e.arguments[0]
    assert first.segments == [3] and "segment_corrige" in first.flags
    assert first.quote == "Il faut former les enseignants."


def test_a_copied_few_shot_reformulation_is_replaced_by_the_segment():
    e = _extract([_reply(_idea([1], "Moins de fatigue des enfants grâce au mercredi libre"))])
    first = e.arguments[0]
    assert first.text == "L'IA aide à préparer les cours." and "reformulation_remplacee" in first.flags


def test_the_same_idea_twice_is_kept_once():
    same = _idea([1], "L'IA facilite la préparation des cours.")
    e = _extract([_reply(same, same, _idea([2, 3], "Triche et manque de formation."))])
    assert len(e.arguments) == 2 and "doublon_fusionne" in e.flags


def test_an_answer_of_courtesy_only_makes_no_model_call():
    llm = ScriptedLLM([])
    e = extract_answer("a1", "Merci. Bonne journée !", Q, CachedLLM(llm), PROMPT)
    assert e.status == "processed" and e.arguments == [] and llm.calls == []
    assert e.n_empty_segments == 2


def test_json_cut_at_token_limit_is_retried_with_a_larger_budget():
    full = _reply(_idea([1], "L'IA facilite la préparation des cours."))
    llm = ScriptedLLM([full[:-15], full], finish="length")
    e = extract_answer("a1", ANSWER, Q, CachedLLM(llm), PROMPT)
    assert e.status == "processed" and e.arguments[0].kind == "opportunite"
    assert llm.calls[1]["max_tokens"] == 2 * llm.calls[0]["max_tokens"]


def test_json_still_cut_after_retries_salvages_complete_ideas():
    two = _reply(_idea([1], "L'IA facilite la préparation des cours."),
                 _idea([2], "Les élèves fraudent avec ChatGPT."))
    cut = two[: two.rindex("{") + 20]
    e = _extract([cut] * 3, finish="length")
    assert e.status == "processed" and "json_tronque" in e.flags
    assert e.arguments[0].kind == "opportunite"
    assert salvage_json(cut)["arguments"][0]["segments"] == [1]


def test_invalid_json_fails_with_a_reason_never_silently():
    e = _extract(["pas du json"] * 3)
    assert e.status == "failed" and "JSON" in e.reason


def test_model_errors_are_retried_then_recorded_as_failure():
    llm = FakeLLM(fail=2)
    e = extract_answer("a1", ANSWER, Q, CachedLLM(llm), PROMPT)
    assert e.status == "processed" and len(llm.calls) == 3
    e = extract_answer("a2", ANSWER, Q, CachedLLM(FakeLLM(fail=5)), PROMPT)
    assert e.status == "failed" and "échec" in e.reason


def test_a_long_answer_is_asked_in_chunks_of_whole_segments():
    sentence = "Les outils d'IA posent des questions de protection des données personnelles. "
    text = sentence * 40 + "Pour finir, il faut une charte nationale claire."
    groups = chunks(split_segments(text))
    assert len(groups) > 1 and sum(len(g) for g in groups) == 41
    llm = FakeLLM()
    e = extract_answer("a1", text, Q, CachedLLM(llm), PROMPT)
    assert len(llm.calls) == len(groups)
    last = next(a for a in e.arguments if a.quote.startswith("Pour finir"))
    assert text[last.quote_start:last.quote_end] == last.quote == "Pour finir, il faut une charte nationale claire."
    assert all(text[a.quote_start:a.quote_end] == a.quote for a in e.arguments)


def test_second_extraction_with_the_cache_makes_no_model_call(tmp_path):
    llm = FakeLLM()
    with Store(tmp_path / "s.duckdb") as store:
        first = extract_answer("a1", ANSWER, Q, CachedLLM(llm, store), PROMPT)
        second = extract_answer("a1", ANSWER, Q, CachedLLM(llm, store), PROMPT)
        assert len(llm.calls) == 1
        assert [a.text for a in first.arguments] == [a.text for a in second.arguments]


def test_extractor_key_changes_with_model_or_prompt():
    other = load_prompt("extract_arguments", 1)
    assert extractor_key("m1", PROMPT) != extractor_key("m2", PROMPT)
    assert extractor_key("m1", PROMPT) != extractor_key("m1", other)


@pytest.mark.realmodel
def test_the_grammar_of_the_schema_holds_with_the_real_model():
    from synthese.llm import LlamaCppLLM

    with LlamaCppLLM("qwen2.5-coder-0.5b", threads=2) as llm:
        e = extract_answer("a1", ANSWER, Q, CachedLLM(llm), PROMPT)
    assert e.status == "processed" and e.arguments
    for a in e.arguments:
        assert ANSWER[a.quote_start:a.quote_end] == a.quote
        assert set(a.segments) <= {1, 2, 3, 4}


def test_the_grammar_allows_at_most_one_idea_per_segment_that_carries_content():
    # « Merci » carries no idea: 3 ideas at most over the 4 segments, so a looping model stops.
    llm = ScriptedLLM([_reply(_idea([1], "L'IA facilite la préparation des cours."))])
    extract_answer("a1", ANSWER, Q, CachedLLM(llm), PROMPT)
    assert llm.calls[0]["schema"] == extraction_schema([1, 2, 3, 4], 3)
    assert llm.calls[0]["schema"]["properties"]["arguments"]["maxItems"] == 3


@pytest.mark.parametrize("junk", [
    "Préparer les cours)}, {Idées",  # JSON or prompt marks
    "L'intelligence artificielle dans les établissements",  # only the question's words
])
def test_an_idea_that_is_no_reformulation_is_replaced_by_its_segment(junk):
    e = _extract([_reply(_idea([1], junk),
                         _idea([2], "Les élèves fraudent avec ChatGPT."),
                         _idea([3], "Former les enseignants."))])
    assert e.arguments[0].text == "L'IA aide à préparer les cours."
    assert e.arguments[0].flags == ["reformulation_remplacee"]
    assert e.arguments[1].text == "Les élèves fraudent avec ChatGPT."


def test_an_idea_sharing_no_word_with_the_answer_is_replaced_by_the_segment():
    # The 0.5B wrote « Il faudrait baisser les impôts locaux » (a few-shot example reworded)
    # for an answer on child support.
    e = _extract([_reply(_idea([1], "Il faudrait baisser les impôts locaux"),
                         _idea([2, 3], "Triche des élèves et formation des enseignants"))])
    first = e.arguments[0]
    assert first.text == "L'IA aide à préparer les cours."
    assert "reformulation_remplacee" in first.flags
    assert "reformulation_remplacee" not in e.arguments[1].flags


def test_an_idea_cut_at_the_length_bound_ends_at_its_last_whole_word():
    from synthese.extract import MAX_IDEA_CHARS

    long_idea = ("Les élèves trichent avec ChatGPT à la maison et les enseignants ne savent "
                 "pas comment réagir face à")[:MAX_IDEA_CHARS]
    assert len(long_idea) == MAX_IDEA_CHARS and not long_idea.endswith(" ")
    e = _extract([_reply(_idea([2], long_idea))])
    text = e.arguments[0].text
    assert long_idea.startswith(text) and len(text) < MAX_IDEA_CHARS
    assert long_idea[len(text)] == " "  # nothing cut inside a word


def test_an_idea_that_copies_its_segment_cut_at_the_length_bound_is_the_whole_segment():
    from synthese.extract import MAX_IDEA_CHARS

    # The demo's 0.5B copied long sentences, and the grammar cut them mid-phrase: « Avant
    # de parler d'usage en classe, il faudrait former les enseignants, et pas en deux ».
    long = ("Avant de parler d'usage en classe, il faudrait former les enseignants, et pas en "
            "deux heures un mercredi après-midi.")
    text = f"{long} Les élèves trichent déjà avec ChatGPT."
    copied = long[:MAX_IDEA_CHARS]
    e = _extract([_reply(_idea([1], copied), _idea([2], "Triche des élèves avec ChatGPT"))],
                 text=text)
    first, second = e.arguments[0], e.arguments[1]
    assert first.text == long == first.quote
    assert first.flags == ["reformulation_remplacee"]
    # a reformulation, even cut, is no copy: it stays the model's words
    assert second.text == "Triche des élèves avec ChatGPT" and second.flags == []


def test_an_idea_said_again_inside_a_longer_one_on_the_same_segment_is_kept_once():
    e = _extract([_reply(_idea([2], "Les élèves trichent avec ChatGPT"),
                         _idea([2], "C'est grave, les élèves trichent avec ChatGPT"),
                         _idea([3], "Former les enseignants"))])
    assert [a.text for a in e.arguments] == ["Les élèves trichent avec ChatGPT",
                                              "Former les enseignants",
                                              "L'IA aide à préparer les cours."]
    assert "doublon_fusionne" in e.flags


def test_an_idea_its_quote_barely_says_is_replaced_by_the_quote_and_scored():
    # Issue 16: an idea was published, and counted as verified, under a quote that says
    # something else (« Utilisation de l'intelligence artificielle dans les établissements
    # scolaires » on « Si ça peut nous débarrasser d'une partie de la paperasse… »).
    text = ("Si ça peut nous débarrasser d'une partie de la paperasse, je signe tout de suite. "
            "Les élèves trichent déjà avec ChatGPT.")
    e = _extract([_reply(_idea([1], "Utilisation de l'intelligence artificielle dans les "
                                    "établissements scolaires pour la paperasse"),
                         _idea([2], "Triche des élèves avec ChatGPT"))], text=text)
    first, second = e.arguments
    assert first.text == first.quote and "reformulation_remplacee" in first.flags
    assert first.support == 100.0  # the quote itself
    assert second.text == "Triche des élèves avec ChatGPT" and second.support >= 34
    assert overlap("Utilisation de l'intelligence artificielle pour la paperasse",
                   first.quote) < MIN_OVERLAP


class LinesLLM(FakeLLM):
    """The embedded model's side of the lines format: takes a GBNF grammar, returns the
    given (text, finish reason) replies in turn."""

    def __init__(self, replies):
        super().__init__()
        self.replies = list(replies)

    def chat(self, messages, *, schema=None, grammar=None, max_tokens=512, **kwargs):
        self.calls.append({"messages": messages, "schema": schema, "grammar": grammar,
                           "max_tokens": max_tokens})
        text, finish = self.replies.pop(0)
        return LLMResult(text, 10, 10, 0.01, finish)


def _lines(replies):
    llm = LinesLLM(replies)
    return extract_answer("a1", ANSWER, Q, CachedLLM(llm), LINES), llm


def test_the_embedded_model_answers_one_line_per_idea_under_a_grammar_of_the_segments():
    assert prompt_for("llamacpp") == LINES_PROMPT and prompt_for("ollama") == PROMPT_NAME
    reply = ("1: L'IA facilite la préparation des cours\n"
             "2,3: Triche des élèves et enseignants à former")
    e, llm = _lines([(reply, "stop")])
    assert e.status == "processed" and e.n_uncovered == 0
    assert [a.text for a in e.arguments] == ["L'IA facilite la préparation des cours",
                                             "Triche des élèves et enseignants à former"]
    # the quote of an idea over two segments is their text, verbatim, with its offsets
    second = e.arguments[1]
    assert second.segments == [2, 3] and second.quote == ANSWER[second.quote_start:second.quote_end]
    assert second.quote == ("Mais les élèves trichent avec ChatGPT à la maison. "
                            "Il faut former les enseignants.")
    call = llm.calls[0]
    assert call["schema"] is None and call["grammar"] == lines_grammar([1, 2, 3, 4], 3)
    # the model is asked in lines too: its examples, its request's numbered segments
    assert "1: Moins de fatigue des enfants" in call["messages"][2]["content"]
    assert "[4] Merci." in call["messages"][-1]["content"]


def test_the_lines_grammar_names_only_the_chunks_segments_and_bounds_the_ideas():
    grammar = lines_grammar([3, 4, 12], 2)
    rules = dict(line.split(" ::= ", 1) for line in grammar.strip().splitlines())
    assert rules["seg"] == '"3" | "4" | "12"'
    assert rules["root"] == 'idea ("\\n" idea){0,1}'  # two ideas at most
    assert "{0,3}" in rules["idea"] and "{0,89}" in rules["idea"]  # 4 segments, 90 characters
    assert lines_grammar([5], 1).startswith("root ::= idea\n")


def test_lines_cut_at_the_token_limit_are_retried_then_their_complete_ideas_kept():
    cut = "1: L'IA facilite la préparation des cours\n2: Les élèves fraud"
    e, llm = _lines([(cut, "length")] * 3)
    assert [c["max_tokens"] for c in llm.calls] == [
        llm.calls[0]["max_tokens"] * k for k in (1, 2, 4)]
    assert e.status == "processed" and "json_tronque" in e.flags
    # the cut idea is not kept; its segment is, in the respondent's words
    assert e.arguments[0].text == "L'IA facilite la préparation des cours"
    assert not any(a.text == "Les élèves fraud" for a in e.arguments)
    assert e.n_uncovered == 2 and any(a.quote.startswith("Mais les élèves") for a in e.arguments)


def test_a_reply_not_in_lines_fails_with_a_reason_never_silently():
    e, llm = _lines([('{"arguments": []}', "stop")] * 3)
    assert e.status == "failed" and "illisible" in e.reason and len(llm.calls) == 3


def test_the_few_shot_ideas_of_the_lines_prompt_are_known_as_copies():
    # The copy check reads the examples of either format: the two prompts share theirs.
    ideas = example_ideas(LINES)
    assert len(ideas) == 7 and ideas == example_ideas(PROMPT)


@pytest.mark.realmodel
def test_the_lines_grammar_holds_with_the_real_model():
    import re

    from synthese.llm import LlamaCppLLM

    with LlamaCppLLM("qwen2.5-coder-0.5b", threads=2) as llm:
        e = extract_answer("a1", ANSWER, Q, CachedLLM(llm), LINES)
        # A grammar that names segment 2 only: every line the model writes starts with it.
        messages = LINES.render(question=Q, segments="[1] Oui.\n[2] L'IA aide.\n[3] Non.")
        forced = llm.chat(messages, grammar=lines_grammar([2], 1), max_tokens=40)
    assert e.status == "processed" and e.arguments
    for a in e.arguments:
        assert ANSWER[a.quote_start:a.quote_end] == a.quote
        assert set(a.segments) <= {1, 2, 3, 4}
    assert re.fullmatch(r"2: [^\n]+", forced.text), forced.text
