"""The `synthese` command as a user types it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from synthese.cli import app
from synthese.models import MODELS

runner = CliRunner()


def test_a_missing_export_is_one_french_line_and_exit_code_2(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "absent.csv"), "--question", "q",
                                 "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Erreur : Fichier introuvable : {tmp_path / 'absent.csv'}."]
    assert not (tmp_path / "s.duckdb").exists()


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
    report = next(line for line in lines if line.startswith("Rapport : "))
    assert (tmp_path / "out").glob("*.html") and report.endswith(".html")
