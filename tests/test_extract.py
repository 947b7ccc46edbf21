import json

from fakes import FakeLLM

from synthese.calls import CachedLLM
from synthese.extract import extract_answer, extractor_key, salvage_json, split_chunks
from synthese.llm import LLMResult
from synthese.prompts import load_prompt
from synthese.storage import Store

PROMPT = load_prompt("extract_arguments", 1)
Q = "Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements scolaires ?"
ANSWER = "L'IA aide à préparer les cours. Mais les élèves trichent avec ChatGPT à la maison."


class ScriptedLLM(FakeLLM):
    """Returns the given JSON texts in turn (then the fake's own answer)."""

    def __init__(self, replies, finish="stop"):
        super().__init__()
        self.replies = list(replies)
        self.finish = finish

    def chat(self, messages, *, schema=None, max_tokens=512, temperature=0.0, seed=42):
        self.calls.append({"messages": messages, "max_tokens": max_tokens})
        if self.replies:
            text = self.replies.pop(0)
            finish = self.finish if not text.rstrip().endswith("}") else "stop"
            return LLMResult(text, 10, 10, 0.01, finish)
        return super().chat(messages, schema=schema, max_tokens=max_tokens)


def _arg(text, stance, quote):
    return {"argument": text, "position": stance, "citation": quote}


def test_arguments_come_back_with_verbatim_quotes_and_offsets():
    e = extract_answer("a1", ANSWER, Q, CachedLLM(FakeLLM(), None), PROMPT)
    assert e.status == "processed" and len(e.arguments) == 2
    for a in e.arguments:
        assert a.match_kind == "exact"
        assert ANSWER[a.quote_start:a.quote_end] == a.quote


def test_rewritten_quote_is_stored_as_the_answers_own_span():
    reply = json.dumps({"arguments": [_arg("L'IA aide les enseignants.", "pour",
                                           "l'IA aide a preparer les cours")]})
    e = extract_answer("a1", ANSWER, Q, CachedLLM(ScriptedLLM([reply]), None), PROMPT)
    a = e.arguments[0]
    assert a.match_kind == "normalised" and a.quote == "L'IA aide à préparer les cours"
    assert a.model_quote == "l'IA aide a preparer les cours"


def test_invented_quote_is_flagged_unverified_not_stored_as_quote():
    reply = json.dumps({"arguments": [_arg("Les parents sont inquiets.", "contre",
                                           "les parents sont très inquiets de cette évolution")]})
    e = extract_answer("a1", ANSWER, Q, CachedLLM(ScriptedLLM([reply]), None), PROMPT)
    a = e.arguments[0]
    assert a.quote is None and a.quote_start is None and not a.verified
    assert "citation_non_verifiee" in a.flags


def test_copied_few_shot_example_is_dropped_and_flagged():
    copied = json.dumps({"arguments": [
        _arg("La semaine de quatre jours réduit la fatigue des enfants grâce au mercredi libre.",
             "pour", "Les enfants sont moins fatigués le mercredi"),
        _arg("Les journées deviennent trop longues pour les jeunes élèves.", "contre",
             "les journées sont beaucoup trop longues pour les petits"),
    ]})
    e = extract_answer("a1", "Excellente proposition !", Q, CachedLLM(ScriptedLLM([copied]), None), PROMPT)
    assert e.status == "processed" and e.arguments == []
    assert "exemple_copie" in e.flags


def test_same_sentence_with_several_stances_is_merged():
    text = "L'IA aide à préparer les cours."
    reply = json.dumps({"arguments": [_arg(text, s, "L'IA aide à préparer les cours")
                                      for s in ("pour", "contre", "nuance", "hors_sujet")]})
    e = extract_answer("a1", ANSWER, Q, CachedLLM(ScriptedLLM([reply]), None), PROMPT)
    assert len(e.arguments) == 1 and e.arguments[0].stance == "pour"
    assert "positions_contradictoires" in e.arguments[0].flags and "doublon_fusionne" in e.flags


def test_json_cut_at_token_limit_is_retried_with_a_larger_budget():
    full = json.dumps({"arguments": [_arg("L'IA aide à préparer les cours.", "pour",
                                          "L'IA aide à préparer les cours")]})
    llm = ScriptedLLM([full[:-15], full], finish="length")
    e = extract_answer("a1", ANSWER, Q, CachedLLM(llm, None), PROMPT)
    assert e.status == "processed" and len(e.arguments) == 1
    assert llm.calls[1]["max_tokens"] == 2 * llm.calls[0]["max_tokens"]


