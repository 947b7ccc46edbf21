"""French recognisers for Presidio: names, schools, addresses and French identifiers.

Presidio has no French recogniser, and spaCy's French NER alone both misses names (« l'élève
Kevin ») and invents them (capitalised verbs at the start of a sentence, « collège Jean Moulin »
tagged PER). Each recogniser here is a small, explainable rule; ``pseudonymise.py`` resolves
their overlaps. Checksums (NIR, IBAN, UAI) are verified so that ordinary numbers stay untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from synthese.pseudonymise import RULES_VERSION

UP = "A-ZÀ-ÖØ-Þ"
LOW = "a-zà-öø-ÿœæ"
# A capitalised name word (« Lefèvre », « Jean-Pierre », « O'Neil ») or an upper-case one (« DUPONT »).
NAME_WORD = re.compile(
    rf"(?<![\w-])(?:[{UP}][{LOW}]+(?:[A-Z][{LOW}]+)?(?:[-'’][{UP}][{LOW}]+)*"
    rf"|[{UP}]{{2,}}(?:-[{UP}]{{2,}})*)(?![\w])"
)
INITIAL = re.compile(rf"[{UP}]\.(?![\w'’-])")
GAP = re.compile(r"[ \t]+")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Lower-case particles allowed inside a name when a capitalised word follows.
NAME_PARTICLE = re.compile(r"(?:de|du|des|da|di|van|von|der|ben|el|al|ter)[ \t]+|d['’]")
NAME_PARTICLES = _word_set("de du des d da di van von der le la ben el al ter")


# Capitalised words that are not names: pronouns, articles, sentence openers, titles, roles,
# institutions, days and months. They stop a name and veto one-word NER hits.
NOT_NAMES = _word_set(
    """je tu il elle on nous vous ils elles le la les l un une des du de d au aux ce cet cette
    ces mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs et ou mais donc car or ni
    si pour par avec sans dans en à a sur sous chez depuis selon vers entre contre après avant
    pendant merci bonjour bonsoir cordialement salut oui non quand comme tout tous toute toutes
    rien personne chaque certains certaines plusieurs aucun aucune quel quelle quels quelles qui
    que quoi dont où ici là voilà enfin ainsi alors aussi puis bref cependant pourtant néanmoins
    madame monsieur mademoiselle mesdames messieurs maître maîtresse docteur professeur
    président présidente ministre ministère ministres général générale état etat république
    france européen europe nation nationale national éducation education académie academie
    rectorat recteur rectrice région département ville mairie maire préfet préfecture sénat
    assemblée conseil gouvernement directeur directrice principal principale proviseur
    proviseure inspecteur inspectrice inspection collège lycée école université ia internet
    dieu lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai juin
    juillet août septembre octobre novembre décembre français française anglais anglaise
    allemand allemande espagnol espagnole italien italienne arabe chinois élève élèves parent
    parents enseignant enseignants enseignante enseignantes professeurs professeure cpe aesh
    aed ent bac pro brevet cap bts but rgpd cnil snt nsi svt eps ses stmg cdi saint sainte"""
)
# Words before a capitalised word that make it something other than a person (« loi Jules
# Ferry », « rue Pasteur », « pédagogie Freinet ») or a common noun (« la Marine », « le Président »).
NOT_PERSON_BEFORE = _word_set(
    """le la les l un une des du au aux ce cette loi lois rapport rapports plan réforme méthode
    méthodes pédagogie prix fondation rue avenue boulevard place allée impasse chemin quai cours
    square salle bâtiment amphi amphithéâtre promotion hôpital gare stade station théorème
    principe effet musée centre institut université médiathèque bibliothèque pont résidence
    collège lycée école saint sainte programme dispositif modèle logiciel application outil
    plateforme projet opération mission label ia chatbot version"""
)

TITLE = re.compile(
    r"(?<![\w.])(?:M\.|MM\.|Mr\.?|Mme\.?|Mmes\.?|Mlle\.?|Melle\.?|Dr\.?|Pr\.?"
    r"|[Mm]onsieur|[Mm]adame|[Mm]ademoiselle|[Mm]essieurs|[Mm]esdames|[Dd]octeur|[Mm]aître)"
    r"[ \t]+(?:(?:de|d['’])[ \t]*)?"
)
# Role and kinship words after which a capitalised word names a person (« l'élève Kevin »,
# « ma collègue, Sophie Durand », « mon collègue de maths, Julien »).
ROLE = re.compile(
    r"(?<![\w-])(?:élèves?|collègues?|professeure?s?|profs?|enseignante?s?|directeur|directrice"
    r"|principale?|proviseure?|adjointe?|inspecteur|inspectrice|cpe|aesh|aed|documentaliste"
    r"|stagiaire|tuteur|tutrice|référente?|formateur|formatrice|infirmière|infirmier|secrétaire"
    r"|surveillante?|maître|maîtresse|fils|fille|petit-fils|petite-fille|frère|s(?:œ|oe)ur|mari"
    r"|épouse|époux|compagnon|compagne|camarade|amie?|voisine?|petit|petite|neveu|nièce"
    r"|cousine?|étudiante?|lycéenne?|collégienne?|nommée?|prénommée?|appelée?|m['’]appelle"
    r"|s['’]appel(?:le|ait)|me nomme|cordialement|signé|remercie|merci à)(?![\w'’-])"
    r"(?:[ \t]+(?:de|d['’]|en)[ \t]*(?-i:[a-zà-ÿ]+|[A-Z]{2,5}|\d+e))?[ \t]*[,:]?[ \t]*",
    re.IGNORECASE,
)
# Words after which « de X » names a person: « la mère de Noah », « les copies de Tom ».
OWNER = re.compile(
    r"(?<![\w-])(?:mère|père|parents|famille|frère|s(?:œ|oe)ur|copies?|bulletin|dossier|fiche"
    r"|cahier|compte|suivi|devoirs?|notes?|absences?|cas)[ \t]+(?:de[ \t]+|d['’])",
    re.IGNORECASE,
)
SELF_INTRO = re.compile(r"(?<!\w)(?:[Jj]e suis|[Jj]e m['’]appelle)[ \t]+")


def _word_key(word: str) -> str:
    return word.lower().replace("’", "'")


def is_first_name(word: str) -> bool:
    """True for a known French first name, compound ones included (« Jean-Pierre »)."""
    parts = [p for p in re.split(r"-", word) if p]
    return bool(parts) and all(_word_key(p) in FIRST_NAMES for p in parts)


def looks_like_name(word: str) -> bool:
    """A word that may be repeated as a name: a first name, or no common-word look."""
    key = _word_key(word)
    if key in NOT_NAMES or len(key) < 3 or (word.isupper() and len(word) <= 5):
        return False  # short upper-case words are acronyms (« PLP », « CESE »)
    return is_first_name(word) or not COMMON_WORD_ENDING.search(key)


def name_end(text: str, pos: int, max_words: int = 4) -> int | None:
    """End offset of the person name starting at ``pos``, or None if none starts there.

    A name is capitalised words, lower-case particles between them (« Olivier de Serres »)
    and a final initial (« Kevin L. »). A word from NOT_NAMES ends it.
    """
    m = NAME_WORD.match(text, pos)
    if not m or _word_key(m.group()) in NOT_NAMES:
        return None
    end, words = m.end(), 1
    while words < max_words:
        gap = GAP.match(text, end)
        if not gap:
            break
        nxt = gap.end()
        particle = NAME_PARTICLE.match(text, nxt)
        word = NAME_WORD.match(text, particle.end() if particle else nxt)
        if word and _word_key(word.group()) not in NOT_NAMES:
            end, words = word.end(), words + 1
            continue
        initial = INITIAL.match(text, nxt)
        if initial and not particle:
            end = initial.end()
        break
    return end


def _previous_word(text: str, pos: int) -> str:
    m = re.search(r"([\w’'-]+)['’]?[ \t]*$", text[max(0, pos - 40) : pos])
    return _word_key(m.group(1)).rstrip("'") if m else ""


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(' \t"«“(')
    return not before or before[-1] in ".!?\n:;-–—…"


# Endings of French common nouns, adjectives and verbs: a lone capitalised word with one of
# them (« l'argent Publique », « refus de Naturalisation ») is a stray capital, not a surname.
COMMON_WORD_ENDING = re.compile(
    r"(?:tions?|sions?|ments?|iques?|ités?|ismes?|istes?|ances?|ences?|eurs?|euses?|eux|aires?"
    r"|ables?|ibles?|ades?|ages?|ures?|ées?|és|er|ir|ire|oir|ants?|antes?|ifs?|ives?|aux)$"
)


SUBJECT_VERB = re.compile(
    r"[ \t]+(?:a|avait|aura|est|était|sera|m['’]a|m['’]avait|nous|vous|lui|leur|me|m['’]|"
    r"pense|trouve|dit|disait|fait|utilise|explique|enseigne|travaille)(?![\w])"
)
# « Albert, l'IA de l'État », « Claude (un assistant) »: a product, not a person.
PRODUCT_APPOSITION = re.compile(
    r"[ \t]*[,(][ \t]*(?:l['’]|une?[ \t]+|son[ \t]+|cet?[ \t]+|cette[ \t]+)?(?:ia|outil"
    r"|assistant[ \t]+(?:ia|virtuel|conversationnel)|chatbot|logiciel|application|appli"
    r"|plateforme|agent[ \t]+conversationnel|modèle|llm)(?![\w])",
    re.IGNORECASE,
)
# « Paul, Inès et Siddharth »: a name coordinated with a detected one is a name too.
COORDINATION = re.compile(r"(?:[ \t]*,[ \t]*|[ \t]+(?:et|ou)[ \t]+)")


class FrenchPersonRecognizer(EntityRecognizer):
    """PERSONNE from titles, roles, first names and spaCy's PER, each vetted by simple rules."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["PERSONNE"],
            supported_language="fr",
            name="FrenchPersonRecognizer",
            version=RULES_VERSION,
        )

    def load(self) -> None:  # nothing to load: the rules are code
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        found: dict[tuple[int, int], float] = {}

        def add(start: int, end: int | None, score: float) -> None:
            if end is not None and end > start and not PRODUCT_APPOSITION.match(text, end):
                found[(start, end)] = max(score, found.get((start, end), 0.0))

        for m in TITLE.finditer(text):
            if not re.match(r"(?:[Ll]a|[Ll]e|[Ll]es)\b", text[m.end() : m.end() + 3]):
                add(m.start(), name_end(text, m.end()), 0.85)
        for m in ROLE.finditer(text):
            end = name_end(text, m.end())
            word = text[m.end() : end] if end else ""
            if end and not re.fullmatch(rf"[{UP}]{{2,5}}", word):
                add(m.end(), end, 0.8)
        for m in OWNER.finditer(text):
            nm = NAME_WORD.match(text, m.end())
            if nm and is_first_name(nm.group()):
                add(m.end(), name_end(text, m.end()), 0.75)
        for m in SELF_INTRO.finditer(text):
            nm = NAME_WORD.match(text, m.end())
            if nm and is_first_name(nm.group()):
                add(m.end(), name_end(text, m.end()), 0.8)
        for m in NAME_WORD.finditer(text):
            if (
                is_first_name(m.group())
                and not m.group().isupper()
                and _previous_word(text, m.start()) not in NOT_PERSON_BEFORE
            ):
                add(m.start(), name_end(text, m.start()), 0.75)
        doc = nlp_artifacts.tokens if nlp_artifacts is not None else None
        for ent in doc.ents if doc is not None else ():
            if ent.label_ == "PER":
                span = self._vet_ner_span(text, ent.start_char, ent.end_char)
                if span:
                    add(*span)
        self._add_coordinated(text, found)
        return [RecognizerResult("PERSONNE", s, e, score) for (s, e), score in found.items()]

    @staticmethod
    def _add_coordinated(text: str, found: dict[tuple[int, int], float]) -> None:
        """Extend detections along « A, B et C » lists, in both directions."""
        todo = list(found)
        while todo:
            start, end = todo.pop()
            after = COORDINATION.match(text, end)
            if after:
                nm = NAME_WORD.match(text, after.end())
                stop = name_end(text, after.end()) if nm and looks_like_name(nm.group()) else None
                if stop and (after.end(), stop) not in found:
                    found[(after.end(), stop)] = 0.6
                    todo.append((after.end(), stop))
            before = re.search(
                rf"({NAME_WORD.pattern})(?:[ \t]*,[ \t]*|[ \t]+(?:et|ou)[ \t]+)$",
                text[max(0, start - 60) : start],
            )
            if before and looks_like_name(before.group(1)):
                b_start = start - len(before.group(0))
                if (b_start, b_start + len(before.group(1))) not in found and not any(
                    s <= b_start < e for s, e in found
                ):
                    found[(b_start, b_start + len(before.group(1)))] = 0.6
                    todo.append((b_start, b_start + len(before.group(1))))

    @staticmethod
    def _vet_ner_span(text: str, start: int, end: int) -> tuple[int, int, float] | None:
        """Keep a spaCy PER span only if it reads like a name; trim it to the name."""
        span = text[start:end].strip(" \t,;:.!?«»\"'()")
        start = text.index(span, start) if span else start
        words = re.findall(r"[\w’'-]+", span)
        if not words or not re.fullmatch(r"[\w’' .-]+", span) or any(c.isdigit() for c in span):
            return None
        names = [w for w in words if _word_key(w) not in NAME_PARTICLES]
        if not names or any(not w[0].isupper() or _word_key(w) in NOT_NAMES for w in names):
            return None  # « président de la République », « Abandon de France »
        if _previous_word(text, start) in NOT_PERSON_BEFORE:
            return None
        if len(words) == 1:
            word = words[0]
            if word.isupper() and len(word) <= 5:
                return None
            if not is_first_name(word):
                if COMMON_WORD_ENDING.search(word.lower()):
                    return None
                # At a sentence start a capital proves nothing, unless a verb follows the way
                # it follows a subject (« Kowalski m'a répondu »), not an infinitive's object.
                if _sentence_start(text, start) and not SUBJECT_VERB.match(text, start + len(span)):
                    return None
            return start, start + len(span), 0.55
        return start, start + len(span), 0.65


