"""A person reviews: events -> reviewed rows with counts recomputed, the append-only trail,
and carrying a review over to the next run. On a real run of the demo (fake LLM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runs import run

from synthese.review import (
    NEW_THEME_BASE,
    ReviewError,
    apply_events,
    carry_over,
    state_rows,
)
from synthese.stages import load_review, publish_review, share_base, store_review
from synthese.storage import Store

DEMO = Path(__file__).resolve().parents[1] / "data/raw/demo_enseignants_ia.csv"
WHO = "Inès Martin"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    return run(DEMO, tmp, questions=("q_usage_ia",), id_column="id_reponse", limit=80)


@pytest.fixture(scope="module")
def view(demo):
    with Store(demo.settings.db, read_only=True) as store:
        return load_review(store, demo.run_id)


def ev(action, target=None, after=None, before=None, note=None, who=WHO, seq=None):
    return {"action": action, "target": json.dumps(target or {}), "after": json.dumps(after or {}),
            "before": json.dumps(before or {}), "note": note, "reviewer": who,
            "made_at": "2026-12-02T10:00:00", "seq": seq}


def recorded(*events):
    """Events as a run's review stores them: numbered in order (``seq`` from 1), each with
    its ``event_id``."""
    return [{**e, "seq": i + 1, "event_id": f"e{i}"} for i, e in enumerate(events)]


def themes_of(rows):
    return {int(t.cluster_id): t for t in rows.themes.itertuples(index=False)}


def two_themes(view):
    ids = [int(c) for c in view.base.themes["cluster_id"] if c >= 0]
    return ids[0], ids[1]


def n_resp(view):
    return share_base(view.described)


def test_without_events_the_recount_gives_back_what_the_method_published(view):
    rows, state = apply_events(view.base, [], n_resp(view))
    assert not state.status()["reviewed"] and state.n_changes == 0
    base, got = themes_of(view.base), themes_of(rows)
    assert list(rows.themes["cluster_id"]) == list(view.base.themes["cluster_id"])
    for cid, t in base.items():
        g = got[cid]
        assert (g.n_arguments, g.n_respondents) == (t.n_arguments, t.n_respondents)
        assert g.share_respondents == pytest.approx(t.share_respondents)
        assert json.loads(g.kinds) == json.loads(t.kinds)
        assert list(g.quote_argument_ids) == list(t.quote_argument_ids)


def test_merge_split_move_and_hide_recount_members_respondents_and_shares(view):
    a, b = two_themes(view)
    args = view.base.arguments
    in_a = args[args["cluster_id"] == a]
    moved, hidden = list(in_a["argument_id"].iloc[:2]), in_a["argument_id"].iloc[2]
    events = [ev("merge", {"cluster_id": a, "other": b}, {"title": "Thèmes réunis"}),
              ev("split", {"cluster_id": a, "argument_ids": moved},
                 {"cluster_id": NEW_THEME_BASE, "title": "Nouveau thème"}),
              ev("hide", {"argument_ids": [hidden]}, {"reason": "hors_sujet"})]
    rows, state = apply_events(view.base, events, n_resp(view))
    got = themes_of(rows)
    assert b not in got and got[a].title == "Thèmes réunis"
    n_ab = int(((args["cluster_id"] == a) | (args["cluster_id"] == b)).sum())
    assert got[a].n_arguments == n_ab - 2 - 1 and got[NEW_THEME_BASE].n_arguments == 2
    merged = rows.arguments[rows.arguments["cluster_id"] == a]
    assert got[a].n_respondents == merged["respondent_id"].nunique()
    assert got[a].share_respondents == pytest.approx(got[a].n_respondents / n_resp(view))
    assert hidden not in set(rows.arguments["argument_id"]) and hidden in state.hidden
    assert len(rows.arguments) == len(args) - 1
    # no synthesis sentence cites the theme that was merged away
    assert all(b not in ids for ids in rows.synthesis_sentences["cluster_ids"])
    assert state.changes == {"merge": 1, "split": 1, "hide": 1}
    assert NEW_THEME_BASE in state.stale_summaries and a in state.stale_summaries
    # the biggest theme comes first, « autres » last
    sizes = [int(t.n_respondents) for t in rows.themes.itertuples() if t.cluster_id >= 0]
    assert sizes == sorted(sizes, reverse=True) and rows.themes["cluster_id"].iloc[-1] < 0


def test_a_change_resets_the_validation_of_the_theme_and_of_the_synthesis(view):
    a, b = two_themes(view)
    arg = view.base.arguments[view.base.arguments["cluster_id"] == b]["argument_id"].iloc[0]
    ok = [ev("validate_theme", {"cluster_id": a}), ev("validate_theme", {"cluster_id": b}),
          ev("validate_synthesis")]
    _, state = apply_events(view.base, ok, n_resp(view))
    assert set(state.validated_themes) == {a, b} and state.status()["validated_by"] == WHO
    _, state = apply_events(view.base, ok + [ev("move", {"cluster_id": a, "argument_ids": [arg]})],
                            n_resp(view))
    assert state.validated_themes == {} and state.synthesis_validated is None


def test_sentences_are_edited_deleted_and_added_with_their_citations(view):
    a, _ = two_themes(view)
    first = view.base.synthesis_sentences.iloc[0]
    where = {"section": first.section, "paragraph": int(first.paragraph),
             "position": int(first.position)}
    events = [ev("edit_sentence", where, {"text": "Une phrase revue.", "cluster_ids": [a],
                                          "support": 0.7, "supported": True},
                 {"text": first.text}),
              ev("add_sentence", {"section": "risques"},
                 {"text": "Une phrase ajoutée.", "cluster_ids": [a], "support": 0.2,
                  "supported": False})]
    rows, state = apply_events(view.base, events, n_resp(view))
    s = rows.synthesis_sentences
    edited = s[s["text"] == "Une phrase revue."].iloc[0]
    assert list(edited.cluster_ids) == [a] and edited.origin == "relecteur"
    assert first.text not in set(s["text"]) and "Une phrase ajoutée." in set(s["text"])
    n = len(s)
    rows, _ = apply_events(view.base, events + [ev("delete_sentence", {
        "section": edited.section, "paragraph": int(edited.paragraph),
        "position": int(edited.position)})], n_resp(view))
    assert len(rows.synthesis_sentences) == n - 1
    assert state.status()["changes"][0]["label"] in ("phrase ajoutée", "phrase modifiée")


def test_an_event_on_a_theme_that_is_gone_is_refused_in_french(view):
    a, b = two_themes(view)
    with pytest.raises(ReviewError, match="n'existe pas"):
        apply_events(view.base, [ev("merge", {"cluster_id": a, "other": b}),
                                 ev("rename", {"cluster_id": b}, {"title": "x"})], n_resp(view))


def test_events_are_appended_never_rewritten_and_the_marts_show_the_reviewed_state(demo, view):
    a, b = two_themes(view)
    with Store(demo.settings.db) as store:
        for events in ([ev("rename", {"cluster_id": a}, {"title": "Titre du relecteur"})],
                       [ev("merge", {"cluster_id": a, "other": b})]):
            current = load_review(store, demo.run_id)
            events = [{**e, "run_id": demo.run_id, "seq": None} for e in events]
            rows, state = apply_events(current.base, current.events + events, n_resp(view))
            store.append_review([{k: v for k, v in e.items() if k != "seq"} for e in events],
                                state_rows(rows, state, current.base.arguments))
        trail = store.query("SELECT * FROM marts.review_events ORDER BY seq")
        clusters = store.query("SELECT * FROM marts.clusters WHERE run_id = ?", [demo.run_id])
        trace = store.query("SELECT * FROM marts.trace WHERE run_id = ?", [demo.run_id])
        reviewed = load_review(store, demo.run_id)
        path = publish_review(reviewed)
    assert list(trail["action"]) == ["rename", "merge"] and set(trail["reviewer"]) == {WHO}
    assert trail["seq"].is_monotonic_increasing and trail["event_id"].is_unique
    assert clusters["reviewed"].all() and b not in set(clusters["cluster_id"])
    row = clusters[clusters["cluster_id"] == a].iloc[0]
    assert row["label"] == "Titre du relecteur"
    assert row["n_arguments"] == int((trace["cluster_id"] == a).sum())
    html = path.read_text("utf-8")
    assert "Titre du relecteur" in html and "Brouillon en cours de relecture" in html
    assert "1\u00a0thème renommé" in html or "1&nbsp;thème renommé" in html


def test_the_themes_by_segment_follow_the_review_in_the_marts(demo, view):
    """After a merge, marts.theme_segments (and the workbook's « Thèmes par groupe », read
    from it) counts the merged theme by segment of each closed question, not the run's."""
    ids = [int(c) for c in view.base.themes["cluster_id"] if c >= 0]
    c, d = ids[2], ids[3]  # themes no other test of this module reviews

    def theme_rows(store):
        got = store.query("SELECT * FROM marts.theme_segments WHERE run_id = ? "
                          "AND cluster_id IS NOT NULL", [demo.run_id])
        return got, {(r.question, r.segment, int(r.cluster_id)): r
                     for r in got.itertuples(index=False)}

    with Store(demo.settings.db) as store:
        before, old = theme_rows(store)
        current = load_review(store, demo.run_id)
        event = {**ev("merge", {"cluster_id": c, "other": d}), "run_id": demo.run_id}
        event.pop("seq")
        store_review(store, current, [event])
        after, new = theme_rows(store)
        workbook = store.run_marts(demo.run_id, ["q_usage_ia"])["theme_segments"]
    assert not before["reviewed"].any() and len(before)
    assert after["reviewed"].all() and d not in set(after["cluster_id"])
    grew = 0
    for (question, segment, cid), row in new.items():
        if cid != c or (question, segment, c) not in old:
            continue
        was_c, was_d = old[(question, segment, c)], old.get((question, segment, d))
        with_d = was_d.n_with if was_d is not None else 0
        assert row.n_respondents == was_c.n_respondents
        assert max(was_c.n_with, with_d) <= row.n_with <= was_c.n_with + with_d
        grew += row.n_with > was_c.n_with
    assert grew, "the merged theme counts the respondents of the other theme"
    assert workbook["cluster_id"].notna().sum() == len(after)  # and the rows by kind
    assert set(workbook["reviewed"]) == {True} and set(workbook["kind"].dropna())


