"""Versioned prompt files: parsed into messages, rendered, and recognised in a call."""

import pytest

from synthese.prompts import load_prompt, parse_prompt

TEXT = """---
name: essai
fields: argument, position, citation
---
### system
Tu extrais des arguments.
### user
Réponse : un exemple.
### assistant
{"arguments": []}
### user
Question : {{question}}
Réponse : {{answer}}
"""


def test_a_prompt_file_gives_its_messages_examples_and_front_matter():
    prompt = parse_prompt("essai", 2, TEXT)

    assert prompt.label == "essai.v2"
    assert [role for role, _ in prompt.messages] == ["system", "user", "assistant", "user"]
    assert prompt.examples == [("user", "Réponse : un exemple."),
                               ("assistant", '{"arguments": []}')]
    assert prompt.option("fields") == "argument, position, citation"
    assert prompt.option("absent", "défaut") == "défaut"


def test_render_fills_the_last_block_only_and_keeps_braces_in_values():
    messages = parse_prompt("essai", 1, TEXT).render(question="Q ?", answer="a {{b}} c")
    assert messages[-1] == {"role": "user", "content": "Question : Q ?\nRéponse : a {{b}} c"}
    assert messages[0] == {"role": "system", "content": "Tu extrais des arguments."}


def test_a_prompt_recognises_its_own_rendered_messages_only():
    prompt = parse_prompt("essai", 1, TEXT)
    other = parse_prompt("essai", 1, TEXT.replace("Tu extrais", "Tu résumes"))
    messages = prompt.render(question="Q ?", answer="R.")

    assert prompt.rendered(messages) and not other.rendered(messages)
    edited = [*messages[:-1], {"role": "user", "content": "Autre chose : R."}]
    assert not prompt.rendered(edited)


def test_any_edit_of_the_file_changes_its_hash():
    assert parse_prompt("essai", 1, TEXT).sha256 != parse_prompt("essai", 1, TEXT + " ").sha256


def test_a_prompt_must_end_with_a_user_block():
    with pytest.raises(ValueError, match="user block"):
        parse_prompt("essai", 1, "### system\nBonjour\n### assistant\nOui")


def test_every_shipped_prompt_loads():
    for name in ("extract_arguments", "summarise_cluster", "reduce_summaries", "synthesise"):
        prompt = load_prompt(name, 1)
        assert prompt.messages[-1][0] == "user" and "{{" in prompt.messages[-1][1]
