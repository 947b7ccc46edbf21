"""The data as a workbook people filter and check: one run's marts rows -> XLSX (openpyxl).

One sheet per mart an inspector checks figures in: the answers (pseudonymised), the
arguments with their quote, offsets and theme, the themes with their counts, the sentences
of the synthesis with the themes they cite and their support, and the run. Each sheet is
its mart's rows for the run, row for row, with French headers; themes are numbered T1, T2…
as in the report. Only marts are read (never the raw schema), and the metadata columns of
the answers are those of a closed question (at most ``reportdata.CLOSED_MAX_VALUES``
distinct values): a column of free text was not pseudonymised, so it stays in the database.

Every string is written as text, so that a cell such as ``=HYPERLINK(...)`` typed by a
respondent never runs as a formula (CSV/XLSX formula injection). Pure: frames in, file out.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthese.reportdata import CLOSED_MAX_VALUES
from synthese.synthesise import SECTION_TITLES, SECTIONS

# A cell starting with one of these is a formula to a spreadsheet (OWASP adds tab and CR).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL = 32_767  # characters a cell of Excel holds
TRUNCATED = " […] (texte tronqué à {n} caractères sur {total} : texte complet dans la base)"
_NOT_XML = {c: "\ufffd" for c in [*range(9), 11, 12, *range(14, 32)]}
KIND_COLUMNS = (("opportunite", "apports"), ("risque", "risques"),
                ("condition", "conditions"), ("constat", "constats"),
                ("hors_sujet", "hors sujet"))
KIND_LABELS = {"opportunite": "apport", "risque": "risque ou crainte",
               "condition": "condition ou demande", "constat": "constat",
               "hors_sujet": "hors sujet"}

ANSWER_COLUMNS = {"respondent_id": "répondant", "respondent_label": "libellé du répondant",
                  "question": "question",
                  "text": "texte (pseudonymisé)", "blank": "sans réponse",
                  "n_chars": "caractères", "answer_id": "réponse",
                  "pseudo_method": "pseudonymisation"}
ARGUMENT_COLUMNS = {"theme": "thème", "cluster_id": "groupe", "argument_id": "argument",
                    "answer_id": "réponse", "respondent_id": "répondant",
                    "argument_text": "idée", "kind": "nature", "quote": "citation",
                    "quote_start": "début de la citation", "quote_end": "fin de la citation",
                    "match_kind": "citation retrouvée", "quote_score": "score de la citation",
                    "argument_flags": "marques", "cluster_similarity": "similarité au thème",
                    "hidden": "masqué par le relecteur"}
THEME_COLUMNS = {"theme": "thème", "cluster_id": "groupe", "label": "titre",
                 "parent_label": "thème parent", "n_respondents": "répondants",
                 "share_respondents": "part des répondants", "n_arguments": "arguments",
                 **{f"kind_{k}": label for k, label in KIND_COLUMNS},
                 "summary": "résumé", "title_origin": "origine du titre",
                 "split_from": "scindé du groupe", "reviewed": "relu",
                 "validated_by": "validé par", "validated_at": "validé le"}
SENTENCE_COLUMNS = {"section": "partie", "paragraph": "paragraphe", "position": "position",
                    "text": "phrase", "themes": "thèmes cités", "cluster_ids": "groupes cités",
                    "support": "étayage (similarité)", "supported": "étayée",
                    "cited_by": "citée par", "origin": "origine",
                    "model_text": "phrase du modèle remplacée", "reviewed": "relue"}
SEGMENT_COLUMNS = {"question": "question fermée", "segment": "groupe de répondants",
                   "theme": "thème", "cluster_id": "groupe", "kind": "nature",
                   "n_respondents": "répondants du groupe", "n_with": "dont exprimant le thème",
                   "share": "part", "ci_low": "intervalle 95 % : bas",
                   "ci_high": "intervalle 95 % : haut", "p_adjusted": "p ajusté (BH)",
                   "significant": "écart significatif", "direction": "sens (+1 / -1)"}
RUN_SCALARS = ("run_id", "status", "started_at", "finished_at", "questions", "clustering_id",
               "synthesis_key", "report_path", "energy_kwh", "answers_nonblank",
               "kwh_per_1000_answers", "tokens_per_1000_answers", "seconds_per_1000_answers")
RUN_JSON = {"counts": "effectifs", "timings": "durées (s)", "tokens": "appels et jetons",
            "reused": "réutilisé", "trust": "fiabilité"}


@dataclass(frozen=True)
class Sheet:
    title: str
    frame: pd.DataFrame  # headers as shown
    percent: tuple[str, ...] = ()  # columns of shares (0..1), shown as percentages
    wrap: tuple[str, ...] = field(default=())  # long text columns, wrapped


def workbook_sheets(marts: dict[str, pd.DataFrame], numbers: dict[int, int],
                    method: dict[str, Any]) -> list[Sheet]:
    """The sheets of one run from its marts rows (``Store.run_marts``), its themes' numbers
    as in the report (cluster id -> N of TN) and the report's method (models, parameters)."""
    ref = {int(c): f"T{n}" for c, n in numbers.items()}
    order = {int(c): n for c, n in numbers.items()}
    return [_answers(marts["answers"]), _arguments(marts["trace"], ref, order),
            _themes(marts["themes"], ref, order), _sentences(marts["synthesis"], ref),
            *([_segments(marts["theme_segments"], ref)]
              if len(marts.get("theme_segments", ())) else []),
            Sheet("Exécution", run_facts(marts["run"].iloc[0].to_dict(), method),
                  wrap=("valeur",))]