def test_a_review_is_carried_over_to_a_run_that_lost_an_argument(view):
    a, b = two_themes(view)
    args = view.base.arguments
    gone = args[args["cluster_id"] == b]["argument_id"].iloc[0]
    hidden = args[args["cluster_id"] == a]["argument_id"].iloc[0]
    old = recorded(ev("rename", {"cluster_id": a}, {"title": "Renommé"}),
                   ev("hide", {"argument_ids": [hidden]}, {"reason": "faux"}),
                   ev("validate_theme", {"cluster_id": a}),
                   ev("validate_theme", {"cluster_id": b}))
    # the next run: the same themes, one argument of b no longer there
    new_args = args[args["argument_id"] != gone]
    new_rows = type(view.base)(**{**view.base.__dict__, "arguments": new_args})
    carried = carry_over(view.base, old, new_rows, "old-run", "new-run", "2026-12-02T11:00:00")
    actions = [e["action"] for e in carried.events]
    assert actions.count("rename") == 1 and actions.count("hide") == 1
    assert all(e["run_id"] == "new-run" and e["origin_event_id"] for e in carried.events)
    # a keeps its validation (same members); b changed, so its validation is to be redone
    assert actions.count("validate_theme") == 1
    assert any("validation du thème" in m for m in carried.not_carried)
    assert any("1 en moins" in c for c in carried.changed_themes)
    rows, state = apply_events(new_rows, carried.events, n_resp(view))
    assert themes_of(rows)[a].title == "Renommé" and hidden in state.hidden
    assert set(state.validated_themes) == {a}


