"""Evaluation harness: metrics on toy labels with known answers, dataset formats, converters."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import FakeEmbedder, FakeLLM

from synthese.errors import SyntheseError
from synthese.evaluate import (
    ArgumentDataset,
    ThemeDataset,
    argument_scores,
    evaluate_arguments,
    evaluate_themes,
    gold_points,
    greedy_match,
    load_dataset,
    match_threshold,
    partition_scores,
    run_eval,
    split_sentences,
    theme_f1,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def _benchmark_datasets():
    """benchmarks/datasets.py, loaded by path (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "synthese_benchmark_datasets", REPO / "benchmarks" / "datasets.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- partition metrics -----------------------------------------------------------------------


def test_identical_partition_up_to_renaming_scores_one():
    scores = partition_scores(["a", "a", "b", "b", "c"], [7, 7, 3, 3, 0])
    assert scores["ari"] == pytest.approx(1.0)
    assert scores["nmi"] == pytest.approx(1.0)


def test_ari_of_a_known_small_case():
    # Hand computation: contingency [[2,0],[1,1]] -> sum C(n_ij,2)=1, rows 1+1, cols 3+0:
    # expected = 2*3/6 = 1, max = (2+3)/2 = 2.5, ARI = (1-1)/(2.5-1) = 0.
    scores = partition_scores(["a", "a", "b", "b"], [0, 0, 0, 1])
    assert scores["ari"] == pytest.approx(0.0)
    assert scores["homogeneity"] < 1.0 and scores["completeness"] < 1.0


def test_unassigned_counts_as_one_more_cluster():
    left_out = partition_scores(["a", "a", "b", "b"], [0, 0, -1, -1])
    assert left_out["ari"] == pytest.approx(1.0)  # -1 is a group like any other
    mixed = partition_scores(["a", "a", "b", "b"], [0, -1, -1, 1])
    assert mixed["ari"] < 0.5


# --- theme F1 with Hungarian matching --------------------------------------------------------


def test_perfect_clusters_give_f1_one_and_recover_every_theme():
    match = theme_f1([("a",), ("a",), ("b",), ("b",)], [1, 1, 0, 0])
    assert match.macro_f1 == pytest.approx(1.0)
    assert match.pairs == {"a": (1, 1.0), "b": (0, 1.0)}
    assert match.recovered == {"a", "b"}


def test_hungarian_pairs_one_to_one_not_greedy():
    # Cluster 0 is the best cluster for both labels; greedy would give it to « a » (F1 0.8)
    # and leave « b » with cluster 1 (F1 0). One-to-one optimum: a->1, b->0.
    labels = [("a",)] * 3 + [("b",)] * 2
    predicted = [0, 0, 1, 0, 0]
    match = theme_f1(labels, predicted)
    # a vs 1: |a|=3, |1|=1, inter 1 -> 2/4 = 0.5 ; b vs 0: |b|=2, |0|=4, inter 2 -> 4/6
    assert match.pairs["a"] == (1, pytest.approx(0.5))
    assert match.pairs["b"] == (0, pytest.approx(4 / 6))
    assert match.macro_f1 == pytest.approx((0.5 + 4 / 6) / 2)
    assert match.weighted_f1 == pytest.approx((3 * 0.5 + 2 * 4 / 6) / 5)


def test_more_labels_than_clusters_leaves_a_label_unpaired_at_zero():
    match = theme_f1([("a",), ("b",), ("c",)], [0, 0, 0])
    assert sum(cluster is None for cluster, _ in match.pairs.values()) == 2
    assert match.macro_f1 == pytest.approx((2 * 1 / 4) / 3)


def test_multi_label_text_counts_for_every_label_in_f1_but_first_label_in_ari():
    labels = [("a", "b"), ("a",), ("b",), ("b",)]
    predicted = [0, 0, 1, 1]
    match = theme_f1(labels, predicted)
    # label b = texts {0, 2, 3}; best one-to-one: a->0 (F1 1.0), b->1 (2*2/(3+2) = 0.8)
    assert match.sizes == {"a": 2, "b": 3}
    assert match.pairs["a"] == (0, pytest.approx(1.0))
    assert match.pairs["b"] == (1, pytest.approx(0.8))
    assert partition_scores([lab[0] for lab in labels], predicted)["ari"] == pytest.approx(1.0)


def test_split_label_is_penalised_when_paired_but_not_after_fusion():
    labels = [("a",)] * 4 + [("b",)] * 4
    predicted = [0, 0, 1, 1, 2, 2, 2, 2]  # « a » split in two pure clusters
    match = theme_f1(labels, predicted)
    assert match.pairs["a"][1] == pytest.approx(2 * 2 / 6)
    assert match.merged_macro_f1 == pytest.approx(1.0)
    assert match.recovered == {"a", "b"}  # 0.67 >= 0.5


def test_unassigned_texts_are_never_a_theme():
    match = theme_f1([("a",), ("a",), ("b",)], [-1, -1, 0])
    assert match.pairs["a"] == (None, 0.0)
    assert match.pairs["b"] == (0, pytest.approx(1.0))


# --- argument matching ------------------------------------------------------------------------


def test_greedy_match_is_one_to_one_and_best_first():
    sim = np.array([[0.9, 0.8], [0.85, 0.2], [0.4, 0.7]])
    assert greedy_match(sim, 0.5) == [(0, 0, 0.9), (2, 1, 0.7)]


def test_greedy_match_drops_pairs_below_threshold_and_breaks_ties_by_index():
    assert greedy_match(np.array([[0.49, 0.3]]), 0.5) == []
    assert greedy_match(np.array([[0.6, 0.6], [0.6, 0.6]]), 0.5) == [(0, 0, 0.6), (1, 1, 0.6)]
    assert greedy_match(np.zeros((0, 3)), 0.5) == []


def _unit(*rows):
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_argument_scores_on_a_known_case():
    # Answer 1: two gold paraphrases of point X (e1) and one gold Y (e2); two extracted
    # arguments, one on X and one on Z (e3, unrelated). Answer 2: failed, one gold argument.
    e1, e2, e3 = [1, 0, 0], [0, 1, 0], [0, 0, 1]
    gold = [_unit(e1, [1, 0.1, 0], e2), _unit(e3)]
    extracted = [_unit(e1, e3), np.zeros((0, 3))]
    s = argument_scores(gold, extracted, threshold=0.5)
    assert (s.n_gold, s.n_extracted, s.n_matched) == (4, 2, 1)
    assert s.recall == pytest.approx(1 / 4) and s.precision == pytest.approx(1 / 2)
    assert s.f1 == pytest.approx(2 * 0.25 * 0.5 / 0.75)
    # distinct points: {X, X'} and {Y} in answer 1, one in answer 2 -> 3 ; reached: X only
    assert (s.n_points, s.n_points_reached) == (3, 1)
    assert s.precision_any == pytest.approx(1 / 2)


def test_gold_points_group_paraphrases_by_complete_linkage():
    vectors = _unit([1, 0, 0], [1, 0.05, 0], [0, 1, 0])
    points = gold_points(vectors, 0.9)
    assert points[0] == points[1] != points[2]


def test_no_calibrated_threshold_for_an_unknown_embedder_is_a_french_error():
    with pytest.raises(SyntheseError, match="--threshold"):
        match_threshold("mon-modele")
    assert match_threshold("use-multilingual") == pytest.approx(0.5)
    with pytest.raises(SyntheseError, match="entre 0 et 1"):
        match_threshold("use-multilingual", 1.5)


# --- dataset formats ---------------------------------------------------------------------------


THEMES_CSV = (
    "id,text,labels\n"
    "1,Il faut reconnaître le vote blanc.,vote\n"
    "2,Le vote blanc doit compter dans les résultats.,vote\n"
    "3,Taxer davantage les entreprises qui polluent.,écologie|impôts\n"
    "4,Baisser la TVA sur les produits de première nécessité.,impôts\n"
    "5,Développer les transports en commun gratuits.,écologie\n"
)

ARGUMENTS_CSV = (
    "id,text,argument,argument_type\n"
    "a1,\"Il faut former les enseignants. Sans formation, pas de bon usage.\","
    "Former les enseignants,proposition\n"
    "a1,\"Il faut former les enseignants. Sans formation, pas de bon usage.\","
    "La formation conditionne le bon usage,analyse\n"
    "a2,Les élèves trichent avec ChatGPT. Il faut interdire son usage en classe.,"
    "Interdire ChatGPT en classe,proposition\n"
    "a3,RAS,,\n"
)


def test_theme_csv_is_read_with_multi_labels(tmp_path):
    data = load_dataset(_write(tmp_path / "t.csv", THEMES_CSV))
    assert isinstance(data, ThemeDataset)
    assert data.ids == ["1", "2", "3", "4", "5"]
    assert data.labels[2] == ("écologie", "impôts")


def test_argument_csv_groups_rows_by_answer_and_keeps_answers_without_argument(tmp_path):
    data = load_dataset(_write(tmp_path / "a.csv", ARGUMENTS_CSV))
    assert isinstance(data, ArgumentDataset)
    assert [a.id for a in data.answers] == ["a1", "a2", "a3"]
    assert data.answers[0].arguments == ["Former les enseignants",
                                         "La formation conditionne le bon usage"]
    assert data.answers[2].arguments == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id,texte,labels\n1,Bonjour,a\n", r"Colonne « text » absente de .*t\.csv"),
        ("id,text,labels\n1,Bonjour,\n", r"Aucune étiquette ligne 2 de .*colonne « labels »"),
        ("id,text,labels\n1,Bonjour,a\n1,Salut,b\n", r"« 1 » en double .*lignes 2 et 3"),
        ("id,text,labels\n,Bonjour,a\n", r"Identifiant vide ligne 2 .*colonne « id »"),
        ("id,text,labels\n1,  ,a\n", r"Texte vide ligne 2 .*colonne « text »"),
        ("id,text,argument\n1,Un texte,x\n1,Un autre texte,y\n", r"diffère entre les lignes 2"),
        ("id,text,opinion\n1,Un texte,x\n", r"ni colonne « labels » ni colonne « argument »"),
    ],
)
def test_bad_dataset_csv_is_one_french_line_naming_file_and_column(tmp_path, content, expected):
    path = _write(tmp_path / "t.csv", content)
    with pytest.raises(SyntheseError, match=expected) as info:
        load_dataset(path)
    assert "\n" not in str(info.value) and str(tmp_path) in str(info.value)