def test_json_still_cut_after_retries_salvages_complete_arguments():
    two = json.dumps({"arguments": [
        _arg("L'IA aide à préparer les cours.", "pour", "L'IA aide à préparer les cours"),
        _arg("Les élèves trichent.", "contre", "les élèves trichent avec ChatGPT")]})
    cut = two[: two.rindex("{") + 20]
    e = extract_answer("a1", ANSWER, Q, CachedLLM(ScriptedLLM([cut] * 3, finish="length"), None), PROMPT)
    assert e.status == "processed" and len(e.arguments) == 1 and "json_tronque" in e.flags
    assert salvage_json(cut)["arguments"][0]["position"] == "pour"


def test_invalid_json_fails_with_a_reason_never_silently():
    e = extract_answer("a1", ANSWER, Q, CachedLLM(ScriptedLLM(["pas du json"] * 3), None), PROMPT)
    assert e.status == "failed" and "JSON" in e.reason


def test_model_errors_are_retried_then_recorded_as_failure():
    llm = FakeLLM(fail=2)
    e = extract_answer("a1", ANSWER, Q, CachedLLM(llm, None), PROMPT)
    assert e.status == "processed" and len(llm.calls) == 3
    e = extract_answer("a2", ANSWER, Q, CachedLLM(FakeLLM(fail=5), None), PROMPT)
    assert e.status == "failed" and "échec" in e.reason


def test_long_answer_is_extracted_by_chunks_with_offsets_in_the_whole_answer():
    sentence = "Les outils d'IA posent des questions de protection des données personnelles. "
    text = sentence * 30 + "Pour finir, il faut une charte nationale claire."
    chunks = split_chunks(text)
    assert len(chunks) > 1 and "".join(c for _, c in chunks) == text
    e = extract_answer("a1", text, Q, CachedLLM(FakeLLM(), None), PROMPT)
    last = e.arguments[-1]
    assert text[last.quote_start:last.quote_end] == last.quote == "Pour finir, il faut une charte nationale claire."


def test_second_extraction_with_the_cache_makes_no_model_call(tmp_path):
    llm = FakeLLM()
    with Store(tmp_path / "s.duckdb") as store:
        first = extract_answer("a1", ANSWER, Q, CachedLLM(llm, store), PROMPT)
        calls = len(llm.calls)
        second = extract_answer("a1", ANSWER, Q, CachedLLM(llm, store), PROMPT)
        assert len(llm.calls) == calls == 1
        assert [a.text for a in first.arguments] == [a.text for a in second.arguments]
        assert store.scalar("SELECT count(*) FROM core.llm_calls") == 1


def test_extractor_key_changes_with_model_or_prompt():
    other = load_prompt("summarise_cluster", 1)
    assert extractor_key("m1", PROMPT) != extractor_key("m2", PROMPT)
    assert extractor_key("m1", PROMPT) != extractor_key("m1", other)


def test_a_prompt_file_sets_the_order_the_model_writes_the_fields_in():
    from synthese.extract import EXTRACTION_SCHEMA, schema_for
    from synthese.prompts import parse_prompt

    text = PROMPT.text.replace("version: 1\n", "version: 9\nfields: citation, argument, position\n", 1)
    reordered = parse_prompt("extract_arguments", 9, text)
    assert reordered.option("fields") == "citation, argument, position"
    assert schema_for(PROMPT) is EXTRACTION_SCHEMA
    items = schema_for(reordered)["properties"]["arguments"]["items"]["properties"]
    assert list(items) == ["citation", "argument", "position"]
    assert extractor_key("m1", reordered) != extractor_key("m1", PROMPT)
    # The fake answers whatever the order; the arguments still come back checked.
    e = extract_answer("a1", ANSWER, Q, CachedLLM(FakeLLM(), None), reordered)
    assert e.status == "processed" and all(a.match_kind == "exact" for a in e.arguments)


def test_a_prompt_cannot_drop_an_extraction_field():
    import pytest

    from synthese.extract import extraction_schema

    with pytest.raises(ValueError):
        extraction_schema(("argument", "citation"))
