"""What measuring the energy costs (issue 17, item 6; results in docs/benchmarks.md).

Three figures, on the demo consultation with the fake LLM and embedder of the tests, so that
the pipeline's own work, not the model, is what the tracker sits around:

- codecarbon's hardware detection, paid once per process (the first measure, or
  ``energy.warm_up`` while Prefect's server starts in ``synthese run``);
- one stage's ``start_task`` + ``stop_task``, the price of each measure afterwards;
- the whole run with the meter and without it (a tracker that cannot start: the meter
  measures nothing), alternated ``--runs`` times each, each in a fresh database.

    .venv/bin/python benchmarks/energy_overhead.py [--runs 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def no_tracker():
    raise RuntimeError("sans mesure")


def one_run(measured: bool) -> tuple[float, float | None]:
    from fakes import FakeEmbedder, FakeLLM

    from synthese.config import Settings
    from synthese.runner import run_all

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(export=ROOT / "data" / "raw" / "demo_enseignants_ia.csv",
                            questions=("q_usage_ia",), id_column="id_reponse",
                            db=Path(tmp) / "demo.duckdb", out=Path(tmp) / "reports")
        options = {} if measured else {"energy_tracker": no_tracker}
        started = time.perf_counter()
        row = run_all(settings, llm=FakeLLM(), embedder=FakeEmbedder(), log=lambda m: None,
                      progress=False, **options)
        return time.perf_counter() - started, row["energy_kwh"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    from synthese.energy import offline_tracker

    tracker = offline_tracker()
    started = time.perf_counter()
    tracker.get_detected_hardware()
    print(f"hardware detection (once per process): {time.perf_counter() - started:.2f} s")
    pairs = []
    for i in range(20):
        started = time.perf_counter()
        tracker.start_task(f"t{i}")
        tracker.stop_task()
        pairs.append(time.perf_counter() - started)
    print(f"start_task + stop_task: median {statistics.median(pairs) * 1000:.1f} ms, "
          f"max {max(pairs) * 1000:.1f} ms (20 pairs)")
    one_run(True)  # warm-up: imports, caches, the embedder's first load
    walls: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.runs):
        for measured in (False, True):
            wall, kwh = one_run(measured)
            walls[measured].append(wall)
            print(f"demo (fake LLM), {'with' if measured else 'without'} the meter: "
                  f"{wall:.1f} s" + (f", {kwh:.6f} kWh" if kwh is not None else ""))
    off, on = statistics.median(walls[False]), statistics.median(walls[True])
    print(f"median without {off:.1f} s, with {on:.1f} s: overhead {on - off:+.2f} s "
          f"({(on - off) / off:+.1%})")


if __name__ == "__main__":
    main()
