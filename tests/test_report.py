"""The HTML report: rendering rules, then the real page in headless Chromium."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_sample import sample_report_data

from synthese.errors import SyntheseError
from synthese.report import format_date, format_number, format_share, render_html, render_report

NNBSP = "\u202f"


class _Anchors(HTMLParser):
    """Collects ids, internal links, marks and scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.scripts = 0
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(attributes["id"])
        href = attributes.get("href")
        if href and href.startswith("#"):
            self.hrefs.append(href[1:])
        for name in ("href", "src", "action", "poster", "data"):
            value = attributes.get(name) or ""
            if value and not value.startswith(("#", "data:")):
                self.external.append(f"{tag} {name}={value}")
        if tag == "script":
            self.scripts += 1


def _parse(html: str) -> _Anchors:
    parser = _Anchors()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def sample() -> dict:
    return sample_report_data()


@pytest.fixture(scope="module")
def sample_html(sample: dict) -> str:
    return render_html(sample)


# --- Rendering rules ------------------------------------------------------------------------


def test_script_tag_in_an_answer_is_escaped(sample: dict) -> None:
    data = copy.deepcopy(sample)
    answer_id = next(iter(data["answers"]))
    data["answers"][answer_id]["text"] = "<script>alert('réponse')</script> & <b>gras</b>"
    data["themes"][0]["label"] = "<img src=x onerror=alert(1)>"
    data["question"] = "</title><script>alert(2)</script>"
    html = render_html(data)
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#39;réponse&#39;)&lt;/script&gt; &amp; &lt;b&gt;gras" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    parsed = _parse(html)
    assert parsed.scripts == 1  # only the report's own script
    assert parsed.external == []


def test_page_declares_french_and_forbids_any_network_or_foreign_script(sample_html: str) -> None:
    assert '<html lang="fr">' in sample_html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', sample_html)
    assert csp and "default-src 'none'" in csp.group(1)
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]{44}'", csp.group(1))
    assert _parse(sample_html).external == []
    assert "@import" not in sample_html and "url(" not in sample_html
    assert "https://" not in sample_html and "http://" not in sample_html


def test_ai_notice_names_the_models_and_says_it_is_a_draft_deciding_nothing(
    sample_html: str,
) -> None:
    notice = sample_html[sample_html.index('id="avertissement"') : sample_html.index("Sommaire")]
    assert "intelligence artificielle" in notice
    assert "document de travail" in notice
    assert "validé par une personne" in notice
    assert "ne décide rien à propos de personne" in notice
    assert "qwen2.5-0.5b-instruct" in notice and "all-MiniLM-L6-v2" in notice
    assert "Pseudonymisation activée" in notice
    assert "Pseudonymisation désactivée" not in sample_html


def test_disabled_pseudonymisation_shows_a_prominent_red_warning(sample: dict) -> None:
    data = copy.deepcopy(sample)
    data["pseudonymisation"] = {"enabled": False}
    html = render_html(data)
    warning = html.index("Pseudonymisation désactivée")
    assert warning < html.index('id="chiffres"')  # above the figures, not in small print
    assert 'class="alerte-pseudo" role="alert"' in html
    assert "Pseudonymisation activée" not in html


def test_synthesis_has_the_four_sections_in_order(sample: dict) -> None:
    data = copy.deepcopy(sample)
    data["synthesis"] = list(reversed(data["synthesis"]))  # the report restores the order
    html = render_html(data)
    titles = [
        "Opportunités",
        "Risques et points de vigilance",
        "Conditions de réussite",
        "Conclusion",
    ]
    positions = [html.index(f'-titre">{title}</h3>') for title in titles]
    assert positions == sorted(positions)
    assert html.index("Thèmes non repris dans la synthèse") > positions[-1]


def test_uncited_themes_are_listed_with_links(sample: dict) -> None:
    data = copy.deepcopy(sample)
    data["uncited_themes"] = [4]
    html = render_html(data)
    block = html[html.index('id="themes-non-repris"') : html.index('id="fiabilite"')]
    assert 'href="#theme-4"' in block
    assert "Inégalités d&#39;accès et d&#39;équipement" in block


