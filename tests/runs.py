"""Running the whole method in a test, and reading what it stored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes import FakeEmbedder, FakeLLM

from synthese.config import Settings
from synthese.progress import summary_lines
from synthese.runner import run_all
from synthese.storage import Store


@dataclass
class Done:
    """A finished run: its settings and the row the runner stored (runner.record)."""

    settings: Settings
    row: dict[str, Any]

    @property
    def counts(self) -> dict[str, Any]:
        return self.row["counts"]

    @property
    def trust(self) -> dict[str, Any]:
        return self.row["trust"]

    @property
    def run_id(self) -> str:
        return self.row["run_id"]

    @property
    def calls_made(self) -> int:
        return self.row["tokens"]["made"]

    @property
    def report_path(self) -> Path:
        return Path(self.row["report_path"])

    def lines(self) -> list[str]:
        return summary_lines(self.row)

    def store(self) -> Store:
        return Store(self.settings.db, read_only=True)


def run(export: Path, tmp_path: Path, llm: Any = None, *, embedder: Any = None,
        questions: tuple[str, ...] = ("q",), id_column: str | None = "id",
        pseudonymiser: Any = None, log: Any = None, energy_tracker: Any = None,
        **settings: Any) -> Done:
    """Every stage over ``export`` into ``tmp_path/s.duckdb`` (fake LLM and embedder unless
    given; codecarbon's offline tracker unless ``energy_tracker`` makes another)."""
    s = Settings(export=export, questions=questions, id_column=id_column,
                 db=tmp_path / "s.duckdb", out=tmp_path / "reports", **settings)
    row = run_all(s, llm=llm if llm is not None else FakeLLM(),
                  embedder=embedder if embedder is not None else FakeEmbedder(),
                  pseudonymiser=pseudonymiser, log=log or (lambda m: None), progress=False,
                  energy_tracker=energy_tracker)
    return Done(s, row)
