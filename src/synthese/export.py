"""`synthese export`: a run's report as DOCX and ODT and its data as XLSX, beside the HTML.

Inspectors do not publish the HTML page as it is: they paste the synthesis into their own
report and check figures in a spreadsheet. The files are written at the end of every run
(``runner.run_all`` and the Prefect flow, once the run is recorded and a review carried
over), after each action on the review page (revue.py, in a thread of its own so that the
page comes back without waiting for them), and on demand. A run is read as the
review page reads it (``stages.load_review``: the reviewed state when there is one), so the
documents say what the HTML report says; the workbook holds the run's marts rows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from synthese.errors import SyntheseError

FORMATS = ("docx", "odt", "xlsx")


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The formats asked for, in the usual order, or a French error."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise SyntheseError(f"Format inconnu : « {unknown[0]} » ; choisissez parmi "
                            f"{', '.join(FORMATS)}.")
    return tuple(f for f in FORMATS if f in formats)


def export_run(store: Any, run_id: str | None = None, *, out: Path | None = None,
               formats: Sequence[str] = FORMATS) -> dict[str, Path]:
    """The documents of a run (the latest completed one when ``run_id`` is None)."""
    from synthese.stages import load_review

    return export_view(store, load_review(store, run_id), out=out, formats=formats)


def export_view(store: Any, view: Any, *, out: Path | None = None,
                formats: Sequence[str] = FORMATS) -> dict[str, Path]:
    """Write the documents of a run as ``view`` (stages.ReviewView) shows it, named like its
    HTML report, in ``out`` (by default the report's folder). Returns the paths by format."""
    return documents_writer(store, view, out=out, formats=formats)()


def documents_writer(store: Any, view: Any, *, out: Path | None = None,
                     formats: Sequence[str] = FORMATS) -> Callable[[], dict[str, Path]]:
    """What ``export_view`` does, in two times: the rows are read from ``store`` now, and the
    function returned writes the documents without the store (the review page runs it in a
    thread of its own, revue.DocumentWriter). It returns the paths by format."""
    formats = check_formats(formats)
    marts = store.run_marts(view.run_id, list(view.run["questions"])) \
        if "xlsx" in formats else {}
    data = view.report_data()
    report = Path(view.run["report_path"])
    folder = Path(out) if out is not None else report.parent

    def write() -> dict[str, Path]:
        from synthese.documents import document_blocks, write_docx, write_odt
        from synthese.report import report_context
        from synthese.workbook import workbook_sheets, write_workbook

        context = report_context(data)
        title = f"{context['title']} — {context['question']}" if context["question"] \
            else context["title"]
        written: dict[str, Path] = {}
        if "docx" in formats or "odt" in formats:
            blocks = document_blocks(context)
            if "docx" in formats:
                written["docx"] = _write(folder / f"{report.stem}.docx",
                                         lambda p: write_docx(blocks, p, title))
            if "odt" in formats:
                written["odt"] = _write(folder / f"{report.stem}.odt",
                                        lambda p: write_odt(blocks, p, title))
        if "xlsx" in formats:
            numbers = {t["cluster_id"]: t["number"] for t in context["themes"]}
            sheets = workbook_sheets(marts, numbers, context["method"])
            written["xlsx"] = _write(folder / f"{report.stem}.xlsx",
                                     lambda p: write_workbook(sheets, p, title))
        return written

    return write


def _write(path: Path, write: Callable[[Path], Any]) -> Path:
    """Write through a temporary file beside ``path``: a reader never finds half a file."""
    partial = path.with_name(f".{path.name}.partiel")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(partial)
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise SyntheseError(
            f"Impossible d'écrire « {path} » ({exc.strerror or exc}) : vérifiez que le dossier "
            "est accessible en écriture et que le fichier n'est pas ouvert dans un autre "
            "programme.") from exc
    return path
