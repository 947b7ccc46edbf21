"""Cut an answer into numbered segments: the units the model points at, by number.

Code, not the model, decides where an answer's sentences and clauses are: a segment is a
sentence, a line or a bullet, and a long sentence is cut again at its clause boundaries
(« ; », « : », « mais », « cependant »…). The model then only says which segments each idea
rests on, so every quote is the answer's own text, with its offsets, by construction.

A segment that carries no idea (« Merci », « Bonjour », « RAS », a lone « - ») is kept and
shown, but flagged ``content=False``: no argument needs to cover it, and an answer made only
of such segments costs no model call.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A sentence ends at . ! ? … (with closing quotes or brackets) before a space, or at a line
# break; many answers start their sentences in lower case. Abbreviations (M. Dupont, etc.)
# are protected below.
_CLOSERS = "»\")]”"  # closing guillemets and brackets: they stay with the sentence they close
_SENTENCE_END = re.compile(rf"(?<=[.!?…])[{re.escape(_CLOSERS)}]*\s+(?=\S)|\s*\n\s*")
_ABBREVIATIONS = re.compile(r"(?:\b(?:M|MM|Mme|Mmes|Mlle|Dr|Pr|St|Ste|cf|etc|ex|p|n°|art)\.|\b[A-Z]\.)$")
_BULLET = re.compile(r"(?:[-–—•*·▪►]+|\d{1,2}[.)]|[a-z][.)])\s+")
# Clause boundaries where a long sentence may be cut (the boundary word stays with what follows).
_CLAUSE = re.compile(
    r"\s*;\s+|(?<=\w)\s*:\s+(?=\w)|,?\s+(?=(?:mais|cependant|toutefois|pourtant|néanmoins|en revanche"
    r"|par contre|alors que|tandis que|sauf que|même si|d'autant plus que|car)\b)",
    re.IGNORECASE,
)
# Part of the extractor's key (extract.extractor_key): new segments give new ideas.
# 2: no cut inside brackets, a sentence keeps its closing guillemets and brackets.
SEGMENTS_VERSION = 2

# A sentence end or a clause boundary inside brackets or guillemets closed further on the
# same line cuts nothing: « parfois avec la phrase « En tant que modèle de langage... »
# dedans » gave two segments, and « » dedans. » became an idea of its own (3 demo answers
# and 14 of 200 Grand Débat comments were cut inside brackets, docs/quality.md). A sign
# just before the close is not a sentence end either: at the 28 places of the 693 Grand
# Débat comments where « .) », « !) » or « ?) » comes before more text, the sentence goes
# on (« (maladie, handicap...) mais cesser d'aider… »). A bracket never closed, or closed
# only after BRACKET_SPAN characters, protects nothing.
_BRACKETS = {"«": "»", "(": ")", "[": "]", "“": "”"}
BRACKET_SPAN = 200  # characters
_OPENING = re.compile("[" + re.escape("".join(_BRACKETS)) + "]")
LONG_SEGMENT = 180  # characters: a longer sentence is cut at its clause boundaries
MIN_PART = 25  # characters: no part of a cut sentence is shorter than this
_WORD = re.compile(r"[^\W\d_]{2,}")
_EMPTY = re.compile(
    r"^(?:merci(?: beaucoup| d'avance| à vous| pour (?:ce|cette|votre|le|la) [\w' ]+)?|bonjour"
    r"|bonsoir|cordialement|bien cordialement|salutations(?: distinguées)?|bonne (?:journée|soirée"
    r"|continuation)|ras|r a s|rien à (?:signaler|ajouter|dire)|rien de plus|pas d'avis|sans avis"
    r"|aucun avis|pas de commentaires?|aucun commentaire|non merci|néant|n a|nsp|je ne sais pas"
    r"|pour|contre|avantages?|inconvénients?|points? positifs?|points? négatifs?)$"
)


@dataclass(frozen=True)
class Segment:
    number: int  # 1-based, as the model sees it
    start: int  # offsets in the answer
    end: int
    text: str
    content: bool  # False for courtesy, empty words and headers (« Pour : »)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return " ".join(re.findall(r"[\w']+", text)).replace("'", "'")


def is_content(text: str) -> bool:
    """Whether a segment can carry an idea: some words, not only courtesy or a header."""
    if not _WORD.search(text):
        return False
    return _EMPTY.match(_fold(text).strip(" '")) is None


def _bracketed(text: str) -> list[tuple[int, int]]:
    """The (opening, closing) offsets of each bracket or guillemet of ``text`` closed on the
    same line within ``BRACKET_SPAN`` characters (nested ones of its own kind counted)."""
    spans = []
    for m in _OPENING.finditer(text):
        i, opening = m.start(), m.group()
        closing = _BRACKETS[opening]
        depth = 0
        for j in range(i + 1, min(len(text), i + 1 + BRACKET_SPAN)):
            if text[j] == "\n":
                break
            if text[j] == opening:
                depth += 1
            elif text[j] == closing:
                if depth == 0:
                    spans.append((i, j))
                    break
                depth -= 1
    return spans


def _spans(text: str, pattern: re.Pattern[str], start: int, end: int,
           inside: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pieces of ``text[start:end]`` between the matches of ``pattern``, except the matches
    inside brackets (``inside``, from ``_bracketed``) that break no line. A sentence keeps
    the guillemets and brackets that close it (« …impôts...) »)."""
    out, pos = [], start
    ends = pattern is _SENTENCE_END
    for m in pattern.finditer(text, start, end):
        if m.start() <= pos:
            continue
        mark = m.start() - 1 if ends else m.start()  # the sentence's last sign, or the boundary
        if "\n" not in m.group() and any(a < mark < b for a, b in inside):
            continue
        if ends and _ABBREVIATIONS.search(text[max(pos, m.start() - 6) : m.start()]):
            continue
        cut = m.start() + len(m.group()) - len(m.group().lstrip(_CLOSERS)) if ends else m.start()
        out.append((pos, cut))
        pos = m.end()
    out.append((pos, end))
    return out


def _clauses(text: str, start: int, end: int,
             inside: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A long sentence cut at clause boundaries, no part shorter than MIN_PART."""
    if end - start <= LONG_SEGMENT:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    for s, e in _spans(text, _CLAUSE, start, end, inside):
        if pieces and (e - s < MIN_PART or pieces[-1][1] - pieces[-1][0] < MIN_PART):
            pieces[-1] = (pieces[-1][0], e)  # too short: stays with the previous part
        else:
            pieces.append((s, e))
    return pieces


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    bullet = _BULLET.match(text, start, end)
    if bullet:
        start = bullet.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_segments(text: str) -> list[Segment]:
    """The answer's segments, in order, with offsets such that ``text[start:end]`` is each."""
    out: list[Segment] = []
    inside = _bracketed(text)
    for s, e in _spans(text, _SENTENCE_END, 0, len(text), inside):
        s, e = _trimmed(text, s, e)
        for cs, ce in _clauses(text, s, e, inside) if e > s else ():
            cs, ce = _trimmed(text, cs, ce)
            if ce > cs:
                piece = text[cs:ce]
                out.append(Segment(len(out) + 1, cs, ce, piece, is_content(piece)))
    return out


def numbered(segments: list[Segment]) -> str:
    """The segments as the model reads them: one per line, « [n] text »."""
    return "\n".join(f"[{s.number}] {s.text}" for s in segments)
