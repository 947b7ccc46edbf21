import numpy as np

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
