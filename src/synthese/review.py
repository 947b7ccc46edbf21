"""A person reviews: review events -> the reviewed state of a run, and carrying them over.

The AI decides nothing: a reviewer renames, merges and splits themes, moves or hides
arguments, corrects their kind, edits the synthesis, and validates. Each action is an event
(who, when, what, before, after), stored append-only (storage.append_review); this module
derives, by code, what the report and the marts show after them: the themes' members,
counts, shares and kinds, the synthesis sentences and their citations, which themes are
validated.

Everything here is pure: rows and events in, rows out. The web page (revue.py) records the
events; the runner carries a review over to the next run of the same consultation
(``carry_over``): hidden and moved arguments and corrected kinds by idea (its id, or the
words of its answer it rests on), themes by overlap of members.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from synthese.cluster import QUOTES_PER_THEME, kind_shares, theme_counts
from synthese.extract import KINDS
from synthese.reportdata import ReportRows, theme_label
from synthese.reportdata import _text as text_or_none
from synthese.summarise import majority_phrase

MATCH_MIN_JACCARD = 0.5  # a theme of the next run is the same theme when members overlap so
NEW_THEME_BASE = 1000  # themes a reviewer creates (splits) are numbered from here
SYSTEM_REVIEWER = "synthese (reprise automatique)"

# What the method note counts, by kind of change (notes and validations are not changes).
CHANGE_LABELS = {
    "rename": ("thème renommé", "thèmes renommés"),
    "merge": ("fusion de thèmes", "fusions de thèmes"),
    "split": ("thème scindé", "thèmes scindés"),
    "move": ("déplacement d'arguments", "déplacements d'arguments"),
    "hide": ("argument masqué", "arguments masqués"),
    "kind": ("nature corrigée", "natures corrigées"),
    "unhide": ("argument rétabli", "arguments rétablis"),
    "edit_sentence": ("phrase modifiée", "phrases modifiées"),
    "delete_sentence": ("phrase supprimée", "phrases supprimées"),
    "add_sentence": ("phrase ajoutée", "phrases ajoutées"),
    "regenerate_summary": ("résumé régénéré", "résumés régénérés"),
    "regenerate_synthesis": ("synthèse régénérée", "synthèses régénérées"),
}
OTHER_ACTIONS = ("note", "validate_theme", "validate_synthesis", "carry_over")
ACTIONS = tuple(CHANGE_LABELS) + OTHER_ACTIONS
HIDE_REASONS = {"faux": "erroné", "hors_sujet": "hors sujet"}
# Actions that change a theme: they reset its validation, and the synthesis's.
THEME_ACTIONS = {"rename", "merge", "split", "move", "hide", "unhide", "kind",
                 "regenerate_summary"}
SYNTHESIS_ACTIONS = {"edit_sentence", "delete_sentence", "add_sentence", "regenerate_synthesis"}


class ReviewError(ValueError):
    """An event that cannot apply to the state it was made on (a French message)."""


@dataclass
class Reviewed:
    """What a review decided, besides the rows: who validated what, and what was hidden."""

    hidden: dict[str, dict[str, Any]] = field(default_factory=dict)  # argument_id -> why, who
    validated_themes: dict[int, dict[str, Any]] = field(default_factory=dict)  # by, at
    synthesis_validated: dict[str, Any] | None = None  # by, at
    stale_summaries: set[int] = field(default_factory=set)  # members changed since summary
    changes: Counter = field(default_factory=Counter)  # action -> number of events
    notes: list[dict[str, Any]] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)
    carried_from: str | None = None
    reviewers: list[str] = field(default_factory=list)
    last_event: int = 0

    @property
    def n_changes(self) -> int:
        return sum(self.changes.values())

    def status(self) -> dict[str, Any]:
        """What the report and the method note say of the review."""
        v = self.synthesis_validated
        return {
            "reviewed": bool(self.last_event), "validated": v is not None,
            "validated_by": v["by"] if v else None, "validated_at": v["at"] if v else None,
            "n_changes": self.n_changes,
            "changes": [{"action": a, "n": n, "label": CHANGE_LABELS[a][n > 1]}
                        for a, n in sorted(self.changes.items()) if n],
            "hidden": len(self.hidden), "notes": self.notes, "not_carried": self.not_carried,
            "carried_from": self.carried_from, "reviewers": self.reviewers,
            "validated_themes": sorted(self.validated_themes),
            "stale_summaries": sorted(self.stale_summaries),
        }


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return json.loads(value) if value else {}
    return dict(value or {})


def apply_events(rows: ReportRows, events: list[dict[str, Any]],
                 n_respondents: int) -> tuple[ReportRows, Reviewed]:
    """The rows after the events, in order, with counts recomputed; and the review's state.

    ``n_respondents`` is the denominator of the shares (as in cluster.theme_rows).
    """
    state = Reviewed()
    args = rows.arguments.copy()
    themes = rows.themes.copy()
    summaries = rows.summary_sentences.copy()
    synth = rows.synthesis_sentences.copy()
    hidden_rows: list[pd.DataFrame] = []
    for event in events:
        action, target = event["action"], _payload(event.get("target"))
        after = _payload(event.get("after"))
        who = {"by": event.get("reviewer"), "at": event.get("made_at")}
        if action not in ACTIONS:
            raise ReviewError(f"Action de relecture inconnue : {action}.")
        if event.get("reviewer") and event["reviewer"] not in state.reviewers \
                and event["reviewer"] != SYSTEM_REVIEWER:
            state.reviewers.append(event["reviewer"])
        state.last_event = int(event.get("seq") or state.last_event + 1)
        touched: set[int] = set()
        if action == "rename":
            cid = _theme(themes, target)
            themes.loc[themes["cluster_id"] == cid, ["title", "title_origin"]] = \
                [after["title"], "relecteur"]
            touched = {cid}
        elif action == "merge":
            into, other = _theme(themes, target), _theme(themes, {"cluster_id": target["other"]})
            if into == other:
                raise ReviewError("Un thème ne peut pas être fusionné avec lui-même.")
            args.loc[args["cluster_id"] == other, "cluster_id"] = into
            themes = themes[themes["cluster_id"] != other]
            synth["cluster_ids"] = [sorted({into if int(i) == other else int(i) for i in ids})
                                    for ids in synth["cluster_ids"]]
            if after.get("title"):
                themes.loc[themes["cluster_id"] == into, ["title", "title_origin"]] = \
                    [after["title"], "relecteur"]
            state.validated_themes.pop(other, None)
            state.stale_summaries.discard(other)
            touched = {into}
        elif action == "split":
            cid = _theme(themes, target)
            new = int(after["cluster_id"])
            if new in set(themes["cluster_id"]):
                raise ReviewError(f"Le thème {new} existe déjà.")
            moving = args["argument_id"].isin(target["argument_ids"]) & (args["cluster_id"] == cid)
            if not moving.any():
                raise ReviewError("Aucun des arguments choisis n'est dans ce thème.")
            args.loc[moving, "cluster_id"] = new
            base = themes[themes["cluster_id"] == cid].iloc[0].to_dict()
            themes = pd.concat([themes, pd.DataFrame([{
                **base, "cluster_id": new, "title": after.get("title") or f"Thème {new}",
                "title_origin": "relecteur", "summary": None, "summary_key": None,
                "split_from": cid, "quote_argument_ids": [], "title_rejected": None,
                "failure": None}])], ignore_index=True)
            state.stale_summaries.add(new)
            touched = {cid, new}
        elif action == "move":
            to = _theme(themes, target)
            moving = args["argument_id"].isin(target["argument_ids"])
            touched = {int(c) for c in args.loc[moving, "cluster_id"]} | {to}
            args.loc[moving, "cluster_id"] = to
        elif action == "hide":
            moving = args["argument_id"].isin(target["argument_ids"])
            touched = {int(c) for c in args.loc[moving, "cluster_id"]}
            hidden_rows.append(args[moving])
            for a in args.loc[moving, "argument_id"]:
                state.hidden[a] = {"reason": after.get("reason", "faux"), **who}
            args = args[~moving]
        elif action == "kind":
            kind = after.get("kind")
            if kind not in KINDS:
                raise ReviewError(f"Nature d'argument inconnue : {kind}.")
            changing = args["argument_id"].isin(target.get("argument_ids") or [])
            if not changing.any():
                raise ReviewError("Aucun des arguments choisis n'est dans cette relecture.")
            args.loc[changing, "kind"] = kind
            touched = {int(c) for c in args.loc[changing, "cluster_id"]}
        elif action == "unhide":
            back = [h[h["argument_id"].isin(target["argument_ids"])] for h in hidden_rows]
            back = pd.concat(back) if back else args.iloc[:0]
            back = back.drop_duplicates("argument_id")
            back = back[back["argument_id"].isin(list(state.hidden))]
            back.loc[:, "cluster_id"] = [c if c in set(themes["cluster_id"]) else -1
                                         for c in back["cluster_id"]]
            args = pd.concat([args, back], ignore_index=True)
            for a in back["argument_id"]:
                state.hidden.pop(a, None)
            touched = {int(c) for c in back["cluster_id"]}
        elif action == "edit_sentence":
            at = sentence_at(synth, target)
            for column in ("text", "support", "supported"):
                synth.loc[at, column] = after[column]
            synth.at[at, "cluster_ids"] = [int(i) for i in after["cluster_ids"]]
            synth.loc[at, ["origin", "cited_by"]] = ["relecteur", "relecteur"]
        elif action == "delete_sentence":
            synth = synth.drop(index=sentence_at(synth, target))
        elif action == "add_sentence":
            synth = _add_sentence(synth, target, after)
        elif action == "regenerate_summary":
            cid = _theme(themes, target)
            key = f"revue:{event.get('seq') or state.last_event}"
            themes.loc[themes["cluster_id"] == cid, ["summary", "summary_key"]] = \
                [after["summary"], key]
            summaries = pd.concat([summaries, pd.DataFrame([
                {"summary_key": key, "position": i, **s} for i, s in
                enumerate(after["sentences"])])], ignore_index=True)
            state.stale_summaries.discard(cid)
            touched = {cid}
        elif action == "regenerate_synthesis":
            synth = pd.DataFrame(after["sentences"]) if after["sentences"] else synth.iloc[:0]
        elif action == "note":
            state.notes.append({"text": event.get("note") or "", "cluster_id":
                                target.get("cluster_id"), **who})
        elif action == "validate_theme":
            state.validated_themes[_theme(themes, target)] = who
        elif action == "validate_synthesis":
            state.synthesis_validated = who
        elif action == "carry_over":
            state.not_carried = list(after.get("not_carried", []))
            state.carried_from = after.get("from_run")
        if action in CHANGE_LABELS:
            state.changes[action] += 1
        if action in {"merge", "split", "move", "hide", "unhide"}:
            state.stale_summaries |= {c for c in touched if c >= 0}
        for cid in touched if action in THEME_ACTIONS else ():
            state.validated_themes.pop(cid, None)
        if action in THEME_ACTIONS | SYNTHESIS_ACTIONS:
            state.synthesis_validated = None
    themes = recount(themes, args, n_respondents)
    synth = refresh_figures(synth.reset_index(drop=True), themes, args, n_respondents)
    return replace(rows, arguments=args.reset_index(drop=True), themes=themes,
                   summary_sentences=summaries, synthesis_sentences=synth), state


FIGURE = re.compile(r" \((?P<words>[^()]*) des répondants, \d+\u202f%\)\.$")


def refresh_figures(synth: pd.DataFrame, themes: pd.DataFrame, args: pd.DataFrame,
                    n_respondents: int) -> pd.DataFrame:
    """A sentence the method wrote about one theme ends with its share (« … (près d'un
    tiers des répondants, 31 %). »); after a review the share is the recounted one: in an
    opportunities, risks or conditions section, the share of all respondents who said that
    section's kind in the theme (as ``synthesise`` gives it), elsewhere the theme's. The
    reviewer's own sentences are theirs, left as written."""
    from synthese.synthesise import KIND_OF_SECTION

    share = dict(zip(themes["cluster_id"].astype(int), themes["share_respondents"]))
    texts = []
    for s in synth.itertuples(index=False):
        ids = [int(i) for i in s.cluster_ids]
        hit = FIGURE.search(s.text) if len(ids) == 1 and ids[0] in share \
            and getattr(s, "origin", None) != "relecteur" else None
        if hit:
            kind = KIND_OF_SECTION.get(getattr(s, "section", None))
            value = (kind_shares(args[args["cluster_id"] == ids[0]], n_respondents).get(kind, 0.0)
                     if kind else float(share[ids[0]]))
            words, figure = majority_phrase(value).rsplit(" (", 1)
            texts.append(f"{s.text[:hit.start()]} ({words} des répondants, {figure[:-1]}).")
        else:
            texts.append(s.text)
    out = synth.copy()
    out["text"] = texts
    return out


