"""Step 1: extract reformulated arguments, each with a stance and a verified quote.

The small embedded models fail in known ways; each is detected here:
- a few-shot example copied as the arguments of an unrelated answer -> dropped when its
  quote is not in the answer (flag ``exemple_copie`` on the extraction);
- the same sentence repeated with several stances -> duplicates merged (flag
  ``doublon_fusionne``, and ``positions_contradictoires`` when stances differed);
- quotes lightly rewritten -> aligned to the answer by code (align.py), the answer's own
  span stored; unaligned quotes flagged ``citation_non_verifiee``;
- JSON cut at the token limit -> retried with a larger budget, then the complete
  arguments are salvaged (flag ``json_tronque``), else the answer fails with its reason.

Nothing is dropped: every answer comes back processed (possibly with no argument) or
failed with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz

from synthese.align import _normalise_with_map, locate_quote
from synthese.keys import content_hash
from synthese.llm import LLM, LLMError
from synthese.prompts import Prompt

STANCES = ("pour", "contre", "nuance", "hors_sujet")
MAX_ARGUMENTS = 6
# Bounds enforced by the grammar: generation time is dominated by output tokens, and the
# small models otherwise copy whole answers into both fields. A quote cut by the bound
# is still a verbatim prefix of a passage, which align.py locates.
MAX_ARGUMENT_CHARS = 200
MAX_QUOTE_CHARS = 160
CHUNK_CHARS = 1800  # answers longer than this are extracted chunk by chunk
LLM_RETRIES = 2

FIELDS = ("argument", "position", "citation")


def extraction_schema(fields: tuple[str, ...] = FIELDS) -> dict:
    """The JSON schema of one extraction; the grammar makes the model write the fields in
    this order (a prompt file may set another with a ``fields:`` front-matter line).

    ``additionalProperties: false`` matters: without it llama.cpp's grammar (llguidance)
    lets the model add keys, and the 0.5B model then loops on "position2", "citation2"…
    until the token limit (27 of 315 calls on the demo, half of the extraction time)."""
    types = {
        "argument": {"type": "string", "maxLength": MAX_ARGUMENT_CHARS},
        "position": {"type": "string", "enum": list(STANCES)},
        "citation": {"type": "string", "maxLength": MAX_QUOTE_CHARS},
    }
    if sorted(fields) != sorted(FIELDS):
        raise ValueError(f"extraction fields must be {FIELDS} in some order, not {fields}")
    return {
        "type": "object",
        "properties": {
            "arguments": {
                "type": "array",
                "maxItems": MAX_ARGUMENTS,
                "items": {
                    "type": "object",
                    "properties": {f: types[f] for f in fields},
                    "required": list(fields),
                    "additionalProperties": False,
                },
            }
        },
        "required": ["arguments"],
        "additionalProperties": False,
    }


EXTRACTION_SCHEMA: dict = extraction_schema()


def schema_for(prompt: Prompt) -> dict:
    """The extraction schema of a prompt: its ``fields`` order, or the default one."""
    fields = prompt.option("fields")
    return extraction_schema(tuple(f.strip() for f in fields.split(","))) if fields else EXTRACTION_SCHEMA


class ArgumentOut(BaseModel):
    argument: str = Field(min_length=1)
    position: Literal["pour", "contre", "nuance", "hors_sujet"]
    citation: str = ""


class ExtractionOut(BaseModel):
    arguments: list[ArgumentOut] = Field(max_length=MAX_ARGUMENTS * 4)


@dataclass
class Argument:
    position: int
    text: str
    stance: str
    model_quote: str
    quote: str | None
    quote_start: int | None
    quote_end: int | None
    quote_score: float | None
    match_kind: str | None
    flags: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.match_kind is not None


@dataclass
class Extraction:
    answer_id: str
    status: str  # "processed" | "failed"
    reason: str | None = None
    arguments: list[Argument] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    n_calls: int = 0
    call_keys: list[str] = field(default_factory=list)


def extractor_key(model_id: str, prompt: Prompt) -> str:
    """Identity of an extraction setup: a new model or prompt gives new arguments."""
    return content_hash("extract", model_id, prompt.sha256, schema_for(prompt), CHUNK_CHARS)


def _norm(text: str) -> str:
    return _normalise_with_map(text)[0]


def example_arguments(prompt: Prompt) -> list[str]:
    found: list[str] = []
    for role, content in prompt.examples:
        if role != "assistant":
            continue
        try:
            for item in json.loads(content).get("arguments", []):
                found.extend([_norm(item.get("argument", "")), _norm(item.get("citation", ""))])
        except (json.JSONDecodeError, AttributeError):
            continue
    return [f for f in found if f]


def split_chunks(text: str, limit: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """Split a long answer at sentence ends into (offset, chunk) pieces of <= limit chars."""
    if len(text) <= limit:
        return [(0, text)]
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + limit)
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "), window.rfind("\n"))
            if cut > limit // 3:
                end = start + cut + 1
            else:
                space = window.rfind(" ")
                end = start + space if space > limit // 3 else end
        pieces.append((start, text[start:end]))
        start = end
    return [(o, c) for o, c in pieces if c.strip()]


def salvage_json(text: str) -> dict | None:
    """Recover the complete arguments of a JSON cut at the token limit."""
    cut = text.rfind("}")
    while cut > 0:
        candidate = text[: cut + 1] + "]}"
        try:
            value = json.loads(candidate)
            if isinstance(value, dict) and isinstance(value.get("arguments"), list):
                return value
        except json.JSONDecodeError:
            pass
        cut = text.rfind("}", 0, cut)
    return None


def _max_tokens(llm: LLM, chunk: str) -> int:
    return min(1536, 192 + 2 * llm.count_tokens(chunk))


def _call(
    llm: LLM, prompt: Prompt, question: str, chunk: str, call_keys: list[str]
) -> tuple[ExtractionOut | None, list[str], int, str | None]:
    """One chunk -> (parsed output, flags, calls made, failure reason); the key of each call
    answered goes to ``call_keys`` (set by a caching LLM, see calls.py)."""
    messages = prompt.render(question=question, answer=chunk)
    budget = _max_tokens(llm, chunk)
    flags: list[str] = []
    calls = 0
    last_error = None
    attempt_budget = budget
    for attempt in range(LLM_RETRIES + 1):
        try:
            result = llm.chat(messages, schema=schema_for(prompt), max_tokens=attempt_budget)
        except LLMError as exc:
            calls += 1
            last_error = f"appel au modèle en échec : {exc}"
            continue
        if result.call_key:
            call_keys.append(result.call_key)
        calls += 0 if result.reused else 1
        try:
            return ExtractionOut.model_validate_json(result.text), flags, calls, None
        except ValidationError:
            salvaged = salvage_json(result.text) if result.finish_reason == "length" else None
            if attempt < LLM_RETRIES and result.finish_reason == "length":
                attempt_budget = min(4096, attempt_budget * 2)
                last_error = "JSON tronqué à la limite de jetons"
                continue
            if salvaged is not None:
                try:
                    return ExtractionOut.model_validate(salvaged), ["json_tronque"], calls, None
                except ValidationError:
                    pass
            last_error = (
                "JSON tronqué à la limite de jetons"
                if result.finish_reason == "length"
                else "JSON invalide renvoyé par le modèle"
            )
    return None, flags, calls, last_error


def _anchor_overlap(argument: str, answer: str) -> float:
    return fuzz.token_set_ratio(_norm(argument), _norm(answer))


def extract_answer(
    answer_id: str, text: str, question: str, llm: LLM, prompt: Prompt
) -> Extraction:
    """Extract the arguments of one non-blank answer."""
    examples = example_arguments(prompt)
    extraction = Extraction(answer_id, "processed")
    for offset, chunk in split_chunks(text):
        parsed, flags, calls, error = _call(llm, prompt, question, chunk, extraction.call_keys)
        extraction.n_calls += calls
        extraction.flags.extend(flags)
        if parsed is None:
            return Extraction(answer_id, "failed", error, [], extraction.flags,
                              extraction.n_calls, extraction.call_keys)
        keep_arguments(extraction, parsed.arguments, chunk, offset, len(text), examples)
    extraction.flags = sorted(set(extraction.flags))
    return extraction


def keep_arguments(
    extraction: Extraction, items: list[ArgumentOut], chunk: str, offset: int,
    answer_chars: int, examples: list[str],
) -> None:
    """Check the model's arguments for one chunk of an answer and add those kept.

    Quotes are aligned to the chunk (offsets stored relative to the whole answer), copied
    few-shot examples dropped, duplicates merged, and flags recorded.
    """
    kept = extraction.arguments
    for item in items:
        arg_text = " ".join(item.argument.split())
        if not arg_text:
            continue
        match = locate_quote(chunk, item.citation) or locate_quote(chunk, arg_text)
        norm_arg = _norm(arg_text)
        if match is None and any(
            fuzz.ratio(norm_arg, ex) >= 85 or fuzz.ratio(_norm(item.citation), ex) >= 85
            for ex in examples
        ):
            extraction.flags.append("exemple_copie")
            continue
        duplicate = next((k for k in kept if fuzz.ratio(_norm(k.text), norm_arg) >= 90), None)
        if duplicate is not None:
            extraction.flags.append("doublon_fusionne")
            if duplicate.stance != item.position and "positions_contradictoires" not in duplicate.flags:
                duplicate.flags.append("positions_contradictoires")
            continue
        arg_flags: list[str] = []
        if match is None:
            arg_flags.append("citation_non_verifiee")
            if _anchor_overlap(arg_text, chunk) < 50:
                arg_flags.append("non_ancre")
        if len(kept) >= MAX_ARGUMENTS * max(1, answer_chars // CHUNK_CHARS + 1):
            extraction.flags.append("arguments_en_trop")
            continue
        kept.append(
            Argument(
                position=len(kept),
                text=arg_text,
                stance=item.position,
                model_quote=item.citation,
                quote=match.span(chunk) if match else None,
                quote_start=offset + match.start if match else None,
                quote_end=offset + match.end if match else None,
                quote_score=match.score if match else None,
                match_kind=match.kind if match else None,
                flags=arg_flags,
            )
        )


def extract_answers(
    answers: list[tuple[str, str]],
    question_of: Callable[[str], str] | str,
    llm: LLM,
    prompt: Prompt,
    progress: Callable[[Extraction], None] | None = None,
) -> list[Extraction]:
    """Extract every (answer_id, text); one Extraction per input, in order."""
    out = []
    for answer_id, text in answers:
        question = question_of if isinstance(question_of, str) else question_of(answer_id)
        try:
            extraction = extract_answer(answer_id, text, question, llm, prompt)
        except Exception as exc:  # noqa: BLE001 - one bad answer must not lose the others
            extraction = Extraction(answer_id, "failed", f"erreur inattendue : {exc!r}"[:300])
        out.append(extraction)
        if progress:
            progress(extraction)
    return out



def extraction_rows(
    extractions: list[Extraction], extractor: str, attempt_of: dict[str, int],
    source_of: dict[str, str], created_at: datetime,
) -> tuple[list[dict], list[dict]]:
    """Rows of core.extractions (one attempt per answer) and core.arguments.

    ``attempt_of`` and ``source_of`` give, for each answer id, the attempt number and the
    hash of the staged text the extraction was made from.
    """
    rows, arguments = [], []
    for e in extractions:
        rows.append({"answer_id": e.answer_id, "extractor_key": extractor,
                     "attempt": attempt_of[e.answer_id], "status": e.status, "reason": e.reason,
                     "n_arguments": len(e.arguments), "n_calls": e.n_calls, "flags": e.flags,
                     "call_keys": list(dict.fromkeys(e.call_keys)),
                     "source_hash": source_of[e.answer_id], "created_at": created_at})
        for a in e.arguments:
            arguments.append({
                "argument_id": content_hash(e.answer_id, extractor, a.position, a.text),
                "answer_id": e.answer_id, "extractor_key": extractor, "position": a.position,
                "text": a.text, "text_hash": content_hash(a.text), "stance": a.stance,
                "model_quote": a.model_quote, "quote": a.quote, "quote_start": a.quote_start,
                "quote_end": a.quote_end, "quote_score": a.quote_score,
                "match_kind": a.match_kind, "flags": a.flags,
            })
    return rows, arguments
