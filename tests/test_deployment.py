"""The inspector's routine through a real Prefect server, worker and deployment.

scripts/prefect_up.sh starts a Prefect server on 127.0.0.1 (its own PREFECT_HOME in a temp
dir), the process work pool, the ``synthese-llm`` concurrency limit, the deployments of
prefect.yaml and a worker; the model is the fake Ollama server (tests/fake_ollama_domain.py,
real HTTP protocol); the embedder and the pseudonymiser are the real ones. Runs are started
with the same ``prefect deployment run ... --watch`` command the docs give to inspectors.
The inbox helpers are also tested alone, without a server (fast).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from flows.inbox import failure_status, find_exports, should_process
from synthese.errors import SyntheseError
from synthese.llm import LLMError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_ollama_domain import read_call_log

VENV = Path(sys.executable).parent.parent
PREFECT = VENV / "bin" / "prefect"
# Every answer has two sentences, so that each costs one extraction call (an answer of one
# short sentence costs none: tests/test_extract.py).
ANSWERS = [
    "L'IA aide à préparer les cours. Elle fait gagner du temps aux enseignants.",
    "Les élèves trichent avec ChatGPT. Il faut interdire son usage en classe.",
    "Il faut former les enseignants avant tout. Sans formation, pas de bon usage.",
    "L'IA fait gagner du temps pour préparer les cours et corriger les copies.",
    "Les élèves risquent de perdre leur esprit critique. L'IA pense à leur place.",
    "Former les enseignants est indispensable. La formation doit être concrète et pratique.",
    "La triche avec ChatGPT est massive. Les devoirs maison n'ont plus de sens.",
    "L'esprit critique des élèves est menacé. L'IA générative pense à leur place au lycée.",
    "L'IA permet de différencier les exercices. Les élèves en difficulté en profitent.",
    "Les données des élèves doivent être protégées. Les outils américains posent problème.",
    "Une formation continue sur l'IA serait utile. Tous les professeurs en ont besoin.",
    "Les outils d'IA aident les élèves dys à rédiger. C'est un vrai progrès.",
    "Le ministère doit fournir des outils souverains. Ils doivent respecter les données.",
    "ChatGPT rédige les rédactions à la place des élèves. Il faut revoir l'évaluation.",
]


def write_export(path: Path, n: int) -> Path:
    lines = ["id;academie;q"] + [f"R{i + 1:02d};Lyon;{a}" for i, a in enumerate(ANSWERS[:n])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the inbox helpers, without a server ---------------------------------------------------
def test_inbox_lists_exports_oldest_first_and_leaves_partial_or_lock_files(tmp_path: Path):
    old, new = tmp_path / "b.csv", tmp_path / "a.XLSX"
    for p in (old, new, tmp_path / "~$a.xlsx", tmp_path / ".~lock.b.csv#", tmp_path / "n.txt"):
        p.write_text("x")
    os.utime(old, (1000, 1000))
    os.utime(new, (2000, 2000))
    assert find_exports(tmp_path, now=3000) == [old, new]
    assert find_exports(tmp_path, min_age_seconds=1500, now=3000) == [old]


def test_inbox_missing_folder_is_a_french_error(tmp_path: Path):
    with pytest.raises(SyntheseError, match="Dossier de dépôt introuvable"):
        find_exports(tmp_path / "absent")


def test_inbox_runs_new_files_and_retries_only_transient_failures():
    assert should_process(None, 3, False)
    assert not should_process({"status": "completed", "attempts": 1}, 3, True)
    assert should_process({"status": "failed", "attempts": 2}, 3, False)
    assert not should_process({"status": "failed", "attempts": 3}, 3, False)
    assert not should_process({"status": "rejected", "attempts": 1}, 3, False)
    assert should_process({"status": "rejected", "attempts": 1}, 3, True)


def test_inbox_rejects_user_errors_at_once_and_model_errors_after_max_attempts():
    assert failure_status(SyntheseError("Colonne absente"), 1, 3) == "rejected"
    assert failure_status(LLMError("Serveur injoignable"), 1, 3) == "failed"
    assert failure_status(LLMError("Serveur injoignable"), 3, 3) == "rejected"
    assert failure_status(None, 1, 3) == "failed"


# -- the real server ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_group(pid: int) -> None:
    """Stop a process started with start_new_session (it leads its own group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


class Stack:
    """What prefect_up.sh started, plus the fake Ollama server and helpers to use them."""

    def __init__(self, home: Path, port: int, env: dict[str, str], fake_url: str, log: Path):
        self.home, self.port, self.env, self.fake_url, self.log = home, port, env, fake_url, log
        self.api = f"http://127.0.0.1:{port}/api"

    def prefect(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(PREFECT), *args], check=False, env=self.env, cwd=REPO, text=True,
                              capture_output=True, timeout=timeout)

    def run_deployment(self, name: str, params: dict) -> tuple[int, str, str]:
        """``prefect deployment run NAME -p k=v ... --watch``: (exit code, flow run id, output)."""
        args = ["deployment", "run", name, "--watch", "--watch-timeout", "280"]
        for key, value in params.items():
            args += ["-p", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
        done = self.prefect(*args)
        out = done.stdout + done.stderr
        match = re.search(r"UUID: ([0-9a-f-]{36})", out)
        assert match, out
        return done.returncode, match.group(1), out

    def model_params(self, db: Path, out: Path) -> dict:
        return {"llm": "ollama", "llm_host": self.fake_url, "model": "fake", "id_column": "id",
                "db": str(db), "out": str(out)}

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.api + path, timeout=10) as r:
            return json.load(r)

    def post(self, path: str, body: dict) -> list | dict:
        req = urllib.request.Request(self.api + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def logs(self, flow_run_id: str) -> str:
        rows = self.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}},
                                          "limit": 200})
        return "\n".join(r["message"] for r in rows)

    def state(self, flow_run_id: str) -> dict:
        return self.get(f"/flow_runs/{flow_run_id}")["state"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    assert PREFECT.exists(), f"prefect introuvable dans {VENV}"
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = dict(os.environ, PREFECT_HOME=str(home), PORT=str(port), SYNTHESE_VENV=str(VENV),
               PREFECT_UI_ENABLED="false", PREFECT_SERVER_UI_ENABLED="false",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    env.pop("PREFECT_API_URL", None)
    log = home / "fake-calls.jsonl"
    fake = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "fake_ollama_domain.py"), "--model", "fake",
         "--log", str(log)],
        stdout=subprocess.PIPE, text=True, start_new_session=True, cwd=REPO)
    try:
        fake_url = fake.stdout.readline().strip()
        assert fake_url.startswith("http://127.0.0.1:"), fake_url
        up = subprocess.run([str(REPO / "scripts" / "prefect_up.sh")], check=False, env=env,
                            cwd=REPO, text=True, capture_output=True, timeout=240)
        assert up.returncode == 0, up.stdout + up.stderr + _tail(home / "server.log") + _tail(
            home / "deploy.log")
        assert "prefect deployment run 'synthese/consultation'" in up.stdout
        env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        yield Stack(home, port, env, fake_url, log)
    finally:
        subprocess.run([str(REPO / "scripts" / "prefect_down.sh")], check=False, env=env,
                       timeout=120, capture_output=True)
        for name in ("synthese-worker.pid", "synthese-server.pid"):  # if the script failed
            pid_file = home / name
            if pid_file.exists():
                _kill_group(int(pid_file.read_text()))
        _kill_group(fake.pid)
        fake.wait(timeout=10)


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


