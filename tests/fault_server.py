"""Runs the pipeline in forked children, each killed (SIGKILL) at a chosen event, for
tests/test_faults.py.

Started fresh by the test with one thread for OpenMP and numba's own work queue: a process
that has run GNU OpenMP cannot fork safely, and pytest's process may have run it (UMAP,
scikit-learn) in another test. It loads everything once (the pseudonymiser, the clustering's
compiled code), then answers one request per line on stdin:

    FOLDER EXPORT POINT   ->   "status N" on stdout (the child's wait status)

The child runs every stage into FOLDER/s.duckdb with the fake LLM and embedder, and calls
an event before and after each call to the store (so inside its transactions too), and at
each call to the model and the embedder. POINT > 0: the child kills itself at that event;
0: it runs to the end; -1: it also writes every event to FOLDER/events.tsv.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from fakes import FakeEmbedder, FakeLLM

from synthese.cluster import cluster_vectors
from synthese.config import Settings
from synthese.pseudonymise import Pseudonymiser
from synthese.runner import close_run, execute, open_run, record, run_stages
from synthese.storage import Store


def instrumented_run(settings: Settings, pseudonymiser, on_event) -> None:
    stage = ["open"]

    def wrap(fn, name):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            on_event(stage[0], f"{name}:avant")
            result = fn(*args, **kwargs)
            on_event(stage[0], f"{name}:après")
            return result
        return wrapped

    for name, fn in list(vars(Store).items()):
        if callable(fn) and not name.startswith("__"):
            setattr(Store, name, wrap(fn, name))
    llm, embedder = FakeLLM(), FakeEmbedder()
    llm.chat = wrap(llm.chat, "modele")
    embedder.embed = wrap(embedder.embed, "vecteurs")

    def call(st, run, done):
        stage[0] = st.name
        return execute(st, run, done)

    run = open_run(settings, llm=llm, embedder=embedder, pseudonymiser=pseudonymiser,
                   log=lambda m: None, progress=False)
    try:
        done = run_stages(run, {}, call)
        stage[0] = "record"
        record(run, done, "completed")
    finally:
        close_run(run)


def child(folder: Path, export: Path, point: int, pseudonymiser) -> None:
    settings = Settings(export=export, questions=("q",), id_column="id",
                        db=folder / "s.duckdb", out=folder / "reports")
    events = (folder / "events.tsv").open("w", encoding="utf-8") if point == -1 else None
    count = iter(range(1, 10**9))

    def on_event(stage: str, what: str) -> None:
        if events is not None:
            events.write(f"{stage}\t{what}\n")
        if next(count) == point:
            os.kill(os.getpid(), signal.SIGKILL)

    instrumented_run(settings, pseudonymiser, on_event)
    if events is not None:
        events.close()


def main() -> None:
    pseudonymiser = Pseudonymiser()
    rng = np.random.default_rng(0)  # compile the clustering once, for every child
    vectors = rng.normal(size=(30, 16)).astype(np.float32)
    cluster_vectors(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), seed=42)
    print("ready", flush=True)
    for line in sys.stdin:
        folder, export, point = line.split("\t")
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                child(Path(folder), Path(export), int(point), pseudonymiser)
                code = 0
            except BaseException:  # noqa: BLE001 - reported by the exit status
                traceback.print_exc()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(f"status {status}", flush=True)


if __name__ == "__main__":
    main()
