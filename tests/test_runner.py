"""End to end through every stage, with the fake LLM and embedder, on a real DuckDB file."""

import re
import shutil
from dataclasses import dataclass, field

import pytest
from fakes import FakeEmbedder, FakeLLM
from marts_digest import run_costs_blanked
from runs import run as run_stages

from synthese.calls import CachedLLM
from synthese.llm import LLMError


@pytest.fixture(scope="module")
def pseudonymiser():
    from synthese.pseudonymise import Pseudonymiser

    return Pseudonymiser()


def run(export, tmp_path, llm, pseudonymiser, **kw):
    done = run_stages(export, tmp_path, llm, pseudonymiser=pseudonymiser, **kw)
    return done, done.report_path


def _body(html: str) -> str:
    # the run id, dates and durations differ between runs; the rest must not
    html = re.sub(r"\d{8}-\d{6}-[0-9a-f]{6}", "RUN", html)
    html = re.sub(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?", "DATE", html)
    # « Produit le 2 décembre 2026 à 7 h 52 »: the minute may turn between the two runs
    html = re.sub(r"\d{1,2} \w+ \d{4} à \d{1,2} h \d{2}", "DATE", html)
    html = run_costs_blanked(html)  # a rerun costs less: its kWh, tokens, time per 1,000 answers
    return re.sub(r"(\d+\s*min\s*)?\d+([.,]\d+)?(\s|&nbsp;)*s\b", "N s", html)


def test_every_answer_is_processed_blank_or_failed_and_counted(small_export, tmp_path, pseudonymiser):
    llm = FakeLLM()
    p, report = run(small_export, tmp_path, llm, pseudonymiser)
    c = p.counts
    assert (c["answers"], c["blank"], c["processed"], c["failed"]) == (10, 2, 8, 0)
    assert report.exists() and c["arguments"] > 0
    sent = " ".join(m["content"] for call in llm.calls for m in call["messages"][-1:])
    assert "Marie Curie" not in sent  # a blank answer is never sent


def test_second_run_makes_no_model_call_and_gives_the_same_report(small_export, tmp_path, pseudonymiser):
    _, first = run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    saved = first.read_text()
    llm = FakeLLM()
    p, second = run(small_export, tmp_path, llm, pseudonymiser)
    assert llm.calls == [] and p.calls_made == 0
    assert _body(second.read_text()) == _body(saved)


def test_reimporting_the_same_export_adds_no_row(small_export, tmp_path, pseudonymiser):
    _p, _ = run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    p2, _ = run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    assert p2.counts["new_answers"] == 0 and p2.counts["new_respondents"] == 0


def _with_one_more_answer(export, tmp_path, text):
    """A copy of ``export`` with respondent R11's answer ``text`` added."""
    bigger = tmp_path / "export2.csv"
    shutil.copy(export, bigger)
    with bigger.open("a", encoding="utf-8") as f:
        f.write(f"R11;Lille;2nd degré;Noé Brun;{text}\n")
    return bigger


@dataclass
class NoTitles(FakeLLM):
    """The fake LLM, failing every title it is asked (``asked``): a title asked again
    would come out as its fallback."""

    asked: list[str] = field(default_factory=list)

    def chat(self, messages, *, schema=None, **kw):
        if "titre" in (schema or {}).get("properties", {}):
            self.asked.append(messages[-1]["content"])
            raise LLMError("délai dépassé (modèle factice)")
        return super().chat(messages, schema=schema, **kw)


def test_new_answers_only_are_extracted_and_unchanged_themes_reuse_their_summary(
        small_export, tmp_path, pseudonymiser):
    run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    bigger = _with_one_more_answer(small_export, tmp_path, "Le coût écologique des serveurs "
                                   "d'IA est énorme. Les data centers consomment beaucoup d'eau.")
    llm = FakeLLM()
    p, _ = run(bigger, tmp_path, llm, pseudonymiser)
    extraction_calls = [c for c in llm.calls if "arguments" in (c["schema"] or {}).get("properties", {})]
    assert len(extraction_calls) == 1 and "écologique" in extraction_calls[0]["messages"][-1]["content"]
    assert p.counts["answers"] == 11 and p.counts["new_answers"] == 1


def test_new_answers_keep_the_themes_in_place_and_the_report_says_how_far(
        small_export, tmp_path, pseudonymiser):
    first, _ = run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    # The added answer says again the quote of an argument of a theme (the words arguments
    # are placed by: the fake embedder gives them the same vector), so that it has a theme to
    # join whatever the first run made. Themes are made within a kind: the argument is of its
    # theme's main kind, and its kind did not come from its neighbours (said alone, it would
    # be of another kind).
    with first.store() as store:
        themed = store.query(
            "SELECT g.quote, g.kind, a.cluster_id FROM core.assignments a "
            "JOIN core.arguments g USING (argument_id) WHERE a.cluster_id >= 0 "
            "AND g.quote NOT LIKE '%[%' AND NOT list_contains(g.flags, 'nature_du_contexte') "
            "ORDER BY g.quote")
    main_kind = themed.groupby("cluster_id")["kind"].agg(lambda k: k.mode().iloc[0])
    themed = themed[themed["kind"] == themed["cluster_id"].map(main_kind)]["quote"]
    assert len(themed), "the first run made no theme"
    bigger = _with_one_more_answer(small_export, tmp_path, themed.iloc[0])
    logs: list[str] = []
    llm = NoTitles()

    second, report = run(bigger, tmp_path, llm, pseudonymiser, log=logs.append)
    with second.store() as store:
        ids = list(store.query("SELECT clustering_id FROM core.clusterings "
                               "ORDER BY created_at, n_arguments")["clustering_id"])
        assert len(ids) == 2
        before, after = (store.assignments(i).set_index("argument_id")["cluster_id"] for i in ids)
        continuity = store.clustering_params(ids[1])["continuity"]
        titles = [dict(store.query(
            "SELECT c.cluster_id, s.title FROM core.clusters c JOIN core.latest_summaries s "
            "USING (members_key) WHERE c.clustering_id = ? AND c.cluster_id >= 0",
            [i]).itertuples(index=False)) for i in ids]
    assert continuity["previous_clustering_id"] == ids[0] and continuity["new_arguments"] >= 1
    # Every argument of the first run keeps its theme id; the new one joins a theme.
    assert (after[before.index] == before).all() and continuity["kept_share"] == 1.0
    changes = continuity["changes"]
    changed = {*changes["created"], *map(int, changes["merged"]), *map(int, changes["split"])}
    kept = [cid for cid in titles[0] if cid not in changed]
    # The new argument joined a theme (so its summary is made again), yet no title was asked.
    grown = [cid for cid in titles[0] if (after == cid).sum() > (before == cid).sum()]
    assert grown and llm.asked == []
    assert kept and all(titles[1][cid] == titles[0][cid] for cid in kept)
    assert any("Thèmes gardés en place" in line for line in logs)
    assert "gardent le leur" in report.read_text("utf-8")


def test_a_new_version_of_the_kind_rules_keeps_the_themes_and_their_titles(
        small_export, tmp_path, pseudonymiser, monkeypatch):
    # An upgrade that changes the kind rules' version gives every idea a new id (the id
    # hashes the extractor's key). The ideas that rest on the same words keep their themes,
    # and the themes their titles: before, the next run found no previous clustering and
    # drew and titled every theme again.
    import synthese.extract

    run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    monkeypatch.setattr(synthese.extract, "KIND_RULES", synthese.extract.KIND_RULES + 1)
    llm = NoTitles()

    second, _ = run(small_export, tmp_path, llm, pseudonymiser)
    with second.store() as store:
        ids = list(store.query("SELECT clustering_id FROM core.clusterings "
                               "ORDER BY created_at")["clustering_id"])
        extractors = store.query("SELECT DISTINCT extractor_key FROM core.arguments")
        continuity = store.clustering_params(ids[-1]).get("continuity")
        titles = [sorted(store.query(
            "SELECT s.title FROM core.clusters c JOIN core.latest_summaries s "
            "USING (members_key) WHERE c.clustering_id = ? AND c.cluster_id >= 0",
            [i])["title"]) for i in ids]
    assert len(ids) == 2 and len(extractors) == 2
    assert continuity and continuity["previous_clustering_id"] == ids[0]
    assert continuity["kept_share"] == 1.0 and continuity["new_arguments"] == 0
    assert llm.asked == [] and titles[1] == titles[0] and titles[0]


def test_model_failures_are_counted_with_reason_and_retried_next_run(small_export, tmp_path, pseudonymiser):
    p, _ = run(small_export, tmp_path, FakeLLM(fail=10**6), pseudonymiser)
    assert p.counts["failed"] == 8 and p.counts["processed"] == 0
    with p.store() as store:
        reasons = store.query("SELECT DISTINCT reason FROM core.extractions")["reason"]
    assert all("échec" in r for r in reasons)
    p2, _ = run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    assert p2.counts["failed"] == 0 and p2.counts["processed"] == 8


def test_marts_expose_answers_arguments_clusters_synthesis_and_trace(small_export, tmp_path, pseudonymiser):
    p, _ = run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    from synthese.storage import Store

    with Store(tmp_path / "s.duckdb") as store:
        answers = store.query("SELECT * FROM marts.answers")
        assert {"answer_id", "respondent_id", "question", "text", "academie", "degre"} <= set(answers.columns)
        assert "nom" not in answers.columns
        args = store.query("SELECT * FROM marts.arguments")
        assert {"argument_id", "answer_id", "text", "kind", "quote", "quote_start", "quote_end",
                "quote_score", "flags"} <= set(args.columns)
        joined = store.query("SELECT a.text, g.quote, g.quote_start, g.quote_end FROM marts.arguments g "
                             "JOIN marts.answers a USING (answer_id) WHERE g.quote IS NOT NULL")
        assert len(joined) and all(t[s:e] == q for t, q, s, e in joined.itertuples(index=False))
        clusters = store.query("SELECT * FROM marts.clusters WHERE run_id = ?", [p.run_id])
        assert {"run_id", "cluster_id", "label", "summary", "n_arguments", "n_respondents"} <= set(clusters.columns)
        assert clusters["n_arguments"].sum() == len(args)
        synthesis = store.query("SELECT * FROM marts.synthesis WHERE run_id = ?", [p.run_id])
        assert {"opportunites", "risques", "conditions", "conclusion"} <= set(synthesis["section"])
        trace = store.query("SELECT * FROM marts.trace WHERE run_id = ?", [p.run_id])
        assert len(trace) == len(args)


def test_no_personal_data_outside_raw(small_export, tmp_path, pseudonymiser):
    _p, report = run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    secrets = ["eva.roux@ac-creteil.fr", "06 12 34 56 78", "Jean Martin", "Paul Durand", "Léa Gris"]
    from synthese.storage import Store

    with Store(tmp_path / "s.duckdb") as store:
        tables = store.query("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_schema <> 'raw'")
        for schema, table in tables.itertuples(index=False):
            dump = store.query(f'SELECT * FROM {schema}."{table}"').to_csv()
            for secret in secrets:
                assert secret not in dump, (secret, schema, table)
        raw = store.query("SELECT * FROM raw.respondents").to_csv()
        assert "Jean Martin" in raw  # kept in raw only, as imported
    html = report.read_text()
    for secret in secrets:
        assert secret not in html


def test_progress_goes_to_the_log_when_stderr_is_not_a_terminal():
    from synthese.progress import Progress

    lines: list[str] = []
    with Progress(25, "Extraction", True, lines.append) as bar:
        for _ in range(25):
            bar.advance()
    # one line per tenth of the work (every 3 items of 25), and the last one
    assert len(lines) == 9
    assert lines[0].startswith("Extraction : 3/25 (12%)")
    assert lines[-1].startswith("Extraction : 25/25 (100%)")
    silent: list[str] = []
    with Progress(25, "Extraction", False, silent.append) as bar:
        bar.advance()
    assert silent == []


class SomeSummariesFailLLM(FakeLLM):
    """Extracts and synthesises, but the first theme summary asked for comes back as
    broken JSON at both tries of a run (greedy, then sampled with seed 43)."""

    first: object = None

    def chat(self, messages, *, schema=None, max_tokens=512, temperature=0.0, seed=42):
        if schema and "resume" in schema.get("properties", {}):
            self.first = self.first or messages
            if messages == self.first and seed in (42, 43):
                from synthese.llm import LLMResult

                self.calls.append({"messages": messages, "schema": schema})
                return LLMResult('{"resume": "Thè', 10, 5, 0.01, "length")
        return super().chat(messages, schema=schema, max_tokens=max_tokens)


TOPICS = ["Les élèves trichent avec ChatGPT pendant les devoirs maison",
          "La formation continue des enseignants manque cruellement",
          "Les données personnelles des élèves partent chez des entreprises américaines",
          "Le réseau wifi du collège tombe en panne chaque semaine"]


def topics_export(tmp_path, topics, more=()):
    """An export of 12 answers on each of ``topics`` (then the rows ``more``), which the
    fake embedder groups in one theme per topic."""
    rows = ["id;q"] + [f"R{t}{i};{text} ({i} fois cette année)." for t, text in enumerate(topics)
                       for i in range(12)] + list(more)
    export = tmp_path / "export.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return export


def test_failed_theme_summaries_do_not_stop_the_run(tmp_path, pseudonymiser):
    from synthese.storage import Store

    export = topics_export(tmp_path, TOPICS)
    _, report = run(export, tmp_path, SomeSummariesFailLLM(), pseudonymiser)
    assert report.exists()
    store = Store(tmp_path / "s.duckdb", read_only=True)
    rows = store.query("SELECT summary_key, failure, title, summary FROM core.summaries")
    failed = rows[rows["failure"].notna()]
    assert len(failed) and len(failed) < len(rows)
    # every theme is titled, and a failed summary falls back to the theme's central ideas
    assert rows["title"].str.len().gt(0).all() and rows["summary"].str.len().gt(0).all()
    sentences = store.query("SELECT summary_key, origin FROM core.summary_sentences")
    fallback = sentences[sentences["summary_key"].isin(failed["summary_key"])]
    assert len(fallback) and (fallback["origin"] == "argument").all()
    assert "nan" not in re.sub(r"<script.*?</script>", "", report.read_text("utf-8"), flags=re.DOTALL).split()


def test_the_summaries_are_asked_before_the_titles_and_each_call_is_counted_once(
        tmp_path, pseudonymiser):
    # llama.cpp reuses the part of a prompt it has just read, and a title prompt and a
    # summary prompt share nothing but their first template tokens (stages._summaries_first)
    export = topics_export(tmp_path, TOPICS)
    llm = FakeLLM()
    done, _ = run(export, tmp_path, llm, pseudonymiser)
    asked = ["titre" if "titre" in str(c["schema"]) else "resume" if "resume" in str(c["schema"])
             else "autre" for c in llm.calls]
    summaries = [i for i, a in enumerate(asked) if a == "resume"]
    titles = [i for i, a in enumerate(asked) if a == "titre"]
    assert len(summaries) >= 2 and len(titles) >= 2
    assert max(summaries) < min(titles)
    # each call counted once, as made: the titles' loop finds the summaries in the cache
    stage = done.row["tokens"]["by_stage"]["summary"]
    assert (stage["calls"], stage["reused"]) == (len(summaries) + len(titles), 0)
    assert done.calls_made == len(llm.calls)


def test_a_theme_of_brief_answers_is_summed_up_by_code_not_by_the_model(tmp_path, pseudonymiser):
    from synthese.storage import Store

    # Answers of a few words, none of which the fake embedder tells apart: one theme.
    brief = ["Très bien.", "Pas pour.", "Tout à fait.", "Pas du tout.", "Pour.", "Bien.",
             "Comme ça.", "Et vous ?", "Pas pour nous.", "Aussi."]
    export = topics_export(tmp_path, TOPICS[:3], [f"B{i};{b}" for i, b in enumerate(brief * 2)])
    llm = FakeLLM()
    _, report = run(export, tmp_path, llm, pseudonymiser)
    store = Store(tmp_path / "s.duckdb", read_only=True)
    summaries = store.query("SELECT summary_key, title, title_origin, summary, call_keys "
                            "FROM core.summaries")
    brief_rows = summaries[summaries["title"].str.startswith("Réponses brèves")]
    assert len(brief_rows) == 1 and len(summaries) > 1
    theme = brief_rows.iloc[0]
    # No model call for its title or its summary: code counts how its answers lean.
    assert theme["title_origin"] == "code" and len(theme["call_keys"]) == 0
    # nor asked ahead of the titles (stages._summaries_first): no summary call shows its answers
    asked = [str(c["messages"]) for c in llm.calls if "resume" in str(c["schema"])]
    assert asked and not any("Pas du tout" in m or "Tout à fait" in m for m in asked)
    assert re.fullmatch(r"\d+ réponses de quelques mots, sans développer : .+\.",
                        theme["summary"])
    sentences = store.query("SELECT origin, supported FROM core.summary_sentences "
                            "WHERE summary_key = ?", [theme["summary_key"]])
    assert len(sentences) and (sentences["origin"] == "code").all() and sentences["supported"].all()
    # The other themes are still summed up by the model, and the report marks code's sentence.
    others = summaries[summaries["summary_key"] != theme["summary_key"]]
    assert all(len(k) for k in others["call_keys"])
    html = report.read_text("utf-8")
    assert "réponses de quelques mots, sans développer" in html
    assert 'Phrase écrite par le code à partir des réponses du thème' in html
    # A reviewer who asks for its summary again gets code's, as in the run, with no call.
    from synthese import stages

    store.close()
    llm = FakeLLM()
    with Store(tmp_path / "s.duckdb") as writable:
        view = stages.load_review(writable)
        cid = int(view.rows.themes.loc[view.rows.themes["title"].str.startswith(
            "Réponses brèves"), "cluster_id"].iloc[0])
        other = int(view.rows.themes.loc[view.rows.themes["cluster_id"] >= 0, "cluster_id"]
                    .loc[lambda ids: ids != cid].iloc[0])
        again = stages.regenerate_summary(writable, CachedLLM(llm), FakeEmbedder(), view, cid)
        assert llm.calls == []
        assert again["origin"] == "code" and again["summary"] == theme["summary"]
        assert {s["origin"] for s in again["sentences"]} == {"code"}
        # another theme is still summed up by the model
        assert stages.regenerate_summary(writable, CachedLLM(llm), FakeEmbedder(), view,
                                         other)["origin"] == "modele"
        assert llm.calls


class LazyFakeLLM:
    """Like llm.LazyLLM: its identity is known at once, the model loads on first use."""

    backend, model_name, model_id, model_sha256, context_size = (
        "fake", "fake-llm", "fake:fake-llm:v1", None, 4096)

    def __init__(self):
        self.loads = 0
        self._llm = None

    def _load(self):
        if self._llm is None:
            self.loads += 1
            self._llm = FakeLLM()
        return self._llm

    def chat(self, messages, **kwargs):
        return self._load().chat(messages, **kwargs)

    def count_tokens(self, text):
        return self._load().count_tokens(text)

    def close(self):
        pass


def test_a_rerun_with_nothing_new_loads_no_model(small_export, tmp_path, pseudonymiser, monkeypatch):
    first = LazyFakeLLM()
    run_stages(small_export, tmp_path, first, pseudonymiser=pseudonymiser)
    assert first.loads == 1

    import synthese.pseudonymise

    def no_spacy(*args, **kwargs):
        raise AssertionError("the pseudonymiser was loaded")

    monkeypatch.setattr(synthese.pseudonymise, "Pseudonymiser", no_spacy)
    again, embedder = LazyFakeLLM(), FakeEmbedder()
    done = run_stages(small_export, tmp_path, again, embedder=embedder)
    assert again.loads == 0 and embedder.calls == 0
    assert done.calls_made == 0 and done.counts["processed"] == 8
    assert done.report_path.exists()


def test_a_failed_synthesis_is_tried_again_as_a_new_attempt(small_export, tmp_path, pseudonymiser):
    class NoSynthesis(FakeLLM):
        def chat(self, messages, *, schema=None, **kwargs):
            if schema and "phrase" in schema.get("properties", {}):
                from synthese.llm import LLMError

                raise LLMError("serveur arrêté")
            return super().chat(messages, schema=schema, **kwargs)

    # The « composee » mode asks the model a sentence per theme (the default asks none).
    run(small_export, tmp_path, NoSynthesis(), pseudonymiser, synthesis="composee")
    p, _ = run(small_export, tmp_path, FakeLLM(), pseudonymiser, synthesis="composee")
    with p.store() as store:
        attempts = store.query("SELECT attempt, failure FROM core.syntheses ORDER BY attempt")
        shown = store.query("SELECT count(*) AS n FROM marts.synthesis_sentences WHERE run_id = ?",
                            [p.run_id])["n"][0]
    # the failure stays on record; the second run's synthesis is a new attempt, and it is shown
    assert list(attempts["attempt"]) == [1, 2]
    assert attempts["failure"][0] and attempts["failure"].isna()[1]
    assert shown > 0


def test_themes_and_their_checks_use_the_vectors_of_the_quotes(small_export, tmp_path, pseudonymiser):
    import dataclasses
    import json

    from synthese.keys import content_hash
    from synthese.storage import Store

    class Rewording(FakeLLM):
        """Reformulates each idea in other words than its segment's."""

        def chat(self, messages, **kwargs):
            result = super().chat(messages, **kwargs)
            data = json.loads(result.text)
            for idea in data.get("arguments", []):
                idea["idee"] = "Au fond : " + idea["idee"].lower()
            return dataclasses.replace(result, text=json.dumps(data, ensure_ascii=False))

    run(small_export, tmp_path, Rewording(), pseudonymiser)
    with Store(tmp_path / "s.duckdb") as store:
        args = store.query("SELECT text, quote FROM core.arguments")
        stored = set(store.query("SELECT text_hash FROM core.embeddings")["text_hash"])
    assert {content_hash(q) for q in args["quote"]} == stored
    reworded = args[args["text"] != args["quote"]]
    assert len(reworded) and not {content_hash(t) for t in reworded["text"]} & stored


def test_themes_are_placed_without_the_questions_subject_and_checked_on_whole_quotes(
        small_export, tmp_path, pseudonymiser):
    from synthese.cluster import placement_texts
    from synthese.keys import content_hash
    from synthese.storage import Store

    asked = "Que pensez-vous de l'usage de l'intelligence artificielle dans les établissements ?"
    done, _ = run(small_export, tmp_path, FakeLLM(), pseudonymiser, question_texts=(asked,))
    with Store(tmp_path / "s.duckdb") as store:
        quotes = list(store.query("SELECT quote FROM core.arguments")["quote"])
        stored = set(store.query("SELECT text_hash FROM core.embeddings")["text_hash"])
        params = store.clustering_params(done.row["clustering_id"])
    # « IA » (« intelligence artificielle ») and « usage », each said in a tenth of the
    # quotes or more, are left out of the placement; « établissements » is said in none.
    # The whole quotes are embedded too, for every check against the themes.
    assert params["subject_terms"] == ["IA", "usage"]
    placed = placement_texts(quotes, ["IA", "usage"])
    assert sum(p != q for p, q in zip(placed, quotes, strict=True)) >= 2
    assert {content_hash(t) for t in quotes + placed} == stored
    # without the question's text, nothing is left out and nothing more is embedded
    again, _ = run(small_export, tmp_path / "plain", FakeLLM(), pseudonymiser)
    with Store(tmp_path / "plain" / "s.duckdb") as store:
        assert store.clustering_params(again.row["clustering_id"])["subject_terms"] == []
        assert len(store.query("SELECT text_hash FROM core.embeddings")) == len(set(quotes))


# --- respondent identity (issue 16) -------------------------------------------------------


def test_two_exports_without_id_column_are_never_merged(tmp_path, pseudonymiser):
    # the issue's case: both exports have rows 2 and 3, which were the respondents' ids
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("code;reponse\nA1;Les élèves trichent.\nA2;L'IA aide à préparer.\n",
                     encoding="utf-8")
    second.write_text("code;reponse\nB1;Il faut former les enseignants.\nB2;Le coût est "
                      "énorme.\n", encoding="utf-8")
    run(first, tmp_path, FakeLLM(), pseudonymiser, questions=("reponse",), id_column=None)
    done, _ = run(second, tmp_path, FakeLLM(), pseudonymiser, questions=("reponse",),
                  id_column=None)
    assert done.counts["respondents"] == 4 and done.counts["new_respondents"] == 2
    with done.store() as store:
        assert store.scalar("SELECT count(*) FROM raw.respondents") == 4
        # each answer belongs to a respondent of its own export
        assert store.scalar("SELECT count(*) FROM raw.answers a JOIN raw.respondents r "
                            "USING (respondent_id) WHERE r.import_id <> a.import_id") == 0
        shown = store.query("SELECT code, text FROM marts.answers ORDER BY code")
    assert shown.values.tolist() == [
        ["A1", "Les élèves trichent."], ["A2", "L'IA aide à préparer."],
        ["B1", "Il faut former les enseignants."], ["B2", "Le coût est énorme."]]


def test_the_same_export_again_without_id_column_meets_its_own_respondents(
        tmp_path, pseudonymiser):
    export = tmp_path / "a.csv"
    export.write_text("reponse\nLes élèves trichent.\nL'IA aide à préparer.\n", encoding="utf-8")
    run(export, tmp_path, FakeLLM(), pseudonymiser, questions=("reponse",), id_column=None)
    done, _ = run(export, tmp_path, FakeLLM(), pseudonymiser, questions=("reponse",),
                  id_column=None)
    assert done.counts["respondents"] == 2 and done.counts["new_answers"] == 0


def _values_outside_raw(store) -> str:
    """Every value of every table and view outside the raw layer, as one text."""
    tables = store.query("SELECT schema_name, table_name FROM duckdb_tables() "
                         "WHERE schema_name <> 'raw' UNION ALL SELECT schema_name, view_name "
                         "FROM duckdb_views() WHERE schema_name IN ('staging', 'core', 'marts') "
                         "AND NOT internal")
    return "\n".join(store.query(f'SELECT * FROM {s}."{t}"').to_csv(index=False)
                     for s, t in tables.itertuples(index=False))


def test_an_id_column_of_emails_stays_raw_and_the_user_is_told(tmp_path, pseudonymiser):
    emails = ["a.martin@example.org", "paul.durand@ac-lyon.fr", "eva.roux@ac-creteil.fr"]
    export = tmp_path / "forms.csv"
    export.write_text("Horodateur,Adresse e-mail,avis\n" + "".join(
        f"2024-03-0{i},{e},\"L'IA aide à préparer les cours, dit le répondant {i}.\"\n"
        for i, e in enumerate(emails, start=1)), encoding="utf-8")
    lines: list[str] = []
    done, report = run(export, tmp_path, FakeLLM(), pseudonymiser, questions=("avis",),
                       id_column="Adresse e-mail", log=lines.append)
    assert any("« Adresse e-mail » contient des données personnelles" in line for line in lines)
    with done.store() as store:
        outside = _values_outside_raw(store)
        staged = store.query("SELECT respondent_id FROM staging.respondents")["respondent_id"]
        assert store.scalar("SELECT count(*) FROM raw.respondents WHERE respondent_id IN "
                            "(SELECT unnest(?::VARCHAR[]))", [emails]) == 3
    assert not any(e in outside or e.split("@")[0] in outside for e in emails)
    assert all(re.fullmatch(r"R-[0-9a-f]{16}", r) for r in staged)
    html = report.read_text("utf-8")
    assert not any(e.split("@")[0] in html for e in emails)
    # a second export with the same emails meets the same respondents
    again = tmp_path / "forms2.csv"
    again.write_text(export.read_text("utf-8") + "2024-03-04,z.autre@example.org,Former les "
                     "enseignants.\n", encoding="utf-8")
    second, _ = run(again, tmp_path, FakeLLM(), pseudonymiser, questions=("avis",),
                    id_column="Adresse e-mail")
    assert second.counts["respondents"] == 4 and second.counts["new_respondents"] == 1


def test_an_id_column_of_names_is_found_by_the_pseudonymiser(tmp_path, pseudonymiser):
    export = tmp_path / "export.csv"
    export.write_text("identifiant;avis\nJean Martin;L'IA aide.\nMarie Curie;Les élèves "
                      "trichent.\n", encoding="utf-8")
    done, report = run(export, tmp_path, FakeLLM(), pseudonymiser, questions=("avis",),
                       id_column="identifiant")
    with done.store() as store:
        outside = _values_outside_raw(store)
    assert "Martin" not in outside and "Curie" not in outside
    assert "Martin" not in report.read_text("utf-8")


def test_the_report_names_respondents_by_label_never_by_an_id_of_the_export(
        small_export, tmp_path, pseudonymiser):
    done, report = run(small_export, tmp_path, FakeLLM(), pseudonymiser)
    html = report.read_text("utf-8")
    assert not re.search(r"\bR\d{1,2}\b", html)  # the export's ids R1…R10
    assert len(set(re.findall(r"Répondant (R-[0-9a-f]{8})", html))) == 8
    with done.store() as store:  # analysts still find the export's ids in the marts
        ids = set(store.query("SELECT respondent_id FROM marts.answers")["respondent_id"])
    assert ids == {f"R{i}" for i in range(1, 11)}