SCHOOL_KIND = re.compile(
    r"(?<![\w-])(?:(?i:[ée]cole(?:[ \t]+(?:maternelle|élémentaire|elementaire|primaire|publique"
    r"|privée|normale))?|(?:groupe|cité|ensemble)[ \t]+scolaire|collège)|Institution"
    r"|(?i:lycée(?:[ \t]+(?:professionnel|polyvalent|général(?:[ \t]+et[ \t]+technologique)?"
    r"|technologique|agricole|des[ \t]+métiers))?)|LP|LPO|LGT|LEGT|EREA|SEGPA|CFA|IME|ITEP)"
    r"(?![\w-])"
)
SCHOOL_CONNECTOR = re.compile(
    r"(?:[ \t]+(?:et|de|du|des|sur|sous|en)[ \t]+|[ \t]+d['’]|[ \t]*-[ \t]*|[ \t]+)"
)
TOWN_CONNECTOR = re.compile(r"[ \t]+(?:de|du|des|à|sur)[ \t]+|[ \t]+d['’]")
SCHOOL_NAME_WORD = re.compile(
    rf"(?<![\w-])(?:[{UP}][{LOW}]*(?:[-'’][{UP}a-z][{LOW}]*)*|[{UP}]{{2,}}|[IVX]+)(?![\w])"
)
NOT_SCHOOL_NAMES = (NOT_NAMES - {"le", "la", "les", "l"}) | _word_set(
    "république confiance futur demain vie avenir"
)


