"""The electricity each stage of a run used, estimated offline by codecarbon (issue 17).

The ministry's framework asks that AI be used frugally and its cost measured: every run
records, per stage, the kWh that codecarbon's ``OfflineEmissionsTracker`` gives
(``Run.energy``, stored in ``core.run_energy``, shown by ``marts.runs`` and the report).

- **Offline.** The tracker is given the country (France) instead of looking it up, writes
  no file and sends nothing: no output method, no HTTP endpoint, no Electricity Maps token,
  whatever a ``.codecarbon.config`` or a ``CODECARBON_*`` variable says. Only kWh are kept.
- **This process and its children** (``tracking_mode="process"``): the embedded model runs
  in this process, and Prefect's temporary server is its child. Another program running on
  the same machine is not charged to the run.
- **What it measures.** With Linux's RAPL counters (``/sys/class/powercap/intel-rapl``),
  the CPU's energy is read from the processor. Without them, as on a virtual machine, it is
  an *estimate*: the processor's nominal power (TDP, from codecarbon's table of models, or
  4 W per thread when the model is unknown) times the share of the CPU this process used.
  The memory is always an estimate from its size (about 5 W per module); an NVIDIA GPU is
  read through NVML. ``describe`` says which applied; docs/benchmarks.md gives the figures.
  ``CODECARBON_FORCE_CPU_POWER`` (watts) gives a known power instead of the table's.
- **Never fails a run.** Any error of codecarbon is logged as one French line; the stage,
  and every later one, records ``None`` (« non mesurée »), never a made-up figure.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

COUNTRY = "FRA"  # ISO 3166-1 alpha-3: the tracker never looks the country up


@dataclass(frozen=True)
class StageEnergy:
    """The energy one stage used, in kWh, by component."""

    energy_kwh: float
    cpu_kwh: float
    ram_kwh: float
    gpu_kwh: float

    def __add__(self, other: StageEnergy) -> StageEnergy:  # a stage retried adds up
        return StageEnergy(self.energy_kwh + other.energy_kwh, self.cpu_kwh + other.cpu_kwh,
                           self.ram_kwh + other.ram_kwh, self.gpu_kwh + other.gpu_kwh)


def offline_tracker() -> Any:
    """codecarbon's offline tracker, configured so that it cannot reach the network, write a
    file or log below errors (its own logger: the run's lines stay the run's)."""
    from codecarbon import OfflineEmissionsTracker

    logging.getLogger("codecarbon").setLevel(logging.ERROR)  # after the import, which sets it
    return OfflineEmissionsTracker(
        country_iso_code=COUNTRY, project_name="synthese", tracking_mode="process",
        output_methods=[], emissions_endpoint=None, electricitymaps_api_token="",
        allow_multiple_runs=True, log_level="error", pue=1.0)


def warm_up() -> None:
    """Let codecarbon detect the hardware (about 1.3 s here, mostly py-cpuinfo) in a background
    thread, while Prefect's server starts: it keeps what it found for the process, so the
    run's first measure then waits for nothing. A failure is left to the run to report."""

    def detect() -> None:
        with contextlib.suppress(Exception):
            offline_tracker().get_detected_hardware()

    threading.Thread(target=detect, name="synthese-energie", daemon=True).start()


class EnergyMeter:
    """Measures stages one at a time with one tracker (``start_task``/``stop_task``), made on
    the first measure. ``by_stage`` maps a stage to its ``StageEnergy``, or None when
    codecarbon failed: after its first failure (one French line through ``log``) the meter
    measures nothing more."""

    def __init__(self, log: Callable[[str], None], make_tracker: Callable[[], Any] = offline_tracker):
        self.log = log
        self.make_tracker = make_tracker
        self.tracker: Any = None
        self.failed = False
        self.active = False
        self.by_stage: dict[str, StageEnergy | None] = {}

    @contextlib.contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Measure the block as ``stage`` (added to what an earlier try of it used)."""
        started = not self.active and self._start(stage)
        try:
            yield
        finally:
            got = self._stop(stage) if started else None
            before = self.by_stage.get(stage, StageEnergy(0.0, 0.0, 0.0, 0.0))
            self.by_stage[stage] = before + got if before is not None and got else None

    def close(self) -> None:
        """Stop the tracker's sampling thread, if a failed start left it running."""
        if self.tracker is not None:
            with contextlib.suppress(Exception):
                self.tracker.stop()
            self.tracker = None

    def total_kwh(self, stages: list[str] | None = None) -> float | None:
        """The kWh of ``stages`` (all measured so far when None); None if one is unmeasured."""
        values = [self.by_stage.get(s) for s in (self.by_stage if stages is None else stages)]
        if not values or any(v is None for v in values):
            return None
        return sum(v.energy_kwh for v in values)

    def describe(self) -> dict[str, Any]:
        """How the energy was measured: tracker, CPU method and power, components."""
        if self.tracker is None or self.failed:
            return {"tool": "codecarbon", "measured": False}
        from codecarbon import __version__

        hardware = getattr(self.tracker, "_hardware", [])
        cpu = next((h for h in hardware if type(h).__name__ == "CPU"), None)
        mode = getattr(cpu, "_mode", None)
        return {"tool": f"codecarbon {__version__}", "measured": True,
                "tracking": "process", "country": COUNTRY,
                "cpu_mode": mode, "cpu_estimated": mode not in ("intel_rapl", "windows_emi"),
                "cpu_model": getattr(cpu, "_model", None), "cpu_power_w": getattr(cpu, "_tdp", None),
                "components": [type(h).__name__ for h in hardware]}

    def _start(self, stage: str) -> bool:
        if self.failed:
            return False
        try:
            if self.tracker is None:
                self.tracker = self.make_tracker()
            self.tracker.start_task(stage)
        except Exception as exc:  # noqa: BLE001 - codecarbon must never fail a run
            self._fail(exc)
            return False
        self.active = True
        return True

    def _stop(self, stage: str) -> StageEnergy | None:
        self.active = False
        try:
            data = self.tracker.stop_task(stage)
            if data is None:
                raise RuntimeError("aucune mesure rendue")
            got = StageEnergy(float(data.energy_consumed), float(data.cpu_energy),
                              float(data.ram_energy), float(data.gpu_energy))
            if not all(math.isfinite(v) and v >= 0 for v in vars(got).values()):
                raise ValueError(f"mesure invalide {got}")
            return got
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
            return None

    def _fail(self, exc: Exception) -> None:
        if not self.failed:
            self.log(f"Énergie non mesurée (codecarbon : {type(exc).__name__} : {exc}) ; "
                     "l'exécution continue, l'énergie de ses étapes reste vide.")
        self.failed = True


def per_thousand(value: float | None, answers: int) -> float | None:
    """``value`` for 1,000 answers (None when either is missing)."""
    if value is None or not answers:
        return None
    return value * 1000 / answers
