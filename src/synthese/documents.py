"""The report as documents people edit: the HTML report's data -> DOCX and ODT.

Inspectors paste the synthesis into their own report, in Word or LibreOffice Writer. Both
documents are written from one list of blocks (``document_blocks``), built from the same
report data as the HTML page (``report.report_context``), so they say the same thing: the
title and the question, the AI notice and the validation status, the synthesis in its
four parts with the themes each sentence rests on (T3, T7), the table of themes, each
theme's summary and quotes, the respondents' profile, and the method note (models and
their file hashes, parameters, tokens, time).

Headings use the word processors' own heading styles (« Titre 1 », « Titre 2 » in a French
LibreOffice; Heading 1/2 in the files), so that navigation and tables of contents work.
Every string goes through ``french_typography`` on its way into a file: no-break spaces
before « : ; ? ! » and inside « ». Pure: report data in, files out; no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthese.report import (
    energy_note,
    format_date,
    format_duration,
    format_energy,
    format_number,
    format_share,
)

NBSP = "\u00a0"  # before a colon, inside guillemets
NNBSP = "\u202f"  # narrow, before ; ? ! (and %, as in the HTML report)
_SPACES = "[ \u00a0\u202f]"
# Characters XML 1.0 cannot hold (answers may carry them: NUL, form feeds, ...).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
LANGUAGE = ("fr", "FR")
FONT = "Liberation Sans"  # LibreOffice's own; metric-compatible with Arial
DOCX_FONT = "Arial"  # Word has it; LibreOffice shows it with Liberation Sans


def french_typography(text: Any) -> str:
    """French typography for a document: the spaces already before « : ; ? ! » become
    no-break (a colon gets a full one, the others a narrow one), and guillemets hold their
    text with no-break spaces. No space is added before a sign that had none: quotes stay
    the respondents' own words. Characters XML cannot hold become U+FFFD."""
    text = _NOT_XML.sub("\ufffd", str(text))
    text = re.sub(f"{_SPACES}+:", NBSP + ":", text)
    text = re.sub(f"{_SPACES}+([;?!])", NNBSP + r"\1", text)
    text = re.sub(f"«{_SPACES}*", "«" + NBSP, text)
    return re.sub(f"{_SPACES}*»", NBSP + "»", text)


# --- The document as blocks ---------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A run of text in a paragraph."""

    text: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Heading:
    level: int  # 0: the document's title; 1 and 2: « Titre 1 », « Titre 2 »
    text: str


@dataclass(frozen=True)
class Para:
    runs: tuple[Text, ...]
    small: bool = False


@dataclass(frozen=True)
class Items:
    items: tuple[tuple[Text, ...], ...]
    numbered: bool = False


@dataclass(frozen=True)
class Grid:
    """A table: a header row repeated on each page, then the rows."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative widths of the columns
    numeric: frozenset[int] = frozenset()  # columns aligned right


Block = Heading | Para | Items | Grid


def _p(*runs: str | Text, small: bool = False) -> Para:
    return Para(tuple(r if isinstance(r, Text) else Text(r) for r in runs), small)


def _items(lines: list[Any], numbered: bool = False) -> Items:
    return Items(tuple(tuple(r if isinstance(r, Text) else Text(r) for r in
                             (line if isinstance(line, tuple) else (line,))) for line in lines),
                 numbered)


def _plural(n: int, word: str) -> str:
    return f"{format_number(n)}{NBSP}{word}{'s' if n != 1 else ''}"


def validation_line(review: dict[str, Any]) -> str:
    """The review's status, as the HTML report's header says it."""
    if review.get("validated"):
        return (f"Synthèse validée par {review.get('validated_by')} le "
                f"{format_date(review.get('validated_at'))} "
                f"({_plural(review.get('n_changes') or 0, 'modification')})")
    if review.get("reviewed"):
        who = review.get("reviewers") or []
        return ("Brouillon en cours de relecture" + (f" par {', '.join(who)}" if who else "")
                + f" ({_plural(review.get('n_changes') or 0, 'modification')}) : "
                "synthèse non validée")
    return "Brouillon non relu"


def theme_refs(refs: list[dict[str, Any]]) -> str:
    """« (T3, T7) » after a sentence; a theme missing from the report is named so."""
    if not refs:
        return "(sans thème)"
    return "(" + ", ".join(f"T{r['number']}" if r.get("found") else "thème absent"
                           for r in refs) + ")"


def document_blocks(ctx: dict[str, Any]) -> list[Block]:
    """The document, from the report's context (``report.report_context``)."""
    blocks: list[Block] = [Heading(0, ctx["title"])]
    review = ctx["review"]
    blocks.append(_p(Text("Consultation — " + ("synthèse validée par une personne"
                                               if review.get("validated")
                                               else "document de travail"), italic=True)))
    if ctx["question"]:
        blocks.append(_p(Text("Question posée : ", bold=True), ctx["question"]))
    blocks.append(_p(Text(validation_line(review), bold=True)))
    source, facts = ctx["source"] or {}, []
    if source.get("file"):
        facts.append(f"Fichier source : {source['file']}")
    if ctx["generated_at"]:
        facts.append(f"Produit le {format_date(ctx['generated_at'])}")
    if ctx["run_id"]:
        facts.append(f"Exécution {ctx['run_id']}")
    if facts:
        blocks.append(_p(" ; ".join(facts), small=True))
    if source.get("sha256"):
        blocks.append(_p(f"Empreinte SHA-256 du fichier : {source['sha256']}", small=True))
    blocks += _notice(ctx)
    if ctx["figures"]:
        blocks += [Heading(1, "Chiffres clés"),
                   Grid(("Indicateur", "Valeur"), tuple((f["label"].capitalize(), f["value"])
                                                        for f in ctx["figures"]),
                        (3, 1), frozenset({1}))]
    blocks += _synthesis(ctx)
    blocks += _trust(ctx)
    blocks += _themes(ctx)
    blocks += _profile(ctx)
    blocks += _method(ctx)
    blocks.append(_p("Document produit par le logiciel libre synthese selon la méthode de "
                     "l'annexe 5 de l'IGÉSR, à partir des mêmes données que le rapport HTML"
                     + (f" (exécution {ctx['run_id']})" if ctx["run_id"] else "") + ".",
                     small=True))
    return blocks


