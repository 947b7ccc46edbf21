"""Read consultation exports (CSV, XLSX, ODS) into a frame of strings, then into answers.

Format quirks live here and nowhere else: encodings, separators, quoted multi-line cells,
spreadsheet numbers that must not become ``1001.0``, empty rows and odd headers. Every later
stage sees the same thing: one row per respondent, every cell a ``str`` or ``None``, and the
spreadsheet row number the inspector can look up in the original file.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import hmac
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from python_calamine import CalamineError

from synthese.errors import SyntheseError
from synthese.keys import content_hash, file_sha256, to_json

# Longer answers are kept whole (nothing may be dropped) but flagged: later stages cut them
# into pieces that fit the model's context. 5,000 characters is about 1,200 French tokens.
MAX_ANSWER_CHARS = 5_000

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
ODS_SUFFIXES = frozenset({".ods"})
SEPARATORS = (",", ";", "\t")

_SNIFF_CHARS = 32_768  # enough for a header of long Google Forms questions plus some rows
_MAX_LONG_WARNINGS = 20  # one line per long answer, then a count: a warning is not a dump
_MAX_LISTED_COLUMNS = 12
_SEPARATOR_NAMES = {",": "« , »", ";": "« ; »", "\t": "tabulation"}


@dataclass
class Export:
    """A consultation export as read from disk, before any question is chosen.

    ``frame`` holds every column as ``object`` dtype (``str`` values, ``None`` for empty
    cells) in the original order; its index is the spreadsheet row number (header = 1).
    """

    path: Path
    sha256: str
    format: str
    encoding: str | None
    separator: str | None
    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def read_export(path: str | Path) -> Export:
    """Read a CSV, XLSX or ODS export (first sheet) into an :class:`Export`.

    Raises SyntheseError when the file is missing, of an unknown format, empty, or not
    decodable; the message names the file and the line.
    """
    p = Path(path)
    if not p.exists():
        raise SyntheseError(f"Fichier introuvable : {p} ; vérifiez le chemin de l'export.")
    if not p.is_file():
        raise SyntheseError(f"{p} n'est pas un fichier : indiquez le chemin d'un export.")
    if p.stat().st_size == 0:
        raise _empty_error(p)
    suffix = p.suffix.lower()
    warnings: list[str] = []
    encoding = separator = None
    if suffix in CSV_SUFFIXES:
        fmt = "csv"
        grid, encoding, separator = _read_csv_grid(p, warnings)
    elif suffix in XLSX_SUFFIXES or suffix in ODS_SUFFIXES:
        fmt = "xlsx" if suffix in XLSX_SUFFIXES else "ods"
        grid = _read_workbook_grid(p, fmt, warnings)
    else:
        raise SyntheseError(
            f"Format non pris en charge : {p} ; enregistrez l'export en .csv, .xlsx ou .ods."
        )
    frame = _grid_to_frame(grid, p, warnings)
    return Export(
        path=p,
        sha256=file_sha256(p),
        format=fmt,
        encoding=encoding,
        separator=separator,
        frame=frame,
        warnings=warnings,
    )


# --- CSV -----------------------------------------------------------------------------------


def _read_csv_grid(p: Path, warnings: list[str]) -> tuple[pd.DataFrame, str, str]:
    data = p.read_bytes()
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _empty_error(p)
    text, encoding = _decode(data, p, warnings)
    # Excel on Windows writes CRLF, also inside quoted cells; old Mac exports end lines
    # with a lone CR, and a CR alone may sit inside a cell: one line ending everywhere.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    hint = re.match(r"sep=([,;\t])\n", text)  # Excel's « sep=; » first line
    if hint:
        separator, text = hint.group(1), text[hint.end() :]
    else:
        separator = _detect_separator(text)
    try:
        grid = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            header=None,
            dtype=object,
            keep_default_na=False,  # « NA », « null », « RAS » are answers, not missing
            na_values=[""],
            skip_blank_lines=False,  # keep row numbers equal to the spreadsheet's
            quotechar='"',
            doublequote=True,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise _empty_error(p) from None
    except pd.errors.ParserError as exc:
        raise _parser_error(p, separator, str(exc)) from None
    return grid, encoding, separator


def _decode(data: bytes, p: Path, warnings: list[str]) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), else Windows-1252; refuse binary or UTF-16."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(data):
        raise SyntheseError(
            f"{p} est encodé en UTF-16 : réenregistrez-le en « CSV UTF-8 » puis relancez."
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SyntheseError(
            f"Octet nul dans {p} (ligne {_line_of(data, nul)}, octet {nul}) : ce n'est pas un "
            "fichier texte CSV ; exportez les réponses en CSV UTF-8, XLSX ou ODS."
        )
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8-sig", data[len(codecs.BOM_UTF8) :]
    else:
        encoding, body = "utf-8", data
    shift = len(data) - len(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # Valid UTF-8 is not always UTF-8: a short Windows-1252 export whose every accented
        # letter is followed by symbols (« Fini, c'est acté…» », E9 85 BB) is valid UTF-8
        # too, and read so, its « é…» » is one Chinese character. With a byte-order mark
        # the file says it is UTF-8.
        if encoding == "utf-8" and _windows_1252_as_utf8(body, text):
            return body.decode("cp1252"), "cp1252"
        return text, encoding
    # Not UTF-8. Two exports pasted together can mix the two encodings line by line: each
    # line that is valid (and plausible) UTF-8 is read as UTF-8, the others as Windows-1252,
    # with a warning naming the first of those. In French Windows-1252 text an accented
    # letter is almost never followed by the bytes UTF-8 expects, so a Windows-1252 file has
    # no such line and is decoded whole.
    lines = body.split(b"\n")
    kinds = [_line_encoding(line) for line in lines]
    if "utf-8" not in kinds:
        try:
            return body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            at = shift + exc.start
            raise _undecodable(data, at, p) from None
    texts, offset = [], shift
    for line, kind in zip(lines, kinds, strict=True):
        try:
            texts.append(line.decode("utf-8" if kind == "utf-8" else "cp1252"))
        except UnicodeDecodeError as exc:
            raise _undecodable(data, offset + exc.start, p) from None
        offset += len(line) + 1
    legacy = [i for i, kind in enumerate(kinds, start=1) if kind == "cp1252"]
    warnings.append(
        f"{p} mélange UTF-8 et Windows-1252 ({len(legacy)} ligne(s) lue(s) en Windows-1252, "
        f"la première à la ligne {legacy[0]}) : vérifiez les accents de ces lignes."
    )
    return "\n".join(texts), f"{encoding}+cp1252"


def _utf16_without_bom(data: bytes) -> bool:
    """UTF-16 text without its byte-order mark: one byte of each pair is NUL (ASCII
    characters), on the same side, in nearly every pair of the start."""
    head = data[:400]
    pairs = len(head) // 2
    if pairs < 4:
        return False
    even = sum(b == 0 for b in head[0:2 * pairs:2])
    odd = sum(b == 0 for b in head[1:2 * pairs:2])
    return max(even, odd) >= 0.7 * pairs and min(even, odd) == 0


# Characters that a Windows-1252 accented letter followed by a symbol decodes to when read as
# UTF-8 (C1 controls, Latin Extended-B, IPA): a line that gives one is not UTF-8.
_NOT_FRENCH_UTF8 = re.compile("[\x80-\x9f\u0180-\u02ff]")
# What a Windows-1252 letter from « à » to « ï » followed by two symbols decodes to: the
# scripts of U+0800-08FF (« à », a no-break space, « « »), CJK (« é…» »), Yi, Hangul and
# private use. A respondent may write them, so they count only in text that has no UTF-8
# letter of Latin-1 (« é » is C3 A9 in UTF-8, and a French UTF-8 text has such letters).
_FOREIGN_UTF8 = re.compile("[\u0800-\u08ff\u3400-\u9fff\ua000-\ua4cf\uac00-\ud7af"
                           "\ue000-\uf8ff]")
_LATIN1_UTF8 = re.compile(rb"[\xc2\xc3][\x80-\xbf]")


def _windows_1252_as_utf8(data: bytes, text: str) -> bool:
    """Whether ``data``, valid UTF-8 that decodes to ``text``, is Windows-1252 all the same:
    ``text`` has characters no French text has and ``data`` no UTF-8 letter of Latin-1, and
    ``data`` decodes as Windows-1252."""
    if _LATIN1_UTF8.search(data) or not (_NOT_FRENCH_UTF8.search(text)
                                         or _FOREIGN_UTF8.search(text)):
        return False
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _line_encoding(line: bytes) -> str:
    """« ascii », « utf-8 » (valid and plausible) or « cp1252 »."""
    if line.isascii():
        return "ascii"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "cp1252" if _NOT_FRENCH_UTF8.search(text) or _windows_1252_as_utf8(line, text) \
        else "utf-8"


def _undecodable(data: bytes, at: int, p: Path) -> SyntheseError:
    return SyntheseError(
        f"Octet 0x{data[at]:02X} illisible dans {p} (ligne {_line_of(data, at)}, octet {at}) "
        ": ni UTF-8 ni Windows-1252 ; réenregistrez le fichier en « CSV UTF-8 »."
    )


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _detect_separator(text: str) -> str:
    """Pick ``,`` ``;`` or tab: csv.Sniffer, checked against a quote-aware parse of a sample.

    The sniffer's answer is kept when the header splits into several columns and no sampled
    row has more fields than the header. Otherwise, among separators that split the header,
    the one whose rows fit the header best wins; a ragged file thus keeps its real separator
    and fails on the bad line, instead of being read as one column. A one-column file takes
    the first separator that no row contains.
    """
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    if truncated and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    rows = {sep: _sample_rows(sample, sep, truncated) for sep in SEPARATORS}

    def score(sep: str) -> tuple[bool, float, int, int]:
        header, body = rows[sep]
        fits = all(len(r) <= len(header) for r in body)
        exact = sum(len(r) == len(header) for r in body) / max(len(body), 1)
        return fits, exact, len(header), -SEPARATORS.index(sep)

    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in rows and len(rows[sniffed][0]) > 1 and score(sniffed)[0]:
        return sniffed
    splitting = [sep for sep in SEPARATORS if len(rows[sep][0]) > 1]
    return max(splitting or SEPARATORS, key=score)


def _sample_rows(sample: str, sep: str, truncated: bool) -> tuple[list[str], list[list[str]]]:
    parsed = [r for r in csv.reader(io.StringIO(sample), delimiter=sep) if r]
    if truncated and len(parsed) > 1:
        parsed = parsed[:-1]  # the cut may fall inside a quoted multi-line cell
    return (parsed[0] if parsed else []), parsed[1:]


def _parser_error(p: Path, separator: str, message: str) -> SyntheseError:
    sep = _SEPARATOR_NAMES[separator]
    if m := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
        expected, line, saw = m.groups()
        return SyntheseError(
            f"Ligne {line} de {p} : {saw} champs au lieu de {expected} (séparateur {sep}) ; "
            "vérifiez les guillemets autour des réponses qui contiennent ce séparateur."
        )
    if m := re.search(r"EOF inside string starting at row (\d+)", message):
        return SyntheseError(
            f"Guillemet jamais refermé dans {p} à partir de la ligne {int(m.group(1)) + 1} : "
            "corrigez cette cellule ou réexportez le fichier."
        )
    detail = " ".join(message.split())
    return SyntheseError(
        f"Lecture impossible de {p} (séparateur {sep}, lecteur CSV : « {detail} ») : "
        "réexportez le fichier en CSV UTF-8, XLSX ou ODS."
    )


# --- XLSX / ODS ----------------------------------------------------------------------------


def _read_workbook_grid(p: Path, fmt: str, warnings: list[str]) -> pd.DataFrame:
    # A reader failure (corrupt zip, password, a CSV renamed .xlsx) is the user's file, not
    # a bug: one line, no traceback.
    try:
        with pd.ExcelFile(p, engine="calamine") as book:
            names = book.sheet_names
            # the first sheet with a cell: a workbook may open on an empty or a notes sheet
            for used, name in enumerate(names):
                grid = pd.read_excel(book, sheet_name=name, header=None, dtype=object)
                if grid.notna().to_numpy().any():
                    break
            else:
                used = 0
    except (CalamineError, ValueError, OSError):
        raise SyntheseError(
            f"Lecture impossible de {p} comme classeur {fmt.upper()} (fichier abîmé, protégé par "
            "mot de passe ou d'un autre format) : ouvrez-le dans un tableur et réenregistrez-le."
        ) from None
    if used > 0:
        empty = ", ".join(f"« {n} »" for n in names[:used])
        warnings.append(f"{p} : feuille(s) vide(s) {empty} ; la feuille « {names[used]} » est "
                        f"lue, et elle seule.")
    elif len(names) > 1:
        warnings.append(
            f"{p} contient {len(names)} feuilles : seule la première (« {names[0]} ») est lue."
        )
    # pandas already turns integral floats into int (1001.0 -> 1001); make every cell text.
    return grid.map(_cell_text)


def _cell_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- common shaping ------------------------------------------------------------------------


def _grid_to_frame(grid: pd.DataFrame, p: Path, warnings: list[str]) -> pd.DataFrame:
    """Header row -> column names, data rows -> str/None cells indexed by spreadsheet row."""
    grid = grid.astype(object).where(grid.notna(), None)
    grid.index = np.arange(1, len(grid) + 1)
    grid.columns = range(grid.shape[1])
    filled = _filled_cells(grid)
    nonempty_rows = np.flatnonzero(filled.any(axis=1).to_numpy())
    if len(nonempty_rows) < 2:  # nothing, or a header alone
        raise _empty_error(p)
    # Leading blank rows (a spreadsheet starting at row 3) come before the header.
    header_pos = nonempty_rows[0]
    header = grid.iloc[header_pos]
    frame = grid.iloc[header_pos + 1 :]
    filled = filled.iloc[header_pos + 1 :]

    names = ["" if v is None else str(v).strip() for v in header]
    keep = [i for i, name in enumerate(names) if name or filled.iloc[:, i].any()]
    frame, filled = frame.iloc[:, keep], filled.iloc[:, keep]
    frame.columns = _unique_names([names[i] for i in keep], [i + 1 for i in keep], p, warnings)

    row_filled = filled.any(axis=1).to_numpy()
    if not row_filled.all():
        last = np.flatnonzero(row_filled)[-1]
        inner = [int(r) for r in frame.index[: last + 1][~row_filled[: last + 1]]]
        if inner:
            shown = ", ".join(map(str, inner[:10])) + (" …" if len(inner) > 10 else "")
            warnings.append(
                f"{p} : {len(inner)} ligne(s) entièrement vide(s) ignorée(s) ({shown})."
            )
        frame = frame[row_filled]
    return frame


def _filled_cells(grid: pd.DataFrame) -> pd.DataFrame:
    """True where a cell holds something other than whitespace."""
    return grid.apply(lambda col: col.notna() & (col.astype(str).str.strip() != ""))


def _unique_names(
    names: list[str], positions: list[int], p: Path, warnings: list[str]
) -> list[str]:
    """Name unnamed columns ``colonne_<n>`` and number repeated names ``name (2)``."""
    out: list[str] = []
    seen: set[str] = set()
    for name, position in zip(names, positions, strict=True):
        original = name or f"colonne_{position}"
        candidate, k = original, 1
        while candidate in seen:
            k += 1
            candidate = f"{original} ({k})"
        if not name:
            warnings.append(
                f"{p} : la colonne {position} n'a pas de titre ; nommée « {candidate} »."
            )
        elif candidate != name:
            warnings.append(
                f"{p} : colonne « {name} » en double ; la suivante est « {candidate} »."
            )
        seen.add(candidate)
        out.append(candidate)
    return out


def _empty_error(p: Path) -> SyntheseError:
    return SyntheseError(f"Fichier vide : {p} ne contient aucune réponse.")


# --- answers -------------------------------------------------------------------------------


# Letters and digits of any script (``\w`` minus the underscore).
_CONTENT = re.compile(r"[^\W_]")


def is_blank(text: str | None) -> bool:
    """True for a non-answer: empty, whitespace, or only punctuation (« . », « - », « ? »).

    Words such as « RAS » or « sans avis » are answers; so is a digit or an emoji.
    """
    if text is None:
        return True
    if _CONTENT.search(text):
        return False
    return not any(unicodedata.category(ch) == "So" for ch in text)


def build_answers(
    export: Export,
    questions: list[str],
    id_column: str | None = None,
    limit: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split an export into ``(respondents, answers)``.

    ``respondents``: respondent_id, row_number, metadata (dict of every other column).
    ``answers``: respondent_id, row_number, question, text (None -> ""), blank.
    The respondent id is the ``id_column`` value (stripped) or the spreadsheet row number.
    ``limit`` keeps the first N data rows. Warnings about very long answers are appended to
    ``export.warnings``.
    """
    p = export.path
    frame = export.frame
    if limit is not None:
        if limit < 1:
            raise SyntheseError(f"Limite invalide ({limit}) pour {p} : indiquez au moins 1 ligne.")
        frame = frame.iloc[:limit]
    questions = list(dict.fromkeys(q.strip() for q in questions))
    if not questions:
        raise SyntheseError(
            f"Aucune question choisie pour {p} : indiquez la colonne des réponses. "
            f"Colonnes disponibles : {_list_columns(frame.columns)}"
        )
    id_column = id_column.strip() if id_column is not None else None
    for column in [*questions, *([id_column] if id_column else [])]:
        if column not in frame.columns:
            raise _missing_column_error(column, p, list(frame.columns))
    if id_column in questions:
        raise SyntheseError(
            f"La colonne « {id_column} » de {p} ne peut pas être à la fois l'identifiant et une "
            "question : choisissez-en une autre."
        )
    rows = frame.index.to_numpy(dtype=np.int64)
    ids = _respondent_ids(frame, id_column, p) if id_column else rows.astype(str).astype(object)

    others = [c for c in frame.columns if c not in questions and c != id_column]
    respondents = pd.DataFrame(
        {
            "respondent_id": pd.Series(ids, dtype=object),
            "row_number": rows,
            "metadata": pd.Series(frame[others].to_dict("records"), dtype=object),
        }
    )
    # Row-major flattening: respondent by respondent, questions in the order asked.
    texts = frame[questions].to_numpy(dtype=object).reshape(-1)
    texts = np.where(pd.isna(texts), "", texts).astype(object)
    answers = pd.DataFrame(
        {
            "respondent_id": pd.Series(np.repeat(ids, len(questions)), dtype=object),
            "row_number": np.repeat(rows, len(questions)),
            "question": pd.Series(
                np.tile(np.array(questions, dtype=object), len(rows)), dtype=object
            ),
            "text": pd.Series(texts, dtype=object),
            "blank": np.fromiter((is_blank(t) for t in texts), dtype=bool, count=len(texts)),
        }
    )
    _warn_long_answers(answers, export.warnings)
    return respondents, answers


