"""LLM protocol and its two backends: llama.cpp in-process (xllamacpp) and an Ollama server.

This is the only module that imports a model runtime. Stages receive an object that follows
the small ``LLM`` protocol below and never learn which backend they talk to.

Confidentiality drives several choices here: consultation answers are personal data, so a
model host other than this machine is refused unless explicitly allowed, the Ollama client
ignores proxy variables for loopback hosts, and the HTTP listener that xllamacpp always
opens is moved to a private Unix socket protected by a random API key (see LlamaCppLLM).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, Self

from synthese.errors import SyntheseError
from synthese.models import DEFAULT_MODEL, MODELS, model_path, model_sha256

DEFAULT_OLLAMA_MODEL = "qwen2.5:1.5b"
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
DEFAULT_OPENAI_HOST = "http://127.0.0.1:8080"  # llama.cpp's server; vLLM listens on 8000
BACKENDS = ("llamacpp", "ollama", "openai", "baseline")
SERVER_BACKENDS = ("ollama", "openai")  # the backends that talk to a model server
POLL = 50  # llama.cpp's busy-wait level (its default); chosen in benchmarks/llm_busy.py


@dataclass(frozen=True)
class LLMResult:
    """One model answer with what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    duration_s: float
    finish_reason: str  # "stop", "length" (cut at max_tokens), or the backend's word
    # Set by the cache (calls.CachedLLM): the call's key in core.llm_calls, and whether the
    # answer came from there instead of the model. A backend leaves them as they are.
    call_key: str | None = None
    reused: bool = False


class LLMError(SyntheseError):
    """A model call failed (timeout, server error, unreachable server): worth retrying."""


class EndpointError(LLMError):
    """The model server itself failed (unreachable, timeout, HTTP 5xx), not the request: a
    pool of servers retries it, then takes the server out of rotation (distribute.py)."""


class LLM(Protocol):
    """What every stage needs from a model. Not runtime-checkable on purpose: on Python 3.11
    isinstance() would read OllamaLLM.model_id, a property that asks the server."""

    backend: str  # "llamacpp" | "ollama"
    model_name: str  # human name, e.g. "qwen2.5-coder-0.5b"
    model_id: str  # stable identity used in cache keys
    model_sha256: str | None  # full model file hash for the method note, None if unknown
    context_size: int  # tokens

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int = 42,
    ) -> LLMResult: ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...


def _approx_tokens(text: str) -> int:
    # French text averages a little over 3 characters per token for Qwen-style tokenizers.
    return len(text) // 3 + 1


# --- host safety ------------------------------------------------------------------------


def normalise_host(host: str, default_port: int = 11434) -> str:
    """``host`` as ``scheme://host:port`` (the same defaults as the ollama client)."""
    host = host.strip()
    scheme, sep, rest = host.partition("://")
    if not sep:
        scheme, rest, port = "http", host, default_port
    else:
        port = 443 if scheme == "https" else 80
    split = urllib.parse.urlsplit(f"{scheme}://{rest}")
    hostname = split.hostname or "127.0.0.1"
    try:
        port = split.port or port
    except ValueError:
        raise SyntheseError(f"Adresse de serveur invalide « {host} » : port incorrect.") from None
    if ":" in hostname:  # IPv6 literals need their brackets back
        hostname = f"[{hostname}]"
    path = split.path.rstrip("/")
    return f"{scheme}://{hostname}:{port}{path}"


def is_loopback(url: str) -> bool:
    """True if the URL's host is this machine: 127.0.0.0/8, ::1 or localhost."""
    hostname = urllib.parse.urlsplit(url).hostname or ""
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        # A name other than localhost is not resolved: DNS could point it anywhere.
        return False


def check_host(host: str, *, allow_remote: bool = False) -> str:
    """Normalise ``host`` and refuse anything but loopback unless ``allow_remote``."""
    url = normalise_host(host)
    # "0.0.0.0" is what people put in OLLAMA_HOST to make the *server* listen everywhere;
    # as a destination it means this machine, so connect through loopback instead.
    for unspecified, loopback in (("//0.0.0.0:", "//127.0.0.1:"), ("//[::]:", "//[::1]:")):
        url = url.replace(unspecified, loopback, 1)
    if not allow_remote and not is_loopback(url):
        raise SyntheseError(
            f"Serveur de modèle {url} refusé : les réponses ne doivent pas quitter cette machine ; "
            "utilisez un serveur local (127.0.0.1) ou ajoutez --allow-remote-llm en connaissance "
            "de cause."
        )
    return url


