"""Marts rows -> the ReportData dict that report.py renders, plus the trust figures.

Everything here is computed by code from the store: counts, shares, quotes, coverage.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from synthese.summarise import SECTION_TITLES, SECTIONS

if TYPE_CHECKING:
    from synthese.pipeline import Pipeline

STEPS = [
    ("Extraction, dans chaque réponse, d'une liste d'arguments reformulés, avec leur position "
    "et une citation, par un grand modèle de langage exécuté localement ; les citations sont "
    "ensuite retrouvées mot pour mot dans la réponse par le code"),
    "Vectorisation de chaque argument par un modèle de plongement de phrases",
    ("Regroupement des arguments par similarité (UMAP puis HDBSCAN, graine fixe) ; les "
    "arguments isolés sont rattachés au thème le plus proche ou classés « autres / inclassables »"),
    ("Résumé de chaque thème à partir de tous ses arguments par le modèle de langage "
    "(par étapes quand ils dépassent son contexte) ; effectifs et citations calculés par le code"),
    ("Synthèse des résumés par le modèle de langage (opportunités, risques, conditions de "
    "réussite, conclusion), chaque phrase citant les thèmes dont elle s'appuie, vérifiés par le code"),
]
UNCITED_MIN_SHARE = 0.05


def _share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def build_report_data(p: Pipeline) -> dict[str, Any]:
    store, s = p.store, p.settings
    args = p._cluster_arguments() if p.clustering_id else pd.DataFrame()
    clusters = store.query(
        "SELECT c.*, sm.title, sm.summary, pt.label AS parent_label FROM core.clusters c "
        "LEFT JOIN core.summaries sm USING (summary_key) "
        "LEFT JOIN core.parent_themes pt ON pt.clustering_id = c.clustering_id "
        "AND pt.parent_id = c.parent_id WHERE c.clustering_id = ? "
        "ORDER BY (c.cluster_id < 0), c.n_respondents DESC, c.cluster_id",
        [p.clustering_id],
    )
    sentences = store.query(
        "SELECT ss.* FROM core.summary_sentences ss JOIN core.clusters c USING (summary_key) "
        "WHERE c.clustering_id = ? ORDER BY ss.summary_key, ss.position", [p.clustering_id])
    synth = store.query(
        "SELECT * FROM core.synthesis_sentences WHERE synthesis_key = ? "
        "ORDER BY section, paragraph, position", [p.synthesis_key])
    n_resp = int(p.counts.get("respondents") or 0)

    themes = []
    for c in clusters.itertuples(index=False):
        members = args[args["cluster_id"] == c.cluster_id] if len(args) else args
        if len(members):
            members = members.sort_values("similarity", ascending=False, na_position="last")
        by_id = members.set_index("argument_id") if len(members) else None
        quotes = [
            {"text": by_id.at[a, "quote"], "argument_id": a, "answer_id": by_id.at[a, "answer_id"]}
            for a in (c.quote_argument_ids if c.quote_argument_ids is not None else [])
            if by_id is not None and a in by_id.index
        ]
        summ = sentences[sentences["summary_key"] == c.summary_key]
        themes.append({
            "cluster_id": int(c.cluster_id),
            "label": (c.title if isinstance(c.title, str) and c.title
                      else "Autres / inclassables" if c.cluster_id < 0 else f"Thème {c.cluster_id}"),
            "parent_id": None if pd.isna(c.parent_id) else int(c.parent_id),
            "parent_label": c.parent_label if isinstance(c.parent_label, str) else None,
            "summary": c.summary if isinstance(c.summary, str) else "",  # NULL when it failed
            "summary_sentences": [
                {"text": r.text, "supported": bool(r.supported), "support": float(r.support),
                 "argument_ids": list(r.argument_ids)}
                for r in summ.itertuples(index=False)
            ],
            "n_arguments": int(c.n_arguments), "n_respondents": int(c.n_respondents),
            "share_respondents": float(c.share_respondents), "is_other": c.cluster_id < 0,
            "stances": json.loads(c.stances or "{}"),
            "quotes": quotes,
            "arguments": [
                {"argument_id": a.argument_id, "text": a.text, "stance": a.stance,
                 "quote": a.quote if isinstance(a.quote, str) else a.model_quote,
                 "answer_id": a.answer_id,
                 "quote_start": None if pd.isna(a.quote_start) else int(a.quote_start),
                 "quote_end": None if pd.isna(a.quote_end) else int(a.quote_end),
                 "match_kind": a.match_kind if isinstance(a.match_kind, str) else None,
                 "quote_score": None if pd.isna(a.quote_score) else float(a.quote_score),
                 "verified": isinstance(a.match_kind, str)}
                for a in members.itertuples(index=False)
            ],
        })

    synthesis = []
    cited: set[int] = set()
    for section in SECTIONS:
        rows = synth[synth["section"] == section]
        paragraphs = []
        for _, group in rows.groupby("paragraph", sort=True):
            sents = [{"text": r.text, "cluster_ids": [int(i) for i in r.cluster_ids],
                      "supported": bool(r.supported), "support": float(r.support),
                      "cited_by": r.cited_by} for r in group.itertuples(index=False)]
            ids = sorted({i for st in sents for i in st["cluster_ids"]})
            cited.update(ids)
            paragraphs.append({"text": " ".join(st["text"] for st in sents), "cluster_ids": ids,
                               "sentences": sents})
        synthesis.append({"section": section, "title": SECTION_TITLES[section],
                          "paragraphs": paragraphs})

    referenced = sorted(set(args["answer_id"])) if len(args) else []
    answers = store.query(
        "SELECT answer_id, respondent_id, text FROM staging.answers WHERE answer_id IN "
        "(SELECT unnest(?::VARCHAR[]))", [referenced])
    n_args = len(args)
    unassigned = int((args["cluster_id"] < 0).sum()) if n_args else 0
    trust = trust_figures(args, sentences, synth, n_resp)
    entity_counts = p.counts.get("entities", {})
    llm = p.llm.llm
    return {
        "title": "Synthèse des réponses libres",
        "question": p._question_label(),
        "source": p.source,
        "generated_at": p.started_at.isoformat(),
        "run_id": p.run_id,
        "pseudonymisation": {"enabled": s.pseudonymise, "method": p.counts.get("pseudonymisation"),
                             "counts": entity_counts},
        "counts": {
            "respondents": n_resp, "answers": int(p.counts.get("answers", 0)),
            "blank": int(p.counts.get("blank", 0)), "processed": int(p.counts.get("processed", 0)),
            "failed": int(p.counts.get("failed", 0)), "arguments": n_args,
            "themes": int((clusters["cluster_id"] >= 0).sum()), "unassigned": unassigned,
            "unassigned_share": _share(unassigned, n_args),
        },
        "synthesis": synthesis,
        "uncited_themes": [t["cluster_id"] for t in themes if not t["is_other"]
                           and t["share_respondents"] >= UNCITED_MIN_SHARE
                           and t["cluster_id"] not in cited],
        "themes": themes,
        "answers": {r.answer_id: {"respondent_id": r.respondent_id, "text": r.text}
                    for r in answers.itertuples(index=False)},
        "trust": trust,
        "breakdowns": breakdowns(p),
        "method": {
            "steps": STEPS,
            "models": [
                {"role": "Modèle de langage",
                 "name": f"{llm.model_name} ({llm.backend}, local)", "sha256": llm.model_sha256},
                {"role": "Modèle de vectorisation", "name": p.embedder.name,
                 "sha256": getattr(p.embedder, "sha256", None) or p.embedder.model_id},
            ],
            "parameters": method_parameters(p),
            "prompts": {k: f"{pr.label} (sha256 {pr.sha256[:12]})" for k, pr in p.prompts.items()},
            "date": p.started_at.date().isoformat(),
            "run_time_s": round(sum(p.timings.values()), 1),
            **lineage_cost(p),
            "energy_kwh": None,
        },
    }


def trust_figures(args: pd.DataFrame, summary_sentences: pd.DataFrame, synth: pd.DataFrame,
                  n_respondents: int) -> dict[str, Any]:
    n = len(args)
    kinds = args["match_kind"].value_counts().to_dict() if n else {}
    cited = synth[synth["cluster_ids"].map(lambda ids: len(ids) > 0)] if len(synth) else synth
    cited_ids = {int(i) for ids in cited["cluster_ids"] for i in ids} if len(cited) else set()
    covered = (args[args["cluster_id"].isin(cited_ids)]["respondent_id"].nunique()
               if n and cited_ids else 0)
    return {
        "quotes_verified_share": _share(sum(kinds.values()), n),
        "quotes_exact_share": _share(kinds.get("exact", 0), n),
        "quotes_normalised_share": _share(kinds.get("normalised", 0), n),
        "quotes_fuzzy_share": _share(kinds.get("fuzzy", 0), n),
        "unverified_quotes": n - sum(kinds.values()),
        "summary_sentences_supported_share": _share(
            int(summary_sentences["supported"].sum()) if len(summary_sentences) else 0,
            len(summary_sentences)),
        "unsupported_summary_sentences": int((~summary_sentences["supported"]).sum())
        if len(summary_sentences) else 0,
        "synthesis_sentences_cited_share": _share(len(cited), len(synth)),
        "synthesis_sentences_supported_share": _share(
            int(synth["supported"].sum()) if len(synth) else 0, len(synth)),
        "respondent_coverage": _share(covered, n_respondents),
    }


def method_parameters(p: Pipeline) -> dict[str, Any]:
    params: dict[str, Any] = {"graine": p.settings.seed, "température": 0,
                              "seuil de citation approchée": 85, "seuil d'étayage (cosinus)": None}
    from synthese.verify import SUPPORT_THRESHOLD

    params["seuil d'étayage (cosinus)"] = SUPPORT_THRESHOLD
    if p.clustering_id:
        raw = p.store.scalar("SELECT params FROM core.clusterings WHERE clustering_id = ?",
                             [p.clustering_id])
        params.update({f"regroupement : {k}": v for k, v in json.loads(raw or "{}").items()})
    params["seuil de petits groupes (k)"] = p.settings.k_anonymity
    return params


def breakdowns(p: Pipeline) -> list[dict[str, Any]]:
    """Respondents per value of each low-cardinality metadata column, small groups merged."""
    try:
        from synthese.pseudonymise import small_groups
    except ImportError:
        return []
    where, params = p._scope_sql()
    meta = p.store.query(
        f"SELECT DISTINCT r.respondent_id, r.metadata FROM staging.respondents r "
        f"JOIN staging.answers a USING (respondent_id) WHERE a.{where}", params)
    if meta.empty:
        return []
    frame = pd.DataFrame([json.loads(m) for m in meta["metadata"]])
    out = []
    for column in frame.columns:
        values = frame[column].dropna()
        if values.empty or values.nunique() > 40 or values.nunique() < 2:
            continue
        merged = small_groups(frame[[column]].dropna(), column, k=p.settings.k_anonymity)
        sizes = merged.groupby("group", sort=False).size()
        # Largest first, ties by name: the rows come from a DISTINCT query without order,
        # and the same data must give the same report.
        counts = sorted(sizes.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
        suppressed = set(merged.loc[merged["suppressed"], "group"])
        out.append({"column": column, "k": p.settings.k_anonymity,
                    "groups": [{"group": g, "n": None if g in suppressed else int(n)}
                               for g, n in counts]})
    return out


def lineage_cost(p: Pipeline) -> dict[str, Any]:
    """Tokens and calls of every stored LLM call that produced this synthesis, by stage.

    Read from the store through the call keys recorded on each extraction, summary and
    synthesis, so a rerun that reuses everything reports the same cost as the first run.
    """
    where, params = p._scope_sql()
    rows = p.store.query(
        f"""WITH keys AS (
              SELECT unnest(e.call_keys) AS k FROM core.extractions e
              JOIN staging.answers a USING (answer_id)
              WHERE e.extractor_key = ? AND a.{where}
              UNION SELECT unnest(s.call_keys) FROM core.summaries s
              JOIN core.clusters c USING (summary_key) WHERE c.clustering_id = ?
              UNION SELECT unnest(call_keys) FROM core.syntheses WHERE synthesis_key = ?)
            SELECT purpose, count(*) AS calls, sum(prompt_tokens) AS prompt,
                   sum(completion_tokens) AS completion, sum(duration_s) AS seconds
            FROM core.llm_calls WHERE call_key IN (SELECT k FROM keys)
            GROUP BY purpose ORDER BY purpose""",
        [p.extractor()] + params + [p.clustering_id, p.synthesis_key],
    )
    names = {"extraction": "extraction", "summary": "résumés des thèmes", "synthesis": "synthèse"}
    by_stage = {
        names.get(r.purpose, r.purpose): {"calls": int(r.calls), "prompt": int(r.prompt or 0),
                                          "completion": int(r.completion or 0),
                                          "seconds": round(float(r.seconds or 0), 1)}
        for r in rows.itertuples(index=False)
    }
    return {
        "tokens": {"prompt": int(rows["prompt"].sum()) if len(rows) else 0,
                   "completion": int(rows["completion"].sum()) if len(rows) else 0,
                   "by_stage": by_stage},
        "llm_calls": {"made": int(rows["calls"].sum()) if len(rows) else 0, "reused": 0},
        "llm_seconds": round(float(rows["seconds"].sum()), 1) if len(rows) else 0.0,
    }
