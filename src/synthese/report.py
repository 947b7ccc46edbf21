"""ReportData dict -> one self-contained HTML file (French, offline, printable).

The pipeline hands over a plain dict (see ``tests/report_sample.py`` for a complete one);
this module only reshapes it for the Jinja2 templates in ``synthese/templates``: theme
numbers, anchors, quote spans, French number formats. It never reads the database and never
fetches anything: the page must open offline and make no network request, which the inline
Content-Security-Policy also enforces in the reader's browser.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import math
import os
from bisect import bisect_left
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from synthese.errors import SyntheseError
from synthese.extract import SHORT_ANSWER_WORDS

SECTIONS = (
    ("opportunites", "Opportunités"),
    ("risques", "Risques et points de vigilance"),
    ("conditions", "Conditions de réussite"),
    ("conclusion", "Conclusion"),
)
KINDS = (
    ("opportunite", "Apport"),
    ("risque", "Risque ou crainte"),
    ("condition", "Condition ou demande"),
    ("constat", "Constat"),
    ("hors_sujet", "Hors sujet"),
)
DEFAULT_STEPS = (
    "Extraction des arguments de chaque réponse par un grand modèle de langage",
    "Vectorisation de chaque argument",
    "Regroupement des arguments par similarité",
    "Synthèse de chaque groupe par le modèle de langage",
    "Synthèse des synthèses",
)
ENTITY_LABELS = {
    "PERSONNE": "noms de personnes",
    "PERSON": "noms de personnes",
    "EMAIL": "adresses électroniques",
    "EMAIL_ADDRESS": "adresses électroniques",
    "TELEPHONE": "numéros de téléphone",
    "PHONE_NUMBER": "numéros de téléphone",
    "LIEU": "lieux",
    "LOCATION": "lieux",
    "ORGANISATION": "organisations",
    "ORGANIZATION": "organisations",
    "IBAN": "IBAN",
    "IBAN_CODE": "IBAN",
    "URL": "adresses web",
    "NIR": "numéros de sécurité sociale",
    "UAI": "codes d'établissement",
}
# The « Indicateurs de fiabilité » panel: one card per question a reader may ask, each with
# its headline share, a plain-French explanation and the finer figures behind it.
# (headline key, label, explanation, [(detail key, detail label, is_share)])
TRUST_CARDS = (
    (
        "quotes_verified_share",
        "Citations retrouvées dans les réponses",
        (
            "Part des citations qui sont le texte même de la réponse. Le logiciel découpe chaque "
            "réponse en segments numérotés ; le modèle indique les segments où il lit chaque "
            "idée, et la citation est le texte de ces segments. Une citation non retrouvée est "
            "marquée « citation non vérifiée »."
        ),
        (
            ("quotes_segment_share", "segments de la réponse", True),
            ("quotes_exact_share", "mot pour mot", True),
            ("quotes_fuzzy_share", "de façon approchée", True),
            ("unverified_quotes", "citations non vérifiées", False),
            ("uncovered_segments", "segments repris tels quels (non reformulés)", False),
            ("short_answers", (f"réponses d'une phrase de {SHORT_ANSWER_WORDS} mots au plus, "
             "reprises telles quelles sans appel au modèle"), False),
            ("empty_segments", "formules de politesse et segments vides écartés", False),
            ("injection_answers", ("réponses qui donnent des consignes au modèle (tentatives "
             "d'injection) : comptées et citées, jamais transmises au modèle"), False),
        ),
    ),
    (
        "summary_sentences_supported_share",
        "Phrases des résumés étayées par des arguments",
        (
            "Part des phrases publiées des résumés de thème dont le contenu se retrouve dans au "
            "moins un argument du thème. Une phrase du modèle qu'aucun argument ne soutient est "
            "remplacée par l'argument le plus proche, signalé « idée d'un répondant »."
        ),
        (
            ("unsupported_summary_sentences", "phrases non étayées", False),
            ("summary_model_sentences_supported_share", "phrases du modèle étayées", True),
            ("summary_sentences_replaced", "phrases remplacées par l'idée d'un répondant", False),
        ),
    ),
    (
        "synthesis_sentences_cited_share",
        "Phrases de la synthèse rattachées à un thème",
        (
            "Part des phrases de la synthèse qui renvoient à au moins un thème, ce qui permet de "
            "remonter jusqu'aux arguments et aux réponses."
        ),
        (),
    ),
    (
        "synthesis_sentences_supported_share",
        "Phrases de la synthèse étayées par leurs thèmes",
        (
            "Part des phrases de la synthèse que les arguments des thèmes qu'elles citent "
            "soutiennent. Une phrase du modèle que le code refuse (marques de gabarit, sens "
            "contraire à sa partie, phrase inachevée, pas en français, à la première personne, "
            "reprise de la question) ou qui échoue au contrôle est remplacée par une phrase de "
            "repli (le titre du thème et la citation d'un répondant, ou la première phrase de "
            "son résumé, déjà contrôlée) ; en mode « citations », chaque thème est présenté "
            "ainsi, sans phrase du modèle ; les phrases d'ouverture, de liaison et de conclusion "
            "sont écrites par le code à partir des effectifs."
        ),
        (
            ("synthesis_model_sentences", "phrases rédigées par le modèle", False),
            ("synthesis_quote_sentences", "thèmes présentés par une citation", False),
            ("synthesis_fallback_sentences", "phrases de repli", False),
            ("synthesis_code_sentences", "phrases écrites par le code", False),
        ),
    ),
    (
        "respondent_coverage",
        "Répondants représentés dans la synthèse",
        (
            "Part des répondants ayant exprimé au moins une idée dont une idée figure dans un "
            "thème cité par la synthèse."
        ),
        (),
    ),
    (
        "titles_by_model_share",
        "Titres de thème rédigés par le modèle",
        (
            "Part des titres écrits par le modèle et acceptés par le code (distincts, ne "
            "reprenant pas la question, plus proches de leur thème que de tout autre). Les "
            "autres reprennent l'idée la plus centrale du thème, dans les mots du répondant."
        ),
        (("titles_fallback", "titres de repli", False),),
    ),
)
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
NNBSP = "\u202f"  # French typography: narrow no-break space before % and between thousands


def render_html(data: dict) -> str:
    """Render ReportData as one self-contained HTML page (string)."""
    env = _environment()
    script = env.loader.get_source(env, "report.js")[0]
    style = env.loader.get_source(env, "report.css")[0]
    # The CSP allows exactly this script (by hash), so injected markup could never run code.
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    context = _prepare(data or {})
    return env.get_template("report.html.j2").render(
        **context, script=Markup(script), style=Markup(style), script_hash=script_hash
    )


def report_context(data: dict) -> dict:
    """The report data as the page shows it: themes numbered (T1 is the biggest), the
    synthesis's theme references, French figures. The documents (documents.py) read it too,
    so that the DOCX and ODT say what the page says."""
    return _prepare(data or {})


def render_review_page(data: dict, page: dict) -> str:
    """The review page (revue.py): the report's data and style, with the reviewer's forms.
    ``page`` holds what only the page has: token, CSRF value, reviewer, messages, events."""
    env = _environment()
    style = env.loader.get_source(env, "report.css")[0] + env.loader.get_source(env, "revue.css")[0]
    return env.get_template("revue.html.j2").render(**_prepare(data or {}), page=page,
                                                    style=Markup(style))


def render_report(data: dict, path: str | Path) -> Path:
    """Write the report as UTF-8 HTML at ``path`` and return that path.

    Written beside it first, then renamed: a full disk or a crash never leaves a truncated
    report at ``path``, and the previous one stays as it was."""
    path = Path(path)
    html = render_html(data)
    partial = path.with_name(f".{path.name}.partiel")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise SyntheseError(
                f"Disque plein : le rapport n'a pas pu être écrit dans « {path} » ; libérez de "
                "la place puis relancez (tout le reste est enregistré)."
            ) from exc
        raise SyntheseError(
            f"Impossible d'écrire le rapport dans « {path} » ({exc.strerror}) : vérifiez que "
            "le dossier existe et est accessible en écriture."
        ) from exc
    return path


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("synthese", "templates"),
        autoescape=True,  # answers are untrusted text, and the template name ends in .j2
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.ChainableUndefined,
    )
    env.filters.update(
        nombre=format_number, pourcent=format_share, date_fr=format_date, duree=format_duration,
        energie=format_energy,
    )
    env.globals.update(note_energie=energy_note)
    return env


# --- French formats -------------------------------------------------------------------------


def format_number(value: Any, decimals: int = 0) -> str:
    """3000 -> « 3 000 »; None -> « — »."""
    if value is None or isinstance(value, jinja2.Undefined) or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "—"
    text = f"{number:,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    return text


def format_share(value: Any) -> str:
    """0.05 -> « 5 % »; 0.053 -> « 5,3 % »; 0.996 -> « 99,6 % » (never a misleading 100 %)."""
    if value is None or isinstance(value, jinja2.Undefined) or value == "":
        return "—"
    try:
        percent = float(value) * 100
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(percent):
        return "—"
    rounded = round(percent)
    if percent < 10 or (rounded in (0, 100) and percent not in (0, 100)):
        text = format_number(percent, 1).removesuffix(",0")
    else:
        text = format_number(rounded)
    return f"{text}{NNBSP}%"


def format_date(value: Any) -> str:
    """ISO date or datetime -> « 22 novembre 2026 à 21 h 03 »; anything else unchanged."""
    if value is None or isinstance(value, jinja2.Undefined) or value == "":
        return "—"
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if len(value) <= 10:
            moment = moment.date()
    if isinstance(moment, datetime):
        return (
            f"{moment.day} {MONTHS[moment.month - 1]} {moment.year} "
            f"à {moment.hour} h {moment.minute:02d}"
        )
    if isinstance(moment, date):
        return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
    return str(value)


def format_duration(seconds: Any) -> str:
    """1234.5 -> « 20 min 35 s »."""
    try:
        total = round(float(seconds))
    except (TypeError, ValueError):
        return "—"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def format_energy(kwh: Any) -> str:
    """kWh with two significant digits, an estimate has no more: 0.0123 -> « 0,012 »;
    2.3e-05 -> « 0,000023 »; None -> « — »."""
    try:
        value = float(kwh)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(value) or value < 0:
        return "—"
    decimals = 1 if value == 0 else min(8, max(1, 1 - math.floor(math.log10(value))))
    return format_number(value, decimals)


def energy_note(method: dict[str, Any] | None, measured: bool) -> str:
    """How the report's energy was obtained, in one or two French sentences."""
    if not measured:
        return ("L'outil de mesure (codecarbon) a échoué pendant ce traitement : son énergie "
                "n'a pas été mesurée ; le journal de l'exécution en donne la raison.")
    method = method or {}
    tool = method.get("tool") or "codecarbon"
    head = (f"Énergie de ce traitement seul, de l'import à la synthèse, estimée par {tool} "
            "sur cet ordinateur, sans connexion")
    if method.get("cpu_estimated", True):
        power = method.get("cpu_power_w")
        power = f" ({format_number(power)}\u00a0W)" if isinstance(power, int | float) else ""
        cpu = ("le processeur n'offrant pas de compteur d'énergie lisible (RAPL), sa "
               f"consommation est calculée d'après sa puissance nominale{power} et la part du "
               "processeur utilisée")
    else:
        cpu = "la consommation du processeur est lue sur ses compteurs d'énergie (RAPL)"
    server = method.get("llm_server")
    server = (f" Le serveur du modèle de langage ({server}) est un autre programme : sa "
              "consommation n'est pas comptée." if server else "")
    return (f"{head} : {cpu} ; celle de la mémoire d'après sa taille. C'est un ordre de "
            f"grandeur.{server} Une nouvelle exécution réutilise les réponses déjà obtenues "
            "du modèle et coûte bien moins.")


