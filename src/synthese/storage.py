"""DuckDB storage: the only module that writes SQL.

Layers, dbt-style:
- ``raw``: as imported. May hold personal data (identifying metadata columns, the
  pseudonym map). Nothing outside this schema ever holds an original name or contact.
- ``staging``: pseudonymised, typed answers and respondents.
- ``core``: what the method produced (llm_calls, extractions, arguments, embeddings,
  clusterings, summaries, syntheses, runs).
- ``marts``: views that analysts and the report read.

Every key is a content hash (see keys.py); inserts are ``ON CONFLICT DO NOTHING`` so a
rerun writes nothing new. Rows are never updated: a stage output that failed (an extraction,
a summary, a synthesis, an inbox file) is tried again as a new *attempt*, and readers take
the latest attempt. The one replacement is in staging.answers, when the pseudonymisation
method changes (docs/architecture.md says why). Schema changes are numbered migrations
recorded in ``core.schema_migrations``.

Every query the project runs is a named method here: no other module writes SQL.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import duckdb
import numpy as np
import pandas as pd

from synthese.errors import SyntheseError
from synthese.keys import content_hash

MIGRATIONS: list[str | Callable[[duckdb.DuckDBPyConnection], None]] = [
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
    # 3: append-only writes. Failed outputs are retried as new attempts (the latest wins)
    # instead of being deleted and written again; the summary each run published for each
    # theme is recorded per run instead of updating core.clusters.
    """
    CREATE TABLE core.run_themes (
        run_id VARCHAR, cluster_id INTEGER, summary_key VARCHAR,
        PRIMARY KEY (run_id, cluster_id));
    INSERT INTO core.run_themes
        SELECT r.run_id, c.cluster_id, c.summary_key FROM core.runs r
        JOIN core.clusters c ON c.clustering_id = r.clustering_id
        WHERE c.summary_key IS NOT NULL;

    CREATE TABLE core.extractions_v3 (
        answer_id VARCHAR, extractor_key VARCHAR, attempt INTEGER, status VARCHAR,
        reason VARCHAR, n_arguments INTEGER, n_calls INTEGER, flags VARCHAR[],
        call_keys VARCHAR[], source_hash VARCHAR, created_at TIMESTAMP,
        PRIMARY KEY (answer_id, extractor_key, attempt));
    INSERT INTO core.extractions_v3
        SELECT e.answer_id, e.extractor_key, 1, e.status, e.reason, e.n_arguments, e.n_calls,
               e.flags, e.call_keys, sha256(s.text), e.created_at
        FROM core.extractions e LEFT JOIN staging.answers s USING (answer_id);
    DROP TABLE core.extractions;
    ALTER TABLE core.extractions_v3 RENAME TO extractions;

    CREATE TABLE core.summaries_v3 (
        summary_key VARCHAR, attempt INTEGER, members_key VARCHAR, model_id VARCHAR,
        prompt_hash VARCHAR, title VARCHAR, summary VARCHAR, n_stages INTEGER,
        failure VARCHAR, call_keys VARCHAR[], created_at TIMESTAMP,
        PRIMARY KEY (summary_key, attempt));
    INSERT INTO core.summaries_v3
        SELECT summary_key, 1, members_key, model_id, prompt_hash, title, summary, n_stages,
               failure, call_keys, created_at FROM core.summaries;
    DROP TABLE core.summaries;
    ALTER TABLE core.summaries_v3 RENAME TO summaries;

    CREATE TABLE core.syntheses_v3 (
        synthesis_key VARCHAR, attempt INTEGER, clustering_id VARCHAR, model_id VARCHAR,
        prompt_hash VARCHAR, failure VARCHAR, call_keys VARCHAR[], created_at TIMESTAMP,
        PRIMARY KEY (synthesis_key, attempt));
    INSERT INTO core.syntheses_v3
        SELECT synthesis_key, 1, clustering_id, model_id, prompt_hash, failure, call_keys,
               created_at FROM core.syntheses;
    DROP TABLE core.syntheses;
    ALTER TABLE core.syntheses_v3 RENAME TO syntheses;

    CREATE TABLE core.synthesis_sentences_v3 (
        synthesis_key VARCHAR, attempt INTEGER, section VARCHAR, paragraph INTEGER,
        position INTEGER, text VARCHAR, cluster_ids INTEGER[], cited_by VARCHAR,
        support DOUBLE, supported BOOLEAN,
        PRIMARY KEY (synthesis_key, attempt, section, paragraph, position));
    INSERT INTO core.synthesis_sentences_v3
        SELECT synthesis_key, 1, section, paragraph, position, text, cluster_ids, cited_by,
               support, supported FROM core.synthesis_sentences;
    DROP TABLE core.synthesis_sentences;
    ALTER TABLE core.synthesis_sentences_v3 RENAME TO synthesis_sentences;

    CREATE TABLE core.inbox_files_v3 (
        file_sha256 VARCHAR, attempts INTEGER, file_name VARCHAR, status VARCHAR,
        reason VARCHAR, run_id VARCHAR, flow_run_id VARCHAR, first_seen_at TIMESTAMP,
        processed_at TIMESTAMP, PRIMARY KEY (file_sha256, attempts));
    INSERT INTO core.inbox_files_v3
        SELECT file_sha256, coalesce(attempts, 1), file_name, status, reason, run_id,
               flow_run_id, first_seen_at, processed_at FROM core.inbox_files;
    DROP TABLE core.inbox_files;
    ALTER TABLE core.inbox_files_v3 RENAME TO inbox_files;

    ALTER TABLE core.runs ADD COLUMN synthesis_attempt INTEGER;
    UPDATE core.runs SET synthesis_attempt = 1 WHERE synthesis_key IS NOT NULL;
    """,
    # 4: ideas anchored on segments, with a kind; themes split by kind; titles and sentences
    # checked, with the fallbacks used recorded (extract.py, summarise.py, synthesise.py)
    """
    ALTER TABLE core.arguments ADD COLUMN kind VARCHAR;
    ALTER TABLE core.arguments ADD COLUMN segments INTEGER[];
    ALTER TABLE core.extractions ADD COLUMN n_segments INTEGER;
    ALTER TABLE core.extractions ADD COLUMN n_empty_segments INTEGER;
    ALTER TABLE core.extractions ADD COLUMN n_uncovered INTEGER;
    ALTER TABLE core.clusters ADD COLUMN kinds JSON;
    ALTER TABLE core.clusters ADD COLUMN split_from INTEGER;
    ALTER TABLE core.summaries ADD COLUMN title_origin VARCHAR;
    ALTER TABLE core.summaries ADD COLUMN title_rejected JSON;
    ALTER TABLE core.summaries ADD COLUMN n_replaced INTEGER;
    ALTER TABLE core.summary_sentences ADD COLUMN origin VARCHAR;
    ALTER TABLE core.summary_sentences ADD COLUMN model_text VARCHAR;
    ALTER TABLE core.syntheses ADD COLUMN mode VARCHAR;
    ALTER TABLE core.syntheses ADD COLUMN fallbacks JSON;
    ALTER TABLE core.synthesis_sentences ADD COLUMN origin VARCHAR;
    ALTER TABLE core.synthesis_sentences ADD COLUMN model_text VARCHAR;
    """,
    # 5: a person reviews (review.py, revue.py). Each run stores what its report was read
    # from, so that the report can be built again from the store after a review. Review
    # events are append-only and never rewritten; the reviewed state after each event is
    # derived from them by code and kept per (run, event sequence), the latest one winning.
    """
    ALTER TABLE core.runs ADD COLUMN report JSON;
    ALTER TABLE core.runs ADD COLUMN report_inputs JSON;
    CREATE TABLE core.review_events (
        event_id VARCHAR PRIMARY KEY, seq BIGINT UNIQUE, run_id VARCHAR, reviewer VARCHAR,
        made_at TIMESTAMP, action VARCHAR, target JSON, before JSON, after JSON, note VARCHAR,
        origin_event_id VARCHAR);
    CREATE TABLE core.review_themes (
        run_id VARCHAR, seq BIGINT, cluster_id INTEGER, label VARCHAR, title_origin VARCHAR,
        summary VARCHAR, n_arguments INTEGER, n_respondents INTEGER, share_respondents DOUBLE,
        kinds JSON, validated_by VARCHAR, validated_at TIMESTAMP,
        PRIMARY KEY (run_id, seq, cluster_id));
    CREATE TABLE core.review_assignments (
        run_id VARCHAR, seq BIGINT, argument_id VARCHAR, cluster_id INTEGER, hidden BOOLEAN,
        PRIMARY KEY (run_id, seq, argument_id));
    CREATE TABLE core.review_synthesis_sentences (
        run_id VARCHAR, seq BIGINT, section VARCHAR, paragraph INTEGER, position INTEGER,
        text VARCHAR, cluster_ids INTEGER[], support DOUBLE, supported BOOLEAN, origin VARCHAR,
        PRIMARY KEY (run_id, seq, section, paragraph, position));
    CREATE TABLE core.review_status (
        run_id VARCHAR, seq BIGINT, validated_by VARCHAR, validated_at TIMESTAMP,
        changes JSON, not_carried JSON, PRIMARY KEY (run_id, seq));
    """,
    # 6: respondent identity (issue 16; ingest.Identity): Python, see _respondent_identity
    lambda con: _respondent_identity(con),
    # 7: who said what (issue 14). Campaigns: answers repeating one text, found before the
    # extraction (campaigns.py), keyed by their members; the campaigns each run saw. Themes by
    # segment of each closed question, as each run's report computed them (crosstab.py).
    """
    CREATE TABLE core.campaigns (
        campaign_id VARCHAR PRIMARY KEY, question VARCHAR, method VARCHAR,
        representative_id VARCHAR, n_answers INTEGER, text VARCHAR, answer_ids VARCHAR[],
        min_similarity DOUBLE, created_at TIMESTAMP);
    CREATE TABLE core.run_campaigns (
        run_id VARCHAR, campaign_id VARCHAR, PRIMARY KEY (run_id, campaign_id));
    CREATE TABLE core.theme_segments (
        run_id VARCHAR, question VARCHAR, segment VARCHAR, row_key VARCHAR, row_type VARCHAR,
        cluster_id INTEGER, kind VARCHAR, n_respondents INTEGER, n_with INTEGER, share DOUBLE,
        ci_low DOUBLE, ci_high DOUBLE, p_value DOUBLE, p_adjusted DOUBLE, significant BOOLEAN,
        direction INTEGER, suppressed BOOLEAN,
        PRIMARY KEY (run_id, question, segment, row_key));
    """,
    # 8: frugality (issue 17). The time and the electricity of each stage of each run, as
    # codecarbon estimated it offline (energy.py; NULL where it failed); energy_method says how.
    """
    CREATE TABLE core.run_energy (
        run_id VARCHAR, stage VARCHAR, seconds DOUBLE, energy_kwh DOUBLE, cpu_kwh DOUBLE,
        ram_kwh DOUBLE, gpu_kwh DOUBLE, energy_method JSON, PRIMARY KEY (run_id, stage));
    """,
    # 9: a reviewer corrects the kind of arguments (review.py, action « kind »): the reviewed
    # kind of every argument, beside its theme (NULL in the states stored before).
    "ALTER TABLE core.review_assignments ADD COLUMN kind VARCHAR;",
    # 10: the themes by segment of a reviewed run, computed again from the reviewed themes
    # with each reviewed state (stages.store_review), as core.theme_segments is for the run.
    """
    CREATE TABLE core.review_theme_segments (
        run_id VARCHAR, seq BIGINT, question VARCHAR, segment VARCHAR, row_key VARCHAR,
        row_type VARCHAR, cluster_id INTEGER, kind VARCHAR, n_respondents INTEGER,
        n_with INTEGER, share DOUBLE, ci_low DOUBLE, ci_high DOUBLE, p_value DOUBLE,
        p_adjusted DOUBLE, significant BOOLEAN, direction INTEGER, suppressed BOOLEAN,
        PRIMARY KEY (run_id, seq, question, segment, row_key));
    """,
]

# The latest attempt of each retried output (see the module docstring).
LATEST_VIEWS = """
CREATE OR REPLACE VIEW core.latest_extractions AS
SELECT * FROM core.extractions
QUALIFY row_number() OVER (PARTITION BY answer_id, extractor_key ORDER BY attempt DESC) = 1;

