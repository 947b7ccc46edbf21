import hashlib
from datetime import datetime

import numpy as np
import pandas as pd

from synthese.keys import content_hash
from synthese.storage import MIGRATIONS, Store


def test_new_store_has_the_four_layers_and_records_migrations(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        schemas = set(store.query("SELECT schema_name FROM information_schema.schemata")["schema_name"])
        assert {"raw", "staging", "core", "marts"} <= schemas
        assert store.scalar("SELECT max(version) FROM core.schema_migrations") == len(MIGRATIONS)


def test_reopening_a_store_does_not_reapply_migrations(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.insert_rows("staging.respondents", [{"respondent_id": "r1", "metadata": "{}"}])
    with Store(path) as store:
        assert store.scalar("SELECT count(*) FROM core.schema_migrations") == len(MIGRATIONS)
        assert store.scalar("SELECT count(*) FROM staging.respondents") == 1


def test_inserting_the_same_keys_twice_adds_nothing(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        rows = [{"respondent_id": f"r{i}", "metadata": "{}"} for i in range(3)]
        assert store.insert_rows("staging.respondents", rows) == 3
        assert store.insert_rows("staging.respondents", rows) == 0


def test_embeddings_round_trip_in_requested_order(tmp_path):
    vectors = np.eye(3, dtype=np.float32)
    hashes = [content_hash(t) for t in "abc"]
    with Store(tmp_path / "s.duckdb") as store:
        assert store.missing_embeddings(hashes, "m") == set(hashes)
        store.put_embeddings(hashes, vectors, "m")
        assert store.missing_embeddings(hashes, "m") == set()
        assert store.missing_embeddings(hashes, "other") == set(hashes)
        back = store.get_embeddings(hashes[::-1], "m")
        assert np.allclose(back, vectors[::-1])


def test_failed_transaction_loses_nothing_already_stored(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.insert_rows("staging.respondents", [{"respondent_id": "r1", "metadata": "{}"}])
        try:
            with store.transaction():
                store.insert_rows("staging.respondents", [{"respondent_id": "r2", "metadata": "{}"}])
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert list(store.query("SELECT respondent_id FROM staging.respondents")["respondent_id"]) == ["r1"]


def test_a_database_of_the_earlier_schema_is_migrated_without_losing_a_row(tmp_path):

    from synthese.storage import MIGRATIONS

    path = tmp_path / "ancienne.duckdb"
    con = _database_at(path, 2)
    con.execute("INSERT INTO staging.answers VALUES ('a1', 'r1', 'q', 'Texte.', false, 6, 'm', '{}')")
    con.execute("INSERT INTO core.extractions VALUES ('a1', 'x', 'processed', NULL, 1, 1, [], "
                "['k1'], now())")
    con.execute("INSERT INTO core.clusters VALUES ('c', 0, NULL, 'm0', 's0', 1, 1, 1.0, [], '{}')")
    con.execute("INSERT INTO core.summaries VALUES ('s0', 'm0', 'llm', 'p', 'Titre', 'Résumé.', "
                "1, NULL, [], now())")
    con.execute("INSERT INTO core.syntheses VALUES ('y', 'c', 'llm', 'p', NULL, [], now())")
    con.execute("INSERT INTO core.synthesis_sentences VALUES ('y', 'risques', 0, 0, 'Phrase.', "
                "[0], 'modele', 0.9, true)")
    con.execute("INSERT INTO core.runs (run_id, status, clustering_id, synthesis_key) "
                "VALUES ('run1', 'completed', 'c', 'y')")
    con.execute("INSERT INTO core.inbox_files VALUES ('f', 'f.csv', 'failed', 'x', 2, NULL, "
                "NULL, now(), now())")
    con.close()

    with Store(path) as store:
        store.refresh_marts()
        assert store.scalar("SELECT max(version) FROM core.schema_migrations") == len(MIGRATIONS)
        e = store.query("SELECT attempt, status, source_hash FROM core.extractions").iloc[0]
        assert e["attempt"] == 1 and e["status"] == "processed"
        assert e["source_hash"] == hashlib.sha256(b"Texte.").hexdigest()
        # nothing to redo: the answer's text is the one it was extracted from
        assert store.answers_to_extract(["q"], "x").empty
        clusters = store.query("SELECT label, summary FROM marts.clusters WHERE run_id = 'run1'")
        assert clusters.to_dict("records") == [{"label": "Titre", "summary": "Résumé."}]
        sentences = store.query("SELECT text FROM marts.synthesis_sentences WHERE run_id = 'run1'")
        assert list(sentences["text"]) == ["Phrase."]
        assert store.inbox_files()["f"]["attempts"] == 2
        # recorded before its energy was measured (migration 8): no figure, not a zero
        energy = store.query("SELECT energy_kwh, kwh_per_1000_answers FROM marts.runs")
        assert energy.isna().all(axis=None)


def test_a_database_made_before_respondent_scoping_is_repaired_keeping_answer_ids(tmp_path):
    """Issue 16: a second export without id column was merged into the first (row numbers as
    ids), and an id column of emails was copied outside raw. Migration 6 repairs both."""
    import dataclasses

    from synthese.ingest import Identity, import_rows, read_export, respondent_key

    path = tmp_path / "ancienne.duckdb"
    con = _database_at(path, 5)
    sha_a, sha_b, sha_c = "a" * 64, "b" * 64, "c" * 64
    texts = {("a", 2): "un", ("a", 3): "deux", ("b", 2): "trois", ("b", 3): "quatre"}
    for imp, sha, column in (("ia", sha_a, None), ("ib", sha_b, None), ("ic", sha_c, "email")):
        con.execute("INSERT INTO raw.imports (import_id, file_sha256, id_column, imported_at) "
                    "VALUES (?, ?, ?, now())", [imp, sha, column])
    for row in (2, 3):  # only the first export's respondents were stored
        meta = f'{{"code": "A{row - 1}"}}'
        con.execute("INSERT INTO raw.respondents VALUES (?, 'ia', ?, ?)", [str(row), row, meta])
        con.execute("INSERT INTO staging.respondents VALUES (?, ?)", [str(row), meta])
    con.execute("INSERT INTO raw.respondents VALUES ('eva.roux@ac-creteil.fr', 'ic', 2, '{}')")
    con.execute("INSERT INTO staging.respondents VALUES ('eva.roux@ac-creteil.fr', '{}')")
    answers = {(f, row): content_hash(str(row), "reponse", t) for (f, row), t in texts.items()}
    answers[("c", 2)] = content_hash("eva.roux@ac-creteil.fr", "reponse", "cinq")
    for (f, row), aid in answers.items():
        rid = "eva.roux@ac-creteil.fr" if f == "c" else str(row)
        text = texts.get((f, row), "cinq")
        con.execute("INSERT INTO raw.answers VALUES (?, ?, 'reponse', ?, ?, ?)",
                    [aid, rid, row, text, f"i{f}"])
        con.execute("INSERT INTO staging.answers VALUES (?, ?, 'reponse', ?, false, 3, 'm', '{}')",
                    [aid, rid, text])
    con.close()

    with Store(path) as store:
        store.refresh_marts()
        moved = store.query("SELECT a.answer_id, a.respondent_id, r.import_id FROM raw.answers a "
                            "JOIN raw.respondents r USING (respondent_id) WHERE a.import_id = 'ib'")
        assert set(moved["respondent_id"]) == {respondent_key(sha_b, 2), respondent_key(sha_b, 3)}
        assert set(moved["import_id"]) == {"ib"}
        # the answer ids, which extractions and arguments point at, did not change
        assert set(store.query("SELECT answer_id FROM staging.answers")["answer_id"]) == set(
            answers.values())
        shown = store.con.execute("SELECT text, code FROM marts.answers").fetchall()
        assert dict(shown) == {"un": "A1", "deux": "A2", "trois": None, "quatre": None,
                               "cinq": None}
        staged = " ".join(store.query("SELECT respondent_id FROM staging.answers UNION ALL "
                                      "SELECT respondent_id FROM staging.respondents")
                          ["respondent_id"])
        assert "eva.roux" not in staged and "R-" in staged
        assert store.scalar("SELECT count(*) FROM staging.respondents WHERE label IS NULL") == 0
        # importing either old export again adds nothing: its answers keep their keys
        export = tmp_path / "a.csv"
        export.write_text("reponse\nun\ndeux\n", encoding="utf-8")
        for sha, values in ((sha_a, "un\ndeux"), (sha_b, "trois\nquatre")):
            export.write_text(f"reponse\n{values}\n", encoding="utf-8")
            old = dataclasses.replace(read_export(export), sha256=sha)
            rows = import_rows(old, ["reponse"], None, None, datetime.now(),
                               Identity(store.respondent_secret(), False,
                                        store.stored_answers(sha)))
            assert store.record_import(rows.import_row, rows.raw_respondents,
                                       rows.staged_respondents, rows.raw_answers) == (0, 0)


def test_an_upgraded_database_shows_this_releases_marts_at_once(tmp_path):
    """A database of the release before migration 10, opened by this one, has its marts
    made again (marts.theme_segments with its « reviewed » column) before any new run."""
    import duckdb

    path = tmp_path / "ancienne.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA core; CREATE TABLE core.schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    for n, sql in enumerate(MIGRATIONS[:9], start=1):
        sql(con) if callable(sql) else con.execute(sql)
        con.execute("INSERT INTO core.schema_migrations VALUES (?, now())", [n])
    con.execute("CREATE OR REPLACE VIEW marts.theme_segments AS "
                "SELECT run_id, cluster_id FROM core.theme_segments")  # as that release made it
    con.close()
    with Store(path) as store:
        columns = store.query("SELECT * FROM marts.theme_segments").columns
        assert "reviewed" in columns and "share" in columns
        assert store.scalar("SELECT max(version) FROM core.schema_migrations") == len(MIGRATIONS)


def _database_at(path, version: int):
    """An open DuckDB file as a release at migration ``version`` left it."""
    import duckdb

    from synthese.storage import MIGRATIONS

    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA core; CREATE TABLE core.schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    for n, sql in enumerate(MIGRATIONS[:version], start=1):
        con.execute(sql)
        con.execute("INSERT INTO core.schema_migrations VALUES (?, now())", [n])
    return con


def test_a_new_extractors_version_follows_the_clustering_of_the_same_words(tmp_path):
    # Rules v13 (a new extractor key) give every idea a new id; the ideas that rest on the
    # same words of the same answer are the same ideas, and keep their themes. Matched by
    # id, the previous clustering was not found and every theme was drawn and titled again.
    with Store(tmp_path / "s.duckdb") as store:
        answers = [content_hash("answer", i) for i in range(4)]
        store.insert_rows("staging.answers", [
            {"answer_id": a, "respondent_id": f"r{i}", "question": "q", "row_number": i,
             "text": "Un. Deux. Trois.", "import_id": "i"} for i, a in enumerate(answers)])

        def ideas(extractor, reworded=""):
            # Two ideas of each answer rest on its first segment (the second one's order is
            # what tells them apart), one on its second; an idea without a quote is placed
            # by its text.
            rows = []
            for a in answers:
                for p, (start, end) in enumerate([(0, 3), (0, 3), (4, 9)]):
                    rows.append({"argument_id": content_hash(a, extractor, p), "answer_id": a,
                                 "extractor_key": extractor, "position": p,
                                 "text": f"idée {p}{reworded}", "text_hash": content_hash(p),
                                 "kind": "constat", "quote": "Un." if p < 2 else "Deux.",
                                 "quote_start": start, "quote_end": end})
                rows.append({"argument_id": content_hash(a, extractor, 3), "answer_id": a,
                             "extractor_key": extractor, "position": 3, "text": "sans citation",
                             "text_hash": content_hash("sans citation"), "kind": "constat"})
            store.insert_rows("core.arguments", rows)
            return [r["argument_id"] for r in rows]

        old = ideas("rules-v12")
        theme_of = {i: n % 4 for n, i in enumerate(old)}  # each idea's place in its answer
        store.write_clustering(
            {"clustering_id": "c12", "embed_model_id": "m", "params": "{}",
             "n_arguments": len(old), "n_clusters": 4, "unassigned_share": 0.0,
             "created_at": datetime(2026, 12, 1)},
            pd.DataFrame({"clustering_id": "c12", "argument_id": old,
                          "cluster_id": [theme_of[i] for i in old], "was_noise": False,
                          "similarity": 1.0}),
            [])
        new = ideas("rules-v13", reworded=" (reformulée autrement)")
        found = store.previous_clustering(new, "m", "c13")
        assert found is not None and found[0] == "c12"
        got = dict(zip(found[1]["argument_id"], found[1]["cluster_id"], strict=True))
        # every idea found, each with the theme of the idea in the same place of its answer
        assert got == {i: n % 4 for n, i in enumerate(new)}
        # another vector model's clustering is not followed; nor one of other answers
        assert store.previous_clustering(new, "autre", "c13") is None
        assert store.previous_clustering([], "m", "c13") is None


def test_arguments_come_in_the_same_order_whatever_the_extractors_version(tmp_path):
    # The themes are fitted on the arguments in this order: a new extractor's version
    # (a new key) that leaves every idea as it was must give the same order, so that
    # clustering gives the same themes (argument ids hash the key, and changed the order).
    with Store(tmp_path / "s.duckdb") as store:
        answers = [content_hash("answer", i) for i in range(6)]
        store.insert_rows("staging.answers", [
            {"answer_id": a, "respondent_id": f"r{i}", "question": "q", "row_number": i,
             "text": f"réponse {i}", "import_id": "i"} for i, a in enumerate(answers)])
        orders = []
        for extractor in ("rules-v11", "rules-v12"):
            store.insert_rows("core.arguments", [
                {"argument_id": content_hash(a, extractor, p), "answer_id": a,
                 "extractor_key": extractor, "position": p, "text": f"idée {a[:6]} {p}",
                 "kind": "constat", "segments": [p + 1], "quote": "q"}
                for a in answers for p in range(3)])
            got = store.arguments(["q"], extractor)
            assert len(got) == 18
            orders.append(list(zip(got["answer_id"], got["position"], strict=True)))
        assert orders[0] == orders[1]
        assert orders[0] == sorted(orders[0])
