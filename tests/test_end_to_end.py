"""Whole runs on real-size data: the demo consultation and the Grand Débat export.

The LLM is the deterministic fake (no LLM can run fast enough here for a test over 300
answers); everything else is real: DuckDB file, pseudonymiser, default embedder,
UMAP + HDBSCAN, the report opened in headless Chromium.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import DEMO, GRAND_DEBAT
from fakes import FakeLLM
from runs import Done

from synthese.config import Settings
from synthese.runner import run_all
from synthese.storage import Store

pytestmark = pytest.mark.slow

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
# not inside a word: content hashes (hex keys) may hold ten digits in a row
PHONE = re.compile(r"(?<!\w)(?<!\d\.)(?:\+33 ?|0)[1-9](?:[ .-]?\d{2}){4}(?!\w)")  # on one line: a keyed label
# (« R-06644603 ») at the end of a dumped row and the next row's id are not a phone number


def _run(export, questions, id_column, tmp_path):
    settings = Settings(export=export, questions=questions, id_column=id_column,
                        db=tmp_path / "s.duckdb", out=tmp_path / "reports")
    # the default embedder, as a user gets it
    return Done(settings, run_all(settings, llm=FakeLLM(), log=lambda m: None, progress=False))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    return _run(DEMO, ("q_usage_ia",), "id_reponse", tmp_path_factory.mktemp("demo"))


def test_demo_run_counts_every_answer_and_leaves_few_arguments_unassigned(demo_run):
    c = demo_run.counts
    assert c["answers"] == 350 and c["blank"] + c["processed"] + c["failed"] == 350
    assert c["failed"] == 0 and c["blank"] >= 20
    assert c["themes"] >= 5
    assert c["unassigned_share"] <= 0.10


def test_demo_report_shows_its_closed_questions_themes_by_segment_and_its_campaign(demo_run):
    html = demo_run.report_path.read_text("utf-8")
    for column in ("degre", "academie", "forme_ia", "ressenti"):
        assert re.search(rf"<strong>Extrait \d+</strong> — «&nbsp;{column}&nbsp;»", html)
    assert html.count("350 répondants à la question pour 350 répondants au questionnaire") >= 4
    assert "<svg" in html and "moyenne 4" in html  # ressenti: a histogram with its mean
    assert "date_soumission" in html and "traitées comme du texte libre" in html
    # the 20 pasted copies of the union text (data/raw/README.md) are one campaign
    assert "20 réponses reprennent un même texte" in html
    assert demo_run.counts["campaigns"] == 1 and demo_run.counts["campaign_members"] == 19
    with demo_run.store() as store:
        segments = store.query("SELECT * FROM marts.theme_segments WHERE run_id = ?",
                               [demo_run.run_id])
        members = store.query(
            "SELECT a.respondent_id FROM marts.campaigns c, marts.answers a "
            "WHERE c.run_id = ? AND list_contains(c.answer_ids, a.answer_id) ORDER BY 1",
            [demo_run.run_id])
    assert set(segments["question"]) >= {"degre", "academie", "forme_ia", "ressenti"}
    assert (segments["n_respondents"] >= 10).all()  # small groups merged or left out
    assert segments["significant"].sum() >= 1 and "signif-" in html
    assert list(members["respondent_id"]) == [f"R{i:04d}" for i in range(331, 351)]


def test_demo_report_click_through_in_chromium(demo_run, tmp_path):
    from cdp import Chromium, foreign_requests, page_errors

    url = demo_run.report_path.resolve().as_uri()
    with Store(demo_run.settings.db) as store:
        arg = store.query(
            "SELECT argument_id, answer_id, quote FROM marts.trace WHERE run_id = ? "
            "AND quote_start IS NOT NULL AND cluster_id >= 0 ORDER BY argument_id LIMIT 1",
            [demo_run.run_id]).iloc[0]
    with Chromium(tmp_path / "profile") as chromium:
        s = chromium.session
        for domain in ("Page", "Network", "Runtime", "Log"):
            s.send(f"{domain}.enable")
        s.navigate(url)
        s.evaluate("new Promise(r => setTimeout(r, 300))")
        # synthesis sentence -> theme
        theme_hash = s.evaluate(
            "(() => { const a = document.querySelector('#synthese a.ref-theme'); a.click();"
            " return location.hash; })()")
        assert theme_hash.startswith("#theme-")
        assert s.evaluate(f"!!document.getElementById({theme_hash[1:]!r})")
        # argument -> its answer, with its quote highlighted
        s.evaluate(f"document.getElementById('arg-{arg.argument_id}').closest('details').open = true")
        answer_hash = s.evaluate(
            f"(() => {{ document.querySelector('#arg-{arg.argument_id} a.lien-reponse').click();"
            " return location.hash; })()")
        assert answer_hash == f"#answer-{arg.answer_id}"
        marks = s.evaluate(
            f"[...document.querySelectorAll('#answer-{arg.answer_id} mark.actif')]"
            ".map(m => m.textContent)")
        assert marks == [arg.quote]
        assert foreign_requests(s.events, url) == []
        assert page_errors(s.events) == []


def test_grand_debat_run_stores_no_author_name_email_or_phone_outside_raw(tmp_path):
    p = _run(GRAND_DEBAT, ("body",), "id", tmp_path)
    raw = pd.read_csv(GRAND_DEBAT, sep=";", dtype=str)
    authors = {n.strip() for n in raw["author/name"].dropna() if len(n.strip()) >= 4}
    with Store(p.settings.db) as store:
        tables = store.query("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_schema <> 'raw'")
        assert len(tables) > 10
        dumps = {f"{s}.{t}": store.query(f'SELECT * FROM {s}."{t}"').to_csv()
                 for s, t in tables.itertuples(index=False)}
        assert "core.llm_calls" in dumps
    dumps["report"] = p.report_path.read_text()
    for where, text in dumps.items():
        assert not EMAIL.search(text), (where, EMAIL.search(text).group())
        assert not PHONE.search(text), (where, PHONE.search(text).group())
        leaked = [a for a in authors if re.search(rf"(?<!\w){re.escape(a)}(?!\w)", text)]
        assert not leaked, (where, leaked[:5])