def test_argument_format_required_columns_are_named(tmp_path):
    path = _write(tmp_path / "g.csv", "id,argument\n1,x\n")
    with pytest.raises(SyntheseError, match="Colonne « text » absente .*id,text,argument"):
        load_dataset(path, "arguments")


def test_split_sentences_keeps_the_whole_text_when_no_sentence_is_long_enough():
    assert split_sentences("Oui. Non !") == ["Oui. Non !"]
    assert split_sentences("Il faut agir vite. Oui.\nLe vote blanc compte.") == [
        "Il faut agir vite.", "Le vote blanc compte."]


# --- runs on tiny CSVs (fake components: no model weights, no UMAP compile) -------------------


def test_theme_eval_on_a_user_csv_runs_every_stage_and_prints_french_markdown(tmp_path):
    data = load_dataset(_write(tmp_path / "t.csv", THEMES_CSV))
    ev = evaluate_themes(data, embedder=FakeEmbedder(), seeds=(1, 2))
    assert [r.seed for r in ev.runs] == [1, 2] and ev.n_units == 5
    assert ev.stability_ari is not None and ev.recovered_both is not None
    text = ev.markdown()
    assert "| graine |" in text and "Stabilité entre les graines 1, 2 : ARI moyen" in text
    assert "F1 multi-étiquettes (micro)" in text and all(r.multilabel for r in ev.runs)
    assert [s.stage for s in ev.stages] == ["vectorisation", "regroupement (graine 1)",
                                            "regroupement (graine 2)"]
    assert all(s.peak_rss_mb > 0 for s in ev.stages)


