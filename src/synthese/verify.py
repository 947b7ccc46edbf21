"""Checks by code that every statement is supported by the answers.

- a summary sentence is supported when it is close enough, in embedding space, to at
  least one argument of its theme; the best-supporting arguments are recorded;
- a synthesis sentence is supported when it is close enough to an argument of the themes
  it cites; when the model cited no valid theme, the best-supporting themes are found by
  code and recorded as such (``cited_by = 'code'``);
- coverage is the share of respondents with at least one argument in a cited theme.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from synthese.extract import CUT_COPY_SIMILARITY, SHORT_FLAG
from synthese.injection import FLAG as INJECTION_FLAG
from synthese.keys import content_hash
from synthese.kinds import is_presentation

# Cosine similarity above which a sentence counts as supported by an argument. Chosen on
# the demo data with the default embedder: see docs/traceability.md.
SUPPORT_THRESHOLD = 0.55
TOP_K = 3


@dataclass(frozen=True)
class Support:
    score: float
    supported: bool
    best: list[int]  # indices into the candidates, best first


def support(sentence_vectors: np.ndarray, candidate_vectors: np.ndarray,
            threshold: float = SUPPORT_THRESHOLD, top_k: int = TOP_K) -> list[Support]:
    """For each sentence, its best similarity to the candidates and the top-k candidates."""
    if len(sentence_vectors) == 0:
        return []
    if len(candidate_vectors) == 0:
        return [Support(0.0, False, []) for _ in range(len(sentence_vectors))]
    sims = sentence_vectors @ candidate_vectors.T
    out = []
    for row in sims:
        order = np.argsort(-row, kind="stable")[:top_k]
        score = float(row[order[0]])
        out.append(Support(round(score, 4), score >= threshold, [int(i) for i in order]))
    return out


def best_themes(sentence_vector: np.ndarray, theme_of: np.ndarray, candidate_vectors: np.ndarray,
                threshold: float = SUPPORT_THRESHOLD, max_themes: int = 2) -> tuple[list[int], float]:
    """Themes whose arguments best support a sentence (when the model cited none)."""
    if len(candidate_vectors) == 0:
        return [], 0.0
    sims = candidate_vectors @ sentence_vector
    best: dict[int, float] = {}
    for theme, sim in zip(theme_of.tolist(), sims.tolist()):
        if theme >= 0 and sim > best.get(theme, -1.0):
            best[theme] = sim
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    chosen = [t for t, s in ranked[:max_themes] if s >= threshold]
    return chosen, (ranked[0][1] if ranked else 0.0)


# The version of prose_problem. It is part of the summary key (the stored summary is the
# grounded one), so a change redoes the summaries, from the cached model calls.
PROSE_CHECKS = 13  # 4: a summary's sentence in the first person or looping (summary_problem)
# 5: a summary's sentence that says again one it already published (ground_summary)
# 6: a loop of any length, or around a linking word (repeated_phrase)
# 7: an idea copied and cut short, a run of words said again (copied_idea, repeats_published)
# 8: sentences said again compared without accents or punctuation (said_form)
# 9: an idea cut short published as its whole quote (whole_idea)
# 10: a summary of 2 to 4 sentences; a sentence of fewer than 3 words is too short
# 11: a sentence of more than 40 words is too long (SUMMARY_MAX_WORDS)
# 12: a sentence whose words are inside one already published is said again (contained)
# 13: an idea that replaces a sentence or fills a summary is not too short, nor a
#     respondent's presentation of themselves (ground_summary's fit)

# A sentence this close to one already published says it again: a cosine of 0.9 (the bound
# of the synthesis's sentences, synthesise._drop_repeats, and of the summaries'), or, in a
# summary, the same words to a few (rapidfuzz ratio): « L'IA doit rester un outil pour
# l'enseignant, pas pour les enfants. Elle doit rester un outil pour l'enseignant, pas pour
# les enfants. » (a demo summary of 5 December 2026) scores 0.80 with the default embedder,
# 95 in words. Each of the 32 pairs of sentences of one summary at 85 or more in 561 stored
# summaries of 1-5 December 2026 is one sentence said twice (« …citoyens… » and
# « …candidats à savoir s'ils répondent »; « encourageants » and « encourants »).
SAID_AGAIN_COSINE = 0.9
SAID_AGAIN_RATIO = 85


def contained(form: str, published: str) -> bool:
    """Whether a sentence (``said_form``) of ``COPIED_MIN_WORDS`` words or more is, word for
    word, inside one already published: the first part of a letter several respondents
    copied, after the whole letter (« Avant tout déploiement dans les établissements, nous
    demandons une formation sur le temps de service, un cadre national clair sur la
    protection des données des élèves et des personnels. », a demo summary of 7 December
    2026, whose first sentence went on « …et l'assurance qu'aucun outil ne sera imposé… »)."""
    return len(form.split()) >= COPIED_MIN_WORDS and f" {form} " in f" {published} "


def said_form(text: str) -> str:
    """A sentence as ``SAID_AGAIN_RATIO`` compares it: lower case, no accents, words only.
    Respondents often write without accents, so an idea in their words said again what the
    model had said with them: « L'impact écologique de tout ce débat est l'angle mort de tout
    ce debat. L'impact ecologique est l'angle mort de tout ce debat. » (a demo summary of
    7 December 2026: ratio 84.8 with accents and punctuation, 86.2 without)."""
    text = unicodedata.normalize("NFKD", text.lower())
    return " ".join(re.findall(r"\w+", "".join(c for c in text if not unicodedata.combining(c))))


_ENGLISH = re.compile(r"\b(?:the|is|are|was|were|and|of|to|their|they|this|that|with|for"
                      r"|just|do|does|not|have|has|it|its|can|will)\b", re.IGNORECASE)
_FRENCH = re.compile(r"\b(?:le|la|les|des|est|sont|et|un|une|du|pour|avec|dans|qui|que|pas"
                     r"|ne|se|sur|ce|il|elle|ils|à|au|aux)\b", re.IGNORECASE)
# Words a French sentence does not end on: a sentence that does was cut (« …des AESH,
# pas », « …avec la leur, ça a », « Pour favoriser l'intégration, il faut »). Not « ça »,
# « plus », « en », « a » alone: « rien à ça », « je n'en peux plus », « il y en a » end
# sentences.
_DANGLING_WORDS = frozenset((
    "le", "la", "les", "l'", "un", "une", "des", "du", "de", "d'", "à", "au", "aux", "et", "ou",
    "mais", "donc", "car", "ni", "que", "qu'", "qui", "dont", "pas", "ne", "n'", "se", "s'",
    "ce", "c'", "dans", "sur", "pour", "par", "avec", "sans", "sous", "vers", "chez", "son",
    "sa", "ses", "leur", "leurs", "mon", "ma", "mes", "ton", "ta", "tes", "notre", "nos",
    "votre", "vos", "cette", "ces", "cet", "est", "sont", "comme", "faut", "faudrait"))
_ENDS_ALLOWED = re.compile(r"\b(?:pourquoi|ou|non|même|encore|toujours|oui|surtout) pas$"
                           r"|\bque (?:oui|non)$|\b(?:eux|elles?|lui|moi) aussi$")
_LAST = re.compile(r"([\w'’-]+)\W*$")


def _unfinished(text: str) -> bool:
    bare = text.replace("’", "'").rstrip(" .!?…").lower()
    if bare.endswith((",", ";", ":", "(", "-", " ça a")):
        return True
    last = _LAST.search(bare)
    if last is None or _ENDS_ALLOWED.search(bare):
        return False
    word = last.group(1)
    return word in _DANGLING_WORDS


def prose_problem(text: str) -> str | None:
    """Why a sentence the model wrote is not fit to publish whatever its support, or None:
    not French (the 0.5B slips into English: « parents themselves do their own work,
    ChatGPT is just a tool » passed the cross-lingual support check), or unfinished (it
    ends on an article, a preposition, a negation, a conjunction or a comma)."""
    words = text.replace("’", "'")
    if len(_ENGLISH.findall(words)) >= 2 and len(_ENGLISH.findall(words)) > len(
            _FRENCH.findall(words)):
        return "pas en français"
    if _unfinished(words):
        return "inachevée"
    return None


# A summary speaks of the respondents. A sentence of the model in the first person singular
# is a respondent's, copied back, often two spliced into one voice (« L'IA m'a sauvé la mise
# plus d'une fois, enseignante en maternelle depuis quinze ans, je suis très inquiète… »):
# 53 of the 294 distinct sentences the 0.5B wrote in the summaries of 30 stored demo and
# Grand Débat runs (docs/quality.md). The synthesis refuses them too (synthesise).
FIRST_PERSON = re.compile(r"\b(?:je|me|moi|mon|ma|mes)\b|\b[jm]['’]", re.IGNORECASE)
_WORDS = re.compile(r"[\w']+")


def _words(text: str) -> list[str]:
    """The words of a text, lower-cased, with typographic apostrophes made straight."""
    return _WORDS.findall(text.replace("’", "'").lower())

# A loop can say its phrase again after one of these words: « Les formations du PAF sur l'IA
# sont prises d'assaut, et les formations du PAF sur l'IA sont prises d'assaut », a demo
# summary's sentence on 7 December 2026 (nine words, said twice around « et »).
LOOP_LINKS = frozenset({"et", "ou", "puis", "mais", "donc", "ni"})


def repeated_phrase(text: str) -> str | None:
    """A phrase of two words or more, one of them longer than three letters, said twice in a
    row, or twice around one linking word (``LOOP_LINKS``): the small model looping (« pour
    préparer les cours, pour préparer les cours »). An enumeration that says a phrase again
    with other words after it (« réduire le nombre de parlementaires, réduire le nombre de
    mandats ») is not a loop."""
    words = _words(text)
    for n in range(2, len(words) // 2 + 1):
        for gap in (0, 1):
            for i in range(len(words) - 2 * n - gap + 1):
                if (gap == 0 or words[i + n] in LOOP_LINKS) \
                        and words[i:i + n] == words[i + n + gap:i + 2 * n + gap] \
                        and any(len(w) > 3 for w in words[i:i + n]):
                    return " ".join(words[i:i + n])
    return None


# A summary sentence of fewer words says nothing of its theme: « La question » was the whole
# summary the 0.5B wrote for a Grand Débat theme of ten arguments (7 December 2026).
SUMMARY_MIN_WORDS = 3
# A summary sentence of more words splices the theme's quotes with commas: each of the 11
# distinct sentences of the model over 40 words in the demo and Grand Débat databases of
# 7 December 2026 does (« Taxer les touristes comme le font bcp de pays, Taxer l'accès en
# voiture au centre villes pour les non résidents, Autoriser les voitures… », 50 words; « …à
# évaluer des travaux dont on ne sait pas qui l'a écrit, et à évaluer un travail dont on ne
# sait pas qui l'a écrit », 43), up to 94 words.
SUMMARY_MAX_WORDS = 40
# A summary has 2 to 4 sentences, as its prompt asks (summarise_cluster.v2): the 0.5B wrote
# up to 16 for a demo theme, most of them its quotes copied one after the other
# (« Prudence, prudence. On manque de recul, prudence. Prudence quand même. … »), and a
# single one, or none that held, for 7 of the demo's 31 themes and 16 of the Grand Débat's
# 32 (7 December 2026).
SUMMARY_LEAST, SUMMARY_MOST = 2, 4


def summary_problem(text: str) -> str | None:
    """Why a sentence the model wrote for a summary is not published whatever its support,
    or None: a ``prose_problem``, too short or too long (``SUMMARY_MIN_WORDS``,
    ``SUMMARY_MAX_WORDS``), in the first person singular, or looping."""
    problem = prose_problem(text)
    if problem:
        return problem
    words = len(_words(text))
    if words < SUMMARY_MIN_WORDS:
        return "trop courte"
    if words > SUMMARY_MAX_WORDS:
        return "trop longue"
    if FIRST_PERSON.search(text):
        return "à la première personne"
    if repeated_phrase(text):
        return "répétition"
    return None


@dataclass(frozen=True)
class Grounded:
    """A published sentence of a summary, and how it was checked."""

    text: str
    support: float
    supported: bool
    argument_ids: list[str]
    origin: str  # "modele" (kept as written) or "argument" (the respondents' idea instead)
    model_text: str | None  # what the model wrote, when it was replaced


def ground_summary(sentences: list[str], sentence_vectors: np.ndarray, members: pd.DataFrame,
                   member_vectors: np.ndarray, least: int = SUMMARY_LEAST,
                   most: int = SUMMARY_MOST) -> list[Grounded]:
    """Check each summary sentence against the theme's ideas, and replace it when it fails.

    A sentence that no idea of the theme supports, or that is not fit to publish
    (``summary_problem``: not French, unfinished, too short or too long, in the first
    person, looping), is replaced
    by the idea closest to it, in the respondent's words (``origin="argument"``, the model's
    sentence kept beside it; an idea cut short is its quote, ``whole_idea``; an idea too
    short or only a respondent's presentation only when no other is left), so that no
    unsupported sentence is published unflagged; so is
    one that says again ``SHARED_RUN`` words in a row of a sentence already published. A
    sentence that copies an idea and stops before its end is replaced by that idea, whole
    (``copied_idea``). A sentence that says again what the summary already published (nearly
    the same words or vector: ``SAID_AGAIN_RATIO``, ``SAID_AGAIN_COSINE``, or its words
    inside a sentence published: ``contained``) is left out. A
    summary publishes its first ``most`` sentences; one that came out with fewer than
    ``least`` (or empty) takes the most central ideas it did not say, of
    ``SUMMARY_MIN_WORDS`` words or more and not a presentation, up to ``least``.
    ``members`` (argument_id, text, and quote when known) follow ``member_vectors`` and are
    ordered most central first.
    """
    out: list[Grounded] = []
    seen: set[str] = set()
    said: list[np.ndarray] = []  # the vectors of the sentences published so far

    def said_again(text: str, vector: np.ndarray, inside: bool = True) -> bool:
        form = said_form(text)
        return any(float(v @ vector) >= SAID_AGAIN_COSINE for v in said) or any(
            fuzz.ratio(form, t) >= SAID_AGAIN_RATIO or (inside and contained(form, t))
            for t in seen)

    quotes = list(members["quote"]) if "quote" in members else [None] * len(members)

    @functools.cache  # each candidate is tried against every sentence the model wrote
    def idea(i: int) -> str:
        return _as_sentence(whole_idea(members["text"].iloc[i], quotes[i]))

    @functools.cache  # asked again for each sentence of the model that is replaced
    def fit(i: int) -> bool:
        """Whether an idea can stand for the model's sentence: not too short, as that sentence
        must not be (« Prudence, prudence. » took the place of the model's « Prudence,
        prudence. », a demo summary of 7 December 2026), and not a respondent's presentation
        of themselves (``kinds.is_presentation``), which says who, not what: « Je suis
        professeur des écoles en CE1 dans une école de quartier prioritaire. » stood in a
        demo summary for the model's copy of it, refused in the first person."""
        return len(_words(idea(i))) >= SUMMARY_MIN_WORDS and not is_presentation(idea(i))

    def publish(grounded: Grounded, vec: np.ndarray) -> None:
        seen.add(said_form(grounded.text))
        said.append(vec)
        out.append(grounded)

    checked = support(sentence_vectors, member_vectors)
    for sentence, vector, sup in zip(sentences, sentence_vectors, checked):
        ids = [members["argument_id"].iloc[i] for i in sup.best]
        copied = copied_idea(sentence, list(members["text"]))
        if copied is not None:
            # The model copied an idea and stopped before its end (« …pas seul face. » for
            # « …pas seul face à une machine. »): the respondent's idea, whole, unless the
            # summary said it already.
            if said_again(idea(copied), member_vectors[copied]):
                continue
            grounded = Grounded(idea(copied), 1.0, True, [members["argument_id"].iloc[copied]],
                                "argument", sentence)
            vec = member_vectors[copied]
        elif sup.supported and summary_problem(sentence) is None and (
                said_again(sentence, vector)  # left out below, as said again
                or not repeats_published(sentence, [g.text for g in out])):
            grounded, vec = Grounded(sentence, sup.score, True, ids, "modele", None), vector
        else:
            # the closest idea of the whole theme not said already (not only among the few
            # closest: when those are copies of sentences already published, as the ideas of
            # a text many respondents pasted are, the next one is taken); if every idea was
            # said, the model's sentence is published flagged, so that the reader sees it. An
            # idea inside a sentence published is a candidate, then left out below with the
            # sentence it replaces: a theme of one pasted letter, whose ideas are all parts of
            # it, would otherwise publish the model's unsupported sentence, flagged.
            # An idea fit to stand in a summary first (``fit``), any other when none is left.
            closest = [int(i) for i in np.argsort(-(member_vectors @ vector), kind="stable")]
            fresh = next((i for fits in (True, False) for i in closest
                          if (not fits or fit(i))
                          and not said_again(idea(i), member_vectors[i], inside=False)), None)
            if fresh is None:
                grounded, vec = Grounded(sentence, sup.score, False, ids, "modele", None), vector
            else:
                grounded = Grounded(idea(fresh), 1.0, True, [members["argument_id"].iloc[fresh]],
                                    "argument", sentence)
                vec = member_vectors[fresh]
        if not said_again(grounded.text, vec):
            publish(grounded, vec)
        if len(out) == most:
            break
    # Too few: the most central ideas not said and fit (``fit``); others only when the
    # summary would be empty otherwise.
    for fits in (True, False):
        for i in range(len(members)):
            if len(out) >= least:
                break
            if (not fits or fit(i)) and not said_again(idea(i), member_vectors[i]):
                publish(Grounded(idea(i), 1.0, True, [members["argument_id"].iloc[i]],
                                 "argument", None), member_vectors[i])
        if out:
            break
    return out


