"""Faults injected, nothing lost (issue 16, item 5).

A run is killed (SIGKILL: no chance to clean up) at points spread over every stage: before
and after each call to the store (so inside its transactions too), to the model and to the
embedder. After each kill a new run completes, and the database must hold what an
uninterrupted run holds: no row twice, no answer lost, the same marts and the same report.
The runs are forked children of tests/fault_server.py, which loads everything once, so a
kill point costs about two seconds. The fake LLM and embedder stand in for the models;
DuckDB, the pseudonymiser, the clustering and the report are the real ones.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from fakes import FakeEmbedder, FakeLLM
from marts_digest import marts_digest, report_digest

from synthese.config import Settings
from synthese.errors import SyntheseError
from synthese.runner import run_all
from synthese.storage import Store

SEED = 16  # the kill points are drawn with this seed, so that a failure can be replayed
PER_STAGE = 4  # kill points drawn in each stage, its first and last event included
STAGES = ("open", "ingest", "pseudonymise", "campaigns", "extract", "embed", "cluster",
          "summarise", "synthesise", "publish", "record")
# Tables whose rows are what a run found (the runs themselves are recorded once per run).
TABLES = ("raw.imports", "raw.respondents", "raw.answers", "raw.pseudonym_map",
          "staging.respondents", "staging.answers", "core.llm_calls", "core.extractions",
          "core.arguments", "core.embeddings", "core.clusterings", "core.assignments",
          "core.clusters", "core.parent_themes", "core.summaries", "core.summary_sentences",
          "core.syntheses", "core.synthesis_sentences", "core.campaigns")


@pytest.fixture(scope="module")
def pseudonymiser():
    from synthese.pseudonymise import Pseudonymiser

    return Pseudonymiser()


def settings_for(tmp: Path, export: Path) -> Settings:
    return Settings(export=export, questions=("q",), id_column="id", db=tmp / "s.duckdb",
                    out=tmp / "reports")


class FaultServer:
    """tests/fault_server.py: runs the pipeline in forked children killed at an event."""

    def __init__(self) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_THREADING_LAYER": "workqueue",
               "NUMBA_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fault_server.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout.readline().strip() == "ready"

    def run(self, folder: Path, export: Path, point: int) -> int:
        folder.mkdir(exist_ok=True)
        self.process.stdin.write(f"{folder}\t{export}\t{point}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer.startswith("status "), answer
        return int(answer.split()[1])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def faults():
    server = FaultServer()
    yield server
    server.close()


# Right after one of these, a write is done and the next one of the same transaction (or
# of the same stage) is not: every such point is tried.
WRITES = ("insert_frame:après", "put_llm_call:après")


def kill_points(events: list[tuple[str, str]]) -> list[int]:
    """Every point right after a write, and PER_STAGE event numbers drawn in each stage,
    its first and last included."""
    rng = random.Random(SEED)
    by_stage: dict[str, list[int]] = {}
    for number, (stage, _) in enumerate(events, start=1):
        by_stage.setdefault(stage, []).append(number)
    points = {n for n, (_, what) in enumerate(events, start=1) if what in WRITES}
    for numbers in by_stage.values():
        middle = numbers[1:-1]
        points |= {numbers[0], numbers[-1], *rng.sample(middle, min(PER_STAGE - 2, len(middle)))}
    return sorted(points)


# What a run did, not what it found: a run after a kill imports, calls and computes less.
RUN_ONLY = {"new_answers", "new_respondents"}


def state_of(db: Path) -> tuple[dict[str, int], dict, str]:
    """Rows per table; the marts of the latest completed run, with what its run row says it
    found (counts, trust); and its report's digest."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        run_id, report, counts, trust = con.execute(
            "SELECT run_id, report_path, counts, trust FROM core.runs WHERE status = "
            "'completed' ORDER BY finished_at DESC, run_id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    marts = marts_digest(db, run_id)
    marts["runs"] = {"counts": {k: v for k, v in json.loads(counts).items() if k not in RUN_ONLY},
                     "trust": json.loads(trust)}
    return rows, marts, report_digest(Path(report).read_text("utf-8"))


def test_a_run_killed_anywhere_is_completed_by_the_next_one_with_nothing_lost_or_doubled(
        tmp_path, small_export, faults):
    assert faults.run(tmp_path / "reference", small_export, -1) == 0
    expected = state_of(tmp_path / "reference" / "s.duckdb")
    events = [tuple(line.split("\t")) for line in
              (tmp_path / "reference" / "events.tsv").read_text("utf-8").splitlines()]
    points = kill_points(events)
    stages = Counter(events[p - 1][0] for p in points)
    assert len(points) >= 30 and set(stages) == set(STAGES), stages

    failures = []
    for point in points:
        folder = tmp_path / f"kill-{point}"
        status = faults.run(folder, small_export, point)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (point, status)
        assert faults.run(folder, small_export, 0) == 0, point  # the next run completes
        got = state_of(folder / "s.duckdb")
        if got != expected:
            differs = [k for k in got[0] if got[0][k] != expected[0][k]]
            differs += [v for v in got[1] if got[1][v] != expected[1].get(v)]
            failures.append((point, events[point - 1], differs or ["report"]))
    assert not failures, failures