def test_theme_eval_with_fake_llm_clusters_extracted_arguments_carrying_answer_labels(tmp_path):
    data = load_dataset(_write(tmp_path / "t.csv", THEMES_CSV))
    llm = FakeLLM()
    ev = evaluate_themes(data, embedder=FakeEmbedder(), units="arguments", llm=llm, seeds=(1,))
    # each answer is one short sentence: its own idea, with no call (tests/test_extract.py)
    assert llm.calls == [] and ev.n_units == 5 and ev.n_failed == 0
    assert ev.stability_ari is None
    assert "arguments extraits par le modèle" in ev.markdown()


def test_argument_eval_on_a_user_csv_with_fake_llm(tmp_path):
    data = load_dataset(_write(tmp_path / "a.csv", ARGUMENTS_CSV))
    logs: list[str] = []
    ev = evaluate_arguments(data, llm=FakeLLM(), embedder=FakeEmbedder(), threshold=0.3,
                            log=logs.append)
    assert len(logs) == 3 and logs[0].startswith("Extraction 1/3 : 2 arguments")
    # The fake extracts sentences of >= 3 words: 2 + 2 + 0 (« RAS »).
    assert ev.scores.n_answers == 3 and ev.scores.n_gold == 3
    assert ev.scores.n_extracted == 4
    assert 0 < ev.scores.n_matched <= 3
    assert [s.threshold for s in ev.sensitivity] == [pytest.approx(0.2), pytest.approx(0.4)]
    assert "rappel (points distincts)" in ev.markdown()
    assert ev.details[0]["gold"] == data.answers[0].arguments