def _notice(ctx: dict[str, Any]) -> list[Block]:
    out: list[Block] = []
    if ctx["pseudo_enabled"] is False:
        out += [Heading(1, "Pseudonymisation désactivée"),
                _p(Text("Pseudonymisation désactivée pour ce traitement : les réponses et les "
                        "citations de ce document peuvent contenir des noms, des adresses ou "
                        "d'autres données personnelles. Ne pas diffuser ce document en l'état.",
                        bold=True))]
    elif ctx["pseudo_enabled"] is None:
        out += [Heading(1, "Pseudonymisation non renseignée"),
                _p("Le traitement n'indique pas si les réponses ont été pseudonymisées : "
                   "vérifiez-le avant toute diffusion.")]
    models = ctx["model_names"]
    out += [
        Heading(1, "Document de travail produit avec l'aide de l'intelligence artificielle"),
        _p("Ce document a été préparé avec l'aide de modèles d'intelligence artificielle "
           "exécutés localement" + (f" ({' ; '.join(models)})" if models else "")
           + ". Les arguments, les thèmes et les résumés sont proposés par ces modèles : ",
           Text("il s'agit d'un document de travail, qui doit être relu et validé par une "
                "personne", bold=True), " avant toute diffusion."),
        _p(Text("L'intelligence artificielle ne décide rien à propos de personne", bold=True),
           " : elle aide seulement à regrouper et à résumer les réponses. Chaque phrase de la "
           "synthèse renvoie aux thèmes sur lesquels elle s'appuie ; le rapport HTML et le "
           "classeur mènent de chaque thème aux arguments et aux réponses d'origine."),
    ]
    if ctx["pseudo_enabled"]:
        pseudo = ctx["pseudo"]
        counts = " ; éléments remplacés : " + ", ".join(
            f"{label} : {format_number(n)}" for label, n in ctx["pseudo_counts"]) \
            if ctx["pseudo_counts"] else ""
        out.append(_p(Text("Pseudonymisation activée", bold=True),
                      " : les réponses ont été pseudonymisées avant tout traitement"
                      + (f" ({pseudo['method']})" if pseudo.get("method") else "")
                      + counts + "."))
    return out


# Who wrote what, as the HTML report's badges say it (_synthese.html.j2, _themes.html.j2):
# the editable documents are the ones that get published.
SYNTHESIS_MADE = {
    "citations": "Les parties, l'ordre des thèmes, les proportions et les liaisons sont "
                 "calculés par le code ; chaque thème est présenté par son titre et la citation "
                 "d'un répondant, telle qu'il l'a écrite : aucune phrase n'est rédigée par le "
                 "modèle, qui n'a nommé que les thèmes. [code] marque une phrase écrite par le "
                 "code, [citation] un thème présenté par une citation, [repli] une phrase de "
                 "repli.",
    "composee": "Les parties, l'ordre des thèmes, les proportions et les liaisons sont "
                "calculés par le code ; le modèle rédige une phrase par thème, que le code "
                "contrôle. [code] marque une phrase écrite par le code, [repli] une phrase de "
                "repli.",
    "libre": "Le modèle a rédigé toute la synthèse à partir des résumés des thèmes ; le code "
             "a contrôlé chaque phrase contre les thèmes cités.",
}
SENTENCE_MARKS = {"code": "code", "citation": "citation", "repli": "repli"}
SUMMARY_MARKS = {"code": "code", "argument": "idée d'un répondant"}
TITLE_NOTES = {
    "idee": "Titre repris de l'idée la plus centrale du thème.",
    "code": "Titre donné par le code : les réponses de ce thème tiennent en quelques mots, sans "
            "sujet commun à nommer ; le titre en cite les deux plus centrales.",
}


