"""The LLM call cache: same protocol as a backend, every call stored once, counted."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from fakes import FakeLLM

from synthese.calls import CachedLLM
from synthese.llm import LLMError
from synthese.prompts import load_prompt
from synthese.storage import Store

PROMPT = load_prompt("extract_arguments", 1)


def _messages(answer: str) -> list[dict]:
    return PROMPT.render(question="Que pensez-vous de l'IA ?", answer=answer)


def test_a_call_asked_twice_reaches_the_model_once_and_says_it_was_reused(tmp_path):
    llm = FakeLLM()
    with Store(tmp_path / "s.duckdb") as store:
        cached = CachedLLM(llm, store).for_stage("extraction", PROMPT)
        first = cached.chat(_messages("L'IA aide beaucoup les élèves."), max_tokens=100)
        again = CachedLLM(FakeLLM(), store).for_stage("extraction", PROMPT).chat(
            _messages("L'IA aide beaucoup les élèves."), max_tokens=100)
        row = store.query("SELECT * FROM core.llm_calls").iloc[0]

    assert len(llm.calls) == 1
    assert (first.reused, again.reused) == (False, True)
    assert first.call_key == again.call_key == row["call_key"] and again.text == first.text
    # the stored call names its stage and its versioned prompt
    assert (row["purpose"], row["prompt_name"], row["prompt_hash"]) == (
        "extraction", "extract_arguments.v1", PROMPT.sha256)


def test_other_options_or_another_model_make_another_call():
    cached = CachedLLM(FakeLLM())
    keys = {
        cached.chat(_messages("Oui."), max_tokens=100).call_key,
        cached.chat(_messages("Oui."), max_tokens=200).call_key,
        cached.chat(_messages("Oui."), max_tokens=100, seed=7).call_key,
        CachedLLM(FakeLLM(model_id="fake:autre:v1")).chat(_messages("Oui."), max_tokens=100).call_key,
    }
    assert len(keys) == 4


def test_a_failed_call_is_not_stored_and_is_made_again(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(LLMError):
            CachedLLM(FakeLLM(fail=1), store).chat(_messages("Non."))
        assert store.scalar("SELECT count(*) FROM core.llm_calls") == 0
        result = CachedLLM(FakeLLM(), store).chat(_messages("Non."))
    assert not result.reused


def test_stages_share_the_counters_by_purpose():
    cached = CachedLLM(FakeLLM())
    cached.for_stage("extraction", PROMPT).chat(_messages("Un."))
    cached.for_stage("summary").chat([{"role": "user", "content": "Résume."}])
    cached.for_stage("summary").chat([{"role": "user", "content": "Résume."}])  # no store: made

    stats = cached.stats.as_dict()
    assert stats["made"] == 3 and stats["reused"] == 0
    assert stats["by_stage"]["extraction"]["calls"] == 1
    assert stats["by_stage"]["summary"]["calls"] == 2
    assert stats["prompt_tokens"] > 0 and stats["completion_tokens"] > 0


def test_messages_of_no_known_prompt_are_stored_without_one(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        CachedLLM(FakeLLM(), store).for_stage("extraction", PROMPT).chat(
            [{"role": "user", "content": "Bonjour"}])
        row = store.query("SELECT prompt_name, prompt_hash FROM core.llm_calls").iloc[0]
    assert row["prompt_name"] is None and row["prompt_hash"] is None


@dataclass
class GrammarLLM(FakeLLM):
    """A fake that takes a GBNF grammar, as the embedded model does."""

    grammars: list = field(default_factory=list)

    def chat(self, messages, *, grammar=None, **kwargs):
        self.grammars.append(grammar)
        return super().chat(messages, **kwargs)


def test_a_grammar_makes_another_call_and_calls_without_one_keep_their_former_key(tmp_path):
    from synthese.keys import content_hash

    llm = GrammarLLM()
    messages = _messages("L'IA aide les élèves.")
    with Store(tmp_path / "s.duckdb") as store:
        cached = CachedLLM(llm, store).for_stage("extraction", PROMPT)
        plain = cached.chat(messages, max_tokens=100)
        ruled = cached.chat(messages, max_tokens=100, grammar='root ::= "1: " [a-z]+')
        again = cached.chat(messages, max_tokens=100, grammar='root ::= "1: " [a-z]+')
        other = cached.chat(messages, max_tokens=100, grammar='root ::= "2: " [a-z]+')
        options = dict(store.query("SELECT call_key, options FROM core.llm_calls").values)

    # The key of a call without a grammar is computed as before grammars existed: the calls
    # stored by earlier releases are found again.
    former = content_hash(llm.model_id, PROMPT.sha256, content_hash(messages),
                          {"schema": None, "max_tokens": 100, "temperature": 0.0, "seed": 42})
    assert plain.call_key == former
    assert len({plain.call_key, ruled.call_key, other.call_key}) == 3 and again.reused
    assert llm.grammars == [None, 'root ::= "1: " [a-z]+',
                                                 'root ::= "2: " [a-z]+']
    assert "grammar_hash" not in options[plain.call_key]
    assert "grammar_hash" in options[ruled.call_key]
