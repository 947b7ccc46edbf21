"""The embedded model on a busy machine (issue 17, item 1; results in docs/benchmarks.md).

An inspector's laptop is never idle. With llama.cpp's default busy-waiting, its threads spin
while waiting for each other, and one of them waits for a thread that another process has
pushed off its core: the demo ran 4x slower with one competing process on 2 cores. This
measures the extraction of the same demo answers (seconds per answer, after one warm-up
answer) for each thread count and polling level, on a quiet machine and with one CPU-bound
competing process (a Python busy loop).

    .venv/bin/python benchmarks/llm_busy.py [--answers 8] [--threads 2,1,auto] [--poll 50,0]

``auto`` is the default of synthese: as many threads as cores no other process is using when
the model loads (synthese.llm.free_cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "raw" / "demo_enseignants_ia.csv"
QUESTION = ("Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements "
            "scolaires ?")


def _answers(n: int) -> list[str]:
    frame = pd.read_csv(DEMO, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return [t for t in frame["q_usage_ia"] if len(t) > 80][: n + 1]


def measure(threads: int | None, poll: int, busy: bool, answers: list[str],
            model: str | None) -> dict:
    from synthese.extract import PROMPT, extract_answer
    from synthese.llm import LlamaCppLLM
    from synthese.prompts import load_prompt

    prompt = load_prompt(*PROMPT)
    auto = threads is None
    competitor = (subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy
                  else None)
    time.sleep(1.0)  # the competitor running, as on a busy laptop before the run starts
    try:
        llm = LlamaCppLLM(model, threads=threads, poll=poll) if model else LlamaCppLLM(
            threads=threads, poll=poll)
        try:
            extract_answer("warm", answers[0], QUESTION, llm, prompt)
            started, cpu = time.perf_counter(), time.process_time()
            calls = 0
            for i, text in enumerate(answers[1:]):
                calls += extract_answer(f"a{i}", text, QUESTION, llm, prompt).n_calls
            wall = time.perf_counter() - started
            used = time.process_time() - cpu
            threads = llm.threads
        finally:
            llm.close()
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    n = len(answers) - 1
    return {"threads": threads, "auto": auto, "poll": poll, "busy": busy, "answers": n, "calls": calls,
            "s_per_answer": round(wall / n, 2), "cpu_s_per_answer": round(used / n, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=8)
    parser.add_argument("--threads", default="2,1")
    parser.add_argument("--poll", default="50,0")
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "out" / "llm_busy.json")
    args = parser.parse_args()
    answers = _answers(args.answers)
    rows = []
    print(f"cores: {os.cpu_count()}, load before: {os.getloadavg()[0]:.2f}", flush=True)
    for threads in [None if t == "auto" else int(t) for t in args.threads.split(",")]:
        for poll in [int(p) for p in args.poll.split(",")]:
            for busy in (False, True):
                row = measure(threads, poll, busy, answers, args.model)
                rows.append(row)
                print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1), "utf-8")
    def name(r: dict) -> str:
        return f"auto ({r['threads']} quiet)" if r["auto"] and not r["busy"] else (
            f"auto ({r['threads']} busy)" if r["auto"] else str(r["threads"]))

    quiet = {("auto" if r["auto"] else r["threads"], r["poll"]): r["s_per_answer"]
             for r in rows if not r["busy"]}
    best_quiet = min(quiet.values())
    print("\n| threads | poll | quiet s/answer | busy s/answer | busy: throughput kept vs the "
          "best quiet | quiet: loss vs the best quiet |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if r["busy"]:
            q = quiet[("auto" if r["auto"] else r["threads"], r["poll"])]
            print(f"| {name(r)} | {r['poll']} | {q} | {r['s_per_answer']} | "
                  f"{100 * best_quiet / r['s_per_answer']:.0f} % | {100 * (q / best_quiet - 1):.0f} % |")


if __name__ == "__main__":
    main()
