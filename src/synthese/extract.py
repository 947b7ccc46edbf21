"""Step 1: extract the ideas of each answer, each anchored on the answer's own segments.

Code cuts the answer into numbered segments (segments.py). For each idea the model gives
the numbers of the segments it rests on (the grammar only allows valid numbers) and a short
reformulation. The quote is the segments' own text, with its offsets: verbatim by
construction. The model's output tokens go to reformulations, not to copied quotes. The
kind of each idea (opportunity, risk, condition, observation) is given by rule from the
quote, the respondent's own words (kinds.py): the 0.5B model, asked for it, agreed with
hand labels on a third of the ideas.

Code then checks what the model gave:
- an answer with no segment that carries an idea (« RAS », « Merci ») costs no call;
- an answer of one short segment (``SHORT_ANSWER_WORDS`` words at most: « Bien pour nous,
  pas pour les élèves avant le lycée. ») costs no call either: it is its own idea, in the
  respondent's words (flag ``reponse_courte``). The model may give it only one idea, and
  its reformulation was as long as the answer (docs/quality.md, « Sixth pass »);
- a reformulation copied from a few-shot example, or empty, is replaced by the segment's own
  text (flag ``reformulation_remplacee``);
- an idea pointing at segments it shares no word with is moved to the segment it does
  match (flag ``segment_corrige``);
- the same idea given twice is kept once (flag ``doublon_fusionne``);
- a segment that carries content but no idea covers is kept as its own argument in the
  respondent's words, flagged ``non_reformule``: nothing the respondent wrote is lost;
- an answer cut at the token limit is retried with a larger budget, then its complete ideas
  are salvaged (flag ``json_tronque``), else the answer fails with its reason.

The embedded model answers one line per idea (« 2,3: reformulation », prompt version 3,
``lines_grammar``): JSON's keys and brackets took 36 % of its output tokens. A server that
takes a JSON schema and no grammar (Ollama) gets version 2 and answers in JSON
(``prompt_for``).

Nothing is dropped: every answer comes back processed (possibly with no argument) or
failed with a reason, and courtesy segments are counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz

from synthese.align import _normalise_with_map
from synthese.injection import FLAG as INJECTION_FLAG
from synthese.injection import VERSION as INJECTION_VERSION
from synthese.injection import is_injection
from synthese.keys import content_hash
from synthese.kinds import KIND_RULES, kind_in_context, kind_of
from synthese.llm import LLM, LLMError
from synthese.prompts import Prompt
from synthese.segments import SEGMENTS_VERSION, Segment, numbered, split_segments

PROMPT = ("extract_arguments", 2)  # JSON: the servers (Ollama, OpenAI-compatible)
LINES_PROMPT = ("extract_arguments", 3)  # one line per idea: the embedded model (llama.cpp)
LINES = "lines"  # the front-matter ``output`` of a prompt answered in lines
KINDS = ("opportunite", "risque", "condition", "constat", "hors_sujet")  # see kinds.py
MAX_IDEA_CHARS = 90  # about 12 words: the grammar bounds each reformulation
# An idea whose quote holds less than a third of its content words is not what the quote
# says: it is re-anchored on the segment that says it, or replaced by its segment's text.
# Calibrated by reading 48 pairs of the demo and of 200 Grand Débat comments
# (docs/traceability.md): below a third, 1 idea of 32 was what its quote said; from a third
# to 60 %, 9 of 16. (Above 67 %: 927 of the 1,102 ideas, not read one by one.)
MIN_OVERLAP = 34.0
MAX_SEGMENTS_PER_IDEA = 4
CHUNK_CHARS = 1800  # longer answers are extracted chunk by chunk, whole segments each
SHORT_ANSWER_WORDS = 12  # the prompt asks reformulations of 10 words at most
SHORT_FLAG = "reponse_courte"
LLM_RETRIES = 2


def extraction_schema(numbers: list[int], max_ideas: int | None = None) -> dict:
    """The JSON schema of one extraction over the segments ``numbers``, at most
    ``max_ideas`` ideas (by default one a segment): a bound that stops a looping model.

    ``additionalProperties: false`` matters: without it llama.cpp's grammar (llguidance)
    lets the model add keys, and the 0.5B model then loops on new keys until the limit."""
    return {
        "type": "object",
        "properties": {
            "arguments": {
                "type": "array",
                "maxItems": max(1, max_ideas or len(numbers)),
                "items": {
                    "type": "object",
                    "properties": {
                        "segments": {"type": "array", "minItems": 1,
                                     "maxItems": MAX_SEGMENTS_PER_IDEA,
                                     "items": {"type": "integer", "enum": list(numbers)}},
                        "idee": {"type": "string", "maxLength": MAX_IDEA_CHARS},
                    },
                    "required": ["segments", "idee"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["arguments"],
        "additionalProperties": False,
    }


def prompt_for(backend: str) -> tuple[str, int]:
    """The extraction prompt for a backend: lines under a grammar for the embedded model,
    JSON under a schema for the others."""
    return LINES_PROMPT if backend == "llamacpp" else PROMPT


# A reformulation's characters (GBNF): no line break, and none of the CJK and other East
# Asian blocks, into which the 0.5B drifted mid-idea on a French answer (« …qu'une机器 »).
_IDEA_CHAR = r"[^\n\u2e80-\uffef]"
_IDEA_FIRST = r"[^\n \u2e80-\uffef]"


def lines_grammar(numbers: list[int], max_ideas: int | None = None) -> str:
    """The GBNF grammar of an extraction answered one line per idea over the segments
    ``numbers``: « 2,3: reformulation », at most ``max_ideas`` lines (by default one a
    segment), each idea of one to MAX_SEGMENTS_PER_IDEA valid numbers and at most
    MAX_IDEA_CHARS characters. Lines are separated, not ended, by a newline, as in the
    prompt's examples: after an idea the model either starts another or stops."""
    most = max(1, max_ideas or len(numbers))
    more = rf' ("\n" idea){{0,{most - 1}}}' if most > 1 else ""
    return "\n".join([
        f"root ::= idea{more}",
        (f'idea ::= seg ("," seg){{0,{MAX_SEGMENTS_PER_IDEA - 1}}} ": " {_IDEA_FIRST} '
         f"{_IDEA_CHAR}{{0,{MAX_IDEA_CHARS - 1}}}"),
        "seg ::= " + " | ".join(f'"{n}"' for n in sorted(set(numbers))),
    ]) + "\n"


