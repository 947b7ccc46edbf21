"""The method, stage by stage, over one DuckDB store.

Each stage reads what is pending in the store, calls the pure stage function, and writes
the result in one batch keyed by content hashes: a rerun finds everything done and does
nothing, a killed run resumes where it stopped. flows/consultation.py wraps each stage in
a Prefect task; tests call them directly.

Scope of a run: every stored answer to the run's question columns (the union of all the
exports imported into this database for those questions). One database holds one
consultation; use ``--db`` to keep consultations apart.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from rich.progress import ProgressColumn
from rich.text import Text

from synthese import __version__
from synthese.calls import CachedLLM, CallStats
from synthese.config import Settings
from synthese.errors import SyntheseError
from synthese.extract import Extraction, extract_answers, extractor_key
from synthese.keys import content_hash
from synthese.prompts import load_prompt
from synthese.storage import Store
from synthese.summarise import SUMMARY_MAX_TOKENS, SUMMARY_SCHEMA, summarise_theme, synthesise
from synthese.verify import SUPPORT_THRESHOLD, best_themes, support

Log = Callable[[str], None]
CLUSTER_ALGO = "umap-hdbscan-v1"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class Pipeline:
    """Runs the stages for one Settings, with an LLM and an embedder given or built lazily."""

    def __init__(self, settings: Settings, *, llm=None, embedder=None, pseudonymiser=None,
                 log: Log = print, progress: bool = True):
        self.settings = settings
        self.log = log
        self.progress = progress
        self.store = Store(settings.db)
        self._llm = llm
        self._embedder = embedder
        self._pseudonymiser = pseudonymiser
        self.stats = CallStats()
        self.timings: dict[str, float] = {}
        self.counts: dict[str, Any] = {}
        self.reused: dict[str, Any] = {}
        self.trust: dict[str, Any] = {}
        self.run_id = datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.started = time.perf_counter()
        self.started_at = datetime.now().replace(microsecond=0)
        self.prompts = {
            "extraction": load_prompt("extract_arguments", 1),
            "summary": load_prompt("summarise_cluster", 1),
            "reduce": load_prompt("reduce_summaries", 1),
            "synthesis": load_prompt("synthesise", 1),
        }
        self.clustering_id: str | None = None
        self.synthesis_key: str | None = None
        self.report_path: Path | None = None
        self.source: dict[str, Any] = {}

    # -- lazily built components -------------------------------------------------
    @property
    def llm(self) -> CachedLLM:
        if self._llm is None:
            from synthese.llm import make_llm

            s = self.settings
            self._llm = make_llm(s.llm, s.model, host=s.llm_host, allow_remote=s.allow_remote_llm,
                                 threads=s.threads)
        if not isinstance(self._llm, CachedLLM):
            self._llm = CachedLLM(self._llm, self.store, self.stats)
        return self._llm

    @property
    def embedder(self):
        if self._embedder is None:
            from synthese.embed import make_embedder

            self._embedder = make_embedder(self.settings.embedder)
        return self._embedder

    @property
    def pseudonymiser(self):
        if self._pseudonymiser is None:
            from synthese.pseudonymise import Pseudonymiser

            self._pseudonymiser = Pseudonymiser(self.settings.pseudonymisation_config)
        return self._pseudonymiser

    def _timed(self, stage: str, started: float) -> None:
        self.timings[stage] = round(self.timings.get(stage, 0.0) + time.perf_counter() - started, 2)

    def close(self) -> None:
        if self._llm is not None:
            inner = self._llm.llm if isinstance(self._llm, CachedLLM) else self._llm
            inner.close()
        self.store.close()

    # -- scope ----------------------------------------------------------------------
    def _scope_sql(self) -> tuple[str, list]:
        marks = ", ".join("?" for _ in self.settings.questions)
        return f"question IN ({marks})", list(self.settings.questions)

    # -- 0. ingest ------------------------------------------------------------------
    def ingest(self) -> dict[str, int]:
        from synthese.ingest import build_answers, identifying_columns, read_export

        t0 = time.perf_counter()
        s = self.settings
        export = read_export(s.export)
        respondents, answers = build_answers(export, list(s.questions), s.id_column, s.limit)
        for warning in export.warnings:
            self.log(f"Attention : {warning}")
        identifying = identifying_columns(
            [c for c in export.frame.columns if c not in s.questions and c != s.id_column]
        )
        import_id = content_hash(export.sha256, s.questions, s.id_column, s.limit)
        answers = answers.assign(
            answer_id=[content_hash(r, q, t) for r, q, t in
                       zip(answers["respondent_id"], answers["question"], answers["text"])],
            import_id=import_id,
        )
        raw_resp = pd.DataFrame({
            "respondent_id": respondents["respondent_id"],
            "import_id": import_id,
            "row_number": respondents["row_number"].astype(int),
            "metadata": [_json(m) for m in respondents["metadata"]],
        })
        staged_resp = pd.DataFrame({
            "respondent_id": respondents["respondent_id"],
            "metadata": [_json({k: v for k, v in m.items() if k not in identifying})
                         for m in respondents["metadata"]],
        })
        with self.store.transaction():
            self.store.insert_rows("raw.imports", [{
                "import_id": import_id, "file_name": export.path.name,
                "file_path": str(export.path), "file_sha256": export.sha256,
                "format": export.format, "encoding": export.encoding,
                "separator": export.separator, "n_rows": len(respondents),
                "questions": list(s.questions), "id_column": s.id_column,
                "identifying_columns": identifying, "imported_at": self.started_at,
            }])
            new_resp = self.store.insert_frame("raw.respondents", raw_resp)
            self.store.insert_frame("staging.respondents", staged_resp)
            new_answers = self.store.insert_frame(
                "raw.answers",
                answers[["answer_id", "respondent_id", "question", "row_number", "text", "import_id"]],
            )
        self.source = {"file": export.path.name, "sha256": export.sha256}
        self.counts.update({"export_rows": len(respondents), "export_answers": len(answers),
                            "new_answers": new_answers, "new_respondents": new_resp})
        if identifying:
            self.log("Colonnes identifiantes conservées dans la couche brute uniquement : "
                     + ", ".join(identifying))
        self.log(f"Import : {len(answers)} réponses lues dans {export.path.name}, "
                 f"{new_answers} nouvelles.")
        self._timed("ingest", t0)
        return {"answers": len(answers), "new": new_answers}

    # -- 1a. pseudonymise -----------------------------------------------------------
    def pseudonymise(self) -> dict[str, int]:
        from synthese.ingest import is_blank

        t0 = time.perf_counter()
        if not self.settings.pseudonymise:
            method = "aucune"
        elif self._pseudonymiser is not None:
            method = self._pseudonymiser.method
        else:  # known without loading spaCy, so a rerun with nothing new loads nothing
            from synthese.pseudonymise import pseudonymisation_method

            method = pseudonymisation_method(self.settings.pseudonymisation_config)
        where, params = self._scope_sql()
        pending = self.store.query(
            f"SELECT r.answer_id, r.respondent_id, r.question, r.text FROM raw.answers r "
            f"LEFT JOIN staging.answers s USING (answer_id) "
            f"WHERE r.{where} AND (s.answer_id IS NULL OR s.pseudo_method <> ?) ORDER BY r.answer_id",
            params + [method],
        )
        counts: Counter[str] = Counter()
        if not pending.empty:
            texts = [t or "" for t in pending["text"]]
            blanks = [is_blank(t) for t in texts]
            results: list[Any] = [None] * len(texts)
            if self.settings.pseudonymise:
                todo = [i for i, b in enumerate(blanks) if not b]
                done = self.pseudonymiser.pseudonymise_many([texts[i] for i in todo])
                for i, res in zip(todo, done):
                    results[i] = res
            staged, mapping = [], []
            for i, row in enumerate(pending.itertuples(index=False)):
                res = results[i]
                entity_counts = Counter(e.type for e in res.entities) if res else Counter()
                counts.update(entity_counts)
                staged.append({
                    "answer_id": row.answer_id, "respondent_id": row.respondent_id,
                    "question": row.question, "text": res.text if res else texts[i],
                    "blank": blanks[i], "n_chars": len(texts[i]), "pseudo_method": method,
                    "entity_counts": _json(dict(entity_counts)),
                })
                for e in res.entities if res else ():
                    mapping.append({"answer_id": row.answer_id, "method": method, "token": e.token,
                                    "original": e.original, "entity_type": e.type,
                                    "start_offset": e.start, "end_offset": e.end})
            with self.store.transaction():
                ids = pd.DataFrame({"answer_id": pending["answer_id"]})
                self.store.con.register("_redo", ids)
                self.store.con.execute(
                    "DELETE FROM staging.answers WHERE answer_id IN (SELECT answer_id FROM _redo)")
                self.store.con.unregister("_redo")
                self.store.insert_rows("staging.answers", staged)
                self.store.insert_rows("raw.pseudonym_map", mapping)
        total = self.store.query(
            f"SELECT entity_counts FROM staging.answers WHERE {where}", params)
        all_counts: Counter[str] = Counter()
        for value in total["entity_counts"]:
            all_counts.update(json.loads(value or "{}"))
        # Largest first, ties by name: the rows come without order, the report must not vary.
        self.counts["entities"] = dict(sorted(all_counts.items(), key=lambda kv: (-kv[1], kv[0])))
        self.counts["pseudonymisation"] = method
        if self.settings.pseudonymise:
            detail = ", ".join(f"{k} {v}" for k, v in sorted(all_counts.items())) or "aucune"
            self.log(f"Pseudonymisation : {sum(counts.values())} entités remplacées dans "
                     f"{len(pending)} réponses traitées maintenant ; au total : {detail}.")
        else:
            self.log("ATTENTION : pseudonymisation désactivée ; le modèle voit les réponses "
                     "telles quelles.")
        self._timed("pseudonymise", t0)
        return dict(counts)

    # -- 1b. extract ----------------------------------------------------------------
    def extractor(self) -> str:
        return extractor_key(self.llm.model_id, self.prompts["extraction"])

    def extract(self) -> dict[str, int]:
        t0 = time.perf_counter()
        key = self.extractor()
        where, params = self._scope_sql()
        pending = self.store.query(
            f"SELECT a.answer_id, a.question, a.text FROM staging.answers a "
            f"LEFT JOIN core.extractions e ON e.answer_id = a.answer_id AND e.extractor_key = ? "
            f"WHERE a.{where} AND NOT a.blank AND (e.answer_id IS NULL OR e.status = 'failed') "
            f"ORDER BY a.answer_id",
            [key] + params,
        )
        before = self.stats.made
        if not pending.empty:
            self.log(f"Extraction des arguments : {len(pending)} réponses à traiter.")
            question_of = dict(zip(pending["answer_id"], pending["question"]))
            batch: list[Extraction] = []
            with _Progress(len(pending), "Extraction", self.progress, self.log) as bar:
                mark = [len(self.llm.keys_log)]

                def on_done(extraction: Extraction) -> None:
                    extraction.call_keys = self.llm.keys_log[mark[0]:]
                    mark[0] = len(self.llm.keys_log)
                    batch.append(extraction)
                    bar.advance()
                    if len(batch) >= 10:
                        self._write_extractions(batch, key)
                        batch.clear()

                extract_answers(
                    list(zip(pending["answer_id"], pending["text"])),
                    lambda aid: self._question_text(question_of[aid]),
                    self.llm, self.prompts["extraction"], on_done,
                )
                self._write_extractions(batch, key)
        self.reused["extraction_calls_made"] = self.stats.made - before
        self._timed("extract", t0)
        return self._answer_counts()

    def _question_text(self, column: str) -> str:
        return self.settings.question_text(column)

    def _write_extractions(self, extractions: list[Extraction], key: str) -> None:
        if not extractions:
            return
        now = datetime.now().replace(microsecond=0)
        rows, args = [], []
        for e in extractions:
            rows.append({"answer_id": e.answer_id, "extractor_key": key, "status": e.status,
                         "reason": e.reason, "n_arguments": len(e.arguments),
                         "n_calls": e.n_calls, "flags": e.flags,
                         "call_keys": list(dict.fromkeys(getattr(e, "call_keys", []))),
                         "created_at": now})
            for a in e.arguments:
                args.append({
                    "argument_id": content_hash(e.answer_id, key, a.position, a.text),
                    "answer_id": e.answer_id, "extractor_key": key, "position": a.position,
                    "text": a.text, "text_hash": content_hash(a.text), "stance": a.stance,
                    "model_quote": a.model_quote, "quote": a.quote, "quote_start": a.quote_start,
                    "quote_end": a.quote_end, "quote_score": a.quote_score,
                    "match_kind": a.match_kind, "flags": a.flags,
                })
        with self.store.transaction():
            ids = pd.DataFrame({"answer_id": [e.answer_id for e in extractions]})
            self.store.con.register("_redo", ids)
            self.store.con.execute(
                "DELETE FROM core.extractions WHERE extractor_key = ? AND answer_id IN "
                "(SELECT answer_id FROM _redo)", [key])
            self.store.con.unregister("_redo")
            self.store.insert_rows("core.extractions", rows)
            if args:
                self.store.insert_frame("core.arguments", pd.DataFrame(args))

    def _answer_counts(self) -> dict[str, int]:
        where, params = self._scope_sql()
        row = self.store.con.execute(
            f"""SELECT count(*), count(DISTINCT a.respondent_id),
                       count(*) FILTER (WHERE a.blank),
                       count(*) FILTER (WHERE e.status = 'processed'),
                       count(*) FILTER (WHERE e.status = 'failed'),
                       count(*) FILTER (WHERE NOT a.blank AND e.status IS NULL),
                       count(*) FILTER (WHERE e.n_arguments > 0)
                FROM staging.answers a LEFT JOIN core.extractions e
                  ON e.answer_id = a.answer_id AND e.extractor_key = ?
                WHERE a.{where}""",
            [self.extractor()] + params,
        ).fetchone()
        counts = dict(zip(["answers", "respondents", "blank", "processed", "failed", "pending",
                           "with_arguments"], row))
        self.counts.update(counts)
        return counts

    def _arguments(self) -> pd.DataFrame:
        where, params = self._scope_sql()
        return self.store.query(
            f"SELECT g.*, a.respondent_id FROM core.arguments g "
            f"JOIN staging.answers a ON a.answer_id = g.answer_id "
            f"WHERE g.extractor_key = ? AND a.{where} ORDER BY g.argument_id",
            [self.extractor()] + params,
        )

    # -- 2. embed ---------------------------------------------------------------------
    def embed(self) -> int:
        t0 = time.perf_counter()
        args = self._arguments()
        hashes = list(dict.fromkeys(args["text_hash"]))
        missing = self.store.missing_embeddings(hashes, self.embedder.model_id)
        if missing:
            texts = args.drop_duplicates("text_hash").set_index("text_hash").loc[sorted(missing), "text"]
            self.log(f"Vectorisation : {len(texts)} arguments.")
            vectors = self.embedder.embed(list(texts), progress=self.progress)
            self.store.put_embeddings(list(texts.index), vectors, self.embedder.model_id)
        self.reused["embeddings_computed"] = len(missing)
        self._timed("embed", t0)
        return len(missing)

    # -- 3. cluster -------------------------------------------------------------------
    def cluster(self) -> str:
        from synthese.cluster import cluster_vectors, representatives

        t0 = time.perf_counter()
        args = self._arguments()
        s = self.settings
        clustering_id = content_hash(
            CLUSTER_ALGO, sorted(args["argument_id"]), self.embedder.model_id, s.seed,
            s.min_cluster_size,
        )
        self.clustering_id = clustering_id
        if self.store.scalar("SELECT count(*) FROM core.clusterings WHERE clustering_id = ?",
                             [clustering_id]):
            self.reused["clustering"] = True
            self._timed("cluster", t0)
            return clustering_id
        self.reused["clustering"] = False
        vectors = (self.store.get_embeddings(list(args["text_hash"]), self.embedder.model_id)
                   if len(args) else np.zeros((0, 8), dtype=np.float32))
        result = cluster_vectors(vectors, seed=s.seed, min_cluster_size=s.min_cluster_size)
        labels = result.labels
        n_resp_total = max(1, self.counts.get("respondents") or self._answer_counts()["respondents"])
        clusters = []
        for cid in sorted(set(labels.tolist())):
            members = np.flatnonzero(labels == cid)
            member_ids = sorted(args["argument_id"].iloc[members])
            sub = args.iloc[members]
            quotes: list[str] = []
            if cid >= 0:
                verified = sub["match_kind"].notna().to_numpy()
                for idx in representatives(vectors, labels, cid, k=len(members)):
                    if verified[np.searchsorted(members, idx)] and len(quotes) < 3:
                        quotes.append(args["argument_id"].iloc[idx])
            n_resp = sub["respondent_id"].nunique()
            clusters.append({
                "clustering_id": clustering_id, "cluster_id": int(cid),
                "parent_id": (int(result.parents[cid]) if result.parents is not None and cid >= 0
                              else None),
                "members_key": content_hash(member_ids), "summary_key": None,
                "n_arguments": len(members), "n_respondents": int(n_resp),
                "share_respondents": n_resp / n_resp_total, "quote_argument_ids": quotes,
                "stances": _json(dict(Counter(sub["stance"]))),
            })
        assignments = pd.DataFrame({
            "clustering_id": clustering_id, "argument_id": args["argument_id"],
            "cluster_id": labels.astype(int), "was_noise": result.was_noise.astype(bool),
            "similarity": result.similarity.astype(float),
        })
        with self.store.transaction():
            self.store.insert_rows("core.clusterings", [{
                "clustering_id": clustering_id, "embed_model_id": self.embedder.model_id,
                "params": _json(result.params), "n_arguments": len(args),
                "n_clusters": result.n_clusters, "unassigned_share": result.unassigned_share,
                "created_at": datetime.now().replace(microsecond=0),
            }])
            self.store.insert_frame("core.assignments", assignments)
            self.store.insert_rows("core.clusters", clusters)
        self._timed("cluster", t0)
        return clustering_id

    # -- 4. summarise -------------------------------------------------------------------
    def summarise(self) -> dict[str, int]:
        t0 = time.perf_counter()
        clusters = self.store.query(
            "SELECT * FROM core.clusters WHERE clustering_id = ? AND cluster_id >= 0 "
            "ORDER BY cluster_id", [self.clustering_id])
        args = self._cluster_arguments()
        made = reused = 0
        with _Progress(len(clusters), "Résumés des thèmes", self.progress, self.log) as bar:
            for c in clusters.itertuples(index=False):
                key = content_hash(c.members_key, self.llm.model_id,
                                   self.prompts["summary"].sha256, self.prompts["reduce"].sha256,
                                   SUMMARY_SCHEMA, SUMMARY_MAX_TOKENS)
                if not self.store.scalar("SELECT count(*) FROM core.summaries WHERE summary_key = ? "
                                         "AND failure IS NULL", [key]):
                    # a failed summary is tried again (its successful calls are cached)
                    self.store.con.execute("DELETE FROM core.summaries WHERE summary_key = ?", [key])
                    texts = list(args[args["cluster_id"] == c.cluster_id]
                                 .sort_values("similarity", ascending=False)["text"])
                    mark = len(self.llm.keys_log)
                    summary = summarise_theme(texts, self._question_label(), self.llm,
                                              self.prompts["summary"], self.prompts["reduce"])
                    call_keys = list(dict.fromkeys(self.llm.keys_log[mark:]))
                    if summary.failed:
                        self.log(f"Résumé du thème {c.cluster_id} en échec : {summary.failed}")
                    self.store.insert_rows("core.summaries", [{
                        "summary_key": key, "members_key": c.members_key,
                        "model_id": self.llm.model_id,
                        "prompt_hash": self.prompts["summary"].sha256, "title": summary.title,
                        "summary": summary.summary or None, "n_stages": summary.n_stages,
                        "failure": summary.failed, "call_keys": call_keys,
                        "created_at": datetime.now().replace(microsecond=0),
                    }])
                    made += 1
                else:
                    reused += 1
                self.store.con.execute(
                    "UPDATE core.clusters SET summary_key = ? WHERE clustering_id = ? AND cluster_id = ?",
                    [key, self.clustering_id, c.cluster_id])
                bar.advance()
        self._label_parents()
        self._check_summaries(args)
        self.reused.update({"summaries_made": made, "summaries_reused": reused})
        self._timed("summarise", t0)
        return {"made": made, "reused": reused}

    def _question_label(self) -> str:
        return " / ".join(self.settings.question_text(q) for q in self.settings.questions)

    def _cluster_arguments(self) -> pd.DataFrame:
        args = self._arguments()
        assign = self.store.query(
            "SELECT argument_id, cluster_id, similarity FROM core.assignments WHERE clustering_id = ?",
            [self.clustering_id])
        return args.merge(assign, on="argument_id")

    def _label_parents(self) -> None:
        rows = self.store.query(
            "SELECT c.parent_id, s.title, c.n_arguments FROM core.clusters c "
            "JOIN core.summaries s USING (summary_key) WHERE c.clustering_id = ? "
            "AND c.parent_id IS NOT NULL ORDER BY c.parent_id, c.n_arguments DESC, c.cluster_id",
            [self.clustering_id])
        labels = [
            {"clustering_id": self.clustering_id, "parent_id": int(pid),
             "label": " / ".join(list(group["title"])[:2])}
            for pid, group in rows.groupby("parent_id")
        ]
        self.store.insert_rows("core.parent_themes", labels)

    def _vectors(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)

    def _check_summaries(self, args: pd.DataFrame) -> None:
        from synthese.summarise import split_sentences

        check_prefix = (self.embedder.model_id, SUPPORT_THRESHOLD)
        rows = self.store.query(
            "SELECT c.cluster_id, s.summary_key, s.summary FROM core.clusters c "
            "JOIN core.summaries s USING (summary_key) WHERE c.clustering_id = ? AND c.cluster_id >= 0",
            [self.clustering_id])
        out = []
        for r in rows.itertuples(index=False):
            check_key = content_hash(r.summary_key, *check_prefix)
            if self.store.scalar("SELECT count(*) FROM core.summary_sentences WHERE summary_key = ? "
                                 "AND check_key = ?", [r.summary_key, check_key]):
                continue
            # A failed summary is NULL, i.e. NaN in pandas (truthy, so "or" does not catch it).
            sentences = split_sentences(r.summary if isinstance(r.summary, str) else "")
            members = args[args["cluster_id"] == r.cluster_id]
            cand = self.store.get_embeddings(list(members["text_hash"]), self.embedder.model_id)
            for pos, (sentence, sup) in enumerate(zip(sentences, support(self._vectors(sentences), cand))):
                out.append({"summary_key": r.summary_key, "check_key": check_key, "position": pos,
                            "text": sentence, "support": sup.score, "supported": sup.supported,
                            "argument_ids": [members["argument_id"].iloc[i] for i in sup.best]})
        self.store.insert_rows("core.summary_sentences", out)

    # -- 5. synthesise --------------------------------------------------------------------
    def synthesise(self) -> str | None:
        t0 = time.perf_counter()
        themes = self.store.query(
            "SELECT c.cluster_id, c.share_respondents AS share, s.title, s.summary, c.summary_key "
            "FROM core.clusters c JOIN core.summaries s USING (summary_key) "
            "WHERE c.clustering_id = ? AND c.cluster_id >= 0 "
            "ORDER BY c.n_respondents DESC, c.cluster_id", [self.clustering_id])
        themes["summary"] = themes["summary"].fillna(themes["title"])
        key = content_hash(self.clustering_id, list(themes["summary_key"]), self.llm.model_id,
                           self.prompts["synthesis"].sha256, self.embedder.model_id,
                           SUPPORT_THRESHOLD)
        self.synthesis_key = key
        if self.store.scalar("SELECT count(*) FROM core.syntheses WHERE synthesis_key = ? "
                             "AND failure IS NULL", [key]):
            self.reused["synthesis"] = True
            self._timed("synthesise", t0)
            return key
        self.reused["synthesis"] = False
        self.log("Synthèse des résumés par le modèle de langage.")
        mark = len(self.llm.keys_log)
        sentences, failure = synthesise(themes.to_dict("records"), self._question_label(),
                                        self.llm, self.prompts["synthesis"])
        call_keys = list(dict.fromkeys(self.llm.keys_log[mark:]))
        if failure:
            self.log(f"Synthèse en échec : {failure}")
        args = self._cluster_arguments()
        args = args[args["cluster_id"] >= 0]
        cand = (self.store.get_embeddings(list(args["text_hash"]), self.embedder.model_id)
                if len(args) else np.zeros((0, 1), dtype=np.float32))
        theme_of = args["cluster_id"].to_numpy()
        vecs = self._vectors([s.text for s in sentences])
        rows = []
        for s, vec in zip(sentences, vecs):
            cited_by = "modele"
            ids = s.cluster_ids
            mask = np.isin(theme_of, ids) if ids else np.zeros(len(theme_of), dtype=bool)
            score = float((cand[mask] @ vec).max()) if mask.any() else 0.0
            if score < SUPPORT_THRESHOLD:
                found, best = best_themes(vec, theme_of, cand)
                if found and best > score:
                    ids, score, cited_by = found, best, "code"
            rows.append({"synthesis_key": key, "section": s.section, "paragraph": s.paragraph,
                         "position": s.position, "text": s.text, "cluster_ids": ids,
                         "cited_by": cited_by if ids else None, "support": round(score, 4),
                         "supported": score >= SUPPORT_THRESHOLD})
        with self.store.transaction():
            self.store.con.execute("DELETE FROM core.syntheses WHERE synthesis_key = ?", [key])
            self.store.con.execute("DELETE FROM core.synthesis_sentences WHERE synthesis_key = ?", [key])
            self.store.insert_rows("core.syntheses", [{
                "synthesis_key": key, "clustering_id": self.clustering_id,
                "model_id": self.llm.model_id, "prompt_hash": self.prompts["synthesis"].sha256,
                "failure": failure, "call_keys": call_keys,
                "created_at": datetime.now().replace(microsecond=0)}])
            self.store.insert_rows("core.synthesis_sentences", rows)
        self._timed("synthesise", t0)
        return key

    # -- 6. report and run record ------------------------------------------------------------
    def publish(self) -> Path:
        from synthese.report import render_report
        from synthese.reportdata import build_report_data

        t0 = time.perf_counter()
        self._answer_counts()
        data = build_report_data(self)
        self.trust = data["trust"]
        self.counts.update({k: data["counts"][k] for k in ("arguments", "themes", "unassigned",
                                                          "unassigned_share")})
        out = self.settings.out
        name = self.settings.report_name or f"synthese-{_slug(self.settings.export.stem)}.html"
        self.report_path = render_report(data, out / name)
        self._timed("report", t0)
        self.record("completed")
        return self.report_path

    def record(self, status: str) -> None:
        self.store.con.execute("DELETE FROM core.runs WHERE run_id = ?", [self.run_id])
        self.store.insert_rows("core.runs", [{
            "run_id": self.run_id, "started_at": self.started_at,
            "finished_at": datetime.now().replace(microsecond=0), "status": status,
            "config": _json(self.settings.public() | {"version": __version__}),
            "questions": list(self.settings.questions), "counts": _json(self.counts),
            "timings": _json(self.timings), "tokens": _json(self.stats.as_dict()),
            "reused": _json(self.reused), "trust": _json(self.trust),
            "clustering_id": self.clustering_id, "synthesis_key": self.synthesis_key,
            "report_path": str(self.report_path) if self.report_path else None,
        }])
        self.store.refresh_marts()

    def run_all(self) -> Path:
        """Every stage in order (used by tests; the Prefect flow calls them as tasks)."""
        self.ingest()
        self.pseudonymise()
        self.extract()
        self.embed()
        self.cluster()
        self.summarise()
        self.synthesise()
        return self.publish()

    def summary_lines(self) -> list[str]:
        c, t = self.counts, self.trust
        lines = [
            (f"Réponses : {c.get('answers', 0)} — traitées {c.get('processed', 0)}, "
            f"sans réponse {c.get('blank', 0)}, en échec {c.get('failed', 0)}."),
            (f"Arguments : {c.get('arguments', 0)} ; thèmes : {c.get('themes', 0)} ; "
            f"autres / inclassables : {c.get('unassigned_share', 0):.1%}."),
            (f"Appels au modèle : {self.stats.made} effectués, {self.stats.reused} réutilisés ; "
            f"jetons : {self.stats.prompt_tokens} en entrée, {self.stats.completion_tokens} en sortie."),
        ]
        if t:
            lines.append(
                f"Fiabilité : citations vérifiées {t.get('quotes_verified_share', 0):.1%} "
                f"(exactes {t.get('quotes_exact_share', 0):.1%}, normalisées "
                f"{t.get('quotes_normalised_share', 0):.1%}, approchées "
                f"{t.get('quotes_fuzzy_share', 0):.1%}) ; phrases de résumé étayées "
                f"{t.get('summary_sentences_supported_share', 0):.1%} ; phrases de synthèse "
                f"citant un thème {t.get('synthesis_sentences_cited_share', 0):.1%} ; "
                f"couverture des répondants {t.get('respondent_coverage', 0):.1%}.")
        lines.append("Durées : " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items()))
        if self.report_path:
            lines.append(f"Rapport : {self.report_path}")
        return lines


def _slug(text: str) -> str:
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "consultation"


class _RateColumn(ProgressColumn):
    """Items per second, for the progress bar."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f}/s" if speed else "-/s")


