"""`synthese revue`: a reviewer drives the real page in headless Chromium; the review is
carried over to a rerun with new answers; the page's guards (loopback, token, CSRF, no raw
data). On a real run of the demo with the fake LLM and embedder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fakes import FakeEmbedder, FakeLLM
from runs import run

from synthese.revue import Revue, address, listen, server
from synthese.storage import Store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data/raw/demo_enseignants_ia.csv"
WHO = "Inès Martin"
FIRST = 80  # answers of the first run; the second adds 10


def demo_part(tmp: Path, n: int) -> Path:
    """The demo's first ``n`` answers, as a new export."""
    lines = DEMO.read_text("utf-8-sig").splitlines(keepends=True)
    rows, row, quotes = [], "", 0
    for line in lines[1:]:  # answers may span lines inside quotes
        row += line
        quotes += line.count('"')
        if quotes % 2 == 0:
            rows.append(row)
            row, quotes = "", 0
    path = tmp / f"export-{n}.csv"
    path.write_text(lines[0] + "".join(rows[:n]), encoding="utf-8")
    return path


def first_run(tmp: Path):
    return run(demo_part(tmp, FIRST), tmp, questions=("q_usage_ia",), id_column="id_reponse")


class Page:
    """The review server in a thread of this process, on 127.0.0.1."""

    def __init__(self, db: Path, llm: FakeLLM | None = None) -> None:
        llm = llm or FakeLLM()
        self.revue = Revue(db, embedder=FakeEmbedder, llm=lambda config: llm)
        self.sock = listen(0)
        self.url = address(self.revue, self.sock)
        self.server = server(self.revue)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.revue.close()  # as revue.serve does: the documents still waiting are written


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from cdp import Chromium

    chromium = Chromium(tmp_path_factory.mktemp("chromium-revue"))
    try:
        for domain in ("Page", "Runtime"):
            chromium.session.send(f"{domain}.enable")
        yield chromium.session
    finally:
        chromium.close()


def submit(session, form_js: str, fields_js: str = "", button: str = "") -> str:
    """Fill a form of the page in the browser, submit it as a person would, wait for the
    page it leads to, and return that page's message line."""
    since = len(session.events)
    session.evaluate(f"""(() => {{
        const f = {form_js};
        if (!f) throw new Error('formulaire introuvable : ' + {json.dumps(form_js)});
        {fields_js}
        f.requestSubmit({f"f.querySelector('button[value={button}]')" if button else ""});
    }})()""")
    session.wait_for("Page.loadEventFired", since=since, timeout=30)
    return session.evaluate("(document.getElementById('message') || {}).textContent || ''")


def theme_form(cid: int, action: str) -> str:
    return f"document.querySelector('article[data-cluster=\"{cid}\"] form[data-action=\"{action}\"]')"


def check(n: int) -> str:
    return ("[...f.querySelectorAll('input[name=argument_ids]')].slice(0, "
            f"{n}).forEach(c => c.checked = true);")