# --- llama.cpp in-process ---------------------------------------------------------------


@lru_cache(maxsize=64)
def _grammar_for(schema_json: str) -> str:
    import xllamacpp

    schema = json.loads(schema_json)
    # Compact, fixed whitespace: a small model constrained by a grammar that allows free
    # whitespace can spend its whole token budget on blank lines; fixed separators also
    # mean fewer output tokens for the same JSON.
    schema.setdefault(
        "x-guidance", {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
    )
    return xllamacpp.json_schema_to_grammar(schema)


# How long a stopped generation may take to end before the signal's exception goes on up
# (it ends at its next token; a long prompt being read gives none for a few seconds).
_STOP_WAIT_S = 3.0

# A JSON value can only start with one of these; unconstrained text answering _PROBE does not.
_JSON_FIRST_CHARS = frozenset('{["-0123456789tfn')
_PROBE = [{"role": "user", "content": "Dis simplement bonjour, en une phrase."}]


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over the server's private Unix socket (used for /tokenize only)."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


def free_cores(sample_s: float = 0.4) -> int:
    """The cores that no other process is using now, at least one: llama.cpp's threads wait
    for each other, so a thread on a core another process holds slows all of them (with one
    busy core of 2, 2 threads ran 3x slower than quiet and 1 thread 1.4x,
    benchmarks/llm_busy.py). Measured from /proc/stat over ``sample_s``, less this process's
    own time; every core where /proc/stat does not exist."""
    cores = os.cpu_count() or 1

    def sample() -> tuple[float, float, float]:
        with open("/proc/stat", encoding="ascii") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        own = os.times()
        return sum(ticks), ticks[3] + ticks[4], own.user + own.system  # total, idle+iowait

    try:
        total0, idle0, own0 = sample()
        time.sleep(sample_s)
        total1, idle1, own1 = sample()
    except (OSError, ValueError, IndexError):
        return cores
    elapsed = total1 - total0
    if elapsed <= 0:
        return cores
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = (elapsed - (idle1 - idle0)) - (own1 - own0) * hz  # ticks of the other processes
    return max(1, cores - round(cores * max(0.0, busy) / elapsed))


class LlamaCppLLM:
    """A GGUF model run in this process by llama.cpp's server engine (xllamacpp).

    xllamacpp always starts llama.cpp's HTTP server next to the in-process API, by default
    on a random 127.0.0.1 port with no API key and a /slots endpoint that shows the prompts
    being processed to any local user. ``no_host`` does not prevent it. So the listener is
    bound to a Unix socket inside a fresh 0700 temporary folder (no TCP port at all),
    guarded by a random API key, with /slots and /metrics disabled and the web UI off.
    """

    backend = "llamacpp"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        context_size: int = 4096,
        threads: int | None = None,
        timeout_s: float = 300,
        verbosity: int = 1,
        cache_prompt: bool = True,
        parallel: int = 1,
        poll: int | None = None,
    ) -> None:
        import xllamacpp

        path = model_path(model)
        self.model_name = model if model in MODELS else path.stem
        self.model_path = path
        self.model_sha256: str | None = model_sha256(path)
        spec = MODELS.get(model)
        if spec is not None and self.model_sha256 != spec.sha256:
            raise SyntheseError(
                f"Fichier modèle {path} altéré (SHA-256 inattendu) : supprimez-le puis lancez "
                f"« synthese models fetch {model} »."
            )
        self.model_id = f"llamacpp:{self.model_name}:{self.model_sha256[:16]}"
        self.context_size = context_size
        self.threads = threads or free_cores()
        self.timeout_s = timeout_s
        self.cache_prompt = cache_prompt
        # llama.cpp's timings of the last call (cache_n, prompt_n, prompt_ms, predicted_ms…),
        # for benchmarks; not part of the LLM protocol.
        self.last_timings: dict[str, Any] = {}

        self._socket_dir = tempfile.mkdtemp(prefix="synthese-llm-")  # mode 0700
        self._socket_path = os.path.join(self._socket_dir, "llama.sock")
        self._api_key = secrets.token_urlsafe(32)
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._socket_dir, True)
        self._verified_grammars: set[str] = set()
        self._lock = threading.Lock()

        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        # Each of the ``parallel`` slots gets ``context_size`` tokens. The pipeline uses one
        # slot (sequential calls reuse its KV cache); more slots serve concurrent requests
        # with continuous batching (benchmarks/extraction_strategies.py compares them).
        self.parallel = max(1, int(parallel))
        params.n_ctx = context_size * self.parallel
        params.n_parallel = self.parallel
        params.n_predict = -1  # bounded per request by max_tokens
        params.ctx_shift = False  # an over-long request is an error, not silent truncation
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        # How hard llama.cpp's threads busy-wait for each other (0-100): on a machine where
        # another process holds a core, a spinning thread waits for one that is not running
        # (benchmarks/llm_busy.py, docs/benchmarks.md).
        self.poll = POLL if poll is None else int(poll)
        params.cpuparams.poll = self.poll
        params.cpuparams_batch.poll = self.poll
        params.sampling.seed = 42
        params.sampling.temp = 0.0
        params.cache_prompt = True  # reuse the KV cache of the shared few-shot prefix
        params.cache_ram_mib = 1024  # host-RAM prompt cache (default 8 GiB)
        params.warmup = False  # the first call pays the page-in instead of every load
        params.verbosity = verbosity  # 1 = errors only; llama.cpp's info logs are very chatty
        params.hostnames = [self._socket_path]  # a ".sock" hostname makes a Unix socket
        params.api_keys = [self._api_key]
        params.endpoint_slots = False
        params.endpoint_metrics = False
        params.endpoint_props = False
        params.ui = False
        params.n_threads_http = 2
        params.model_alias = {self.model_name}
        try:
            self._server = xllamacpp.Server(params)
        except RuntimeError:
            self._cleanup()
            raise SyntheseError(
                f"Chargement du modèle {path} impossible (fichier illisible, contexte de "
                f"{context_size} jetons trop grand ou mémoire insuffisante) : voir l'erreur "
                "llama.cpp ci-dessus."
            ) from None
        # Wait until llama.cpp's main loop serves requests: with xllamacpp 2026.10.11549,
        # destroying a Server before its loop has started blocks forever in close().
        self._server.handle_completions({"prompt": "", "max_tokens": 0})

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def listening_address(self) -> str:
        """Where llama.cpp's HTTP server listens (a unix:// URL)."""
        return self._require_server().listening_address

    def _require_server(self) -> Any:
        server = getattr(self, "_server", None)
        if server is None:
            raise SyntheseError("Modèle déjà fermé : recréez-le avant de l'interroger.")
        return server

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
        """One chat completion; with ``schema`` the output is constrained to it by a grammar,
        with ``grammar`` (GBNF, the embedded model only) by that grammar.

        No frame here keeps the xllamacpp ``Server`` in a local: a frame held by an
        exception's traceback (a run stopped by a signal) would keep llama.cpp alive after
        ``close``, still decoding while the interpreter exits (a segfault or a hang, see
        ``close``)."""
        self._require_server()
        request: dict[str, Any] = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "seed": seed,
            "cache_prompt": self.cache_prompt,
            # Streaming only so that a call can be abandoned when it runs past timeout_s.
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if grammar is not None:
            request["grammar"] = grammar  # llama.cpp refuses one it cannot parse
        elif schema is not None:
            # Not response_format/json_schema: with this build and Qwen's chat template
            # those let the model open a ```json fence before the constraint applies.
            request["grammar"] = self._verified_grammar(schema)

        pieces: list[str] = []
        state: dict[str, Any] = {"finish_reason": None, "usage": {}, "error": None,
                                 "stop": threading.Event()}
        deadline = time.monotonic() + self.timeout_s

        def on_chunk(chunk: dict[str, Any]) -> bool:
            if state["stop"].is_set():
                return True  # the run is being stopped (see _generate)
            if "error" in chunk:
                state["error"] = chunk["error"]
                return True
            for choice in chunk.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    pieces.append(content)
                if choice.get("finish_reason"):
                    state["finish_reason"] = choice["finish_reason"]
            if chunk.get("usage"):
                state["usage"] = chunk["usage"]
                state["timings"] = chunk.get("timings") or {}
            if time.monotonic() > deadline:
                state["timed_out"] = True
                return True  # tells llama.cpp to stop generating
            return False

        start = time.perf_counter()
        self._generate(request, on_chunk, state)
        duration = time.perf_counter() - start
        if state["error"] is not None:
            message = state["error"].get("message", state["error"])
            raise LLMError(f"Le modèle {self.model_name} a refusé la requête : {message}.")
        if state.get("timed_out"):
            raise LLMError(
                f"Délai dépassé : le modèle {self.model_name} n'a pas répondu en "
                f"{self.timeout_s:g} s ; augmentez le délai ou réduisez max_tokens."
            )
        usage = state["usage"]
        self.last_timings = state.get("timings", {})
        return LLMResult(
            text="".join(pieces),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            duration_s=duration,
            finish_reason=state["finish_reason"] or "stop",
        )

    def _generate(self, request: dict[str, Any], on_chunk: Any, state: dict[str, Any]) -> None:
        """Run one streamed generation in a worker thread, so that the main thread stays free
        to receive Ctrl-C or SIGTERM (a Prefect cancellation).

        Called from the main thread, llama.cpp runs the Python callback under its own C++
        frame, where xllamacpp swallows the KeyboardInterrupt or TerminationSignal raised
        by a signal handler (« Exception ignored in … callback_wrapper_dict ») and goes on
        generating. Here the main thread waits; on a signal it sets ``state["stop"]``, the
        next streamed token makes llama.cpp stop, and the signal's exception goes on up
        (nothing of this call is stored). The worker is joined in ``close``.
        """
        def work() -> None:
            try:
                self._require_server().handle_chat_completions(request, on_chunk)
            except (ValueError, RuntimeError) as exc:
                state["failure"] = exc
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                state["failure"] = exc

        worker = threading.Thread(target=work, name="llama-generation", daemon=True)
        self._worker = worker
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.1)
        except BaseException:
            state["stop"].set()
            worker.join(_STOP_WAIT_S)
            raise
        failure = state.get("failure")
        if isinstance(failure, ValueError | RuntimeError):
            raise LLMError(f"Échec de l'appel au modèle {self.model_name} : {failure}.") from None
        if failure is not None:
            raise failure

    def _verified_grammar(self, schema: dict) -> str:
        """The grammar for ``schema``, once checked to really constrain generation.

        When llguidance cannot compile a schema (a malformed one, or a keyword it does not
        implement such as uniqueItems, not, if/then) llama.cpp only logs « llg error » and
        generates unconstrained text. A one-token probe per schema turns that into an error.
        """
        # Key order kept: the grammar makes the model write properties in schema order.
        grammar = _grammar_for(json.dumps(schema))
        with self._lock:
            if grammar in self._verified_grammars:
                return grammar
        probe = self._require_server().handle_chat_completions(
            {"messages": _PROBE, "max_tokens": 1, "temperature": 0.0, "grammar": grammar}
        )
        choices = probe.get("choices") if isinstance(probe, dict) else None
        first = (choices[0]["message"].get("content") or "")[:1] if choices else ""
        if first not in _JSON_FIRST_CHARS:
            raise SyntheseError(
                "Schéma JSON non appliqué par llama.cpp (schéma invalide ou mot-clé non pris en "
                "charge, voir « llg error » ci-dessus) : corrigez ou simplifiez le schéma."
            )
        with self._lock:
            self._verified_grammars.add(grammar)
        return grammar

    def count_tokens(self, text: str) -> int:
        """Exact token count from the model's own tokenizer (no special tokens)."""
        self._require_server()
        body = json.dumps({"content": text, "add_special": False})
        conn = _UnixHTTPConnection(self._socket_path, timeout=min(self.timeout_s, 60))
        try:
            conn.request(
                "POST",
                "/tokenize",
                body=body.encode("utf-8"),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {self._api_key}",
                },
            )
            response = conn.getresponse()
            payload = response.read()
        except OSError as exc:
            raise LLMError(f"Comptage des jetons impossible : {exc}.") from None
        finally:
            conn.close()
        if response.status != 200:
            raise LLMError(f"Comptage des jetons impossible : réponse HTTP {response.status}.")
        return len(json.loads(payload)["tokens"])

    def close(self) -> None:
        """Free the model and remove the private socket folder.

        Normally the last reference to the ``Server`` goes here and its C++ destructor stops
        llama.cpp's loop and threads. After a generation stopped from its callback (a
        signal, see ``_generate``), xllamacpp keeps the stopped request and a reference to
        the Server (measured: two references left, none from Python), and llama.cpp goes on
        decoding that request for a few seconds: the Server is then freed only with the
        process. ``synthese run`` therefore ends a stopped run with ``os._exit`` (cli.py);
        finalising the interpreter under a loop still decoding crashed it (SIGSEGV in
        ``ggml_cpu_extra_compute_forward``) in 7 of 13 runs signalled inside a generation."""
        worker = getattr(self, "_worker", None)
        if worker is not None:  # a generation that was being stopped ends first
            worker.join()
        server = getattr(self, "_server", None)
        self._server = None
        del server  # the C++ destructor stops llama.cpp's threads and listener
        self._cleanup()