class FrenchSchoolRecognizer(EntityRecognizer):
    """ETABLISSEMENT: a school kind followed by a proper name and/or a town.

    « collège Jean Moulin de Vénissieux », « école élémentaire Les Tilleuls », « LP Marcel
    Sembat », « collège de Vénissieux ». « au collège » or « l'école de la République » alone
    name no school and stay.
    """

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["ETABLISSEMENT"],
            supported_language="fr",
            name="FrenchSchoolRecognizer",
            version=RULES_VERSION,
        )

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        for m in SCHOOL_KIND.finditer(text):
            end = self._name_end(text, m.end())
            if end:
                town = SCHOOL_TOWN_AFTER.match(text, end)
                if town and _word_key(town.group(1).split()[0]) not in NOT_SCHOOL_NAMES:
                    end = town.end()
                results.append(RecognizerResult("ETABLISSEMENT", m.start(), end, 0.85))
        return results

    @staticmethod
    def _words(text: str, pos: int) -> int | None:
        """End of a run of capitalised words joined by connectors, starting at pos."""
        quote = re.match(r"[ \t]*[«\"“][ \t]*", text[pos:])
        if quote:
            close = re.match(r"[^»\"”\n]{2,60}[»\"”]", text[pos + quote.end() :])
            return pos + quote.end() + close.end() if close else None
        m = SCHOOL_NAME_WORD.match(text, pos)
        if not m or _word_key(m.group()) in NOT_SCHOOL_NAMES:
            return None
        if _word_key(m.group()) in {"le", "la", "les"}:  # « Les Tilleuls », not « Les élèves »
            nxt = SCHOOL_NAME_WORD.match(text, m.end() + 1)
            if not nxt or _word_key(nxt.group()) in NOT_SCHOOL_NAMES:
                return None
        end = m.end()
        for _ in range(6):
            conn = SCHOOL_CONNECTOR.match(text, end)
            word = SCHOOL_NAME_WORD.match(text, conn.end()) if conn else None
            if not word or _word_key(word.group()) in NOT_SCHOOL_NAMES:
                break
            end = word.end()
        if end == m.end() and re.fullmatch(rf"[{UP}]{{2,4}}", m.group()):
            return None  # « école PMI » : a lone acronym is a service, not a school's name
        return end

    def _name_end(self, text: str, pos: int) -> int | None:
        gap = GAP.match(text, pos)
        if gap:
            end = self._words(text, gap.end())
            if end:
                return end
        town = TOWN_CONNECTOR.match(text, pos)  # « collège de Vénissieux »
        if town:
            return self._words(text, town.end())
        return None