# --- Reshaping ReportData for the templates -------------------------------------------------


def _prepare(data: dict) -> dict:
    themes = sorted(
        (dict(t) for t in data.get("themes") or []),
        key=lambda t: (bool(t.get("is_other")), -(t.get("n_respondents") or 0)),
    )
    answers_in = data.get("answers") or {}
    theme_ref = _number_themes(themes)
    for theme in themes:
        if theme.get("split_from") is not None:
            theme["split_ref"] = theme_ref(theme["split_from"])
    answer_texts = {aid: _normalise_text(a.get("text") or "") for aid, a in answers_in.items()}
    spans, back_links, arguments_by_id = _link_arguments(themes, answers_in, answer_texts)
    _theme_rows(themes, answers_in, arguments_by_id)
    answers = []
    for answer_id, answer in answers_in.items():
        text, _ = answer_texts[answer_id]
        answers.append(
            {
                "answer_id": answer_id,
                "respondent_id": answer.get("respondent_id"),
                "segments": _segments(text, spans[answer_id]),
                "arguments": back_links[answer_id],
            }
        )
    # in the order given: the export's (reportdata); respondent labels sort at random

    method = dict(data.get("method") or {})
    method["steps"] = method.get("steps") or list(DEFAULT_STEPS)
    counts = data.get("counts") or {}
    pseudo = data.get("pseudonymisation") or {}
    breakdowns = data.get("breakdowns") or []
    return {
        "title": data.get("title") or "Synthèse des réponses libres",
        "question": data.get("question") or "",
        "source": data.get("source") or {},
        "generated_at": data.get("generated_at"),
        "run_id": data.get("run_id"),
        "pseudo": pseudo,
        "pseudo_enabled": None if pseudo.get("enabled") is None else bool(pseudo["enabled"]),
        "pseudo_counts": [
            (ENTITY_LABELS.get(str(k), str(k)), v) for k, v in (pseudo.get("counts") or {}).items()
        ],
        "model_names": [m.get("name") for m in method.get("models") or [] if m.get("name")],
        "counts": counts,
        "figures": _figures(counts),
        "sections": _sections(data.get("synthesis") or [], theme_ref),
        "uncited": [theme_ref(c) for c in data.get("uncited_themes") or []],
        "uncited_given": "uncited_themes" in data,
        "synthesis_mode": data.get("synthesis_mode") or "composee",
        "trust": _trust(data.get("trust") or {}),
        "themes": themes,
        "theme_groups": _groups(themes),
        "answers": answers,
        "breakdowns": [_breakdown(b) for b in breakdowns],
        "closed_questions": [_closed_box(b, theme_ref) for b in data.get("closed_questions") or []],
        "not_closed": data.get("not_closed") or [],
        "campaigns": _campaigns(data, answers_in),
        "k_min": min((b.get("k") for b in breakdowns if b.get("k")), default=None),
        "method": method,
        "kind_labels": dict(KINDS),
        "review": _review(data.get("review") or {}, theme_ref),
    }