def test_every_cited_theme_and_every_argument_answer_has_a_link_and_an_anchor(
    sample: dict, sample_html: str
) -> None:
    parsed = _parse(sample_html)
    ids, hrefs = set(parsed.ids), set(parsed.hrefs)
    cited = {
        c
        for section in sample["synthesis"]
        for p in section["paragraphs"]
        for s in p["sentences"]
        for c in s["cluster_ids"]
    }
    assert cited
    for cluster_id in cited:
        assert f"theme-{cluster_id}" in hrefs and f"theme-{cluster_id}" in ids
    for theme in sample["themes"]:
        for argument in theme["arguments"]:
            assert f"arg-{argument['argument_id']}" in ids
            assert f"answer-{argument['answer_id']}" in hrefs
            assert f"answer-{argument['answer_id']}" in ids
    assert not hrefs - ids, "every internal link must lead somewhere"
    assert len(parsed.ids) == len(ids), "ids must be unique"


def test_themes_are_ordered_by_respondents_with_the_other_group_last(sample: dict) -> None:
    data = copy.deepcopy(sample)
    data["themes"] = sorted(data["themes"], key=lambda t: t["n_respondents"])  # worst order
    html = render_html(data)
    order = [int(m) for m in re.findall(r'<article class="theme[^"]*" id="theme-(-?\d+)"', html)]
    by_id = {t["cluster_id"]: t for t in data["themes"]}
    assert order[-1] == -1
    weights = [by_id[c]["n_respondents"] for c in order[:-1]]
    assert weights == sorted(weights, reverse=True)
    assert len(order) == len(data["themes"])


def test_unsupported_sentences_and_unverified_quotes_are_flagged(
    sample: dict, sample_html: str
) -> None:
    unsupported = sum(
        not s["supported"]
        for section in sample["synthesis"]
        for p in section["paragraphs"]
        for s in p["sentences"]
    )
    unsupported += sum(not s["supported"] for t in sample["themes"] for s in t["summary_sentences"])
    assert unsupported == 2
    assert sample_html.count('class="phrase phrase-non-etayee"') == unsupported
    unverified = sum(not a["verified"] for t in sample["themes"] for a in t["arguments"])
    assert unverified == 1
    assert sample_html.count(">citation non vérifiée</span>") == unverified


def test_each_answer_is_rendered_once_with_its_quoted_spans_marked(
    sample: dict, sample_html: str
) -> None:
    assert sample_html.count('class="reponse" id="answer-') == len(sample["answers"])
    crlf = next(
        a
        for a in sample["themes"]
        for a in a["arguments"]
        if "\r\n" in sample["answers"][a["answer_id"]]["text"]
    )
    block = sample_html[sample_html.index(f'id="answer-{crlf["answer_id"]}"') :]
    block = block[: block.index("</div>")]
    assert f"<mark>{crlf['quote'].replace(chr(39), '&#39;')}</mark>" in block
    assert "\r" not in block  # the browser would drop it and shift every offset


def test_quote_offsets_given_to_the_browser_follow_the_text_it_will_hold(sample: dict) -> None:
    html = render_html(sample)
    for theme in sample["themes"]:
        for argument in theme["arguments"]:
            if argument["quote_start"] is None:
                continue
            raw = sample["answers"][argument["answer_id"]]["text"]
            dom_text = raw.replace("\r\n", "\n")
            item = html[html.index(f'id="arg-{argument["argument_id"]}"') :]
            link = re.search(
                rf'href="#answer-{argument["answer_id"]}" data-debut="(\d+)" data-fin="(\d+)"',
                item[: item.index("</li>")],
            )
            start, end = int(link.group(1)), int(link.group(2))
            located = raw[argument["quote_start"] : argument["quote_end"]]
            assert dom_text[start:end] == located