def _theme(themes: pd.DataFrame, target: dict[str, Any]) -> int:
    try:
        cid = int(target["cluster_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReviewError("Thème non précisé.") from exc
    if cid not in set(themes["cluster_id"].astype(int)):
        raise ReviewError(f"Le thème {cid} n'existe pas (ou plus) dans cette relecture.")
    return cid


def sentence_at(synth: pd.DataFrame, target: dict[str, Any]) -> Any:
    """The index of the synthesis sentence at ``target`` (section, paragraph, position)."""
    hit = synth[(synth["section"] == target.get("section"))
                & (synth["paragraph"] == int(target.get("paragraph", -1)))
                & (synth["position"] == int(target.get("position", -1)))]
    if hit.empty:
        raise ReviewError("Cette phrase n'existe pas (ou plus) dans la synthèse.")
    return hit.index[0]


def _add_sentence(synth: pd.DataFrame, target: dict[str, Any], after: dict[str, Any]) -> pd.DataFrame:
    section = target["section"]
    in_section = synth[synth["section"] == section]
    paragraph = target.get("paragraph")
    if paragraph is None:
        paragraph = int(in_section["paragraph"].max()) + 1 if len(in_section) else 0
    in_paragraph = in_section[in_section["paragraph"] == int(paragraph)]
    position = int(in_paragraph["position"].max()) + 1 if len(in_paragraph) else 0
    row = {"section": section, "paragraph": int(paragraph), "position": position,
           "text": after["text"], "cluster_ids": [int(i) for i in after["cluster_ids"]],
           "support": float(after["support"]), "supported": bool(after["supported"]),
           "cited_by": "relecteur", "origin": "relecteur", "model_text": None}
    return pd.concat([synth, pd.DataFrame([row])], ignore_index=True)


def recount(themes: pd.DataFrame, args: pd.DataFrame, n_respondents: int) -> pd.DataFrame:
    """Members, respondents, shares, kinds and quotes of each theme, counted again from its
    arguments; a theme left without arguments is dropped (« autres » is kept)."""
    out = []
    for t in themes.to_dict("records"):
        cid = int(t["cluster_id"])
        members = args[args["cluster_id"] == cid]
        if members.empty and cid >= 0:
            continue
        ranked = members.sort_values("similarity", ascending=False, na_position="last")
        verified = ranked[ranked["match_kind"].notna()]["argument_id"].tolist()
        kept = [a for a in (t.get("quote_argument_ids") if t.get("quote_argument_ids")
                            is not None else []) if a in set(verified)]
        quotes = (kept + [a for a in verified if a not in kept])[:QUOTES_PER_THEME]
        out.append({**t, **theme_counts(members, n_respondents),
                    "quote_argument_ids": quotes if cid >= 0 else []})
    frame = pd.DataFrame(out, columns=themes.columns)
    frame["cluster_id"] = frame["cluster_id"].astype(int)
    return _biggest_first(frame)


def _biggest_first(frame: pd.DataFrame) -> pd.DataFrame:
    order = sorted(range(len(frame)), key=lambda i: (int(frame["cluster_id"].iloc[i]) < 0,
                                                     -int(frame["n_respondents"].iloc[i]),
                                                     int(frame["cluster_id"].iloc[i])))
    return frame.iloc[order].reset_index(drop=True)


def state_rows(rows: ReportRows, state: Reviewed, base_arguments: pd.DataFrame) -> dict[str, list]:
    """The reviewed state as rows of core.review_* (storage.append_review)."""
    reviewed = dict(zip(rows.arguments["argument_id"], rows.arguments["cluster_id"].astype(int)))
    kinds = dict(zip(rows.arguments["argument_id"], rows.arguments["kind"]))
    assignments = [{"argument_id": a, "cluster_id": int(reviewed.get(a, c)),
                    "hidden": a in state.hidden, "kind": text_or_none(kinds.get(a, k))}
                   for a, c, k in zip(base_arguments["argument_id"], base_arguments["cluster_id"],
                                      base_arguments["kind"])]
    themes = [{"cluster_id": int(t.cluster_id), "label": _label(t), "title_origin":
               text_or_none(t.title_origin), "summary": text_or_none(t.summary),
               "n_arguments": int(t.n_arguments), "n_respondents": int(t.n_respondents),
               "share_respondents": float(t.share_respondents), "kinds": t.kinds,
               "validated_by": state.validated_themes.get(int(t.cluster_id), {}).get("by"),
               "validated_at": state.validated_themes.get(int(t.cluster_id), {}).get("at")}
              for t in rows.themes.itertuples(index=False)]
    sentences = [{"section": s.section, "paragraph": int(s.paragraph), "position": int(s.position),
                  "text": s.text, "cluster_ids": [int(i) for i in s.cluster_ids],
                  "support": float(s.support), "supported": bool(s.supported),
                  "origin": text_or_none(s.origin)}
                 for s in rows.synthesis_sentences.itertuples(index=False)]
    v = state.synthesis_validated
    status = [{"validated_by": v["by"] if v else None, "validated_at": v["at"] if v else None,
               "changes": json.dumps(dict(state.changes)),
               "not_carried": json.dumps(state.not_carried, ensure_ascii=False)}]
    return {"themes": themes, "assignments": assignments, "synthesis_sentences": sentences,
            "status": status}


def _label(t: Any) -> str:
    return theme_label(t.title, int(t.cluster_id))


def members_by_theme(args: pd.DataFrame,
                     same: dict[str, str] | None = None) -> dict[int, frozenset[str]]:
    """Each theme's argument ids; with ``same`` (``same_ideas``), the ids of the next run."""
    same = same or {}
    return {int(c): frozenset(same.get(a, a) for a in g["argument_id"])
            for c, g in args.groupby("cluster_id")}


def idea_places(args: pd.DataFrame) -> pd.Series:
    """Each argument's place in its answer, whatever the extractor's version: its answer,
    the offsets of its quote (the hash of its text when it has none), and which of the
    answer's ideas on those words it is (by position). The same rule as
    ``Store.previous_clustering``: an argument's id hashes the extractor's key, and a new
    version of the kind rules or of the model gives every idea a new id."""
    if args.empty:
        return pd.Series([], dtype=object, index=args.index)
    none = pd.Series([None] * len(args), index=args.index, dtype=object)
    spots = [f"t{h}" if pd.isna(a) else f"q{int(a)}-{int(b)}"
             for h, a, b in zip(args["text_hash"], args.get("quote_start", none),
                                args.get("quote_end", none), strict=True)]
    frame = pd.DataFrame({"answer": args["answer_id"].to_numpy(), "spot": spots,
                          "position": args["position"].to_numpy(),
                          "id": args["argument_id"].to_numpy()}, index=args.index)
    nth = frame.sort_values(["position", "id"]).groupby(["answer", "spot"]).cumcount()
    return frame["answer"] + "|" + frame["spot"] + "|" + nth.reindex(frame.index).astype(str)


def same_ideas(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, str]:
    """Old argument id -> the id of the same idea in ``new`` (``idea_places``), where the
    ids differ."""
    at = dict(zip(idea_places(new), new["argument_id"], strict=True))
    return {a: at[p] for a, p in zip(old["argument_id"], idea_places(old), strict=True)
            if p in at and at[p] != a}


def match_themes(old: dict[int, frozenset[str]], new: dict[int, frozenset[str]],
                 min_jaccard: float = MATCH_MIN_JACCARD) -> dict[int, int]:
    """Old theme -> new theme, one to one, best overlap of members first (Jaccard)."""
    pairs = []
    for o, om in old.items():
        for n, nm in new.items():
            if o < 0 or n < 0:
                continue
            j = len(om & nm) / len(om | nm) if om | nm else 0.0
            if j >= min_jaccard:
                pairs.append((-j, o, n))
    out: dict[int, int] = {}
    used: set[int] = set()
    for _, o, n in sorted(pairs):
        if o not in out and n not in used:
            out[o] = n
            used.add(n)
    return out


@dataclass
class Carried:
    """A review carried over to a new run: the events to append, and what was not carried."""

    events: list[dict[str, Any]]
    not_carried: list[str]
    changed_themes: list[str]


def carry_over(old_rows: ReportRows, old_events: list[dict[str, Any]], new_rows: ReportRows,
               from_run: str, run_id: str, now: Any) -> Carried:
    """Translate the decisions of a reviewed run into events on a new run.

    Hidden and moved arguments and corrected kinds follow their idea: the same id, or,
    when a new version of the extractor gave the ideas new ids, the same words of the same
    answer (``same_ideas``). A theme of the old run is
    found in the new one by the overlap of its members (``match_themes``, Jaccard ≥ 0.5),
    first for the themes as the method made them, then for the ones the reviewer created.
    Sentences of the synthesis that were edited or deleted are found by their text. What
    cannot be found is listed, never guessed; a theme whose members changed loses its
    validation.
    """
    # The same idea may have another id in the next run (a new version of the kind rules
    # or of the model): the old ids are read as the new ones of the ideas on the same words.
    same = same_ideas(old_rows.arguments, new_rows.arguments)
    old_map = match_themes(members_by_theme(old_rows.arguments, same),
                           members_by_theme(new_rows.arguments))
    present = set(new_rows.arguments["argument_id"])
    new_ids = iter(range(NEW_THEME_BASE, 10 ** 9))  # the new run has no reviewer's theme yet
    out: list[dict[str, Any]] = []
    missed: list[str] = []
    title = {int(t.cluster_id): _label(t) for t in old_rows.themes.itertuples(index=False)}
    validated: dict[int, dict[str, Any]] = {}
    synthesis_validation: dict[str, Any] | None = None
    new_synth = {s.text: s for s in new_rows.synthesis_sentences.itertuples(index=False)}

    def emit(e: dict[str, Any], target: dict, after: dict | None = None) -> None:
        out.append({"run_id": run_id, "reviewer": e["reviewer"], "made_at": now,
                    "action": e["action"], "target": json.dumps(target, ensure_ascii=False),
                    "before": e.get("before"), "note": e.get("note"),
                    "after": json.dumps(after if after is not None else _payload(e.get("after")),
                                        ensure_ascii=False),
                    "origin_event_id": e["event_id"]})

    def name(cid: int) -> str:
        return f"« {title.get(cid, f'Thème {cid}')} »"

    for e in old_events:
        action, target, after = e["action"], _payload(e.get("target")), _payload(e.get("after"))
        ids = [same.get(a, a) for a in target.get("argument_ids", [])]
        ids = [a for a in ids if a in present]
        lost = len(target.get("argument_ids", [])) - len(ids)
        if action in ("rename", "regenerate_summary", "note", "validate_theme") and                 target.get("cluster_id") is not None:
            cid = int(target["cluster_id"])
            if cid not in old_map:
                what = (f"nom « {after.get('title')} » donné au thème" if action == "rename"
                        else f"{_verb(action)} du thème")
                missed.append(f"{what} {name(cid)} : thème introuvable dans la nouvelle "
                              "exécution")
            elif action == "validate_theme":
                validated[cid] = e  # by the old run's id; kept if still valid at its end
            elif action == "regenerate_summary":
                missed.append(f"résumé régénéré du thème {name(cid)} : à régénérer de nouveau")
            else:
                emit(e, {**target, "cluster_id": old_map[cid]})
                if action == "rename":
                    title[cid] = after["title"]
        elif action == "merge":
            a, b = int(target["cluster_id"]), int(target["other"])
            if a in old_map and b in old_map and old_map[a] != old_map[b]:
                emit(e, {"cluster_id": old_map[a], "other": old_map[b]})
                old_map[b] = old_map[a]
            elif not (a in old_map and b in old_map):
                missed.append(f"fusion de {name(a)} et {name(b)} : "
                              "un des thèmes est introuvable dans la nouvelle exécution")
        elif action == "split":
            cid = int(target["cluster_id"])
            if cid in old_map and ids:
                new = next(new_ids)
                emit(e, {"cluster_id": old_map[cid], "argument_ids": ids},
                     {**after, "cluster_id": new})
                old_map[int(after["cluster_id"])] = new
            else:
                missed.append(f"scission du thème {name(cid)} : thème ou arguments introuvables")
        elif action == "move":
            cid = int(target["cluster_id"])
            if cid in old_map and ids:
                emit(e, {"cluster_id": old_map[cid], "argument_ids": ids})
            else:
                missed.append(f"déplacement vers {name(cid)} : thème ou arguments introuvables")
        elif action in ("hide", "unhide", "kind"):
            if ids:
                emit(e, {"argument_ids": ids})
        elif action in ("edit_sentence", "delete_sentence"):
            before = _payload(e.get("before")).get("text")
            hit = new_synth.get(before)
            if hit is None:
                missed.append(f"{_verb(action)} de la phrase « {before} » : absente de la "
                              "nouvelle synthèse")
            else:
                where = {"section": hit.section, "paragraph": int(hit.paragraph),
                         "position": int(hit.position)}
                emit(e, where, {**after, "cluster_ids": [old_map[int(i)] for i in
                                                         after.get("cluster_ids", [])
                                                         if int(i) in old_map]}
                     if action == "edit_sentence" else None)
        elif action == "add_sentence":
            cited = [old_map[int(i)] for i in after.get("cluster_ids", []) if int(i) in old_map]
            if after.get("cluster_ids") and not cited:
                missed.append(f"phrase ajoutée « {after['text']} » : ses thèmes sont "
                              "introuvables dans la nouvelle exécution")
            else:
                emit(e, {"section": target["section"]}, {**after, "cluster_ids": cited})
        elif action == "regenerate_synthesis":
            missed.append("synthèse régénérée : la nouvelle exécution a sa propre synthèse")
        elif action == "validate_synthesis":
            synthesis_validation = e
        if lost:
            missed.append(f"{_verb(action)} : {lost} argument(s) absent(s) de la nouvelle exécution")
    # Validations hold only for themes whose reviewed members did not change.
    old_final, old_state = apply_events(old_rows, old_events, 1)
    new_final, _ = apply_events(new_rows, out, 1)
    old_members, new_members = (members_by_theme(old_final.arguments, same),
                                members_by_theme(new_final.arguments))
    # each new theme's old counterpart, among the old themes that survived the review
    new_of = {v: k for k, v in old_map.items() if k in old_members}
    changed = []
    for cid, members in new_members.items():
        old_cid = new_of.get(cid)
        if cid >= 0 and old_cid is not None and old_members.get(old_cid) != members:
            gained = len(members - old_members.get(old_cid, frozenset()))
            lost_n = len(old_members.get(old_cid, frozenset()) - members)
            changed.append(f"{_label_of(new_final, cid)} ({gained} argument(s) en plus, "
                           f"{lost_n} en moins)")
    matched_old = {o for o, n in old_map.items() if n in new_members}
    for cid in sorted(c for c in old_members if c >= 0 and c not in matched_old):
        changed.append(f"{_label_of(old_final, cid)} : absent de la nouvelle exécution (ses "
                       "arguments y sont regroupés autrement)")
    for cid in sorted(c for c in new_members if c >= 0 and c not in new_of):
        changed.append(f"{_label_of(new_final, cid)} : nouveau thème")
    kept_validation = True
    for old_cid, e in validated.items():
        if old_cid not in old_state.validated_themes:
            continue  # reset in the old run itself, after it was given
        cid = old_map.get(old_cid)
        if cid is not None and old_members.get(old_cid) == new_members.get(cid):
            emit(e, {"cluster_id": cid})
        else:
            kept_validation = False
            missed.append(f"validation du thème {name(old_cid)} : à refaire, ses arguments "
                          "ont changé")
    synth_same = (list(old_final.synthesis_sentences["text"])
                  == list(new_final.synthesis_sentences["text"]))
    if synthesis_validation is not None and old_state.synthesis_validated is not None:
        if synth_same and kept_validation and not changed:
            emit(synthesis_validation, {})
        else:
            missed.append("validation de la synthèse : à refaire (la synthèse ou des thèmes "
                          "ont changé)")
    return Carried(out, missed, changed)


def _label_of(rows: ReportRows, cid: int) -> str:
    hit = rows.themes[rows.themes["cluster_id"] == cid]
    return _label(next(hit.itertuples(index=False))) if len(hit) else f"Thème {cid}"


def _verb(action: str) -> str:
    return {"rename": "nom", "note": "note", "validate_theme": "validation",
            "regenerate_summary": "résumé régénéré", "edit_sentence": "modification",
            "delete_sentence": "suppression", "hide": "masquage", "unhide": "rétablissement",
            "move": "déplacement", "split": "scission",
            "kind": "nature corrigée"}.get(action, action)