@dataclass(frozen=True)
class ImportRows:
    """What one export adds to the store: raw rows (may hold personal data) and staged ones."""

    import_row: dict[str, Any]
    # respondent_id (the key in raw), import_id, row_number, metadata (JSON), public_id, label
    raw_respondents: pd.DataFrame
    # respondent_id (the public id), label, metadata without identifying columns
    staged_respondents: pd.DataFrame
    raw_answers: pd.DataFrame  # answer_id, respondent_id, question, row_number, text, import_id
    identifying: list[str]  # metadata columns kept in the raw layer only


@dataclass(frozen=True)
class Identity:
    """How the respondents of one import are keyed and named (issue 16).

    - Without an id column a respondent is a row of one export: its key is the export's
      hash plus the row number, so that a second export never merges into the first.
    - With an id column the key is its value, so that two exports of the same consultation
      meet on the same respondents. A value that is personal data (``personal``) stays in
      ``raw``: outside it the respondent is a pseudonym, keyed by the database's secret.
    - Every respondent has a short label, the only name the report prints.

    ``stored`` holds the answers of the same file already in the database (row_number,
    question, text, answer_id, respondent_id): imported again, they keep their keys, even
    those of a database made before this scheme, whose keys were bare row numbers.
    """

    secret: str
    personal: bool = False
    stored: pd.DataFrame | None = None