def test_an_empty_run_renders_without_crashing() -> None:
    for data in (
        {},
        {
            "themes": [],
            "synthesis": [],
            "answers": {},
            "counts": {},
            "trust": {},
            "method": {},
            "breakdowns": [],
            "uncited_themes": [],
        },
        {
            "counts": {"respondents": 0, "unassigned_share": None},
            "method": None,
            "pseudonymisation": {"enabled": True},
            "themes": None,
        },
    ):
        html = render_html(data)
        assert "La synthèse n'a pas été produite" in html
        assert "Aucun thème n'a été produit" in html
        assert "Note de méthode" in html
        assert "Extraction des arguments de chaque réponse" in html
    assert "Pseudonymisation non renseignée" in render_html({})


def test_missing_optional_keys_are_tolerated(sample: dict) -> None:
    data = copy.deepcopy(sample)
    for key in ("breakdowns", "uncited_themes", "trust", "run_id"):
        data.pop(key)
    theme = data["themes"][0]
    for key in ("summary_sentences", "quotes", "kinds", "parent_label"):
        theme.pop(key)
    data["synthesis"][0]["paragraphs"][0].pop("sentences")
    data["synthesis"][0]["paragraphs"][0]["cluster_ids"] = [0, 99]  # 99: not in the themes
    data["method"].pop("energy_kwh")
    html = render_html(data)
    assert "Profil des répondants" not in html
    assert theme["summary"] in html.replace("&#39;", "'")
    assert "groupe 99&nbsp;?" in html
    assert "kWh" not in html


def test_key_figures_breakdowns_and_method_are_shown_in_french(sample_html: str) -> None:
    assert "sans réponse" in sample_html and "échecs d&#39;analyse" in sample_html
    assert f"7,1{NNBSP}%" in sample_html  # 2 unassigned of 28 arguments
    assert (
        "Profil des répondants" in sample_html and "Autres (moins de 5 répondants)" in sample_html
    )
    assert f"123{NNBSP}456 en entrée" in sample_html
    assert "32 effectués, 0 repris" in sample_html
    assert "0,012&nbsp;kWh" in sample_html
    assert "1d96b4d7a1e3c5f70829ab3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70" in sample_html
    assert "groupes de moins de 5 répondants sont fusionnés" in sample_html
    assert "20 min 34 s" in sample_html


def test_french_number_percent_and_date_formats() -> None:
    assert format_number(3000) == f"3{NNBSP}000"
    assert format_number(None) == "—"
    assert format_share(0.05) == f"5{NNBSP}%"
    assert format_share(0.053) == f"5,3{NNBSP}%"
    assert format_share(0.17) == f"17{NNBSP}%"
    assert format_share(0.996) == f"99,6{NNBSP}%"  # never rounded up to a flattering 100 %
    assert format_share(1.0) == f"100{NNBSP}%"
    assert format_date("2026-11-22T21:03:00") == "22 novembre 2026 à 21 h 03"
    assert format_date("2026-11-22") == "22 novembre 2026"


def test_render_report_writes_utf8_and_returns_the_path(sample: dict, tmp_path: Path) -> None:
    path = render_report(sample, tmp_path / "sous-dossier" / "rapport.html")
    assert path == tmp_path / "sous-dossier" / "rapport.html"
    assert "Opportunités" in path.read_text(encoding="utf-8")


def test_render_report_to_an_impossible_path_raises_a_french_error(
    sample: dict, tmp_path: Path
) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("x")
    with pytest.raises(SyntheseError, match="Impossible d'écrire le rapport"):
        render_report(sample, blocker / "rapport.html")


def test_thousands_of_answers_stay_compact(sample: dict) -> None:
    data = copy.deepcopy(sample)
    theme = data["themes"][0]
    template = theme["arguments"][0]
    text = data["answers"][template["answer_id"]]["text"]
    for i in range(3000):
        answer_id = f"big{i:05d}"
        data["answers"][answer_id] = {"respondent_id": f"R{i:05d}", "text": text}
        theme["arguments"].append(
            {**template, "argument_id": f"arg{i:05d}", "answer_id": answer_id}
        )
    html = render_html(data)
    assert html.count('class="reponse" id="answer-big') == 3000
    # Each answer is written once: the page grows by well under 2 KB per answer + argument.
    assert len(html.encode()) - len(render_html(sample).encode()) < 3000 * 2000