def test_failed_extraction_is_counted_and_its_gold_arguments_missed(tmp_path):
    data = load_dataset(_write(tmp_path / "a.csv", ARGUMENTS_CSV))
    ev = evaluate_arguments(data, llm=FakeLLM(fail=100), embedder=FakeEmbedder(),
                            threshold=0.3, limit=2)
    assert ev.n_failed == 2 and ev.scores.n_matched == 0 and ev.scores.recall == 0.0
    assert "Échecs" in ev.markdown()


def test_run_eval_detects_format_and_reuses_cached_llm_calls(tmp_path):
    path = _write(tmp_path / "a.csv", ARGUMENTS_CSV)
    cache = tmp_path / "cache.duckdb"
    first = FakeLLM()
    run_eval(path, llm=first, embedder=FakeEmbedder(), pseudonymise=False, threshold=0.3,
             cache=cache)
    second = FakeLLM()
    ev = run_eval(path, llm=second, embedder=FakeEmbedder(), pseudonymise=False,
                  threshold=0.3, cache=cache)
    assert len(first.calls) == 2 and second.calls == []  # « RAS » carries no idea: no call
    assert ev.scores.n_extracted == 4
    assert (ev.llm_calls["made"], ev.llm_calls["reused"]) == (0, 2)
    assert "Appels au modèle : 0 effectués, 2 repris du cache" in ev.markdown()


def test_slow_stage_is_shown_in_seconds_per_item():
    from synthese.evaluate import StageStat, _stages_markdown

    table = "\n".join(_stages_markdown([StageStat("extraction", 2, "réponses", 100.0, 900.0),
                                         StageStat("vectorisation", 50, "textes", 0.5, 900.0)]))
    assert "50,0 s/réponse" in table and "100,0 textes/s" in table


def test_run_eval_rejects_bad_parameters_in_french(tmp_path):
    path = _write(tmp_path / "t.csv", THEMES_CSV)
    with pytest.raises(SyntheseError, match="--limit"):
        run_eval(path, limit=0, embedder=FakeEmbedder(), pseudonymise=False)
    with pytest.raises(SyntheseError, match="Unité inconnue"):
        run_eval(path, units="mots", embedder=FakeEmbedder(), pseudonymise=False)


def test_run_eval_on_a_theme_csv_with_the_default_embedder(tmp_path):
    # The real default embedder (fast, loads offline); < 15 texts: no UMAP compile.
    ev = run_eval(_write(tmp_path / "t.csv", THEMES_CSV), pseudonymise=False)
    assert ev.embedder == "use-multilingual"
    assert ev.runs[0].n_clusters >= 1


