"""The report as DOCX and ODT, the data as XLSX (documents.py, workbook.py, export.py).

The files of a real run (fake LLM, real pseudonymisation, real DuckDB) are read back with
the libraries that wrote them and checked against DuckDB: the synthesis, the themes and
their counts, every sheet against its mart row for row. LibreOffice opens each one as a user
would and converts it to PDF, whose first page poppler renders. No original name or email
of the raw schema may be in any of them, and a respondent's formula stays text.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from runs import run
from typer.testing import CliRunner

from synthese.cli import app
from synthese.documents import NBSP, NNBSP, french_typography
from synthese.report import format_number, format_share
from synthese.storage import Store
from synthese.synthesise import SECTION_TITLES, SECTIONS
from synthese.workbook import MAX_CELL, cell_value

FORMULA = '=HYPERLINK("http://x";"clic")'
ANSWERS = [  # id, academie, nom, courriel, answer
    ("R1", "Lyon", "Jean Martin", "jean.martin@ac-lyon.fr",
     "L'IA aide à préparer les cours. Elle fait gagner du temps aux enseignants."),
    ("R2", "Lyon", "Paul Durand", "paul.durand@ac-lyon.fr",
     "Les élèves trichent avec ChatGPT. Il faut interdire son usage en classe."),
    ("R3", "Lille", "Marie Curie", "", ""),
    ("R4", "Lille", "Ana Lopez", "ana.lopez@exemple.fr",
     "Il faut former les enseignants avant tout. Sans formation, pas de bon usage."),
    ("R5", "Créteil", "Eva Roux", "",
     "L'IA fait gagner du temps pour préparer les cours. Contactez-moi : eva.roux@ac-creteil.fr"),
    ("R6", "Nantes", "Tom Blanc", "",
     ("Les élèves risquent de perdre leur esprit critique. Mon collègue Hervé Lemoine le "
      "constate aussi.")),
    ("R7", "Nantes", "Zoé Noir", "",
     "Former les enseignants est indispensable. La formation doit être concrète."),
    ("R8", "Lyon", "Max Vert", "",
     "La triche avec ChatGPT est massive. Les devoirs maison n'ont plus de sens."),
    ("R9", "Lyon", "Léa Gris", "",
     "Appelez-moi au 06 12 34 56 78. L'esprit critique des élèves est menacé par l'IA."),
    ("R10", "Lille", "Luc Petit", "", '"' + FORMULA.replace('"', '""') + '"'),
    ("R11", "Lille", "Noé Brun", "", "+1 pour l'IA en classe, elle aide les élèves en difficulté."),
    ("R12", "Créteil", "Ivy Lenoir", "", "@ chacun : l'IA aide à préparer les cours plus vite."),
    ("R13", "Créteil", "Ugo Faure", "", '"- Former les enseignants ; - donner du temps."'),
]
SHEETS = ["Réponses", "Arguments", "Thèmes", "Synthèse", "Thèmes par groupe", "Exécution"]


# --- rules ----------------------------------------------------------------------------------


def test_french_typography_makes_the_spaces_no_break_and_adds_none_to_quotes():
    text = french_typography("Question : pourquoi ? Voilà ; « oui » ! http://x?a=1 21:03")
    assert text == (f"Question{NBSP}: pourquoi{NNBSP}? Voilà{NNBSP}; «{NBSP}oui{NBSP}»{NNBSP}! "
                    "http://x?a=1 21:03")
    assert french_typography("«oui»") == f"«{NBSP}oui{NBSP}»"
    assert french_typography("a\x00b\x0c") == "a\ufffdb\ufffd"  # XML cannot hold them


def test_each_summary_sentence_and_title_says_who_wrote_it_as_the_html_badges_do():
    """A summary sentence taken from a respondent's idea, or written by code, and a title
    given by code are marked in the editable documents, which are the ones published."""
    from report_sample import sample_report_data

    from synthese.documents import Heading, Para, document_blocks
    from synthese.report import report_context

    data = sample_report_data()
    theme = next(t for t in data["themes"] if len(t["summary_sentences"]) >= 2)
    first, second = theme["summary_sentences"][:2]
    first["origin"], second["origin"] = "code", "argument"
    other = next(t for t in data["themes"] if t is not theme and t["summary_sentences"])
    third = other["summary_sentences"][0]
    third["origin"] = "modele"
    theme["title_origin"] = "code"
    blocks = document_blocks(report_context(data))
    at = next(i for i, b in enumerate(blocks)
              if isinstance(b, Heading) and b.level == 2 and b.text.endswith(theme["label"]))
    paras = ["".join(r.text for r in b.runs) for b in blocks[at + 1:at + 5] if isinstance(b, Para)]
    summary = next(p for p in paras if p.startswith("Résumé : "))
    assert f"{first['text']} [code]" in summary
    assert f"{second['text']} [idée d'un répondant]" in summary
    text = "\n".join("".join(r.text for r in b.runs) for b in blocks if isinstance(b, Para))
    assert third["text"] in text and f"{third['text']} [" not in text  # the model's, unmarked
    assert any(p.startswith("Titre donné par le code") for p in paras)


def test_a_cell_holds_text_cut_visibly_and_never_an_illegal_character():
    long = "x" * (MAX_CELL + 10)
    cut = cell_value(long)
    assert len(cut) == MAX_CELL and cut.endswith("texte complet dans la base)")
    assert cell_value("a\x00b") == "a\ufffdb"
    assert cell_value([3, 7]) == "3, 7" and cell_value(float("nan")) is None


# --- a real run -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("documents")
    export = tmp / "export.csv"
    lines = ["id;academie;nom;courriel;q"] + [";".join(row) for row in ANSWERS]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run(export, tmp, question_texts=("Que pensez-vous de l'IA à l'école ?",))


@pytest.fixture(scope="module")
def marts(done):
    with Store(done.settings.db, read_only=True) as store:
        return store.run_marts(done.run_id, ["q"]) | {
            "calls": store.query("SELECT purpose, count(*) AS n FROM core.llm_calls "
                                 "GROUP BY purpose"),
            "originals": store.query("SELECT DISTINCT original FROM raw.pseudonym_map WHERE "
                                     "entity_type IN ('PERSONNE', 'EMAIL', 'TELEPHONE')"),
            "raw": store.query("SELECT r.metadata, i.identifying_columns FROM raw.respondents r "
                               "JOIN raw.imports i USING (import_id)"),
            "summary_sentences": store.query(
                "SELECT s.text, s.origin FROM core.summary_sentences s JOIN core.run_themes t "
                "USING (summary_key) WHERE t.run_id = ?", [done.run_id]),
        }


@pytest.fixture(scope="module")
def files(done) -> dict[str, Path]:
    return {fmt: Path(path) for fmt, path in done.row["documents"].items()}


pytestmark = pytest.mark.slow


def test_a_run_leaves_the_three_files_beside_the_html_report(done, files):
    assert sorted(files) == ["docx", "odt", "xlsx"]
    for path in files.values():
        assert path.parent == done.report_path.parent and path.stem == done.report_path.stem
        assert path.stat().st_size > 5000
    assert not list(done.report_path.parent.glob(".*"))  # no temporary file left behind
    assert "Documents : " in "\n".join(done.lines())


def _docx_items(path: Path) -> list[tuple]:
    """The document in order: ("heading", level, text), ("para", text), ("table", rows)."""
    from docx import Document

    items: list[tuple] = []
    for block in Document(str(path)).iter_inner_content():
        if hasattr(block, "rows"):
            items.append(("table", [[c.text for c in row.cells] for row in block.rows]))
        elif block.style.name == "Title":
            items.append(("heading", 0, block.text))
        elif block.style.name.startswith("Heading "):
            items.append(("heading", int(block.style.name.split()[1]), block.text))
        else:
            items.append(("para", block.text))
    return items


def _odt_items(path: Path) -> list[tuple]:
    from odf import teletype
    from odf.opendocument import load

    items: list[tuple] = []

    def walk(node):
        name = node.qname[1] if hasattr(node, "qname") else None
        if name == "h":
            items.append(("heading", int(node.getAttribute("outlinelevel")),
                          teletype.extractText(node)))
        elif name == "p":
            style = node.getAttribute("stylename")
            items.append(("heading", 0, teletype.extractText(node)) if style == "Title"
                         else ("para", teletype.extractText(node)))
        elif name == "table":
            rows = [r for r in node.getElementsByType(_odf_row())]
            items.append(("table", [[teletype.extractText(c) for c in r.childNodes]
                                    for r in rows]))
        else:
            for child in node.childNodes:
                walk(child)

    walk(load(str(path)).text)
    return items


def _odf_row():
    from odf.table import TableRow

    return TableRow


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_the_document_says_what_duckdb_holds(fmt, files, marts, done):
    items = (_docx_items if fmt == "docx" else _odt_items)(files[fmt])
    paras = [i[1] for i in items if i[0] == "para"]
    headings = [(i[1], i[2]) for i in items if i[0] == "heading"]
    assert headings[0] == (0, "Synthèse des réponses libres")
    assert f"Question posée{NBSP}: Que pensez-vous de l'IA à l'école{NNBSP}?" in paras
    assert "Brouillon non relu" in paras
    assert (1, "Document de travail produit avec l'aide de l'intelligence artificielle") \
        in headings
    level1 = [t for level, t in headings if level == 1]
    assert level1[-4:] == ["Indicateurs de fiabilité", "Thèmes",
                           "Questions fermées et thèmes par groupe",
                           "Note de méthode"] and "Synthèse" in level1
    assert any(level == 2 and t.startswith("Extrait 1 — «") for level, t in headings)
    assert any(p.endswith("répondants au questionnaire.") and " répondants à la question pour "
               in p for p in paras)
    for section in SECTIONS:
        assert (2, SECTION_TITLES[section]) in headings

    # the table of themes: every theme of marts.clusters, with its counts and share
    tables = [i[1] for i in items if i[0] == "table"]
    table = next(t for t in tables if t[0][:2] == ["N°", "Thème"])
    themes = marts["themes"]
    expected = {(french_typography(r.label), format_number(r.n_respondents),
                 format_share(r.share_respondents), format_number(r.n_arguments))
                for r in themes.itertuples()}
    assert {tuple(row[1:]) for row in table[1:]} == {
        (label, n, share, a) for label, n, share, a in expected}
    assert [row[0] for row in table[1:]] == [f"T{i}" for i in range(1, len(themes) + 1)]
    number = {row[1]: row[0] for row in table[1:]}
    ref = {int(r.cluster_id): number[french_typography(r.label)] for r in themes.itertuples()}
    for r in themes.itertuples():  # each theme has its heading, numbered as in the table
        assert (2, f"{ref[int(r.cluster_id)]} — {french_typography(r.label)}") in headings

    # every synthesis sentence, in its section, followed by the themes it cites and, as the
    # HTML report's badges, by who wrote it
    text = "\n".join(paras)
    marks = {"code": " [code]", "citation": " [citation]", "repli": " [repli]"}
    assert set(marts["synthesis"]["origin"]) & set(marks)
    for s in marts["synthesis"].itertuples():
        refs = sorted({ref[int(c)] for c in s.cluster_ids}, key=lambda t: int(t[1:]))
        cited = f"({', '.join(refs)})" if refs else "(sans thème)"
        assert f"{french_typography(s.text)}{NBSP}{cited}{marks.get(s.origin, '')}" in text, s.text
    assert any(p.startswith("Chaque phrase est suivie des thèmes") and "[code] marque" in p
               for p in paras)
    # a summary sentence taken from a respondent's idea, or written by code, says so
    for s in marts["summary_sentences"].itertuples():
        mark = {"argument": " [idée d'un répondant]", "code": " [code]"}.get(s.origin)
        if mark:
            assert f"{french_typography(s.text)}{mark}" in text, s.text
    # and so does a title taken from an idea: the note follows the theme's heading
    for r in themes[themes["title_origin"] == "idee"].itertuples():
        at = items.index(("heading", 2, f"{ref[int(r.cluster_id)]} — {french_typography(r.label)}"))
        assert ("para", "Titre repris de l'idée la plus centrale du thème.") in items[at:at + 4]

    # the method note: the models and the calls per stage, as stored
    models = next(t for t in tables if t[0][0] == "Rôle")
    assert [row[1] for row in models[1:]] == ["fake-llm (fake, local)", "fake-bow"]
    stages = next(t for t in tables if t[0][:2] == ["Étape", "Appels"])
    calls = {"extraction": "extraction", "summary": "résumés des thèmes",
             "synthesis": "synthèse"}
    shown = {row[0]: row[1] for row in stages[1:]}
    for purpose, n in marts["calls"].itertuples(index=False):
        if purpose in calls:
            assert shown[calls[purpose]] == format_number(n), purpose
    # and its energy, measured by codecarbon (energy.py), for 1,000 answers too
    assert any(p.startswith("Énergie estimée") and p.endswith("kWh") for p in paras)
    assert any(p.startswith("Pour 1") and "réponses non vides" in p for p in paras)
    assert any("estimée par codecarbon" in p for p in paras)

    # French typography everywhere: no ordinary space before : ; ? ! nor inside « »
    everything = text + "\n".join(t for _, t in headings) + json.dumps(tables,
                                                                       ensure_ascii=False)
    assert not re.search(r" [:;?!]|« | »", everything)


def test_headings_are_the_word_processors_own_heading_styles(files):
    from docx import Document

    styles = {p.style.name for p in Document(str(files["docx"])).paragraphs}
    assert {"Title", "Heading 1", "Heading 2"} <= styles
    content = zipfile.ZipFile(files["odt"]).read("content.xml").decode()
    assert re.search(r'<text:h text:outline-level="1" text:style-name="Heading_20_1">', content)
    assert re.search(r'<text:h text:outline-level="2" text:style-name="Heading_20_2">', content)
    styles_xml = zipfile.ZipFile(files["odt"]).read("styles.xml").decode()
    assert 'style:name="Heading_20_1" style:display-name="Heading 1"' in styles_xml
    assert 'fo:language="fr"' in styles_xml


def _sheet_rows(ws) -> tuple[list, list[list]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def test_the_workbook_sheets_are_the_marts_row_for_row(files, marts):
    from openpyxl import load_workbook

    book = load_workbook(files["xlsx"])
    assert book.sheetnames == SHEETS
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in ws[1])

    head, rows = _sheet_rows(book["Réponses"])
    answers = marts["answers"]
    assert head == ["répondant", "libellé du répondant", "question", "texte (pseudonymisé)",
                    "sans réponse", "academie", "caractères", "réponse",
                    "pseudonymisation"]  # no nom, courriel
    assert rows == [[a.respondent_id, a.respondent_label, a.question, a.text or None,
                     bool(a.blank), a.academie,
                     a.n_chars, a.answer_id, a.pseudo_method] for a in answers.itertuples()]

    head, rows = _sheet_rows(book["Thèmes"])
    themes = {int(t.cluster_id): t for t in marts["themes"].itertuples()}
    got = {r[1]: r for r in rows}
    assert set(got) == set(themes)
    number = {}
    for cid, t in themes.items():
        row = dict(zip(head, got[cid], strict=True))
        assert (row["titre"], row["répondants"], row["arguments"]) == (
            t.label, t.n_respondents, t.n_arguments)
        assert row["part des répondants"] == pytest.approx(t.share_respondents)
        kinds = json.loads(t.kinds)
        assert row["risques"] == kinds.get("risque", 0)
        number[cid] = row["thème"]

    head, rows = _sheet_rows(book["Arguments"])
    trace = marts["trace"].set_index("argument_id")
    assert sorted(r[head.index("argument")] for r in rows) == sorted(trace.index)
    for r in rows:
        row = dict(zip(head, r, strict=True))
        t = trace.loc[row["argument"]]
        assert row["citation"] == t.quote
        assert _same(row["début de la citation"], t.quote_start)
        assert _same(row["fin de la citation"], t.quote_end)
        assert row["thème"] == number[int(t.cluster_id)] and row["réponse"] == t.answer_id

    head, rows = _sheet_rows(book["Synthèse"])
    sentences = marts["synthesis"]
    assert len(rows) == len(sentences)
    stored = {(s.text, tuple(int(c) for c in s.cluster_ids), round(float(s.support), 6))
              for s in sentences.itertuples()}
    shown = {(r[head.index("phrase")],
              tuple(int(c) for c in str(r[head.index("groupes cités")] or "").split(", ") if c),
              round(r[head.index("étayage (similarité)")], 6)) for r in rows}
    assert shown == stored
    sections = [r[0] for r in rows]
    order = [SECTION_TITLES[s] for s in SECTIONS]
    assert sections == sorted(sections, key=order.index)

    _, rows = _sheet_rows(book["Exécution"])
    facts = {(r[0], r[1]): r[2] for r in rows}
    run_row = marts["run"].iloc[0]
    assert facts[("exécution", "run_id")] == run_row["run_id"]
    for key, value in json.loads(run_row["counts"]).items():
        if not isinstance(value, dict):
            assert facts[("effectifs", key)] == value, key
    assert facts[("exécution", "report_path")] == Path(run_row["report_path"]).name
    for key in ("energy_kwh", "kwh_per_1000_answers", "tokens_per_1000_answers"):
        assert run_row[key] > 0 and facts[("exécution", key)] == pytest.approx(run_row[key]), key


def _same(shown, stored) -> bool:
    """A cell against its mart value: an empty cell for NULL, numbers equal."""
    if stored is None or (isinstance(stored, float) and math.isnan(stored)):
        return shown is None
    return shown == stored


def test_a_respondents_formula_is_written_as_text(files, marts):
    from openpyxl import load_workbook

    answers = marts["answers"].set_index("respondent_id")
    staged = answers.at["R10", "text"]
    assert staged.startswith("=HYPERLINK(")  # as pseudonymised, still a formula to a sheet
    ws = load_workbook(files["xlsx"])["Réponses"]
    cells = {row[0].value: row[3] for row in ws.iter_rows(min_row=2)}  # répondant: texte
    for respondent, start in (("R10", "="), ("R11", "+"), ("R12", "@"), ("R13", "-")):
        cell = cells[respondent]
        assert cell.value == answers.at[respondent, "text"] and cell.value.startswith(start)
        assert cell.data_type == "s" and cell.quotePrefix
    with zipfile.ZipFile(files["xlsx"]) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any("<f>" in z.read(n).decode() for n in sheets)


def test_no_original_name_or_email_of_the_raw_schema_is_in_any_file(files, marts):
    originals = set(marts["originals"]["original"])
    for metadata, identifying in marts["raw"].itertuples(index=False):
        values = json.loads(metadata)
        originals |= {values[c] for c in identifying if values.get(c)}
    assert {"Jean Martin", "jean.martin@ac-lyon.fr", "eva.roux@ac-creteil.fr"} <= originals
    for fmt, path in files.items():
        with zipfile.ZipFile(path) as z:
            xml = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        text = html.unescape(xml)
        found = sorted(o for o in originals if o in xml or o in text)
        assert not found, f"{fmt}: {found}"


def test_the_export_command_writes_the_formats_asked_and_refuses_bad_ones(done, tmp_path):
    cli = CliRunner()
    out = tmp_path / "sortie"
    result = cli.invoke(app, ["export", "--db", str(done.settings.db), "--format", "xlsx",
                              "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == [done.report_path.stem + ".xlsx"]
    assert result.stdout.strip() == str(out / (done.report_path.stem + ".xlsx"))
    bad = cli.invoke(app, ["export", "--db", str(done.settings.db), "--format", "pdf"])
    assert bad.exit_code == 2
    assert bad.stderr.strip() == ("Erreur : Format inconnu : « pdf » ; choisissez parmi docx, "
                                  "odt, xlsx.")
    missing = cli.invoke(app, ["export", "--db", str(tmp_path / "absente.duckdb")])
    assert missing.exit_code == 2 and "Base introuvable" in missing.stderr
    blocked = tmp_path / "fichier"
    blocked.write_text("x")
    refused = cli.invoke(app, ["export", "--db", str(done.settings.db), "--out",
                               str(blocked / "dossier")])
    assert refused.exit_code == 2 and "Impossible d'écrire" in refused.stderr


# --- as a user opens them: LibreOffice, then poppler ----------------------------------------


def _soffice(args: list[str], profile: Path) -> None:
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice introuvable : lancez scripts/install_libreoffice.sh"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         *args], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def opened(files, tmp_path_factory) -> Path:
    """Each file converted to PDF by LibreOffice, as a user would open and print it."""
    work = tmp_path_factory.mktemp("libreoffice")
    copies = []
    for fmt, path in files.items():
        copies.append(shutil.copy(path, work / f"rapport-{fmt}.{fmt}"))
    _soffice(["--convert-to", "pdf", "--outdir", str(work), *map(str, copies)],
             work / "profil")
    return work


@pytest.mark.parametrize("fmt", ["docx", "odt", "xlsx"])
def test_libreoffice_opens_each_file_and_poppler_renders_its_first_page(fmt, opened, marts):
    pdf = opened / f"rapport-{fmt}.pdf"
    assert pdf.exists(), sorted(p.name for p in opened.iterdir())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    if fmt == "xlsx":  # the formula printed as its text, not run (it would print « clic »)
        assert "=HYPERLINK(" in text and "répondant" in text
    else:
        assert "Synthèse des réponses libres" in text and "Note de méthode" in text
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-gray", str(pdf),
                    str(opened / f"page-{fmt}")], check=True)
    page = next(opened.glob(f"page-{fmt}*.pgm")).read_bytes()
    width, height = map(int, page.split(b"\n")[1].split())
    pixels = page[-width * height:]
    assert width * height and sum(1 for b in pixels if b < 128) > 100  # not a blank page


def test_libreoffice_reads_the_docx_headings_as_its_titre_1_and_2(files, tmp_path):
    copy = shutil.copy(files["docx"], tmp_path / "rapport.docx")
    _soffice(["--convert-to", "odt", "--outdir", str(tmp_path), str(copy)], tmp_path / "p")
    content = zipfile.ZipFile(tmp_path / "rapport.odt").read("content.xml").decode()
    # a heading may carry an automatic style (P3) whose parent is the named one
    parent = dict(re.findall(r'<style:style style:name="([^"]+)" style:family="paragraph" '
                             r'style:parent-style-name="([^"]+)"', content))
    headings = {(parent.get(style, style), level, text) for style, level, text in re.findall(
        r'<text:h text:style-name="([^"]+)" text:outline-level="(\d)"[^>]*>(?:<[^>]+>)*([^<]*)',
        content)}
    assert ("Heading_20_1", "1", "Synthèse") in headings, sorted(headings)[:10]
    assert ("Heading_20_2", "2", "Opportunités") in headings
