"""Tests for synthese.cluster: seeded UMAP + HDBSCAN, noise attachment, two levels.

UMAP compiles numba code on its first fit in a process (~18 s), so the fits on real-sized
data are shared through module-scoped fixtures and the tests using them are marked slow.
"""

from __future__ import annotations

import csv
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from synthese.cluster import (
    CONSENSUS_RUNS,
    TINY_CORPUS,
    ClusterResult,
    centroids,
    cluster_vectors,
    clustering_key,
    placement_texts,
    representatives,
    subject_terms,
    vector_texts,
)
from synthese.errors import SyntheseError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
COMMENTS = DATA / "grand-debat-mel" / "by_theme_comments"
DIM = 384


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x, dtype=float), where=norms > 0)


def _hashed_bag_of_words(text: str, dim: int = DIM) -> np.ndarray:
    """A cheap deterministic text vector: real texts give the real density continuum
    (and so real HDBSCAN noise) that clean synthetic blobs never produce."""
    vector = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"\w{4,}", text.lower()):
        h = zlib.crc32(word.encode("utf-8"))
        vector[h % dim] += 1.0 if (h >> 16) & 1 else -1.0
    return vector


def _core_centroids(vectors: np.ndarray, result: ClusterResult) -> dict[int, np.ndarray]:
    """Centroids of the points HDBSCAN itself clustered, under their final theme ids."""
    core_labels = np.where(result.was_noise, -1, result.labels)
    return centroids(vectors, core_labels)


