"""Traceability checks by code: supported sentences, citations, coverage (issue 6)."""

import numpy as np
from fakes import FakeLLM
from runs import run

from synthese.verify import best_themes, support

INVENTED = "Les enseignants exigent une prime annuelle de cinq cents euros versée par la mairie."


def test_support_reports_best_candidates_and_threshold():
    cands = np.eye(3, dtype=np.float32)
    sents = np.array([[0.9, 0.1, 0.0], [0.3, 0.3, 0.3]], dtype=np.float32)
    first, second = support(sents, cands, threshold=0.5)
    assert first.supported and first.best[0] == 0 and first.score == np.float32(0.9)
    assert not second.supported


def test_best_themes_picks_the_themes_of_the_closest_arguments():
    cands = np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32)
    themes, score = best_themes(np.array([0, 1], dtype=np.float32), np.array([0, 0, 1]), cands, 0.5)
    assert themes == [1] and score == 1.0


def _run(export, tmp_path, llm):
    return run(export, tmp_path, llm, pseudonymise=False)


def test_an_invented_summary_sentence_is_flagged_unsupported(small_export, tmp_path):
    p = _run(small_export, tmp_path, FakeLLM(invent=INVENTED))
    store = p.store()
    rows = store.query("SELECT text, supported, support, argument_ids FROM core.summary_sentences")
    planted = rows[rows["text"] == INVENTED]
    assert len(planted) >= 1 and not planted["supported"].any()
    others = rows[rows["text"] != INVENTED]
    assert others["supported"].all() and all(len(ids) > 0 for ids in others["argument_ids"])
    assert p.trust["summary_sentences_supported_share"] < 1.0
    html = p.report_path.read_text()
    assert "non étayée" in html
    stored = store.query("SELECT trust FROM core.runs WHERE run_id = ?", [p.run_id])["trust"][0]
    assert "summary_sentences_supported_share" in stored
    store.close()


def test_trust_figures_are_printed_and_stored(small_export, tmp_path):
    p = _run(small_export, tmp_path, FakeLLM())
    t = p.trust
    assert t["quotes_verified_share"] == 1.0 and t["quotes_exact_share"] == 1.0
    assert t["synthesis_sentences_cited_share"] == 1.0
    assert 0 < t["respondent_coverage"] <= 1.0
    text = "\n".join(p.lines())
    assert "citations vérifiées 100.0%" in text and "couverture des répondants" in text
    with p.store() as store:
        trace = store.query("SELECT * FROM marts.trace WHERE run_id = ?", [p.run_id])
    assert {"quote_start", "quote_end", "match_kind", "argument_flags", "cluster_id",
            "summary_key"} <= set(trace.columns)


def test_tidy_summary_undoes_loops_repeats_and_cut_sentences():
    from synthese.summarise import tidy_summary

    looping = ("L'IA aide les enseignants à l'école primaire, à l'école primaire, à l'école "
               "primaire, à l'école primaire. Elle inquiète les parents. Elle inquiète les "
               "parents. Les élèves doivent apprendre à pen")
    assert tidy_summary(looping) == ("L'IA aide les enseignants à l'école primaire. "
                                     "Elle inquiète les parents.")
    assert tidy_summary("Une seule phrase coupée par la limi") == "Une seule phrase coupée par la limi"
    assert tidy_summary("  Deux  phrases. Bien finies ! ") == "Deux phrases. Bien finies !"


def test_the_synthesis_keeps_each_sentence_once():
    import json

    from synthese.calls import CachedLLM
    from synthese.llm import LLMResult
    from synthese.prompts import load_prompt
    from synthese.summarise import synthesise

    same = "L'IA aide les enseignants à préparer les cours."
    reply = {"opportunites": [{"texte": same, "themes": [0]}, {"texte": same, "themes": [0]}],
             "risques": [{"texte": "La triche inquiète.", "themes": [1]}],
             "conditions": [{"texte": "Former les enseignants.", "themes": [1]}],
             "conclusion": [{"texte": same + " Tout dépendra des moyens.", "themes": [0, 1]}]}

    class Scripted(FakeLLM):
        def chat(self, messages, *, schema=None, max_tokens=512, temperature=0.0, seed=42):
            return LLMResult(json.dumps(reply, ensure_ascii=False), 10, 10, 0.01, "stop")

    themes = [{"cluster_id": 0, "share": 0.5, "title": "Préparation", "summary": same},
              {"cluster_id": 1, "share": 0.4, "title": "Triche", "summary": "La triche inquiète."}]
    draft = synthesise(themes, "Q ?", CachedLLM(Scripted()), load_prompt("synthesise", 1))
    sentences = draft.sentences
    assert draft.failure is None
    opportunities = [s.text for s in sentences if s.section == "opportunites"]
    assert opportunities == [same]
    # each section keeps its sentences: a repetition across sections stays visible
    assert [(s.paragraph, s.text) for s in sentences if s.section == "conclusion"] == [
        (0, same), (0, "Tout dépendra des moyens.")]


def test_a_theme_title_that_restates_the_question_is_replaced_by_code():
    from synthese.summarise import theme_title

    q = "Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements scolaires ?"
    args = ["Les élèves trichent avec ChatGPT.", "La triche avec ChatGPT explose.", "ChatGPT facilite la triche."]
    assert theme_title("L'usage de l'intelligence artificielle dans les établissements scolaires", q, args) \
        == "chatgpt · triche · élèves · trichent"
    assert theme_title(" La triche avec ChatGPT. ", q, args) == "La triche avec ChatGPT"
