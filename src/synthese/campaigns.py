"""Campaigns: answers that repeat one text, found before extraction so that the model reads
the text once.

A union or an association circulates a text and respondents paste it, lightly edited: a
typo, a sentence added or removed, a signature. Such answers are grouped here:

- each answer of at least ``MIN_WORDS`` words is cut into character shingles
  (``SHINGLE`` letters, accents and case removed) and sketched by MinHash;
- locality-sensitive hashing (datasketch) proposes the pairs whose sketches agree, and each
  pair is kept only when the exact Jaccard similarity of its shingles is at least
  ``THRESHOLD``; the groups are the connected pairs, those of ``MIN_MEMBERS`` or more
  answers are campaigns (a copied text matters before it is a mass campaign);
- the representative of a campaign is its member closest to all the others.

Embedding similarity was measured against it and rejected (benchmarks/campaigns.py,
docs/campaigns.md): short answers on one subject are close in meaning without being copies.

The representative alone is extracted by the model. Every other member gets the same ideas,
each anchored on the member's own segments that match the representative's (its quote is
the member's own text), and a segment of its own that matches none (an added sentence, a
signature) is kept in its words like any uncovered segment (``derive_extraction``). A member
is never dropped: it has its own extraction, its own arguments and its own quotes.

Pure: rows in, rows out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from synthese.keys import content_hash

SHINGLE = 5
THRESHOLD = 0.5
NUM_PERM = 128
MIN_WORDS = 20
MIN_MEMBERS = 3
SEGMENT_MATCH = 80  # rapidfuzz ratio for a member's segment to be the representative's
METHOD = f"minhash-char{SHINGLE}-j{THRESHOLD}-p{NUM_PERM}-w{MIN_WORDS}-m{MIN_MEMBERS}"


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    question: str
    representative_id: str
    answer_ids: list[str]  # the representative first, then by answer id
    text: str  # the representative's text
    min_similarity: float  # the smallest Jaccard similarity of a kept pair
    similarities: dict[str, float] = field(default_factory=dict)  # member -> to representative

    @property
    def n_answers(self) -> int:
        return len(self.answer_ids)


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces."""
    text = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    norm = normalise(text)
    if len(norm) <= size:
        return {norm} if norm else set()
    return {norm[i:i + size] for i in range(len(norm) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def candidate_pairs(sets: dict[str, set[str]], threshold: float = THRESHOLD,
                    num_perm: int = NUM_PERM, seed: int = 1) -> set[tuple[str, str]]:
    """The pairs of ids whose MinHash sketches collide in an LSH band (datasketch)."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sketches = {}
    for key, items in sets.items():
        sketch = MinHash(num_perm=num_perm, seed=seed)
        sketch.update_batch([s.encode("utf-8") for s in sorted(items)])
        sketches[key] = sketch
        lsh.insert(key, sketch)
    pairs: set[tuple[str, str]] = set()
    for key, sketch in sketches.items():
        for other in lsh.query(sketch):
            if other != key:
                pairs.add((min(key, other), max(key, other)))
    return pairs


def _components(ids: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    parent = {i: i for i in ids}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for i in ids:
        groups.setdefault(root(i), []).append(i)
    return [sorted(g) for g in groups.values()]


def find_campaigns(answers: list[tuple[str, str, str]], *, threshold: float = THRESHOLD,
                   min_words: int = MIN_WORDS, min_members: int = MIN_MEMBERS,
                   num_perm: int = NUM_PERM) -> list[Campaign]:
    """The campaigns among ``(answer_id, question, text)``: groups of at least
    ``min_members`` answers to one question whose texts are near-identical, largest first."""
    by_question: dict[str, dict[str, str]] = {}
    for answer_id, question, text in answers:
        if len(normalise(text).split()) >= min_words:
            by_question.setdefault(question, {})[answer_id] = text
    found: list[Campaign] = []
    for question, texts in sorted(by_question.items()):
        sets = {a: shingles(t) for a, t in texts.items()}
        pairs = candidate_pairs(sets, threshold, num_perm) if len(sets) >= min_members else set()
        scored = {p: jaccard(sets[p[0]], sets[p[1]]) for p in pairs}
        kept = [p for p, s in scored.items() if s >= threshold]
        for group in _components(sorted(sets), kept):
            if len(group) < min_members:
                continue
            sims = {a: {b: jaccard(sets[a], sets[b]) for b in group if b != a} for a in group}
            representative = max(group, key=lambda a: (sum(sims[a].values()), _rev(a)))
            members = [representative] + [a for a in group if a != representative]
            found.append(Campaign(
                content_hash("campaign", METHOD, question, members), question, representative,
                members, texts[representative],
                round(min(s for p, s in scored.items() if p[0] in group and s >= threshold), 4),
                {a: round(sims[representative][a], 4) for a in members[1:]}))
    return sorted(found, key=lambda c: (-c.n_answers, c.campaign_id))


def _rev(answer_id: str) -> tuple[int, ...]:
    """Ties broken towards the smallest answer id (max() takes the largest key)."""
    return tuple(-ord(ch) for ch in answer_id)


def campaign_rows(campaigns: list[Campaign], created_at: Any) -> list[dict[str, Any]]:
    """Rows of core.campaigns."""
    return [{"campaign_id": c.campaign_id, "question": c.question, "method": METHOD,
             "representative_id": c.representative_id, "n_answers": c.n_answers,
             "text": c.text, "answer_ids": c.answer_ids, "min_similarity": c.min_similarity,
             "created_at": created_at} for c in campaigns]


def derive_extraction(answer_id: str, text: str, representative_text: str,
                      representative_arguments: list[dict[str, Any]]) -> Any:
    """A member's extraction from its campaign's representative: the representative's ideas,
    each on the member's own segments that match the ones it rests on (its quote is the
    member's text), and the member's other content segments kept as they are. No model call.

    ``representative_arguments``: rows of core.arguments of the representative (text, kind,
    segments, flags) in their order."""
    from synthese.extract import (
        SHORT_FLAG,
        Argument,
        Extraction,
        _quote,
        in_context,
        keep_injection,
        keep_uncovered,
    )
    from synthese.injection import is_injection
    from synthese.kinds import kind_of
    from synthese.segments import split_segments

    own = split_segments(text)
    theirs = {s.number: s for s in split_segments(representative_text)}
    extraction = Extraction(answer_id, "processed", flags=["campagne"], n_segments=len(own),
                            n_empty_segments=sum(not s.content for s in own))
    if is_injection(text):  # a member who added orders to the model: contained like any answer
        keep_injection(extraction, own)
        return extraction
    match: dict[int, int] = {}
    for number, segment in theirs.items():
        target = normalise(segment.text)
        scored = [(fuzz.ratio(target, normalise(s.text)), -s.number) for s in own if s.content]
        best = max(scored, default=(0, 0))
        if best[0] >= SEGMENT_MATCH:
            match[number] = -best[1]
    covered: set[int] = set()
    for arg in representative_arguments:
        segments = arg.get("segments")
        numbers = sorted({match[int(n)] for n in (segments if segments is not None else [])
                          if int(n) in match})
        if not numbers:
            continue  # a sentence this member removed
        start, end = _quote(own, numbers)
        quote = text[start:end]
        given = arg.get("flags")
        flags = [str(f) for f in (given if given is not None else []) if f != "campagne"]
        # an idea that was the representative's own words is the member's own words here
        own_words = {"non_reformule", "reformulation_remplacee", SHORT_FLAG} & set(flags)
        idea = quote if own_words else arg["text"]
        if any(a.segments == numbers and a.text == idea for a in extraction.arguments):
            continue
        extraction.arguments.append(Argument(len(extraction.arguments), idea, kind_of(quote),
                                             numbers, quote, start, end, flags + ["campagne"]))
        covered.update(numbers)
    keep_uncovered(extraction, own, covered)
    return in_context(extraction, own)


def campaign_units(respondent_of: dict[str, str], campaigns: list[dict[str, Any]]
                   ) -> dict[str, str]:
    """The unit each respondent counts as when each campaign is counted once: its
    campaign's id for a member, else itself. ``respondent_of``: answer id -> respondent."""
    unit = {}
    for c in campaigns:
        for answer_id in c["answer_ids"]:
            respondent = respondent_of.get(answer_id)
            if respondent is not None:
                unit.setdefault(respondent, f"campagne:{c['campaign_id']}")
    return unit