def _nir_key_ok(digits: str) -> bool:
    body, key = digits[:13], digits[13:]
    body = body.replace("2A", "19").replace("2B", "18")
    return body.isdigit() and key.isdigit() and 97 - int(body) % 97 == int(key)


def nir_is_valid(value: str) -> bool:
    """NIR (French social security number): 13 characters + key, key = 97 − (n mod 97).

    Corsica's departments 2A and 2B count as 19 and 18 in the key computation.
    """
    digits = re.sub(r"[\s.-]", "", value).upper()
    return len(digits) == 15 and _nir_key_ok(digits)


IBAN_LENGTHS = {
    "FR": 27,
    "MC": 27,
    "DE": 22,
    "BE": 16,
    "ES": 24,
    "IT": 27,
    "LU": 20,
    "CH": 21,
    "GB": 22,
    "NL": 18,
    "PT": 25,
    "AT": 20,
    "IE": 22,
}


def iban_is_valid(value: str) -> bool:
    """IBAN check: the rearranged number modulo 97 equals 1 (ISO 13616)."""
    compact = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def uai_is_valid(value: str) -> bool:
    """UAI (school identifier): 7 digits and a letter, the 7-digit number modulo 23 in A–Z
    without I, O and Q."""
    value = value.strip().upper()
    return bool(re.fullmatch(r"\d{7}[A-Z]", value)) and (
        UAI_LETTERS[int(value[:7]) % 23] == value[7]
    )


