"""Rows from the store -> the ReportData dict that report.py renders, plus the trust figures.

Everything here is computed by code from the rows it is given: counts, shares, quotes,
coverage. It reads no database and knows no runner: the publish step fetches the rows
(``ReportRows``) and describes the run (``run``), and this module assembles them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from synthese.closed import CLOSED_MAX_VALUES
from synthese.energy import per_thousand
from synthese.errors import SyntheseError
from synthese.summarise import majority_phrase
from synthese.synthesise import SECTION_TITLES, SECTIONS
from synthese.verify import SUPPORT_THRESHOLD, trust_figures

STEPS = [
    ("Découpage de chaque réponse en segments (phrases ou propositions) par le code ; "
     "extraction, par un grand modèle de langage exécuté localement, des idées de chaque "
     "réponse, chacune rattachée aux segments qui l'expriment : la citation est le texte même "
     "de ces segments, et un segment qu'aucune idée ne couvre est repris tel quel "
     "(« non reformulé ») ; la nature de chaque idée (apport, risque, condition, constat) est "
     "donnée par des règles du code sur les mots du répondant"),
    "Vectorisation de chaque argument par un modèle de plongement de phrases",
    ("Regroupement des arguments par similarité (UMAP puis HDBSCAN, graine fixe), à part "
     "pour les apports, pour les conditions et pour les risques avec les constats, si bien "
     "qu'un thème ne mêle pas des avis opposés ; les arguments isolés sont rattachés au "
     "thème le plus proche de même nature ou classés « autres / inclassables »"),
    ("Titre de chaque thème proposé par le modèle et contrôlé par le code (distinct, ne "
     "reprenant pas la question, proche de son thème), à défaut l'idée la plus centrale ; "
     "résumé par le modèle, chaque phrase vérifiée contre les arguments du thème et, non "
     "étayée, remplacée par l'argument le plus proche ; effectifs, parts et expressions de "
     "majorité calculés par le code"),
]
SYNTHESIS_STEP = {
    "composee": ("Synthèse composée par le code : parties (apports, risques, conditions) et "
                 "ordre des thèmes selon les effectifs, une phrase par thème écrite par le "
                 "modèle et vérifiée contre le thème cité, remplacée à défaut par le titre du "
                 "thème et la citation d'un répondant (ou la première phrase du résumé) ; liaisons, proportions et conclusion écrites par le code"),
    "citations": ("Synthèse composée par le code : parties (apports, risques, conditions) et "
                  "ordre des thèmes selon les effectifs, chaque thème présenté par son titre et "
                  "la citation d'un répondant la plus centrale du type de la partie (la "
                  "citation seule si le titre est coupé ou parle d'autre chose) ; liaisons, "
                  "proportions et conclusion écrites par le code, sans appel au modèle"),
    "libre": ("Synthèse des résumés rédigée par le modèle de langage (apports, risques, "
              "conditions de réussite, conclusion), chaque phrase citant les thèmes dont elle "
              "s'appuie, vérifiés par le code"),
}
UNCITED_MIN_SHARE = 0.05
STAGE_NAMES = {"extraction": "extraction", "summary": "résumés des thèmes", "synthesis": "synthèse"}


@dataclass(frozen=True)
class ReportRows:
    """What the report shows, as read from the store for one run."""

    arguments: pd.DataFrame  # core.arguments + respondent_id, cluster_id, similarity
    themes: pd.DataFrame  # core.clusters + title, summary, parent_label (biggest first, -1 last)
    summary_sentences: pd.DataFrame  # checked sentences of the themes' summaries
    synthesis_sentences: pd.DataFrame  # checked sentences of the synthesis
    answers: pd.DataFrame  # answer_id, respondent_id, respondent_label, text of each answer shown
    respondent_metadata: list[str]  # JSON metadata of each respondent of the questions
    clustering_params: dict[str, Any]
    lineage: pd.DataFrame  # purpose, calls, prompt, completion, seconds (Store.lineage_cost)
    # respondent_id, metadata (JSON), answering (Store.respondents): the closed questions
    respondents: pd.DataFrame | None = None
    # the campaigns the run found (core.campaigns rows): answers repeating one text
    campaigns: pd.DataFrame | None = None


def _share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def build_report_data(rows: ReportRows, run: dict[str, Any]) -> dict[str, Any]:
    """The ReportData dict. ``run`` describes the run: question, source, run_id,
    generated_at, counts (of answers), pseudonymisation, models, prompts, seed, k_anonymity,
    run_time_s."""
    args, counts = rows.arguments, run["counts"]
    n_resp = int(counts.get("respondents") or 0)
    themes = [_theme(c, args, rows.summary_sentences) for c in rows.themes.itertuples(index=False)]
    synthesis, cited = _synthesis(rows.synthesis_sentences)
    n_args = len(args)
    unassigned = int((args["cluster_id"] < 0).sum()) if n_args else 0
    return {
        "title": "Synthèse des réponses libres",
        "question": run["question"],
        "source": run["source"],
        "generated_at": run["generated_at"],
        "run_id": run["run_id"],
        "pseudonymisation": run["pseudonymisation"],
        "counts": {
            "respondents": n_resp, "answers": int(counts.get("answers", 0)),
            "blank": int(counts.get("blank", 0)), "processed": int(counts.get("processed", 0)),
            "failed": int(counts.get("failed", 0)), "arguments": n_args,
            "themes": int((rows.themes["cluster_id"] >= 0).sum()), "unassigned": unassigned,
            "unassigned_share": _share(unassigned, n_args),
        },
        "synthesis": synthesis,
        "synthesis_mode": run.get("synthesis_mode") or "composee",
        "uncited_themes": [t["cluster_id"] for t in themes if not t["is_other"]
                           and t["share_respondents"] >= UNCITED_MIN_SHARE
                           and t["cluster_id"] not in cited],
        "themes": themes,
        # The report names a respondent by its label, never by an id of the export.
        "answers": {r.answer_id: {"respondent_id": r.respondent_label, "text": r.text}
                    for r in rows.answers.itertuples(index=False)},
        "trust": trust_figures(args, rows.summary_sentences, rows.synthesis_sentences,
                               rows.themes, counts)
        | {k: run[k] for k in ("summaries_failed", "synthesis_failure", "synthesis_fallbacks")
           if k in run},
        "breakdowns": breakdowns(rows.respondent_metadata, run["k_anonymity"]),
        **closed_questions(rows, run["k_anonymity"], tuple(run.get("closed") or ()), n_resp),
        **campaign_data(rows, themes, run.get("campaign_savings")),
        "review": run.get("review") or _unreviewed(),
        "method": {
            "steps": STEPS + [SYNTHESIS_STEP[run.get("synthesis_mode") or "composee"]],
            "models": run["models"],
            "parameters": method_parameters(run["seed"], run["k_anonymity"],
                                            rows.clustering_params),
            "prompts": run["prompts"],
            "date": run["generated_at"][:10],
            "run_time_s": run["run_time_s"],
            **lineage_cost(rows.lineage),
            **frugality(run, counts),
        },
    }


def frugality(run: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
    """The energy of the run (None when codecarbon failed; absent for a run recorded before
    it was measured), how it was measured, and the run's cost for 1,000 non-blank answers:
    kWh, tokens of the model calls it made, seconds (energy.py)."""
    if "energy_kwh" not in run:
        return {}
    answers = int(counts.get("answers") or 0) - int(counts.get("blank") or 0)
    return {
        "energy_kwh": run["energy_kwh"], "energy_method": run.get("energy_method") or {},
        "per_1000_answers": {
            "answers": answers,
            "energy_kwh": per_thousand(run["energy_kwh"], answers),
            "tokens": per_thousand(run.get("llm_tokens_made"), answers),
            "seconds": per_thousand(run.get("run_time_s"), answers)},
    }


def _theme(c: Any, args: pd.DataFrame, sentences: pd.DataFrame) -> dict[str, Any]:
    members = args[args["cluster_id"] == c.cluster_id] if len(args) else args
    if len(members):
        members = members.sort_values("similarity", ascending=False, na_position="last")
    by_id = members.set_index("argument_id") if len(members) else None
    quotes = [
        {"text": by_id.at[a, "quote"], "argument_id": a, "answer_id": by_id.at[a, "answer_id"]}
        for a in (c.quote_argument_ids if c.quote_argument_ids is not None else [])
        if by_id is not None and a in by_id.index
    ]
    summ = sentences[sentences["summary_key"] == c.summary_key] if len(sentences) else sentences
    kinds = json.loads(c.kinds) if isinstance(c.kinds, str) else {}
    sides = sorted((kinds.get(k, 0) for k in ("opportunite", "risque")), reverse=True)
    return {
        "cluster_id": int(c.cluster_id),
        "label": theme_label(c.title, int(c.cluster_id)),
        "parent_id": None if pd.isna(c.parent_id) else int(c.parent_id),
        "parent_label": c.parent_label if isinstance(c.parent_label, str) else None,
        "summary": c.summary if isinstance(c.summary, str) else "",  # NULL when it failed
        "summary_sentences": [
            {"text": r.text, "supported": bool(r.supported), "support": float(r.support),
             "argument_ids": list(r.argument_ids), "origin": _text(getattr(r, "origin", None)),
             "model_text": _text(getattr(r, "model_text", None))}
            for r in summ.itertuples(index=False)
        ],
        "kinds": kinds,
        # « avis partagés »: a theme whose smaller opposite side still holds a fifth of it
        "shared": bool(sides[1] and sides[1] >= 0.2 * max(1, int(c.n_arguments))),
        "split_from": None if pd.isna(getattr(c, "split_from", None)) else int(c.split_from),
        "majority": majority_phrase(float(c.share_respondents)),
        "title_origin": _text(getattr(c, "title_origin", None)),
        "title_rejected": json.loads(c.title_rejected)
        if isinstance(getattr(c, "title_rejected", None), str) else [],
        "n_arguments": int(c.n_arguments), "n_respondents": int(c.n_respondents),
        "share_respondents": float(c.share_respondents), "is_other": c.cluster_id < 0,
        "quotes": quotes,
        "arguments": [
            {"argument_id": a.argument_id, "text": a.text, "kind": _text(a.kind),
             "flags": list(a.flags) if a.flags is not None else [],
             "quote": a.quote if isinstance(a.quote, str) else a.model_quote,
             "answer_id": a.answer_id,
             "quote_start": None if pd.isna(a.quote_start) else int(a.quote_start),
             "quote_end": None if pd.isna(a.quote_end) else int(a.quote_end),
             "match_kind": a.match_kind if isinstance(a.match_kind, str) else None,
             "quote_score": None if pd.isna(a.quote_score) else float(a.quote_score),
             "verified": isinstance(a.match_kind, str)}
            for a in members.itertuples(index=False)
        ],
    }


def _unreviewed() -> dict[str, Any]:
    """What the report says of a run nobody reviewed: the status of an empty review."""
    from synthese.review import Reviewed  # review.py builds on this module

    return Reviewed().status()


def theme_label(title: Any, cluster_id: int) -> str:
    """A theme's name as shown: its title, else « Autres / inclassables » or « Thème N »."""
    if isinstance(title, str) and title:
        return title
    return "Autres / inclassables" if cluster_id < 0 else f"Thème {cluster_id}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _synthesis(synth: pd.DataFrame) -> tuple[list[dict[str, Any]], set[int]]:
    """The synthesis by section and paragraph, and the themes it cites."""
    out: list[dict[str, Any]] = []
    cited: set[int] = set()
    for section in SECTIONS:
        rows = synth[synth["section"] == section]
        paragraphs = []
        for _, group in rows.groupby("paragraph", sort=True):
            sents = [{"text": r.text, "cluster_ids": [int(i) for i in r.cluster_ids],
                      "paragraph": int(r.paragraph), "position": int(r.position),
                      "supported": bool(r.supported), "support": float(r.support),
                      "cited_by": r.cited_by, "origin": _text(getattr(r, "origin", None)),
                      "model_text": _text(getattr(r, "model_text", None))}
                     for r in group.itertuples(index=False)]
            ids = sorted({i for st in sents for i in st["cluster_ids"]})
            cited.update(ids)
            paragraphs.append({"text": " ".join(st["text"] for st in sents), "cluster_ids": ids,
                               "sentences": sents})
        out.append({"section": section, "title": SECTION_TITLES[section],
                    "paragraphs": paragraphs})
    return out, cited


