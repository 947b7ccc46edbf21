"""Several model servers, and the extraction mapped over them in batches.

A run may name several model servers (``--llm-host`` repeated, or the flow's ``llm_hosts``):
Ollama or OpenAI-compatible ones (llama.cpp's server, vLLM), all serving the same model.

- ``Endpoint`` describes one server; it is small and picklable, so that a batch sent to
  another process (a Dask worker) builds its own client there.
- ``extract_batch`` is what one mapped task runs: the pure extraction (extract.py) of a
  batch of answers on one endpoint. It opens no database: it returns the extractions and
  the model calls it made (the rows of core.llm_calls), and the one writer, the run's
  process, stores them (``map_extraction``).
- ``map_extraction`` hands batches to endpoints, at most ``concurrency`` batches in flight
  per endpoint, through a ``Mapper`` (Prefect's task runner in the flow, threads here). A
  server that fails (unreachable, timeout, HTTP 5xx) is retried ``RETRIES`` times; then it
  is taken out of rotation with one French log line and the answers it did not do go to
  the others.
- ``summarise_batch`` does the same for the summaries of a batch of themes: their model
  calls are made on the workers and stored by the writer, then the run's process
  summarises and titles the themes in order (a title must differ from the bigger themes'),
  finding every summary call in the cache.
- ``PoolLLM`` is the same pool for the stages that call the model one call at a time
  (summaries, synthesis, the members of a campaign): each call goes to the next server in
  rotation, with the same retries and the same removal.
"""

from __future__ import annotations

import concurrent.futures
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from synthese.calls import CachedLLM, CallStats
from synthese.errors import SyntheseError
from synthese.llm import LLM, EndpointError, LLMResult, make_llm
from synthese.prompts import Prompt

RETRIES = 2  # a failing server is tried this many more times before it leaves the rotation
RETRY_DELAY_S = 0.5  # then 1 s: a server restarting gets a moment
BATCH_SIZE = 8  # answers per mapped task

Log = Callable[[str], None]
Item = tuple[str, str, str]  # answer_id, text, question as asked
Theme = tuple[int, list[str], int]  # cluster_id, its ideas most central first, attempt


@dataclass(frozen=True)
class Endpoint:
    """One model server: enough to build its client anywhere (picklable)."""

    backend: str  # "ollama" | "openai"
    host: str
    model: str | None = None
    allow_remote: bool = False
    timeout_s: float = 300
    concurrency: int = 1  # batches in flight on this server at once

    def client(self) -> LLM:
        return make_llm(self.backend, self.model, host=self.host,
                        allow_remote=self.allow_remote, timeout_s=self.timeout_s)


def endpoints(backend: str, hosts: Iterable[str], model: str | None = None, *,
              allow_remote: bool = False, concurrency: int = 1,
              timeout_s: float = 300) -> list[Endpoint]:
    """One Endpoint per host, each checked (loopback unless ``allow_remote``) and normalised;
    the same host twice is one server."""
    from synthese.llm import check_host

    urls = list(dict.fromkeys(check_host(h, allow_remote=allow_remote) for h in hosts))
    if concurrency < 1:
        raise SyntheseError(f"--llm-concurrency doit être au moins 1 (reçu : {concurrency}).")
    return [Endpoint(backend, url, model, allow_remote, timeout_s, concurrency) for url in urls]


class Guarded:
    """One server's client, retried on server failures; after ``retries`` more failures in a
    row it is marked failed (``failure``) and refuses every later call at once."""

    def __init__(self, client: LLM, host: str, model_id: str | None = None,
                 retries: int = RETRIES, delay_s: float = RETRY_DELAY_S) -> None:
        self.client, self.host = client, host
        self.retries, self.delay_s = retries, delay_s
        self.failure: str | None = None
        self._model_id = model_id
        self.backend = client.backend
        self.model_sha256 = client.model_sha256
        self.context_size = client.context_size

    @property
    def model_name(self) -> str:
        return self.client.model_name

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            self._model_id = self._retried(lambda: self.client.model_id)
        return self._model_id

    def _retried(self, call: Callable[[], Any]) -> Any:
        if self.failure is not None:
            raise EndpointError(self.failure)
        for attempt in range(self.retries + 1):
            try:
                return call()
            except EndpointError as exc:
                last = exc
                if attempt < self.retries:
                    time.sleep(self.delay_s * (attempt + 1))
        self.failure = str(last)
        raise last

    def chat(self, messages: list[dict[str, str]], **kwargs: Any) -> LLMResult:
        return self._retried(lambda: self.client.chat(messages, **kwargs))

    def count_tokens(self, text: str) -> int:
        return self.client.count_tokens(text)

    def close(self) -> None:
        self.client.close()


