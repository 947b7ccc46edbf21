"""How fast does ``synthese run`` stop on SIGTERM or Ctrl-C inside the embedded model? (issue 16)

Each signal, ``--repeat`` times: a fresh run on the first 16 demo answers with the embedded
0.5B model; once two answers are extracted (they need no model), the signal is sent
``--delay`` seconds later (3 s: inside the third answer's streamed generation); then the
seconds until the process has exited, its exit code (a negative one is the signal that
killed it, such as -11 for a crash), its stderr lines, whether llama.cpp's callback
swallowed the signal (« Exception ignored » in the log), and the processes it left:

    flock /tmp/synthese-cpu.lock .venv/bin/python benchmarks/stop_latency.py [--repeat 3] \
        [--delay 3]

A run still alive 120 s after the signal is killed and reported as not stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "src")]

from test_runtime import Cli, children, demo_part, wait_gone


def once(signum: int, delay: float) -> tuple[str, int | None, int, bool, int]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        cli = Cli(tmp, demo_part(tmp, 16), "--question", "q_usage_ia", "--id-column",
                  "id_reponse", "--threads", "2")
        server = cli.server()
        cli.wait_for("Extraction : 2/", 600)
        time.sleep(delay)
        sent = time.monotonic()
        cli.process.send_signal(signum)
        try:
            cli.process.wait(timeout=120)
            seconds = f"{time.monotonic() - sent:.1f}"
        except subprocess.TimeoutExpired:
            cli.process.kill()
            cli.process.wait()
            seconds = "not stopped in 120"
        stderr = cli.process.stderr.read()
        logs = list((tmp / "logs").glob("*.log"))
        swallowed = any("Exception ignored" in p.read_text("utf-8", "replace") for p in logs)
        left = len(wait_gone([server], 10)) + len(children(cli.process.pid))
        return seconds, cli.process.returncode, len(stderr.splitlines()), swallowed, left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--delay", type=float, default=3.0)
    args = parser.parse_args()
    print(f"Load average at start: {os.getloadavg()[0]:.1f} (2 cores); signal "
          f"{args.delay:g} s after « Extraction : 2/ ».\n")
    print("| signal | seconds to exit | exit code | stderr lines | swallowed | processes left |")
    print("|---|---:|---:|---:|---|---:|")
    for signum in (signal.SIGTERM, signal.SIGINT):
        for _ in range(args.repeat):
            seconds, rc, lines, swallowed, left = once(signum, args.delay)
            print(f"| {signal.Signals(signum).name} | {seconds} | {rc} | {lines} | "
                  f"{'yes' if swallowed else 'no'} | {left} |", flush=True)


if __name__ == "__main__":
    main()
