"""Scale-out: the extraction through the distributed path on 1, 2 and 4 model servers.

    flock /tmp/synthese-cpu.lock .venv/bin/python benchmarks/scale_out.py
    .venv/bin/python benchmarks/scale_out.py --answers 64 --latency 0.5 --batch-size 4

GPU servers are stood in for by fake Ollama servers (tests/fake_ollama.py: Ollama's real
HTTP protocol on 127.0.0.1) that hold every answer ``--latency`` seconds: the benchmark
measures the orchestration, not a model. The answers are one sentence each, so each is one
model call.

- The distributed path: a Prefect flow (a temporary Prefect server, as the CLI starts it)
  whose task runner is a local Dask cluster (prefect-dask: ``--dask-workers`` processes of
  ``--dask-threads`` threads), running the extraction stage with the flow's PrefectMapper
  (flows/consultation.py): one « extraire-lot » task per batch, the flow's process the one
  writer to DuckDB (distribute.map_extraction), one batch at a time per server.
- The sequential path on the same batches: the same stage, the same batches and writer, each
  batch run in this process after the other on one server (no Prefect, no Dask).

Only the extraction stage is timed (runner.execute's timing), from a fresh database each
time; the cluster's start is not in it, nor the workers' first imports (an untimed run on
all the servers comes first). Prints one line per server count:

    endpoints 2: 3.8 answers/s, 1.95x

(the ratio to one server through the same path), then the overhead of the distributed path
on one server against the sequential path.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

SUBJECTS = ["La formation des enseignants", "L'usage de l'IA en classe", "La protection des données",
            "L'évaluation des élèves", "Le temps de préparation", "L'esprit critique des élèves",
            "L'équipement des établissements", "La triche aux devoirs"]
VERBS = ["doit être renforcée", "pose de vraies questions", "mérite un cadre national",
         "progresse trop lentement", "inquiète les familles", "change le métier"]


def answers(n: int) -> list[str]:
    """``n`` distinct one-sentence answers."""
    return [f"{SUBJECTS[i % len(SUBJECTS)]} {VERBS[(i // len(SUBJECTS)) % len(VERBS)]} "
            f"selon le répondant {i + 1}." for i in range(n)]


def write_export(path: Path, n: int) -> Path:
    path.write_text("id;q\n" + "\n".join(f"R{i + 1:04d};{a}" for i, a in enumerate(answers(n)))
                    + "\n", encoding="utf-8")
    return path


class SerialMapper:
    """Each batch run at once, in this process: the sequential path on the same batches."""

    def submit(self, fn, *args):
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_result(fn(*args))
        return future

    def first_done(self, futures):
        return futures[0]


def extraction_seconds(settings, mapper) -> tuple[float, int]:
    """The extraction stage from a fresh database: (its seconds, answers processed)."""
    from fakes import FakeEmbedder

    from synthese.runner import STAGES, close_run, execute, open_run

    run = open_run(settings, embedder=FakeEmbedder(), log=lambda m: None, progress=False,
                   mapper=mapper)
    done: dict = {}
    try:
        for stage in STAGES[: [s.name for s in STAGES].index("extract") + 1]:
            done[stage.name] = execute(stage, run, done)
        return run.timings["extract"], done["extract"].counts["processed"]
    finally:
        close_run(run)


def settings_for(work: Path, export: Path, name: str, hosts: list[str], batch_size: int):
    from synthese.config import Settings

    return Settings(export=export, questions=("q",), id_column="id", db=work / f"{name}.duckdb",
                    out=work / "out", llm="ollama", model="fake", llm_hosts=tuple(hosts),
                    pseudonymise=False, batch_size=batch_size)


def distributed(work: str, export: str, hosts: list[str], counts: list[int],
                batch_size: int) -> dict[int, tuple[float, int]]:
    """The flow's body: the extraction on the first n servers, for each n (only plain
    parameters: Prefect sends the flow run's context to the Dask workers)."""
    from flows.consultation import PrefectMapper

    # untimed: each worker imports the stage's modules once (several seconds on 2 cores)
    extraction_seconds(settings_for(Path(work), Path(export), "warm-up", hosts, batch_size),
                       PrefectMapper())
    return {n: extraction_seconds(settings_for(Path(work), Path(export), f"dask-{n}", hosts[:n],
                                               batch_size), PrefectMapper()) for n in counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per model call")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--endpoints", default="1,2,4")
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--dask-threads", type=int, default=2)
    args = parser.parse_args()

    from fake_ollama import FakeOllamaServer
    from prefect import flow
    from prefect_dask import DaskTaskRunner

    from synthese.baseline import respond
    from synthese.runtime import prefect_api

    counts = [int(c) for c in args.endpoints.split(",")]
    work = Path(tempfile.mkdtemp(prefix="scale-out-"))
    export = write_export(work / "export.csv", args.answers)
    servers = [FakeOllamaServer(responder=respond, model="fake", delay=args.latency).start()
               for _ in range(max(counts))]

    hosts = [s.url for s in servers]
    runner = DaskTaskRunner(cluster_kwargs={
        "n_workers": args.dask_workers, "threads_per_worker": args.dask_threads,
        "processes": True, "dashboard_address": None})

    scale_out = flow(name="scale-out", task_runner=runner, log_prints=False)(distributed)

    import os

    from prefect.settings import PREFECT_API_URL

    try:
        sequential, processed = extraction_seconds(
            settings_for(work, export, "sequential", hosts[:1], args.batch_size), SerialMapper())
        assert processed == args.answers, processed
        with prefect_api(None):
            os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()  # for the Dask workers
            started = time.perf_counter()
            measured = scale_out(str(work), str(export), hosts, counts, args.batch_size)
            total = time.perf_counter() - started
    finally:
        for server in servers:
            server.stop()
    print(f"{args.answers} answers of one call each, {args.latency:g} s per call, batches of "
          f"{args.batch_size}, Dask {args.dask_workers} processes x {args.dask_threads} threads "
          f"(flow with cluster start: {total:.1f} s)")
    base = None
    for n in counts:
        seconds, processed = measured[n]
        assert processed == args.answers, (n, processed)
        rate = args.answers / seconds
        base = base or rate
        print(f"endpoints {n}: {rate:.2f} answers/s, {rate / base:.2f}x")
    one = measured[counts[0]][0] if counts[0] == 1 else None
    print(f"sequential path, 1 endpoint, same batches: {args.answers / sequential:.2f} answers/s "
          f"({sequential:.1f} s)")
    if one is not None:
        print(f"overhead of the distributed path on 1 endpoint: {one / sequential - 1:+.1%} "
              f"({one:.1f} s against {sequential:.1f} s)")


if __name__ == "__main__":
    main()
