"""Deterministic stand-ins for the LLM and the embedder, for the tests.

``FakeLLM`` answers like the ``baseline`` backend (synthese.baseline.respond: an answer's
sentences as its arguments) and can be told to fail in the ways real models fail: broken
JSON, output cut at the token limit, errors, an invented sentence in every summary. It
records its calls. ``FakeEmbedder`` is a hashed bag of words.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field

import numpy as np

from synthese.baseline import _STOP, _WORDS, respond
from synthese.llm import LLMError, LLMResult


@dataclass
class FakeLLM:
    """An in-process LLM that follows the protocol of synthese.llm.LLM."""

    invent: str | None = None  # a sentence planted in every summary (to test the checks)
    broken: int = 0  # the next N calls return invalid JSON
    truncate: int = 0  # the next N calls are cut at the token limit
    fail: int = 0  # the next N calls raise LLMError
    # Claims it obeys (tests/injections.py): a request that contains one gets it back in
    # every text field, as a model that follows an injected instruction would.
    obey: tuple[str, ...] = ()
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
        text = _obeyed(messages, schema, self.obey) or respond(messages, schema, self.invent)
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


def _obeyed(messages, schema, claims) -> str | None:
    """The answer of a model that obeys the first claim found in the request, if any."""
    text = "\n".join(m["content"] for m in messages)
    claim = next((c for c in claims if c in text), None)
    if claim is None:
        return None
    if "arguments" in (schema or {}).get("properties", {}):
        numbers = [int(n) for n in re.findall(r"^\[(\d+)\]", text, re.MULTILINE)]
        return json.dumps({"arguments": [{"segments": [n], "idee": claim} for n in numbers]},
                          ensure_ascii=False)

    def fill(s: dict) -> object:
        if "enum" in s:
            return s["enum"][0]
        kind = s.get("type")
        if kind == "object":
            return {k: fill(v) for k, v in s.get("properties", {}).items()}
        if kind == "array":
            return [fill(s.get("items", {}))]
        return {"integer": 1, "number": 1, "boolean": False}.get(kind, claim)

    return json.dumps(fill(schema or {}), ensure_ascii=False)


class FakeEmbedder:
    """Hashed bag of words: similar word sets give similar vectors. Deterministic."""

    name = "fake-bow"
    model_id = "fake-bow:v1"
    sha256 = None

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.calls = 0

    def embed(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.calls += 1
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