_LINE = re.compile(r"^\s*(\d+(?:\s*,\s*\d+)*)\s*:\s*(.*?)\s*$")


def parse_lines(text: str, *, cut: bool = False) -> ExtractionOut | None:
    """The ideas of an answer in lines, or None when a line is not « numbers: idea ». With
    ``cut`` (the output reached the token limit) the last line, perhaps cut, is left out."""
    lines = [line for line in text.splitlines() if line.strip()]
    if cut:
        lines = lines[:-1]
    ideas = []
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            return None
        numbers = [int(n) for n in match.group(1).split(",")]
        ideas.append(IdeaOut(segments=list(dict.fromkeys(numbers)), idee=match.group(2)))
    return ExtractionOut(arguments=ideas) if ideas else None


class IdeaOut(BaseModel):
    segments: list[int] = Field(min_length=1)
    idee: str = ""


class ExtractionOut(BaseModel):
    arguments: list[IdeaOut] = Field(max_length=200)


@dataclass
class Argument:
    position: int
    text: str
    kind: str
    segments: list[int]
    quote: str
    quote_start: int
    quote_end: int
    flags: list[str] = field(default_factory=list)
    support: float = 100.0  # overlap(): how much of the idea its quote says (quote_score)


@dataclass
class Extraction:
    answer_id: str
    status: str  # "processed" | "failed"
    reason: str | None = None
    arguments: list[Argument] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    n_calls: int = 0
    call_keys: list[str] = field(default_factory=list)
    n_segments: int = 0
    n_empty_segments: int = 0  # courtesy, headers, punctuation: dropped by rule
    n_uncovered: int = 0  # content segments no idea covered, kept as « non reformulé »