CREATE OR REPLACE VIEW core.latest_summaries AS
SELECT * FROM core.summaries
QUALIFY row_number() OVER (PARTITION BY summary_key ORDER BY attempt DESC) = 1;

CREATE OR REPLACE VIEW core.latest_syntheses AS
SELECT * FROM core.syntheses
QUALIFY row_number() OVER (PARTITION BY synthesis_key ORDER BY attempt DESC) = 1;

CREATE OR REPLACE VIEW core.latest_inbox_files AS
SELECT * FROM core.inbox_files
QUALIFY row_number() OVER (PARTITION BY file_sha256 ORDER BY attempts DESC) = 1;
"""

# The views are recreated after every run: marts.answers spreads the respondents'
# metadata into one column per key, and the keys depend on the consultation.
MART_VIEWS = """
CREATE OR REPLACE VIEW marts.arguments AS
SELECT g.argument_id, g.answer_id, g.text, g.kind, g.segments, g.quote, g.quote_start,
       g.quote_end, g.quote_score, g.match_kind, g.flags, g.position, g.extractor_key,
       g.stance, g.model_quote
FROM core.arguments g;

-- Each run's cost for 1,000 answers (blank ones left out): its kWh (NULL when a stage went
-- unmeasured), the tokens of the model calls it made, its seconds (every stage, the report's
-- included). A rerun that reuses stored calls costs much less than the first run.
CREATE OR REPLACE VIEW marts.runs AS
WITH e AS (
    SELECT run_id, sum(seconds) AS seconds,
           CASE WHEN count(energy_kwh) = count(*) THEN sum(energy_kwh) END AS energy_kwh
    FROM core.run_energy GROUP BY run_id),
r AS (
    SELECT *, coalesce(try_cast(counts->>'answers' AS BIGINT), 0)
              - coalesce(try_cast(counts->>'blank' AS BIGINT), 0) AS answers_nonblank,
           try_cast(tokens->>'prompt_tokens' AS BIGINT)
              + try_cast(tokens->>'completion_tokens' AS BIGINT) AS tokens_made
    FROM core.runs)
SELECT r.run_id, r.started_at, r.finished_at, r.status, r.questions, r.counts, r.timings,
       r.tokens, r.reused, r.trust, r.clustering_id, r.synthesis_key, r.report_path,
       e.energy_kwh, r.answers_nonblank,
       e.energy_kwh * 1000 / nullif(r.answers_nonblank, 0) AS kwh_per_1000_answers,
       r.tokens_made * 1000 / nullif(r.answers_nonblank, 0) AS tokens_per_1000_answers,
       e.seconds * 1000 / nullif(r.answers_nonblank, 0) AS seconds_per_1000_answers
