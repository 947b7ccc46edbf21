"""LLM backends: Ollama against a fake server speaking its HTTP protocol, llama.cpp for real."""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jsonschema
import ollama
import pytest
from fake_ollama import FakeOllamaServer, default_responder

from synthese import models
from synthese.errors import SyntheseError
from synthese.llm import (
    LLM,
    LlamaCppLLM,
    LLMError,
    LLMResult,
    OllamaLLM,
    _grammar_for,
    check_host,
    make_llm,
)

ARGUMENTS_SCHEMA = {
    "type": "object",
    "properties": {
        "arguments": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "texte": {"type": "string"},
                    "position": {"type": "string", "enum": ["pour", "contre", "nuance"]},
                },
                "required": ["texte", "position"],
            },
        },
        "nombre": {"type": "integer"},
    },
    "required": ["arguments", "nombre"],
}

QUESTION = [
    {"role": "system", "content": "Tu extrais les arguments d'une réponse. Réponds en JSON."},
    {"role": "user", "content": "L'IA aide à corriger les copies mais les élèves trichent."},
]


@pytest.fixture
def fake():
    with FakeOllamaServer() as server:
        yield server


@pytest.fixture
def ollama_llm(fake):
    llm = make_llm("ollama", "qwen2.5:0.5b", host=fake.url, context_size=2048, timeout_s=10)
    yield llm
    llm.close()


# --- Ollama backend ---------------------------------------------------------------------


def test_ollama_chat_with_schema_returns_valid_json_and_costs(ollama_llm, fake):
    result = ollama_llm.chat(QUESTION, schema=ARGUMENTS_SCHEMA, max_tokens=300, seed=7)

    assert isinstance(result, LLMResult)
    jsonschema.validate(json.loads(result.text), ARGUMENTS_SCHEMA)
    assert "corriger" in result.text  # derived from the last user message
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    assert result.duration_s > 0
    assert result.finish_reason == "stop"
    sent = fake.calls[-1]
    assert sent["format"] == ARGUMENTS_SCHEMA and sent["stream"] is False
    assert sent["options"] == {"temperature": 0.0, "seed": 7, "num_predict": 300, "num_ctx": 2048}
    assert sent["messages"] == QUESTION


def test_ollama_chat_cut_at_max_tokens_reports_length(ollama_llm):
    result = ollama_llm.chat(QUESTION, max_tokens=1)
    assert result.finish_reason == "length"


def test_ollama_http_500_raises_llm_error_and_is_not_retried_inside(ollama_llm, fake):
    fake.fail_next = 1
    with pytest.raises(LLMError, match="500"):
        ollama_llm.chat(QUESTION)
    assert len(fake.calls) == 1  # retries belong to the caller (Prefect task), not the backend

    assert ollama_llm.chat(QUESTION).text  # the next call goes through


def test_ollama_model_id_includes_the_server_digest(ollama_llm, fake):
    assert ollama_llm.model_id == f"ollama:qwen2.5:0.5b@{fake.digest[:16]}"
    assert ollama_llm.model_name == "qwen2.5:0.5b"
    assert ollama_llm.backend == "ollama" and ollama_llm.model_sha256 is None
    assert all(hasattr(ollama_llm, name) for name in LLM.__annotations__)


def test_ollama_model_not_pulled_is_a_non_retryable_error(fake):
    llm = make_llm("ollama", "mistral:7b", host=fake.url)
    with pytest.raises(SyntheseError, match="ollama pull mistral:7b") as info:
        llm.chat(QUESTION)
    assert not isinstance(info.value, LLMError)
    with pytest.raises(SyntheseError, match="ollama pull mistral:7b"):
        _ = llm.model_id


def test_ollama_unreachable_server_error_names_the_host():
    server = FakeOllamaServer().start()
    url = server.url
    server.stop()  # nothing listens on that port any more
    llm = make_llm("ollama", "qwen2.5:1.5b", host=url)
    with pytest.raises(LLMError) as info:
        llm.chat(QUESTION)
    assert str(info.value) == (
        f"Serveur Ollama injoignable sur {url} : lancez « ollama serve » puis "
        "« ollama pull qwen2.5:1.5b »."
    )


def test_ollama_ignores_proxy_variables_for_a_loopback_host(fake, monkeypatch):
    # A proxy that would receive the answers if it were used (nothing listens on port 9).
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    llm = make_llm("ollama", "qwen2.5:0.5b", host=fake.url)
    assert llm.chat(QUESTION).text
    llm.close()


def test_ollama_count_tokens_is_an_estimate():
    llm = make_llm("ollama", "qwen2.5:0.5b", host="http://127.0.0.1:1")
    assert llm.count_tokens("a" * 30) == 11
    assert llm.count_tokens("") == 1


def test_ollama_default_host_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:5555")
    assert make_llm("ollama").host == "http://127.0.0.1:5555"
    monkeypatch.delenv("OLLAMA_HOST")
    llm = make_llm("ollama")
    assert llm.host == "http://127.0.0.1:11434" and llm.model_name == "qwen2.5:1.5b"
    monkeypatch.setenv("OLLAMA_HOST", "http://10.1.2.3:11434")
    with pytest.raises(SyntheseError, match="refusé"):
        make_llm("ollama")