def retired_line(host: str, failure: str, others: int) -> str:
    """The one log line that says a server left the rotation."""
    where = (f"ses réponses passent aux {others} autre(s) serveur(s)" if others
             else "aucun autre serveur ne reste")
    return (f"Serveur de modèle {host} retiré après {RETRIES + 1} échecs de suite "
            f"({failure.rstrip('. ')}) ; "
            f"{where}.")


class PoolLLM:
    """Several servers of one model behind the LLM protocol: calls go round the servers;
    a server that fails is retried, then retired (one log line), and the call goes on to
    the next one. All servers must give the same ``model_id`` (the cache keys hold it)."""

    def __init__(self, endpoints: list[Endpoint], log: Log = print) -> None:
        if not endpoints:
            raise SyntheseError("Aucun serveur de modèle donné : ajoutez --llm-host.")
        self.endpoints = endpoints
        self.members = [Guarded(e.client(), e.host) for e in endpoints]
        self.log = log
        self.backend = self.members[0].backend
        self.model_sha256 = None
        self.context_size = self.members[0].context_size
        self._next = 0
        self._model_id: str | None = None

    @property
    def model_name(self) -> str:
        return self.members[0].model_name

    def alive(self) -> list[Guarded]:
        return [m for m in self.members if m.failure is None]

    def _retire(self, member: Guarded) -> None:
        self.log(retired_line(member.host, member.failure or "", len(self.alive())))

    @property
    def model_id(self) -> str:
        """The model's identity, asked of every server still in rotation: they must agree."""
        if self._model_id is None:
            seen: dict[str, str] = {}
            for member in self.alive():
                try:
                    seen[member.host] = member.model_id
                except EndpointError:
                    self._retire(member)
            if not seen:
                raise EndpointError("Aucun serveur de modèle ne répond : "
                                    + ", ".join(e.host for e in self.endpoints) + ".")
            if len(set(seen.values())) > 1:
                raise SyntheseError(
                    "Les serveurs de modèle ne servent pas le même modèle ("
                    + ", ".join(f"{h} : {m}" for h, m in seen.items())
                    + ") : un même modèle partout, sinon les résultats se mélangent.")
            self._model_id = next(iter(seen.values()))
            for member in self.members:
                member._model_id = self._model_id
        return self._model_id

    def chat(self, messages: list[dict[str, str]], **kwargs: Any) -> LLMResult:
        while True:
            alive = self.alive()
            if not alive:
                raise EndpointError("Aucun serveur de modèle ne répond plus : "
                                    + ", ".join(e.host for e in self.endpoints) + ".")
            member = alive[self._next % len(alive)]
            self._next += 1
            try:
                return member.chat(messages, **kwargs)
            except EndpointError:
                if member.failure is None:
                    raise
                self._retire(member)

    def count_tokens(self, text: str) -> int:
        return self.members[0].count_tokens(text)

    def close(self) -> None:
        for member in self.members:
            member.close()


# --- the extraction as mapped batches --------------------------------------------------


@dataclass
class BatchOut:
    """What one mapped task returns: rows for the writer, nothing stored yet."""

    host: str
    extractions: list[Any]  # extract.Extraction, one per answer done
    calls: list[dict[str, Any]]  # core.llm_calls rows of the calls made
    stats: CallStats
    left: list[Item] = field(default_factory=list)  # not done: the server failed
    failure: str | None = None  # why the server failed
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


def extract_batch(endpoint: Endpoint, model_id: str, items: list[Item],
                  prompt: Prompt) -> BatchOut:
    """Extract a batch of answers on one server (the body of a mapped task). Opens no
    database. Stops at the first answer the server fails on after its retries: that answer
    and the rest come back in ``left``."""
    from synthese.extract import extract_answers

    guard = Guarded(endpoint.client(), endpoint.host, model_id)
    sink: list[dict[str, Any]] = []
    llm = CachedLLM(guard, None, purpose="extraction", prompts=(prompt,), sink=sink)
    done: list[Any] = []
    try:
        for i, (answer_id, text, question) in enumerate(items):
            extraction = extract_answers([(answer_id, text)], question, llm, prompt)[0]
            if guard.failure is not None:
                return BatchOut(endpoint.host, done, sink, llm.stats, list(items[i:]),
                                guard.failure)
            done.append(extraction)
    finally:
        guard.close()
    return BatchOut(endpoint.host, done, sink, llm.stats)


def summarise_batch(endpoint: Endpoint, model_id: str, themes: list[Theme], question: str,
                    prompts: tuple[Prompt, ...]) -> BatchOut:
    """Summarise a batch of themes on one server (the body of a mapped task): the model
    calls of summarise.summarise_theme, made here and returned as rows, so that the run's
    process, summarising the themes in order (their titles depend on each other), finds
    every summary call in the cache. ``prompts``: the title, summary and reduce prompts, in
    the order the run's stage names them (a call's prompt is part of its key)."""
    from synthese.summarise import summarise_theme

    guard = Guarded(endpoint.client(), endpoint.host, model_id)
    sink: list[dict[str, Any]] = []
    llm = CachedLLM(guard, None, purpose="summary", prompts=prompts, sink=sink)
    done: list[Any] = []
    try:
        for i, (theme_id, ideas, attempt) in enumerate(themes):
            summarise_theme(ideas, question, llm, prompts[1], prompts[2], attempt)
            if guard.failure is not None:
                return BatchOut(endpoint.host, done, sink, llm.stats, list(themes[i:]),
                                guard.failure)
            done.append(theme_id)
    finally:
        guard.close()
    return BatchOut(endpoint.host, done, sink, llm.stats)