def test_a_review_is_carried_over_to_a_run_whose_ideas_have_new_ids(view):
    # A new version of the kind rules gives every idea a new id (it hashes the extractor's
    # key); the ideas on the same words of the same answers are the same ideas, and the
    # reviewer's decisions follow them. By id, none was found: the theme's name was « thème
    # introuvable », the hidden argument and the corrected kind were dropped.
    a, b = two_themes(view)
    args = view.base.arguments
    hidden = args[args["cluster_id"] == a]["argument_id"].iloc[0]
    corrected = args[args["cluster_id"] == b]["argument_id"].iloc[0]
    old = recorded(ev("rename", {"cluster_id": a}, {"title": "Renommé"}),
                   ev("hide", {"argument_ids": [hidden]}, {"reason": "faux"}),
                   ev("kind", {"argument_ids": [corrected]}, {"kind": "hors_sujet"}),
                   ev("validate_theme", {"cluster_id": b}))
    renamed = {i: f"v13-{i}" for i in args["argument_id"]}
    themes = view.base.themes.assign(quote_argument_ids=[
        [renamed.get(i, i) for i in ids] for ids in view.base.themes["quote_argument_ids"]])
    new_rows = type(view.base)(**{**view.base.__dict__, "themes": themes,
                                  "arguments": args.assign(
                                      argument_id=args["argument_id"].map(renamed))})
    carried = carry_over(view.base, old, new_rows, "old-run", "new-run", "2026-12-02T11:00:00")
    assert carried.not_carried == [] and carried.changed_themes == []
    assert [e["action"] for e in carried.events] == ["rename", "hide", "kind", "validate_theme"]
    rows, state = apply_events(new_rows, carried.events, n_resp(view))
    assert themes_of(rows)[a].title == "Renommé" and set(state.hidden) == {renamed[hidden]}
    kinds = rows.arguments.set_index("argument_id")["kind"]
    assert kinds[renamed[corrected]] == "hors_sujet"
    assert set(state.validated_themes) == {b}


