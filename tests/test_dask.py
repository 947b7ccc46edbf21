"""The distributed path: the Prefect flow on a Dask cluster of 2 local worker processes, with
2 fake Ollama servers (tests/fake_ollama.py, the real HTTP protocol on 127.0.0.1), one of
which fails every generation. A real Prefect server (temporary, as the CLI starts it), real
Dask workers, a real DuckDB file; the embedder is the real default one.

Its extractions must equal those of the sequential path (one server, no mapping), the
failing server's batches must go to the other, and the batches must have run in the
workers, not in the flow's process.
"""

from __future__ import annotations

import logging
import os
import re
import socket

import pytest
from fake_ollama import FakeOllamaServer
from test_distribute import ANSWERS, ASKED, extract_only, settings_for, stored, write_export

from synthese.baseline import respond

pytestmark = pytest.mark.slow


def test_the_dask_path_equals_the_sequential_one_and_a_failing_server_is_left(tmp_path,
                                                                              caplog):
    from flows.consultation import consultation
    from synthese.runtime import prefect_api

    export = write_export(tmp_path / "e.csv")
    ref, good, bad = (FakeOllamaServer(responder=respond, model="fake").start() for _ in range(3))
    bad.fail_next = 10_000  # every generation answers HTTP 500; it still lists its model
    try:
        extract_only(settings_for(tmp_path, export, [ref.url], name="sequential"))
        with prefect_api(None), caplog.at_level(logging.INFO):
            result = consultation(
                export=str(export), question=["q"], id_column="id", db=str(tmp_path / "d.duckdb"),
                out=str(tmp_path / "out"), llm="ollama", model="fake",
                llm_hosts=[bad.url, good.url], batch_size=2, task_runner="dask", dask_workers=2,
                pseudonymise=False, progress=False)
    finally:
        for server in (ref, good, bad):
            server.stop()
    assert result["counts"]["processed"] == len(ANSWERS) and result["counts"]["failed"] == 0
    assert stored(tmp_path / "d.duckdb") == stored(tmp_path / "sequential.duckdb")
    extraction = [c for c in good.calls if "arguments" in str(c.get("format"))]
    assert len(extraction) == len(ref.calls)  # every answer was extracted by `good`
    messages = [r.getMessage() for r in caplog.records]
    # one line, by the extraction (the later stages' pool knows it is out of rotation);
    # counted by text: after other tests, Prefect's handlers may hand caplog a record twice
    assert len({m for m in messages if m.startswith(f"Serveur de modèle {bad.url} retiré")}) == 1
    line = next(m for m in messages if m.startswith("Extraction répartie : 14 réponses traitées"))
    workers = re.findall(rf"{re.escape(socket.gethostname())}:(\d+)", line)
    assert workers and str(os.getpid()) not in workers, line  # in the Dask workers


def _dask_workers() -> list:
    """The worker processes of the local Dask cluster: this process's children started by
    multiprocessing's spawn (the Prefect server and the resource tracker are not)."""
    import psutil

    return [p for p in psutil.Process().children()
            if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in
            " ".join(p.cmdline())]


def test_a_killed_dask_worker_has_its_batch_redone(tmp_path):
    """A worker killed (SIGKILL) in the middle of a batch: Dask runs the batch again on a
    worker, and the run ends with every answer extracted, as on the sequential path."""
    import signal
    import threading
    import time

    from flows.consultation import consultation
    from synthese.runtime import prefect_api

    export = write_export(tmp_path / "e.csv")
    ref = FakeOllamaServer(responder=respond, model="fake").start()
    a, b = (FakeOllamaServer(responder=respond, model="fake", delay=0.4).start()
            for _ in range(2))
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 240
        while len(a.calls) + len(b.calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _dask_workers()
        if workers:
            killed.append(workers[0].pid)
            os.kill(workers[0].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    try:
        extract_only(settings_for(tmp_path, export, [ref.url], name="sequential"))
        with prefect_api(None):
            killer.start()
            result = consultation(
                export=str(export), question=["q"], id_column="id", db=str(tmp_path / "d.duckdb"),
                out=str(tmp_path / "out"), llm="ollama", model="fake", llm_hosts=[a.url, b.url],
                batch_size=3, task_runner="dask", dask_workers=2, pseudonymise=False,
                progress=False)
        killer.join(timeout=10)
    finally:
        for server in (ref, a, b):
            server.stop()
    assert killed, "no Dask worker process was found to kill"
    # the killed worker was in the middle of a batch: the calls it had made were made again
    extraction = [c for s in (a, b) for c in s.calls if "arguments" in str(c.get("format"))]
    assert len(extraction) > ASKED
    assert result["counts"]["processed"] == len(ANSWERS) and result["counts"]["failed"] == 0
    assert stored(tmp_path / "d.duckdb") == stored(tmp_path / "sequential.duckdb")


def test_the_cli_takes_several_llm_hosts_and_maps_the_extraction_on_prefect_threads(tmp_path):
    """``synthese run --llm-host A --llm-host B``: the default (local) task runner, the
    extraction spread over both servers, the report written."""
    import subprocess
    import sys

    export = write_export(tmp_path / "e.csv")
    a, b = (FakeOllamaServer(responder=respond, model="fake").start() for _ in range(2))
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "synthese.cli", "run", str(export), "--question", "q",
             "--id-column", "id", "--llm", "ollama", "--model", "fake", "--llm-host", a.url,
             "--llm-host", b.url, "--batch-size", "3", "--no-pseudonymise",
             "--db", str(tmp_path / "s.duckdb"), "--out", str(tmp_path / "out")],
            capture_output=True, text=True, env=env, timeout=600, check=False)
    finally:
        a.stop()
        b.stop()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "Réponses : 14 — traitées 14, sans réponse 0, en échec 0." in lines
    assert any(line.startswith("Extraction répartie : 14 réponses en lots de 3 sur 2 serveur(s)")
               for line in lines), lines
    extraction = [c for s in (a, b) for c in s.calls if "arguments" in str(c.get("format"))]
    assert len(extraction) == ASKED
    assert all(any("arguments" in str(c.get("format")) for c in s.calls) for s in (a, b))
