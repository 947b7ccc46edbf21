"""The ``baseline`` LLM backend: no model at all, a deterministic answer derived from the input.

It is the floor any model must beat, and what runs where no model can (the scale benchmark,
the tests, the fake Ollama server of tests/fake_ollama.py, which serves ``respond`` over
Ollama's real HTTP protocol): the arguments of an answer are its own sentences (so their
quotes are verbatim), a summary repeats its first arguments, a synthesis cites its themes.
``synthese eval --llm baseline`` measures it (docs/benchmarks.md: the sentence baseline).
"""

from __future__ import annotations

import json
import re
import time

from synthese.llm import LLMResult

_WORDS = re.compile(r"\w+", re.UNICODE)
_STOP = {"le", "la", "les", "de", "des", "du", "un", "une", "et", "en", "à", "a", "au", "aux", "pour", "par", "sur", "dans", "que", "qui", "ne", "pas", "est", "sont", "il", "elle", "ils", "on", "nous", "vous", "je", "se", "ce", "cette", "ces", "son", "sa", "ses", "leur", "leurs", "plus", "mais", "ou", "avec", "être", "avoir", "fait", "faire", "peut", "doit", "tout", "tous", "très", "bien", "aussi", "comme", "sans"}


def _items(user: str) -> list[str]:
    """The list items of a request (« - idea » lines), in order."""
    return [ln[2:].strip() for ln in user.splitlines() if ln.startswith("- ")]


def _field(text: str, label: str) -> str:
    match = re.search(rf"^{label} : ?(.*)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _extract(user: str) -> dict:
    """Each segment that carries content is an idea of its own, in the segment's words."""
    from synthese.segments import is_content

    ideas = []
    for number, text in re.findall(r"^\[(\d+)\] (.*)$", user, re.MULTILINE):
        if is_content(text):
            ideas.append({"segments": [int(number)], "idee": text[:140]})
    return {"arguments": ideas}


def _keywords(text: str, k: int = 4) -> list[str]:
    counts: dict[str, int] = {}
    for w in _WORDS.findall(text.lower()):
        if len(w) > 3 and w not in _STOP:
            counts[w] = counts.get(w, 0) + 1
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def _title(user: str) -> dict:
    """The most central idea, cut to eight words."""
    first = (_items(user) or ["Thème"])[0]
    return {"titre": " ".join(first.rstrip(".!?").split()[:8])}


def _summarise(user: str, invent: str | None) -> dict:
    """The first two ideas, as sentences."""
    sentences = [s if s.endswith((".", "!", "?")) else s + "." for s in _items(user)[:2]]
    if not sentences:  # the reduce stage: the partial summaries, first sentences first
        sentences = [ln.strip() for ln in user.splitlines()[2:] if ln.strip()][:2]
    if invent:
        sentences.append(invent)
    return {"resume": " ".join(sentences) or "Aucune idée."}


def _sentence(user: str) -> dict:
    """The theme's first summary sentence."""
    summary = _field(user, "Résumé")
    return {"phrase": re.split(r"(?<=[.!?])\s+", summary)[0] if summary else _field(user, "Thème")}


def _synthesise(user: str) -> dict:
    themes = re.findall(r"^T(\d+) .*?: (.*)$", user, re.MULTILINE)
    sections = {"opportunites": [], "risques": [], "conditions": [], "conclusion": []}
    names = ["opportunites", "risques", "conditions"]
    for i, (tid, text) in enumerate(themes):
        first = re.split(r"(?<=[.!?])\s+", text.strip())[0]
        sections[names[i % 3]].append({"texte": first, "themes": [int(tid)]})
    for i, name in enumerate(names):  # the real schema asks for at least one per section
        if not sections[name] and themes:
            tid, text = themes[i % len(themes)]
            sections[name].append({"texte": re.split(r"(?<=[.!?])\s+", text.strip())[0],
                                   "themes": [int(tid)]})
    ids = [int(t) for t, _ in themes[:3]]
    sections["conclusion"].append(
        {"texte": "Les répondants expriment des avis contrastés sur la question posée.", "themes": ids}
    )
    return sections


def _generic(schema: dict, seed_text: str) -> object:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {k: _generic(v, seed_text) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_generic(schema.get("items", {}), seed_text)]
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    return seed_text[:40]


def respond(messages: list[dict], schema: dict | None, invent: str | None = None) -> str:
    """The fake model's answer to a chat request, as text."""
    user = messages[-1]["content"] if messages else ""
    props = (schema or {}).get("properties", {})
    if "arguments" in props:
        value: object = _extract(user)
    elif "titre" in props:
        value = _title(user)
    elif "resume" in props:
        value = _summarise(user, invent)
    elif "phrase" in props:
        value = _sentence(user)
    elif "opportunites" in props:
        value = _synthesise(user)
    elif schema:
        value = _generic(schema, user)
    else:
        return "Réponse factice : " + user[:80]
    return json.dumps(value, ensure_ascii=False)


class BaselineLLM:
    """Follows the protocol of synthese.llm.LLM; answers with ``respond``."""

    backend = "baseline"
    model_name = "baseline"
    model_id = "baseline:phrases:v2"
    model_sha256: str | None = None
    context_size = 4096

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1

    def chat(self, messages, *, schema=None, max_tokens=512, temperature=0.0, seed=42) -> LLMResult:
        started = time.perf_counter()
        text = respond(messages, schema)
        prompt_tokens = sum(self.count_tokens(m["content"]) for m in messages)
        return LLMResult(text, prompt_tokens, self.count_tokens(text),
                         time.perf_counter() - started, "stop")

    def close(self) -> None:
        pass