def _uai_verdict(value: str) -> bool | None:
    """A valid key proves a UAI; a wrong key on a UAI-shaped code (département prefix 0xx, or
    97x/98x overseas) still counts, since people mistype keys (and invent them in examples)."""
    if uai_is_valid(value):
        return True
    return None if re.match(r"0|9[78]", value) else False


class RegexRecognizer(EntityRecognizer):
    """One entity type from one regex, with an optional validator and context words.

    ``validate(match_text)`` returns True (score 1.0), False (kept at ``score`` only if a
    context word appears in the ``window`` characters before the match) or None (use
    ``score``). Group ``value`` of the regex, when present, is the reported span.
    """

    def __init__(
        self,
        entity: str,
        pattern: str,
        score: float,
        *,
        validate: Callable[[str], bool | None] | None = None,
        context: str | None = None,
        context_required: bool = False,
        window: int = 50,
        flags: int = 0,
    ) -> None:
        self.regex = re.compile(pattern, flags)
        self.score = score
        self.validate = validate
        self.context_regex = re.compile(context, re.IGNORECASE) if context else None
        self.context_required = context_required
        self.window = window
        super().__init__(
            supported_entities=[entity],
            supported_language="fr",
            name=f"Fr{entity.title()}Recognizer",
            version=RULES_VERSION,
        )

    def load(self) -> None:
        pass

    def _has_context(self, text: str, start: int) -> bool:
        return bool(
            self.context_regex
            and self.context_regex.search(text[max(0, start - self.window) : start])
        )

    def matches(self, text: str) -> Iterator[tuple[int, int, float]]:
        for m in self.regex.finditer(text):
            start, end = m.span("value") if "value" in self.regex.groupindex else m.span()
            score = self.score
            verdict = self.validate(text[start:end]) if self.validate else None
            if verdict is True:
                score = 1.0
            elif (verdict is False or self.context_required) and not self._has_context(text, start):
                continue
            yield start, end, score

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        return [RecognizerResult(entity, s, e, score) for s, e, score in self.matches(text)]


MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
DATE = rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|(?:1er|\d{{1,2}})[ \t]+(?:{MONTHS})[ \t]+\d{{4}})"
STREET = (
    r"rue|avenue|av\.|boulevard|bd|bld|allée|allées|impasse|chemin|quai|lieu-dit|lotissement"
    r"|faubourg|rond-point|esplanade|parvis|sentier|hameau"
)
STREET_NEEDS_NUMBER = (
    r"place|cours|route|voie|cité|square|passage|résidence|domaine|villa|clos"
    r"|promenade|montée|mail"
)
STREET_NAME = rf"(?:[ \t]+(?:de|du|des|d['’]|de la|de l['’]|l['’]|la|le|les|aux|à)?[ \t]*(?:[{UP}][\w'’-]*|\d{{1,2}}|[{UP}]+))+"
POSTCODE = r"(?:0[1-9]|[1-8]\d|9[0-5]|97[1-6]|98[4-9])\d{3}"
TOWN = (
    rf"[{UP}][\w'’]*(?:(?:[- ](?:en|sur|sous|le|la|les|de|du|lès))?[- ](?:d['’])?[{UP}][\w'’]*)*"
    r"(?:[ \t]+Cedex(?:[ \t]*\d{1,2})?)?"
)

# A town after a school's name and a comma, before a bracket or the end of a clause,
# belongs to the school as « collège Jean Moulin de Vénissieux » does: « (collège Guy de
# Maupassant, Fécamp) », a planted item of the demo export, left « ([ETABLISSEMENT_1],
# Fécamp) », and school and town together identify the respondent (7 December 2026).
SCHOOL_TOWN_AFTER = re.compile(
    rf",[ \t]+(?:à[ \t]+)?({TOWN})(?=[ \t]*(?:[).;,!?\n]|$))"
)