def test_a_reviewer_renames_merges_splits_hides_edits_and_validates_in_chromium(
        tmp_path, browser):
    done = first_run(tmp_path)
    with Store(done.settings.db, read_only=True) as store:
        themes = store.query("SELECT cluster_id, n_arguments FROM marts.clusters WHERE run_id = ? "
                             "AND cluster_id >= 0 ORDER BY n_respondents DESC, cluster_id",
                             [done.run_id])
    a, b, c = (int(x) for x in themes["cluster_id"][:3])
    before = dict(zip(themes["cluster_id"].astype(int), themes["n_arguments"].astype(int)))
    page = Page(done.settings.db)
    try:
        browser.navigate(page.url)
        assert "Relire et valider" in browser.evaluate("document.body.innerText")
        refused = submit(browser, theme_form(a, "rename"),
                         "f.querySelector('input[name=title]').value = 'Sans nom';")
        assert "Indiquez d'abord votre nom" in refused
        assert "Bonjour" in submit(browser, "document.getElementById('form-nom')",
                                   f"f.querySelector('#nom').value = {json.dumps(WHO)};")
        assert submit(browser, theme_form(a, "rename"),
                      "f.querySelector('input[name=title]').value = 'Gain de temps';") \
            == "Thème renommé."
        assert submit(browser, theme_form(a, "merge"),
                      f"f.querySelector('select[name=other]').value = '{b}';") == "Thèmes fusionnés."
        assert submit(browser, theme_form(a, "arguments"), check(2)
                      + "f.querySelector('input[name=title]').value = 'Préparer les cours';",
                      "split") == "Thème scindé."
        hidden = browser.evaluate(f"{theme_form(c, 'arguments')}"
                                  ".querySelector('input[name=argument_ids]').value")
        assert submit(browser, theme_form(c, "arguments"), check(1)
                      + "f.querySelector('select[name=reason]').value = 'hors_sujet';",
                      "hide") == "Arguments masqués."
        # theme c's kinds corrected: all its arguments, then one of them again
        # the default synthesis is composed by code: the line names the button that does it
        assert submit(browser, theme_form(c, "kind-theme"),
                      "f.querySelector('select[name=kind]').value = 'condition';"
                      ).endswith("une fois recomposée (« Recomposer la synthèse »).")
        recast = browser.evaluate(f"{theme_form(c, 'arguments')}"
                                  ".querySelector('input[name=argument_ids]').value")
        assert submit(browser, theme_form(c, "arguments"), check(1)
                      + "f.querySelector('select[name=kind]').value = 'opportunite';",
                      "kind").startswith("Nature corrigée")
        natures = browser.evaluate(f"document.querySelector('article[data-cluster=\"{c}\"] "
                                   ".natures-revue').textContent")
        assert f"Condition ou demande\u00a0{before[c] - 2}" in natures, natures
        assert "Apport\u00a01" in natures, natures
        sentence = "document.querySelector('li.phrase-revue form[data-action=\"edit_sentence\"]')"
        assert submit(browser, sentence,
                      "f.querySelector('textarea').value = 'Les enseignants disent gagner du "
                      "temps pour préparer leurs cours.';"
                      f"[...f.querySelector('select').options].forEach(o => o.selected = "
                      f"o.value === '{a}');") == "Phrase modifiée."
        early = submit(browser, "document.querySelector('#valider-synthese')")
        assert "Validez d'abord chaque thème" in early
        ids = browser.evaluate("[...document.querySelectorAll('form[data-action=validate_theme] "
                               "input[name=cluster_id]')].map(i => i.value)")
        for cid in ids:
            assert submit(browser, theme_form(int(cid), "validate_theme")) == "Thème validé."
        assert submit(browser, "document.querySelector('#valider-synthese')") == "Synthèse validée."
        shown = browser.evaluate("document.getElementById('validation').textContent")
        assert f"Synthèse validée par {WHO}" in shown and "(7\u00a0modifications)" in shown
        browser.navigate(page.url + "rapport")
        report_text = browser.evaluate("document.body.innerText")
        assert "Gain de temps" in report_text and "Préparer les cours" in report_text
    finally:
        page.close()

    with Store(done.settings.db, read_only=True) as store:
        events = store.query("SELECT * FROM marts.review_events ORDER BY seq")
        clusters = store.query("SELECT * FROM marts.clusters WHERE run_id = ?", [done.run_id])
        trace = store.query("SELECT * FROM marts.trace WHERE run_id = ?", [done.run_id])
        review = store.query("SELECT * FROM marts.reviews WHERE run_id = ?", [done.run_id])
        sentences = store.query("SELECT * FROM marts.synthesis_sentences WHERE run_id = ?",
                                [done.run_id])
    actions = list(events["action"])
    assert actions[:8] == ["rename", "merge", "split", "hide", "kind", "kind", "edit_sentence",
                           "validate_theme"] and actions[-1] == "validate_synthesis"
    assert set(events["reviewer"]) == {WHO} and events["made_at"].notna().all()
    merge = events[events["action"] == "merge"].iloc[0]
    assert json.loads(merge["target"]) == {"cluster_id": a, "other": b}
    assert json.loads(events[events["action"] == "edit_sentence"].iloc[0]["before"])["text"]
    # the marts show the reviewed state, counted again by code
    by_id = clusters.set_index("cluster_id")
    assert clusters["reviewed"].all() and b not in by_id.index
    assert by_id.at[a, "label"] == "Gain de temps"
    split = by_id[by_id["label"] == "Préparer les cours"].iloc[0]
    assert split["n_arguments"] == 2
    assert by_id.at[a, "n_arguments"] == before[a] + before[b] - 2
    assert by_id.at[c, "n_arguments"] == before[c] - 1
    visible = trace[~trace["hidden"]]
    assert hidden in set(trace["argument_id"]) and hidden not in set(visible["argument_id"])
    # the kinds as corrected, in marts.trace and in the theme's split by kind
    kinds = visible[visible["cluster_id"] == c].set_index("argument_id")["kind"]
    assert kinds[recast] == "opportunite" and set(kinds.drop(recast)) == {"condition"}
    assert json.loads(by_id.at[c, "kinds"]) == {"condition": before[c] - 2, "opportunite": 1}
    for cid, n in visible.groupby("cluster_id").size().items():
        assert by_id.at[int(cid), "n_arguments"] == n
    assert review.iloc[0]["validated_by"] == WHO
    edited = sentences[sentences["text"].str.startswith("Les enseignants disent gagner")]
    assert len(edited) == 1 and list(edited.iloc[0]["cluster_ids"]) == [a]
    assert edited.iloc[0]["support"] > 0  # computed by code against theme a's arguments
    # the report file itself was rendered again
    html = done.report_path.read_text("utf-8")
    assert f"Synthèse validée par <strong>{WHO}</strong>" in html
    assert "1&nbsp;fusion de thèmes" in html and "1&nbsp;argument masqué" in html
    assert "2&nbsp;natures corrigées" in html
    assert "Les enseignants disent gagner du temps pour préparer leurs cours." in html
    assert "Brouillon non relu" not in html
    # so were its DOCX, ODT and XLSX (export.py): they say what the page says
    from docx import Document
    from odf import teletype
    from odf.opendocument import load
    from openpyxl import load_workbook

    said = f"Synthèse validée par {WHO} le "
    docx = Document(str(done.report_path.with_suffix(".docx")))
    assert any(p.text.startswith(said) for p in docx.paragraphs)
    odt = teletype.extractText(load(str(done.report_path.with_suffix(".odt"))).text)
    assert said in odt and "Brouillon non relu" not in odt
    themes = load_workbook(done.report_path.with_suffix(".xlsx"))["Thèmes"]
    assert "Gain de temps" in {row[2] for row in themes.iter_rows(min_row=2, values_only=True)}

    # A rerun on the same answers: every decision is carried over, the validation kept.
    same = run(demo_part(tmp_path, FIRST), tmp_path, questions=("q_usage_ia",),
               id_column="id_reponse")
    assert same.row["review"]["from_run"] == done.run_id
    assert same.row["review"]["not_carried"] == [] and same.row["review"]["changed_themes"] == []
    assert same.row["review"]["validated"]
    assert f"Synthèse validée par <strong>{WHO}</strong>" in same.report_path.read_text("utf-8")
    with Store(done.settings.db, read_only=True) as store:
        events = store.query("SELECT * FROM marts.review_events WHERE run_id = ? ORDER BY seq",
                             [same.run_id])
        assert store.query("SELECT label FROM marts.clusters WHERE run_id = ? AND cluster_id = ?",
                           [same.run_id, a])["label"].iloc[0] == "Gain de temps"
        same_kinds = store.query("SELECT argument_id, kind FROM marts.trace WHERE run_id = ? "
                                 "AND NOT hidden AND cluster_id = ?", [same.run_id, c])
    assert same_kinds.set_index("argument_id")["kind"].to_dict() == kinds.to_dict()
    assert list(events["action"])[1:] == actions
    done = same

    # Ten new answers, a rerun: the review is carried over, the changed themes listed.
    bigger = demo_part(tmp_path, FIRST + 10)
    second = run(bigger, tmp_path, questions=("q_usage_ia",), id_column="id_reponse")
    assert second.run_id != done.run_id and second.row["review"]["from_run"] == done.run_id
    with Store(done.settings.db, read_only=True) as store:
        new_events = store.query("SELECT * FROM marts.review_events WHERE run_id = ? ORDER BY seq",
                                 [second.run_id])
        old_events = store.query("SELECT * FROM marts.review_events WHERE run_id = ?",
                                 [done.run_id])
        new_trace = store.query("SELECT * FROM marts.trace WHERE run_id = ?", [second.run_id])
        new_clusters = store.query("SELECT * FROM marts.clusters WHERE run_id = ?",
                                   [second.run_id])
    assert len(old_events) == len(events)  # nothing of the first review was rewritten
    assert new_events.iloc[0]["action"] == "carry_over"
    carried = json.loads(new_events.iloc[0]["after"])
    assert carried["from_run"] == done.run_id
    assert set(new_events["origin_event_id"].dropna()) <= set(events["event_id"])
    # the hidden argument stays hidden, by its id
    assert bool(new_trace.set_index("argument_id").at[hidden, "hidden"])
    labels = set(new_clusters["label"])
    lines = " ".join(second.lines())
    assert "Relecture reprise" in lines
    if "Gain de temps" in labels:  # found again by the overlap of its members
        assert "rename" in set(new_events["action"])
    else:
        assert any("Gain de temps" in m for m in carried["not_carried"])
    changed = carried["changed_themes"]
    assert changed, "10 new answers change at least one theme's members"
    new_html = second.report_path.read_text("utf-8")
    assert f"Relecture reprise de l'exécution <code>{done.run_id}</code>" in new_html
    # the themes that changed lost their validation, so the synthesis must be validated again
    assert "Synthèse validée par" not in new_html