class LazyLLM:
    """The embedded model, loaded on its first call only.

    Its identity (``model_id``, the file's SHA-256) is known from the file hash stored next
    to the model, so a rerun that finds every call in the cache never loads the model.
    """

    backend = "llamacpp"

    def __init__(self, model: str = DEFAULT_MODEL, **options: Any) -> None:
        path = model_path(model)
        self.model_name = model if model in MODELS else path.stem
        self.model_sha256: str | None = model_sha256(path)
        self.model_id = f"llamacpp:{self.model_name}:{self.model_sha256[:16]}"
        self.context_size = int(options.get("context_size", 4096))
        self._model = model
        self._options = options
        self._llm: LlamaCppLLM | None = None

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def _load(self) -> LlamaCppLLM:
        if self._llm is None:
            self._llm = LlamaCppLLM(self._model, **self._options)
        return self._llm

    def chat(self, messages: list[dict[str, str]], **kwargs: Any) -> LLMResult:
        return self._load().chat(messages, **kwargs)

    def count_tokens(self, text: str) -> int:
        return self._load().count_tokens(text)

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None


# --- Ollama -----------------------------------------------------------------------------


class OllamaLLM:
    """A model served by Ollama, through the official ``ollama`` client."""

    backend = "ollama"
    model_sha256: str | None = None  # Ollama exposes a manifest digest, not the file hash

    def __init__(
        self,
        model: str = DEFAULT_OLLAMA_MODEL,
        *,
        host: str | None = None,
        allow_remote: bool = False,
        context_size: int = 4096,
        timeout_s: float = 300,
    ) -> None:
        import ollama

        self.host = check_host(
            host or os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST,
            allow_remote=allow_remote,
        )
        self.model_name = model
        self.context_size = context_size
        self.timeout_s = timeout_s
        self._model_id: str | None = None
        # Creating the client opens no connection. For a loopback host, ignore HTTP(S)_PROXY:
        # httpx would otherwise send the answers to a proxy unless NO_PROXY lists 127.0.0.1.
        self._client = ollama.Client(
            host=self.host, timeout=timeout_s, trust_env=not is_loopback(self.host)
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unreachable(self) -> LLMError:
        return EndpointError(
            f"Serveur Ollama injoignable sur {self.host} : lancez « ollama serve » puis "
            f"« ollama pull {self.model_name} »."
        )

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import httpx
        import ollama

        try:
            return fn(*args, **kwargs)
        except ConnectionError:
            raise self._unreachable() from None
        except httpx.TimeoutException:
            raise EndpointError(
                f"Délai dépassé : le serveur Ollama {self.host} n'a pas répondu en "
                f"{self.timeout_s:g} s à {what}."
            ) from None
        except httpx.HTTPError as exc:
            raise EndpointError(
                f"Échec de {what} sur le serveur Ollama {self.host} : {exc}.") from None
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise SyntheseError(
                    f"Modèle Ollama {self.model_name} absent sur {self.host} : lancez "
                    f"« ollama pull {self.model_name} »."
                ) from None
            error = EndpointError if exc.status_code >= 500 else LLMError
            raise error(
                f"Le serveur Ollama {self.host} a répondu {exc.status_code} à {what} : {exc.error}."
            ) from None

    @property
    def model_id(self) -> str:
        """``ollama:<model>@<digest[:16]>``; asks the server once, on first use."""
        if self._model_id is None:
            listing = self._call("la liste des modèles", self._client.list)
            wanted = {self.model_name}
            if ":" not in self.model_name:
                wanted.add(f"{self.model_name}:latest")
            digest = next(
                (m.digest for m in listing.models if m.model in wanted and m.digest), None
            )
            if digest is None:
                raise SyntheseError(
                    f"Modèle Ollama {self.model_name} absent sur {self.host} : lancez "
                    f"« ollama pull {self.model_name} »."
                )
            self._model_id = f"ollama:{self.model_name}@{digest.removeprefix('sha256:')[:16]}"
        return self._model_id

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int = 42,
    ) -> LLMResult:
        """One non-streamed chat call; ``schema`` goes to Ollama's structured ``format``."""
        options = {
            "temperature": temperature,
            "seed": seed,
            "num_predict": max_tokens,
            "num_ctx": self.context_size,
        }
        start = time.perf_counter()
        response = self._call(
            "la requête de génération",
            self._client.chat,
            model=self.model_name,
            messages=messages,
            format=schema,
            options=options,
            stream=False,
        )
        duration = time.perf_counter() - start
        return LLMResult(
            text=response.message.content or "",
            prompt_tokens=response.prompt_eval_count or 0,
            completion_tokens=response.eval_count or 0,
            duration_s=duration,
            finish_reason=response.done_reason or "stop",
        )

    def count_tokens(self, text: str) -> int:
        """Ollama has no tokenize endpoint: an estimate of about 3 characters per token."""
        return _approx_tokens(text)

    def close(self) -> None:
        self._client.close()


