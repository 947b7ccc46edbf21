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
from test_distribute import ANSWERS, extract_only, settings_for, stored, write_export

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
    assert any(m.startswith(f"Serveur de modèle {bad.url} retiré après") for m in messages)
    line = next(m for m in messages if m.startswith("Extraction répartie : 14 réponses traitées"))
    workers = re.findall(rf"{re.escape(socket.gethostname())}:(\d+)", line)
    assert workers and str(os.getpid()) not in workers, line  # in the Dask workers