def build_pattern_recognizers() -> list[RegexRecognizer]:
    """The regex recognisers: contact details, identifiers, addresses, dates of birth."""
    return [
        RegexRecognizer("EMAIL", r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}", 0.95),
        RegexRecognizer(
            "URL",
            r"(?<![\w@])(?:https?://|www\.)[^\s<>\"«»]+[^\s<>\"«».,;:!?)»]"
            r"|(?<![\w@./-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:fr|com|org|net|eu|io|info)/[^\s<>\"«»]*[^\s<>\"«».,;:!?)»]",
            0.9,
        ),
        RegexRecognizer(
            "IDENTIFIANT",
            r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])",
            0.8,
        ),
        RegexRecognizer(
            "TELEPHONE",
            r"(?<![\w+/])(?:(?:\+|00)[ \t]?33[ \t.]?(?:\(0\)[ \t]?)?|0)[1-9](?:[ \t./-]?\d{2}){4}(?![\w/])",
            0.75,
        ),
        RegexRecognizer(
            "NIR",
            r"(?<![\w])[1-478][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])[ .]?"
            r"\d{3}[ .]?\d{3}[ .]?\d{2}(?![\w])",
            0.5,
            validate=nir_is_valid,
            context=r"\b(?:nir|sécu|sécurité sociale|securite sociale|insee|numéro social)\b",
        ),
        RegexRecognizer(
            "IBAN",
            r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![\w])",
            0.5,
            validate=iban_is_valid,
            context=r"\b(?:iban|rib|compte|virement)\b",
        ),
        RegexRecognizer(
            "UAI",
            r"(?<![\w.])\d{7}[A-Za-z](?![\w])",
            0.6,
            validate=_uai_verdict,
            context=r"\b(?:uai|rne|établissement|etablissement|code)\b",
        ),
        RegexRecognizer(
            "DATE_NAISSANCE",
            rf"(?:\bnée?s?\b|\bné\(e\)|\bnaissance\b|\bDDN\b)[^\d.!?\n]{{0,30}}?(?P<value>{DATE})(?!\d)",
            0.9,
            flags=re.IGNORECASE,
        ),
        RegexRecognizer(
            "ADRESSE",
            rf"(?<![\w])(?:\d{{1,4}}(?:[ \t]?(?:bis|ter|quater|[A-D]))?,?[ \t]+)?(?i:{STREET})(?![\w])"
            rf"{STREET_NAME}",
            0.7,
        ),
        RegexRecognizer(
            "ADRESSE",
            rf"(?<![\w])\d{{1,4}}(?:[ \t]?(?:bis|ter|quater|[A-D]))?,?[ \t]+(?i:{STREET_NEEDS_NUMBER})"
            rf"(?![\w]){STREET_NAME}",
            0.75,
        ),
        RegexRecognizer("ADRESSE", r"(?<![\w])(?:BP|B\.P\.|TSA|CS)[ \t]?\d{1,6}(?![\w])", 0.7),
        RegexRecognizer("ADRESSE", rf"(?<![\w])(?:{POSTCODE})[ \t]+{TOWN}", 0.7),
    ]