# --- OpenAI-compatible servers (llama.cpp's server, vLLM) ------------------------------


class OpenAICompatibleLLM:
    """A model served by any OpenAI-compatible server: llama.cpp's ``llama-server``, vLLM…
    (POST /v1/chat/completions, GET /v1/models), through httpx.

    Such servers expose no file hash: the model's identity in cache keys is the name the
    server lists (``openai:<name>``), so two servers of one pool must serve the same model
    under the same name.
    """

    backend = "openai"
    model_sha256: str | None = None

    def __init__(
        self,
        model: str | None = None,
        *,
        host: str | None = None,
        allow_remote: bool = False,
        context_size: int = 4096,
        timeout_s: float = 300,
    ) -> None:
        import httpx

        self.host = check_host(host or DEFAULT_OPENAI_HOST, allow_remote=allow_remote)
        self.model_name = model or ""
        self.context_size = context_size
        self.timeout_s = timeout_s
        self._model_id: str | None = None
        # As for Ollama: a loopback host ignores HTTP(S)_PROXY (the answers stay here).
        self._client = httpx.Client(base_url=self.host, timeout=timeout_s,
                                    trust_env=not is_loopback(self.host))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, what: str, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise EndpointError(
                f"Délai dépassé : le serveur de modèle {self.host} n'a pas répondu en "
                f"{self.timeout_s:g} s à {what}."
            ) from None
        except httpx.HTTPError as exc:
            raise EndpointError(
                f"Serveur de modèle injoignable sur {self.host} ({what}) : {exc} ; lancez "
                "« llama-server » ou « vllm serve » sur cette adresse."
            ) from None
        if response.status_code >= 400:
            error = EndpointError if response.status_code >= 500 else LLMError
            raise error(f"Le serveur de modèle {self.host} a répondu {response.status_code} à "
                        f"{what} : {response.text[:200]}.")
        try:
            return response.json()
        except ValueError:
            raise EndpointError(f"Réponse illisible du serveur de modèle {self.host} à "
                                f"{what}.") from None

    @property
    def model_id(self) -> str:
        """``openai:<model>``; asks the server's model list once, on first use (a server
        that does not list the model is refused; with no model named, its first one)."""
        if self._model_id is None:
            listing = self._request("la liste des modèles", "GET", "/v1/models")
            names = [m.get("id") for m in listing.get("data") or () if m.get("id")]
            if not self.model_name and names:
                self.model_name = names[0]
            if self.model_name not in names:
                raise SyntheseError(
                    f"Modèle {self.model_name or '(aucun)'} absent du serveur {self.host} "
                    f"(modèles servis : {', '.join(names) or 'aucun'}) : donnez --model."
                )
            self._model_id = f"openai:{self.model_name}"
        return self._model_id

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int = 42,
    ) -> LLMResult:
        """One non-streamed chat completion; ``schema`` goes to ``response_format``
        (json_schema, which llama.cpp's server and vLLM both enforce by a grammar)."""
        self.model_id  # noqa: B018 - resolves the model's name when none was given
        body: dict[str, Any] = {"model": self.model_name, "messages": messages,
                                "max_tokens": max_tokens, "temperature": temperature,
                                "seed": seed, "stream": False}
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "reponse", "schema": schema, "strict": True}}
        start = time.perf_counter()
        payload = self._request("la requête de génération", "POST", "/v1/chat/completions",
                                json=body)
        duration = time.perf_counter() - start
        try:
            choice = payload["choices"][0]
            usage = payload.get("usage") or {}
            return LLMResult(
                text=(choice.get("message") or {}).get("content") or "",
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                duration_s=duration,
                finish_reason=choice.get("finish_reason") or "stop",
            )
        except (KeyError, IndexError, TypeError, ValueError):
            raise EndpointError(f"Réponse inattendue du serveur de modèle {self.host} : "
                                f"{str(payload)[:200]}.") from None

    def count_tokens(self, text: str) -> int:
        """An estimate of about 3 characters per token (not every server tokenizes)."""
        return _approx_tokens(text)

    def close(self) -> None:
        self._client.close()


