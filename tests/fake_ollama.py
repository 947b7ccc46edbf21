"""A stand-in Ollama server that speaks the real HTTP protocol, for tests.

No Ollama server can run on the test machines, so this small ``ThreadingHTTPServer``
answers the endpoints the official ``ollama`` client uses (POST /api/chat, streamed or
not, POST /api/show, GET /api/tags, GET /api/version) with Ollama's own JSON field names.
It also answers as an OpenAI-compatible server does (llama.cpp's server, vLLM: GET
/v1/models, POST /v1/chat/completions non-streamed, the schema in ``response_format``).
``delay`` holds every chat answer that many seconds (a GPU server's latency, for the
scale-out benchmark); ``fail_next`` makes the next chat calls answer HTTP 500.
It binds to 127.0.0.1 only. Run as a script it prints its URL and serves until killed:

    python tests/fake_ollama.py --port 0
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Responder = Callable[[list[dict], dict | None], str]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _words(messages: list[dict]) -> list[str]:
    last_user = next(
        (m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), ""
    )
    return re.findall(r"\w+", last_user) or ["réponse"]


def example_from_schema(
    schema: dict | bool | None, words: list[str], defs: dict | None = None
) -> Any:
    """A minimal value valid against ``schema``; strings are built from ``words``."""
    if not isinstance(schema, dict):
        return words[0]
    defs = defs if defs is not None else schema.get("$defs", schema.get("definitions", {}))
    if "$ref" in schema:
        return example_from_schema(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), words, defs)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return example_from_schema(schema[key][0], words, defs)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: example_from_schema(properties.get(name, {}), words, defs)
            for name in schema.get("required", [])
        }
    if kind == "array":
        count = max(1, schema.get("minItems", 1))
        if "maxItems" in schema:
            count = min(count, schema["maxItems"])
        return [example_from_schema(schema.get("items", {}), words, defs) for _ in range(count)]
    if kind == "integer":
        return max(0, schema.get("minimum", 0))
    if kind == "number":
        return float(max(0, schema.get("minimum", 0)))
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = " ".join(words[:8])
    if len(text) < schema.get("minLength", 0):
        text = text.ljust(schema["minLength"], ".")
    if "maxLength" in schema:
        text = text[: schema["maxLength"]]
    return text


def default_responder(messages: list[dict], schema: dict | None) -> str:
    """JSON valid against ``schema`` (derived from the last user message), else plain text."""
    words = _words(messages)
    if schema is None:
        return "Réponse : " + " ".join(words[:12])
    if schema == "json" or schema == {}:
        return json.dumps({"texte": " ".join(words[:8])}, ensure_ascii=False)
    return json.dumps(example_from_schema(schema, words), ensure_ascii=False)


class FakeOllamaServer:
    """An Ollama look-alike on 127.0.0.1:<random port>; ``calls`` records /api/chat bodies."""

    def __init__(self, responder: Responder | None = None, model: str = "qwen2.5:0.5b",
                 delay: float = 0.0) -> None:
        self.responder = responder or default_responder
        self.delay = delay
        self.model = model
        self.digest = hashlib.sha256(model.encode("utf-8")).hexdigest()
        self.calls: list[dict] = []
        self.fail_next = 0
        self.url = ""
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: set = set()

    def start(self, port: int = 0) -> FakeOllamaServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut kept-alive connections, as a dead server would."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _take_failure(self) -> bool:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False

    def _knows(self, name: str | None) -> bool:
        return name in (self.model, f"{self.model}:latest") or f"{name}:latest" == self.model


def _token_count(text: str) -> int:
    return max(1, len(text) // 4)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOllamaServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        return json.loads(raw or b"{}")

    def do_GET(self) -> None:
        fake = self.fake
        if self.path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [
                {"id": fake.model, "object": "model", "created": 0, "owned_by": "fake"}]})
        elif self.path == "/api/version":
            self._send_json(200, {"version": "0.12.0-fake"})
        elif self.path == "/api/tags":
            self._send_json(200, {"models": [_model_entry(fake)]})
        elif self.path in ("/", ""):
            body = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self._send_json(404, {"error": "404 page not found"})

    def do_POST(self) -> None:
        try:
            body = self._read_json()
        except ValueError:
            self._send_json(400, {"error": "invalid JSON"})
            return
        if self.path == "/api/chat":
            self._chat(body)
        elif self.path == "/v1/chat/completions":
            self._openai_chat(body)
        elif self.path == "/api/show":
            self._show(body)
        else:
            self._send_json(404, {"error": "404 page not found"})

    def _show(self, body: dict) -> None:
        fake = self.fake
        if not fake._knows(body.get("model") or body.get("name")):
            self._send_json(404, {"error": f"model '{body.get('model')}' not found"})
            return
        self._send_json(
            200,
            {
                "modelfile": f"FROM {fake.model}\n",
                "parameters": "temperature 0",
                "template": "{{ .Prompt }}",
                "details": _details(),
                "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768},
                "capabilities": ["completion"],
                "modified_at": _now(),
            },
        )

    def _chat(self, body: dict) -> None:
        fake = self.fake
        with fake._lock:
            fake.calls.append(body)
        if fake._take_failure():
            self._send_json(500, {"error": "fake failure requested by the test"})
            return
        if not fake._knows(body.get("model")):
            self._send_json(
                404, {"error": f"model '{body.get('model')}' not found, try pulling it first"}
            )
            return
        started = time.perf_counter_ns()
        if fake.delay:
            time.sleep(fake.delay)
        messages = body.get("messages") or []
        text = fake.responder(messages, body.get("format"))
        options = body.get("options") or {}
        done_reason = "stop"
        limit = options.get("num_predict")
        if isinstance(limit, int) and limit >= 0 and _token_count(text) > limit:
            text, done_reason = text[: limit * 4], "length"
        prompt_tokens = sum(_token_count(m.get("content") or "") for m in messages)
        eval_count = _token_count(text)
        elapsed = max(time.perf_counter_ns() - started, 1000)
        final = {
            "model": fake.model,
            "created_at": _now(),
            "done": True,
            "done_reason": done_reason,
            "total_duration": elapsed,
            "load_duration": 0,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": elapsed // 2,
            "eval_count": eval_count,
            "eval_duration": elapsed // 2,
        }
        if body.get("stream", True):  # Ollama streams unless told otherwise
            self._stream_chat(text, final)
        else:
            final["message"] = {"role": "assistant", "content": text}
            self._send_json(200, final)

    def _openai_chat(self, body: dict) -> None:
        """POST /v1/chat/completions as llama.cpp's server and vLLM answer it (not streamed)."""
        fake = self.fake
        with fake._lock:
            fake.calls.append(body)
        if fake._take_failure():
            self._send_json(500, {"error": {"message": "fake failure requested by the test",
                                            "type": "server_error", "code": 500}})
            return
        if body.get("model") != fake.model:
            self._send_json(404, {"error": {"message": f"model '{body.get('model')}' not found",
                                            "type": "invalid_request_error", "code": 404}})
            return
        if fake.delay:
            time.sleep(fake.delay)
        messages = body.get("messages") or []
        response_format = body.get("response_format") or {}
        schema = (response_format.get("json_schema") or {}).get("schema")
        text = fake.responder(messages, schema)
        finish = "stop"
        limit = body.get("max_tokens")
        if isinstance(limit, int) and limit >= 0 and _token_count(text) > limit:
            text, finish = text[: limit * 4], "length"
        prompt_tokens = sum(_token_count(m.get("content") or "") for m in messages)
        self._send_json(200, {
            "id": f"chatcmpl-{len(fake.calls)}", "object": "chat.completion", "created": 0,
            "model": fake.model,
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": _token_count(text),
                      "total_tokens": prompt_tokens + _token_count(text)},
        })

    def _stream_chat(self, text: str, final: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = re.findall(r"\S+\s*|\s+", text) or [""]
        for piece in pieces:
            line = {
                "model": final["model"],
                "created_at": _now(),
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            self._write_chunk(json.dumps(line, ensure_ascii=False) + "\n")
        last = dict(final, message={"role": "assistant", "content": ""})
        self._write_chunk(json.dumps(last, ensure_ascii=False) + "\n")
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: str) -> None:
        raw = data.encode("utf-8")
        self.wfile.write(f"{len(raw):x}\r\n".encode("ascii") + raw + b"\r\n")


def _details() -> dict:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": "qwen2",
        "families": ["qwen2"],
        "parameter_size": "494M",
        "quantization_level": "Q4_K_M",
    }


def _model_entry(fake: FakeOllamaServer) -> dict:
    return {
        "name": fake.model,
        "model": fake.model,
        "modified_at": _now(),
        "size": 397821319,
        "digest": fake.digest,
        "details": _details(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake Ollama server for tests (127.0.0.1 only).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", default="qwen2.5:0.5b")
    parser.add_argument("--delay", type=float, default=0.0,
                        help="secondes d'attente avant chaque réponse (latence d'un GPU)")
    args = parser.parse_args(argv)
    server = FakeOllamaServer(model=args.model, delay=args.delay).start(port=args.port)
    print(server.url, flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