def extractor_key(model_id: str, prompt: Prompt) -> str:
    """Identity of an extraction setup: a new model, prompt or bound gives new arguments."""
    return content_hash("extract-segments-v5", model_id, prompt.sha256, MAX_IDEA_CHARS,
                        MAX_SEGMENTS_PER_IDEA, CHUNK_CHARS, KINDS, KIND_RULES,
                        f"injection-v{INJECTION_VERSION}", f"overlap-{MIN_OVERLAP}",
                        f"short-{SHORT_ANSWER_WORDS}", f"segments-v{SEGMENTS_VERSION}")


def _norm(text: str) -> str:
    return _normalise_with_map(text)[0]


def example_ideas(prompt: Prompt) -> list[str]:
    """The reformulations of the prompt's few-shot examples (normalised)."""
    found: list[str] = []
    for role, content in prompt.examples:
        if role != "assistant":
            continue
        if prompt.option("output") == LINES:
            parsed = parse_lines(content)
            found += [_norm(idea.idee) for idea in parsed.arguments] if parsed else []
            continue
        try:
            found += [_norm(item.get("idee", "")) for item in json.loads(content)["arguments"]]
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError):
            continue
    return [f for f in found if f]


def chunks(segments: list[Segment], limit: int = CHUNK_CHARS) -> list[list[Segment]]:
    """Consecutive groups of whole segments of at most ``limit`` characters (one segment
    longer than that is a group of its own)."""
    groups: list[list[Segment]] = [[]]
    used = 0
    for s in segments:
        if groups[-1] and used + len(s.text) > limit:
            groups.append([])
            used = 0
        groups[-1].append(s)
        used += len(s.text) + 1
    return [g for g in groups if g]


def salvage_json(text: str) -> dict | None:
    """Recover the complete ideas of a JSON cut at the token limit."""
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


def _max_tokens(group: list[Segment]) -> int:
    # About 35 tokens an idea, at most one idea a segment that carries content, and room for
    # the JSON.
    return min(1536, 48 + 40 * max(1, sum(s.content for s in group)))


def _call(llm: LLM, prompt: Prompt, question: str, group: list[Segment],
          call_keys: list[str]) -> tuple[ExtractionOut | None, list[str], int, str | None]:
    """One chunk -> (parsed output, flags, calls made, failure reason)."""
    messages = prompt.render(question=question, segments=numbered(group))
    numbers, most = [s.number for s in group], sum(s.content for s in group)
    lines = prompt.option("output") == LINES
    constraint = ({"grammar": lines_grammar(numbers, most)} if lines
                  else {"schema": extraction_schema(numbers, most)})
    budget = _max_tokens(group)
    calls, last_error = 0, None
    for attempt in range(LLM_RETRIES + 1):
        try:
            result = llm.chat(messages, max_tokens=budget, **constraint)
        except LLMError as exc:
            calls += 1
            last_error = f"appel au modèle en échec : {exc}"
            continue
        if result.call_key:
            call_keys.append(result.call_key)
        calls += 0 if result.reused else 1
        cut = result.finish_reason == "length"
        parsed = _parsed(result.text, lines, cut=False)
        if parsed is not None and not (lines and cut):
            return parsed, [], calls, None
        if attempt < LLM_RETRIES and cut:
            budget = min(4096, budget * 2)
            last_error = "réponse tronquée à la limite de jetons"
            continue
        salvaged = _parsed(result.text, lines, cut=True) if cut else None
        if salvaged is not None:
            return salvaged, ["json_tronque"], calls, None
        last_error = ("réponse tronquée à la limite de jetons" if cut
                      else "réponse illisible renvoyée par le modèle (lignes « numéros: idée » "
                      "attendues)" if lines else "JSON invalide renvoyé par le modèle")
    return None, [], calls, last_error


