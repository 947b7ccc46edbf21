"""How ``synthese run`` runs the flow: its log file, its temporary Prefect server, its signals.

- Everything Prefect, llama.cpp or a library writes on stderr (logs, tracebacks, warnings)
  goes to a log file; the terminal gets the run's own lines on stdout and, on an error, one
  French line on stderr (cli.py).
- The temporary Prefect server is a child process that dies with this one, even on SIGKILL
  (Linux's parent-death signal), instead of Prefect's own temporary server, which survives
  as an orphan listening on a loopback port when its parent is killed.
- SIGTERM and SIGHUP stop a run like Ctrl-C (``Interrupted``); inside the flow, Prefect's
  own SIGTERM handler raises its ``TerminationSignal`` instead, which the CLI treats alike.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from synthese.errors import SyntheseError

_PR_SET_PDEATHSIG = 1


class Interrupted(KeyboardInterrupt):
    """The run was asked to stop by a signal (SIGINT, SIGTERM, SIGHUP)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def log_path(db: Path) -> Path:
    """Where a run's log goes: ``logs/`` beside the database, one file per run."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(db).absolute().parent / "logs" / f"synthese-{stamp}-{os.getpid()}.log"


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send this process's stderr (file descriptor 2, so C libraries too) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Interrupted`` in the main thread, like Ctrl-C."""

    def handler(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# The server's process asks Linux to kill it when its parent dies (PR_SET_PDEATHSIG), checks
# that the parent did not die before that, then runs uvicorn. Done in the child's own code,
# not in a preexec_fn, which is unsafe in a process with threads.
_DIE_WITH_PARENT = f"""
import ctypes, os, runpy, signal, sys
ctypes.CDLL(None).prctl({_PR_SET_PDEATHSIG}, signal.SIGKILL)
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
sys.argv = ["uvicorn", *sys.argv[2:]]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def prefect_api(log: Path | None) -> Iterator[str | None]:
    """The Prefect API the flow reports to: ``PREFECT_API_URL`` if set, otherwise a temporary
    server on 127.0.0.1 started here (about 10 s), stopped on exit, killed with this process.

    Yields the API URL (None when an existing server is used)."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    if PREFECT_API_URL.value():
        yield None
        return
    import prefect

    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"))
    env = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
           "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
           "PREFECT__SERVER_FINAL": "1"}
    output = log.open("ab") if log is not None else subprocess.DEVNULL
    process = None
    try:
        deadline = time.monotonic() + timeout
        while process is None:
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), "--app-dir", str(prefect.__module_path__.parent),
                 "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "error", "--lifespan", "on"],
                env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                start_new_session=True)  # Ctrl-C at a terminal is for the run, not the server
            url = f"http://127.0.0.1:{port}/api"
            while not _healthy(url):
                if process.poll() is not None:  # the port was taken meanwhile: another one
                    if time.monotonic() > deadline:
                        raise SyntheseError(
                            "Le serveur Prefect temporaire n'a pas pu démarrer : voir le journal.")
                    process = None
                    break
                if time.monotonic() > deadline:
                    raise SyntheseError(
                        f"Le serveur Prefect temporaire n'a pas démarré en {timeout:g} s : "
                        "machine trop chargée ? Relancez, ou démarrez un serveur "
                        "(scripts/prefect_up.sh) et exportez PREFECT_API_URL.")
                time.sleep(0.1)
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        _drain_prefect_workers()
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log is not None:
            output.close()


def _drain_prefect_workers() -> None:
    """Send the logs and events Prefect still holds before its server stops (else, at exit,
    its workers print « Error logging to API » on the terminal)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=5)


def console(verbose: bool) -> None:
    """Show the run's own lines (synthese.progress.CONSOLE) on stdout, unless ``verbose``
    (Prefect's console logs show them then)."""
    from synthese.progress import CONSOLE

    if not verbose and not any(isinstance(h, logging.StreamHandler) for h in CONSOLE.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        CONSOLE.addHandler(handler)
        CONSOLE.setLevel(logging.INFO)