@pytest.fixture(scope="module")
def comment_vectors() -> np.ndarray:
    texts = []
    for path in sorted(COMMENTS.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            texts += [row["body"] for row in csv.DictReader(f, delimiter=";") if row["body"]]
    assert len(texts) > 600
    return np.stack([_hashed_bag_of_words(t) for t in texts])


@pytest.fixture(scope="module")
def comment_result(comment_vectors: np.ndarray) -> ClusterResult:
    return cluster_vectors(comment_vectors, seed=42)


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """30 well-separated blobs of distinct sizes (12..41 points) in 384-d."""
    rng = np.random.default_rng(7)
    centres = _unit(rng.normal(size=(30, DIM)))
    truth = np.repeat(np.arange(30), np.arange(12, 42))
    points = centres[truth] + rng.normal(0, 0.75 / np.sqrt(DIM), (truth.size, DIM))
    return _unit(points).astype(np.float32), truth


@pytest.fixture(scope="module")
def blob_result(blobs: tuple[np.ndarray, np.ndarray]) -> ClusterResult:
    return cluster_vectors(blobs[0], seed=42)


# --- real-text corpus: determinism and noise -------------------------------------------


@pytest.mark.slow
def test_same_seed_gives_same_labels(comment_vectors, comment_result):
    again = cluster_vectors(comment_vectors, seed=42)
    assert np.array_equal(again.labels, comment_result.labels)
    assert np.array_equal(again.was_noise, comment_result.was_noise)
    assert again.params == comment_result.params


@pytest.mark.slow
def test_hdbscan_noise_is_attached_and_lowers_unassigned_share(comment_result):
    noise_share = float(comment_result.was_noise.mean())
    assert noise_share > 0.1  # real texts do produce HDBSCAN noise
    assert comment_result.unassigned_share < noise_share
    assert comment_result.unassigned_share < 0.5 * noise_share
    assert comment_result.params["attached"] > 0
    # Only noise can end up unassigned: HDBSCAN's clustered points keep their theme.
    assert np.all(comment_result.was_noise[comment_result.labels == -1])


@pytest.mark.slow
def test_default_attachment_respects_the_recorded_threshold(comment_vectors, comment_result):
    threshold = comment_result.params["attach_threshold"]
    assert comment_result.params["attach_rule"].startswith("p")
    _assert_attachment_rule(comment_vectors, comment_result, threshold)


@pytest.mark.slow
def test_explicit_threshold_is_used_and_respected(comment_vectors, comment_result):
    strict = cluster_vectors(comment_vectors, seed=42, attach_threshold=0.3)
    assert strict.params["attach_threshold"] == 0.3
    assert strict.params["attach_rule"] == "fixed"
    # Same reduction and HDBSCAN run: only the attachment differs.
    assert np.array_equal(strict.was_noise, comment_result.was_noise)
    _assert_attachment_rule(comment_vectors, strict, 0.3)


def _assert_attachment_rule(vectors: np.ndarray, result: ClusterResult, threshold: float):
    cents = _core_centroids(vectors, result)
    ids = np.array(sorted(cents))
    sims = _unit(vectors[result.was_noise]) @ np.stack([cents[i] for i in ids]).T
    labels = result.labels[result.was_noise]
    attached = labels >= 0
    assert np.all(sims[~attached].max(axis=1) < threshold)
    assert np.all(sims[attached].max(axis=1) >= threshold)
    assert np.array_equal(ids[sims[attached].argmax(axis=1)], labels[attached])


@pytest.mark.slow
def test_dominant_copy_pasted_answer_stays_one_theme(comment_vectors):
    # A campaign: 1,000 near-copies of one answer next to ~690 varied ones (59 %). The guard
    # against HDBSCAN's giant-theme collapse must not dissolve such a theme into noise.
    rng = np.random.default_rng(5)
    source = _unit(comment_vectors[3])
    copies = source + rng.normal(0, 0.05 / np.sqrt(DIM), (1000, DIM))
    result = cluster_vectors(np.vstack([comment_vectors, copies]).astype(np.float32), seed=42)
    campaign = result.labels[-1000:]
    assert np.mean(campaign == 0) >= 0.95  # the biggest theme, neither split nor dissolved
    # ...while the varied answers, first lumped into one sparse theme, are split.
    assert result.params["giant_splits"] >= 1
    assert result.n_clusters >= 3


@pytest.mark.slow
def test_similarity_is_cosine_to_final_centroid_and_nan_when_unassigned(
    comment_vectors, comment_result
):
    labels = comment_result.labels
    cents = centroids(comment_vectors, labels)
    assigned = np.flatnonzero(labels >= 0)
    expected = np.array([_unit(comment_vectors[i]) @ cents[labels[i]] for i in assigned])
    assert np.allclose(comment_result.similarity[assigned], expected, atol=1e-5)
    assert np.all(np.isnan(comment_result.similarity[labels == -1]))


# --- synthetic blobs: sizes, second level, params --------------------------------------


@pytest.mark.slow
def test_well_separated_blobs_are_recovered(blobs, blob_result):
    from sklearn.metrics import adjusted_rand_score

    assert blob_result.n_clusters == 30
    assert adjusted_rand_score(blobs[1], blob_result.labels) > 0.95


@pytest.mark.slow
def test_labels_are_renumbered_by_decreasing_size(blob_result):
    sizes = np.bincount(blob_result.labels[blob_result.labels >= 0])
    assert sizes.size == blob_result.n_clusters
    assert np.all(np.diff(sizes) <= 0)
    assert sizes[0] == 41  # the biggest blob is theme 0


@pytest.mark.slow
def test_many_themes_get_a_second_level(blob_result):
    parents = blob_result.parents
    assert parents is not None
    assert parents.shape == (blob_result.n_clusters,)
    n_parents = int(parents.max()) + 1
    assert 4 <= n_parents <= 7  # about sqrt(30)
    assert set(parents.tolist()) == set(range(n_parents))
    assert blob_result.params["n_parents"] == n_parents
    # Parents are numbered by decreasing number of arguments too.
    weight = [
        np.sum(np.isin(blob_result.labels, np.flatnonzero(parents == p))) for p in range(n_parents)
    ]
    assert weight == sorted(weight, reverse=True)


@pytest.mark.slow
def test_few_themes_stay_on_one_level(blobs, blob_result):
    flat = cluster_vectors(blobs[0], seed=42, max_themes_flat=40)
    assert flat.parents is None
    assert flat.params["n_parents"] == 0


@pytest.mark.slow
def test_params_record_what_umap_and_hdbscan_were_given(blobs, monkeypatch):
    import hdbscan
    import umap

    given: dict[str, list[dict]] = {"umap": [], "hdbscan": []}
    real_umap, real_hdbscan = umap.UMAP, hdbscan.HDBSCAN

    def spy_umap(**kwargs):
        given["umap"].append(kwargs)
        return real_umap(**kwargs)

    def spy_hdbscan(**kwargs):
        given["hdbscan"].append(kwargs)
        return real_hdbscan(**kwargs)

    monkeypatch.setattr(umap, "UMAP", spy_umap)
    monkeypatch.setattr(hdbscan, "HDBSCAN", spy_hdbscan)
    result = cluster_vectors(blobs[0], seed=7)
    p = result.params

    # One UMAP fit per consensus run, all with the recorded settings, each with its own seed
    # drawn from the clustering's seed.
    assert len(given["umap"]) == p["consensus_runs"] == CONSENSUS_RUNS
    for u in given["umap"]:
        assert {k: u[k] for k in ("n_neighbors", "n_components", "min_dist", "metric",
                                  "n_epochs")} \
            == {k: p[f"umap_{k}"] for k in ("n_neighbors", "n_components", "min_dist", "metric",
                                            "n_epochs")}
    seeds = [u["random_state"] for u in given["umap"]]
    assert len(set(seeds)) == len(seeds) and p["seed"] == 7
    assert seeds == [int(x) for x in np.random.SeedSequence(7).generate_state(CONSENSUS_RUNS)]
    assert len(p["fit_themes"]) == CONSENSUS_RUNS
    first = given["hdbscan"][0]
    assert {k: first[k] for k in ("min_cluster_size", "min_samples", "cluster_selection_method")} \
        == {k: p[f"hdbscan_{k}"] for k in ("min_cluster_size", "min_samples",
                                           "cluster_selection_method")}
    assert p["n_vectors"] == len(blobs[0])
    assert p["n_clusters"] == result.n_clusters
    assert p["unassigned_share"] == round(result.unassigned_share, 4)
    assert {"umap-learn", "hdbscan", "scikit-learn"} <= set(p["versions"])


@pytest.mark.slow
def test_explicit_min_cluster_size_is_used(blobs):
    result = cluster_vectors(blobs[0], seed=42, min_cluster_size=200)
    assert result.params["hdbscan_min_cluster_size"] == 200
    assert result.n_clusters < 30


# --- the guard against HDBSCAN's giant-theme collapse (5-d, like UMAP's output) -------


def _giant_and_far_blob(sub_blob_spread: float | None) -> np.ndarray:
    """900 points (3 touching Gaussian blobs, or one) next to a far blob of 60, in 5-d."""
    rng = np.random.default_rng(0)
    if sub_blob_spread is None:
        giant = rng.normal(size=(900, 5))
    else:
        corners = np.zeros((3, 5))
        corners[1, 0] = sub_blob_spread
        corners[2, :2] = sub_blob_spread / 2, sub_blob_spread * 0.87
        giant = np.vstack([rng.normal(size=(300, 5)) + c for c in corners])
    return np.vstack([giant, rng.normal(0, 0.3, (60, 5)) + 20.0])


def test_giant_theme_made_of_sub_themes_is_split():
    import hdbscan

    from synthese.cluster import _hdbscan_labels, _hdbscan_params

    points = _giant_and_far_blob(6.0)
    settings = _hdbscan_params(len(points), None)
    plain = hdbscan.HDBSCAN(**settings).fit(points).labels_
    assert plain.max() + 1 == 2  # the collapse: 900 points in one theme, 60 in the other
    params: dict = {}
    labels = _hdbscan_labels(points, settings, params)
    sizes = np.bincount(labels[labels >= 0])
    assert np.count_nonzero(sizes) == 4
    assert sizes.max() <= 300
    assert params["giant_splits"] == 1


def test_giant_theme_without_sub_themes_is_kept_whole():
    from synthese.cluster import _hdbscan_labels, _hdbscan_params

    points = _giant_and_far_blob(None)
    params: dict = {}
    labels = _hdbscan_labels(points, _hdbscan_params(len(points), None), params)
    assert sorted(np.bincount(labels[labels >= 0]).tolist()) == [60, 900]
    assert params["giant_splits"] == 0


# --- tiny corpora: no UMAP, never a crash ----------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 5, TINY_CORPUS - 1])
def test_tiny_corpora_never_crash(n):
    rng = np.random.default_rng(n)
    result = cluster_vectors(_unit(rng.normal(size=(n, DIM))) if n else np.zeros((0, DIM)))
    assert result.labels.shape == (n,)
    assert result.was_noise.shape == (n,)
    assert result.similarity.shape == (n,)
    assert result.params["method"] == "agglomerative"
    assert 0.0 <= result.unassigned_share <= 1.0


def test_empty_corpus_has_no_theme():
    result = cluster_vectors(np.empty((0, DIM), dtype=np.float32))
    assert result.n_clusters == 0
    assert result.unassigned_share == 0.0
    assert result.parents is None


def test_single_argument_is_its_own_theme():
    result = cluster_vectors(_unit(np.ones((1, DIM))))
    assert result.labels.tolist() == [0]
    assert result.similarity[0] == pytest.approx(1.0)


def test_tiny_corpus_groups_close_vectors_and_leaves_the_stranger_out():
    rng = np.random.default_rng(1)
    a, b, stranger = _unit(rng.normal(size=(3, DIM)))
    jitter = rng.normal(0, 0.2 / np.sqrt(DIM), (5, DIM))
    vectors = _unit(np.stack([b, a, b, a, stranger]) + jitter)
    result = cluster_vectors(vectors)
    # Two pairs of near-duplicates: equal sizes, so the pair seen first (b) is theme 0.
    assert result.labels.tolist() == [0, 1, 0, 1, -1]
    assert result.was_noise.tolist() == [False, False, False, False, True]
    assert result.unassigned_share == pytest.approx(0.2)


def test_two_unrelated_vectors_stay_unassigned_and_two_close_ones_form_a_theme():
    far = cluster_vectors(np.eye(2, DIM, dtype=np.float32))
    assert far.labels.tolist() == [-1, -1]
    close = cluster_vectors(_unit(np.array([[1.0, 0.1] + [0] * 382, [1.0, 0.0] + [0] * 382])))
    assert close.labels.tolist() == [0, 0]


def test_all_zero_vector_is_similar_to_nothing():
    rng = np.random.default_rng(3)
    a = _unit(rng.normal(size=DIM))
    near = _unit(np.stack([a, a]) + rng.normal(0, 0.2 / np.sqrt(DIM), (2, DIM)))
    result = cluster_vectors(np.vstack([near, np.zeros((1, DIM))]))
    assert result.labels.tolist() == [0, 0, -1]


def test_vectors_are_normalised_before_use():
    rng = np.random.default_rng(2)
    a, b = _unit(rng.normal(size=(2, DIM)))
    base = _unit(np.stack([a, a, b, b]) + rng.normal(0, 0.2 / np.sqrt(DIM), (4, DIM)))
    scaled = base * np.array([[1.0], [3.0], [0.5], [10.0]])
    expected = cluster_vectors(base)
    assert expected.labels.tolist() == [0, 0, 1, 1]
    assert np.array_equal(cluster_vectors(scaled).labels, expected.labels)


def test_non_finite_vector_is_a_user_error_naming_the_row():
    vectors = np.ones((3, DIM), dtype=np.float32)
    vectors[2, 5] = np.nan
    with pytest.raises(SyntheseError, match="n° 2"):
        cluster_vectors(vectors)


def test_vectors_must_be_a_matrix():
    with pytest.raises(SyntheseError, match="matrice"):
        cluster_vectors(np.ones(DIM))


# --- representatives and centroids -----------------------------------------------------


def test_representatives_are_closest_to_centroid_ties_by_index():
    angles = np.radians([40.0, 20.0, 0.0, 20.0, 90.0, 35.0])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = np.array([0, 0, 0, 0, 1, 2])
    # Theme 0's centroid points at 20°: rows 1 and 3 sit on it (a tie, so by index),
    # rows 0 and 2 are 20° away.
    assert representatives(vectors, labels, 0, k=2) == [1, 3]
    top = representatives(vectors, labels, 0, k=10)
    assert top[:2] == [1, 3] and sorted(top[2:]) == [0, 2]
    assert representatives(vectors, labels, 1) == [4]
    assert representatives(vectors, labels, 7) == []
    assert representatives(vectors, labels, 0, k=0) == []


def test_centroids_are_unit_means_and_skip_unassigned():
    vectors = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [5.0, 5.0]])
    labels = np.array([0, 0, 1, -1])
    cents = centroids(vectors, labels)
    assert sorted(cents) == [0, 1]
    assert np.allclose(cents[0], [np.sqrt(0.5), np.sqrt(0.5)])
    assert np.allclose(cents[1], [np.sqrt(0.5), np.sqrt(0.5)])
    assert all(np.linalg.norm(c) == pytest.approx(1.0) for c in cents.values())


