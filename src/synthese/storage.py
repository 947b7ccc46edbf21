"""DuckDB storage: the only module that writes SQL.

Layers, dbt-style:
- ``raw``: as imported. May hold personal data (identifying metadata columns, the
  pseudonym map). Nothing outside this schema ever holds an original name or contact.
- ``staging``: pseudonymised, typed answers and respondents.
- ``core``: what the method produced (llm_calls, extractions, arguments, embeddings,
  clusterings, summaries, syntheses, runs).
- ``marts``: views that analysts and the report read.

Every key is a content hash (see keys.py); inserts are ``ON CONFLICT DO NOTHING`` so a
rerun writes nothing new. Schema changes are numbered migrations recorded in
``core.schema_migrations``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import duckdb
import numpy as np
import pandas as pd

from synthese.errors import SyntheseError

MIGRATIONS: list[str] = [
    # 1: the whole initial schema
    """
    CREATE SCHEMA IF NOT EXISTS raw;
    CREATE SCHEMA IF NOT EXISTS staging;
    CREATE SCHEMA IF NOT EXISTS core;
    CREATE SCHEMA IF NOT EXISTS marts;

    CREATE TABLE raw.imports (
        import_id VARCHAR PRIMARY KEY, file_name VARCHAR, file_path VARCHAR,
        file_sha256 VARCHAR, format VARCHAR, encoding VARCHAR, separator VARCHAR,
        n_rows INTEGER, questions VARCHAR[], id_column VARCHAR,
        identifying_columns VARCHAR[], imported_at TIMESTAMP);
    CREATE TABLE raw.respondents (
        respondent_id VARCHAR PRIMARY KEY, import_id VARCHAR, row_number INTEGER,
        metadata JSON);
    CREATE TABLE raw.answers (
        answer_id VARCHAR PRIMARY KEY, respondent_id VARCHAR, question VARCHAR,
        row_number INTEGER, text VARCHAR, import_id VARCHAR);
    CREATE TABLE raw.pseudonym_map (
        answer_id VARCHAR, method VARCHAR, token VARCHAR, original VARCHAR,
        entity_type VARCHAR, start_offset INTEGER, end_offset INTEGER,
        PRIMARY KEY (answer_id, method, start_offset));

    CREATE TABLE staging.respondents (
        respondent_id VARCHAR PRIMARY KEY, metadata JSON);
    CREATE TABLE staging.answers (
        answer_id VARCHAR PRIMARY KEY, respondent_id VARCHAR, question VARCHAR,
        text VARCHAR, blank BOOLEAN, n_chars INTEGER, pseudo_method VARCHAR,
        entity_counts JSON);

    CREATE TABLE core.llm_calls (
        call_key VARCHAR PRIMARY KEY, model_id VARCHAR, prompt_name VARCHAR,
        prompt_hash VARCHAR, input_hash VARCHAR, options JSON, purpose VARCHAR,
        response VARCHAR, prompt_tokens INTEGER, completion_tokens INTEGER,
        duration_s DOUBLE, finish_reason VARCHAR, created_at TIMESTAMP);
    CREATE TABLE core.extractions (
        answer_id VARCHAR, extractor_key VARCHAR, status VARCHAR, reason VARCHAR,
        n_arguments INTEGER, n_calls INTEGER, flags VARCHAR[], call_keys VARCHAR[],
        created_at TIMESTAMP, PRIMARY KEY (answer_id, extractor_key));
    CREATE TABLE core.arguments (
        argument_id VARCHAR PRIMARY KEY, answer_id VARCHAR, extractor_key VARCHAR,
        position INTEGER, text VARCHAR, text_hash VARCHAR, stance VARCHAR,
        model_quote VARCHAR, quote VARCHAR, quote_start INTEGER, quote_end INTEGER,
        quote_score DOUBLE, match_kind VARCHAR, flags VARCHAR[]);
    CREATE TABLE core.embeddings (
        text_hash VARCHAR, model_id VARCHAR, vector FLOAT[],
        PRIMARY KEY (text_hash, model_id));
    CREATE TABLE core.clusterings (
        clustering_id VARCHAR PRIMARY KEY, embed_model_id VARCHAR, params JSON,
        n_arguments INTEGER, n_clusters INTEGER, unassigned_share DOUBLE,
        created_at TIMESTAMP);
    CREATE TABLE core.assignments (
        clustering_id VARCHAR, argument_id VARCHAR, cluster_id INTEGER,
        was_noise BOOLEAN, similarity DOUBLE, PRIMARY KEY (clustering_id, argument_id));
    CREATE TABLE core.clusters (
        clustering_id VARCHAR, cluster_id INTEGER, parent_id INTEGER,
        members_key VARCHAR, summary_key VARCHAR, n_arguments INTEGER,
        n_respondents INTEGER, share_respondents DOUBLE, quote_argument_ids VARCHAR[],
        stances JSON, PRIMARY KEY (clustering_id, cluster_id));
    CREATE TABLE core.parent_themes (
        clustering_id VARCHAR, parent_id INTEGER, label VARCHAR,
        PRIMARY KEY (clustering_id, parent_id));
    CREATE TABLE core.summaries (
        summary_key VARCHAR PRIMARY KEY, members_key VARCHAR, model_id VARCHAR,
        prompt_hash VARCHAR, title VARCHAR, summary VARCHAR, n_stages INTEGER,
        failure VARCHAR, call_keys VARCHAR[], created_at TIMESTAMP);
    CREATE TABLE core.summary_sentences (
        summary_key VARCHAR, check_key VARCHAR, position INTEGER, text VARCHAR,
        support DOUBLE, supported BOOLEAN, argument_ids VARCHAR[],
        PRIMARY KEY (summary_key, check_key, position));
    CREATE TABLE core.syntheses (
        synthesis_key VARCHAR PRIMARY KEY, clustering_id VARCHAR, model_id VARCHAR,
        prompt_hash VARCHAR, failure VARCHAR, call_keys VARCHAR[], created_at TIMESTAMP);
    CREATE TABLE core.synthesis_sentences (
        synthesis_key VARCHAR, section VARCHAR, paragraph INTEGER, position INTEGER,
        text VARCHAR, cluster_ids INTEGER[], cited_by VARCHAR, support DOUBLE,
        supported BOOLEAN, PRIMARY KEY (synthesis_key, section, paragraph, position));
    CREATE TABLE core.runs (
        run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP,
        status VARCHAR, config JSON, questions VARCHAR[], counts JSON, timings JSON,
        tokens JSON, reused JSON, trust JSON, clustering_id VARCHAR,
        synthesis_key VARCHAR, report_path VARCHAR);
    """,
    # 2: the exports seen in the inbox folder (flows/inbox.py), one row per file content
    """
    CREATE TABLE core.inbox_files (
        file_sha256 VARCHAR PRIMARY KEY, file_name VARCHAR, status VARCHAR, reason VARCHAR,
        attempts INTEGER, run_id VARCHAR, flow_run_id VARCHAR, first_seen_at TIMESTAMP,
        processed_at TIMESTAMP);
    """,
]

# The views are recreated after every run: marts.answers spreads the respondents'
# metadata into one column per key, and the keys depend on the consultation.
MART_VIEWS = """
CREATE OR REPLACE VIEW marts.arguments AS
SELECT g.argument_id, g.answer_id, g.text, g.stance, g.quote, g.quote_start, g.quote_end,
       g.quote_score, g.match_kind, g.flags, g.model_quote, g.position, g.extractor_key