# --- The real page in headless Chromium -----------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    from cdp import Chromium

    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        session = chromium.session
        for domain in ("Page", "Network", "Runtime", "Log", "DOM"):
            session.send(f"{domain}.enable")
        yield session
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def report_url(sample: dict, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = render_report(sample, tmp_path_factory.mktemp("rapport") / "rapport.html")
    return path.resolve().as_uri()


def _load(session, url: str) -> int:
    """Load the page fresh; return the index of its first event."""
    session.send("Emulation.setScriptExecutionDisabled", value=False)
    session.navigate("about:blank")
    since = len(session.events)
    session.navigate(url)
    session.evaluate("new Promise(r => setTimeout(r, 200))")
    return since


def _click(session, selector: str) -> str:
    """Click the first element matching ``selector``; return the new location hash."""
    return session.evaluate(
        f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
        f" if (!el) throw new Error('introuvable : ' + {json.dumps(selector)});"
        " el.click(); return location.hash; })()"
    )


def _find_argument(sample: dict, predicate) -> dict:
    return next(a for t in sample["themes"] for a in t["arguments"] if predicate(a))


def test_page_makes_no_network_request_and_logs_no_error(browser, report_url: str) -> None:
    from cdp import foreign_requests, page_errors, requested_urls

    since = _load(browser, report_url)
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    _click(browser, "#synthese a.ref-theme")
    events = browser.events[since:]
    requests = requested_urls(events)
    foreign = foreign_requests(events, report_url)
    assert requests and not foreign, foreign
    errors = page_errors(events, levels=("error", "assert", "warning"))
    assert errors == []
    assert browser.evaluate("document.title").startswith("Synthèse des réponses libres")


def test_click_through_from_synthesis_sentence_to_highlighted_quote(
    browser, report_url: str, sample: dict
) -> None:
    _load(browser, report_url)
    # 1. A synthesis sentence cites a theme.
    assert _click(browser, "#synthese-opportunites .phrase a.ref-theme") == "#theme-0"
    theme = next(t for t in sample["themes"] if t["cluster_id"] == 0)
    # 2. The theme's summary sentence leads to its best-supporting argument, inside a
    #    collapsed list that must open.
    first_support = theme["summary_sentences"][0]["argument_ids"][0]
    assert _click(browser, "#theme-0 .resume a.ref-argument") == f"#arg-{first_support}"
    assert (
        browser.evaluate(f"document.getElementById('arg-{first_support}').closest('details').open")
        is True
    )
    # 3. The argument leads to its answer, where only its own quote is highlighted, although
    #    another argument of the same answer quotes another span.
    argument = _find_argument(sample, lambda a: a["argument_id"] == first_support)
    siblings = [
        a
        for t in sample["themes"]
        for a in t["arguments"]
        if a["answer_id"] == argument["answer_id"]
    ]
    assert len(siblings) >= 2
    hash_ = _click(browser, f"#arg-{first_support} a.lien-reponse")
    assert hash_ == f"#answer-{argument['answer_id']}"
    state = browser.evaluate(
        f"(() => {{ const a = document.getElementById('answer-{argument['answer_id']}');"
        " const r = a.getBoundingClientRect();"
        " return {marks: [...a.querySelectorAll('mark')].map(m => m.textContent),"
        " open: a.closest('details').open, visible: r.height > 0,"
        " inView: r.top >= -1 && r.top < innerHeight}; })()"
    )
    assert state == {"marks": [argument["quote"]], "open": True, "visible": True, "inView": True}
    # 4. Another argument of the same answer moves the highlight to its own span.
    other = next(a for a in siblings if a["argument_id"] != first_support)
    browser.evaluate(
        f"document.getElementById('arg-{other['argument_id']}').closest('details').open = true"
    )
    _click(browser, f"#arg-{other['argument_id']} a.lien-reponse")
    marks = browser.evaluate(
        f"[...document.querySelectorAll('#answer-{other['answer_id']} mark.actif')]"
        ".map(m => m.textContent)"
    )
    assert marks == [other["quote"]]


@pytest.mark.parametrize("trap", ["emoji", "crlf"])
def test_highlight_survives_emoji_and_windows_line_breaks(
    browser, report_url: str, sample: dict, trap: str
) -> None:
    def has_trap(a: dict) -> bool:
        text = sample["answers"][a["answer_id"]]["text"]
        before = text[: a["quote_start"] or 0]
        return "\r\n" in before if trap == "crlf" else any(ord(c) > 0xFFFF for c in before)

    argument = _find_argument(sample, lambda a: a["quote_start"] is not None and has_trap(a))
    _load(browser, report_url)
    _click(browser, f"#arg-{argument['argument_id']} a.lien-reponse")
    marks = browser.evaluate(
        f"[...document.querySelectorAll('#answer-{argument['answer_id']} mark')]"
        ".map(m => m.textContent)"
    )
    assert marks == [argument["quote"]]


def test_theme_link_follows_from_the_keyboard(browser, report_url: str) -> None:
    _load(browser, report_url)
    href = browser.evaluate(
        "(() => { const a = document.querySelector('#synthese a.ref-theme');"
        " a.focus(); return a.getAttribute('href'); })()"
    )
    for kind in ("rawKeyDown", "char", "keyUp"):
        browser.send(
            "Input.dispatchKeyEvent",
            type=kind,
            key="Enter",
            code="Enter",
            windowsVirtualKeyCode=13,
            text="\r" if kind == "char" else "",
        )
    browser.evaluate("new Promise(r => setTimeout(r, 100))")
    assert browser.evaluate("location.hash") == href


def test_answer_and_its_quote_are_shown_without_javascript(
    browser, report_url: str, sample: dict
) -> None:
    argument = _find_argument(sample, lambda a: a["match_kind"] == "exact")
    browser.send("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.navigate("about:blank")
        browser.navigate(f"{report_url}#answer-{argument['answer_id']}")
        document = browser.send("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = browser.send(
            "DOM.querySelector", nodeId=document, selector=f"#answer-{argument['answer_id']}"
        )["nodeId"]
        html = browser.send("DOM.getOuterHTML", nodeId=node)["outerHTML"]
        box = browser.send("DOM.getBoxModel", nodeId=node)["model"]
    finally:
        browser.send("Emulation.setScriptExecutionDisabled", value=False)
    assert f"<mark>{argument['quote']}</mark>" in html.replace("&#39;", "'")
    assert box["height"] > 0  # the browser opened the appendix to show the target


def test_printing_shows_the_collapsed_arguments_and_answers(
    browser, report_url: str, sample: dict
) -> None:
    _load(browser, report_url)
    argument = sample["themes"][-1]["arguments"][-1]
    visible = f"document.getElementById('arg-{argument['argument_id']}').checkVisibility()"
    assert browser.evaluate(visible) is False
    browser.send("Emulation.setEmulatedMedia", media="print")
    try:
        assert browser.evaluate(visible) is True
    finally:
        browser.send("Emulation.setEmulatedMedia", media="")


def test_sections_are_stacked_in_one_readable_column(browser, report_url: str) -> None:
    _load(browser, report_url)
    layout = browser.evaluate(
        "(() => { const hs = [...document.querySelectorAll("
        "'main > section[id]:not(.avertissement) > h2')];"
        " return {lefts: [...new Set(hs.map(h => Math.round(h.getBoundingClientRect().left)))],"
        " tops: hs.map(h => h.getBoundingClientRect().top),"
        " width: document.querySelector('main').getBoundingClientRect().width,"
        " overflow: document.documentElement.scrollWidth > innerWidth}; })()"
    )
    assert len(layout["lefts"]) == 1, layout["lefts"]
    assert layout["tops"] == sorted(layout["tops"])
    assert layout["width"] <= 62 * 16
    assert layout["overflow"] is False


def test_the_synthesis_says_who_wrote_it_in_each_mode(sample):
    composed = render_html(sample)
    free = render_html({**sample, "synthesis_mode": "libre"})
    assert "le modèle rédige une phrase par thème, que le code contrôle" in composed
    assert "Le modèle a rédigé toute la synthèse" not in composed
    assert "Le modèle a rédigé toute la synthèse" in free