@pytest.fixture(scope="module")
def first_run(stack: Stack, tmp_path_factory):
    """The first synthesis of a 12-answer export, through the `synthese/consultation` deployment."""
    work = tmp_path_factory.mktemp("consultation")
    export = write_export(work / "export.csv", 12)
    db, out = work / "synthese.duckdb", work / "rapports"
    calls_before = len(read_call_log(stack.log))
    code, run_id, output = stack.run_deployment(
        "synthese/consultation",
        {"export": str(export), "question": ["q"]} | stack.model_params(db, out))
    assert code == 0, output + stack.logs(run_id)[-4000:]
    return {"work": work, "db": db, "out": out, "flow_run_id": run_id,
            "calls": read_call_log(stack.log)[calls_before:]}


@pytest.mark.slow
def test_deployment_run_fills_the_marts_the_report_the_documents_and_the_artifacts(stack: Stack, first_run):
    assert stack.state(first_run["flow_run_id"])["type"] == "COMPLETED"
    with duckdb.connect(str(first_run["db"]), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM marts.answers").fetchone()[0] == 12
        assert con.sql("SELECT count(*) FROM marts.arguments").fetchone()[0] >= 12
        assert con.sql("SELECT count(*) FROM marts.clusters").fetchone()[0] >= 1
        assert con.sql("SELECT count(*) FROM marts.synthesis").fetchone()[0] >= 1
        runs = con.sql("SELECT status, report_path FROM core.runs").fetchall()
    assert [status for status, _ in runs] == ["completed"]
    report = Path(runs[0][1])
    assert report.parent == first_run["out"] and report.exists()
    assert first_run["calls"].count("extraction") == 12
    artifacts = stack.post("/artifacts/filter", {
        "artifacts": {"flow_run_id": {"any_": [first_run["flow_run_id"]]}}})
    by_key = {a["key"]: a for a in artifacts}
    assert sorted(by_key) == ["synthese-bilan", "synthese-docx", "synthese-odt",
                              "synthese-rapport", "synthese-xlsx"]
    assert "| Réponses | 12 |" in by_key["synthese-bilan"]["data"]
    for fmt in ("docx", "odt", "xlsx"):  # the documents beside the report, linked in the UI
        document = report.with_suffix(f".{fmt}")
        assert document.exists() and by_key[f"synthese-{fmt}"]["type"] == "markdown"
        assert document.resolve().as_uri() in by_key[f"synthese-{fmt}"]["data"]
    limit = stack.get("/concurrency_limits/tag/synthese-llm")
    assert limit["concurrency_limit"] == 1


@pytest.mark.slow
def test_a_deployment_run_with_two_model_servers_on_dask_spreads_the_extraction(
    stack: Stack, tmp_path: Path
):
    """docs/scale.md: ``llm_hosts`` with two servers and ``task_runner=dask`` (a local cluster
    of 2 workers in the flow run's process), through ``prefect deployment run``."""
    log = tmp_path / "second-calls.jsonl"
    second = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "fake_ollama_domain.py"), "--model", "fake",
         "--log", str(log)],
        stdout=subprocess.PIPE, text=True, start_new_session=True, cwd=REPO)
    export = write_export(tmp_path / "export.csv", 14)
    db, out = tmp_path / "synthese.duckdb", tmp_path / "out"
    try:
        calls_before = len(read_call_log(stack.log))
        params = ({"export": str(export), "question": ["q"]} | stack.model_params(db, out)
                  | {"llm_host": None, "llm_hosts": [stack.fake_url, second.stdout.readline().strip()],
                     "batch_size": 2, "task_runner": "dask", "dask_workers": 2})
        code, run_id, output = stack.run_deployment("synthese/consultation", params)
        assert code == 0, output + stack.logs(run_id)[-4000:]
        first_calls = read_call_log(stack.log)[calls_before:].count("extraction")
        second_calls = read_call_log(log).count("extraction")
    finally:
        _kill_group(second.pid)
        second.wait(timeout=10)
    assert first_calls > 0 and second_calls > 0 and first_calls + second_calls == 14
    # the stages ran in the subflow that carries the DaskTaskRunner
    children = stack.post("/flow_runs/filter", {
        "flow_runs": {"parent_flow_run_id": {"any_": [run_id]}}})
    assert len(children) == 1 and children[0]["state"]["type"] == "COMPLETED"
    logs = stack.logs(children[0]["id"])
    assert "Extraction répartie : 14 réponses en lots de 2 sur 2 serveur(s)" in logs, logs[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM core.extractions WHERE status = 'processed'"
                       ).fetchone()[0] == 14


