"""The LLM call cache: same protocol as a backend, every call stored once, counted."""

from __future__ import annotations

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