def test_arguments_are_placed_by_their_quotes_or_by_their_text_without_one():
    import pandas as pd

    args = pd.DataFrame({"text": ["Prudence quand même", "La triche", "Sans citation"],
                         "quote": ["Il faut apprendre aux élèves à vérifier leurs sources.",
                                   "  ", None]})
    assert vector_texts(args) == ["Il faut apprendre aux élèves à vérifier leurs sources.",
                                  "La triche", "Sans citation"]
    assert vector_texts(args.drop(columns="quote")) == list(args["text"])


DEMO_Q = "Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements scolaires ?"


def test_the_questions_subject_said_in_many_quotes_is_left_out_of_the_placement():
    quotes = ["L'IA, franchement, on verra après.", "Pour l'IA, on verra après les vacances.",
              "Les élèves trichent aux devoirs maison.", "Les IA génératives inventent des sources.",
              "L'usage du téléphone est interdit.", "La formation des enseignants manque.",
              "Le wifi ne marche pas en salle 12.", "Les données des élèves partent aux USA.",
              "Les parents ne suivent pas.", "On manque de temps pour tout.",
              "Les collègues sont perdus."]
    # « IA » is the acronym of « intelligence artificielle », in 3 of 11 quotes; « usage » is
    # in one quote only (under SUBJECT_MIN_SHARE); neither « pensez » nor « établissements »
    # is said.
    assert subject_terms(DEMO_Q, quotes) == ["IA"]
    placed = placement_texts(quotes, ["IA"])
    assert placed[0] == ", franchement, on verra après."
    assert placed[3] == "Les génératives inventent des sources."
    assert placed[2:3] + placed[4:] == quotes[2:3] + quotes[4:]
    # a quote left with fewer than two words stays whole
    assert placement_texts(["L'IA ?", "Non."], ["IA"]) == ["L'IA ?", "Non."]
    # an acronym only in capitals: « ia » inside a word or in lower case is not the subject
    assert placement_texts(["Une via ferrata, ia ou pas."], ["IA"]) == ["Une via ferrata, ia ou pas."]
    # a question without text, or with no word its answers say often, leaves them whole
    assert subject_terms("body", quotes) == [] and subject_terms(DEMO_Q, []) == []
    assert placement_texts(quotes, []) == quotes
    # the terms are part of the clustering's identity, and only when there are some
    assert clustering_key(["a"], "m", 42, None, subject=["IA"]) != clustering_key(["a"], "m", 42, None)
    assert clustering_key(["a"], "m", 42, None, subject=[]) == clustering_key(["a"], "m", 42, None)