@pytest.mark.slow
def test_inbox_deployment_extracts_only_new_answers_and_rejects_a_bad_file(
    stack: Stack, first_run
):
    inbox = first_run["work"] / "inbox"
    inbox.mkdir()
    write_export(inbox / "export-semaine-2.csv", 14)  # the same 12 rows plus 2 new ones
    (inbox / "mauvais.csv").write_text("id;autre\nR1;x\n", encoding="utf-8")
    calls_before = len(read_call_log(stack.log))
    code, run_id, output = stack.run_deployment(
        "synthese-inbox/inbox",
        {"inbox_dir": str(inbox), "question": ["q"], "min_age_seconds": 0}
        | stack.model_params(first_run["db"], first_run["out"]))
    calls = read_call_log(stack.log)[calls_before:]
    assert code != 0, output  # one file was rejected, so the scan ends Failed
    state = stack.state(run_id)
    assert state["type"] == "FAILED"
    assert "Colonne « q » absente" in state["message"]
    assert calls.count("extraction") == 2
    with duckdb.connect(str(first_run["db"]), read_only=True) as con:
        files = dict(con.sql("SELECT file_name, status FROM core.inbox_files").fetchall())
        reason = con.sql("SELECT reason FROM core.inbox_files WHERE status = 'rejected'").fetchone()
        last = con.sql("SELECT counts, reused FROM core.runs WHERE status = 'completed' "
                       "ORDER BY started_at DESC LIMIT 1").fetchone()
    assert files == {"export-semaine-2.csv": "completed", "mauvais.csv": "rejected"}
    assert reason[0].startswith("Colonne « q » absente de ")
    assert json.loads(last[0])["new_answers"] == 2
    assert json.loads(last[1])["extraction_calls_made"] == 2


