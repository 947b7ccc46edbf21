"""Every LLM call goes through here: cached in core.llm_calls, counted, never repeated.

``CachedLLM`` follows the LLM protocol of llm.py, so a stage cannot tell it from a backend:
its ``chat`` takes the same arguments and returns the same LLMResult, with ``call_key`` and
``reused`` filled in. The key is (model id, prompt hash, input hash, options): a rerun on the
same data finds every response stored and makes zero model calls, and the table is the
complete audit trail of what the AI produced.

The runner gives each stage a view of the cache for that stage (``for_stage``): it names the
purpose the calls are counted under and the prompts the stage renders, so that each stored
call records which versioned prompt it came from.
"""

from __future__ import annotations

import dataclasses
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
    # Keys of calls made in this run by mapped tasks (counted there as made, merged): the
    # run's process then finds them in the cache without counting them again.
    prefetched: set[str] = field(default_factory=set)

    def add(self, purpose: str, result: LLMResult, reused: bool) -> None:
        if reused and result.call_key in self.prefetched:
            self.prefetched.discard(result.call_key)
            return
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

    def merge(self, other: CallStats) -> None:
        """Add the counts of ``other`` (a mapped batch's, counted in its worker)."""
        self.made += other.made
        self.reused += other.reused
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds
        for purpose, slot in other.by_purpose.items():
            mine = self.by_purpose.setdefault(
                purpose, {"calls": 0, "reused": 0, "prompt": 0, "completion": 0, "seconds": 0.0})
            for k, v in slot.items():
                mine[k] = round(mine[k] + v, 3) if k == "seconds" else mine[k] + v

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
    """An LLM behind the core.llm_calls cache. ``store`` may be None (counted, not cached);
    then, with a ``sink``, each call's row is appended there for a writer to store later
    (a mapped task opens no database, distribute.py)."""

    def __init__(self, llm: LLM, store: Store | None = None, stats: CallStats | None = None,
                 *, purpose: str = "", prompts: tuple[Prompt, ...] = (),
                 sink: list[dict[str, Any]] | None = None) -> None:
        self.llm = llm
        self.store = store
        self.stats = stats if stats is not None else CallStats()
        self.purpose = purpose
        self.prompts = prompts
        self.sink = sink

    def for_stage(self, purpose: str, *prompts: Prompt) -> CachedLLM:
        """The same model, cache and counters, for the calls of one stage."""
        return CachedLLM(self.llm, self.store, self.stats, purpose=purpose, prompts=prompts,
                         sink=self.sink)

    # The rest of the LLM protocol, read from the model behind (a lazily loaded model stays
    # unloaded: its identity is known without it).
    @property
    def backend(self) -> str:
        return self.llm.backend

    @property
    def model_name(self) -> str:
        return self.llm.model_name

    @property
    def model_id(self) -> str:
        return self.llm.model_id

    @property
    def model_sha256(self) -> str | None:
        return self.llm.model_sha256

    @property
    def context_size(self) -> int:
        return self.llm.context_size

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)

    def close(self) -> None:
        self.llm.close()

    def _prompt_of(self, messages: list[dict[str, str]]) -> Prompt | None:
        return next((p for p in self.prompts if p.rendered(messages)), None)

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int = 42,
        grammar: str | None = None,
    ) -> LLMResult:
        """The stored answer to this call, or the model's (then stored). Raises LLMError on
        failure (nothing stored). A ``grammar`` (GBNF) is passed on only when given, so that
        the keys of the calls without one stay what they were."""
        prompt = self._prompt_of(messages)
        options = {"schema": schema, "max_tokens": max_tokens, "temperature": temperature, "seed": seed}
        constraint = {"grammar": grammar} if grammar is not None else {}
        options |= constraint
        input_hash = content_hash(messages)
        call_key = content_hash(self.llm.model_id, prompt.sha256 if prompt else None, input_hash,
                                options)
        if self.store is not None:
            row = self.store.get_llm_call(call_key)
            if row is not None:
                result = LLMResult(
                    text=row["response"],
                    prompt_tokens=int(row["prompt_tokens"] or 0),
                    completion_tokens=int(row["completion_tokens"] or 0),
                    duration_s=float(row["duration_s"] or 0.0),
                    finish_reason=row["finish_reason"] or "stop",
                    call_key=call_key,
                    reused=True,
                )
                self.stats.add(self.purpose, result, reused=True)
                return result
        started = time.perf_counter()
        result = self.llm.chat(
            messages, schema=schema, max_tokens=max_tokens, temperature=temperature, seed=seed,
            **constraint,
        )
        result = dataclasses.replace(
            result, call_key=call_key, reused=False,
            duration_s=result.duration_s or time.perf_counter() - started,
        )
        if self.store is not None or self.sink is not None:
            row = {
                "call_key": call_key,
                "model_id": self.llm.model_id,
                "prompt_name": prompt.label if prompt else None,
                "prompt_hash": prompt.sha256 if prompt else None,
                "input_hash": input_hash,
                "options": {k: v for k, v in options.items() if k not in ("schema", "grammar")}
                | {"schema_hash": content_hash(schema)}
                | ({"grammar_hash": content_hash(grammar)} if grammar is not None else {}),
                "purpose": self.purpose,
                "response": result.text,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "duration_s": result.duration_s,
                "finish_reason": result.finish_reason,
            }
            if self.store is not None:
                self.store.put_llm_call(row)
            else:
                self.sink.append(row)
        self.stats.add(self.purpose, result, reused=False)
        return result
