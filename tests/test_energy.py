"""The energy of each stage, measured offline by the real codecarbon (issue 17, item 6)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from runs import run

from synthese.energy import EnergyMeter, offline_tracker, per_thousand
from synthese.report import format_energy

STAGES = {"ingest", "pseudonymise", "campaigns", "extract", "embed", "cluster", "summarise",
          "synthesise", "report"}


def _energy_rows(done) -> list[dict]:
    with done.store() as store:
        return store.query("SELECT * FROM marts.run_energy WHERE run_id = ?",
                           [done.run_id]).to_dict("records")


def _run_row(done) -> dict:
    with done.store() as store:
        return store.query("SELECT * FROM marts.runs WHERE run_id = ?",
                           [done.run_id]).iloc[0].to_dict()


def test_a_run_records_the_energy_of_every_stage_and_its_cost_per_thousand_answers(
        small_export, tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # codecarbon writes emissions.csv in the current folder by default
    lines: list[str] = []
    done = run(small_export, tmp_path, log=lines.append)

    rows = _energy_rows(done)
    assert {r["stage"] for r in rows} == STAGES
    for r in rows:
        assert r["energy_kwh"] >= 0 and r["cpu_kwh"] >= 0 and r["ram_kwh"] >= 0, r
        assert r["energy_kwh"] == pytest.approx(r["cpu_kwh"] + r["ram_kwh"] + r["gpu_kwh"])
        assert r["seconds"] == done.row["timings"][r["stage"]]
    total = sum(r["energy_kwh"] for r in rows)
    assert total > 0  # seconds of work on a real machine use some electricity
    method = json.loads(rows[0]["energy_method"])
    assert method["measured"] and method["tool"].startswith("codecarbon ")
    assert method["tracking"] == "process" and method["country"] == "FRA"
    assert method["llm_server"] is None  # the embedded model is in the measured process

    runs = _run_row(done)
    nonblank = done.counts["answers"] - done.counts["blank"]
    assert runs["answers_nonblank"] == nonblank == 8
    assert runs["energy_kwh"] == pytest.approx(total)
    assert runs["kwh_per_1000_answers"] == pytest.approx(total * 1000 / nonblank)
    tokens = done.row["tokens"]["prompt_tokens"] + done.row["tokens"]["completion_tokens"]
    assert tokens > 0 and runs["tokens_per_1000_answers"] == pytest.approx(tokens * 1000 / nonblank)
    assert runs["seconds_per_1000_answers"] == pytest.approx(
        sum(done.row["timings"].values()) * 1000 / nonblank, rel=1e-3)

    html = done.report_path.read_text("utf-8")
    shown = total - next(r["energy_kwh"] for r in rows if r["stage"] == "report")
    assert f"<dt>Énergie estimée</dt><dd>{format_energy(shown)}&nbsp;kWh</dd>" in html
    assert "<dt>Pour 1&nbsp;000 réponses</dt>" in html and "8 réponses non vides" in html
    assert "estimée par codecarbon" in html and "sans connexion" in html
    assert not any(line.startswith("Énergie non mesurée") for line in lines)
    assert any(line.startswith("Énergie estimée (codecarbon, hors ligne)") for line in done.lines())
    assert list(work.iterdir()) == []  # no emissions.csv, no lock file, nothing


def test_a_broken_tracker_gives_no_energy_one_french_line_and_the_run_completes(
        small_export, tmp_path):
    def broken():
        raise OSError("pas de capteur")

    lines: list[str] = []
    done = run(small_export, tmp_path, log=lines.append, energy_tracker=broken)

    assert done.row["status"] == "completed" and done.report_path.exists()
    failures = [line for line in lines if "Énergie non mesurée" in line]
    assert len(failures) == 1 and "pas de capteur" in failures[0]
    rows = _energy_rows(done)
    assert {r["stage"] for r in rows} == STAGES
    assert all(pd.isna(r["energy_kwh"]) for r in rows)
    runs = _run_row(done)
    assert pd.isna(runs["energy_kwh"])  # NULL, not a zero
    assert runs["tokens_per_1000_answers"] > 0  # tokens and time are still counted
    html = done.report_path.read_text("utf-8")
    assert "<dt>Énergie estimée</dt><dd>non mesurée</dd>" in html
    assert "n'a pas été mesurée" in html.replace("&#39;", "'")
    assert "Énergie : non mesurée" in "\n".join(done.lines())


class FailsAtExtraction:
    """The real tracker, whose measure of the extraction raises: a failure in mid-run."""

    def __init__(self):
        self.tracker = offline_tracker()

    def start_task(self, name):
        self.tracker.start_task(name)

    def stop_task(self, name=None):
        data = self.tracker.stop_task(name)
        if name == "extract":
            raise RuntimeError("compteur illisible")
        return data

    def stop(self):
        self.tracker.stop()


def test_a_tracker_failing_in_mid_run_keeps_what_it_measured_and_leaves_the_rest_null(
        small_export, tmp_path):
    lines: list[str] = []
    done = run(small_export, tmp_path, log=lines.append, energy_tracker=FailsAtExtraction)

    assert done.row["status"] == "completed"
    energy = {r["stage"]: r["energy_kwh"] for r in _energy_rows(done)}
    assert energy["ingest"] >= 0 and energy["campaigns"] >= 0
    unmeasured = {s for s, v in energy.items() if pd.isna(v)}
    assert unmeasured == STAGES - {"ingest", "pseudonymise", "campaigns"}
    assert sum("compteur illisible" in line for line in lines) == 1
    assert done.row["energy_kwh"] is None


def test_a_stage_run_twice_adds_up_and_a_nested_measure_is_not_counted_twice():
    meter = EnergyMeter(lambda m: None)
    with meter.measure("extract"), meter.measure("inner"):
        pass
    first = meter.by_stage["extract"]
    with meter.measure("extract"):  # a retried stage: its two tries add up
        sum(range(2_000_000))
    assert meter.by_stage["inner"] is None  # one tracker measures one block at a time
    assert meter.by_stage["extract"].energy_kwh > first.energy_kwh >= 0
    assert meter.total_kwh(["extract"]) == meter.by_stage["extract"].energy_kwh
    assert meter.total_kwh() is None
    meter.close()


def test_the_note_says_how_the_energy_was_measured_and_what_it_leaves_out():
    from synthese.report import energy_note

    estimated = energy_note({"tool": "codecarbon 3.3.2", "cpu_estimated": True,
                             "cpu_power_w": 8, "llm_server": None}, True)
    assert "puissance nominale (8\u00a0W)" in estimated and "serveur" not in estimated
    rapl = energy_note({"cpu_estimated": False, "llm_server": "ollama"}, True)
    assert "compteurs d'énergie (RAPL)" in rapl
    assert "serveur du modèle de langage (ollama)" in rapl and "n'est pas comptée" in rapl
    assert "n'a pas été mesurée" in energy_note(None, False)


def test_energy_is_shown_with_two_significant_digits_and_per_thousand_answers():
    assert format_energy(0.012) == "0,012"
    assert format_energy(0.0000234) == "0,000023"
    assert format_energy(1.234) == "1,2"
    assert format_energy(None) == "—"
    assert per_thousand(0.5, 250) == 2.0 and per_thousand(None, 250) is None
    assert per_thousand(0.5, 0) is None