# A model's sentence that says again this many words in a row of a sentence the summary
# already published loops: « …, ce qui implique une diminution de la relation humaine entre
# un enseignant et ses élèves » (15 words) ended three sentences of one demo summary on
# 7 December 2026. Distinct sentences of the stored summaries shared at most 8
# (« Il faut mettre en place le RIC et… »).
SHARED_RUN = 10
COPIED_MIN_WORDS = 4  # a copied beginning this long or longer is a copy, not a coincidence


def repeats_published(sentence: str, published: list[str]) -> bool:
    """Whether ``sentence`` says ``SHARED_RUN`` words in a row of one of ``published``."""
    words = _words(sentence)
    runs = {tuple(words[i:i + SHARED_RUN]) for i in range(len(words) - SHARED_RUN + 1)}
    for text in published:
        said = _words(text)
        if any(tuple(said[i:i + SHARED_RUN]) in runs
               for i in range(len(said) - SHARED_RUN + 1)):
            return True
    return False


def copied_idea(sentence: str, ideas: list[str]) -> int | None:
    """The index of the idea whose words ``sentence`` copies from its beginning and stops
    before its end (``COPIED_MIN_WORDS`` words or more), or None. A whole sentence of an
    idea of several sentences is not cut short."""
    words = _words(sentence)
    if len(words) < COPIED_MIN_WORDS:
        return None
    for i, idea in enumerate(ideas):
        text = str(idea).replace("’", "'").lower()
        found = list(_WORDS.finditer(text))
        if len(found) > len(words) and [m.group() for m in found[:len(words)]] == words \
                and not text[found[len(words) - 1].end():].lstrip().startswith(
                    (".", "!", "?", "…")):
            return i
    return None