def _synthesis(ctx: dict[str, Any]) -> list[Block]:
    out: list[Block] = [Heading(1, "Synthèse")]
    if not ctx["sections"]:
        return out + [_p("La synthèse n'a pas été produite pour ce traitement.")]
    out.append(_p(Text("Chaque phrase est suivie des thèmes sur lesquels elle s'appuie, "
                       "numérotés comme dans le tableau des thèmes (T1 est le plus cité) ; "
                       "« non étayée » signale une phrase que les thèmes cités ne soutiennent "
                       "pas clairement. " + SYNTHESIS_MADE[ctx.get("synthesis_mode")
                                                           or "composee"], italic=True),
                  small=True))
    for section in ctx["sections"]:
        out.append(Heading(2, section["title"]))
        if not section["paragraphs"]:
            out.append(_p(Text("Aucun élément pour cette partie.", italic=True)))
        for paragraph in section["paragraphs"]:
            runs: list[Text] = []
            for i, s in enumerate(paragraph):
                runs.append(Text(("" if i == 0 else " ") + s["text"] + NBSP))
                runs.append(Text(theme_refs(s["refs"]), italic=True))
                if s.get("origin") in SENTENCE_MARKS:
                    runs.append(Text(f" [{SENTENCE_MARKS[s['origin']]}]", italic=True))
                if s.get("supported") is False:
                    runs.append(Text(" [non étayée]", bold=True))
            out.append(Para(tuple(runs)))
    if ctx["uncited"]:
        out += [Heading(2, "Thèmes non repris dans la synthèse"),
                _p("Ces thèmes réunissent au moins 5 % des répondants mais la synthèse ne "
                   "les cite pas : le lecteur est invité à les examiner."),
                _items([f"T{r['number']} {r['label']}" for r in ctx["uncited"]])]
    return out


def _trust(ctx: dict[str, Any]) -> list[Block]:
    if not ctx["trust"]:
        return []
    rows = []
    for card in ctx["trust"]:
        rows.append((card["label"], card["value"]))
        rows += [(f"    {label}", value) for label, value in card["details"]]
    return [Heading(1, "Indicateurs de fiabilité"),
            _p("Ces indicateurs sont calculés par le logiciel, pas par le modèle de langage : "
               "ils disent dans quelle mesure le texte produit s'appuie réellement sur les "
               "réponses."),
            Grid(("Indicateur", "Valeur"), tuple(rows), (4, 1), frozenset({1}))]


def _themes(ctx: dict[str, Any]) -> list[Block]:
    themes = ctx["themes"]
    out: list[Block] = [Heading(1, "Thèmes")]
    if not themes:
        return out + [_p("Aucun thème n'a été produit pour ce traitement.")]
    out += [
        _p("Les arguments extraits des réponses ont été regroupés par similarité. Les thèmes "
           "sont classés par nombre de répondants ; un même répondant peut figurer dans "
           "plusieurs thèmes. Le groupe « autres / inclassables » réunit les arguments "
           "qu'aucun thème n'accueille."),
        Grid(("N°", "Thème", "Répondants", "Part des répondants", "Arguments"),
             tuple((f"T{t['number']}", t["label"], format_number(t["n_respondents"]),
                    format_share(t["share_respondents"]), format_number(t["n_arguments"]))
                   for t in themes),
             (0.7, 5, 1.4, 1.4, 1.3), frozenset({2, 3, 4})),
    ]
    for t in themes:
        out.append(Heading(2, f"T{t['number']} — {t['label']}"))
        facts = [(f"{_plural(t['n_respondents'], 'répondant')} "
                  f"({format_share(t['share_respondents'])})"),
                 _plural(t["n_arguments"], "argument")]
        if t.get("majority"):
            facts.insert(0, f"{t['majority'].capitalize()} des répondants")
        if t.get("parent_label"):
            facts.append(f"thème parent : {t['parent_label']}")
        if t.get("shared"):
            facts.append("avis partagés")
        out.append(_p(" ; ".join(facts) + ".", small=True))
        if t.get("title_origin") in TITLE_NOTES:
            out.append(_p(Text(TITLE_NOTES[t["title_origin"]], italic=True), small=True))
        if t["summary_rows"]:
            runs = [Text("Résumé : ", bold=True)]
            for i, s in enumerate(t["summary_rows"]):
                runs.append(Text(("" if i == 0 else " ") + s["text"]))
                if s.get("origin") in SUMMARY_MARKS:
                    runs.append(Text(f" [{SUMMARY_MARKS[s['origin']]}]", italic=True))
                if s.get("supported") is False:
                    runs.append(Text(" [non étayée]", bold=True))
            out.append(Para(tuple(runs)))
        if t["kind_rows"]:
            out.append(_p(Text("Nature des idées : ", bold=True),
                          ", ".join(f"{r['label'].lower()} {format_number(r['n'])}"
                                    for r in t["kind_rows"]) + "."))
        if t["quote_rows"]:
            out.append(_p(Text("Citations", bold=True)))
            out.append(_items([
                (Text(f"« {q['text']} »", italic=True),
                 Text(f" (réponse {q['argument']['respondent_id']})"
                      if q.get("argument") and q["argument"].get("respondent_id") else ""))
                for q in t["quote_rows"]]))
    return out