FROM r LEFT JOIN e USING (run_id);

CREATE OR REPLACE VIEW marts.run_energy AS
SELECT run_id, stage, seconds, energy_kwh, cpu_kwh, ram_kwh, gpu_kwh, energy_method
FROM core.run_energy;

CREATE OR REPLACE VIEW core.latest_review AS
SELECT run_id, max(seq) AS seq FROM core.review_status GROUP BY run_id;

-- What the method produced for each run, before any review.
CREATE OR REPLACE VIEW core.run_clusters AS
SELECT r.run_id, c.cluster_id, c.parent_id, p.label AS parent_label,
       COALESCE(s.title, CASE WHEN c.cluster_id = -1 THEN 'Autres / inclassables' END) AS label,
       s.summary, c.n_arguments, c.n_respondents, c.share_respondents, c.kinds, c.split_from,
       s.title_origin, t.summary_key, c.clustering_id
FROM core.runs r
JOIN core.clusters c ON c.clustering_id = r.clustering_id
LEFT JOIN core.run_themes t ON t.run_id = r.run_id AND t.cluster_id = c.cluster_id
LEFT JOIN core.latest_summaries s ON s.summary_key = t.summary_key
LEFT JOIN core.parent_themes p ON p.clustering_id = c.clustering_id AND p.parent_id = c.parent_id;

-- The marts show the reviewed state of a reviewed run (review.py), and the method's output
-- otherwise; ``reviewed`` says which.
CREATE OR REPLACE VIEW marts.clusters AS
SELECT b.*, FALSE AS reviewed, NULL::VARCHAR AS validated_by, NULL::TIMESTAMP AS validated_at
FROM core.run_clusters b WHERE b.run_id NOT IN (SELECT run_id FROM core.latest_review)
UNION ALL BY NAME
SELECT t.run_id, t.cluster_id, b.parent_id, b.parent_label, t.label, t.summary,
       t.n_arguments, t.n_respondents, t.share_respondents, t.kinds, b.split_from,
       t.title_origin, b.summary_key, r.clustering_id, TRUE AS reviewed, t.validated_by,
       t.validated_at
FROM core.latest_review l JOIN core.review_themes t ON t.run_id = l.run_id AND t.seq = l.seq
JOIN core.runs r ON r.run_id = t.run_id
LEFT JOIN core.run_clusters b ON b.run_id = t.run_id AND b.cluster_id = t.cluster_id;

CREATE OR REPLACE VIEW marts.synthesis_sentences AS
SELECT r.run_id, t.section, t.paragraph, t.position, t.text, t.cluster_ids, t.cited_by,
       t.support, t.supported, t.origin, t.model_text, FALSE AS reviewed
FROM core.runs r JOIN core.synthesis_sentences t
  ON t.synthesis_key = r.synthesis_key AND t.attempt = r.synthesis_attempt
WHERE r.run_id NOT IN (SELECT run_id FROM core.latest_review)
UNION ALL BY NAME
SELECT t.run_id, t.section, t.paragraph, t.position, t.text, t.cluster_ids,
       NULL::VARCHAR AS cited_by, t.support, t.supported, t.origin, NULL::VARCHAR AS model_text,
       TRUE AS reviewed
FROM core.latest_review l
JOIN core.review_synthesis_sentences t ON t.run_id = l.run_id AND t.seq = l.seq;

CREATE OR REPLACE VIEW marts.synthesis AS
SELECT run_id, section, paragraph, string_agg(text, ' ' ORDER BY position) AS text,
       list_sort(list_distinct(flatten(list(cluster_ids)))) AS cluster_ids
FROM marts.synthesis_sentences GROUP BY run_id, section, paragraph;

CREATE OR REPLACE VIEW marts.review_events AS
SELECT seq, event_id, run_id, reviewer, made_at, action, target, before, after, note,
       origin_event_id
FROM core.review_events;

CREATE OR REPLACE VIEW marts.reviews AS
SELECT s.run_id, s.seq AS last_event, s.validated_by, s.validated_at, s.changes, s.not_carried
FROM core.latest_review l JOIN core.review_status s ON s.run_id = l.run_id AND s.seq = l.seq;