# An idea this long, or longer, that stops without a full stop may be the grammar's cut:
# the embedded model's ideas are bounded at 90 characters (extract.MAX_IDEA_CHARS), and the
# lines grammar also ends one when the next token no longer fits, a few characters before
# (« …pour obtenir la », 87 characters, « solution » did not fit). In the published demo of
# 7 December 2026, 88 of the 924 distinct ideas were cut so, all 75 characters long or more
# (45 end on a word no sentence ends on, 43 copy their quote); under 75, two end on such a
# word and are whole (« Comparaison automatique avec la leur »). Grand Débat: 61 of 654.
CUT_IDEA_CHARS = 75


def whole_idea(text: str, quote: str | None) -> str:
    """An idea as a summary publishes it in place of a sentence of the model: the idea, or
    its quote (the respondent's whole words) when the idea was cut short. Cut short: it is
    ``CUT_IDEA_CHARS`` long or more, ends with no full stop, and either ends on a word a
    French sentence does not end on (« …ou à alourdir notre », for « …ou à alourdir notre
    charge de travail ») or copies its quote and stops before its end (« …je suis très
    inquiète de voir arriver l'IA », for « …l'IA dans les discussions sur l'école »). The
    published demo's summaries held six such sentences, one a whole summary: « …mais elle
    est devenue mon. » (docs/quality.md, « Summaries of 2 to 4 whole sentences »)."""
    text = " ".join(str(text).split())
    if not isinstance(quote, str) or len(text) < CUT_IDEA_CHARS \
            or text.endswith((".", "!", "?", "…")):
        return text
    quote = " ".join(quote.split())
    idea, whole = said_form(text), said_form(quote)
    if len(whole) <= len(idea):
        return text
    if _unfinished(text):
        return quote
    found = fuzz.partial_ratio_alignment(idea, whole)
    copied = found is not None and found.score >= CUT_COPY_SIMILARITY
    return quote if copied and whole[found.dest_end:].strip() else text