def _review(review: dict, theme_ref) -> dict:
    """The review's status as the report shows it; themes referred to by their number."""
    out = dict(review)
    out["validated_refs"] = _sorted_refs(review.get("validated_themes"), theme_ref)
    out["stale_refs"] = _sorted_refs(review.get("stale_summaries"), theme_ref)
    out["notes"] = [dict(n, ref=theme_ref(n["cluster_id"]) if n.get("cluster_id") is not None
                         else None) for n in review.get("notes") or []]
    return out


def _number_themes(themes: list[dict]):
    """Number the themes (T1 is the biggest) and return ``theme_ref(cluster_id)``."""
    refs: dict[Any, dict] = {}
    for number, theme in enumerate(themes, start=1):
        theme["number"] = number
        theme["anchor"] = f"theme-{theme.get('cluster_id')}"
        refs[theme.get("cluster_id")] = {
            "number": number,
            "label": theme.get("label") or "",
            "anchor": theme["anchor"],
            "found": True,
        }

    def theme_ref(cluster_id: Any) -> dict:
        return refs.get(cluster_id) or {
            "number": cluster_id,
            "label": "thème absent du rapport",
            "anchor": None,
            "found": False,
        }

    return theme_ref


def _link_arguments(themes: list[dict], answers_in: dict, answer_texts: dict):
    """Give each argument its reference (T3.2) and its span in the answer; returns the spans
    and back links of each answer, and the arguments by id."""
    spans: dict[str, list[tuple[int, int]]] = {aid: [] for aid in answers_in}
    back_links: dict[str, list[dict]] = {aid: [] for aid in answers_in}
    arguments_by_id: dict[str, dict] = {}
    for theme in themes:
        theme["arguments"] = [dict(a) for a in theme.get("arguments") or []]
        for position, argument in enumerate(theme["arguments"], start=1):
            answer_id = argument.get("answer_id")
            argument["ref"] = f"T{theme['number']}.{position}"
            argument["answer_found"] = answer_id in answers_in
            argument["respondent_id"] = (answers_in.get(answer_id) or {}).get("respondent_id")
            argument["span"] = None
            if argument["answer_found"]:
                text, removed = answer_texts[answer_id]
                span = _span(argument, text, removed)
                argument["span"] = span
                if span:
                    spans[answer_id].append(span)
                back_links[answer_id].append(
                    {
                        "ref": argument["ref"],
                        "span": span,
                        "argument_id": argument.get("argument_id"),
                    }
                )
            arguments_by_id[argument.get("argument_id")] = argument
    return spans, back_links, arguments_by_id