-- Themes (and kinds of idea) by segment of each closed question; suppressed groups (under k
-- respondents even once merged) are left out. A reviewed run shows them as computed from its
-- reviewed themes (a state stored before migration 10 has none: the run's are shown).
CREATE OR REPLACE VIEW core.reviewed_theme_segments AS
SELECT s.* FROM core.latest_review l
JOIN core.review_theme_segments s ON s.run_id = l.run_id AND s.seq = l.seq;

CREATE OR REPLACE VIEW marts.theme_segments AS
SELECT run_id, cluster_id, kind, question, segment, n_respondents, n_with, share, ci_low,
       ci_high, p_value, p_adjusted, significant, direction, FALSE AS reviewed
FROM core.theme_segments
WHERE NOT suppressed AND run_id NOT IN (SELECT run_id FROM core.reviewed_theme_segments)
UNION ALL BY NAME
SELECT run_id, cluster_id, kind, question, segment, n_respondents, n_with, share, ci_low,
       ci_high, p_value, p_adjusted, significant, direction, TRUE AS reviewed
FROM core.reviewed_theme_segments WHERE NOT suppressed;

CREATE OR REPLACE VIEW marts.campaigns AS
SELECT r.run_id, c.campaign_id, c.question, c.n_answers, c.text, c.answer_ids,
       c.representative_id AS representative_answer_id, c.min_similarity, c.method
FROM core.run_campaigns r JOIN core.campaigns c USING (campaign_id);

CREATE OR REPLACE VIEW marts.trace AS
SELECT r.run_id, a.respondent_id, a.answer_id, a.question, a.text AS answer_text,
       g.argument_id, g.text AS argument_text, COALESCE(v.kind, g.kind) AS kind, g.stance,
       g.quote, g.quote_start, g.quote_end, g.quote_score, g.match_kind, g.segments,
       g.flags AS argument_flags,
       COALESCE(v.cluster_id, s.cluster_id) AS cluster_id, COALESCE(v.hidden, FALSE) AS hidden,
       s.was_noise, s.similarity AS cluster_similarity,
       c.parent_id, c.label AS cluster_label, c.summary_key, c.summary AS cluster_summary,
       r.synthesis_key
FROM core.runs r
JOIN core.assignments s ON s.clustering_id = r.clustering_id
JOIN core.arguments g ON g.argument_id = s.argument_id
JOIN staging.answers a ON a.answer_id = g.answer_id
LEFT JOIN core.latest_review l ON l.run_id = r.run_id
LEFT JOIN core.review_assignments v
  ON v.run_id = r.run_id AND v.seq = l.seq AND v.argument_id = s.argument_id
LEFT JOIN marts.clusters c
  ON c.run_id = r.run_id AND c.cluster_id = COALESCE(v.cluster_id, s.cluster_id);
"""


def keyed_segments(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of crosstab.theme_segments with the key of their line (a theme or a kind)."""
    return [{"row_key": f"{r['row_type']}:"
                        f"{r['cluster_id'] if r['row_type'] == 'theme' else r['kind']}", **r}
            for r in rows]


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


class DatabaseLocked(SyntheseError):
    """Another process holds the database (DuckDB has one writer)."""


_DUCKDB_MAGIC = b"DUCK"  # at offset 8 of every DuckDB file, after the header checksum


def check_database(path: Path) -> None:
    """Refuse a ``--db`` that cannot hold the store, with the hint that fits: a folder, a file
    that is not a DuckDB database, a database another program holds, a place where no file
    can be created. Writes nothing (an existing database is opened and closed)."""
    path = Path(path)
    if path.is_dir():
        raise SyntheseError(
            f"--db {path} est un dossier : indiquez un fichier de base, par exemple "
            f"{path / 'synthese.duckdb'}.")
    if not path.exists():
        parent = next((p for p in path.absolute().parents if p.exists()), Path("/"))
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise SyntheseError(
                f"Base {path} impossible à créer : {parent} n'est pas un dossier modifiable ; "
                "choisissez un autre --db.")
        return
    with path.open("rb") as f:
        head = f.read(12)
    if head[8:12] != _DUCKDB_MAGIC:
        raise _not_duckdb(path)
    try:
        duckdb.connect(str(path)).close()
    except duckdb.Error as exc:
        raise database_error(path, exc) from None


def database_error(path: Path, exc: Exception) -> SyntheseError:
    """One French line for DuckDB's refusal to open ``path``, with the hint that fits."""
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "lock" in detail.lower():
        holder = re.search(r"held in (.+?) \(PID (\d+)\)", detail)
        who = f" (programme {Path(holder.group(1)).name}, PID {holder.group(2)})" if holder else ""
        return DatabaseLocked(
            f"Base {path} ouverte par un autre programme{who} : fermez-le ou attendez la fin de "
            "son exécution, puis relancez.")
    if "not a valid DuckDB database" in detail:
        return _not_duckdb(path)
    if "Is a directory" in detail:
        return SyntheseError(f"--db {path} est un dossier : indiquez un fichier de base.")
    return SyntheseError(
        f"Base {path} inaccessible ({detail}) : vérifiez le fichier et ses droits, ou choisissez "
        "un autre --db.")


def _not_duckdb(path: Path) -> SyntheseError:
    return SyntheseError(
        f"{path} n'est pas une base DuckDB : indiquez avec --db une base créée par synthese ou "
        "un nouveau fichier.")


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _respondent_identity(con: duckdb.DuckDBPyConnection) -> None:
    """Migration 6. Respondents get a public id and a label outside ``raw``, keyed by a
    secret of this database (ingest.Identity). For a database made before:

    - Without an id column, respondents were keyed by their row number, so the answers of a
      second export were attached to the first export's respondent of the same row. Such an
      answer gets its own respondent (the export's hash plus the row, as now); the metadata
      of that respondent was never stored and stays unknown. Answer ids do not change: the
      extractions, arguments and themes stored for them keep pointing at them.
    - An id column that is personal data by its name or its values (emails, phone numbers;
      names need the pseudonymiser, which a migration does not load) is replaced outside
      ``raw`` by pseudonyms.
    """
    import secrets

    from synthese.ingest import (
        RESPONDENT_IDS,
        identifying_columns,
        pseudonym,
        respondent_key,
        respondent_label,
    )

    con.execute("""
        CREATE TABLE raw.secrets (name VARCHAR PRIMARY KEY, value VARCHAR);
        ALTER TABLE raw.imports ADD COLUMN respondent_ids VARCHAR;
        ALTER TABLE raw.respondents ADD COLUMN public_id VARCHAR;
        ALTER TABLE raw.respondents ADD COLUMN label VARCHAR;
        ALTER TABLE staging.respondents ADD COLUMN label VARCHAR;""")
    secret = secrets.token_hex(32)
    con.execute("INSERT INTO raw.secrets VALUES ('respondents', ?)", [secret])
    # Answers attached to another export's respondent: their own respondent, by row.
    moved = con.execute("""
        SELECT a.answer_id, i.file_sha256, a.row_number, a.import_id
        FROM raw.answers a JOIN raw.imports i ON i.import_id = a.import_id
        JOIN raw.respondents r ON r.respondent_id = a.respondent_id
        JOIN raw.imports ri ON ri.import_id = r.import_id
        WHERE i.id_column IS NULL AND ri.file_sha256 <> i.file_sha256""").df()
    if len(moved):
        moved["key"] = [respondent_key(sha, int(row)) for sha, row in
                        zip(moved["file_sha256"], moved["row_number"])]
        con.register("_moved", moved)
        con.execute("""
            UPDATE raw.answers SET respondent_id = m.key FROM _moved m
            WHERE raw.answers.answer_id = m.answer_id;
            INSERT INTO raw.respondents (respondent_id, import_id, row_number)
            SELECT DISTINCT key, import_id, row_number FROM _moved ON CONFLICT DO NOTHING;""")
        con.unregister("_moved")
    # Which imports had a personal id column.
    personal: set[str] = set()
    for import_id, column in con.execute(
            "SELECT import_id, id_column FROM raw.imports WHERE id_column IS NOT NULL").fetchall():
        ids = [r[0] for r in con.execute("SELECT respondent_id FROM raw.respondents "
                                         "WHERE import_id = ?", [import_id]).fetchall()]
        if identifying_columns([column]) or any(_looks_like_contact(v) for v in ids):
            personal.add(import_id)
    con.execute("""UPDATE raw.imports SET respondent_ids = CASE
        WHEN id_column IS NULL THEN 'ligne'
        WHEN list_contains(?::VARCHAR[], import_id) THEN ? ELSE ? END""",
                [sorted(personal), RESPONDENT_IDS["pseudonym"], RESPONDENT_IDS["column"]])
    keys = con.execute("SELECT respondent_id, import_id FROM raw.respondents").df()
    keys["public_id"] = [pseudonym(secret, k) if i in personal else k
                         for k, i in zip(keys["respondent_id"], keys["import_id"])]
    keys["label"] = [respondent_label(secret, k) for k in keys["respondent_id"]]
    con.register("_keys", keys)
    con.execute("""
        UPDATE raw.respondents SET public_id = k.public_id, label = k.label FROM _keys k
        WHERE raw.respondents.respondent_id = k.respondent_id;
        CREATE TEMP TABLE _staged AS
            SELECT k.public_id AS respondent_id, k.label, s.metadata
            FROM raw.respondents k LEFT JOIN staging.respondents s ON s.respondent_id = k.respondent_id;
        DELETE FROM staging.respondents;
        INSERT INTO staging.respondents (respondent_id, label, metadata)
            SELECT respondent_id, any_value(label), any_value(metadata) FROM _staged
            GROUP BY respondent_id;
        DROP TABLE _staged;
        UPDATE staging.answers SET respondent_id = k.public_id
        FROM raw.answers a JOIN raw.respondents k ON k.respondent_id = a.respondent_id
        WHERE staging.answers.answer_id = a.answer_id;""")
    con.unregister("_keys")


def _looks_like_contact(value: str | None) -> bool:
    from synthese.ingest import _CONTACT_VALUE

    return bool(value) and bool(_CONTACT_VALUE.search(value))


class Store:
    """A connection to one synthese DuckDB file, migrated on open."""

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise database_error(self.path, exc) from None
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
        applied = False
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            applied = True
            self.con.execute("BEGIN TRANSACTION")
            try:
                if callable(sql):
                    sql(self.con)
                else:
                    self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO core.schema_migrations VALUES (?, ?)", [version, _now()]
                )
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise
        self.con.execute(LATEST_VIEWS)
        if applied and done:
            # A database of an earlier release: its marts are those of that release until
            # the next run records; they are made again now, so that what it stores from
            # here on (a review, say) shows in them at once.
            self.refresh_marts()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- generic helpers (tests and analysts; the stages use the named methods) -----------
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

    def _with_ids(self, name: str, values: Sequence[Any], sql: str, params: list) -> pd.DataFrame:
        """Run ``sql`` with the table ``name`` (one column ``id``) holding ``values``."""
        self.con.register(name, pd.DataFrame({"id": list(values)}, dtype=object))
        try:
            return self.query(sql, params)
        finally:
            self.con.unregister(name)

    # -- 0. ingest ------------------------------------------------------------------
    def record_import(self, import_row: dict[str, Any], raw_respondents: pd.DataFrame,
                      staged_respondents: pd.DataFrame, raw_answers: pd.DataFrame) -> tuple[int, int]:
        """Store one export; returns (new respondents, new answers)."""
        with self.transaction():
            self.insert_rows("raw.imports", [import_row])
            new_respondents = self.insert_frame("raw.respondents", raw_respondents)
            self.insert_frame("staging.respondents", staged_respondents)
            new_answers = self.insert_frame("raw.answers", raw_answers)
        return new_respondents, new_answers

    def respondent_secret(self) -> str:
        """This database's key for respondent pseudonyms and labels (ingest.Identity)."""
        return self.scalar("SELECT value FROM raw.secrets WHERE name = 'respondents'")

    def personal_ids(self, file_sha256: str, id_column: str) -> bool | None:
        """Whether this file's id column was found to be personal data when it was imported
        (None if it never was)."""
        value = self.scalar(
            "SELECT respondent_ids FROM raw.imports WHERE file_sha256 = ? AND id_column = ? "
            "ORDER BY imported_at DESC LIMIT 1", [file_sha256, id_column])
        return None if value is None else value == "pseudonyme"

    def stored_answers(self, file_sha256: str) -> pd.DataFrame:
        """The answers of this file stored by imports without id column, with their keys."""
        return self.query(
            "SELECT a.row_number, a.question, a.text, a.answer_id, a.respondent_id "
            "FROM raw.answers a JOIN raw.imports i USING (import_id) "
            "WHERE i.file_sha256 = ? AND i.id_column IS NULL", [file_sha256])

    # -- 1a. pseudonymise -------------------------------------------------------------
    def answers_to_pseudonymise(self, questions: Sequence[str], method: str) -> pd.DataFrame:
        """Raw answers to the questions not yet staged with this pseudonymisation method."""
        return self.query(
            f"SELECT r.answer_id, coalesce(p.public_id, r.respondent_id) AS respondent_id, "
            f"r.question, r.text FROM raw.answers r "
            f"LEFT JOIN raw.respondents p ON p.respondent_id = r.respondent_id "
            f"LEFT JOIN staging.answers s USING (answer_id) WHERE r.question IN ({_marks(questions)}) "
            f"AND (s.answer_id IS NULL OR s.pseudo_method <> ?) ORDER BY r.answer_id",
            [*questions, method],
        )

    def replace_staged_answers(self, staged: list[dict[str, Any]], mapping: list[dict[str, Any]]) -> None:
        """Stage pseudonymised answers, replacing an answer staged by another method.

        The only replacement in the store: a method changes because something was missed,
        and the text it missed must not stay in staging (docs/architecture.md).
        """
        if not staged:
            return
        with self.transaction():
            self._with_ids("_redo", [r["answer_id"] for r in staged],
                           "DELETE FROM staging.answers WHERE answer_id IN (SELECT id FROM _redo)", [])
            self.insert_rows("staging.answers", staged)
            self.insert_rows("raw.pseudonym_map", mapping)

    def entity_counts(self, questions: Sequence[str]) -> list[str]:
        """The JSON entity counts of every staged answer to the questions."""
        rows = self.con.execute(
            f"SELECT entity_counts FROM staging.answers WHERE question IN ({_marks(questions)})",
            list(questions)).fetchall()
        return [r[0] for r in rows]

    # -- 1b. extract --------------------------------------------------------------------
    def answers_to_extract(self, questions: Sequence[str], extractor_key: str) -> pd.DataFrame:
        """Non-blank staged answers with no processed extraction of their current text.

        Columns: answer_id, question, text, source_hash (of the staged text) and attempt
        (the number the next extraction gets).
        """
        return self.query(
            f"""SELECT a.answer_id, a.question, a.text, sha256(a.text) AS source_hash,
                       coalesce(e.attempt, 0) + 1 AS attempt
                FROM staging.answers a
                LEFT JOIN core.latest_extractions e
                  ON e.answer_id = a.answer_id AND e.extractor_key = ?
                WHERE a.question IN ({_marks(questions)}) AND NOT a.blank
                  AND (e.answer_id IS NULL OR e.status = 'failed'
                       OR e.source_hash IS DISTINCT FROM sha256(a.text))
                ORDER BY a.answer_id""",
            [extractor_key, *questions],
        )

    def write_extractions(self, extractions: list[dict[str, Any]], arguments: list[dict[str, Any]]) -> None:
        """Append extraction attempts and the arguments of the processed ones."""
        with self.transaction():
            self.insert_rows("core.extractions", extractions)
            self.insert_rows("core.arguments", arguments)

    def answer_counts(self, questions: Sequence[str], extractor_key: str) -> dict[str, int]:
        """Answers, respondents, blank, processed, failed, pending, with_arguments (answers),
        respondents_answering (with a non-blank answer), respondents_with_arguments, and the
        segments: empty ones (courtesy, headers) and content ones no idea covered."""
        row = self.con.execute(
            f"""SELECT count(*), count(DISTINCT a.respondent_id),
                       count(*) FILTER (WHERE a.blank),
                       count(*) FILTER (WHERE e.status = 'processed'),
                       count(*) FILTER (WHERE e.status = 'failed'),
                       count(*) FILTER (WHERE NOT a.blank AND e.status IS NULL),
                       count(*) FILTER (WHERE e.n_arguments > 0),
                       count(DISTINCT a.respondent_id) FILTER (WHERE NOT a.blank),
                       count(DISTINCT a.respondent_id) FILTER (WHERE e.n_arguments > 0),
                       coalesce(sum(e.n_empty_segments), 0), coalesce(sum(e.n_uncovered), 0)
                FROM staging.answers a LEFT JOIN core.latest_extractions e
                  ON e.answer_id = a.answer_id AND e.extractor_key = ?
                WHERE a.question IN ({_marks(questions)})""",
            [extractor_key, *questions],
        ).fetchone()
        names = ["answers", "respondents", "blank", "processed", "failed", "pending",
                 "with_arguments", "respondents_answering", "respondents_with_arguments",
                 "empty_segments", "uncovered_segments"]
        return dict(zip(names, (int(v) for v in row)))

    def arguments(self, questions: Sequence[str], extractor_key: str) -> pd.DataFrame:
        """Every argument of this extractor for the questions, with its respondent, in the
        order of their answers' keys and their places in them: an order that no extractor's
        version changes, so that a new version that leaves the ideas as they were leaves
        the themes as they were (UMAP's layout depends on the order of its points)."""
        return self.query(
            f"SELECT g.*, a.respondent_id FROM core.arguments g "
            f"JOIN staging.answers a ON a.answer_id = g.answer_id "
            f"WHERE g.extractor_key = ? AND a.question IN ({_marks(questions)}) "
            f"ORDER BY g.answer_id, g.position",
            [extractor_key, *questions],
        )

    # -- llm calls ------------------------------------------------------------------------
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

    # -- 2. embeddings ------------------------------------------------------------------
    def missing_embeddings(self, text_hashes: list[str], model_id: str) -> set[str]:
        if not text_hashes:
            return set()
        rows = self._with_ids(
            "_wanted", sorted(set(text_hashes)),
            "SELECT w.id FROM _wanted w LEFT JOIN core.embeddings e "
            "ON e.text_hash = w.id AND e.model_id = ? WHERE e.text_hash IS NULL",
            [model_id],
        )
        return set(rows["id"])

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

    # -- 3. cluster -----------------------------------------------------------------------
    def has_clustering(self, clustering_id: str) -> bool:
        return bool(self.scalar("SELECT count(*) FROM core.clusterings WHERE clustering_id = ?",
                                [clustering_id]))

    def write_clustering(self, clustering: dict[str, Any], assignments: pd.DataFrame,
                         clusters: list[dict[str, Any]]) -> None:
        with self.transaction():
            self.insert_rows("core.clusterings", [clustering])
            self.insert_frame("core.assignments", assignments)
            self.insert_rows("core.clusters", clusters)

    def clusters(self, clustering_id: str) -> pd.DataFrame:
        """Every theme of a clustering (« autres / inclassables », -1, last), biggest first."""
        return self.query(
            "SELECT * FROM core.clusters WHERE clustering_id = ? "
            "ORDER BY (cluster_id < 0), n_respondents DESC, cluster_id", [clustering_id])

    def assignments(self, clustering_id: str) -> pd.DataFrame:
        return self.query(
            "SELECT argument_id, cluster_id, similarity FROM core.assignments "
            "WHERE clustering_id = ?", [clustering_id])

    def previous_clustering(self, argument_ids: list[str], embed_model_id: str,
                            exclude: str) -> tuple[str, pd.DataFrame] | None:
        """The clustering a new one on ``argument_ids`` follows: the one with the same
        vector model that shares the most of these ideas (the latest on a tie), if it shares
        at least half of its own; with, for each shared idea, its id here (``argument_id``)
        and its theme there (``cluster_id``).

        An idea is the same when it rests on the same words of the same answer (its quote's
        offsets, or its text when it has no quote; the n-th such idea of the answer when
        several do), whatever the extractor's version: themes are placed by those words,
        and a new version of the kind rules (or of the model) gives every idea a new id.
        Matched by id, an upgraded synthese redrew every theme of the next export and
        titled them all again (docs/quality.md, « Continuity across versions »)."""
        spot = ("CASE WHEN g.quote_start IS NULL THEN 't' || g.text_hash "
                "ELSE 'q' || g.quote_start || '-' || g.quote_end END")
        found = self._with_ids(
            "_now_args", argument_ids,
            f"WITH now AS (SELECT g.argument_id, g.answer_id, {spot} AS spot, "
            f"row_number() OVER (PARTITION BY g.answer_id, {spot} "
            f"ORDER BY g.position, g.argument_id) AS nth "
            f"FROM _now_args n JOIN core.arguments g ON g.argument_id = n.id), "
            f"before AS (SELECT a.clustering_id, a.cluster_id, g.answer_id, {spot} AS spot, "
            f"row_number() OVER (PARTITION BY a.clustering_id, g.answer_id, {spot} "
            f"ORDER BY g.position, g.argument_id) AS nth "
            f"FROM core.assignments a JOIN core.arguments g ON g.argument_id = a.argument_id "
            f"JOIN core.clusterings c ON c.clustering_id = a.clustering_id "
            f"WHERE c.embed_model_id = ? AND c.clustering_id <> ? "
            f"AND g.answer_id IN (SELECT answer_id FROM now)), "
            f"shared AS (SELECT b.clustering_id, n.argument_id, b.cluster_id "
            f"FROM before b JOIN now n USING (answer_id, spot, nth)), "
            f"chosen AS (SELECT s.clustering_id FROM shared s "
            f"JOIN core.clusterings c ON c.clustering_id = s.clustering_id "
            f"GROUP BY s.clustering_id, c.n_arguments, c.created_at "
            f"HAVING count(*) * 2 >= c.n_arguments "
            f"ORDER BY count(*) DESC, c.created_at DESC, s.clustering_id LIMIT 1) "
            f"SELECT s.clustering_id, s.argument_id, s.cluster_id FROM shared s "
            f"JOIN chosen USING (clustering_id) ORDER BY s.argument_id",
            [embed_model_id, exclude])
        if found.empty:
            return None
        previous = str(found.iloc[0]["clustering_id"])
        return previous, found[["argument_id", "cluster_id"]].reset_index(drop=True)

    def clustering_params(self, clustering_id: str) -> dict[str, Any]:
        raw = self.scalar("SELECT params FROM core.clusterings WHERE clustering_id = ?",
                          [clustering_id])
        return json.loads(raw or "{}")

    # -- 4. summarise ---------------------------------------------------------------------
    def latest_summary(self, summary_key: str) -> dict[str, Any] | None:
        df = self.query("SELECT * FROM core.latest_summaries WHERE summary_key = ?", [summary_key])
        return None if df.empty else df.iloc[0].to_dict()

    def write_summary(self, row: dict[str, Any], sentences: list[dict[str, Any]]) -> None:
        """A summary attempt and its checked sentences, together: a run killed between the
        two left a summary that the next run reused without its sentences (issue 16)."""
        with self.transaction():
            self.insert_rows("core.summaries", [row])
            self.insert_rows("core.summary_sentences", sentences)

    def summaries(self, summary_keys: Sequence[str]) -> pd.DataFrame:
        """The latest attempt of each summary, in no particular order."""
        return self._with_ids("_keys", summary_keys,
                              "SELECT s.* FROM core.latest_summaries s JOIN _keys k "
                              "ON s.summary_key = k.id", [])

    def write_parent_labels(self, rows: list[dict[str, Any]]) -> None:
        self.insert_rows("core.parent_themes", rows)

    def parent_labels(self, clustering_id: str) -> dict[int, str]:
        rows = self.con.execute("SELECT parent_id, label FROM core.parent_themes "
                                "WHERE clustering_id = ?", [clustering_id]).fetchall()
        return {int(p): label for p, label in rows}

    def summary_checks(self, check_keys: dict[str, str]) -> pd.DataFrame:
        """Checked sentences of the summaries ``{summary_key: check_key}``, in order."""
        frame = pd.DataFrame({"summary_key": list(check_keys), "check_key": list(check_keys.values())},
                             dtype=object)
        self.con.register("_checks", frame)
        try:
            return self.query(
                "SELECT s.* FROM core.summary_sentences s JOIN _checks c "
                "USING (summary_key, check_key) ORDER BY s.summary_key, s.position")
        finally:
            self.con.unregister("_checks")

    # -- 5. synthesise ----------------------------------------------------------------------
    def latest_synthesis(self, synthesis_key: str) -> dict[str, Any] | None:
        df = self.query("SELECT * FROM core.latest_syntheses WHERE synthesis_key = ?",
                        [synthesis_key])
        return None if df.empty else df.iloc[0].to_dict()

    def write_synthesis(self, row: dict[str, Any], sentences: list[dict[str, Any]]) -> None:
        with self.transaction():
            self.insert_rows("core.syntheses", [row])
            self.insert_rows("core.synthesis_sentences", sentences)

    def synthesis_sentences(self, synthesis_key: str | None, attempt: int | None) -> pd.DataFrame:
        return self.query(
            "SELECT * FROM core.synthesis_sentences WHERE synthesis_key = ? AND attempt = ? "
            "ORDER BY section, paragraph, position", [synthesis_key, attempt])

    # -- 6. report and runs -------------------------------------------------------------------
    def staged_answers(self, answer_ids: Sequence[str]) -> pd.DataFrame:
        """Staged answers with their respondent's label, in the export's order."""
        return self._with_ids("_ids", answer_ids,
                              "SELECT a.answer_id, a.respondent_id, r.label AS respondent_label, "
                              "a.text FROM staging.answers a JOIN _ids i ON a.answer_id = i.id "
                              "LEFT JOIN staging.respondents r USING (respondent_id) "
                              "LEFT JOIN raw.answers w USING (answer_id) "
                              "ORDER BY w.row_number, a.answer_id", [])

    def respondent_metadata(self, questions: Sequence[str]) -> list[str]:
        """The JSON metadata of each respondent who answered one of the questions."""
        rows = self.con.execute(
            f"SELECT DISTINCT r.respondent_id, r.metadata FROM staging.respondents r "
            f"JOIN staging.answers a USING (respondent_id) WHERE a.question IN ({_marks(questions)}) "
            f"ORDER BY r.respondent_id", list(questions)).fetchall()
        return [r[1] for r in rows]

    def respondents(self, questions: Sequence[str]) -> pd.DataFrame:
        """Each respondent of the questions: respondent_id, metadata (JSON), answering (a
        non-blank answer to one of them)."""
        return self.query(
            f"SELECT r.respondent_id, any_value(r.metadata) AS metadata, "
            f"bool_or(NOT a.blank) AS answering FROM staging.respondents r "
            f"JOIN staging.answers a USING (respondent_id) WHERE a.question IN ({_marks(questions)}) "
            f"GROUP BY r.respondent_id ORDER BY r.respondent_id", list(questions))

    def write_theme_segments(self, run_id: str, rows: list[dict[str, Any]]) -> None:
        """The themes by segment of a run's report (once per run)."""
        self.insert_rows("core.theme_segments",
                         [{"run_id": run_id, **r} for r in keyed_segments(rows)])

    # -- 1a. campaigns ---------------------------------------------------------------------
    def campaign_candidates(self, questions: Sequence[str]) -> pd.DataFrame:
        """answer_id, question, text of every non-blank staged answer to the questions."""
        return self.query(
            f"SELECT answer_id, question, text FROM staging.answers "
            f"WHERE question IN ({_marks(questions)}) AND NOT blank ORDER BY answer_id",
            list(questions))

    def write_campaigns(self, run_id: str, rows: list[dict[str, Any]]) -> None:
        """Campaigns found (kept once by their key) and the ones this run saw."""
        with self.transaction():
            self.insert_rows("core.campaigns", rows)
            self.insert_rows("core.run_campaigns",
                             [{"run_id": run_id, "campaign_id": r["campaign_id"]} for r in rows])

    def campaigns(self, campaign_ids: Sequence[str]) -> pd.DataFrame:
        """The campaigns of these ids, largest first."""
        return self._with_ids("_ids", campaign_ids,
                              "SELECT c.* FROM core.campaigns c JOIN _ids i ON c.campaign_id = i.id "
                              "ORDER BY c.n_answers DESC, c.campaign_id", [])

    def representative_arguments(self, answer_id: str, extractor_key: str) -> tuple[str | None, list[dict[str, Any]]]:
        """The status of the latest extraction of an answer and its arguments, in order."""
        status = self.scalar("SELECT status FROM core.latest_extractions WHERE answer_id = ? "
                             "AND extractor_key = ?", [answer_id, extractor_key])
        rows = self.query("SELECT text, kind, segments, flags, position FROM core.arguments "
                          "WHERE answer_id = ? AND extractor_key = ? ORDER BY position",
                          [answer_id, extractor_key]).to_dict("records")
        return status, rows

    def campaign_savings(self, extractor_key: str, campaign_ids: Sequence[str]) -> dict[str, Any]:
        """The model calls a campaign's members did not make: for each member extracted from
        its representative (flag « campagne »), the representative's calls and their tokens
        and seconds."""
        if not campaign_ids:
            return {"members": 0, "calls": 0, "prompt": 0, "completion": 0, "seconds": 0.0}
        self.con.register("_ids", pd.DataFrame({"id": list(campaign_ids)}, dtype=object))
        try:
            row = self.con.execute(
                """WITH members AS (
                     SELECT c.representative_id, unnest(c.answer_ids) AS answer_id
                     FROM core.campaigns c JOIN _ids i ON c.campaign_id = i.id),
                   derived AS (
                     SELECT m.representative_id, count(*) AS n FROM members m
                     JOIN core.latest_extractions e ON e.answer_id = m.answer_id
                      AND e.extractor_key = ? AND list_contains(e.flags, 'campagne')
                     GROUP BY m.representative_id),
                   cost AS (
                     SELECT e.answer_id, count(l.call_key) AS calls,
                            coalesce(sum(l.prompt_tokens), 0) AS prompt,
                            coalesce(sum(l.completion_tokens), 0) AS completion,
                            coalesce(sum(l.duration_s), 0) AS seconds
                     FROM core.latest_extractions e
                     LEFT JOIN core.llm_calls l ON list_contains(e.call_keys, l.call_key)
                     WHERE e.extractor_key = ?
                       AND e.answer_id IN (SELECT representative_id FROM derived)
                     GROUP BY e.answer_id)
                   SELECT coalesce(sum(d.n), 0), coalesce(sum(d.n * c.calls), 0),
                          coalesce(sum(d.n * c.prompt), 0), coalesce(sum(d.n * c.completion), 0),
                          coalesce(sum(d.n * c.seconds), 0)
                   FROM derived d JOIN cost c ON c.answer_id = d.representative_id""",
                [extractor_key, extractor_key]).fetchone()
        finally:
            self.con.unregister("_ids")
        return {"members": int(row[0]), "calls": int(row[1]), "prompt": int(row[2]),
                "completion": int(row[3]), "seconds": round(float(row[4]), 1)}

    def lineage_cost(self, questions: Sequence[str], extractor_key: str,
                     summary_keys: Sequence[str], synthesis_key: str | None,
                     synthesis_attempt: int | None) -> pd.DataFrame:
        """Calls, tokens and seconds, by purpose, of every stored call behind a synthesis.

        Read through the call keys recorded on each extraction, summary and synthesis, so a
        rerun that reuses everything reports the same cost as the first run.
        """
        self.con.register("_summaries", pd.DataFrame({"id": list(summary_keys)}, dtype=object))
        try:
            return self.query(
                f"""WITH keys AS (
                      SELECT unnest(e.call_keys) AS k FROM core.latest_extractions e
                      JOIN staging.answers a USING (answer_id)
                      WHERE e.extractor_key = ? AND a.question IN ({_marks(questions)})
                      UNION SELECT unnest(s.call_keys) FROM core.latest_summaries s
                      JOIN _summaries k ON s.summary_key = k.id
                      UNION SELECT unnest(call_keys) FROM core.syntheses
                      WHERE synthesis_key = ? AND attempt = ?)
                    SELECT purpose, count(*) AS calls, sum(prompt_tokens) AS prompt,
                           sum(completion_tokens) AS completion, sum(duration_s) AS seconds
                    FROM core.llm_calls WHERE call_key IN (SELECT k FROM keys)
                    GROUP BY purpose ORDER BY purpose""",
                [extractor_key, *questions, synthesis_key, synthesis_attempt],
            )
        finally:
            self.con.unregister("_summaries")

    def record_run(self, run: dict[str, Any], themes: list[dict[str, Any]],
                   energy: list[dict[str, Any]] = ()) -> None:
        """Store a finished run, once (a second record of the same run is ignored), the
        summary it published for each theme and the time and energy of each stage; then
        recreate the marts."""
        with self.transaction():
            if self.insert_rows("core.runs", [run]):
                self.insert_rows("core.run_themes", themes)
                self.insert_rows("core.run_energy", list(energy))
        self.refresh_marts()

    def latest_run_themes(self) -> tuple[str | None, pd.DataFrame]:
        """The embedding model of the latest completed run, and its summarised themes:
        cluster_id, summary, and the texts and quotes of its arguments (biggest theme first)."""
        run = self.con.execute(
            "SELECT r.run_id, c.embed_model_id FROM core.runs r JOIN core.clusterings c "
            "USING (clustering_id) WHERE r.status = 'completed' ORDER BY r.finished_at DESC "
            "LIMIT 1").fetchone()
        if run is None:
            return None, pd.DataFrame()
        return run[1], self.query(
            "SELECT c.cluster_id, s.summary, list(a.text ORDER BY a.argument_id) AS texts, "
            "list(a.quote ORDER BY a.argument_id) AS quotes "
            "FROM core.runs r JOIN core.clusters c ON c.clustering_id = r.clustering_id "
            "JOIN core.run_themes t ON t.run_id = r.run_id AND t.cluster_id = c.cluster_id "
            "JOIN core.latest_summaries s ON s.summary_key = t.summary_key "
            "JOIN core.assignments x ON x.clustering_id = c.clustering_id "
            "AND x.cluster_id = c.cluster_id "
            "JOIN core.arguments a ON a.argument_id = x.argument_id "
            "WHERE r.run_id = ? AND c.cluster_id >= 0 AND s.summary IS NOT NULL "
            "GROUP BY c.cluster_id, s.summary, c.n_arguments "
            "ORDER BY c.n_arguments DESC, c.cluster_id", [run[0]])

    def run_row(self, run_id: str | None = None) -> dict[str, Any] | None:
        """One stored run (the latest completed one when ``run_id`` is None)."""
        if run_id is None:
            df = self.query("SELECT * FROM core.runs WHERE status = 'completed' "
                            "ORDER BY finished_at DESC, run_id DESC LIMIT 1")
        else:
            df = self.query("SELECT * FROM core.runs WHERE run_id = ?", [run_id])
        return None if df.empty else df.iloc[0].to_dict()

    def last_review_seq(self, run_id: str) -> int:
        """The sequence number of the last review event of a run (0 when none)."""
        return int(self.scalar("SELECT coalesce(max(seq), 0) FROM core.review_events "
                               "WHERE run_id = ?", [run_id]))

    def previous_reviewed_run(self, run_id: str, questions: Sequence[str]) -> str | None:
        """The latest run before ``run_id``, on the same questions, that has review events."""
        row = self.con.execute(
            "SELECT r.run_id FROM core.runs r WHERE r.run_id <> ? AND r.questions = ?::VARCHAR[] "
            "AND r.finished_at <= (SELECT finished_at FROM core.runs WHERE run_id = ?) "
            "AND EXISTS (SELECT 1 FROM core.review_events e WHERE e.run_id = r.run_id) "
            "ORDER BY r.finished_at DESC, r.run_id DESC LIMIT 1",
            [run_id, list(questions), run_id]).fetchone()
        return None if row is None else row[0]

    # -- review ------------------------------------------------------------------------------
    def review_events(self, run_id: str) -> list[dict[str, Any]]:
        """The review events of a run, in the order they were made."""
        return self.query("SELECT * FROM core.review_events WHERE run_id = ? ORDER BY seq",
                          [run_id]).to_dict("records")

    def append_review(self, events: list[dict[str, Any]], state: dict[str, list[dict]]) -> int:
        """Append events (their ``seq`` and ``event_id`` are given here) and the reviewed
        state after them, in one transaction; returns the sequence number of the last one.

        Events are never updated nor deleted: there is no method that would.
        """
        with self.transaction():
            seq = int(self.scalar("SELECT coalesce(max(seq), 0) FROM core.review_events"))
            for event in events:
                seq += 1
                row = {**event, "seq": seq}
                row["event_id"] = content_hash({k: str(v) for k, v in row.items()})
                self.insert_rows("core.review_events", [row])
            run_id = events[-1]["run_id"]
            if "theme_segments" in state:
                state = state | {"theme_segments": keyed_segments(state["theme_segments"])}
            for table, rows in state.items():
                self.insert_rows(f"core.review_{table}",
                                 [{"run_id": run_id, "seq": seq, **r} for r in rows])
        return seq

    # -- inbox -------------------------------------------------------------------------------
    def run_marts(self, run_id: str, questions: Sequence[str]) -> dict[str, pd.DataFrame]:
        """The marts rows of one run, as analysts read them (export.py writes them to the
        workbook): the answers to its questions, its arguments (marts.trace), its themes,
        its synthesis sentences, and its row of marts.runs."""
        return {
            "answers": self.query(
                "SELECT * FROM marts.answers WHERE list_contains(?::VARCHAR[], question) "
                "ORDER BY respondent_id, question, answer_id", [list(questions)]),
            "trace": self.query("SELECT * FROM marts.trace WHERE run_id = ? "
                                "ORDER BY cluster_id, argument_id", [run_id]),
            "themes": self.query("SELECT * FROM marts.clusters WHERE run_id = ? "
                                 "ORDER BY cluster_id", [run_id]),
            "synthesis": self.query("SELECT * FROM marts.synthesis_sentences WHERE run_id = ? "
                                    "ORDER BY section, paragraph, position", [run_id]),
            "run": self.query("SELECT * FROM marts.runs WHERE run_id = ?", [run_id]),
            # a database whose last run predates migration 7 has no such view yet
            "theme_segments": self.query(
                "SELECT * FROM marts.theme_segments WHERE run_id = ? "
                "ORDER BY question, cluster_id NULLS LAST, kind, segment", [run_id])
            if self.scalar("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'marts' "
                           "AND view_name = 'theme_segments'") else pd.DataFrame(),
        }

    def inbox_files(self) -> dict[str, dict[str, Any]]:
        """The latest record of each file seen in the inbox, by SHA-256."""
        rows = self.query("SELECT * FROM core.latest_inbox_files")
        return {r["file_sha256"]: r for r in rows.to_dict("records")}

    def record_inbox_file(self, row: dict[str, Any]) -> None:
        """Append one attempt at an inbox file."""
        self.insert_rows("core.inbox_files", [row])

    # -- marts --------------------------------------------------------------------------------
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
        reserved = {"answer_id", "respondent_id", "respondent_label", "question", "text",
                    "blank", "n_chars", "pseudo_method"}
        extra = ", ".join(
            f"json_extract_string(r.metadata, {_sql_str('$.' + _json_path_key(k))}) AS "
            f'"{k.replace(chr(34), "")}"'
            for k in keys
            if k not in reserved
        )
        self.con.execute(
            "CREATE OR REPLACE VIEW marts.answers AS SELECT a.answer_id, a.respondent_id, "
            "r.label AS respondent_label, a.question, a.text, a.blank, a.n_chars, a.pseudo_method"
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