RESPONDENT_IDS = {"export": "export", "column": "colonne", "pseudonym": "pseudonyme"}


def respondent_key(export_sha256: str, row_number: int) -> str:
    """The key of a respondent who is a row of an export (no id column)."""
    return f"{export_sha256[:16]}-{row_number}"


def _keyed(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def pseudonym(secret: str, key: str) -> str:
    """The public id of a respondent whose id is personal data: stable in one database,
    not computable without its secret (a hash alone could be reversed from a list of
    emails)."""
    return "R-" + _keyed(secret, key)[:16]


def respondent_label(secret: str, key: str) -> str:
    """The name the report gives a respondent: never an id from the export (an id that
    looks harmless, such as a comment number, can lead back to its author)."""
    return "R-" + _keyed(secret, key)[:8]


def import_rows(
    export: Export,
    questions: list[str],
    id_column: str | None,
    limit: int | None,
    imported_at: datetime,
    identity: Identity,
) -> ImportRows:
    """The rows an export gives, keyed by content: the same export imported twice gives the
    same keys. Columns whose name identifies a person (name, email…) stay in the raw layer,
    and so does an id column that is personal data (see Identity)."""
    respondents, answers = build_answers(export, questions, id_column, limit)
    identifying = identifying_columns(
        [c for c in export.frame.columns if c not in questions and c != id_column]
    )
    import_id = content_hash(export.sha256, tuple(questions), id_column, limit)
    if id_column:
        key_of = dict(zip(respondents["respondent_id"], respondents["respondent_id"]))
    else:
        key_of = {rid: respondent_key(export.sha256, row) for rid, row in
                  zip(respondents["respondent_id"], respondents["row_number"])}
    answers = answers.assign(respondent_id=answers["respondent_id"].map(key_of))
    answer_ids = [content_hash(r, q, t) for r, q, t in
                  zip(answers["respondent_id"], answers["question"], answers["text"])]
    answers = answers.assign(answer_id=answer_ids)
    if not id_column and identity.stored is not None and len(identity.stored):
        answers = _keep_stored_keys(answers, identity.stored)
    # every row has one answer per question, all with the row's respondent key
    keys = respondents["row_number"].map(dict(zip(answers["row_number"], answers["respondent_id"])))
    public = [pseudonym(identity.secret, k) if identity.personal else k for k in keys]
    labels = [respondent_label(identity.secret, k) for k in keys]
    raw_answers = answers.assign(import_id=import_id)[
        ["answer_id", "respondent_id", "question", "row_number", "text", "import_id"]]
    raw_respondents = pd.DataFrame({
        "respondent_id": keys,
        "import_id": import_id,
        "row_number": respondents["row_number"].astype(int),
        "metadata": [to_json(m) for m in respondents["metadata"]],
        "public_id": public,
        "label": labels,
    })
    staged_respondents = pd.DataFrame({
        "respondent_id": public,
        "label": labels,
        "metadata": [to_json({k: v for k, v in m.items() if k not in identifying})
                     for m in respondents["metadata"]],
    })
    scheme = ("pseudonym" if identity.personal else "column") if id_column else "export"
    import_row = {
        "import_id": import_id, "file_name": export.path.name, "file_path": str(export.path),
        "file_sha256": export.sha256, "format": export.format, "encoding": export.encoding,
        "separator": export.separator, "n_rows": len(respondents), "questions": list(questions),
        "id_column": id_column, "identifying_columns": identifying, "imported_at": imported_at,
        "respondent_ids": RESPONDENT_IDS[scheme],
    }
    return ImportRows(import_row, raw_respondents, staged_respondents, raw_answers, identifying)


def _keep_stored_keys(answers: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Answers of rows already stored take the stored keys: an answer found again (same row,
    question and text) its answer id, and every answer of such a row its respondent key."""
    stored = stored.astype({"row_number": int})
    same = answers.merge(stored, on=["row_number", "question", "text"], how="left",
                         suffixes=("", "_stored"))
    row_key = stored.drop_duplicates("row_number").set_index("row_number")["respondent_id"]
    respondent = same["row_number"].map(row_key)
    same["respondent_id"] = respondent.where(respondent.notna(), same["respondent_id"])
    new_ids = [content_hash(r, q, t) for r, q, t in
               zip(same["respondent_id"], same["question"], same["text"])]
    same["answer_id"] = same["answer_id_stored"].where(same["answer_id_stored"].notna(),
                                                       pd.Series(new_ids, index=same.index))
    return same[answers.columns]


# Values that are contact details whatever the column's name (without the pseudonymiser).
_CONTACT_VALUE = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"  # an email
    r"|^\s*(?:(?:\+|00)\s?\d{2}\s?|0)[1-9](?:[\s./-]?\d{2}){4}\s*$"  # a phone number
)
# What the pseudonymiser finds in a value that makes it personal data; a school or its UAI
# code is not a person.
PERSONAL_ENTITIES = frozenset({"PERSONNE", "EMAIL", "TELEPHONE", "ADRESSE", "NIR", "IBAN",
                               "URL", "IDENTIFIANT", "DATE_NAISSANCE"})
_CHECKED_VALUES = 50


def personal_id_column(export: Export, id_column: str, pseudonymiser: Any = None) -> bool:
    """Whether the id column holds personal data: its name says so (identifying_columns), a
    value is an email or a phone number, or the pseudonymiser finds a person, a contact or
    an identifier in one of its first values."""
    if identifying_columns([id_column]):
        return True
    values = [v.strip() for v in export.frame[id_column].dropna().astype(str) if v.strip()]
    if any(_CONTACT_VALUE.search(v) for v in values):
        return True
    if pseudonymiser is None:
        return False
    sample = list(dict.fromkeys(values))[:_CHECKED_VALUES]
    found = pseudonymiser.pseudonymise_many(sample)
    return any(e.type in PERSONAL_ENTITIES for result in found for e in result.entities)


def _respondent_ids(frame: pd.DataFrame, id_column: str, p: Path) -> np.ndarray:
    ids = frame[id_column].map(lambda v: v.strip() if isinstance(v, str) else "")
    blank = ids == ""
    if blank.any():
        row = int(ids.index[blank.to_numpy()][0])
        raise SyntheseError(
            f"Identifiant vide ligne {row} de {p} (colonne « {id_column} ») : complétez-le ou "
            "n'utilisez pas --id-column."
        )
    repeated = ids.duplicated(keep=False)
    if repeated.any():
        first = ids[repeated].iloc[0]
        where = [int(r) for r in ids.index[(ids == first).to_numpy()]]
        raise SyntheseError(
            f"Identifiant « {first} » en double dans la colonne « {id_column} » de {p} (lignes "
            f"{where[0]} et {where[1]}) : choisissez une colonne aux valeurs uniques ou omettez "
            "--id-column."
        )
    return ids.to_numpy(dtype=object)


def _warn_long_answers(answers: pd.DataFrame, warnings: list[str]) -> None:
    lengths = answers["text"].str.len().to_numpy()
    long_ones = np.flatnonzero(lengths > MAX_ANSWER_CHARS)
    new: list[str] = []
    for i in long_ones[:_MAX_LONG_WARNINGS]:
        new.append(
            f"Ligne {answers['row_number'].iat[i]}, colonne « {answers['question'].iat[i]} » : "
            f"réponse très longue ({_french_int(int(lengths[i]))} caractères) ; "
            "elle sera traitée par morceaux."
        )
    if len(long_ones) > _MAX_LONG_WARNINGS:
        new.append(
            f"… et {len(long_ones) - _MAX_LONG_WARNINGS} autre(s) réponse(s) de plus de "
            f"{_french_int(MAX_ANSWER_CHARS)} caractères, traitée(s) par morceaux."
        )
    warnings.extend(w for w in new if w not in warnings)  # build_answers may run twice


def _french_int(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _missing_column_error(column: str, p: Path, available: list[str]) -> SyntheseError:
    close = difflib.get_close_matches(column, available, n=1, cutoff=0.6)
    hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
    return SyntheseError(
        f"Colonne « {column} » absente de {p}{hint}. Colonnes disponibles : "
        f"{_list_columns(available)}"
    )


def _list_columns(columns: list[str] | pd.Index) -> str:
    names = [c if len(c) <= 60 else c[:59] + "…" for c in map(str, columns)]
    shown = ", ".join(names[:_MAX_LISTED_COLUMNS])
    if len(names) > _MAX_LISTED_COLUMNS:
        shown += f", … ({len(names) - _MAX_LISTED_COLUMNS} autres)"
    return shown


# --- identifying columns -------------------------------------------------------------------

# Words that, anywhere in a column name, say the column identifies or contacts a person.
# Matching errs on the side of flagging: a flagged column only stays in the raw layer, while
# a missed one would carry personal data into the report.
_PERSON_WORDS = frozenset(
    {
        "name", "nom", "prenom", "prenoms", "firstname", "lastname", "surname", "fullname",
        "givenname", "familyname", "displayname", "nickname", "username", "userid", "login",
        "pseudo", "pseudonyme", "author", "auteur", "auteure", "autrice", "email", "mail",
        "courriel", "telephone", "phone", "tel", "mobile", "portable", "adresse", "address",
        "ip", "ipaddr", "ipaddress", "token", "signature", "naissance", "birthdate", "birthday",
    }
)  # fmt: skip
# Compound tokens (``authorname``, ``emailaddress``, ``telephoneportable``) start with these.
_PERSON_PREFIXES = ("author", "auteur", "email", "courriel", "telephon", "prenom", "pseudo",
                    "username", "adresse", "address")  # fmt: skip
# ``user`` alone is too vague (``user_group``); ``user_id``, ``user_name``... are not.
_USER_WORDS = frozenset({"user", "utilisateur"})
_USER_FIELDS = frozenset({"id", "name", "nom", "email", "mail", "login"})
# A name qualified by one of these is an organisation's or a place's, not a person's:
# ``nom_etablissement``, ``category/name/fr``, ``user_group/name``. Contact columns (email,
# phone, address) stay flagged even then: a school's email often reaches one person.
_NOT_A_PERSON = frozenset(
    {
        "etablissement", "ecole", "college", "lycee", "universite", "academie", "school",
        "institution", "commune", "ville", "city", "departement", "region", "pays", "country",
        "structure", "organisation", "organization", "organisme", "entreprise", "company",
        "societe", "association", "service", "equipe", "team", "group", "groupe", "category",
        "categorie", "scope", "theme", "projet", "project", "question", "debat", "debate",
        "consultation", "fichier", "file", "formulaire", "form", "component", "process",
        "discipline", "matiere", "site",
    }
)  # fmt: skip


def identifying_columns(columns: list[str]) -> list[str]:
    """The columns whose name says they identify a person (name, email, phone, author...).

    Case- and accent-insensitive, on the words of the name (``author/name``,
    ``author_email``, ``Adresse e-mail``, ``authorName``). Not flagged: ``nombre``, and a
    name that belongs to an organisation or place (``nom_etablissement``).
    """
    return [c for c in columns if _names_a_person(c)]


def _names_a_person(column: str) -> bool:
    tokens = _words(column)
    hits = {t for t in tokens if t in _PERSON_WORDS or t.startswith(_PERSON_PREFIXES)}
    hits |= {f"{a}_{b}" for a, b in pairwise(tokens) if a in _USER_WORDS and b in _USER_FIELDS}
    if hits and hits <= {"name", "nom"} and _NOT_A_PERSON.intersection(tokens):
        return False
    return bool(hits)


def _words(column: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(column))  # authorName -> author Name
    ascii_text = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", ascii_text.lower())