def test_regenerations_ask_the_model_once_and_are_cached(tmp_path):
    done = first_run(tmp_path)
    llm = FakeLLM()
    page = Page(done.settings.db, llm)
    own = "/".join(page.url.split("/", 3)[:3])
    headers = {"Origin": own, "Cookie": f"synthese_relecteur={urllib.request.quote(WHO)}"}
    try:
        html = fetch(page.url)[1]
        base = {"csrf": re.search(r'name="csrf" value="([^"]+)"', html).group(1),
                "run_id": done.run_id}
        with Store(done.settings.db, read_only=True) as store:
            trace = store.query("SELECT argument_id, cluster_id FROM marts.trace WHERE run_id = ? "
                                "AND cluster_id >= 0 ORDER BY cluster_id, argument_id",
                                [done.run_id])
            calls = store.scalar("SELECT count(*) FROM core.llm_calls")
        a, b = sorted(set(trace["cluster_id"]))[:2]
        moved = trace[trace["cluster_id"] == b]["argument_id"].iloc[0]
        for form in ({"action": "move", "cluster_id": b, "to": a, "argument_ids": moved},
                     {"action": "regenerate_summary", "cluster_id": a}):
            status, html = fetch(page.url + "action", base | form, headers)
            assert status == 200 and 'id="message"' in html
        assert "Résumé régénéré par le modèle." in html
        made = len(llm.calls)
        assert made >= 1  # the theme's arguments changed: a new question to the model
        # asked again for the same arguments: the answer comes from core.llm_calls
        fetch(page.url + "action", base | {"action": "regenerate_summary", "cluster_id": a},
              headers)
        assert len(llm.calls) == made
        status, html = fetch(page.url + "action", base | {"action": "regenerate_synthesis"},
                             headers)
        # the default synthesis (citations) is composed by code: the page does not say
        # that a model wrote it
        assert "Synthèse recomposée par le code à partir des thèmes relus." in html
        # the history, from the state the page kept after the action: every event as stored
        with Store(done.settings.db, read_only=True) as store:
            stored = store.query("SELECT seq FROM marts.review_events WHERE run_id = ? "
                                 "ORDER BY seq DESC", [done.run_id])["seq"].tolist()
        assert [int(n) for n in re.findall(r"<tr><td>(\d+)</td><td>", html)] == stored
        # a page asked for while an action holds the database waits for it, then shows
        got = []
        with page.revue.lock, Store(done.settings.db):
            asker = threading.Thread(target=lambda: got.append(fetch(page.url)))
            asker.start()
            asker.join(1.0)
            assert asker.is_alive() and not got
        asker.join(30)
        assert got[0][0] == 200 and "Relire et valider" in got[0][1]
        # the page keeps the state it built, but not past an event it did not make
        from synthese.stages import load_review, store_review

        with Store(done.settings.db) as store:
            store_review(store, load_review(store), [{
                "run_id": done.run_id, "reviewer": "Autre relecteur", "made_at": "2026-12-04",
                "action": "rename", "target": json.dumps({"cluster_id": int(a)}),
                "after": json.dumps({"title": "Renommé ailleurs"}), "before": "{}",
                "note": None, "origin_event_id": None}])
        assert "Renommé ailleurs" in fetch(page.url)[1]
    finally:
        page.close()
    with Store(done.settings.db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM core.llm_calls") > calls
        summary = store.query("SELECT summary, reviewed FROM marts.clusters WHERE run_id = ? "
                              "AND cluster_id = ?", [done.run_id, a]).iloc[0]
        events = store.query("SELECT action, after FROM marts.review_events ORDER BY seq")
        sentences = store.query("SELECT * FROM marts.synthesis_sentences WHERE run_id = ?",
                                [done.run_id])
    regenerated = json.loads(events[events["action"] == "regenerate_summary"].iloc[-1]["after"])
    assert summary["reviewed"] and summary["summary"] == regenerated["summary"]
    new = json.loads(events[events["action"] == "regenerate_synthesis"].iloc[-1]["after"])
    assert len(sentences) == len(new["sentences"]) and sentences["reviewed"].all()


def test_the_documents_are_written_in_their_own_thread_the_latest_state_winning():
    """revue.DocumentWriter: the page hands over a writer per action and does not wait; a
    writer still waiting is replaced by a newer one; a failure is said, then cleared."""
    from synthese.errors import SyntheseError
    from synthese.revue import DocumentWriter

    written, release = [], threading.Event()

    def writer(name, wait=False, fail=False):
        def write():
            if wait:
                release.wait(10)
            if fail:
                raise SyntheseError("disque plein")
            written.append(name)
        return write

    documents = DocumentWriter()
    documents.submit(writer("premier", wait=True))
    time.sleep(0.2)  # the first is being written
    for name in ("deuxième", "troisième", "dernier"):
        documents.submit(writer(name))
    assert not documents.flush(timeout=0.2)  # the first one still writes
    release.set()
    assert documents.flush(timeout=10)
    assert written == ["premier", "dernier"]
    documents.submit(writer("échec", fail=True))
    assert documents.flush(timeout=10)
    assert documents.error == "Documents DOCX, ODT et XLSX non mis à jour : disque plein"
    documents.submit(writer("repris"))
    assert documents.flush(timeout=10) and documents.error is None
    assert written[-1] == "repris"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`synthese revue` as a user starts it, on a reviewed-nothing run."""
    tmp = tmp_path_factory.mktemp("revue-cli")
    done = first_run(tmp)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "synthese.cli", "revue", "--db",
                             str(done.settings.db)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise AssertionError("synthese revue s'est arrêté")
            if found := re.search(r"http://\S+", line):
                url = found.group(0)
        assert url, "no address printed"
        for _ in range(100):  # the address is printed just before the server accepts
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        yield done, url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def fetch(url: str, data: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
    body = None if data is None else "&".join(
        f"{k}={urllib.request.quote(str(v))}" for k, v in data.items()).encode()
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_the_page_listens_on_loopback_only(served):
    _, url, _ = served
    port = int(re.search(r":(\d+)/", url).group(1))
    assert url.startswith("http://127.0.0.1:")
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                listening.append(local.rsplit(":", 1)[0])
    assert listening == ["0100007F"]  # 127.0.0.1, and no IPv6 or wildcard socket


def test_without_the_token_every_address_answers_403(served):
    _, url, _ = served
    root = url.split("/", 3)
    base, token = "/".join(root[:3]), root[3].strip("/")
    for path in ("/", "/rapport", f"/{token[:-1]}/", f"/{token}x/", "/docs", "/openapi.json"):
        assert fetch(base + path)[0] == 403, path
    assert fetch(base + "/action", {"action": "validate_synthesis"})[0] == 403
    status, html = fetch(url)
    assert status == 200 and "Relire et valider la synthèse" in html


def test_a_cross_site_post_is_refused_and_writes_nothing(served):
    done, url, _ = served
    assert fetch(url)[0] == 200
    html = fetch(url)[1]
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    run_id = re.search(r'name="run_id" value="([^"]+)"', html).group(1)
    origin = url.split("/", 3)
    own = "/".join(origin[:3])
    cookie = {"Cookie": "synthese_relecteur=Attaquant"}
    form = {"csrf": csrf, "run_id": run_id, "action": "validate_theme", "cluster_id": 0}
    assert fetch(url + "action", form, cookie | {"Origin": "http://evil.example"})[0] == 403
    assert fetch(url + "action", form, cookie | {"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert fetch(url + "action", form | {"csrf": "devine"}, cookie | {"Origin": own})[0] == 403
    assert fetch(url, headers={"Host": "evil.example"})[0] == 403  # DNS rebinding
    with Store(done.settings.db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM core.review_events") == 0
    # the same form from the page itself is accepted
    assert fetch(url + "action", form, cookie | {"Origin": own})[0] == 200
    with Store(done.settings.db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM core.review_events") == 1


def test_the_pages_hold_no_original_name_nor_contact(served):
    done, url, _ = served
    with Store(done.settings.db, read_only=True) as store:
        originals = list(store.query("SELECT DISTINCT original FROM raw.pseudonym_map")["original"])
    assert len(originals) >= 3, "the demo's answers hold names and contacts"
    for page in (url, url + "rapport"):
        status, html = fetch(page)
        assert status == 200
        found = [o for o in originals if o in html]
        assert found == [], (page, found)


def test_while_a_run_writes_the_page_says_so_and_refuses_edits(served):
    done, url, _ = served
    status, html = fetch(url)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    run_id = re.search(r'name="run_id" value="([^"]+)"', html).group(1)
    own = "/".join(url.split("/", 3)[:3])
    with Store(done.settings.db) as store:  # a run holds the database
        n = store.scalar("SELECT count(*) FROM core.review_events")
        status, page = fetch(url)
        assert status == 503 and "écrit en ce moment dans la base" in page
        status, page = fetch(url + "action", {"csrf": csrf, "run_id": run_id, "action": "note",
                                              "note": "pendant une exécution"},
                             {"Cookie": "synthese_relecteur=X", "Origin": own})
        assert status == 503 and "modifications sont refusées" in page
    with Store(done.settings.db, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM core.review_events") == n