def test_umap_is_compiled_for_a_generic_cpu_so_that_themes_do_not_depend_on_the_machine():
    # Compiled for the host, numba's fast-math sums follow its SIMD width: the same 851
    # vectors gave 32, 31 or 38 themes by target CPU (docs/quality.md). Run in a fresh
    # interpreter: numba reads its target once, when it is imported.
    import subprocess
    import sys

    code = (
        "import os; os.environ.pop('NUMBA_CPU_NAME', None)\n"
        "import numpy as np\n"
        "from synthese.cluster import cluster_vectors\n"
        "import numba\n"
        "rng = np.random.default_rng(0)\n"
        "v = np.repeat(rng.normal(size=(4, 32)), 40, axis=0) + rng.normal(size=(160, 32)) / 3\n"
        "r = cluster_vectors(v.astype(np.float32), seed=42)\n"
        "print(numba.config.CPU_NAME, repr(numba.config.CPU_FEATURES),"
        " r.params['versions']['numba_cpu'], r.params['method'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["generic", "''", "generic", "umap+hdbscan"]


# --- consensus of several fits (issue 18) ----------------------------------------------------


def test_consensus_keeps_what_most_fits_agree_on_whatever_their_numbering():
    from synthese.cluster import _consensus_labels

    a, b = np.arange(8), np.arange(8, 16)
    first = np.where(np.arange(16) < 8, 0, 1)
    renumbered = 1 - first  # the same two themes under swapped ids
    merged = np.zeros(16, dtype=np.int64)  # one fit that merges them
    labels, pairs = _consensus_labels([first, renumbered, merged], min_size=3)
    assert len(set(labels[a])) == 1 and len(set(labels[b])) == 1
    assert labels[0] != labels[8] and labels.min() >= 0
    assert pairs == 2 * (8 * 7 // 2)  # together in 2 fits of 3: within each group only
    # Merged in most fits: one theme.
    labels, _ = _consensus_labels([merged, merged, first], min_size=3)
    assert len(set(labels)) == 1


def test_a_few_border_points_do_not_join_two_themes():
    """Point 9 is with A in two fits of three and with point 10 in two; point 10 is with B
    in two. Linked pair by pair, A-9-10-B was one chain and the two themes one; on average
    A's and B's members share a theme in no fit, so they stay two themes."""
    from synthese.cluster import _consensus_labels

    base = np.where(np.arange(20) < 10, 0, 1)
    fits = [base.copy(), base.copy(), base.copy()]
    fits[1][10] = 0  # fit 2: 9 and 10 both with A
    fits[2][9] = 1   # fit 3: 9 and 10 both with B
    labels, _ = _consensus_labels(fits, min_size=5)
    assert len(set(labels[:9])) == 1 and len(set(labels[11:])) == 1
    assert labels[0] != labels[19]
    assert {labels[9], labels[10]} <= {labels[0], labels[19]}


def test_a_point_the_fits_disagree_on_is_left_to_the_attachment_step():
    from synthese.cluster import UNASSIGNED, _consensus_labels

    fits = [np.where(np.arange(40) < 20, 0, 1) for _ in range(4)]
    # Point 0 is noise in three fits of four: it shares a theme with its group in one fit.
    for f in fits[:3]:
        f[0] = UNASSIGNED
    labels, _ = _consensus_labels(fits, min_size=5)
    assert labels[0] == UNASSIGNED and (labels[1:] >= 0).all()
    # Groups smaller than the minimum theme size are noise; when no group is big enough,
    # the first fit's themes are kept rather than calling everything noise.
    labels, _ = _consensus_labels(fits, min_size=25)
    assert np.array_equal(labels, fits[0])


def test_one_fit_is_its_own_consensus():
    from synthese.cluster import _consensus_labels

    only = np.where(np.arange(40) < 20, 3, 7)
    labels, pairs = _consensus_labels([only], min_size=5)
    assert np.array_equal(labels, only) and pairs == 0


@pytest.mark.slow
def test_consensus_is_more_stable_between_seeds_than_one_fit(comment_vectors):
    from sklearn.metrics import adjusted_rand_score

    one = [cluster_vectors(comment_vectors, seed=s, runs=1).labels for s in (42, 43)]
    many = [cluster_vectors(comment_vectors, seed=s, runs=6).labels for s in (42, 43)]
    assert adjusted_rand_score(*many) > adjusted_rand_score(*one)


def test_fit_sample_depends_on_the_vectors_not_their_order(monkeypatch):
    from synthese import cluster

    monkeypatch.setattr(cluster, "FIT_SAMPLE", 30)
    rng = np.random.default_rng(3)
    points = _unit(rng.normal(size=(100, DIM))).astype(np.float32)
    sample = set(cluster._fit_sample(points).tolist())
    assert len(sample) == 30
    order = rng.permutation(100)
    shuffled = cluster._fit_sample(points[order])
    assert {int(order[i]) for i in shuffled} == sample
    # Ten vectors added change the sample by at most ten vectors.
    more = np.vstack([points, _unit(rng.normal(size=(10, DIM))).astype(np.float32)])
    assert len(sample - set(cluster._fit_sample(more).tolist())) <= 10


@pytest.mark.slow
def test_past_the_fit_sample_every_vector_gets_its_neighbours_theme(blobs, monkeypatch):
    from sklearn.metrics import adjusted_rand_score

    from synthese import cluster

    monkeypatch.setattr(cluster, "FIT_SAMPLE", 300)
    points, truth = blobs
    result = cluster.cluster_vectors(points, seed=42, runs=3)
    assert result.params["n_fit"] == 300 and result.params["n_vectors"] == len(points)
    assert adjusted_rand_score(truth, result.labels) > 0.9


def _theme_with_a_rare_sub_theme() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four broad themes of 300 points; inside the first, 30 points (2.5 %) about one thing
    of their own: near their theme, but apart."""
    rng = np.random.default_rng(5)
    tops = _unit(rng.normal(size=(4, DIM)))
    rare = _unit(0.6 * tops[0] + 0.8 * _unit(rng.normal(size=DIM)))
    centre_of = np.vstack([np.repeat(tops, 300, axis=0), np.repeat(rare[None], 30, axis=0)])
    top = np.concatenate([np.repeat(np.arange(4), 300), np.zeros(30, dtype=int)])
    is_rare = np.concatenate([np.zeros(1200, dtype=bool), np.ones(30, dtype=bool)])
    points = _unit(centre_of + rng.normal(0, 0.9 / np.sqrt(DIM), centre_of.shape))
    return points.astype(np.float32), top, is_rare


def _best_f1(labels: np.ndarray, gold: np.ndarray) -> float:
    scores = [2 * np.sum((labels == c) & gold) / (np.sum(labels == c) + gold.sum())
              for c in np.unique(labels[labels >= 0])]
    return float(max(scores, default=0.0))


@pytest.mark.slow
def test_past_the_second_level_size_a_theme_too_rare_for_the_sample_is_found(monkeypatch):
    from sklearn.metrics import adjusted_rand_score

    from synthese import cluster

    points, top, is_rare = _theme_with_a_rare_sub_theme()
    # The fits see 150 points: about 4 of the rare 30, under the minimum theme size (5).
    monkeypatch.setattr(cluster, "FIT_SAMPLE", 150)
    monkeypatch.setattr(cluster, "SECOND_LEVEL_MIN", 25)
    monkeypatch.setattr(cluster, "SECOND_LEVEL_FROM", 10_000)
    one_level = cluster.cluster_vectors(points, seed=42, max_themes_flat=2)
    assert _best_f1(one_level.labels, is_rare) < 0.5
    assert "second_level" not in one_level.params

    monkeypatch.setattr(cluster, "SECOND_LEVEL_FROM", 1000)
    two = cluster.cluster_vectors(points, seed=42, max_themes_flat=2)
    assert _best_f1(two.labels, is_rare) > 0.9
    level = two.params["second_level"]
    assert level["top_themes"] == 4 and level["refit"] >= 1
    assert two.n_clusters == level["sub_themes"] > 4
    # The parents are the top themes: each theme lies in one broad theme, and the rare one
    # is placed under its own theme or standing alone, never under another broad theme.
    assigned = two.labels >= 0
    parent_of_point = two.parents[two.labels[assigned]]
    broad = ~is_rare[assigned]
    assert adjusted_rand_score(top[assigned][broad], parent_of_point[broad]) > 0.95
    rare_parent = np.bincount(parent_of_point[~broad]).argmax()
    others = set(parent_of_point[broad & (top[assigned] != 0)].tolist())
    assert rare_parent not in others
    # Kept in place under other ids, the parents still follow the top themes.
    k = two.n_clusters
    moved = cluster.relabel(points, two, np.where(two.labels >= 0, k - 1 - two.labels, -1))
    assert moved.top is two.top
    assert adjusted_rand_score(two.parents[two.labels[assigned]],
                               moved.parents[moved.labels[assigned]]) == 1.0


def test_the_second_level_settings_key_only_clusterings_past_its_size(monkeypatch):
    from synthese import cluster

    monkeypatch.setattr(cluster, "SECOND_LEVEL_FROM", 2)
    small, large = ["a", "b"], ["a", "b", "c"]
    before = cluster.clustering_key(small, "m", 42, None), cluster.clustering_key(large, "m", 42, None)
    monkeypatch.setattr(cluster, "SECOND_LEVEL_RUNS", cluster.SECOND_LEVEL_RUNS + 1)
    assert cluster.clustering_key(small, "m", 42, None) == before[0]
    assert cluster.clustering_key(large, "m", 42, None) != before[1]


# --- keeping themes in place (issue 18) -------------------------------------------------------


def test_new_answers_join_the_themes_they_fall_in_and_nothing_else_moves():
    from synthese.cluster import NEW, keep_in_place

    previous = np.array([0] * 20 + [1] * 20 + [NEW] * 10)
    # The fresh clustering numbers the themes the other way round and moves two boundary
    # arguments: not a change of structure.
    fresh = np.array([1] * 18 + [0] * 2 + [0] * 20 + [1] * 6 + [0] * 4)
    kept = keep_in_place(fresh, previous, min_size=5)
    assert np.array_equal(kept.labels[:40], previous[:40]) and kept.kept_share == 1.0
    assert list(kept.labels[40:]) == [0] * 6 + [1] * 4
    assert kept.changes == {"created": [], "split": {}, "merged": {}, "removed": []}
    assert kept.previous_ari < 1.0  # the fresh clustering itself did move two arguments


def test_a_real_split_merge_or_new_theme_is_made_and_said():
    from synthese.cluster import NEW, keep_in_place

    previous = np.array([0] * 40 + [1] * 12 + [2] * 8 + [NEW] * 10)
    fresh = np.array([0] * 20 + [1] * 20 + [2] * 12 + [2] * 8 + [3] * 10)
    kept = keep_in_place(fresh, previous, min_size=5)
    assert kept.changes["split"] == {0: [3]}
    assert kept.changes["merged"] == {1: [1, 2]}
    assert kept.changes["created"] == [4]
    assert kept.changes["removed"] == [2]
    assert set(kept.labels[:20]) == {0} and set(kept.labels[20:40]) == {3}
    assert set(kept.labels[40:60]) == {1} and set(kept.labels[60:]) == {4}
    assert kept.kept_share == (20 + 12) / 60


def test_kept_labels_recompute_what_depends_on_them(blobs):
    from synthese.cluster import relabel

    points, truth = blobs
    fresh = ClusterResult(truth.copy(), np.zeros(truth.size, bool), np.zeros(truth.size),
                          None, {"max_themes_flat": 40})
    labels = np.where(truth == 3, 99, truth)  # one theme under a kept id past the others
    moved = relabel(points, fresh, labels)
    assert moved.n_clusters == 30 and moved.parents is None
    assert np.allclose(moved.similarity[truth == 3], fresh_similarity := moved.similarity[labels == 99])
    assert (fresh_similarity > 0.5).all()


# --- themes by kind ---------------------------------------------------------------------


def _topics_said_both_ways(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Three topics, each said as opportunities, risks, observations and conditions by
    vectors drawn around the same centre: only the kinds tell the ways apart."""
    centres = _unit(rng.normal(size=(3, DIM)))
    topic = np.repeat(np.arange(3), 60)
    kinds = (["opportunite"] * 20 + ["risque"] * 15 + ["constat"] * 10 + ["condition"] * 15) * 3
    points = centres[topic] + rng.normal(0, 0.5 / np.sqrt(DIM), (topic.size, DIM))
    return _unit(points).astype(np.float32), topic, kinds


def test_each_kind_is_clustered_apart_and_observations_go_with_risks():
    vectors, topic, kinds = _topics_said_both_ways(np.random.default_rng(3))
    kinds_arr = np.array(kinds)
    mixed = cluster_vectors(vectors, seed=42)  # without the kinds: one theme per topic
    assert any({"opportunite", "risque"} <= set(kinds_arr[mixed.labels == t])
               for t in range(mixed.n_clusters))
    result = cluster_vectors(vectors, seed=42, kinds=kinds)
    groups = {"opportunite": "o", "risque": "r", "constat": "r", "condition": "c"}
    for t in range(result.n_clusters):
        assert len({groups[k] for k in kinds_arr[result.labels == t]}) == 1
    # Within a kind, the topics are still found: one theme per (topic, kind group). A few
    # ideas may stay « autres » (3 of 20 on a machine with AVX2 only, none with AVX-512:
    # UMAP's floating-point sums differ).
    for t in range(3):
        for kind in ("opportunite", "risque", "condition"):
            own = result.labels[(topic == t) & (kinds_arr == kind)]
            assert len(set(own[own >= 0].tolist())) == 1 and (own >= 0).mean() >= 0.8
        said = result.labels[(topic == t) & np.isin(kinds_arr, ["risque", "constat"])]
        assert len(set(said[said >= 0].tolist())) == 1
    assert result.n_clusters == 9
    assert result.params["by_kind"]["risque"]["ideas"] == 75  # risks and observations
    assert result.params["by_kind_min_cluster_size"] == 5


def test_a_kind_said_by_a_handful_of_ideas_makes_no_theme_under_the_minimum_size():
    """Off-topic remarks (4 here, close to each other) are too few for UMAP and are grouped
    on their own: under the corpus's minimum theme size (5), they are « autres », as
    any kind's group of 4 would be, not a theme of their own."""
    rng = np.random.default_rng(3)
    vectors, _, kinds = _topics_said_both_ways(rng)
    aside = _unit(rng.normal(size=(1, DIM)))
    remarks = _unit(aside + rng.normal(0, 0.2 / np.sqrt(DIM), (4, DIM))).astype(np.float32)
    result = cluster_vectors(np.concatenate([vectors, remarks]), seed=42,
                             kinds=kinds + ["hors_sujet"] * 4)
    assert result.params["by_kind"]["hors_sujet"]["ideas"] == 4
    assert (result.labels[-4:] == -1).all()
    assert result.n_clusters == 9  # the other kinds' themes as without the remarks


def test_themes_asked_are_shared_between_the_kinds_in_proportion():
    vectors, _, kinds = _topics_said_both_ways(np.random.default_rng(3))
    result = cluster_vectors(vectors, seed=42, kinds=kinds, themes=3)
    # 60, 75 and 45 ideas of 180: one theme each.
    assert result.n_clusters == 3
    assert {g["themes"] for g in result.params["by_kind"].values()} == {1}


def test_a_small_corpus_is_clustered_whole_and_its_mixed_themes_split():
    from synthese.cluster import BY_KIND_FROM

    vectors, _, kinds = _topics_said_both_ways(np.random.default_rng(3))
    keep = np.flatnonzero(np.isin(np.array(kinds), ["opportunite", "risque"]))[:60]
    assert keep.size < BY_KIND_FROM
    small = cluster_vectors(vectors[keep], seed=42, kinds=[kinds[i] for i in keep])
    assert "by_kind" not in small.params and small.params["split_opposed"] >= 1
    assert small.unassigned_share < 0.2  # groups of a few dozen would leave most unthemed


def test_the_noise_of_every_kind_is_attached_at_one_threshold(monkeypatch):
    """Calibrated per kind group, a tight group's first percentile is about its least
    similar idea: an idea of that group less typical than all its clustered ones, though
    closer to its theme than many clustered risks are to theirs, would stay « autres ».
    The themes before attachment are set (HDBSCAN's own noise is not the point here)."""
    from synthese import cluster

    rng = np.random.default_rng(5)
    centres = _unit(rng.normal(size=(5, DIM)))

    def around(centre: int, count: int, spread: float) -> np.ndarray:
        return centres[centre] + rng.normal(0, spread / np.sqrt(DIM), (count, DIM))

    vectors = _unit(np.concatenate([
        around(0, 40, 0.2), around(1, 40, 0.2), around(0, 3, 1.0),  # tight opportunities
        around(2, 45, 1.5), around(3, 45, 1.5),  # loose risks
        around(4, 40, 0.6)])).astype(np.float32)  # conditions
    kinds = ["opportunite"] * 83 + ["risque"] * 90 + ["condition"] * 40
    raw_of_group = {83: np.r_[np.zeros(40), np.ones(40), -np.ones(3)],  # 3 noise ideas
                    90: np.r_[np.zeros(45), np.ones(45)], 40: np.zeros(40)}

    def set_themes(unit, seed, size, threshold, params, runs, themes, granularity):
        params["method"] = "umap+hdbscan"
        return raw_of_group[unit.shape[0]].astype(np.int64), None

    monkeypatch.setattr(cluster, "_raw_themes", set_themes)
    strays = np.arange(80, 83)
    result = cluster_vectors(vectors, seed=42, kinds=kinds)
    assert len({g["attach_threshold"] for g in result.params["by_kind"].values()}) == 1
    assert result.was_noise[strays].all()
    assert set(result.labels[strays].tolist()) == set(result.labels[:40].tolist())

    monkeypatch.setattr(cluster, "ATTACH_POOLED", False)
    apart = cluster_vectors(vectors, seed=42, kinds=kinds)
    assert len({g["attach_threshold"] for g in apart.params["by_kind"].values()}) == 3
    assert (apart.labels[strays] == -1).all()


def test_the_consensus_survives_a_scipy_tree_that_merges_a_group_with_itself():
    from scipy.cluster.hierarchy import average, fcluster, is_valid_linkage

    from synthese.cluster import _average_groups, _consensus_labels, fits_apart

    # The 10 fits of the 200 Grand Débat comments (fake model, default embedder) on a VM with
    # AVX-512 BF16, 7 December 2026: SciPy's average linkage merged group 1761 with itself,
    # and fcluster raised « Linkage 'Z' uses the same cluster more than once ».
    stored = Path(__file__).parent / "fixtures" / "consensus_fits_scipy_self_merge.npz"
    fits = [f.astype(np.int64) for f in np.load(stored)["fits"]]
    n = len(fits[0])
    assert not is_valid_linkage(average(fits_apart(fits)))
    labels, pairs = _consensus_labels(fits, 25)
    assert len(labels) == n and pairs > 0
    assert 5 <= labels.max() + 1 <= 15 and (labels >= 0).mean() > 0.5
    # Where SciPy's tree is valid (the first 898 vectors), the plain linkage gives its groups.
    sample = [f[:898] for f in fits]
    tree = average(fits_apart(sample))
    assert is_valid_linkage(tree)
    scipy_groups = fcluster(tree, t=0.5, criterion="distance") - 1
    plain = _average_groups(fits_apart(sample), 898, 0.5)
    pairs_of = {tuple(sorted(np.flatnonzero(scipy_groups == g))) for g in set(scipy_groups)}
    assert pairs_of == {tuple(sorted(np.flatnonzero(plain == g))) for g in set(plain)}
