"""Steps 4 and 5: summarise every theme from ALL its arguments, then synthesise.

A theme whose arguments do not fit in the model's context is summarised in stages
(map-reduce over batches taken in order of closeness to the centroid), never by random
sampling. Counts and quotes are computed by code elsewhere, never asked of the model.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, ValidationError

from synthese.keys import content_hash
from synthese.llm import LLM, LLMError
from synthese.prompts import Prompt

SUMMARY_SCHEMA: dict = {
    "type": "object",
    # The bounds make the grammar close the JSON before SUMMARY_MAX_TOKENS: with an
    # unbounded "resume" the 0.5B hit the token limit on 10 of 20 demo themes (a summary
    # looping on « à l'école primaire, à l'école primaire… »), and the JSON was lost.
    "properties": {"titre": {"type": "string", "maxLength": 90},
                   "resume": {"type": "string", "maxLength": 700}},
    "required": ["titre", "resume"],
    # Without it the grammar lets the model add keys, and small models loop on them.
    "additionalProperties": False,
}
SECTIONS = ("opportunites", "risques", "conditions", "conclusion")
SECTION_TITLES = {
    "opportunites": "Opportunités",
    "risques": "Risques et points de vigilance",
    "conditions": "Conditions de réussite",
    "conclusion": "Conclusion",
}
_SENTENCE_ITEM = {
    "type": "object",
    "properties": {"texte": {"type": "string", "maxLength": 400},
                   "themes": {"type": "array", "maxItems": 6, "items": {"type": "integer"}}},
    "required": ["texte", "themes"],
    "additionalProperties": False,
}
SYNTHESIS_SCHEMA: dict = {
    "type": "object",
    "properties": {
        s: {"type": "array", "minItems": 1, "maxItems": 6, "items": _SENTENCE_ITEM} for s in SECTIONS
    },
    "required": list(SECTIONS),
    "additionalProperties": False,
}
SUMMARY_MAX_TOKENS = 400
SYNTHESIS_MAX_TOKENS = 1400
_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«\"])")
_STOP = {"le", "la", "les", "de", "des", "du", "un", "une", "et", "en", "à", "au", "aux", "pour", "par", "sur", "dans", "que", "qui", "ne", "pas", "est", "sont", "il", "elle", "ils", "on", "nous", "vous", "je", "se", "ce", "cette", "ces", "son", "sa", "ses", "leur", "leurs", "plus", "mais", "ou", "avec", "être", "avoir", "fait", "faire", "peut", "doit", "tout", "tous", "très", "bien", "aussi", "comme", "sans", "permet", "faut"}


class SummaryOut(BaseModel):
    titre: str = Field(min_length=1)
    resume: str = Field(min_length=1)


class SentenceOut(BaseModel):
    texte: str
    themes: list[int] = Field(default_factory=list)


class SynthesisOut(BaseModel):
    opportunites: list[SentenceOut]
    risques: list[SentenceOut]
    conditions: list[SentenceOut]
    conclusion: list[SentenceOut]


@dataclass
class ThemeSummary:
    title: str
    summary: str
    n_stages: int = 1
    failed: str | None = None
    call_keys: list[str] = field(default_factory=list)


def summary_key(members_key: str, model_id: str, map_prompt: Prompt, reduce_prompt: Prompt) -> str:
    """Identity of a theme summary: its members, the model, the prompts and the bounds."""
    return content_hash(members_key, model_id, map_prompt.sha256, reduce_prompt.sha256,
                        SUMMARY_SCHEMA, SUMMARY_MAX_TOKENS)


def synthesis_key(clustering_id: str, summary_keys: list[str], model_id: str, prompt: Prompt,
                  embed_model_id: str, support_threshold: float) -> str:
    """Identity of a synthesis: the themes' summaries (in order), the model and prompt, and
    the check of its sentences."""
    return content_hash(clustering_id, summary_keys, model_id, prompt.sha256, embed_model_id,
                        support_threshold)


def parent_labels(titles: list[tuple[int, str, int]]) -> dict[int, str]:
    """A label for each parent theme: the titles of its two biggest themes.

    ``titles``: (parent id, theme title, number of arguments) of every theme with a parent.
    """
    by_parent: dict[int, list[tuple[int, str]]] = {}
    for parent, title, n in titles:
        by_parent.setdefault(int(parent), []).append((n, title))
    return {parent: " / ".join(t for _, t in sorted(items, key=lambda x: -x[0])[:2])
            for parent, items in sorted(by_parent.items())}


@dataclass
class SynthesisSentence:
    section: str
    paragraph: int
    position: int
    text: str
    cluster_ids: list[int]
    dropped_ids: list[int] = field(default_factory=list)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text.strip()) if s.strip()]


_REPEATED = re.compile(r"(\w.{7,}?)(?:[\s,;]+\1\b){2,}", re.DOTALL)


def new_sentences(sentences: list[str], seen: set[str]) -> list[str]:
    """The sentences whose words were not said before (case and punctuation aside);
    ``seen`` is updated, so that it can span several texts."""
    kept = []
    for sentence in sentences:
        key = " ".join(re.findall(r"\w+", sentence.lower()))
        if key and key not in seen:
            seen.add(key)
            kept.append(sentence)
    return kept


def tidy_summary(text: str) -> str:
    """Undo the visible failures of small models in a summary, by code.

    - a fragment repeated three times or more in a row is kept once (greedy decoding loops);
    - a sentence already said (same words) is dropped;
    - a last sentence cut by the length bound of the grammar is dropped, unless it is the
      only one.
    """
    text = " ".join(_REPEATED.sub(r"\1", " ".join(text.split())).split())
    kept = new_sentences(split_sentences(text), set())
    if len(kept) > 1 and not kept[-1].endswith((".", "!", "?", "…", "»", ")")):
        kept.pop()
    return " ".join(kept)


def keyword_title(texts: list[str], k: int = 4) -> str:
    """A title made by code, used when the model cannot give one."""
    words = Counter(
        w for t in texts for w in re.findall(r"\w+", t.lower()) if len(w) > 3 and w not in _STOP
    )
    return " · ".join(w for w, _ in words.most_common(k)) or "Thème"


def _ask_summary(llm: LLM, prompt: Prompt, call_keys: list[str], **values: object) -> SummaryOut:
    messages = prompt.render(**values)
    last: Exception | None = None
    for _ in range(2):
        try:
            result = llm.chat(messages, schema=SUMMARY_SCHEMA, max_tokens=SUMMARY_MAX_TOKENS)
            if result.call_key:
                call_keys.append(result.call_key)
            return SummaryOut.model_validate_json(result.text)
        except (LLMError, ValidationError) as exc:
            last = exc
    raise LLMError(f"résumé impossible : {str(last).splitlines()[0][:200]}")


def batch_by_budget(items: list[str], llm: LLM, budget: int) -> list[list[str]]:
    """Consecutive batches whose token count stays within ``budget`` (each item kept whole)."""
    batches: list[list[str]] = [[]]
    used = 0
    for item in items:
        cost = llm.count_tokens(item) + 3
        if batches[-1] and used + cost > budget:
            batches.append([])
            used = 0
        batches[-1].append(item)
        used += cost
    return [b for b in batches if b]


def _budget(llm: LLM, prompt: Prompt) -> int:
    overhead = sum(llm.count_tokens(c) for _, c in prompt.messages) + 120
    return max(256, llm.context_size - overhead - SUMMARY_MAX_TOKENS - 64)


def theme_title(title: str, question: str, arguments: list[str]) -> str:
    """The model's title, unless it only restates the question (the 0.5B titled 14 of the
    20 demo themes « L'usage de l'intelligence artificielle dans les établissements
    scolaires »): then a title made by code from the theme's most frequent words."""
    from rapidfuzz import fuzz

    clean = " ".join(title.split()).strip(" .«»\"")
    if len(clean) < 3 or fuzz.token_set_ratio(clean.lower(), question.lower()) >= 80:
        return keyword_title(arguments)
    return clean