def _parsed(text: str, lines: bool, *, cut: bool) -> ExtractionOut | None:
    """The model's ideas in either format; with ``cut``, only its complete ideas."""
    if lines:
        return parse_lines(text, cut=cut)
    if cut:
        salvaged = salvage_json(text)
        try:
            return ExtractionOut.model_validate(salvaged) if salvaged is not None else None
        except ValidationError:
            return None
    try:
        return ExtractionOut.model_validate_json(text)
    except ValidationError:
        return None


def short_answer(segments: list[Segment]) -> Segment | None:
    """The answer's one content segment when it is its only one and has at most
    ``SHORT_ANSWER_WORDS`` words: the answer is then its own idea, with no model call."""
    content = [s for s in segments if s.content]
    if len(content) == 1 and len(content[0].text.split()) <= SHORT_ANSWER_WORDS:
        return content[0]
    return None


def extract_answer(answer_id: str, text: str, question: str, llm: LLM,
                   prompt: Prompt) -> Extraction:
    """Extract the ideas of one non-blank answer."""
    segments = split_segments(text)
    extraction = Extraction(answer_id, "processed", n_segments=len(segments),
                            n_empty_segments=sum(not s.content for s in segments))
    if is_injection(text):  # never sent to the model: kept in the respondent's words
        keep_injection(extraction, segments)
        return extraction
    s = short_answer(segments)
    if s is not None:
        extraction.arguments.append(Argument(0, s.text, kind_of(s.text), [s.number], s.text,
                                             s.start, s.end, [SHORT_FLAG]))
        return extraction
    examples = example_ideas(prompt)
    for group in chunks(segments):
        if not any(s.content for s in group):
            continue  # only courtesy or headers: nothing to ask
        parsed, flags, calls, error = _call(llm, prompt, question, group, extraction.call_keys)
        extraction.n_calls += calls
        extraction.flags += flags
        if parsed is None:
            return Extraction(answer_id, "failed", error, [], extraction.flags,
                              extraction.n_calls, extraction.call_keys, len(segments),
                              extraction.n_empty_segments)
        # A segment no idea covers is kept as it is. Asking the model once more on those
        # segments was measured and rejected: on 24 an-egalite answers it lowered the 0.5B's
        # recall from 0.27 to 0.24 and barely moved the 1.5B's (docs/quality.md).
        keep_uncovered(extraction, group, keep_ideas(extraction, parsed.arguments, group,
                                                     examples, text, question))
    extraction.flags = sorted(set(extraction.flags))
    return in_context(extraction, segments)


CONTEXT_FLAG = "nature_du_contexte"


def in_context(extraction: Extraction, segments: list[Segment]) -> Extraction:
    """Each observation next to a risk or a benefit in its answer takes that kind
    (``kinds.kind_in_context``: its neighbours are the content segments just before its first
    segment and just after its last), flagged ``nature_du_contexte``."""
    content = {s.number: s.text for s in segments if s.content}
    for arg in extraction.arguments:
        if arg.kind != "constat" or not arg.segments:
            continue
        kind = kind_in_context(arg.quote, content.get(min(arg.segments) - 1),
                               content.get(max(arg.segments) + 1))
        if kind != arg.kind:
            arg.kind, arg.flags = kind, [*arg.flags, CONTEXT_FLAG]
    return extraction


def _quote(group: list[Segment], numbers: list[int]) -> tuple[int, int]:
    """Offsets of the idea's quote: its segments when they follow each other, else the first."""
    by_number = {s.number: s for s in group}
    first, last = by_number[numbers[0]], by_number[numbers[-1]]
    contiguous = numbers == list(range(numbers[0], numbers[-1] + 1))
    return (first.start, last.end) if contiguous else (first.start, first.end)


