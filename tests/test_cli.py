"""The `synthese` command as a user types it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from bad_inputs import BAD_EXPORTS, BAD_OPTIONS
from runs import run as run_fake
from typer.testing import CliRunner

from synthese.cli import app
from synthese.models import MODELS

runner = CliRunner()


def test_a_missing_export_is_one_french_line_and_exit_code_2(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "absent.csv"), "--question", "q",
                                 "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        (f"Erreur : Fichier introuvable : {tmp_path / 'absent.csv'} ; vérifiez le chemin de "
        "l'export.")]
    assert not (tmp_path / "s.duckdb").exists()


# --- bad input: one French line, exit code 2, the database as it was ---------------------

GOOD = "id;avis\nA1;L'IA aide à préparer les cours.\nA2;Les élèves trichent.\n"


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """A database holding one completed run, that no bad input may change."""
    tmp = tmp_path_factory.mktemp("stored")
    export = tmp / "export.csv"
    export.write_text(GOOD + "A3;Il faut former les enseignants.\n", encoding="utf-8")
    run_fake(export, tmp, questions=("avis",))
    return tmp / "s.duckdb"


def digest(db: Path) -> dict[str, tuple[int, str]]:
    """Rows and a hash of the content of every table of the store."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "ORDER BY ALL").fetchall()
        return {f"{s}.{t}": con.execute(
            f"SELECT count(*), md5(coalesce(string_agg(x::VARCHAR, '|' ORDER BY x::VARCHAR), '')) "
            f"FROM {s}.{t} x").fetchone() for s, t in tables}
    finally:
        con.close()


def one_error_line(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), result.stderr
    assert result.stdout == ""
    return lines[0].removeprefix("Erreur : ")


@pytest.mark.parametrize("case", BAD_EXPORTS, ids=lambda c: c.id)
def test_run_on_a_bad_export_prints_one_line_exits_2_and_keeps_the_database(
        case, stored, tmp_path):
    before = digest(stored)
    path = case.write(tmp_path)
    args = ["run", str(path), "--question", case.question, "--db", str(stored),
            "--out", str(tmp_path / "out")]
    result = runner.invoke(app, args + (["--id-column", case.id_column] if case.id_column else []))
    assert one_error_line(result).startswith(case.expected(path))
    assert digest(stored) == before
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("options", "message"), [c[1:] for c in BAD_OPTIONS],
                         ids=[c[0] for c in BAD_OPTIONS])
def test_run_with_a_bad_option_prints_one_line_exits_2_and_keeps_the_database(
        options, message, stored, tmp_path):
    before = digest(stored)
    export = tmp_path / "export.csv"
    export.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(app, ["run", str(export), "--question", "avis", "--db", str(stored),
                                 "--out", str(tmp_path / "out"), *options])
    assert one_error_line(result).startswith(message)
    assert digest(stored) == before


def test_an_out_that_is_a_file_is_refused_before_any_model_work(stored, tmp_path):
    export, out = tmp_path / "export.csv", tmp_path / "rapport.html"
    export.write_text(GOOD, encoding="utf-8")
    out.write_text("un fichier", encoding="utf-8")
    before = digest(stored)
    result = runner.invoke(app, ["run", str(export), "--question", "avis", "--db", str(stored),
                                 "--out", str(out)])
    assert one_error_line(result) == (
        f"--out {out} est un fichier : indiquez le dossier où écrire le rapport.")
    assert digest(stored) == before and out.read_text(encoding="utf-8") == "un fichier"


@pytest.mark.parametrize("kind", ["folder", "not-duckdb", "empty-file"])
def test_a_db_that_cannot_be_a_database_gets_the_hint_that_fits(kind, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(GOOD, encoding="utf-8")
    db = tmp_path / "base.duckdb"
    if kind == "folder":
        db.mkdir()
    else:
        db.write_bytes(b"" if kind == "empty-file" else b"nom;avis\nA;B\n")
    result = runner.invoke(app, ["run", str(export), "--question", "avis", "--db", str(db)])
    message = one_error_line(result)
    if kind == "folder":
        assert message == (f"--db {db} est un dossier : indiquez un fichier de base, par exemple "
                           f"{db / 'synthese.duckdb'}.")
        assert list(db.iterdir()) == []
    else:
        assert message.startswith(f"{db} n'est pas une base DuckDB")
        assert "autre programme" not in message
        assert db.read_bytes() == (b"" if kind == "empty-file" else b"nom;avis\nA;B\n")


def test_a_database_held_by_another_program_is_named_with_that_program(stored, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(GOOD, encoding="utf-8")
    before = digest(stored)
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('ok', flush=True); sys.stdin.read()"), str(stored)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        result = runner.invoke(app, ["run", str(export), "--question", "avis", "--db",
                                     str(stored), "--llm", "baseline"])
        assert one_error_line(result).startswith(
            f"Base {stored} ouverte par un autre programme (programme ")
        assert f"PID {holder.pid})" in result.stderr
    finally:
        holder.communicate("", timeout=30)
    assert digest(stored) == before


@pytest.mark.parametrize("args", [
    ["--question", "absente"],
    ["--question", "avis", "--llm", "ollama", "--llm-host", "http://192.168.1.20:11434"],
], ids=["missing-column", "remote-model-host"])
def test_a_real_process_prints_exactly_one_line_on_stderr(args, stored, tmp_path):
    """As the user runs it: a new process, nothing of Prefect on stderr, nothing stored."""
    export = tmp_path / "export.csv"
    export.write_text(GOOD, encoding="utf-8")
    before = digest(stored)
    done = subprocess.run([sys.executable, "-m", "synthese.cli", "run", str(export), *args,
                           "--db", str(stored)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("Erreur : ")
    assert done.stdout == ""
    assert digest(stored) == before


def test_models_list_names_every_embedded_model():
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 0
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == list(MODELS)


def test_pseudonymise_reads_standard_input_line_by_line():
    result = runner.invoke(app, ["pseudonymise", "-"],
                           input="Écrivez à eva.roux@ac-creteil.fr\nRien à signaler.\n")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["Écrivez à [EMAIL]", "Rien à signaler."]


def test_eval_of_an_unreadable_dataset_is_an_error_naming_it(tmp_path):
    bad = tmp_path / "jeu.csv"
    bad.write_text("x,y\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(bad), "--llm", "baseline"])
    assert result.exit_code == 2 and "jeu.csv" in result.stderr


@pytest.mark.slow
def test_run_with_the_baseline_backend_prints_the_counts_and_the_report(small_export, tmp_path):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "synthese.cli", "run", str(small_export), "--question", "q",
         "--id-column", "id", "--llm", "baseline", "--db", str(tmp_path / "s.duckdb"),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "Réponses : 10 — traitées 8, sans réponse 2, en échec 0." in lines
    assert any(line.startswith("Import : 10 réponses lues") for line in lines)
    report = next(line for line in lines if line.startswith("Rapport : "))
    assert (tmp_path / "out").glob("*.html") and report.endswith(".html")
    # stderr is for errors: Prefect's logs went to the run's log file
    assert done.stderr == ""
    logs = list((tmp_path / "logs").glob("synthese-*.log"))
    assert len(logs) == 1 and "Finished in state Completed" in logs[0].read_text("utf-8")