# --- converters ----------------------------------------------------------------------------------


def test_grand_debat_converter_writes_valid_theme_files_outside_the_repo(tmp_path):
    datasets = _benchmark_datasets()
    paths = datasets.grand_debat(tmp_path / "out")
    themes = load_dataset(paths["themes"])
    questions = load_dataset(paths["questions"])
    proposals = load_dataset(paths["propositions"])
    assert len(themes.ids) == len(questions.ids) == 690  # 693 comments, 3 cross-posted copies
    assert {lab for labs in themes.labels for lab in labs} == {
        "Démocratie et citoyenneté", "Impôts, dépenses, action publique",
        "Transition écologique", "Organisation de l’Etat et des collectivités publiques"}
    assert sum(len(labs) > 1 for labs in themes.labels) == 1
    assert len({lab for labs in questions.labels for lab in labs}) >= 28
    assert len(proposals.ids) == 196
    assert all(q for q in themes.questions)  # the question column travels as an extra column
    assert REPO not in paths["themes"].parents


def test_merge_copies_merges_long_identical_texts_only():
    datasets = _benchmark_datasets()
    long_text = "Il faudrait réformer en profondeur le statut des élus locaux."
    frame = pd.DataFrame({
        "id": ["x-2", "x-3", "y-2", "y-3"],
        "text": [long_text, "Oui", long_text, "Oui"],
        "theme": ["A", "A", "B", "B"],
        "question": ["q1", "q1", "q2", "q2"],
    })
    merged = datasets.merge_copies(frame, "theme")
    assert list(merged["labels"]) == ["A|B", "A", "B"]
    assert list(merged["id"]) == ["x-2", "x-3", "y-3"]


def test_an_egalite_gold_file_is_read_as_64_answers_and_262_arguments():
    data = load_dataset(_benchmark_datasets().an_egalite_path())
    assert len(data.answers) == 64
    assert sum(len(a.arguments) for a in data.answers) == 262
    assert all(a.question for a in data.answers)


def test_paraphrase_pairs_point_at_existing_arguments():
    datasets = _benchmark_datasets()
    gold = pd.read_csv(datasets.AN_EGALITE, dtype=str, keep_default_na=False)
    sizes = gold.groupby("id").size()
    assert len(datasets.PARAPHRASE_PAIRS) == 99
    for answer, a, b, label in datasets.PARAPHRASE_PAIRS:
        assert a < b < sizes[str(answer)] and label in (0, 1)


# --- multi-label mapping (issue 18) --------------------------------------------------------------


def test_an_answer_gets_every_theme_its_arguments_fall_in_and_is_scored_on_the_set():
    from synthese.evaluate import multilabel_scores

    gold = [["école"], ["école", "santé"], ["santé"], ["transport"]]
    # Answer 1 has two arguments, one in each theme; answer 3's only argument is unassigned.
    answer_of = [0, 1, 1, 2, 3]
    predicted = [0, 0, 1, 1, -1]
    m = multilabel_scores(gold, answer_of, predicted, resamples=200)
    # Theme 0 reads as « école », theme 1 as « santé »: predicted sets {école}, {école,
    # santé}, {santé}, {} against 5 human labels: 4 hits, 4 made, 5 real.
    assert m.micro_f1 == pytest.approx(2 * 4 / (4 + 5))
    assert m.macro_f1 == pytest.approx((1 + 1 + 0) / 3)
    assert m.labels_per_answer == pytest.approx(4 / 4)
    assert m.micro_ci[0] <= m.micro_f1 <= m.micro_ci[1] and m.micro_ci[1] - m.micro_ci[0] > 0
    # One-label answers on both sides: 0 (école/école) and 2 (santé/santé) -> full agreement.
    assert m.alpha_answers == 2 and m.alpha == pytest.approx(1.0)
    wrong = multilabel_scores(gold, answer_of, [0, 1, 1, 0, -1], resamples=50)
    assert wrong.micro_f1 < m.micro_f1