def _segments(rows: pd.DataFrame, ref: dict[int, str]) -> Sheet:
    """The themes by segment of each closed question (marts.theme_segments, crosstab.py)."""
    frame = rows.assign(
        theme=rows["cluster_id"].map(lambda c: None if pd.isna(c) else ref.get(int(c))),
        kind=rows["kind"].map(lambda k: KIND_LABELS.get(k, k) if isinstance(k, str) else None))
    return Sheet("Thèmes par groupe",
                 frame[list(SEGMENT_COLUMNS)].rename(columns=SEGMENT_COLUMNS),
                 percent=("part", "intervalle 95 % : bas", "intervalle 95 % : haut"))


def closed_columns(answers: pd.DataFrame) -> list[str]:
    """The metadata columns of the answers that hold a closed question's values."""
    return [c for c in answers.columns if c not in ANSWER_COLUMNS
            and answers[c].dropna().nunique() <= CLOSED_MAX_VALUES]


def _answers(answers: pd.DataFrame) -> Sheet:
    columns = list(ANSWER_COLUMNS)
    columns[5:5] = closed_columns(answers)  # the respondent's profile beside the answer
    frame = answers[columns].rename(columns=ANSWER_COLUMNS)
    return Sheet("Réponses", frame, wrap=("texte (pseudonymisé)",))


def _arguments(trace: pd.DataFrame, ref: dict[int, str], order: dict[int, int]) -> Sheet:
    frame = trace.assign(theme=trace["cluster_id"].map(ref),
                         _order=trace["cluster_id"].map(order),
                         kind=trace["kind"].map(lambda k: KIND_LABELS.get(k, k)))
    frame = frame.sort_values(["_order", "cluster_similarity", "argument_id"],
                              ascending=[True, False, True], na_position="last", kind="stable")
    return Sheet("Arguments", frame[list(ARGUMENT_COLUMNS)].rename(columns=ARGUMENT_COLUMNS),
                 wrap=("idée", "citation"))


def _themes(themes: pd.DataFrame, ref: dict[int, str], order: dict[int, int]) -> Sheet:
    kinds = themes["kinds"].map(lambda k: json.loads(k) if isinstance(k, str) else {})
    frame = themes.assign(theme=themes["cluster_id"].map(ref),
                          _order=themes["cluster_id"].map(order),
                          **{f"kind_{k}": kinds.map(lambda d, k=k: int(d.get(k, 0)))
                             for k, _ in KIND_COLUMNS})
    frame = frame.sort_values(["_order", "cluster_id"], na_position="last", kind="stable")
    return Sheet("Thèmes", frame[list(THEME_COLUMNS)].rename(columns=THEME_COLUMNS),
                 percent=("part des répondants",), wrap=("titre", "résumé"))


def _sentences(sentences: pd.DataFrame, ref: dict[int, str]) -> Sheet:
    rank = {s: i for i, s in enumerate(SECTIONS)}
    frame = sentences.assign(
        _order=sentences["section"].map(lambda s: rank.get(s, len(rank))),
        themes=sentences["cluster_ids"].map(
            lambda ids: ", ".join(ref.get(int(i), f"groupe {i}") for i in _listed(ids))),
        section=sentences["section"].map(lambda s: SECTION_TITLES.get(s, s)))
    frame = frame.sort_values(["_order", "paragraph", "position"], kind="stable")
    return Sheet("Synthèse", frame[list(SENTENCE_COLUMNS)].rename(columns=SENTENCE_COLUMNS),
                 wrap=("phrase", "phrase du modèle remplacée"))