def _theme_rows(themes: list[dict], answers_in: dict, arguments_by_id: dict) -> None:
    """Bars, stances, summary sentences and quotes of each theme; summaries and quotes may
    point at any argument, of any theme."""
    max_share = max((t.get("share_respondents") or 0 for t in themes), default=0) or 1
    for theme in themes:
        theme["bar"] = round(100 * (theme.get("share_respondents") or 0) / max_share, 1)
        theme["kind_rows"] = _kinds(theme.get("kinds") or {})
        theme["summary_rows"] = [
            {
                **s,
                "arguments": [
                    arguments_by_id[a] for a in s.get("argument_ids") or [] if a in arguments_by_id
                ],
            }
            for s in theme.get("summary_sentences") or []
        ] or (
            [{"text": theme["summary"], "supported": None, "arguments": []}]
            if theme.get("summary")
            else []
        )
        theme["quote_rows"] = [
            {
                **q,
                "argument": arguments_by_id.get(q.get("argument_id")),
                "answer_found": q.get("answer_id") in answers_in,
            }
            for q in theme.get("quotes") or []
        ]


def _normalise_text(text: str) -> tuple[str, list[int]]:
    """Text as the browser's DOM will hold it, and the positions removed to get there.

    The HTML parser turns CR LF into LF and drops NUL characters; offsets computed by the
    pipeline on the raw text must be shifted the same way, or the JavaScript highlight
    (which reads the DOM text) would be off by one per line break.
    """
    removed = [
        i
        for i, ch in enumerate(text)
        if ch == "\x00" or (ch == "\r" and text[i + 1 : i + 2] == "\n")
    ]
    if not removed:
        return text, removed
    gone = set(removed)
    return "".join(ch for i, ch in enumerate(text) if i not in gone).replace("\r", "\n"), removed


