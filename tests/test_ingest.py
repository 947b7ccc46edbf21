"""Reading consultation exports: formats, encodings, separators, errors and answers."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from bad_inputs import BAD_EXPORTS

from synthese.errors import SyntheseError
from synthese.ingest import (
    MAX_ANSWER_CHARS,
    Identity,
    build_answers,
    identifying_columns,
    import_rows,
    is_blank,
    personal_id_column,
    read_export,
)
from synthese.keys import file_sha256

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
GRAND_DEBAT = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "grand-debat-mel"
    / "raw"
    / "commentaires_debats.csv"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(SyntheseError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- real exports --------------------------------------------------------------------------


def test_grand_debat_export_gives_twenty_answers_with_limit():
    export = read_export(GRAND_DEBAT)
    assert (export.format, export.encoding, export.separator) == ("csv", "utf-8", ";")
    assert export.sha256 == file_sha256(GRAND_DEBAT)
    assert len(export.frame) == 693
    assert list(export.frame.columns[:5]) == [
        "id",
        "created_at",
        "body",
        "author/id",
        "author/name",
    ]

    respondents, answers = build_answers(export, ["body"], limit=20)

    assert len(answers) == 20 and len(respondents) == 20
    assert answers["row_number"].tolist() == list(range(2, 22))
    assert answers["respondent_id"].iloc[0] == "2"
    assert answers["text"].iloc[0] == "l'état devrait mieux écouter les maires des villes"
    # The third comment spans two lines in the file: kept whole, newline included.
    assert answers["text"].iloc[2].startswith("Il est essentiel de créer un nouveau Pole")
    assert "\nIl aura pour objectif" in answers["text"].iloc[2]
    assert respondents["metadata"].iloc[0]["author/name"] == "guerin"
    assert respondents["metadata"].iloc[0]["user_group/id"] is None
    assert "body" not in respondents["metadata"].iloc[0]


def test_grand_debat_author_columns_are_identifying():
    columns = list(read_export(GRAND_DEBAT).frame.columns)
    assert identifying_columns(columns) == ["author/id", "author/name"]


def test_grand_debat_ids_are_unique_and_used_as_respondent_ids():
    _, answers = build_answers(read_export(GRAND_DEBAT), ["body"], id_column="id", limit=3)
    assert answers["respondent_id"].tolist() == ["515", "484", "485"]


def test_google_forms_export_with_long_question_headers():
    export = read_export(FIXTURES / "google_forms.csv")
    assert export.separator == ","
    q1, q2 = export.frame.columns[2:4]
    assert q1.startswith("Que pensez-vous de l'usage") and q2.startswith("Selon vous, quelles")

    respondents, answers = build_answers(export, [q1, q2])

    assert len(respondents) == 4 and len(answers) == 8
    assert answers["question"].tolist()[:2] == [q1, q2]
    assert answers["text"].iloc[2] == (
        "Je suis inquiet :\n- les élèves trichent ;\n- les données partent à l'étranger."
    )
    # The multi-line answer is one spreadsheet row: the next respondent is row 4, not 6.
    assert respondents["row_number"].tolist() == [2, 3, 4, 5]
    assert answers.loc[answers["text"] == "RAS", "blank"].tolist() == [False]
    assert answers.loc[answers["text"] == ".", "blank"].tolist() == [True]
    assert (
        answers.loc[(answers["row_number"] == 4) & (answers["question"] == q2), "text"].iat[0] == ""
    )
    assert respondents["metadata"].iloc[0] == {
        "Horodateur": "2024/03/01 10:22:33 UTC+1",
        "Adresse e-mail": "a.martin@example.org",
        "Votre académie": "Lyon",
    }
    assert identifying_columns(list(export.frame.columns)) == ["Adresse e-mail"]


def test_cp1252_export_is_decoded_with_euro_and_oe():
    export = read_export(FIXTURES / "framaforms_cp1252.csv")
    assert (export.encoding, export.separator) == ("cp1252", ";")
    frame = export.frame
    assert list(frame.columns) == [
        "Identifiant",
        "Date de soumission",
        "Votre avis sur l'IA à l'école",
        "Établissement",
    ]
    answers = frame["Votre avis sur l'IA à l'école"].tolist()
    assert "30 € par élève" in answers[0]
    # CRLF inside the quoted cell becomes one newline; the text is otherwise untouched.
    assert answers[1] == "Le cœur du métier, c'est la relation ; l'IA n'y changera rien.\nVoilà."
    assert answers[2] == "Œuvre utile, à encadrer."
    assert frame.index.tolist() == [2, 3, 4]


# --- CSV dialects --------------------------------------------------------------------------

ROWS = [["id", "avis", "commune"], ["1", "Oui, mais ; avec prudence", "Lille"], ["2", "Non", ""]]


def csv_text(sep: str) -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if ("," in v or ";" in v or "\t" in v) else v

    return "".join(sep.join(cell(v) for v in row) + "\n" for row in ROWS)


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_separator_and_bom_are_detected(tmp_path, sep, encoding):
    path = write(tmp_path / "export.csv", csv_text(sep), encoding)
    export = read_export(path)
    assert (export.separator, export.encoding) == (sep, encoding)
    assert list(export.frame.columns) == ["id", "avis", "commune"]
    assert export.frame["avis"].tolist() == ["Oui, mais ; avec prudence", "Non"]
    assert export.frame["commune"].tolist() == ["Lille", None]


def test_tsv_extension_is_read_as_csv(tmp_path):
    export = read_export(write(tmp_path / "export.tsv", csv_text("\t")))
    assert (export.format, export.separator) == ("csv", "\t")


def test_semicolon_export_with_unquoted_commas_in_every_answer(tmp_path):
    text = "id;avis\n" + "".join(f"{i};Bien, mais cher, et lent, hélas\n" for i in range(40))
    export = read_export(write(tmp_path / "export.csv", text))
    assert export.separator == ";"
    assert export.frame["avis"].iat[0] == "Bien, mais cher, et lent, hélas"


def test_single_column_export_with_commas_in_answers(tmp_path):
    export = read_export(write(tmp_path / "export.csv", "avis\nOui, bien sûr\nNon, jamais\n"))
    assert list(export.frame.columns) == ["avis"]
    assert export.frame["avis"].tolist() == ["Oui, bien sûr", "Non, jamais"]


def test_multiline_quoted_cells_keep_inner_newlines_and_row_numbers(tmp_path):
    text = 'id,avis\r\n1,"Premier point.\r\n\r\n  Second point, indenté."\r\n2,Court\r\n'
    export = read_export(write(tmp_path / "export.csv", text))
    assert export.frame["avis"].tolist() == ["Premier point.\n\n  Second point, indenté.", "Court"]
    assert export.frame.index.tolist() == [2, 3]


def test_a_lone_carriage_return_ends_a_line_like_any_other(tmp_path):
    # old Mac line endings (issue 16: this crashed with Python's English csv error)
    path = tmp_path / "cr.csv"
    path.write_bytes(b"id;reponse\rA1;un\rA2;deux\r")
    export = read_export(path)
    assert export.separator == ";" and export.frame["reponse"].tolist() == ["un", "deux"]
    assert export.frame["id"].tolist() == ["A1", "A2"] and export.frame.index.tolist() == [2, 3]
    # a CR alone inside a quoted cell, in an otherwise LF file, is a line break of the cell
    path.write_bytes(b'id;avis\n1;"Premier.\rSecond."\n2;Court\n')
    assert read_export(path).frame["avis"].tolist() == ["Premier.\nSecond.", "Court"]


def test_excel_sep_hint_line_is_honoured(tmp_path):
    export = read_export(write(tmp_path / "export.csv", "sep=;\nid;avis\n1;a,b\n"))
    assert export.separator == ";"
    assert export.frame["avis"].tolist() == ["a,b"]


def test_na_like_words_stay_text_and_empty_cells_are_none(tmp_path):
    export = read_export(write(tmp_path / "export.csv", 'id;avis\n1;NA\n2;null\n3;""\n4;\n'))
    assert export.frame["avis"].tolist() == ["NA", "null", None, None]
    assert export.frame.dtypes.tolist() == [object, object]


def test_column_names_are_stripped_renamed_when_repeated_or_unnamed(tmp_path):
    text = " id ;avis; avis ;;\n1;a;b;c;\n"
    export = read_export(write(tmp_path / "export.csv", text))
    # The trailing separator's empty, unnamed column is dropped; the named-less one with data
    # gets a position name.
    assert list(export.frame.columns) == ["id", "avis", "avis (2)", "colonne_4"]
    assert any("« avis » en double" in w for w in export.warnings)
    assert any("colonne 4 n'a pas de titre" in w for w in export.warnings)


def test_blank_rows_are_dropped_but_row_numbers_stay_those_of_the_file(tmp_path):
    export = read_export(write(tmp_path / "export.csv", "id;avis\n1;a\n;\n\n4;d\n\n\n"))
    assert export.frame.index.tolist() == [2, 5]
    _, answers = build_answers(export, ["avis"])
    assert answers["respondent_id"].tolist() == ["2", "5"]
    assert export.warnings == [
        f"{tmp_path / 'export.csv'} : 2 ligne(s) entièrement vide(s) ignorée(s) (3, 4)."
    ]


def test_mixed_utf8_and_cp1252_keeps_both_accents_and_warns(tmp_path):
    # A UTF-8 export with one line pasted from a Windows-1252 file.
    utf8_part = "id;avis\n" + "".join(f"{i};très élevé, à revoir\n" for i in range(1, 6))
    data = utf8_part.encode() + "6;déjà vu\n".encode("cp1252")
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    export = read_export(path)
    assert export.frame["avis"].tolist() == ["très élevé, à revoir"] * 5 + ["déjà vu"]
    assert export.encoding == "utf-8+cp1252"
    assert "ligne 7" in export.warnings[0] and "Windows-1252" in export.warnings[0]


# --- spreadsheets --------------------------------------------------------------------------


def test_xlsx_numeric_ids_come_back_without_decimal_point(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Réponses"
    sheet.append(["ID", "Heure de début", "Avis", "Note"])
    sheet.append([1001, pd.Timestamp("2024-03-01 10:22:33").to_pydatetime(), "Bien\nvraiment", 3.5])
    sheet.append([1002, None, None, 4])
    book.create_sheet("Résumé").append(["rien"])
    path = tmp_path / "forms.xlsx"
    book.save(path)

    export = read_export(path)

    assert (export.format, export.encoding, export.separator) == ("xlsx", None, None)
    assert export.frame["ID"].tolist() == ["1001", "1002"]
    assert export.frame["Note"].tolist() == ["3.5", "4"]
    assert export.frame["Heure de début"].tolist() == ["2024-03-01 10:22:33", None]
    assert export.frame["Avis"].tolist() == ["Bien\nvraiment", None]
    assert export.warnings == [
        f"{path} contient 2 feuilles : seule la première (« Réponses ») est lue."
    ]
    _, answers = build_answers(export, ["Avis"], id_column="ID")
    assert answers["respondent_id"].tolist() == ["1001", "1002"]
    assert answers["blank"].tolist() == [False, True]


def test_xlsx_table_starting_below_blank_rows_keeps_sheet_row_numbers(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"], sheet["C3"] = "id", "avis"
    sheet["B4"], sheet["C4"] = 7, "oui"
    path = tmp_path / "export.xlsx"
    book.save(path)
    export = read_export(path)
    assert list(export.frame.columns) == ["id", "avis"]
    assert export.frame.index.tolist() == [4]


def test_ods_export_is_read_with_numbers_as_text(tmp_path):
    path = tmp_path / "export.ods"
    frame = pd.DataFrame({"id": [1001, 1002], "avis": ["Pour", "Contre, car coûteux"]})
    frame.to_excel(path, index=False, engine="odf")
    export = read_export(path)
    assert export.format == "ods"
    assert export.frame.to_dict("list") == {
        "id": ["1001", "1002"],
        "avis": ["Pour", "Contre, car coûteux"],
    }


@pytest.mark.parametrize("suffix,engine", [("ods", "odf"), ("xlsx", "openpyxl")])
def test_a_workbook_opening_on_an_empty_sheet_is_read_from_its_first_filled_sheet(
        tmp_path, suffix, engine):
    path = tmp_path / f"export.{suffix}"
    with pd.ExcelWriter(path, engine=engine) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="Notes", index=False)
        pd.DataFrame({"id": ["A1", "A2"], "avis": ["un", "deux"]}).to_excel(
            writer, sheet_name="Réponses", index=False)
    export = read_export(path)  # was « Fichier vide »
    assert export.frame.to_dict("list") == {"id": ["A1", "A2"], "avis": ["un", "deux"]}
    assert export.warnings == [(f"{path} : feuille(s) vide(s) « Notes » ; la feuille « Réponses » "
                               "est lue, et elle seule.")]


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", BAD_EXPORTS, ids=lambda c: c.id)
def test_a_bad_export_is_one_french_line_naming_the_file_line_or_column(tmp_path, case):
    path = case.write(tmp_path)
    message = error_of(lambda: build_answers(read_export(path), [case.question], case.id_column))
    assert message.startswith(case.expected(path)), message


def test_missing_column_suggests_a_close_name_and_truncates_a_long_list(tmp_path):
    header = ";".join(["body", *[f"meta_{i}" for i in range(30)]])
    export = read_export(write(tmp_path / "export.csv", header + "\n" + ";" * 30 + "x\n"))
    message = error_of(build_answers, export, ["Body"])
    assert "(vouliez-vous dire « body » ?)" in message
    assert message.endswith("meta_10, … (19 autres)")


def test_no_question_is_an_error(tmp_path):
    export = read_export(write(tmp_path / "export.csv", "id;body\n7;a\n"))
    assert error_of(build_answers, export, []).startswith("Aucune question choisie")


# --- answers -------------------------------------------------------------------------------


def test_fifty_thousand_character_answer_is_kept_whole_with_a_warning(tmp_path):
    long_answer = "L'IA " + "x" * (50_000 - 5)
    rows = "".join(f"{i};court\n" for i in range(1, 11))
    path = write(tmp_path / "export.csv", f"id;body\n{rows}11;{long_answer}\n12;fin\n")
    export = read_export(path)

    _, answers = build_answers(export, ["body"])

    assert len(answers) == 12
    assert answers["text"].iat[10] == long_answer
    expected = (
        "Ligne 12, colonne « body » : réponse très longue (50 000 caractères) ; "
        "elle sera traitée par morceaux."
    )
    assert export.warnings == [expected]
    build_answers(export, ["body"])  # a second call does not repeat the warning
    assert len(export.warnings) == 1


def test_only_answers_longer_than_the_bound_are_flagged(tmp_path):
    at_bound, over = "x" * MAX_ANSWER_CHARS, "x" * (MAX_ANSWER_CHARS + 1)
    path = write(tmp_path / "export.csv", f"id;body\n1;{at_bound}\n2;{over}\n")
    export = read_export(path)

    build_answers(export, ["body"])

    assert len(export.warnings) == 1 and export.warnings[0].startswith("Ligne 3,")


def test_many_long_answers_give_a_bounded_number_of_warnings(tmp_path):
    rows = "".join(f"{i};{'y' * (MAX_ANSWER_CHARS + 1)}\n" for i in range(30))
    export = read_export(write(tmp_path / "export.csv", "id;body\n" + rows))
    build_answers(export, ["body"])
    assert len(export.warnings) == 21
    assert export.warnings[-1].startswith("… et 10 autre(s) réponse(s)")


def test_blank_answers_are_kept_and_flagged(tmp_path):
    text = 'id;body\n1;\n2;  \n3;.\n4;-\n5;/\n6;?\n7;RAS\n8;sans avis\n9;"  Non.  "\n'
    _, answers = build_answers(read_export(write(tmp_path / "e.csv", text)), ["body"])
    assert answers["blank"].tolist() == [True] * 6 + [False] * 3
    assert answers["text"].tolist()[:3] == ["", "  ", "."]
    assert answers["text"].iat[8] == "  Non.  "


def test_two_questions_give_one_row_per_respondent_and_question(tmp_path):
    text = "id;q1;q2;commune\n10;a;b;Lille\n11;c;;Roubaix\n"
    respondents, answers = build_answers(
        read_export(write(tmp_path / "e.csv", text)), ["q1", "q2"], id_column="id"
    )
    assert respondents.to_dict("list") == {
        "respondent_id": ["10", "11"],
        "row_number": [2, 3],
        "metadata": [{"commune": "Lille"}, {"commune": "Roubaix"}],
    }
    assert answers[["respondent_id", "question", "text", "blank"]].values.tolist() == [
        ["10", "q1", "a", False],
        ["10", "q2", "b", False],
        ["11", "q1", "c", False],
        ["11", "q2", "", True],
    ]
    assert answers["row_number"].tolist() == [2, 2, 3, 3]


def test_limit_keeps_the_first_rows_before_checking_ids(tmp_path):
    export = read_export(write(tmp_path / "e.csv", "id;body\n1;a\n2;b\n1;c\n"))
    respondents, answers = build_answers(export, ["body"], id_column="id", limit=2)
    assert respondents["respondent_id"].tolist() == ["1", "2"]
    assert answers["text"].tolist() == ["a", "b"]
    assert "Limite invalide" in error_of(build_answers, export, ["body"], limit=0)


@pytest.mark.parametrize(
    ("text", "blank"),
    [
        (None, True),
        ("", True),
        ("   \n\t", True),
        (".", True),
        (" - ", True),
        ("/", True),
        ("?", True),
        ("…", True),
        ("***", True),
        ("_", True),
        ("RAS", False),
        ("sans avis", False),
        ("Non.", False),
        ("0", False),
        ("é", False),
        ("👍", False),
    ],
)
def test_is_blank(text, blank):
    assert is_blank(text) is blank


# --- identifying columns -------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    [
        "author/name",
        "author/id",
        "author_email",
        "authorName",
        "Nom",
        "Prénom",
        "PRENOM",
        "Nom d'utilisateur",
        "E-mail",
        "Adresse e-mail",
        "Adresse de messagerie",
        "courriel",
        "Téléphone",
        "telephone_portable_fourni",
        "Tél.",
        "phone_number",
        "Adresse IP",
        "ipaddr",
        "IPAddress",
        "username",
        "Pseudo",
        "login",
        "user_id",
        "userId",
        "token",
        "Date de naissance",
    ],
)
def test_person_columns_are_identifying(column):
    assert identifying_columns([column]) == [column]


@pytest.mark.parametrize(
    "column",
    [
        "nombre",
        "Nombre d'élèves",
        "nom_etablissement",
        "Nom de l'établissement",
        "user_group/id",
        "user_group/name/fr",
        "category/name/fr",
        "id",
        "body",
        "created_at",
        "Horodateur",
        "Votre académie",
        "commune",
        "hotel",
        "zip",
        "Dénomination",
    ],
)
def test_look_alike_columns_are_not_identifying(column):
    assert identifying_columns([column]) == []


def test_identifying_columns_keeps_the_given_order():
    columns = ["id", "email", "avis", "Nom", "commune"]
    assert identifying_columns(columns) == ["email", "Nom"]


# --- respondent identity (issue 16) -------------------------------------------------------


def _rows(export, id_column=None, personal=False, secret="s"):
    return import_rows(export, ["avis"], id_column, None, datetime(2026, 1, 1),
                       Identity(secret, personal))


def test_without_id_column_two_exports_never_share_a_respondent(tmp_path):
    first = read_export(write(tmp_path / "a.csv", "avis\nun\ndeux\n"))
    second = read_export(write(tmp_path / "b.csv", "avis\ntrois\nquatre\n"))
    a, b, a_again = _rows(first), _rows(second), _rows(first)
    assert set(a.raw_respondents["respondent_id"]).isdisjoint(b.raw_respondents["respondent_id"])
    assert list(a.raw_respondents["respondent_id"]) == [
        f"{first.sha256[:16]}-2", f"{first.sha256[:16]}-3"]
    assert a_again.raw_answers.equals(a.raw_answers)  # the same export: the same keys


def test_a_personal_id_is_replaced_outside_raw_by_a_stable_keyed_pseudonym(tmp_path):
    export = read_export(write(tmp_path / "a.csv", "courriel;avis\neva@ac-lyon.fr;un\n"))
    rows = _rows(export, "courriel", personal=True)
    public = rows.staged_respondents["respondent_id"].iat[0]
    assert rows.raw_respondents["respondent_id"].iat[0] == "eva@ac-lyon.fr"
    assert re.fullmatch(r"R-[0-9a-f]{16}", public)
    assert rows.staged_respondents["label"].iat[0] == public[:10]
    assert _rows(export, "courriel", personal=True).staged_respondents.equals(
        rows.staged_respondents)
    assert _rows(export, "courriel", True, "another database").staged_respondents[
        "respondent_id"].iat[0] != public
    assert rows.import_row["respondent_ids"] == "pseudonyme"


@pytest.mark.parametrize(("column", "values", "personal"), [
    ("Adresse e-mail", ["1", "2"], True),  # the name says so
    ("id", ["eva@ac-lyon.fr", "paul@ac-lyon.fr"], True),
    ("numero", ["06 12 34 56 78", "+33 6 12 34 56 79"], True),
    ("id", ["R1", "R2"], False),
    ("id_reponse", ["1001", "1002"], False),
])
def test_an_id_column_is_personal_by_its_name_or_its_values(tmp_path, column, values, personal):
    text = f"{column};avis\n" + "".join(f"{v};oui\n" for v in values)
    export = read_export(write(tmp_path / "a.csv", text))
    assert personal_id_column(export, column) is personal


def test_mixed_encodings_are_read_line_by_line_even_when_windows_1252_has_more_accents(
        tmp_path):
    # issue 16: one UTF-8 line and one Windows-1252 line with more accents was decoded whole
    # as Windows-1252 (« Ã‰lÃ¨ve trÃ¨s motivÃ© »), with no warning
    path = tmp_path / "export.csv"
    path.write_bytes("id;avis\n1;Élève très motivé\n".encode()
                     + "2;Déjà vu à l'école, très réussi\n".encode("cp1252"))
    export = read_export(path)
    assert export.frame["avis"].tolist() == ["Élève très motivé", "Déjà vu à l'école, très réussi"]
    assert len(export.warnings) == 1
    assert "ligne 3" in export.warnings[0] and "Windows-1252" in export.warnings[0]


def test_a_windows_1252_file_stays_windows_1252_without_warning(tmp_path):
    path = tmp_path / "export.csv"
    # « É » then a no-break space happens to be valid UTF-8 (« ɠ »), which no French uses
    path.write_bytes("id;avis\n1;Élève très motivé\n2;Déjà vu\n3;É\xa0!\n".encode("cp1252"))
    export = read_export(path)
    assert export.encoding == "cp1252" and export.warnings == []
    assert export.frame["avis"].tolist() == ["Élève très motivé", "Déjà vu", "É\xa0!"]


def test_a_windows_1252_file_that_is_also_valid_utf8_is_read_as_windows_1252(tmp_path):
    # « acté…» » in Windows-1252 is E9 85 BB, valid UTF-8 for one Chinese character: a short
    # export whose every accented letter is followed by symbols was read as UTF-8.
    path = tmp_path / "export.csv"
    data = "id;avis\n1;Fini, c'est acté…»\n2;Bof\n".encode("cp1252")
    data.decode("utf-8")  # valid UTF-8, to any reader
    path.write_bytes(data)
    export = read_export(path)
    assert export.encoding == "cp1252" and export.warnings == []
    assert export.frame["avis"].tolist() == ["Fini, c'est acté…»", "Bof"]
    # Beside a line that is not UTF-8, the line is Windows-1252 too, with no warning.
    path.write_bytes("id;avis\n1;Fini, c'est acté…»\n2;Plutôt pour\n".encode("cp1252"))
    export = read_export(path)
    assert export.encoding == "cp1252" and export.warnings == []
    assert export.frame["avis"].tolist() == ["Fini, c'est acté…»", "Plutôt pour"]


def test_a_utf8_file_with_chinese_and_french_letters_stays_utf8(tmp_path):
    path = tmp_path / "export.csv"
    text = "id;avis\n1;Le mot 漢字 est écrit en japonais\n2;인공지능\n"
    path.write_bytes(text.encode())
    export = read_export(path)
    assert export.encoding == "utf-8" and export.warnings == []
    assert export.frame["avis"].tolist() == ["Le mot 漢字 est écrit en japonais", "인공지능"]
    # With a byte-order mark, the file says it is UTF-8, whatever it holds.
    path.write_bytes(b"\xef\xbb\xbf" + "id;avis\n1;漢字\n".encode())
    assert read_export(path).frame["avis"].tolist() == ["漢字"]
    # A UTF-8 line with Chinese and French letters, beside a Windows-1252 one, stays UTF-8.
    path.write_bytes("id;avis\n1;漢字, déjà\n".encode() + "2;Plutôt pour\n".encode("cp1252"))
    export = read_export(path)
    assert export.frame["avis"].tolist() == ["漢字, déjà", "Plutôt pour"]
    assert export.encoding == "utf-8+cp1252"