def _closed(ctx: dict[str, Any]) -> list[Block]:
    """The closed questions as « Extrait » boxes (the HTML report's, its chart as a table)
    and the themes by segment, significant cells marked ▲ or ▼."""
    out: list[Block] = [
        Heading(1, "Questions fermées et thèmes par groupe"),
        _p("Part des répondants de chaque groupe qui expriment chaque thème, intervalle de "
           "confiance à 95 % (Wilson) ; ▲ plus fréquent, ▼ moins fréquent que dans le reste des "
           "répondants (khi-deux, correction de Benjamini-Hochberg, seuil de 5 %). Les petits "
           "groupes sont regroupés ou masqués.")]
    for b in ctx["closed_questions"]:
        out += [Heading(2, f"Extrait {b['number']} — « {b['column']} »"),
                _p(f"{format_number(b['n_answered'])} répondants à la question pour "
                   f"{format_number(b['n_total'])} répondants au questionnaire"
                   + (" (plusieurs réponses possibles)." if b["multiple"] else "."))]
        if b["kind"] == "scale":
            out.append(Grid(("Valeur", "Répondants"),
                            tuple((g["label"], format_number(g["n"])) for g in b["bins"]),
                            (2, 1.3), frozenset({1})))
            out.append(_p(f"Moyenne : {format_number(b['mean'], 2)} ; médiane : "
                          f"{format_number(b['median'], 1)}."))
        else:
            out.append(Grid(("Réponse", "Répondants", "Part"),
                            tuple((g["label"], format_number(g["n"]), format_share(g["share"]))
                                  for g in b["bars"]), (4, 1.3, 1.3), frozenset({1, 2})))
        table = b["table"]
        if table["lines"] and table["segments"]:
            header = ("Thème", *(f"{s['label']} ({format_number(s['n'])})"
                                 for s in table["segments"]))
            rows = tuple(
                ((f"T{line['ref']['number']} " if line["ref"] else "") + str(line["label"]),
                 *("—" if c is None else format_share(c["share"])
                   + (" ▲" if c["significant"] and c["direction"] > 0 else
                      " ▼" if c["significant"] else "") for c in line["cells"]))
                for line in table["lines"])
            out.append(Grid(header, rows, (4, *([1.2] * len(table["segments"]))),
                            frozenset(range(1, len(header)))))
    if ctx["not_closed"]:
        out.append(_p("Colonnes traitées comme du texte libre ou un identifiant (trop de valeurs "
                      "distinctes) : " + ", ".join(f"« {c['column']} » ({c['n_values']} valeurs)"
                                                   for c in ctx["not_closed"]) + "."))
    return out


def _campaign_blocks(ctx: dict[str, Any]) -> list[Block]:
    """Answers that repeat one text (campaigns.py)."""
    campaigns = ctx["campaigns"]
    if not campaigns["list"]:
        return []
    out: list[Block] = [Heading(1, "Textes repris")]
    savings = campaigns["savings"]
    if savings.get("calls"):
        out.append(_p(f"Le modèle a lu chaque texte une seule fois : "
                      f"{format_number(savings['calls'])} appels au modèle évités."))
    for c in campaigns["list"]:
        out += [Heading(2, f"{format_number(c['n_answers'])} réponses reprennent un même texte"),
                _p(Text(f"« {c['text']} »", italic=True))]
    return out


def _profile(ctx: dict[str, Any]) -> list[Block]:
    """The respondents by each closed metadata column of the export, small groups merged
    (reportdata.breakdowns), when the report has no « Extrait » boxes (_closed)."""
    campaigns = _campaign_blocks(ctx)
    if ctx.get("closed_questions") or ctx.get("not_closed"):
        return campaigns + _closed(ctx)
    if not ctx["breakdowns"]:
        return campaigns
    out: list[Block] = campaigns + [
        Heading(1, "Profil des répondants"),
        _p("Répartition des répondants selon les informations de l'export. Les groupes trop "
           "petits sont regroupés pour qu'aucun répondant ne puisse être reconnu.")]
    for b in ctx["breakdowns"]:
        out += [Heading(2, f"Par {b['column']}"),
                Grid((str(b["column"]).capitalize(), "Répondants", "Part"),
                     tuple((str(g["group"]), format_number(g["n"]),
                            format_share(g["share"] if g["n"] is not None else None))
                           for g in b["rows"]), (4, 1.3, 1.3), frozenset({1, 2}))]
    return out