def test_a_sentence_on_one_theme_gives_the_recounted_share(view):
    s = view.base.synthesis_sentences
    one = [r for r in s.itertuples() if len(r.cluster_ids) == 1 and "des répondants, " in r.text
           and r.text.endswith("%).")]
    assert one, "the demo synthesis has sentences with a theme's share"
    cid = int(one[0].cluster_ids[0])
    args = view.base.arguments
    others = [int(c) for c in view.base.themes["cluster_id"] if c >= 0 and c != cid]
    members = args[args["cluster_id"] == cid]["argument_id"].tolist()
    rows, _ = apply_events(view.base, [ev("move", {"cluster_id": others[0],
                                                   "argument_ids": members[: len(members) // 2]})],
                           n_resp(view))
    # The share of all respondents who said the section's kind in the theme, recounted.
    kind = {"opportunites": "opportunite", "risques": "risque", "conditions": "condition"}[
        one[0].section]
    left = rows.arguments[(rows.arguments["cluster_id"] == cid)
                          & (rows.arguments["kind"] == kind)]
    share = left["respondent_id"].nunique() / n_resp(view)
    text = rows.synthesis_sentences.loc[one[0].Index, "text"]
    assert f"{round(100 * share)}\u202f%)." in text
    assert text.split(" (")[0] == one[0].text.split(" (")[0]


def test_a_reviewer_corrects_kinds_and_every_count_of_kinds_follows(view):
    """A theme the rules read as risks is, for the reviewer, a list of conditions: the kinds
    of its arguments are corrected; the theme's split by kind, the share figure of the
    synthesis sentence on it, the stored state and the validations follow."""
    s = view.base.synthesis_sentences
    one = [r for r in s.itertuples() if len(r.cluster_ids) == 1 and r.text.endswith("%).")
           and r.section in ("opportunites", "risques", "conditions")]
    assert one, "the demo synthesis has sentences with a theme's share"
    cid = int(one[0].cluster_ids[0])
    args = view.base.arguments
    members = args[args["cluster_id"] == cid]
    section_kind = {"opportunites": "opportunite", "risques": "risque",
                    "conditions": "condition"}[one[0].section]
    other_kind = next(k for k in ("constat", "hors_sujet") if k != section_kind)
    events = [ev("validate_theme", {"cluster_id": cid}),
              ev("kind", {"argument_ids": members["argument_id"].tolist()}, {"kind": other_kind})]
    rows, state = apply_events(view.base, events, n_resp(view))
    assert json.loads(themes_of(rows)[cid].kinds) == {other_kind: len(members)}
    assert themes_of(rows)[cid].n_arguments == len(members)  # the members do not move
    assert state.changes == {"kind": 1} and cid not in state.validated_themes
    # none of the theme's respondents says the section's kind any more
    assert rows.synthesis_sentences.loc[one[0].Index, "text"].endswith("(une minorité des "
                                                                       "répondants, 0\u202f%).")
    untouched = args[args["cluster_id"] != cid].set_index("argument_id")["kind"]
    after = rows.arguments.set_index("argument_id")["kind"]
    assert (after[untouched.index] == untouched).all()
    stored = {r["argument_id"]: r["kind"] for r in
              state_rows(rows, state, view.base.arguments)["assignments"]}
    assert {stored[a] for a in members["argument_id"]} == {other_kind}
    assert all(stored[a] == k for a, k in untouched.items() if isinstance(k, str))
    with pytest.raises(ReviewError, match="Nature d'argument inconnue"):
        apply_events(view.base, [ev("kind", {"argument_ids": members["argument_id"].tolist()},
                                    {"kind": "enthousiasme"})], n_resp(view))
    with pytest.raises(ReviewError, match="Aucun des arguments"):
        apply_events(view.base, [ev("kind", {"argument_ids": ["absent"]}, {"kind": "risque"})],
                     n_resp(view))
    # carried over to the next run by argument id, what is no longer there listed
    gone = members["argument_id"].iloc[0]
    old = [{**ev("kind", {"argument_ids": members["argument_id"].tolist()},
                 {"kind": other_kind}, seq=1), "event_id": "e1"}]
    new_rows = type(view.base)(**{**view.base.__dict__,
                                  "arguments": args[args["argument_id"] != gone]})
    carried = carry_over(view.base, old, new_rows, "old-run", "new-run", "2026-12-02T11:00:00")
    assert [e["action"] for e in carried.events] == ["kind"]
    assert any("nature corrigée : 1 argument(s) absent(s)" in m for m in carried.not_carried)
    rows, _ = apply_events(new_rows, carried.events, n_resp(view))
    assert json.loads(themes_of(rows)[cid].kinds) == {other_kind: len(members) - 1}