# Common first names in France (births 1940–2020, INSEE-style frequency lists, all origins),
# lower-case. Words that are more often something else were left out on purpose: France,
# Nancy, Florence, Victoire, Noël, Avril, Olive, Ange, Grâce, Prudence, Espérance.
FIRST_NAMES = _word_set(
    """
    aaron abdel abdallah abdelkader abdou abdoulaye abel abigail adam adama adel adèle adeline
    adrien adrienne agathe agnès ahmed aicha aïcha  alain alan albert alexandra alexandre
    alexia alexis alfred alice alicia aline alix alizée allan alma amandine amaury ambre amélie
    amina aminata amine amir anaëlle anaïs anastasia andré andrée andréa angèle angélique
    angelina anissa anna annabelle anne anne-marie anne-sophie annick annie anthony antoine
    antoinette antonin apolline arianne ariane armand arnaud arthur astrid aubin audrey augustin
    aurélie aurélien aurore axel axelle aya ayoub aylin baptiste barbara bastien béatrice
    benjamin benoît benoit bérénice bernadette bernard bertrand bilal blanche boris brahim brice
    brigitte bruno camélia camille capucine carla carmen caroline catherine cécile cédric céline
    célia chantal charles charlie charline charlotte chloé christian christiane christine
    christophe claire clara clarisse claude claudine clément clémence clémentine coline colette
    colin  corentin corinne cyril cyrille daniel danielle daphné david delphine denis
    denise diane didier dimitri djamel dominique dorian dylan eden edgar edith édouard éléonore
    elena éléna eliane éliane elias élie élise elisa élisa elise elisabeth élisabeth ella elliot
    élodie eloïse éloïse elsa emeline émeline émile émilie émilien emma emmanuel emmanuelle enzo
    eric éric erwan estelle esteban ethan étienne eugénie eva evan ève évelyne fabien fabienne
    fabrice fanny fatima fatou fatoumata félix ferdinand fernand fernande florian 
    florent francis franck françois françoise frédéric frédérique gabin gabriel gabrielle gaël
    gaëlle gaëtan gaspard gauthier geneviève georges gérald gérard géraldine germain germaine
    ghislaine gilbert gilles ginette gisèle grégoire grégory guillaume gustave guy hafsa hakim
    hamza hanna hannah hélène henri henriette hervé hicham hind hugo hugues ibrahim ibrahima
    ilan ilyes ilyas inès ines irène iris isaac isabelle isaure ismaël jacqueline jacques jade
    james jasmine jean jeanne jean-baptiste jean-charles jean-claude jean-françois jean-jacques
    jean-louis jean-luc jean-marc jean-marie jean-michel jean-paul jean-philippe jean-pierre
    jérémie jérémy jérôme jessica jessy joël joëlle johan johanna jonathan jordan joris josé
    joseph joséphine josette josiane juliette jules julia julian julie julien juliette justin
    justine kamel karim karima karine kenza kevin kévin khadija kylian lana laetitia laëtitia
    lamia laura laure laurence laurent léa léana léandre léna lena léo léon léonard léonie
    léopold liam lila lilian liliane lilou lina lindsay lisa  lionel lisa livia loïc loïs
    lola lou louane louis louisa louise luc luca lucas lucie lucien lucienne lucille ludivine
    ludovic luna lydia lylou madeleine maël maëlle maëlys magali malak malika malo manon
    marc marc-antoine marceau marcel marcelle margaux margot maria marianne marie marie-claire
    marie-christine marie-france marie-hélène marie-laure marie-thérèse marine marion marius
    marjorie marlène marthe martin martine maryse mathéo mattéo mathias mathieu mathilde mathis
    matthieu maud maurice maxence maxime maximilien mayssa mehdi mélanie mélissa mélina
    mélodie michael michaël michel michèle micheline mickaël mila milan milo mireille mohamed
    mohammed monique morgane mouna moussa muriel myriam nadège nadia nadine naël nahel naïm
    nathalie nathan nicolas nicole nina ninon noa noah noam noé noémie nolan norbert océane
    odette odile olivia olivier omar oscar ousmane pascal pascale patrice patricia patrick
    paul paul-henri paule pauline perrine philippe pierre pierre-yves priscilla quentin
    rachel rachid rafael raphaël raphaëlle raymond raymonde rayan régine régis rémi rémy renaud
    rené renée richard robert robin rodolphe rodrigue roger roland romain romane romuald rose
    roxane ruben ryan sabine sabrina sacha salma salomé sami samia samir samuel sandra sandrine
    sara sarah sébastien serge severine séverine sofia sofiane solène sonia sophie stéphane
    stéphanie suzanne suzie sylvain sylvie tatiana térence thaïs théa théo théodore théophile
    thérèse thibault thibaut thierry thomas tiago timéo timothée tiphaine tom tristan ulysse
    valentin valentine valérie valérian vanessa véronique victor victoria vincent violette
    virginie viviane wassim william xavier yacine yanis yann yannick yasmine yassine yohan
    youssef yves yvette yvonne zakaria zélie zoé zohra
    """
)