# --- host safety ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["http://10.1.2.3:11434", "192.168.1.5", "https://api.example.com", "ollama.lan:11434"]
)
def test_a_remote_model_host_is_refused(host):
    with pytest.raises(SyntheseError, match="--allow-remote-llm"):
        make_llm("ollama", "x", host=host)


def test_a_remote_host_is_allowed_when_asked_and_not_contacted_on_construction():
    start = time.perf_counter()
    # 10.1.2.3 is never contacted: building the backend opens no connection.
    llm = make_llm("ollama", "x", host="http://10.1.2.3:11434", allow_remote=True, timeout_s=1)
    assert isinstance(llm, OllamaLLM)
    assert llm.host == "http://10.1.2.3:11434"
    assert time.perf_counter() - start < 1
    llm.close()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", "http://localhost:11434"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.1.2.3", "http://127.1.2.3:80"),
        ("[::1]:11434", "http://[::1]:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("http://LOCALHOST:11434/", "http://localhost:11434"),
    ],
)
def test_loopback_hosts_are_accepted_and_normalised(host, expected):
    assert check_host(host) == expected


def test_unknown_backend_is_a_french_error():
    with pytest.raises(SyntheseError, match="Moteur LLM inconnu « vllm »"):
        make_llm("vllm")


# --- the fake server itself -------------------------------------------------------------


def test_fake_server_streams_ndjson_like_ollama(fake):
    client = ollama.Client(host=fake.url)
    parts = list(client.chat(model=fake.model, messages=QUESTION, stream=True))
    whole = client.chat(model=fake.model, messages=QUESTION, stream=False)
    assert len(parts) > 2 and not parts[0].done and parts[-1].done
    assert parts[-1].done_reason == "stop" and parts[-1].eval_count == whole.eval_count
    assert "".join(p.message.content for p in parts) == whole.message.content
    assert client.show(fake.model).details.family == "qwen2"
    assert client.list().models[0].digest == fake.digest
    client.close()


def test_fake_default_responder_satisfies_nested_schemas():
    schema = {
        "type": "object",
        "$defs": {"theme": {"type": "string", "enum": ["école", "santé"]}},
        "properties": {
            "themes": {"type": "array", "items": {"$ref": "#/$defs/theme"}, "minItems": 2},
            "score": {"type": "number", "minimum": 1},
            "ok": {"type": "boolean"},
            "note": {"type": ["string", "null"], "maxLength": 5},
        },
        "required": ["themes", "score", "ok", "note"],
    }
    value = json.loads(default_responder([{"role": "user", "content": "Bonjour"}], schema))
    jsonschema.validate(value, schema)
    assert default_responder([{"role": "user", "content": "Bonjour"}], None).endswith("Bonjour")


def test_fake_server_runs_as_a_script_until_killed():
    script = Path(__file__).with_name("fake_ollama.py")
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        llm = make_llm("ollama", "qwen2.5:0.5b", host=url)
        assert json.loads(llm.chat(QUESTION, schema=ARGUMENTS_SCHEMA).text)["nombre"] == 0
        llm.close()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


# --- llama.cpp ---------------------------------------------------------------------------


def test_llamacpp_grammar_keeps_property_order_and_fixes_whitespace():
    schema = {"type": "object", "properties": {"zeta": {"type": "string"}, "alpha": {}}}
    grammar = _grammar_for(json.dumps(schema))
    assert grammar.index('"zeta"') < grammar.index('"alpha"')
    assert '"whitespace_flexible":false' in grammar.replace(" ", "")
    assert "x-guidance" not in schema  # the caller's schema is not modified


def test_llamacpp_model_not_fetched_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHESE_CACHE_DIR", str(tmp_path))
    with pytest.raises(SyntheseError, match="synthese models fetch qwen2.5-coder-0.5b"):
        make_llm("llamacpp")