FROM core.arguments g;

CREATE OR REPLACE VIEW marts.runs AS
SELECT run_id, started_at, finished_at, status, questions, counts, timings, tokens, reused,
       trust, clustering_id, synthesis_key, report_path
FROM core.runs;

CREATE OR REPLACE VIEW marts.clusters AS
SELECT r.run_id, c.cluster_id, c.parent_id, p.label AS parent_label,
       COALESCE(s.title, CASE WHEN c.cluster_id = -1 THEN 'Autres / inclassables' END) AS label,
       s.summary, c.n_arguments, c.n_respondents, c.share_respondents, c.summary_key,
       c.clustering_id
FROM core.runs r
JOIN core.clusters c ON c.clustering_id = r.clustering_id
LEFT JOIN core.summaries s ON s.summary_key = c.summary_key
LEFT JOIN core.parent_themes p ON p.clustering_id = c.clustering_id AND p.parent_id = c.parent_id;

CREATE OR REPLACE VIEW marts.synthesis AS
SELECT r.run_id, t.section, t.paragraph, string_agg(t.text, ' ' ORDER BY t.position) AS text,
       list_sort(list_distinct(flatten(list(t.cluster_ids)))) AS cluster_ids
FROM core.runs r JOIN core.synthesis_sentences t ON t.synthesis_key = r.synthesis_key
GROUP BY r.run_id, t.section, t.paragraph;