def summarise_theme(
    arguments: list[str], question: str, llm: LLM, map_prompt: Prompt, reduce_prompt: Prompt
) -> ThemeSummary:
    """Summarise all ``arguments`` (ordered most central first) of one theme."""
    if not arguments:
        return ThemeSummary("Thème vide", "", 0)
    keys: list[str] = []
    try:
        batches = batch_by_budget(arguments, llm, _budget(llm, map_prompt))
        partials = [
            _ask_summary(
                llm, map_prompt, keys, question=question, n=len(b),
                arguments="\n".join(f"- {a}" for a in b),
            )
            for b in batches
        ]
        stages = 1
        while len(partials) > 1:
            stages += 1
            texts = [f"- {p.titre} : {p.resume}" for p in partials]
            groups = batch_by_budget(texts, llm, _budget(llm, reduce_prompt))
            if len(groups) == len(texts) and len(texts) > 1:  # cannot shrink: pair them up
                groups = [texts[i : i + 2] for i in range(0, len(texts), 2)]
            partials = [
                _ask_summary(llm, reduce_prompt, keys, question=question, summaries="\n".join(g))
                for g in groups
            ]
        out = partials[0]
        return ThemeSummary(theme_title(out.titre, question, arguments), tidy_summary(out.resume),
                            stages, call_keys=list(dict.fromkeys(keys)))
    except LLMError as exc:
        return ThemeSummary(keyword_title(arguments), "", 0, failed=str(exc),
                            call_keys=list(dict.fromkeys(keys)))