def method_parameters(seed: int, k_anonymity: int, clustering: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"graine": seed, "température": 0,
                              "seuil de citation approchée": 85,
                              "seuil d'étayage (cosinus)": SUPPORT_THRESHOLD}
    clustering = dict(clustering)
    continuity = clustering.pop("continuity", None)
    params.update({f"regroupement : {k}": v for k, v in clustering.items()})
    params["stabilité des thèmes"] = stability_note(continuity)
    params["seuil de petits groupes (k)"] = k_anonymity
    return params


def stability_note(continuity: dict[str, Any] | None) -> str:
    """The agreement of this run's themes with the previous run on the same answers, in
    French (cluster.keep_in_place; stages._kept_in_place)."""
    if not continuity:
        return "premier regroupement de ces réponses : aucun précédent à comparer"
    changes = continuity["changes"]

    def ids(values: Any) -> str:
        return ", ".join(str(v) for v in values) or "aucun"

    from synthese.report import format_number, format_share

    return (f"par rapport au regroupement précédent ({continuity['shared_arguments']} arguments "
            f"communs, {continuity['new_arguments']} nouveaux) : le nouveau regroupement s'y "
            f"accorde à un ARI de {format_number(continuity['previous_ari'], 2)} ; les thèmes "
            f"sont gardés en place et {format_share(continuity['kept_share'])} des arguments "
            f"gardent le leur ; thèmes créés : {ids(changes['created'])} ; scindés : "
            f"{ids(changes['split'])} ; fusionnés : {ids(changes['merged'])} ; disparus : "
            f"{ids(changes['removed'])}")