def test_llamacpp_unreadable_gguf_is_a_french_error_and_leaves_no_socket(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the socket folder goes
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(SyntheseError, match="Chargement du modèle .*broken.gguf impossible"):
        make_llm("llamacpp", str(broken), context_size=256, threads=1)
    assert not list(tmp_path.glob("synthese-llm-*"))


# --- llama.cpp, real model --------------------------------------------------------------


def _tcp_listeners_of_this_process() -> set[int]:
    """Inodes of TCP sockets in LISTEN state that this process holds open."""
    own = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            own.add(int(target[8:-1]))
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    listening.add(int(fields[9]))
    return own & listening


def _unix_get(socket_path: str, path: str, api_key: str | None = None) -> int:
    conn = http.client.HTTPConnection("localhost", timeout=10)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    conn.sock = sock
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    conn.request("GET", path, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.fixture(scope="module")
def real_llm():
    models.fetch_model()  # about 10 s the first time on a machine, then a no-op
    before = _tcp_listeners_of_this_process()
    llm = make_llm("llamacpp", context_size=1024, threads=1)
    # One thread: on a shared 2-core machine, llama.cpp's 2-thread spin barrier collapses
    # under load, and this test checks behaviour, not speed.
    yield llm, before
    llm.close()


@pytest.mark.realmodel
def test_real_model_answers_schema_valid_json_deterministically(real_llm):
    llm, _ = real_llm
    schema = {
        "type": "object",
        "properties": {
            "arguments": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            "position": {"type": "string", "enum": ["pour", "contre", "nuance"]},
        },
        "required": ["arguments", "position"],
        "additionalProperties": False,
    }
    messages = [
        {"role": "system", "content": "Résume la position de la réponse en JSON, en français."},
        {"role": "user", "content": "Je suis contre les téléphones en classe : ils distraient."},
    ]
    first = llm.chat(messages, schema=schema, max_tokens=60)
    second = llm.chat(messages, schema=schema, max_tokens=60)

    assert first.finish_reason == "stop"
    answer = json.loads(first.text)
    jsonschema.validate(answer, schema)
    assert list(answer) == ["arguments", "position"]  # schema order, not alphabetical
    assert second.text == first.text
    assert first.prompt_tokens > 10 and first.completion_tokens > 3
    assert first.duration_s > 0
    assert llm.count_tokens("Bonjour à tous") == 3  # Qwen's tokenizer, no special tokens
    assert llm.model_id.startswith("llamacpp:qwen2.5-coder-0.5b:1d9614638d18024d")
    assert llm.model_sha256 == models.MODELS["qwen2.5-coder-0.5b"].sha256


@pytest.mark.realmodel
def test_real_model_cut_at_max_tokens_reports_length(real_llm):
    llm, _ = real_llm
    result = llm.chat(QUESTION, schema=ARGUMENTS_SCHEMA, max_tokens=4)
    assert result.finish_reason == "length" and result.completion_tokens == 4


@pytest.mark.realmodel
def test_real_model_schema_that_cannot_be_enforced_is_refused(real_llm):
    # llama.cpp would otherwise log « llg error » and generate unconstrained text.
    llm, _ = real_llm
    for schema in ({"type": "bogus"}, {"type": "array", "uniqueItems": True}):
        with pytest.raises(SyntheseError, match="Schéma JSON non appliqué") as info:
            llm.chat(QUESTION, schema=schema, max_tokens=5)
        assert not isinstance(info.value, LLMError)  # a programming error: do not retry


@pytest.mark.realmodel
def test_real_model_over_long_request_raises_llm_error(real_llm):
    llm, _ = real_llm
    with pytest.raises(LLMError, match="exceeds the available context size"):
        llm.chat([{"role": "user", "content": "bonjour " * 1500}])
    assert llm.chat(QUESTION, max_tokens=2).completion_tokens == 2  # still usable


@pytest.mark.realmodel
def test_real_model_call_past_its_timeout_raises_llm_error(real_llm):
    llm, _ = real_llm
    saved, llm.timeout_s = llm.timeout_s, 0.001
    try:
        with pytest.raises(LLMError, match="Délai dépassé"):
            llm.chat(QUESTION, max_tokens=20)
    finally:
        llm.timeout_s = saved


@pytest.mark.realmodel
def test_real_model_opens_no_tcp_port_and_guards_its_unix_socket(real_llm):
    llm, before = real_llm
    assert isinstance(llm, LlamaCppLLM)
    assert _tcp_listeners_of_this_process() == before
    address = llm.listening_address
    assert address.startswith("unix://")
    socket_path = address.removeprefix("unix://")
    folder = os.path.dirname(socket_path)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    # Without the random key nothing is served; with it, /slots (which shows prompts) is off.
    assert _unix_get(socket_path, "/slots") == 401
    assert _unix_get(socket_path, "/props") == 401
    assert _unix_get(socket_path, "/slots", llm._api_key) == 501
    assert _unix_get(socket_path, "/metrics", llm._api_key) == 501


@pytest.mark.realmodel
def test_closing_the_real_model_removes_its_socket_folder():
    models.fetch_model()
    llm = make_llm("llamacpp", context_size=512, threads=1)
    folder = os.path.dirname(llm.listening_address.removeprefix("unix://"))
    assert os.path.isdir(folder)
    llm.close()
    assert not os.path.exists(folder)
    with pytest.raises(SyntheseError, match="fermé"):
        llm.chat(QUESTION)


def test_the_embedded_model_leaves_a_core_held_by_another_process_alone():
    """Issue 17: a thread on a core another process holds slows all of llama.cpp's threads
    (benchmarks/llm_busy.py); the default thread count counts only the free cores."""
    from synthese.llm import free_cores

    cores = os.cpu_count() or 1
    others = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
              for _ in range(cores)]
    try:
        time.sleep(0.5)
        assert free_cores() == 1  # every core held: one thread still
    finally:
        for p in others:
            p.kill()
            p.wait()


def test_without_proc_stat_every_core_is_used(monkeypatch):
    import builtins

    from synthese.llm import free_cores

    real_open = builtins.open

    def no_proc(path, *args, **kwargs):
        if str(path) == "/proc/stat":
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_proc)
    assert free_cores() == (os.cpu_count() or 1)