def _method(ctx: dict[str, Any]) -> list[Block]:
    method, review = ctx["method"], ctx["review"]
    out: list[Block] = [
        Heading(1, "Note de méthode"),
        _p("Ce rapport suit la méthode de l'annexe 5 de l'IGÉSR. Tous les calculs ont été faits "
           "sur un ordinateur local : aucune réponse n'a été envoyée à un service extérieur."),
        Heading(2, "Étapes"), _items(list(method["steps"]), numbered=True),
        Heading(2, "Relecture par une personne"), _p(_review_text(review)),
    ]
    if review.get("not_carried"):
        out.append(_items(list(review["not_carried"])))
    if review.get("notes"):
        out.append(_items([(f"T{n['ref']['number']} : " if n.get("ref") else "")
                           + f"{n['text']} ({n['by']}, {format_date(n['at'])})"
                           for n in review["notes"]]))
    out += [Heading(2, "Protection des répondants"), _p(_protection_text(ctx))]
    if method.get("models"):
        out += [Heading(2, "Modèles"),
                Grid(("Rôle", "Modèle", "Empreinte SHA-256 du fichier"),
                     tuple((m.get("role") or "", m.get("name") or "", m.get("sha256") or "—")
                           for m in method["models"]), (1.5, 2.5, 3))]
    if method.get("parameters"):
        out += [Heading(2, "Paramètres"),
                Grid(("Paramètre", "Valeur"), tuple((str(k), str(v)) for k, v in
                                                    method["parameters"].items()), (3, 2))]
    if method.get("prompts"):
        out += [Heading(2, "Consignes données au modèle (prompts)"),
                Grid(("Étape", "Consigne"), tuple((str(k), str(v)) for k, v in
                                                  method["prompts"].items()), (1.5, 4))]
    facts = []
    if method.get("date"):
        facts.append(f"Date : {format_date(method['date'])}")
    if isinstance(method.get("run_time_s"), int | float):
        facts.append(f"Durée de calcul : {format_duration(method['run_time_s'])}")
    if method.get("llm_calls"):
        facts.append(f"Appels au modèle de langage : {format_number(method['llm_calls']['made'])}"
                     f" effectués, {format_number(method['llm_calls']['reused'])} repris d'une "
                     "exécution précédente")
    tokens = method.get("tokens") or {}
    if tokens:
        facts.append(f"Jetons traités : {format_number(tokens.get('prompt'))} en entrée, "
                     f"{format_number(tokens.get('completion'))} produits")
    if isinstance(method.get("llm_seconds"), int | float):
        facts.append(f"Temps passé dans le modèle de langage : "
                     f"{format_duration(method['llm_seconds'])}")
    measured = isinstance(method.get("energy_kwh"), int | float)
    if "energy_kwh" in method:
        facts.append("Énergie estimée : " + (f"{format_energy(method['energy_kwh'])}{NBSP}kWh"
                                             if measured else "non mesurée"))
    mille = method.get("per_1000_answers") or {}
    if mille.get("answers"):
        energy = (f"{format_energy(mille['energy_kwh'])}{NBSP}kWh, "
                  if isinstance(mille.get("energy_kwh"), int | float) else "")
        facts.append(f"Pour 1{NBSP}000 réponses : {energy}{format_number(mille.get('tokens'))} "
                     f"jetons, {format_duration(mille.get('seconds'))} de calcul (coût de cette "
                     f"exécution, rapporté à ses {format_number(mille['answers'])} réponses "
                     "non vides)")
    out += [Heading(2, "Exécution"), _items(facts)]
    if "energy_kwh" in method:
        out.append(_p(energy_note(method.get("energy_method"), measured)))
    if tokens.get("by_stage"):
        out.append(Grid(("Étape", "Appels", "Jetons en entrée", "Jetons produits", "Durée"),
                        tuple((stage, format_number(t.get("calls")), format_number(t.get("prompt")),
                               format_number(t.get("completion")),
                               format_duration(t.get("seconds")))
                              for stage, t in tokens["by_stage"].items()),
                        (2, 1, 1.5, 1.5, 1.3), frozenset({1, 2, 3, 4})))
    return out