class _Progress:
    """A rich progress bar with answers/s and ETA on a terminal; elsewhere (a Prefect
    worker, a log file) one log line per tenth of the work, so that progress shows in
    the run's logs. Silent when disabled."""

    def __init__(self, total: int, label: str, enabled: bool, log: Log | None = None):
        self.total, self.label, self.enabled = total, label, enabled and total > 0
        self.log = log
        self._progress = None
        self._done = 0
        self._step = max(1, -(-total // 10))
        self._started = time.perf_counter()

    def __enter__(self) -> Self:
        if not self.enabled:
            return self
        from rich.console import Console

        console = Console(stderr=True)
        if console.is_terminal or self.log is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                _RateColumn(), TimeRemainingColumn(), transient=False, console=console,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total)
        return self

    def advance(self) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress.advance(self._task)
        elif self.enabled and self.log is not None and (
                self._done % self._step == 0 or self._done == self.total):
            elapsed = time.perf_counter() - self._started
            left = elapsed / self._done * (self.total - self._done)
            self.log(f"{self.label} : {self._done}/{self.total} ({self._done / self.total:.0%}), "
                     f"{elapsed / self._done:.1f} s par élément, reste environ {left / 60:.0f} min.")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def check_settings(settings: Settings) -> None:
    """Fail early, in French, on parameters that cannot work."""
    if not settings.export.exists():
        raise SyntheseError(f"Fichier introuvable : {settings.export}.")
    if not settings.questions:
        raise SyntheseError("Aucune colonne de question : donnez au moins --question COLONNE.")
    if settings.limit is not None and settings.limit < 1:
        raise SyntheseError(f"--limit doit être un entier positif (reçu : {settings.limit}).")
    if len(settings.question_texts) > len(settings.questions):
        raise SyntheseError("Plus de --question-text que de --question : donnez-en un par colonne.")
    if settings.llm not in ("llamacpp", "ollama"):
        raise SyntheseError(f"Moteur de langage inconnu : {settings.llm} (llamacpp ou ollama).")

