"""Content hashes: the same value gives the same key, any change gives another."""

from synthese.keys import canonical_json, content_hash, file_sha256, to_json


def test_key_order_and_spacing_do_not_change_a_hash():
    assert content_hash({"b": 1, "a": [1, 2]}) == content_hash({"a": [1, 2], "b": 1})
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_any_change_of_a_part_gives_another_hash():
    base = content_hash("réponse", "q1", 1)
    assert len({base, content_hash("réponse ", "q1", 1), content_hash("réponse", "q2", 1),
                content_hash("réponse", "q1", 2), content_hash(["réponse", "q1", 1])}) == 5
    assert len(base) == 20 and content_hash("x", length=64) != content_hash("x")


def test_file_hash_is_the_sha256_of_the_bytes(tmp_path):
    import hashlib

    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert file_sha256(path, chunk_size=1000) == hashlib.sha256(data).hexdigest()


def test_stored_json_keeps_accents_and_key_order():
    assert to_json({"thème": "é", "a": 1}) == '{"thème": "é", "a": 1}'
