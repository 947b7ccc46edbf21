"""Deterministic stand-ins for the LLM and the embedder.

Used by the tests, the scale benchmark and the fake Ollama server (tests/fake_ollama.py),
which serves ``respond`` over Ollama's real HTTP protocol. The fake LLM derives
schema-valid output from its input: arguments are the answer's own sentences (so their
quotes are verbatim), a summary repeats its arguments, a synthesis cites its themes.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field

import numpy as np

from synthese.llm import LLMError, LLMResult

_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORDS = re.compile(r"\w+", re.UNICODE)
_NEGATIVE = re.compile(r"\b(pas|non|jamais|danger|risque|contre|inquiet|triche|interdire)\w*", re.IGNORECASE)
_POSITIVE = re.compile(r"\b(bien|utile|aide|gain|progr[eè]s|int[eé]ressant|opportunit)\w*", re.IGNORECASE)
_STOP = {"le", "la", "les", "de", "des", "du", "un", "une", "et", "en", "à", "a", "au", "aux", "pour", "par", "sur", "dans", "que", "qui", "ne", "pas", "est", "sont", "il", "elle", "ils", "on", "nous", "vous", "je", "se", "ce", "cette", "ces", "son", "sa", "ses", "leur", "leurs", "plus", "mais", "ou", "avec", "être", "avoir", "fait", "faire", "peut", "doit", "tout", "tous", "très", "bien", "aussi", "comme", "sans"}


def _stance(sentence: str) -> str:
    neg, pos = bool(_NEGATIVE.search(sentence)), bool(_POSITIVE.search(sentence))
    if neg and pos:
        return "nuance"
    return "contre" if neg else "pour" if pos else "nuance"


def _field(text: str, label: str) -> str:
    match = re.search(rf"^{label} :(.*)", text, re.DOTALL | re.MULTILINE)
    return match.group(1).strip() if match else ""


def _extract(user: str) -> dict:
    answer = _field(user, "Réponse")
    args = []
    for sentence in _SENTENCES.split(answer):
        sentence = sentence.strip(" -•*")
        if len(_WORDS.findall(sentence)) < 3:
            continue
        args.append({"argument": sentence, "position": _stance(sentence), "citation": sentence})
    return {"arguments": args[:8]}


def _keywords(text: str, k: int = 4) -> list[str]:
    counts: dict[str, int] = {}
    for w in _WORDS.findall(text.lower()):
        if len(w) > 3 and w not in _STOP:
            counts[w] = counts.get(w, 0) + 1
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def _summarise(user: str, invent: str | None) -> dict:
    lines = [re.sub(r"^\s*(-|\d+[.)])\s*", "", ln).strip() for ln in user.splitlines()]
    items = [ln for ln in lines if ln and not ln.startswith(("Question :", "Arguments", "Résumés"))]
    title = " ".join(_keywords(" ".join(items), 4)).capitalize() or "Thème"
    sentences = [s if s.endswith((".", "!", "?")) else s + "." for s in items[:2]]
    if invent:
        sentences.append(invent)
    return {"titre": title, "resume": " ".join(sentences) or "Aucun argument."}


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
        value = _summarise(user, invent)
    elif "opportunites" in props:
        value = _synthesise(user)
    elif schema:
        value = _generic(schema, user)
    else:
        return "Réponse factice : " + user[:80]
    return json.dumps(value, ensure_ascii=False)


@dataclass
class FakeLLM:
    """An in-process LLM that follows the protocol of synthese.llm.LLM."""

    invent: str | None = None  # a sentence planted in every summary (to test the checks)
    broken: int = 0  # the next N calls return invalid JSON
    truncate: int = 0  # the next N calls are cut at the token limit
    fail: int = 0  # the next N calls raise LLMError
    backend: str = "fake"
    model_name: str = "fake-llm"
    model_id: str = "fake:fake-llm:v1"
    model_sha256: str | None = None
    context_size: int = 4096
    calls: list[dict] = field(default_factory=list)

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1

    def chat(self, messages, *, schema=None, max_tokens=512, temperature=0.0, seed=42):
        self.calls.append({"messages": messages, "schema": schema, "max_tokens": max_tokens})
        started = time.perf_counter()
        prompt_tokens = sum(self.count_tokens(m["content"]) for m in messages)
        if self.fail:
            self.fail -= 1
            raise LLMError("délai dépassé (modèle factice)")
        text = respond(messages, schema, self.invent)
        finish = "stop"
        if self.broken:
            self.broken -= 1
            text = text[: max(1, len(text) // 2)].replace("{", "{{", 1)
        elif self.truncate:
            self.truncate -= 1
            text, finish = text[: max(1, int(len(text) * 0.7))], "length"
        return LLMResult(text, prompt_tokens, self.count_tokens(text),
                         time.perf_counter() - started, finish)

    def close(self) -> None:
        pass


class FakeEmbedder:
    """Hashed bag of words: similar word sets give similar vectors. Deterministic."""

    name = "fake-bow"
    model_id = "fake-bow:v1"
    sha256 = None

    def __init__(self, dim: int = 256):
        self.dim = dim

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORDS.findall(text.lower()):
                if word in _STOP or len(word) < 3:
                    continue
                h = int.from_bytes(hashlib.sha1(word[:6].encode()).digest()[:4], "little")
                out[i, h % self.dim] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
            if not norm:
                out[i, 0] = 1.0
        return out