_MARKS = re.compile(r"[{}\[\]<>|]|\+\+")


def _stems(text: str) -> set[str]:
    """The content words of a text, cut to 5 letters (« fatigue », « fatigués » -> « fatig »)."""
    return {w[:5] for w in _norm(text).split() if len(w) >= 4}


def overlap(idea: str, quote: str) -> float:
    """How much of an idea its quote says: the share (0-100) of the idea's content words
    found in the quote."""
    stems = _stems(idea)
    return round(100.0 * len(stems & _stems(quote)) / len(stems), 1) if stems else 100.0


def _anchored(idea: str, group: list[Segment], numbers: list[int]) -> list[int]:
    """The segments an idea rests on: the model's, unless they say less than MIN_OVERLAP of
    the idea and another segment of the chunk says it (at least two shared content words),
    then that one."""
    by_number = {s.number: s for s in group}
    stems = _stems(idea)
    if not stems or overlap(idea, " ".join(by_number[n].text for n in numbers)) >= MIN_OVERLAP:
        return numbers
    score, shared, best = max((overlap(idea, s.text), len(stems & _stems(s.text)), -s.number)
                              for s in group)
    return [-best] if score >= MIN_OVERLAP and shared >= 2 else numbers


def _foreign(idea: str, text: str) -> bool:
    """Whether the idea shares no content word with the whole answer: the model wrote it
    from elsewhere (a few-shot example reworded, « Il faudrait baisser les impôts locaux »
    for an answer on child support)."""
    stems = _stems(idea)
    return bool(stems) and not stems & _stems(text)


def _whole_words(idea: str) -> str:
    """An idea the grammar cut at MAX_IDEA_CHARS (« …qui doit régler la pension aliment »),
    ended at its last whole word. Half the 0.5B's ideas on an-egalite-dev reached the bound
    (it copies long sentences); without an ellipsis they matched human arguments a little
    better (recall 0.29 / precision 0.27 against 0.26 / 0.25 with « … », docs/quality.md)."""
    if len(idea) < MAX_IDEA_CHARS - 1 or " " not in idea:
        return idea
    return idea[: idea.rfind(" ")].rstrip(" ,;:(-'")


# A cut idea that copies its segments this closely is their text, cut by the grammar.
CUT_COPY_SIMILARITY = 90


def _cut_copy(idea: str, segment_text: str) -> bool:
    """Whether an idea the grammar cut at MAX_IDEA_CHARS is the segments' own text copied
    (« Avant de parler d'usage en classe, il faudrait former les enseignants, et pas en
    deux »): 203 of the 934 demo ideas of the embedded 0.5B were 85-90 characters long,
    most of them published cut mid-phrase and titling themes so (« Pour trouver des exemples
    concrets qui parlent aux élèves, c'est assez »). Such an idea becomes the whole text it
    copies (docs/quality.md, « Whole ideas »)."""
    if len(idea) < MAX_IDEA_CHARS - 1 or len(segment_text) <= len(idea):
        return False
    return fuzz.partial_ratio(_norm(idea), _norm(segment_text)) >= CUT_COPY_SIMILARITY


def _same_idea(kept: Argument, idea: str, numbers: list[int]) -> bool:
    """The same idea said twice: nearly the same words, or one inside the other on the same
    segments (« La France est un pays misogyne », « C'est lamentable, la France est un pays
    misogyne »)."""
    a, b = _norm(kept.text), _norm(idea)
    if fuzz.ratio(a, b) >= 85:
        return True
    return kept.segments == numbers and fuzz.token_set_ratio(a, b) >= 95


