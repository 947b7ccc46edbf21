"""No network but loopback (issue 16): the whole pipeline, as ``synthese run`` runs it with the
embedded model, under a socket guard in every Python process (tests/netguard), and inside a
network namespace that has only loopback where this machine allows one (``unshare -n``), so
that a connection from C code (llama.cpp, DuckDB) fails too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_runtime import demo_part

pytestmark = [pytest.mark.slow, pytest.mark.realmodel]
GUARD = Path(__file__).with_name("netguard")


def _namespace() -> list[str]:
    """A command prefix running in a new network namespace with loopback up, if allowed."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return []
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"],
                           capture_output=True, check=False)
    if probe.returncode != 0:
        return []
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def test_the_guard_refuses_and_reports_a_connection_elsewhere(tmp_path):
    log = tmp_path / "guard.log"
    env = {**os.environ, "PYTHONPATH": str(GUARD), "SYNTHESE_NET_GUARD_LOG": str(log)}
    done = subprocess.run(
        [sys.executable, "-c", "import socket; socket.create_connection(('192.0.2.1', 80), 1)"],
        env=env, capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "192.0.2.1" in log.read_text("utf-8")


def test_the_whole_pipeline_talks_to_nothing_but_this_machine(tmp_path):
    log = tmp_path / "guard.log"
    env = {**os.environ, "PYTHONPATH": str(GUARD), "SYNTHESE_NET_GUARD_LOG": str(log),
           "PREFECT_HOME": str(tmp_path / "prefect")}
    for name in ("PREFECT_API_URL", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env.pop(name, None)  # as a user runs it: the project itself must keep models offline
    done = subprocess.run(
        [*_namespace(), sys.executable, "-m", "synthese.cli", "run", str(demo_part(tmp_path, 4)),
         "--question", "q_usage_ia", "--id-column", "id_reponse", "--threads", "2",
         "--db", str(tmp_path / "s.duckdb"), "--out", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("Rapport : ") for line in done.stdout.splitlines())
    assert not log.exists(), log.read_text("utf-8")
    guarded = Path(f"{log}.processes").read_text("utf-8")
    assert "-m run " in guarded and "prefect.server.api.server:create_app" in guarded