def make_llm(
    backend: str = "llamacpp",
    model: str | None = None,
    *,
    host: str | None = None,
    allow_remote: bool = False,
    context_size: int = 4096,
    threads: int | None = None,
    timeout_s: float = 300,
    lazy: bool = False,
) -> LLM:
    """Build the configured backend. ``host`` only applies to Ollama (llama.cpp is in-process).

    With ``lazy``, the embedded model loads on its first call (see LazyLLM); an Ollama client
    connects on its first call anyway.
    """
    if backend == "llamacpp":
        factory = LazyLLM if lazy else LlamaCppLLM
        return factory(
            model or DEFAULT_MODEL, context_size=context_size, threads=threads, timeout_s=timeout_s
        )
    if backend == "ollama":
        return OllamaLLM(
            model or DEFAULT_OLLAMA_MODEL,
            host=host,
            allow_remote=allow_remote,
            context_size=context_size,
            timeout_s=timeout_s,
        )
    if backend == "openai":
        return OpenAICompatibleLLM(
            model,
            host=host,
            allow_remote=allow_remote,
            context_size=context_size,
            timeout_s=timeout_s,
        )
    if backend == "baseline":
        from synthese.baseline import BaselineLLM

        return BaselineLLM()
    raise SyntheseError(
        f"Moteur LLM inconnu « {backend} » : choisissez llamacpp, ollama, openai ou baseline."
    )