def keep_ideas(extraction: Extraction, items: list[IdeaOut], group: list[Segment],
               examples: list[str], text: str, question: str = "") -> set[int]:
    """Check the model's ideas for the segments ``group`` of ``text`` and add those kept;
    returns the numbers of the segments they cover."""
    asked = _stems(question)
    by_number = {s.number: s for s in group}
    kept = extraction.arguments
    covered: set[int] = set()
    for item in items:
        numbers = sorted({n for n in item.segments if n in by_number})
        if not numbers:
            continue
        flags: list[str] = []
        idea = " ".join(item.idee.split()).strip(" «»\"")
        segment_text = " ".join(by_number[n].text for n in numbers)
        # Empty, copied from an example, carrying JSON or prompt marks (« corrige)}, { »), or
        # made only of the question's words (« Intelligence artificielle dans les
        # établissements scolaires »): the segment's own text instead.
        # Or its segments' own text, copied and cut by the grammar (``_cut_copy``).
        if len(idea) < 3 or _MARKS.search(idea) or (asked and _stems(idea) <= asked) or any(
                fuzz.ratio(_norm(idea), ex) >= 85 for ex in examples) or _foreign(
                idea, text) or _cut_copy(idea, segment_text):
            idea, flags = segment_text, ["reformulation_remplacee"]
        else:
            idea = _whole_words(idea)
            anchored = _anchored(idea, group, numbers)
            if anchored != numbers:
                numbers, flags = anchored, ["segment_corrige"]
            segment_text = " ".join(by_number[n].text for n in numbers)
            if overlap(idea, segment_text) < MIN_OVERLAP:  # its quote does not say it
                idea, flags = segment_text, ["reformulation_remplacee"]
        # The same idea twice: kept once. Said again for other segments, it is a loop of the
        # model (« Garde difficile le mercredi » for segments 1 to 6): those segments stay
        # uncovered, and so are kept in the respondent's words below.
        duplicate = next((k for k in kept if _same_idea(k, idea, numbers)), None)
        if duplicate is not None:
            extraction.flags.append("doublon_fusionne")
            if duplicate.segments == numbers:
                covered.update(numbers)
            continue
        start, end = _quote(group, numbers)
        kept.append(Argument(len(kept), idea, kind_of(text[start:end]), numbers,
                             text[start:end], start, end, flags,
                             overlap(idea, text[start:end])))
        covered.update(numbers)
    return covered


def keep_uncovered(extraction: Extraction, group: list[Segment], covered: set[int]) -> None:
    """Keep each segment that carries content but no idea covers, in the respondent's words."""
    for s in group:
        if s.content and s.number not in covered:
            extraction.n_uncovered += 1
            extraction.arguments.append(Argument(len(extraction.arguments), s.text,
                                                 kind_of(s.text), [s.number], s.text, s.start,
                                                 s.end, ["non_reformule"]))


def keep_injection(extraction: Extraction, segments: list[Segment]) -> None:
    """An answer that addresses the model (synthese.injection): each segment that carries
    content is an argument in the respondent's words, flagged; the segments that address the
    model are « hors sujet »."""
    extraction.flags.append(INJECTION_FLAG)
    for s in segments:
        if s.content:
            kind = "hors_sujet" if is_injection(s.text) else kind_of(s.text)
            extraction.arguments.append(Argument(len(extraction.arguments), s.text, kind,
                                                 [s.number], s.text, s.start, s.end,
                                                 [INJECTION_FLAG]))


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
                     "source_hash": source_of[e.answer_id], "n_segments": e.n_segments,
                     "n_empty_segments": e.n_empty_segments, "n_uncovered": e.n_uncovered,
                     "created_at": created_at})
        for a in e.arguments:
            arguments.append({
                "argument_id": content_hash(e.answer_id, extractor, source_of[e.answer_id],
                                            a.position, a.text),
                "answer_id": e.answer_id, "extractor_key": extractor, "position": a.position,
                "text": a.text, "text_hash": content_hash(a.text), "kind": a.kind,
                "segments": a.segments, "quote": a.quote,
                "quote_start": a.quote_start, "quote_end": a.quote_end, "quote_score": a.support,
                "match_kind": "segment", "flags": a.flags,
            })
    return rows, arguments