def run_facts(run: dict[str, Any], method: dict[str, Any]) -> pd.DataFrame:
    """The run as rubric / key / value rows: its marts.runs row (JSON columns spread out;
    the report's folder left out of its path), then the models, parameters and prompts of
    the method note."""
    rows: list[tuple[str, str, Any]] = []
    for key in RUN_SCALARS:
        value = run.get(key)
        if key == "report_path" and isinstance(value, str):
            value = Path(value).name
        rows.append(("exécution", key, value))
    for key, rubric in RUN_JSON.items():
        value = run.get(key)
        rows += [(rubric, k, v) for k, v in _flat(json.loads(value) if isinstance(value, str)
                                                  else value or {})]
    for model in method.get("models") or []:
        rows += [("modèles", model.get("role") or "", model.get("name")),
                 ("modèles", f"{model.get('role') or ''} : empreinte SHA-256",
                  model.get("sha256"))]
    rows += [("paramètres", str(k), v) for k, v in (method.get("parameters") or {}).items()]
    rows += [("consignes", str(k), v) for k, v in (method.get("prompts") or {}).items()]
    return pd.DataFrame(rows, columns=["rubrique", "clé", "valeur"], dtype=object)


def _flat(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _flat(v, f"{prefix}{k}.")]
    return [(prefix.rstrip("."), value)]


def _listed(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return list(value)


def cell_value(value: Any) -> Any:
    """What a cell holds: numbers, booleans and dates as such, lists as « a, b », the rest
    as text (XML's forbidden characters replaced, cut to what a cell holds, visibly)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    text = str(value).translate(_NOT_XML)
    if not text:
        return None
    if len(text) > MAX_CELL:
        tail = TRUNCATED.format(n=MAX_CELL, total=len(text))
        text = text[:MAX_CELL - len(tail)] + tail
    return text


def write_workbook(sheets: list[Sheet], path: Path, title: str) -> Path:
    """Write the sheets: header row frozen and filtered, readable widths, strings as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    book.properties.title, book.properties.creator = title, "synthese"
    book.properties.language = "fr-FR"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE3F5")
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    for sheet in sheets:
        ws = book.create_sheet(sheet.title)
        frame = sheet.frame
        for c, header in enumerate(frame.columns, start=1):
            cell = _write(ws, 1, c, header)
            cell.font, cell.fill = bold, fill
        columns = [(c, frame.columns[c - 1]) for c in range(1, len(frame.columns) + 1)]
        for r, row in enumerate(frame.itertuples(index=False, name=None), start=2):
            for c, value in enumerate(row, start=1):
                cell = _write(ws, r, c, value)
                name = columns[c - 1][1]
                if name in sheet.percent and isinstance(cell.value, float):
                    cell.number_format = "0.0%"
                cell.alignment = wrap if name in sheet.wrap else top
        widths = {}
        for c, name in columns:
            widths[c] = _width(name, frame.iloc[:, c - 1], wide=name in sheet.wrap)
            ws.column_dimensions[get_column_letter(c)].width = widths[c]
        _fit_rows(ws, [c for c, name in columns if name in sheet.wrap], widths)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(columns)))}{len(frame) + 1}"
        # Printed: landscape A4, every column on the page's width, the header on each page.
        ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.print_title_rows = "1:1"
    book.save(str(path))
    return path


def _write(ws: Any, row: int, column: int, value: Any) -> Any:
    value = cell_value(value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        # openpyxl makes « =… » a formula and « #N/A » an error: a string stays a string,
        # and the quote prefix keeps it text when someone edits the cell.
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    return cell


def _fit_rows(ws: Any, wrapped: list[int], widths: dict[int, float]) -> None:
    """Rows as tall as their longest wrapped text: spreadsheets do not all compute it when
    they open a file (LibreOffice 7.4 draws the lines over each other)."""
    if not wrapped:
        return
    for r in range(2, ws.max_row + 1):
        lines = 1
        for c in wrapped:
            value = ws.cell(row=r, column=c).value
            if isinstance(value, str):
                per_line = max(1.0, widths[c] - 1)
                lines = max(lines, sum(math.ceil(max(1, len(part)) / per_line)
                                       for part in value.split("\n")))
        if lines > 1:
            ws.row_dimensions[r].height = min(409, 15 * lines)  # points; Excel's maximum


def _width(header: str, values: pd.Series, *, wide: bool) -> float:
    """Wide enough for the header and for nine values in ten, within bounds."""
    lengths = values.map(lambda v: 0 if cell_value(v) is None else len(str(cell_value(v))))
    typical = float(lengths.quantile(0.9)) if len(lengths) else 0.0
    return round(min(max(len(str(header)) + 2, typical + 2, 8), 70 if wide else 40), 1)