def breakdowns(metadata: list[str], k: int) -> list[dict[str, Any]]:
    """Respondents per value of each low-cardinality metadata column, small groups merged."""
    if not metadata:
        return []
    frame = pd.DataFrame([json.loads(m) for m in metadata])
    out = []
    for column in frame.columns:
        values = frame[column].dropna()
        if values.empty or values.nunique() > CLOSED_MAX_VALUES or values.nunique() < 2:
            continue
        merged = small_groups(frame[[column]].dropna(), column, k=k)
        sizes = merged.groupby("group", sort=False).size()
        # Largest first, ties by name: the same data must give the same report.
        counts = sorted(sizes.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
        suppressed = set(merged.loc[merged["suppressed"], "group"])
        out.append({"column": column, "k": k,
                    "groups": [{"group": g, "n": None if g in suppressed else int(n)}
                               for g, n in counts]})
    return out


def _features(args: pd.DataFrame, population: list[str]) -> dict[str, set[Any]]:
    """For each respondent of ``population``: the themes (cluster_id >= 0) and the kinds of
    idea it expressed, as ("theme", id) and ("kind", kind)."""
    features: dict[str, set[Any]] = {r: set() for r in population}
    if len(args):
        for r, cid, kind in zip(args["respondent_id"], args["cluster_id"], args["kind"]):
            if r in features:
                if cid >= 0:
                    features[r].add(("theme", int(cid)))
                if isinstance(kind, str):
                    features[r].add(("kind", kind))
    return features


def closed_questions(rows: ReportRows, k: int, named: tuple[str, ...],
                     n_total: int) -> dict[str, Any]:
    """The « Extrait » box of each closed question (closed.py) with its themes by segment
    (crosstab.py), and the metadata columns left out as free text or identifiers."""
    from synthese.closed import (
        closed_columns,
        extract_box,
        parse_metadata,
        respondent_segments,
        segment_order,
    )
    from synthese.crosstab import theme_segments
    from synthese.extract import KINDS

    people = rows.respondents
    if people is None or not len(people):
        return {"closed_questions": [], "not_closed": []}
    metadata = parse_metadata(list(zip(people["respondent_id"], people["metadata"])))
    closed, left_out = closed_columns(metadata, named)
    population = [r for r, a in zip(people["respondent_id"], people["answering"]) if a]
    features = _features(rows.arguments, population)
    themes = rows.themes[rows.themes["cluster_id"] >= 0]
    order = [("theme", int(c)) for c in themes.sort_values(
        ["n_respondents", "cluster_id"], ascending=[False, True])["cluster_id"]]
    seen_kinds = {f[1] for fs in features.values() for f in fs if f[0] == "kind"}
    order += [("kind", kind) for kind in KINDS if kind in seen_kinds]
    boxes = []
    for number, column in enumerate(closed, start=1):
        box = extract_box(column, n_total or len(people), k, number)
        box["segments"] = theme_segments(column.column, respondent_segments(column), features,
                                         order, k, segment_order(column))
        boxes.append(box)
    return {"closed_questions": boxes, "not_closed": left_out}


def campaign_data(rows: ReportRows, themes: list[dict[str, Any]],
                  savings: dict[str, Any] | None) -> dict[str, Any]:
    """The campaigns (answers repeating one text) as the report shows them, and each theme's
    share when each campaign counts once (added to ``themes``)."""
    from synthese.campaigns import campaign_units

    found = rows.campaigns
    if found is None or not len(found):
        return {"campaigns": [], "campaign_savings": savings or {}}
    campaigns = [{"campaign_id": c.campaign_id, "question": c.question,
                  "n_answers": int(c.n_answers), "text": c.text,
                  "answer_ids": list(c.answer_ids),
                  "representative_id": c.representative_id,
                  "min_similarity": float(c.min_similarity)}
                 for c in found.itertuples(index=False)]
    people = rows.respondents
    population = ([r for r, a in zip(people["respondent_id"], people["answering"]) if a]
                  if people is not None else [])
    args = rows.arguments
    respondent_of = dict(zip(args["answer_id"], args["respondent_id"])) if len(args) else {}
    unit = campaign_units(respondent_of, campaigns)
    units = {unit.get(r, r) for r in population}
    for theme in themes:
        members = args[args["cluster_id"] == theme["cluster_id"]] if len(args) else args
        with_theme = {unit.get(r, r) for r in (members["respondent_id"] if len(members) else [])}
        theme["n_units"] = len(with_theme)
        theme["share_campaign_once"] = _share(len(with_theme), len(units))
    return {"campaigns": campaigns, "campaign_savings": savings or {},
            "campaign_units": len(units)}


def lineage_cost(rows: pd.DataFrame) -> dict[str, Any]:
    """Tokens and calls of every stored LLM call that produced this synthesis, by stage."""
    by_stage = {
        STAGE_NAMES.get(r.purpose, r.purpose): {
            "calls": int(r.calls), "prompt": int(r.prompt or 0),
            "completion": int(r.completion or 0), "seconds": round(float(r.seconds or 0), 1)}
        for r in rows.itertuples(index=False)
    }
    return {
        "tokens": {"prompt": int(rows["prompt"].sum()) if len(rows) else 0,
                   "completion": int(rows["completion"].sum()) if len(rows) else 0,
                   "by_stage": by_stage},
        "llm_calls": {"made": int(rows["calls"].sum()) if len(rows) else 0, "reused": 0},
        "llm_seconds": round(float(rows["seconds"].sum()), 1) if len(rows) else 0.0,
    }


def small_groups(frame: pd.DataFrame, by: str, k: int = 10) -> pd.DataFrame:
    """Merge the groups of ``by`` with fewer than ``k`` respondents into one « Autres » group.

    Returns a copy of ``frame`` (one row per respondent) with ``group`` (the label to show),
    ``group_size`` and ``suppressed``: True when the shown group still has fewer than ``k``
    respondents (the merged « Autres » included); such rows must show no quote and no count.
    Missing values count as their own group, « Non renseigné ».
    """
    if by not in frame.columns:
        raise SyntheseError(
            f"La colonne « {by} » est absente des répondants : choisissez l'une "
            f"de {', '.join(map(str, frame.columns))}."
        )
    if k < 1:
        raise SyntheseError(f"Le seuil k vaut {k} : il doit être un entier supérieur ou égal à 1.")
    other = f"Autres (moins de {k} répondants)"
    values = frame[by].astype("string").fillna("Non renseigné")
    sizes = values.map(values.value_counts())
    group = values.where(sizes >= k, other)
    group_size = group.map(group.value_counts()).astype(int)
    out = frame.copy()
    out["group"] = group.astype(object)
    out["group_size"] = group_size
    out["suppressed"] = (group_size < k).astype(bool)
    return out