PROBE_TIMEOUT_S = 5


def probe_llm(backend: str = "llamacpp", model: str | None = None, *, host: str | None = None,
              allow_remote: bool = False) -> None:
    """Check that the configured model can be used, without running it: the embedded model's
    file is there; an Ollama host is loopback (or allowed), answers within seconds, and has
    the model. Raises a SyntheseError naming what to fix."""
    llm = make_llm(backend, model, host=host, allow_remote=allow_remote, lazy=True,
                   timeout_s=PROBE_TIMEOUT_S)
    try:
        if isinstance(llm, OllamaLLM | OpenAICompatibleLLM):
            llm.model_id  # noqa: B018 - lists the server's models: unreachable or absent fail here
    finally:
        llm.close()


__all__ = [
    "BACKENDS",
    "DEFAULT_OLLAMA_HOST",
    "DEFAULT_OLLAMA_MODEL",
    "DEFAULT_OPENAI_HOST",
    "LLM",
    "SERVER_BACKENDS",
    "EndpointError",
    "LLMError",
    "LLMResult",
    "LazyLLM",
    "LlamaCppLLM",
    "OllamaLLM",
    "OpenAICompatibleLLM",
    "check_host",
    "is_loopback",
    "make_llm",
    "normalise_host",
    "probe_llm",
]