# --- the model, the disk and the database misbehave ---------------------------------------


class CrashingLLM(FakeLLM):
    """A model whose process dies in the middle of the n-th call (not an LLMError)."""

    def __init__(self, crash_at: int):
        super().__init__()
        self.crash_at = crash_at

    def chat(self, messages, **kwargs):
        if len(self.calls) + 1 == self.crash_at:
            self.calls.append({"messages": messages})
            raise ConnectionResetError(104, "Connection reset by peer")
        return super().chat(messages, **kwargs)


@pytest.mark.parametrize("fault", ["invalid-json", "timeout", "crash"])
def test_a_model_that_misbehaves_loses_no_answer_and_the_next_run_completes(
        tmp_path, small_export, pseudonymiser, fault):
    llm = {"invalid-json": FakeLLM(broken=3), "timeout": FakeLLM(fail=3),
           "crash": CrashingLLM(crash_at=3)}[fault]
    settings = settings_for(tmp_path, small_export)
    first = run_all(settings, llm=llm, embedder=FakeEmbedder(), pseudonymiser=pseudonymiser,
                    log=lambda m: None, progress=False)
    counts = first["counts"]
    # every answer is processed, blank or failed, and counted: none is dropped
    assert counts["processed"] + counts["failed"] + counts["blank"] == counts["answers"] == 10
    assert counts["failed"] >= 1
    with Store(settings.db, read_only=True) as store:
        reasons = list(store.query("SELECT reason FROM core.extractions WHERE status = 'failed'")
                       ["reason"])
    assert len(reasons) == counts["failed"] and all(reasons)  # each failure says why
    again = run_all(settings, llm=FakeLLM(), embedder=FakeEmbedder(),
                    pseudonymiser=pseudonymiser, log=lambda m: None, progress=False)
    if fault == "invalid-json":
        # the model's answer was stored (every call is); the same call gives it back, and
        # the answer stays counted as failed, to be read by a person (noted in
        # docs/robustness.md)
        assert again["counts"]["failed"] == counts["failed"]
    else:  # nothing was stored for a call that did not answer: it is made again
        assert again["counts"]["failed"] == 0 and again["counts"]["processed"] == 8
        assert again["tokens"]["made"] >= counts["failed"]


def test_a_full_disk_while_writing_the_report_keeps_the_previous_report_and_the_data(
        tmp_path, small_export, pseudonymiser, monkeypatch):
    settings = settings_for(tmp_path, small_export)
    first = run_all(settings, llm=FakeLLM(), embedder=FakeEmbedder(),
                    pseudonymiser=pseudonymiser, log=lambda m: None, progress=False)
    report = Path(first["report_path"])
    before = report.read_bytes()
    files = sorted(p.name for p in report.parent.iterdir())  # the report and its documents
    written = Path.write_text

    def full(self, data, *args, **kwargs):  # half the report fits, then the disk is full
        written(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(SyntheseError) as info:
        run_all(settings_for(tmp_path, small_export), llm=FakeLLM(),
                embedder=FakeEmbedder(), pseudonymiser=pseudonymiser, log=lambda m: None,
                progress=False, )
    monkeypatch.undo()
    assert str(info.value).startswith(f"Disque plein : le rapport n'a pas pu être écrit dans "
                                      f"« {report} »")
    assert report.read_bytes() == before  # never a truncated report
    assert sorted(p.name for p in report.parent.iterdir()) == files  # no partial file left
    with Store(settings.db, read_only=True) as store:
        assert [r for r in store.query("SELECT status FROM core.runs ORDER BY started_at")[
            "status"]] == ["completed", "failed"]
    llm = FakeLLM()
    again = run_all(settings, llm=llm, embedder=FakeEmbedder(), pseudonymiser=pseudonymiser,
                    log=lambda m: None, progress=False)
    assert again["status"] == "completed" and llm.calls == [] and report.exists()


def test_a_database_held_by_another_process_is_one_french_line_and_nothing_is_written(
        tmp_path, small_export):
    import subprocess
    import sys

    settings = settings_for(tmp_path, small_export)
    Store(settings.db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                                "print('ok', flush=True); sys.stdin.read()"), str(settings.db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(SyntheseError) as info:
            run_all(settings, llm=FakeLLM(), embedder=FakeEmbedder(), log=lambda m: None,
                    progress=False)
    finally:
        holder.communicate("", timeout=30)
    assert str(info.value).startswith(f"Base {settings.db} ouverte par un autre programme")
    with Store(settings.db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM raw.answers") == 0
