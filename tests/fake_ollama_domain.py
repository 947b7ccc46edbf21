"""The fake Ollama server with the domain-aware fake model, as a script.

Starts ``FakeOllamaServer`` (tests/fake_ollama.py, Ollama's real HTTP protocol) with
``synthese.baseline.respond`` as its model, on 127.0.0.1 only, prints its URL on stdout and
serves until SIGTERM or SIGINT. Used by the deployment test and by hand:

    .venv/bin/python tests/fake_ollama_domain.py --port 11434 --model fake --log calls.jsonl

``--log`` appends one JSON line per chat call (``{"kind": "extraction"|"summary"|
"synthesis"|"other"}``) so that another process can count the model calls; ``--delay``
slows every answer down (to kill a worker in the middle of a run).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_ollama import FakeOllamaServer

from synthese.baseline import respond


def call_kind(schema: object) -> str:
    """What a chat call is for, judged from the JSON schema the pipeline asked for."""
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    if "arguments" in props:
        return "extraction"
    if "titre" in props:
        return "summary"
    if "opportunites" in props:
        return "synthesis"
    return "other"


def make_responder(log: Path | None, delay: float):
    """``respond`` wrapped to log each call and wait ``delay`` seconds."""
    lock = threading.Lock()

    def responder(messages: list[dict], schema: dict | None) -> str:
        if delay:
            time.sleep(delay)
        text = respond(messages, schema)
        if log is not None:
            with lock, log.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"kind": call_kind(schema), "at": time.time()}) + "\n")
        return text

    return responder


def read_call_log(log: Path) -> list[str]:
    """The kinds of the calls logged so far, in order."""
    if not log.exists():
        return []
    return [json.loads(line)["kind"] for line in log.read_text("utf-8").splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Faux serveur Ollama (127.0.0.1 uniquement) avec le modèle factice de synthese."
    )
    parser.add_argument("--port", type=int, default=0, help="port (0 : un port libre)")
    parser.add_argument("--model", default="fake", help="nom du modèle servi")
    parser.add_argument("--log", type=Path, default=None, help="journal JSONL des appels")
    parser.add_argument("--delay", type=float, default=0.0, help="secondes d'attente par appel")
    args = parser.parse_args(argv)
    server = FakeOllamaServer(responder=make_responder(args.log, args.delay), model=args.model)
    server.start(port=args.port)
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
