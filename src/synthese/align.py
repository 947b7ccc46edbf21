"""Locate a model's quote in the answer it claims to come from.

Small models rewrite quotes lightly (a trial found only 6 of 27 verbatim). The model's
quote therefore only points at the text: we align it to the answer and store the answer's
own span, so every stored quote is verbatim by construction. Tried in order:

1. exact substring;
2. match after normalising case, accents, whitespace and punctuation;
3. fuzzy partial match (rapidfuzz) with its score, accepted above a threshold.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

FUZZY_THRESHOLD = 85.0
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class QuoteMatch:
    start: int
    end: int
    kind: str  # "exact" | "normalised" | "fuzzy"
    score: float

    def span(self, text: str) -> str:
        return text[self.start : self.end]


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Lower-case, accent-free text of word characters and single spaces, with, for each
    output character, the index of the original character it came from."""
    out: list[str] = []
    index: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        base = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in base if not unicodedata.combining(c)).lower()
        if not base or not _WORD.match(base[0]):
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            index.append(i)
            pending_space = False
        for c in base:
            out.append(c)
            index.append(i)
    return "".join(out), index


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span to drop surrounding spaces and punctuation, keep closing punctuation."""
    while start < end and not _WORD.match(text[start]) and text[start] not in "«\"'(":
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _expand_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and _WORD.match(text[start - 1]) and _WORD.match(text[start]):
        start -= 1
    while end < len(text) and end > 0 and _WORD.match(text[end - 1]) and _WORD.match(text[end]):
        end += 1
    return start, end


def locate_quote(answer: str, quote: str, *, threshold: float = FUZZY_THRESHOLD) -> QuoteMatch | None:
    """Find ``quote`` in ``answer``; None when it cannot be located above ``threshold``."""
    quote = (quote or "").strip().strip("«»\"“”'").strip()
    if not quote or not answer:
        return None
    pos = answer.find(quote)
    if pos >= 0:
        # a quote cut by the length bound may stop mid-word: widen to whole words
        start, end = _trim(answer, *_expand_to_words(answer, pos, pos + len(quote)))
        # a quote of punctuation alone (« € », « ... ») trims to nothing: not a quote
        return QuoteMatch(start, end, "exact", 100.0) if end > start else None

    norm_answer, amap = _normalise_with_map(answer)
    norm_quote, _ = _normalise_with_map(quote)
    if not norm_quote:
        return None
    pos = norm_answer.find(norm_quote)
    if pos >= 0:
        start = amap[pos]
        end = amap[pos + len(norm_quote) - 1] + 1
        start, end = _trim(answer, *_expand_to_words(answer, start, end))
        return QuoteMatch(start, end, "normalised", 100.0)

    # Very short quotes match anything fuzzily: require a few words.
    if len(norm_quote) < 12:
        return None
    alignment = fuzz.partial_ratio_alignment(norm_quote, norm_answer)
    if alignment is None or alignment.score < threshold:
        return None
    ds, de = alignment.dest_start, alignment.dest_end
    if de <= ds:
        return None
    start = amap[ds]
    end = amap[de - 1] + 1
    start, end = _trim(answer, *_expand_to_words(answer, start, end))
    if end <= start:
        return None
    return QuoteMatch(start, end, "fuzzy", round(float(alignment.score), 1))