@pytest.mark.slow
def test_unknown_column_fails_the_run_with_the_french_message_in_its_logs(
    stack: Stack, tmp_path: Path
):
    export = write_export(tmp_path / "export.csv", 3)
    code, run_id, output = stack.run_deployment(
        "synthese/consultation",
        {"export": str(export), "question": ["inconnue"]}
        | stack.model_params(tmp_path / "s.duckdb", tmp_path / "out"))
    assert code != 0, output
    assert stack.state(run_id)["type"] == "FAILED"
    logs = stack.logs(run_id)
    expected = f"Erreur : Colonne « inconnue » absente de {export}"
    assert any(line.startswith(expected) for line in logs.splitlines()), logs[-3000:]


@pytest.mark.slow
def test_a_prefect_cancellation_stops_the_run_keeps_its_answers_and_the_next_run_resumes(
    stack: Stack, tmp_path: Path
):
    """Cancelling a flow run in Prefect (UI or ``prefect flow-run cancel``): the worker sends
    SIGTERM to the run's process, which stops, records the run as stopped and keeps every
    extraction it stored; a new run sends the model only the rest."""
    log = tmp_path / "slow-calls.jsonl"
    slow = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "fake_ollama_domain.py"), "--model", "fake",
         "--log", str(log), "--delay", "1.5"],
        stdout=subprocess.PIPE, text=True, start_new_session=True, cwd=REPO)
    export = write_export(tmp_path / "export.csv", 14)
    db, out = tmp_path / "synthese.duckdb", tmp_path / "out"
    try:
        params = ({"export": str(export), "question": ["q"]} | stack.model_params(db, out)
                  | {"llm_host": slow.stdout.readline().strip()})
        args = ["deployment", "run", "synthese/consultation"]
        for key, value in params.items():
            args += ["-p", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
        started = stack.prefect(*args)
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", started.stdout + started.stderr).group(1)
        deadline = time.monotonic() + 240
        while read_call_log(log).count("extraction") < 3:
            assert time.monotonic() < deadline, stack.logs(run_id)[-3000:]
            time.sleep(0.5)
        cancel = stack.prefect("flow-run", "cancel", run_id)
        assert cancel.returncode == 0, cancel.stdout + cancel.stderr
        deadline = time.monotonic() + 120
        while stack.state(run_id)["type"] != "CANCELLED":
            assert time.monotonic() < deadline, stack.state(run_id)
            time.sleep(0.5)
        deadline = time.monotonic() + 60
        while True:  # the run's process has let the database go
            try:
                con = duckdb.connect(str(db), read_only=True)
                break
            except duckdb.IOException:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        with con:
            kept = con.sql("SELECT count(*) FROM core.extractions").fetchone()[0]
            statuses = [r[0] for r in con.sql("SELECT status FROM core.runs").fetchall()]
            # A call is stored as soon as the model answers, its extraction after: a
            # cancellation between the two (one CI run of 7 December 2026) leaves a stored
            # call, which the next run reuses rather than asking the model again.
            paid = con.sql("SELECT count(*) FROM core.llm_calls "
                           "WHERE purpose = 'extraction'").fetchone()[0]
        assert kept >= 2 and statuses == ["stopped"] and kept <= paid <= kept + 1
        assert read_call_log(log).count("extraction") <= kept + 2  # it did not go on
    finally:
        _kill_group(slow.pid)
        slow.wait(timeout=10)
    calls_before = len(read_call_log(stack.log))
    code, resumed, output = stack.run_deployment(
        "synthese/consultation",
        {"export": str(export), "question": ["q"]} | stack.model_params(db, out))
    assert code == 0, output + stack.logs(resumed)[-3000:]
    assert read_call_log(stack.log)[calls_before:].count("extraction") == 14 - paid
