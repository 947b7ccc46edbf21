"""Progress of the long stages: a bar on a terminal, log lines elsewhere (Prefect workers)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Self

from rich.progress import ProgressColumn
from rich.text import Text

Log = Callable[[str], None]


class _RateColumn(ProgressColumn):
    """Items per second, for the progress bar."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f}/s" if speed else "-/s")


class Progress:
    """A rich progress bar with answers/s and ETA on a terminal; elsewhere (a Prefect
    worker, a log file) one log line per tenth of the work, so that progress shows in
    the run's logs. Silent when disabled."""

    def __init__(self, total: int, label: str, enabled: bool, log: Log | None = None):
        self.total, self.label, self.enabled = total, label, enabled and total > 0
        self.log = log
        self._progress = None
        self._done = 0
        self._step = max(1, -(-total // 10))
        self._started = time.perf_counter()

    def __enter__(self) -> Self:
        if not self.enabled:
            return self
        from rich.console import Console

        console = Console(stderr=True)
        if console.is_terminal or self.log is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                _RateColumn(), TimeRemainingColumn(), transient=False, console=console,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total)
        return self

    def advance(self) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress.advance(self._task)
        elif self.enabled and self.log is not None and (
                self._done % self._step == 0 or self._done == self.total):
            elapsed = time.perf_counter() - self._started
            left = elapsed / self._done * (self.total - self._done)
            self.log(f"{self.label} : {self._done}/{self.total} ({self._done / self.total:.0%}), "
                     f"{elapsed / self._done:.1f} s par élément, reste environ {left / 60:.0f} min.")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
