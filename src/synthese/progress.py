"""What a run shows: progress of the long stages (a bar on a terminal, log lines elsewhere,
such as a Prefect worker), and the lines printed when it ends."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Self

from rich.progress import ProgressColumn
from rich.text import Text

Log = Callable[[str], None]

# The run's own lines for a person at a terminal: ``synthese run`` prints them on stdout
# (runtime.console); elsewhere (a Prefect worker, the tests) they go nowhere but the run's
# Prefect logs.
CONSOLE = logging.getLogger("synthese.run")
CONSOLE.addHandler(logging.NullHandler())
CONSOLE.propagate = False


def run_log(logger: logging.Logger | logging.LoggerAdapter) -> Log:
    """A run's log function: each line to ``logger`` (Prefect's run logs) and to CONSOLE."""

    def log(message: str) -> None:
        logger.info(message)
        CONSOLE.info(message)

    return log


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

        console = Console()  # stdout: stderr is for errors
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


def summary_lines(row: dict[str, Any]) -> list[str]:
    """The end-of-run lines printed by the CLI and logged by the flow (French)."""
    c, t, tokens = row["counts"], row["trust"], row["tokens"]
    lines = [
        (f"Réponses : {c.get('answers', 0)} — traitées {c.get('processed', 0)}, "
         f"sans réponse {c.get('blank', 0)}, en échec {c.get('failed', 0)}."),
        (f"Arguments : {c.get('arguments', 0)} ; thèmes : {c.get('themes', 0)} ; "
         f"autres / inclassables : {c.get('unassigned_share', 0):.1%}."),
        (f"Appels au modèle : {tokens['made']} effectués, {tokens['reused']} réutilisés ; "
         f"jetons : {tokens['prompt_tokens']} en entrée, {tokens['completion_tokens']} en sortie."),
    ]
    if c.get("campaigns"):
        lines.append(
            f"Textes repris : {c['campaigns']} texte(s) repris par plusieurs réponses ; "
            f"{c.get('campaign_members', 0)} réponses ont reçu les idées du texte lu une fois "
            f"({c.get('campaign_calls_saved', 0)} appels au modèle évités).")
    if review := row.get("review"):
        lines.append(
            f"Relecture reprise de l'exécution {review['from_run']} : {review['carried']} "
            f"décision(s) reprise(s), {len(review['not_carried'])} non reprise(s)"
            + (f" ; thèmes modifiés : {' ; '.join(review['changed_themes'])}"
               if review["changed_themes"] else "")
            + (" ; synthèse toujours validée." if review["validated"]
               else " ; synthèse à valider de nouveau (synthese revue)."))
    if t:
        lines.append(
            f"Fiabilité : citations retrouvées dans les réponses "
            f"{t.get('quotes_verified_share', 0):.1%} ; phrases de résumé étayées "
            f"{t.get('summary_sentences_supported_share', 0):.1%} (phrases du modèle "
            f"{t.get('summary_model_sentences_supported_share', 0):.1%}) ; phrases de synthèse "
            f"étayées {t.get('synthesis_sentences_supported_share', 0):.1%}, citant un thème "
            f"{t.get('synthesis_sentences_cited_share', 0):.1%} ; couverture des répondants "
            f"{t.get('respondent_coverage', 0):.1%}.")
        fallbacks = t.get("synthesis_fallbacks") or {}
        lines.append(
            f"Replis : extractions en échec {c.get('failed', 0)}, segments repris tels quels "
            f"{t.get('uncovered_segments', 0)}, titres de repli {t.get('titles_fallback', 0)}, "
            f"résumés en échec {t.get('summaries_failed', 0)}, phrases de résumé remplacées "
            f"{t.get('summary_sentences_replaced', 0)}, phrases de synthèse refusées par le code "
            f"{fallbacks.get('phrase_refusee', 0)}, de repli "
            f"{fallbacks.get('phrase_remplacee', 0)}, non étayées "
            f"{fallbacks.get('phrase_non_etayee', 0)}, doublons retirés "
            f"{fallbacks.get('phrase_doublon', 0)}"
            + (f" ; synthèse en échec : {t['synthesis_failure']}" if t.get("synthesis_failure")
               else "") + ".")
    lines.append("Durées : " + ", ".join(f"{k} {v:.1f} s" for k, v in row["timings"].items()))
    if "energy_kwh" in row:
        lines.append(energy_line(row["energy_kwh"], c))
    if row.get("report_path"):
        lines.append(f"Rapport : {row['report_path']}")
    if row.get("documents"):
        lines.append("Documents : " + ", ".join(row["documents"].values()))
    return lines


def energy_line(kwh: float | None, counts: dict[str, Any]) -> str:
    """The run's energy, every stage included, and for 1,000 non-blank answers (energy.py)."""
    from synthese.energy import per_thousand
    from synthese.report import format_energy

    if kwh is None:
        return "Énergie : non mesurée (voir le journal)."
    answers = int(counts.get("answers") or 0) - int(counts.get("blank") or 0)
    mille = per_thousand(kwh, answers)
    return (f"Énergie estimée (codecarbon, hors ligne) : {format_energy(kwh)} kWh"
            + (f", soit {format_energy(mille)} kWh pour 1 000 réponses." if mille is not None
               else "."))