class Mapper(Protocol):
    """Runs a batch function (``extract_batch``, ``summarise_batch``) somewhere: Prefect's
    task runner (flows/consultation.py) or threads (ThreadMapper)."""

    def submit(self, fn: Callable[..., BatchOut], *args: Any) -> Any: ...

    def first_done(self, futures: list[Any]) -> Any: ...


class ThreadMapper:
    """Batches on threads of this process (no Prefect): tests and benchmarks."""

    def __init__(self, workers: int = 4) -> None:
        self.executor = concurrent.futures.ThreadPoolExecutor(workers,
                                                              thread_name_prefix="batch")

    def submit(self, fn: Callable[..., BatchOut], *args: Any) -> concurrent.futures.Future:
        return self.executor.submit(fn, *args)

    def first_done(self, futures: list[Any]) -> Any:
        done, _ = concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)
        return next(iter(done))

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def batches(items: list[Any], size: int) -> list[list[Any]]:
    size = max(1, int(size))
    return [items[i:i + size] for i in range(0, len(items), size)]


def map_batches(fn: Callable[..., BatchOut], units: list[Any], pool: list[Endpoint],
                model_id: str, extra: tuple, mapper: Mapper, write: Callable[[BatchOut], None],
                log: Log, batch_size: int, what: str) -> tuple[list[str], set[str]]:
    """Run ``fn(endpoint, model_id, batch, *extra)`` over batches of ``units``, at most
    ``concurrency`` batches in flight per server; ``write`` (the one writer) stores each
    batch's rows as it comes back. A server that failed is retired and the units it did not
    do go to the others. Returns the hosts retired and the processes that ran batches;
    raises EndpointError, after storing all that was done, if every server failed."""
    queue: deque[list[Any]] = deque(batches(units, batch_size))
    alive = list(range(len(pool)))
    load = [0] * len(pool)
    inflight: dict[Any, tuple[int, list[Any]]] = {}
    crashes: dict[int, int] = {}
    retired: list[str] = []
    workers: set[str] = set()
    while queue or inflight:
        for i in sorted(alive, key=lambda i: (load[i], i)):  # the least busy server first
            while queue and load[i] < pool[i].concurrency:
                batch = queue.popleft()
                inflight[mapper.submit(fn, pool[i], model_id, batch, *extra)] = (i, batch)
                load[i] += 1
        if not inflight:
            raise EndpointError(
                f"Aucun serveur de modèle ne répond plus ({', '.join(retired)}) : "
                f"{sum(len(b) for b in queue)} {what} restent à traiter ; la prochaine "
                "exécution les reprendra.")
        future = mapper.first_done(list(inflight))
        i, batch = inflight.pop(future)
        load[i] -= 1
        try:
            out = future.result()
        except Exception as exc:
            crashes[id(batch)] = crashes.get(id(batch), 0) + 1
            if crashes[id(batch)] > RETRIES:
                raise
            log(f"Lot de {len(batch)} {what} interrompu ({exc!r:.200}) : il est relancé.")
            queue.appendleft(batch)
            continue
        write(out)
        workers.add(out.worker)
        if out.failure is not None:
            if i in alive:
                alive.remove(i)
                retired.append(pool[i].host)
                log(retired_line(pool[i].host, out.failure, len(alive)))
            queue.extendleft(reversed(batches(out.left, batch_size)))
    return retired, workers


def map_extraction(items: list[Item], pool: list[Endpoint], model_id: str, prompt: Prompt,
                   mapper: Mapper, write: Callable[[BatchOut], None], log: Log,
                   batch_size: int = BATCH_SIZE) -> list[str]:
    """Extract ``items`` in batches over the servers of ``pool`` (map_batches); returns the
    hosts retired on the way."""
    retired, workers = map_batches(extract_batch, items, pool, model_id, (prompt,), mapper,
                                   write, log, batch_size, "réponses")
    log(f"Extraction répartie : {len(items)} réponses traitées par {len(workers)} processus "
        f"({', '.join(sorted(workers))}).")
    return retired


__all__ = [
    "BATCH_SIZE",
    "RETRIES",
    "BatchOut",
    "Endpoint",
    "Guarded",
    "Mapper",
    "PoolLLM",
    "ThreadMapper",
    "endpoints",
    "extract_batch",
    "map_batches",
    "map_extraction",
    "retired_line",
    "summarise_batch",
]