def _review_text(review: dict[str, Any]) -> str:
    if not review.get("reviewed"):
        return ("Cette synthèse n'a pas encore été relue : les thèmes, les résumés et la synthèse "
                "sont ceux que proposent les modèles. La commande « synthese revue » ouvre une "
                "page locale où une personne peut les corriger et les valider.")
    text = (f"La synthèse a été relue et validée par {review['validated_by']} le "
            f"{format_date(review['validated_at'])}." if review.get("validated")
            else "La relecture est en cours : la synthèse n'est pas encore validée.")
    if review.get("changes"):
        who = "le relecteur" if len(review.get("reviewers") or []) < 2 else "les relecteurs"
        text += (f" Modifications apportées par {who} ({format_number(review['n_changes'])}) : "
                 + ", ".join(f"{format_number(c['n'])} {c['label']}" for c in review["changes"])
                 + ".")
    else:
        text += " Aucune modification n'a été apportée aux propositions des modèles."
    text += (" Les effectifs, les parts, la couverture et les citations ont été recalculés par "
             "le code après chaque modification ; chaque action est enregistrée, avec son auteur "
             "et sa date, dans la vue marts.review_events de la base.")
    if review.get("hidden"):
        text += (f" Arguments jugés erronés ou hors sujet, masqués (jamais supprimés) : "
                 f"{format_number(review['hidden'])}.")
    if review.get("validated_refs"):
        text += " Thèmes validés : " + ", ".join(f"T{r['number']}"
                                                 for r in review["validated_refs"]) + "."
    if review.get("stale_refs"):
        text += (" Résumé à régénérer ou à relire, ses arguments ayant changé depuis qu'il a été "
                 "écrit : " + ", ".join(f"T{r['number']}" for r in review["stale_refs"]) + ".")
    if review.get("carried_from"):
        text += (f" Relecture reprise de l'exécution {review['carried_from']}"
                 + (" ; décisions qui n'ont pas pu être reprises :" if review.get("not_carried")
                    else " ; toutes les décisions ont pu être reprises."))
    return text


def _protection_text(ctx: dict[str, Any]) -> str:
    pseudo = ctx["pseudo"]
    if ctx["pseudo_enabled"]:
        text = ("Les réponses ont été pseudonymisées avant tout traitement"
                + (f" ({pseudo['method']})" if pseudo.get("method") else "")
                + " : les noms, adresses électroniques, numéros de téléphone et autres données "
                "identifiantes détectés ont été remplacés par des étiquettes. La détection "
                "automatique n'est pas parfaite : une relecture reste nécessaire avant "
                "publication.")
    elif ctx["pseudo_enabled"] is False:
        text = ("La pseudonymisation était désactivée pour ce traitement : les textes cités "
                "sont les textes d'origine.")
    else:
        text = "Le statut de la pseudonymisation n'est pas renseigné."
    k = ctx["k_min"]
    return text + (f" Dans les répartitions par profil, les groupes de moins de {k} répondants "
                   "sont fusionnés pour qu'aucun répondant ne puisse être reconnu." if k else "")


# --- DOCX (python-docx) -------------------------------------------------------------------


def write_docx(blocks: list[Block], path: Path, title: str) -> Path:
    """Write the blocks as a Word document (A4, French, real Heading 1/2 styles)."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    _docx_setup(doc, title)
    width = doc.sections[0].page_width - doc.sections[0].left_margin \
        - doc.sections[0].right_margin
    for block in blocks:
        if isinstance(block, Heading):
            doc.add_heading(french_typography(block.text), block.level)
        elif isinstance(block, Para):
            paragraph = doc.add_paragraph()
            for run in block.runs:
                r = paragraph.add_run(french_typography(run.text))
                r.bold, r.italic = run.bold or None, run.italic or None
                if block.small:
                    r.font.size = Pt(9)
        elif isinstance(block, Items):
            style = "List Number" if block.numbered else "List Bullet"
            for item in block.items:
                paragraph = doc.add_paragraph(style=style)
                for run in item:
                    r = paragraph.add_run(french_typography(run.text))
                    r.bold, r.italic = run.bold or None, run.italic or None
        else:
            table = doc.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            total = sum(block.widths)
            widths = [int(width * w / total) for w in block.widths]
            for i, column in enumerate(table.columns):
                column.width = widths[i]
            _docx_repeat_header(table.rows[0])
            for values, bold in [(block.header, True)] + [(row, False) for row in block.rows]:
                cells = table.rows[0].cells if bold else table.add_row().cells
                for i, (cell, value) in enumerate(zip(cells, values, strict=True)):
                    cell.width = widths[i]
                    paragraph = cell.paragraphs[0]
                    paragraph.paragraph_format.space_after = Cm(0)
                    if i in block.numeric:
                        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                    run = paragraph.add_run(french_typography(value))
                    run.bold = bold or None
                    run.font.size = Pt(9)
            doc.add_paragraph()
    doc.save(str(path))
    return path


def _docx_setup(doc: Any, title: str) -> None:
    """A4 with 2 cm margins, Arial, French language, page numbers in the footer."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    for section in doc.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2)
        section.top_margin = section.bottom_margin = Cm(2)
        footer = section.footer.paragraphs[0]
        footer.alignment = 1  # centred
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        footer._p.append(field)
    props = doc.core_properties
    props.title, props.language, props.author = french_typography(title), "fr-FR", "synthese"
    props.comments = "Document produit par synthese avec l'aide de l'intelligence artificielle"
    # The language of every run: spelling, hyphenation and typography rules of the editor.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for old in rpr.findall(qn("w:lang")):
        rpr.remove(old)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "fr-FR")
    rpr.append(lang)
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet", "List Number"):
        style = doc.styles[name]
        style.font.name = DOCX_FONT
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attribute), DOCX_FONT)
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            fonts.attrib.pop(qn(theme), None)
    doc.styles["Normal"].font.size = Pt(10.5)
    for name, size in (("Title", 22), ("Heading 1", 15), ("Heading 2", 12.5)):
        doc.styles[name].font.size = Pt(size)
        doc.styles[name].font.color.rgb = RGBColor(0x00, 0x00, 0x91)


