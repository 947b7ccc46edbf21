"""Every LLM call goes through here: cached in core.llm_calls, counted, never repeated.

The key is (model id, prompt hash, input hash, options): a rerun on the same data finds
every response stored and makes zero model calls, and the table is the complete audit
trail of what the AI produced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from synthese.keys import content_hash
from synthese.llm import LLM, LLMResult
from synthese.prompts import Prompt
from synthese.storage import Store


@dataclass
class CallStats:
    made: int = 0
    reused: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    by_purpose: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, purpose: str, result: LLMResult, reused: bool) -> None:
        slot = self.by_purpose.setdefault(
            purpose, {"calls": 0, "reused": 0, "prompt": 0, "completion": 0, "seconds": 0.0}
        )
        if reused:
            self.reused += 1
            slot["reused"] += 1
            return
        self.made += 1
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.seconds += result.duration_s
        slot["calls"] += 1
        slot["prompt"] += result.prompt_tokens
        slot["completion"] += result.completion_tokens
        slot["seconds"] = round(slot["seconds"] + result.duration_s, 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            "made": self.made,
            "reused": self.reused,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 2),
            "by_stage": self.by_purpose,
        }


class CachedLLM:
    """Wraps an LLM with the core.llm_calls cache. ``store`` may be None (no cache)."""

    def __init__(self, llm: LLM, store: Store | None, stats: CallStats | None = None):
        self.llm = llm
        self.store = store
        self.stats = stats or CallStats()
        self.keys_log: list[str] = []  # every call key asked for, reused or not, in order

    @property
    def model_id(self) -> str:
        return self.llm.model_id

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)

    @property
    def context_size(self) -> int:
        return self.llm.context_size

    def chat(
        self,
        prompt: Prompt,
        messages: list[dict[str, str]],
        *,
        purpose: str,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int = 42,
    ) -> tuple[LLMResult, bool]:
        """Returns (result, reused). Raises LLMError on failure (nothing stored)."""
        options = {"schema": schema, "max_tokens": max_tokens, "temperature": temperature, "seed": seed}
        input_hash = content_hash(messages)
        call_key = content_hash(self.llm.model_id, prompt.sha256, input_hash, options)
        self.keys_log.append(call_key)
        if self.store is not None:
            row = self.store.get_llm_call(call_key)
            if row is not None:
                result = LLMResult(
                    text=row["response"],
                    prompt_tokens=int(row["prompt_tokens"] or 0),
                    completion_tokens=int(row["completion_tokens"] or 0),
                    duration_s=float(row["duration_s"] or 0.0),
                    finish_reason=row["finish_reason"] or "stop",
                )
                self.stats.add(purpose, result, reused=True)
                return result, True
        started = time.perf_counter()
        result = self.llm.chat(
            messages, schema=schema, max_tokens=max_tokens, temperature=temperature, seed=seed
        )
        if not result.duration_s:
            result = LLMResult(
                result.text, result.prompt_tokens, result.completion_tokens,
                time.perf_counter() - started, result.finish_reason,
            )
        if self.store is not None:
            self.store.put_llm_call(
                {
                    "call_key": call_key,
                    "model_id": self.llm.model_id,
                    "prompt_name": prompt.label,
                    "prompt_hash": prompt.sha256,
                    "input_hash": input_hash,
                    "options": {k: v for k, v in options.items() if k != "schema"}
                    | {"schema_hash": content_hash(schema)},
                    "purpose": purpose,
                    "response": result.text,
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "duration_s": result.duration_s,
                    "finish_reason": result.finish_reason,
                }
            )
        self.stats.add(purpose, result, reused=False)
        return result, False