CREATE OR REPLACE VIEW marts.synthesis_sentences AS
SELECT r.run_id, t.section, t.paragraph, t.position, t.text, t.cluster_ids, t.cited_by,
       t.support, t.supported
FROM core.runs r JOIN core.synthesis_sentences t ON t.synthesis_key = r.synthesis_key;

CREATE OR REPLACE VIEW marts.trace AS
SELECT r.run_id, a.respondent_id, a.answer_id, a.question, a.text AS answer_text,
       g.argument_id, g.text AS argument_text, g.stance, g.quote, g.quote_start, g.quote_end,
       g.quote_score, g.match_kind, g.flags AS argument_flags,
       s.cluster_id, s.was_noise, s.similarity AS cluster_similarity,
       c.parent_id, sm.title AS cluster_label, c.summary_key, sm.summary AS cluster_summary,
       r.synthesis_key
FROM core.runs r
JOIN core.assignments s ON s.clustering_id = r.clustering_id
JOIN core.arguments g ON g.argument_id = s.argument_id
JOIN staging.answers a ON a.answer_id = g.answer_id
LEFT JOIN core.clusters c ON c.clustering_id = s.clustering_id AND c.cluster_id = s.cluster_id
LEFT JOIN core.summaries sm ON sm.summary_key = c.summary_key;
"""


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


class Store:
    """A connection to one synthese DuckDB file, migrated on open."""

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            raise SyntheseError(
                f"Base {self.path} inaccessible ({str(exc).splitlines()[0]}) : "
                "est-elle ouverte par un autre programme ?"
            ) from exc
        if not read_only:
            self.migrate()

    # -- schema ---------------------------------------------------------------
    def migrate(self) -> None:
        self.con.execute("CREATE SCHEMA IF NOT EXISTS core")
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS core.schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
        )
        done = {r[0] for r in self.con.execute("SELECT version FROM core.schema_migrations").fetchall()}
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            self.con.execute("BEGIN TRANSACTION")
            try:
                self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO core.schema_migrations VALUES (?, ?)", [version, _now()]
                )
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- generic helpers --------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]

    def insert_frame(self, table: str, frame: pd.DataFrame) -> int:
        """Insert rows, ignoring those whose key already exists. Returns rows added."""
        if frame.empty:
            return 0
        before = self.scalar(f"SELECT count(*) FROM {table}")
        self.con.register("_incoming", frame)
        try:
            cols = ", ".join(f'"{c}"' for c in frame.columns)
            self.con.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming ON CONFLICT DO NOTHING"
            )
        finally:
            self.con.unregister("_incoming")
        return self.scalar(f"SELECT count(*) FROM {table}") - before

    def insert_rows(self, table: str, rows: Iterable[dict[str, Any]]) -> int:
        rows = list(rows)
        if not rows:
            return 0
        return self.insert_frame(table, pd.DataFrame(rows))

    def transaction(self) -> _Transaction:
        return _Transaction(self.con)

    # -- llm calls --------------------------------------------------------------
    def get_llm_call(self, call_key: str) -> dict[str, Any] | None:
        df = self.query("SELECT * FROM core.llm_calls WHERE call_key = ?", [call_key])
        return None if df.empty else df.iloc[0].to_dict()

    def put_llm_call(self, row: dict[str, Any]) -> None:
        row = dict(row, created_at=_now())
        if isinstance(row.get("options"), dict):
            row["options"] = json.dumps(row["options"], ensure_ascii=False, sort_keys=True)
        cols = list(row)
        self.con.execute(
            f"INSERT INTO core.llm_calls ({', '.join(cols)}) VALUES "
            f"({', '.join('?' for _ in cols)}) ON CONFLICT DO NOTHING",
            [row[c] for c in cols],
        )

    # -- embeddings -------------------------------------------------------------
    def missing_embeddings(self, text_hashes: list[str], model_id: str) -> set[str]:
        if not text_hashes:
            return set()
        frame = pd.DataFrame({"text_hash": sorted(set(text_hashes))})
        self.con.register("_wanted", frame)
        try:
            rows = self.con.execute(
                "SELECT w.text_hash FROM _wanted w LEFT JOIN core.embeddings e "
                "ON e.text_hash = w.text_hash AND e.model_id = ? WHERE e.text_hash IS NULL",
                [model_id],
            ).fetchall()
        finally:
            self.con.unregister("_wanted")
        return {r[0] for r in rows}

    def put_embeddings(self, text_hashes: list[str], vectors: np.ndarray, model_id: str) -> int:
        frame = pd.DataFrame(
            {
                "text_hash": text_hashes,
                "model_id": model_id,
                "vector": [v.astype(np.float32).tolist() for v in vectors],
            }
        )
        return self.insert_frame("core.embeddings", frame)

    def get_embeddings(self, text_hashes: list[str], model_id: str) -> np.ndarray:
        """Vectors in the order of ``text_hashes`` (each must be stored)."""
        if not text_hashes:
            return np.zeros((0, 0), dtype=np.float32)
        frame = pd.DataFrame({"text_hash": text_hashes, "pos": range(len(text_hashes))})
        self.con.register("_wanted", frame)
        try:
            rows = self.con.execute(
                "SELECT e.vector FROM _wanted w JOIN core.embeddings e "
                "ON e.text_hash = w.text_hash AND e.model_id = ? ORDER BY w.pos",
                [model_id],
            ).fetchnumpy()
        finally:
            self.con.unregister("_wanted")
        vectors = rows["vector"]
        if len(vectors) != len(text_hashes):
            raise RuntimeError("embeddings missing for some texts")
        return np.stack([np.asarray(v, dtype=np.float32) for v in vectors])

    # -- marts --------------------------------------------------------------------
    def refresh_marts(self) -> None:
        """Recreate the views, spreading respondent metadata into columns."""
        self.con.execute(MART_VIEWS)
        keys = [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT unnest(json_keys(metadata)) AS k FROM staging.respondents "
                "ORDER BY k"
            ).fetchall()
        ]
        reserved = {"answer_id", "respondent_id", "question", "text", "blank", "n_chars"}
        extra = ", ".join(
            f"json_extract_string(r.metadata, {_sql_str('$.' + _json_path_key(k))}) AS "
            f'"{k.replace(chr(34), "")}"'
            for k in keys
            if k not in reserved
        )
        self.con.execute(
            "CREATE OR REPLACE VIEW marts.answers AS SELECT a.answer_id, a.respondent_id, "
            "a.question, a.text, a.blank, a.n_chars, a.pseudo_method"
            + (", " + extra if extra else "")
            + " FROM staging.answers a LEFT JOIN staging.respondents r USING (respondent_id)"
        )


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _json_path_key(key: str) -> str:
    # JSON path keys with spaces or punctuation must be quoted: $."Avez-vous été formé ?"
    return '"' + key.replace('"', '\\"') + '"'


class _Transaction:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")