def _docx_repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


# --- ODT (odfpy) --------------------------------------------------------------------------


def write_odt(blocks: list[Block], path: Path, title: str) -> Path:
    """Write the blocks as an OpenDocument text (A4, French, Heading 1/2 with outline
    levels: « Titre 1 », « Titre 2 » in LibreOffice's navigator)."""
    from odf import dc, teletype
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableHeaderRows, TableRow
    from odf.text import H, List, ListItem, P, Span

    doc = OpenDocumentText()
    styles = _odt_styles(doc, blocks)
    doc.meta.addElement(dc.Title(text=french_typography(title)))
    doc.meta.addElement(dc.Language(text="-".join(LANGUAGE)))

    def fill(element: Any, runs: tuple[Text, ...]) -> Any:
        for run in runs:
            style = styles.get(("run", run.bold, run.italic))
            target = element
            if style is not None:
                target = Span(stylename=style)
                element.addElement(target)
            teletype.addTextToElement(target, french_typography(run.text))
        return element

    n_table = 0
    for block in blocks:
        if isinstance(block, Heading):
            if block.level == 0:
                doc.text.addElement(fill(P(stylename=styles["title"]), (Text(block.text),)))
            else:
                doc.text.addElement(fill(H(outlinelevel=block.level,
                                           stylename=styles[f"h{block.level}"]),
                                         (Text(block.text),)))
        elif isinstance(block, Para):
            doc.text.addElement(fill(P(stylename=styles["small" if block.small else "body"]),
                                     block.runs))
        elif isinstance(block, Items):
            items = List(stylename=styles["numbered" if block.numbered else "bullets"])
            for item in block.items:
                entry = ListItem()
                entry.addElement(fill(P(stylename=styles["item"]), item))
                items.addElement(entry)
            doc.text.addElement(items)
        else:
            n_table += 1
            name = f"Tableau{n_table}"
            table = Table(name=name, stylename=styles[("table", n_table)])
            for i in range(len(block.header)):
                table.addElement(TableColumn(stylename=styles[("column", n_table, i)]))
            head = TableHeaderRows()
            table.addElement(head)
            for values, is_head in [(block.header, True)] + [(r, False) for r in block.rows]:
                row = TableRow()
                for i, value in enumerate(values):
                    cell = TableCell(stylename=styles["cell"], valuetype="string")
                    kind = "head" if is_head else ("num" if i in block.numeric else "cell")
                    cell.addElement(fill(P(stylename=styles[f"p-{kind}"]), (Text(value),)))
                    row.addElement(cell)
                (head if is_head else table).addElement(row)
            doc.text.addElement(table)
    doc.save(str(path))
    return path