def themes_block(themes: list[dict], llm: LLM, prompt: Prompt) -> str:
    """The synthesis input: themes by weight; the lightest ones shortened to fit."""
    budget = llm.context_size - sum(llm.count_tokens(c) for _, c in prompt.messages) - SYNTHESIS_MAX_TOKENS - 150
    lines = []
    used = 0
    for t in themes:
        full = f"T{t['cluster_id']} ({t['share']:.0%} des répondants) {t['title']} : {t['summary']}"
        short = f"T{t['cluster_id']} ({t['share']:.0%} des répondants) {t['title']} : {t['title']}."
        line = full if used + llm.count_tokens(full) <= budget else short
        if used + llm.count_tokens(line) > budget:
            break
        lines.append(line)
        used += llm.count_tokens(line)
    return "\n".join(lines)


@dataclass
class SynthesisDraft:
    sentences: list[SynthesisSentence]
    failure: str | None
    call_keys: list[str] = field(default_factory=list)


def synthesise(themes: list[dict], question: str, llm: LLM, prompt: Prompt) -> SynthesisDraft:
    """Write the four-section synthesis. ``themes``: dicts with cluster_id, share, title,
    summary, ordered by weight."""
    if not themes:
        return SynthesisDraft([], "aucun thème à synthétiser")
    valid = {t["cluster_id"] for t in themes}
    messages = prompt.render(question=question, themes=themes_block(themes, llm, prompt))
    parsed: SynthesisOut | None = None
    reason = None
    budget = SYNTHESIS_MAX_TOKENS
    keys: list[str] = []
    for _ in range(3):
        try:
            result = llm.chat(messages, schema=SYNTHESIS_SCHEMA, max_tokens=budget)
            if result.call_key:
                keys.append(result.call_key)
            parsed = SynthesisOut.model_validate_json(result.text)
            break
        except LLMError as exc:
            reason = f"appel au modèle en échec : {exc}"
        except ValidationError:
            reason = "JSON invalide ou tronqué renvoyé par le modèle"
            budget = min(3072, budget * 2)
    if parsed is None:
        return SynthesisDraft([], reason, list(dict.fromkeys(keys)))
    sentences: list[SynthesisSentence] = []
    for section in SECTIONS:
        seen: set[str] = set()
        paragraph = 0
        for item in getattr(parsed, section):
            ids = [i for i in dict.fromkeys(item.themes) if i in valid]
            dropped = [i for i in item.themes if i not in valid]
            # Small models repeat whole sentences across paragraphs: each is kept once per
            # section (a repetition across sections stays visible to the reader).
            texts = new_sentences(split_sentences(tidy_summary(item.texte)), seen)
            for position, text in enumerate(texts):
                sentences.append(SynthesisSentence(section, paragraph, position, text, ids, dropped))
            paragraph += 1 if texts else 0
    return SynthesisDraft(sentences, None, list(dict.fromkeys(keys)))

