"""The runner's side of each stage: read what is pending, call the stage, write the result.

Each function here takes the run (runner.Run) and the records of the earlier stages it
needs, reads pending rows from the Store, calls the pure function of the stage's module
(which takes rows and models and returns rows, and could run on a batch in another
process), writes the result in one batch keyed by content hashes, and returns a small
record of what it did. A rerun finds everything done and does nothing; a killed run
resumes where it stopped. Only runner.py and the flows use this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthese.keys import to_json
from synthese.progress import Progress

if TYPE_CHECKING:
    from synthese.runner import Run


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class Imported:
    source: dict[str, str]  # file name and SHA-256 of the export
    counts: dict[str, int]  # export_rows, export_answers, new_answers, new_respondents


def ingest(run: Run) -> Imported:
    from synthese.ingest import import_rows, read_export

    s = run.settings
    export = read_export(s.export)
    rows = import_rows(export, list(s.questions), s.id_column, s.limit, run.started_at)
    for warning in export.warnings:
        run.log(f"Attention : {warning}")
    new_resp, new_answers = run.store.record_import(
        rows.import_row, rows.raw_respondents, rows.staged_respondents, rows.raw_answers)
    if rows.identifying:
        run.log("Colonnes identifiantes conservées dans la couche brute uniquement : "
                + ", ".join(rows.identifying))
    run.log(f"Import : {len(rows.raw_answers)} réponses lues dans {export.path.name}, "
            f"{new_answers} nouvelles.")
    counts = {"export_rows": len(rows.raw_respondents), "export_answers": len(rows.raw_answers),
              "new_answers": new_answers, "new_respondents": new_resp}
    return Imported({"file": export.path.name, "sha256": export.sha256}, counts)


@dataclass(frozen=True)
class Staged:
    method: str  # the pseudonymisation method, or « aucune »
    entities: dict[str, int]  # entities replaced in all the answers to the questions


def pseudonymise(run: Run) -> Staged:
    from synthese.pseudonymise import pseudonymise_answers, total_entity_counts

    s, store = run.settings, run.store
    method = run.pseudonymisation_method()
    pending = store.answers_to_pseudonymise(s.questions, method).to_dict("records")
    replaced = 0
    if pending:
        staged, mapping = pseudonymise_answers(
            pending, run.pseudonymiser() if s.pseudonymise else None, method)
        store.replace_staged_answers(staged, mapping)
        replaced = len(mapping)
    entities = total_entity_counts(store.entity_counts(s.questions))
    if s.pseudonymise:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(entities.items())) or "aucune"
        run.log(f"Pseudonymisation : {replaced} entités remplacées dans {len(pending)} réponses "
                f"traitées maintenant ; au total : {detail}.")
    else:
        run.log("ATTENTION : pseudonymisation désactivée ; le modèle voit les réponses "
                "telles quelles.")
    return Staged(method, entities)


@dataclass(frozen=True)
class Extracted:
    extractor_key: str
    counts: dict[str, int]  # answers, respondents, blank, processed, failed, pending…
    calls_made: int


def extract(run: Run) -> Extracted:
    from synthese.extract import extract_answers, extraction_rows, extractor_key

    s, store, prompt = run.settings, run.store, run.prompts["extraction"]
    key = extractor_key(run.llm.model_id, prompt)
    pending = store.answers_to_extract(s.questions, key)
    before = run.llm.stats.made
    if not pending.empty:
        run.log(f"Extraction des arguments : {len(pending)} réponses à traiter.")
        question_of = dict(zip(pending["answer_id"], pending["question"]))
        attempt_of = dict(zip(pending["answer_id"], pending["attempt"].astype(int)))
        source_of = dict(zip(pending["answer_id"], pending["source_hash"]))
        llm = run.llm.for_stage("extraction", prompt)
        batch: list[Any] = []

        def write(extractions: list[Any]) -> None:
            if extractions:
                store.write_extractions(*extraction_rows(extractions, key, attempt_of, source_of,
                                                         _now()))

        with Progress(len(pending), "Extraction", run.progress, run.log) as bar:
            def on_done(extraction: Any) -> None:
                batch.append(extraction)
                bar.advance()
                if len(batch) >= 10:
                    write(batch)
                    batch.clear()

            extract_answers(list(zip(pending["answer_id"], pending["text"])),
                            lambda aid: s.question_text(question_of[aid]), llm, prompt, on_done)
            write(batch)
    return Extracted(key, store.answer_counts(s.questions, key), run.llm.stats.made - before)


def embed(run: Run, extract: Extracted) -> int:
    """Vectorise the arguments not yet embedded by this model; returns how many."""
    store, embedder = run.store, run.embedder
    args = store.arguments(run.settings.questions, extract.extractor_key)
    missing = store.missing_embeddings(list(dict.fromkeys(args["text_hash"])), embedder.model_id)
    if missing:
        texts = args.drop_duplicates("text_hash").set_index("text_hash").loc[sorted(missing), "text"]
        run.log(f"Vectorisation : {len(texts)} arguments.")
        vectors = embedder.embed(list(texts), progress=run.progress)
        store.put_embeddings(list(texts.index), vectors, embedder.model_id)
    return len(missing)


@dataclass(frozen=True)
class Clustered:
    clustering_id: str
    reused: bool


def cluster(run: Run, extract: Extracted) -> Clustered:
    from synthese.cluster import cluster_vectors, clustering_key, theme_rows

    s, store, model_id = run.settings, run.store, run.embedder.model_id
    args = store.arguments(s.questions, extract.extractor_key)
    key = clustering_key(list(args["argument_id"]), model_id, s.seed, s.min_cluster_size)
    if store.has_clustering(key):
        return Clustered(key, True)
    vectors = (store.get_embeddings(list(args["text_hash"]), model_id) if len(args)
               else np.zeros((0, 8), dtype=np.float32))
    result = cluster_vectors(vectors, seed=s.seed, min_cluster_size=s.min_cluster_size)
    clusters, assignments = theme_rows(args, vectors, result, key,
                                       extract.counts["respondents"])
    store.write_clustering({
        "clustering_id": key, "embed_model_id": model_id, "params": to_json(result.params),
        "n_arguments": len(args), "n_clusters": result.n_clusters,
        "unassigned_share": result.unassigned_share, "created_at": _now()},
        assignments, clusters)
    return Clustered(key, False)


def _theme_arguments(run: Run, extract: Extracted, clustering_id: str) -> pd.DataFrame:
    args = run.store.arguments(run.settings.questions, extract.extractor_key)
    return args.merge(run.store.assignments(clustering_id), on="argument_id")


def _vectors(run: Run, texts: list[str]) -> np.ndarray:
    return run.embedder.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)


@dataclass(frozen=True)
class Summarised:
    summary_keys: dict[int, str]  # the summary of each theme (cluster_id >= 0)
    made: int
    reused: int


def summarise(run: Run, extract: Extracted, cluster: Clustered) -> Summarised:
    from synthese.summarise import parent_labels, summarise_theme, summary_key

    store, map_p, reduce_p = run.store, run.prompts["summary"], run.prompts["reduce"]
    themes = store.clusters(cluster.clustering_id)
    themes = themes[themes["cluster_id"] >= 0].sort_values("cluster_id")
    args = _theme_arguments(run, extract, cluster.clustering_id)
    llm = run.llm.for_stage("summary", map_p, reduce_p)
    keys: dict[int, str] = {}
    made = 0
    with Progress(len(themes), "Résumés des thèmes", run.progress, run.log) as bar:
        for c in themes.itertuples(index=False):
            key = keys[int(c.cluster_id)] = summary_key(c.members_key, llm.model_id, map_p, reduce_p)
            latest = store.latest_summary(key)
            if latest is None or latest["failure"] is not None:
                # a failed summary is tried again (its successful calls are cached)
                texts = list(args[args["cluster_id"] == c.cluster_id]
                             .sort_values("similarity", ascending=False)["text"])
                summary = summarise_theme(texts, run.question_label, llm, map_p, reduce_p)
                if summary.failed:
                    run.log(f"Résumé du thème {c.cluster_id} en échec : {summary.failed}")
                store.write_summary({
                    "summary_key": key, "attempt": (latest["attempt"] if latest else 0) + 1,
                    "members_key": c.members_key, "model_id": llm.model_id,
                    "prompt_hash": map_p.sha256, "title": summary.title,
                    "summary": summary.summary or None, "n_stages": summary.n_stages,
                    "failure": summary.failed, "call_keys": summary.call_keys,
                    "created_at": _now()})
                made += 1
            bar.advance()
    written = store.summaries(list(keys.values())).set_index("summary_key")
    titles = [(int(c.parent_id), written.at[keys[int(c.cluster_id)], "title"], int(c.n_arguments))
              for c in themes.itertuples(index=False) if not pd.isna(c.parent_id)]
    store.write_parent_labels([{"clustering_id": cluster.clustering_id, "parent_id": p, "label": label}
                               for p, label in parent_labels(titles).items()])
    _check_summaries(run, args, keys, written)
    return Summarised(keys, made, len(keys) - made)


def _check_summaries(run: Run, args: pd.DataFrame, keys: dict[int, str],
                     written: pd.DataFrame) -> None:
    from synthese.summarise import split_sentences
    from synthese.verify import check_key, summary_checks

    model_id = run.embedder.model_id
    checks = {key: check_key(key, model_id) for key in keys.values()}
    done = run.store.checked_summaries(checks)
    rows = []
    for cluster_id, key in sorted(keys.items()):
        if key in done:
            continue
        text = written.at[key, "summary"]
        # A failed summary is NULL, i.e. NaN in pandas (truthy, so "or" does not catch it).
        sentences = split_sentences(text if isinstance(text, str) else "")
        members = args[args["cluster_id"] == cluster_id]
        member_vectors = run.store.get_embeddings(list(members["text_hash"]), model_id)
        rows += summary_checks(key, checks[key], sentences, _vectors(run, sentences), members,
                               member_vectors)
    run.store.write_summary_checks(rows)


@dataclass(frozen=True)
class Synthesised:
    synthesis_key: str
    attempt: int
    reused: bool


def synthesise(run: Run, extract: Extracted, cluster: Clustered,
               summarise: Summarised) -> Synthesised:
    from synthese.summarise import synthesis_key
    from synthese.summarise import synthesise as write_synthesis
    from synthese.verify import SUPPORT_THRESHOLD, cite_and_check

    store, prompt = run.store, run.prompts["synthesis"]
    summaries = store.summaries(list(summarise.summary_keys.values())).set_index("summary_key")
    themes = store.clusters(cluster.clustering_id)
    themes = themes[themes["cluster_id"] >= 0]
    rows = [{"cluster_id": int(c.cluster_id), "share": c.share_respondents,
             "title": summaries.at[summarise.summary_keys[int(c.cluster_id)], "title"],
             "summary": summaries.at[summarise.summary_keys[int(c.cluster_id)], "summary"],
             "summary_key": summarise.summary_keys[int(c.cluster_id)]}
            for c in themes.itertuples(index=False)]
    for row in rows:
        if not isinstance(row["summary"], str):
            row["summary"] = row["title"]
    llm = run.llm.for_stage("synthesis", prompt)
    key = synthesis_key(cluster.clustering_id, [r["summary_key"] for r in rows], llm.model_id,
                        prompt, run.embedder.model_id, SUPPORT_THRESHOLD)
    latest = store.latest_synthesis(key)
    if latest is not None and latest["failure"] is None:
        return Synthesised(key, int(latest["attempt"]), True)
    attempt = (int(latest["attempt"]) if latest else 0) + 1
    run.log("Synthèse des résumés par le modèle de langage.")
    draft = write_synthesis(rows, run.question_label, llm, prompt)
    if draft.failure:
        run.log(f"Synthèse en échec : {draft.failure}")
    args = _theme_arguments(run, extract, cluster.clustering_id)
    args = args[args["cluster_id"] >= 0]
    cand = (store.get_embeddings(list(args["text_hash"]), run.embedder.model_id)
            if len(args) else np.zeros((0, 1), dtype=np.float32))
    theme_of = args["cluster_id"].to_numpy()
    sentences = []
    for s, vec in zip(draft.sentences, _vectors(run, [s.text for s in draft.sentences])):
        ids, score, cited_by = cite_and_check(s.cluster_ids, vec, theme_of, cand)
        sentences.append({"synthesis_key": key, "attempt": attempt, "section": s.section,
                          "paragraph": s.paragraph, "position": s.position, "text": s.text,
                          "cluster_ids": ids, "cited_by": cited_by, "support": round(score, 4),
                          "supported": score >= SUPPORT_THRESHOLD})
    store.write_synthesis({
        "synthesis_key": key, "attempt": attempt, "clustering_id": cluster.clustering_id,
        "model_id": llm.model_id, "prompt_hash": prompt.sha256, "failure": draft.failure,
        "call_keys": draft.call_keys, "created_at": _now()}, sentences)
    return Synthesised(key, attempt, False)


@dataclass(frozen=True)
class Published:
    report_path: Path
    counts: dict[str, Any]  # arguments, themes, unassigned, unassigned_share
    trust: dict[str, Any]
    answer_counts: dict[str, int]


def publish(run: Run, ingest: Imported, pseudonymise: Staged, extract: Extracted,
            cluster: Clustered, summarise: Summarised, synthesise: Synthesised) -> Published:
    from synthese.report import render_report
    from synthese.reportdata import ReportRows, build_report_data

    s, store = run.settings, run.store
    counts = store.answer_counts(s.questions, extract.extractor_key)
    args = _theme_arguments(run, extract, cluster.clustering_id)
    themes = store.clusters(cluster.clustering_id)
    summaries = store.summaries(list(summarise.summary_keys.values())).set_index("summary_key")
    themes["summary_key"] = themes["cluster_id"].map(summarise.summary_keys)
    themes["title"] = themes["summary_key"].map(summaries["title"]) if len(summaries) else None
    themes["summary"] = themes["summary_key"].map(summaries["summary"]) if len(summaries) else None
    themes["parent_label"] = themes["parent_id"].map(store.parent_labels(cluster.clustering_id))
    checks = run.summary_checks(summarise.summary_keys.values())
    rows = ReportRows(
        arguments=args, themes=themes, summary_sentences=store.summary_checks(checks),
        synthesis_sentences=store.synthesis_sentences(synthesise.synthesis_key,
                                                      synthesise.attempt),
        answers=store.staged_answers(sorted(set(args["answer_id"])) if len(args) else []),
        respondent_metadata=store.respondent_metadata(s.questions),
        clustering_params=store.clustering_params(cluster.clustering_id),
        lineage=store.lineage_cost(s.questions, extract.extractor_key,
                                   list(summarise.summary_keys.values()),
                                   synthesise.synthesis_key, synthesise.attempt),
    )
    data = build_report_data(rows, run.describe(ingest.source, pseudonymise, counts))
    name = s.report_name or f"synthese-{_slug(s.export.stem)}.html"
    path = render_report(data, s.out / name)
    kept = {k: data["counts"][k] for k in ("arguments", "themes", "unassigned", "unassigned_share")}
    return Published(path, kept, data["trust"], counts)


def _slug(text: str) -> str:
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "consultation"