def _span(argument: dict, text: str, removed: list[int]) -> tuple[int, int] | None:
    start, end = argument.get("quote_start"), argument.get("quote_end")
    if not isinstance(start, int) or not isinstance(end, int):
        return None
    start, end = start - bisect_left(removed, start), end - bisect_left(removed, end)
    return (start, end) if 0 <= start < end <= len(text) else None


def _segments(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Split ``text`` into (piece, highlighted) with the union of ``spans`` highlighted."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, cursor = [], 0
    for start, end in merged:
        if start > cursor:
            pieces.append((text[cursor:start], False))
        pieces.append((text[start:end], True))
        cursor = end
    if cursor < len(text) or not pieces:
        pieces.append((text[cursor:], False))
    return pieces


def _kinds(kinds: dict) -> list[dict]:
    total = sum(v or 0 for v in kinds.values())
    return [
        {
            "key": key,
            "label": label,
            "n": kinds.get(key) or 0,
            "width": round(100 * (kinds.get(key) or 0) / total, 1) if total else 0,
        }
        for key, label in KINDS
        if key in kinds
    ]


def _sections(synthesis: list[dict], theme_ref) -> list[dict]:
    by_key = {s.get("section"): s for s in synthesis}
    known = [key for key, _ in SECTIONS]
    ordered = [(key, title) for key, title in SECTIONS]
    ordered += [
        (s.get("section"), s.get("title") or str(s.get("section")))
        for s in synthesis
        if s.get("section") not in known
    ]
    if not synthesis:
        return []
    sections = []
    for key, title in ordered:
        paragraphs = []
        for paragraph in (by_key.get(key) or {}).get("paragraphs") or []:
            sentences = paragraph.get("sentences") or [
                {
                    "text": paragraph.get("text") or "",
                    "cluster_ids": paragraph.get("cluster_ids"),
                    "supported": None,
                }
            ]
            paragraphs.append(
                [{**s, "refs": _sorted_refs(s.get("cluster_ids"), theme_ref)} for s in sentences]
            )
        sections.append({"key": key, "title": title, "paragraphs": paragraphs})
    return sections


def _sorted_refs(cluster_ids: Any, theme_ref) -> list[dict]:
    refs = [theme_ref(c) for c in dict.fromkeys(cluster_ids or [])]
    return sorted(refs, key=lambda r: (not r["found"], r["found"] and r["number"] or 0))


def _figures(counts: dict) -> list[dict]:
    unassigned = counts.get("unassigned_share")
    rows = [
        ("respondents", "répondants", None),
        ("answers", "réponses", None),
        ("blank", "sans réponse", "réponses vides ou sans contenu exploitable"),
        ("processed", "réponses analysées", None),
        ("failed", "échecs d'analyse", "réponses que le modèle n'a pas pu traiter : à relire"),
        ("arguments", "arguments extraits", None),
        ("themes", "thèmes", "hors groupe « autres / inclassables »"),
    ]
    figures = [
        {"value": format_number(counts.get(k)), "label": label, "hint": hint}
        for k, label, hint in rows
        if k in counts
    ]
    if unassigned is not None:
        hint = (
            f"{format_number(counts['unassigned'])} arguments sans thème"
            if counts.get("unassigned") is not None
            else None
        )
        figures.append(
            {"value": format_share(unassigned), "label": "d'arguments inclassables", "hint": hint}
        )
    return figures


def _trust(trust: dict) -> list[dict]:
    """One card per trust question; cards whose figures are all missing are left out."""

    def shown(key: str, is_share: bool) -> str:
        return format_share(trust[key]) if is_share else format_number(trust[key])

    cards = []
    for key, label, help_text, details in TRUST_CARDS:
        rows = [(name, shown(k, share)) for k, name, share in details if trust.get(k) is not None]
        if trust.get(key) is None and not rows:
            continue
        value = trust.get(key)
        cards.append(
            {
                "key": key,
                "label": label,
                "help": help_text,
                "value": format_share(value),
                "width": None if value is None else max(0.0, min(100.0, 100 * float(value))),
                "details": rows,
            }
        )
    return cards


def _groups(themes: list[dict]) -> list[dict]:
    """Themes grouped by parent (first appearance order); the « other » group always last."""
    has_parents = any(t.get("parent_label") for t in themes)
    groups: dict[Any, dict] = {}
    for theme in themes:
        if theme.get("is_other"):
            continue
        key = theme.get("parent_label") or None
        label = key or ("Autres thèmes" if has_parents else None)
        groups.setdefault(key, {"label": label, "themes": []})["themes"].append(theme)
    ordered = list(groups.values())
    others = [t for t in themes if t.get("is_other")]
    if others:
        ordered.append({"label": None, "themes": others})
    return ordered


SEGMENT_TABLE_THEMES = 12


def _closed_box(box: dict, theme_ref) -> dict:
    """An « Extrait » box as the page shows it: its chart, and its themes by segment as a
    table (rows: themes then kinds of idea; columns: the segments shown)."""
    from synthese.charts import box_chart

    rows = box.get("segments") or []
    shown = list(dict.fromkeys(r["segment"] for r in rows if not r["suppressed"]))
    hidden = sorted({r["segment"] for r in rows if r["suppressed"]})
    sizes = {r["segment"]: r["n_respondents"] for r in rows}
    table: dict[tuple, dict] = {}
    for r in rows:
        if r["suppressed"]:
            continue
        key = (r["row_type"], r["cluster_id"] if r["row_type"] == "theme" else r["kind"])
        line = table.setdefault(key, {"type": r["row_type"], "cells": {}})
        line["cells"][r["segment"]] = r
    # Compact: the biggest themes, plus any theme with a significant cell (the others are in
    # marts.theme_segments and the workbook), then the kinds of idea.
    significant = {(r["row_type"], r["cluster_id"]) for r in rows if r["significant"]}
    themes = [key for key in table if key[0] == "theme"]
    kept = set(themes[:SEGMENT_TABLE_THEMES]) | (set(themes) & significant)
    lines = []
    for (row_type, row_id), line in table.items():
        if row_type == "theme" and (row_type, row_id) not in kept:
            continue
        if row_type == "theme":
            ref = theme_ref(row_id)
            line.update(ref=ref, label=ref["label"])
        else:
            line.update(ref=None, label=dict(KINDS).get(row_id, row_id))
        line["cells"] = [line["cells"].get(seg) for seg in shown]
        lines.append(line)
    return {**box, "chart": Markup(box_chart(box)),
            "table": {"segments": [{"label": seg, "n": sizes[seg]} for seg in shown],
                      "lines": lines, "hidden": hidden,
                      "themes_left_out": len(themes) - len(kept),
                      "n_significant": sum(r["significant"] for r in rows)}}


def _campaigns(data: dict, answers_in: dict) -> dict:
    """The campaigns (answers repeating one text) as the page shows them."""
    found = data.get("campaigns") or []
    return {"list": [{**c, "respondents": [answers_in[a]["respondent_id"] for a in c["answer_ids"]
                                           if a in answers_in],
                      "shown": c["representative_id"] in answers_in}
                     for c in found],
            "answers": sum(c["n_answers"] for c in found),
            "savings": data.get("campaign_savings") or {},
            "units": data.get("campaign_units")}


def _breakdown(breakdown: dict) -> dict:
    groups = breakdown.get("groups") or []
    total = sum(g.get("n") or 0 for g in groups) or 1
    top = max((g.get("n") or 0 for g in groups), default=0) or 1
    return {
        **breakdown,
        "total": total,
        "rows": [
            {
                **g,
                "share": (g.get("n") or 0) / total,
                "bar": round(100 * (g.get("n") or 0) / top, 1),
            }
            for g in groups
        ],
    }