def _as_sentence(text: str) -> str:
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def check_key(summary_key: str, embed_model_id: str) -> str:
    """Identity of the support check of one summary: a new embedder or threshold, a new check."""
    return content_hash(summary_key, embed_model_id, SUPPORT_THRESHOLD)


def cite_and_check(cited: list[int], vector: np.ndarray, theme_of: np.ndarray,
                   argument_vectors: np.ndarray) -> tuple[list[int], float, str | None]:
    """The themes a synthesis sentence cites, its support score, and who cited them.

    The sentence's support is its best similarity to an argument of the themes it cites.
    When that is under the threshold and other themes support it better, code cites those
    instead (``"code"``); ``None`` when nothing is cited.
    """
    mask = np.isin(theme_of, cited) if cited else np.zeros(len(theme_of), dtype=bool)
    score = float((argument_vectors[mask] @ vector).max()) if mask.any() else 0.0
    by = "modele"
    if score < SUPPORT_THRESHOLD:
        found, best = best_themes(vector, theme_of, argument_vectors)
        if found and best > score:
            cited, score, by = found, best, "code"
    return cited, score, (by if cited else None)


def _share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def trust_figures(args: pd.DataFrame, summary_sentences: pd.DataFrame, synth: pd.DataFrame,
                  themes: pd.DataFrame, counts: dict[str, Any]) -> dict[str, Any]:
    """The figures of the « Indicateurs de fiabilité » panel, stored with each run.

    ``args``: the arguments with their cluster_id, respondent_id and match_kind;
    ``summary_sentences`` and ``synth``: the published sentences of the summaries and of the
    synthesis, checked; ``themes``: the themes with their title_origin; ``counts``: the
    answer counts (Store.answer_counts).
    """
    n = len(args)
    kinds = args["match_kind"].value_counts().to_dict() if n else {}
    cited = synth[synth["cluster_ids"].map(lambda ids: len(ids) > 0)] if len(synth) else synth
    cited_ids = {int(i) for ids in cited["cluster_ids"] for i in ids} if len(cited) else set()
    covered = (args[args["cluster_id"].isin(cited_ids)]["respondent_id"].nunique()
               if n and cited_ids else 0)
    origin = (summary_sentences["origin"].fillna("modele") if len(summary_sentences)
              else pd.Series(dtype=object))
    by_model = summary_sentences[origin == "modele"] if len(summary_sentences) else summary_sentences
    replaced = int((origin == "argument").sum())
    synth_origin = (synth["origin"].fillna("modele") if len(synth) and "origin" in synth
                    else pd.Series(["modele"] * len(synth), dtype=object))
    real = themes[themes["cluster_id"] >= 0] if len(themes) else themes
    title_origin = (real["title_origin"].fillna("modele") if len(real) and "title_origin" in real
                    else pd.Series(dtype=object))
    verified = sum(kinds.values())
    def answers_flagged(flag: str) -> int:
        if not n or "flags" not in args:
            return 0
        flagged = [flag in list(f) if f is not None else False for f in args["flags"]]
        return int(args[flagged]["answer_id"].nunique()) if any(flagged) else 0

    return {
        "injection_answers": answers_flagged(INJECTION_FLAG),
        "short_answers": answers_flagged(SHORT_FLAG),
        "quotes_verified_share": _share(verified, n),
        "quotes_segment_share": _share(kinds.get("segment", 0), n),
        "quotes_exact_share": _share(kinds.get("exact", 0) + kinds.get("normalised", 0), n),
        "quotes_fuzzy_share": _share(kinds.get("fuzzy", 0), n),
        "unverified_quotes": n - verified,
        "uncovered_segments": int(counts.get("uncovered_segments", 0)),
        "empty_segments": int(counts.get("empty_segments", 0)),
        "summary_sentences_supported_share": _share(
            int(summary_sentences["supported"].sum()) if len(summary_sentences) else 0,
            len(summary_sentences)),
        "unsupported_summary_sentences": int((~summary_sentences["supported"].astype(bool)).sum())
        if len(summary_sentences) else 0,
        "summary_model_sentences_supported_share": _share(
            int(by_model["supported"].sum()) if len(by_model) else 0, len(by_model) + replaced),
        "summary_sentences_replaced": replaced,
        "synthesis_sentences_cited_share": _share(len(cited), len(synth)),
        "synthesis_sentences_supported_share": _share(
            int(synth["supported"].sum()) if len(synth) else 0, len(synth)),
        "synthesis_model_sentences": int((synth_origin == "modele").sum()),
        "synthesis_fallback_sentences": int((synth_origin == "repli").sum()),
        "synthesis_quote_sentences": int((synth_origin == "citation").sum()),
        "synthesis_code_sentences": int((synth_origin == "code").sum()),
        "respondent_coverage": _share(covered, int(counts.get("respondents_with_arguments")
                                                   or args["respondent_id"].nunique() if n else 0)),
        "titles_by_model_share": _share(int((title_origin == "modele").sum()), len(title_origin)),
        "titles_fallback": int((title_origin != "modele").sum()),
    }