def _odt_styles(doc: Any, blocks: list[Block]) -> dict[Any, Any]:
    """Named styles (Heading 1/2 with their outline levels, Title, Text body, lists) and
    the automatic ones (A4 page, bold/italic runs, tables)."""
    from odf.style import (
        DefaultStyle,
        FontFace,
        Footer,
        ListLevelProperties,
        MasterPage,
        PageLayout,
        PageLayoutProperties,
        ParagraphProperties,
        Style,
        TableCellProperties,
        TableColumnProperties,
        TableProperties,
        TextProperties,
    )
    from odf.text import (
        ListLevelStyleBullet,
        ListLevelStyleNumber,
        ListStyle,
        OutlineLevelStyle,
        OutlineStyle,
        P,
        PageNumber,
    )

    doc.fontfacedecls.addElement(FontFace(name=FONT, fontfamily=f"'{FONT}'",
                                          fontfamilygeneric="swiss", fontpitch="variable"))
    language, country = LANGUAGE
    default = DefaultStyle(family="paragraph")
    default.addElement(TextProperties(fontname=FONT, fontsize="10.5pt", language=language,
                                      country=country))
    doc.styles.addElement(default)

    def named(name: str, display: str, parent: str | None = None, *, klass: str = "text",
              outline: int | None = None, text: dict | None = None,
              paragraph: dict | None = None) -> Any:
        options = {"name": name, "displayname": display, "family": "paragraph",
                   "attributes": {"class": klass}}
        if parent:
            options["parentstylename"] = parent
        if outline:
            options["defaultoutlinelevel"] = str(outline)
        style = Style(**options)
        if paragraph:
            style.addElement(ParagraphProperties(**paragraph))
        if text:
            style.addElement(TextProperties(**text))
        doc.styles.addElement(style)
        return style

    blue = "#000091"
    named("Standard", "Standard", klass="text")
    body = named("Text_20_body", "Text body", "Standard",
                 paragraph={"margintop": "0cm", "marginbottom": "0.2cm"})
    heading = named("Heading", "Heading", "Standard",
                    paragraph={"margintop": "0.42cm", "marginbottom": "0.21cm",
                               "keepwithnext": "always"},
                    text={"fontname": FONT, "fontweight": "bold", "color": blue})
    out: dict[Any, Any] = {
        "body": body,
        "title": named("Title", "Title", heading.getAttribute("name"), klass="chapter",
                       paragraph={"textalign": "center"}, text={"fontsize": "22pt"}),
        "h1": named("Heading_20_1", "Heading 1", "Heading", outline=1,
                    text={"fontsize": "15pt"}),
        "h2": named("Heading_20_2", "Heading 2", "Heading", outline=2,
                    text={"fontsize": "12.5pt"}),
        "item": named("List_20_Contents", "List Contents", "Text_20_body",
                      paragraph={"marginbottom": "0.1cm"}),
        "p-cell": named("Table_20_Contents", "Table Contents", "Standard",
                        text={"fontsize": "9pt"}),
    }
    out["p-head"] = named("Table_20_Heading", "Table Heading", "Table_20_Contents",
                          text={"fontweight": "bold"})
    out["p-num"] = named("Table_20_Number", "Table Number", "Table_20_Contents",
                         paragraph={"textalign": "end"})
    out["small"] = named("Text_20_small", "Text small", "Text_20_body", text={"fontsize": "9pt"})
    outline = OutlineStyle(name="Outline")
    for level in range(1, 11):
        outline.addElement(OutlineLevelStyle(level=level, numformat=""))
    doc.styles.addElement(outline)

    def list_style(name: str, display: str, numbered: bool) -> Any:
        style = ListStyle(name=name, displayname=display)
        level = (ListLevelStyleNumber(level=1, numformat="1", numsuffix=".") if numbered
                 else ListLevelStyleBullet(level=1, bulletchar="•"))
        level.addElement(ListLevelProperties(spacebefore="0.4cm", minlabelwidth="0.6cm"))
        style.addElement(level)
        doc.styles.addElement(style)
        return style

    out["bullets"] = list_style("List_20_1", "List 1", False)
    out["numbered"] = list_style("Numbering_20_1", "Numbering 1", True)

    auto = doc.automaticstyles
    for bold in (False, True):
        for italic in (False, True):
            if bold or italic:
                style = Style(name=f"T{int(bold)}{int(italic)}", family="text")
                style.addElement(TextProperties(
                    **({"fontweight": "bold"} if bold else {}),
                    **({"fontstyle": "italic"} if italic else {})))
                auto.addElement(style)
                out[("run", bold, italic)] = style
    cell = Style(name="Cellule", family="table-cell")
    cell.addElement(TableCellProperties(border="0.5pt solid #808080", padding="0.08cm"))
    auto.addElement(cell)
    out["cell"] = cell
    usable = 17.0  # cm: A4 less 2 cm margins
    tables = [b for b in blocks if isinstance(b, Grid)]
    for n, grid in enumerate(tables, start=1):
        table = Style(name=f"Tableau{n}", family="table")
        table.addElement(TableProperties(width=f"{usable}cm", align="center",
                                         margintop="0.1cm", marginbottom="0.3cm"))
        auto.addElement(table)
        out[("table", n)] = table
        total = sum(grid.widths)
        for i, w in enumerate(grid.widths):
            column = Style(name=f"Tableau{n}.{i}", family="table-column")
            column.addElement(TableColumnProperties(columnwidth=f"{usable * w / total:.2f}cm"))
            auto.addElement(column)
            out[("column", n, i)] = column
    layout = PageLayout(name="A4")
    layout.addElement(PageLayoutProperties(pagewidth="21cm", pageheight="29.7cm",
                                           printorientation="portrait", margintop="2cm",
                                           marginbottom="1.5cm", marginleft="2cm",
                                           marginright="2cm"))
    auto.addElement(layout)
    centred = Style(name="Pied", family="paragraph", parentstylename="Standard")
    centred.addElement(ParagraphProperties(textalign="center"))
    auto.addElement(centred)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    footer = Footer()
    number = P(stylename=centred)
    number.addElement(PageNumber(selectpage="current"))
    footer.addElement(number)
    master.addElement(footer)
    doc.masterstyles.addElement(master)
    return out
