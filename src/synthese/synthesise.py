"""Step 5: the synthesis of the themes, in the form of Annexe 5 (opportunités, risques,
conditions de réussite, conclusion).

Two modes:

- **composed** (``--synthese composee``; ``citations``, the default, is the same with each
  theme's sentence built by code from its title and a respondent's quote): code composes,
  the model writes one sentence at a time. Each theme goes to the section of its dominant
  kind (counted by code), and to another section too when enough respondents said that
  kind in it; in a section, themes are ordered, and their proportion given, by the share of
  respondents who said the section's kind in them; the model writes one sentence from one
  theme's ideas of that kind in a small call, and code checks it for support by the theme's ideas. A
  sentence that fails is replaced by the theme's first summary sentence (already checked),
  or published flagged. Connectives, proportions, the opening of each section and the
  conclusion are written by code. No sentence appears twice, and nothing fails into
  emptiness: every fallback is counted.
- **free** (``--synthese libre``), for strong models: one call writes the whole synthesis
  from the summaries, citing its themes (prompt synthesise.v1); code then checks each
  sentence and finds the themes of a sentence that cites none.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from synthese.keys import content_hash
from synthese.kinds import kind_of
from synthese.llm import LLM, LLMError
from synthese.prompts import Prompt
from synthese.summarise import (
    BRIEF_WORDS,
    brief_examples,
    brief_said,
    brief_words,
    carries_marks,
    content_stems,
    idea_title,
    is_brief,
    leanings,
    majority_phrase,
    new_sentences,
    percent,
    refers_back,
    split_sentences,
    strip_openers,
    tidy_summary,
)
from synthese.verify import (
    FIRST_PERSON,
    PROSE_CHECKS,
    SAID_AGAIN_COSINE,
    SUPPORT_THRESHOLD,
    prose_problem,
)

MODES = ("composee", "libre", "citations")
# « citations » asks the model nothing: its prompt is only part of the synthesis key.
PROMPTS = {"composee": ("synthesis_sentence", 1), "libre": ("synthesise", 1),
           "citations": ("synthesis_sentence", 1)}
SECTIONS = ("opportunites", "risques", "conditions", "conclusion")
SECTION_TITLES = {
    "opportunites": "Opportunités",
    "risques": "Risques et points de vigilance",
    "conditions": "Conditions de réussite",
    "conclusion": "Conclusion",
}
SECTION_OF_KIND = {"opportunite": "opportunites", "risque": "risques", "condition": "conditions"}
KIND_OF_SECTION = {section: kind for kind, section in SECTION_OF_KIND.items()}
PARTS = {"opportunites": "les apports", "risques": "les risques",
         "conditions": "les conditions de réussite"}
OPENINGS = {
    "opportunites": "{who} des répondants expriment au moins un apport ou un avis favorable.",
    "risques": "{who} des répondants expriment au moins une crainte, un risque ou un problème.",
    "conditions": "{who} des répondants expriment au moins une condition, un besoin ou une demande.",
}
# One connective per theme sentence of a section, none twice (MAX_THEMES_PER_SECTION - 1
# before « Enfin », which opens the last of three or more).
CONNECTIVES = {
    "opportunites": ("D'abord", "De plus", "Par ailleurs", "En outre", "De même", "Enfin"),
    "risques": ("Cependant", "En outre", "Par ailleurs", "De plus", "De même", "Enfin"),
    "conditions": ("Premièrement", "Deuxièmement", "Troisièmement", "Par ailleurs", "De plus",
                   "Enfin"),
}
MAX_THEMES_PER_SECTION = 6  # the lighter themes of a section are grouped in one sentence
# A theme is written in the section of its dominant kind, and also in another section when
# at least this share of all respondents (and this many ideas) said that kind in it: a theme
# of 19 risks and 19 conditions is a risk and a condition (docs/quality.md, fourth pass).
OTHER_SECTION_SHARE = 0.05
OTHER_SECTION_IDEAS = 5
# A theme is one of risks, benefits or conditions when at least this share of its ideas are:
# « Le régime français n'est pas une démocratie » (18 observations, 1 risk) and « Les élu
# sont avant tout des citoyen pas des dieux » (17 and 1) were listed among the risks of 200
# Grand Débat comments, « (0 %) » of respondents each (6 December 2026). Below it, a theme
# is one of observations, cited in the conclusion.
SECTION_MIN_SHARE = 0.25
SENTENCE_MAX_CHARS = 220
SENTENCE_SCHEMA: dict = {
    "type": "object", "properties": {"phrase": {"type": "string",
                                                "maxLength": SENTENCE_MAX_CHARS}},
    "required": ["phrase"], "additionalProperties": False,
}
SENTENCE_MAX_TOKENS = 90
IDEAS_SHOWN = 5


@dataclass
class SynthesisSentence:
    section: str
    paragraph: int
    position: int
    text: str
    cluster_ids: list[int]
    # "modele", "code" (written by code), "repli" (a fallback), "citation" (« citations »
    # mode: the theme's title and a respondent's quote, by design, not as a fallback)
    origin: str = "modele"
    cited_by: str | None = "modele"
    support: float = 0.0
    supported: bool = False
    model_text: str | None = None  # the model's sentence, when it was replaced
    body: str = ""  # the sentence before code added its connective and proportion


@dataclass
class SynthesisDraft:
    sentences: list[SynthesisSentence]
    failure: str | None
    call_keys: list[str] = field(default_factory=list)
    fallbacks: dict[str, int] = field(default_factory=dict)  # what replaced what, counted
    # How the conclusion names a theme of a section when not by its title: (section, theme)
    # -> the start of the quote given alone because the title was about something else.
    named: dict[tuple[str, int], str] = field(default_factory=dict)
    # Content words too common to tie a title to its quote (``common_stems``).
    common: frozenset[str] = frozenset()
    # The word each theme's quotes share most (``typical_words``), by theme id.
    typical: dict[int, str] = field(default_factory=dict)
    # Its next most typical word, said with it (``typical_partners``), by theme id.
    partners: dict[int, str] = field(default_factory=dict)


@dataclass
class Theme:
    """What the synthesis knows of a theme."""

    cluster_id: int
    title: str
    summary: str
    share: float  # of respondents
    kinds: dict[str, int]
    ideas: list[str]  # most central first
    vectors: np.ndarray  # of all its ideas, for the support check
    quotes: list[str] = field(default_factory=list)  # what its respondents wrote, central first
    idea_kinds: list[str] = field(default_factory=list)  # the kind of each of ``ideas``
    # For each kind, the share of all respondents who expressed an idea of it in this theme
    # (counted by code); empty when unknown, and then ``share`` stands for every kind.
    kind_shares: dict[str, float] = field(default_factory=dict)
    # Who wrote the title: « modele », « idee » (the most central idea, the model's refused),
    # « code », « relecteur » (a person); empty when unknown.
    title_origin: str = ""

    def share_of(self, kind: str) -> float:
        """The share of respondents behind what this theme says of one kind: a theme of 22 %
        of the respondents whose risks come from 6 % is a risk of 6 %, not of 22 %."""
        return self.kind_shares.get(kind, 0.0) if self.kind_shares else self.share

    def ideas_of(self, kind: str) -> list[str]:
        """Its most central ideas of one kind (all its ideas when it has none of that kind):
        a theme in « risques » that also holds opportunities is written from its risks."""
        picked = [i for i, k in zip(self.ideas, self.idea_kinds, strict=False) if k == kind]
        return picked or self.ideas

    @property
    def brief(self) -> bool:
        """A theme of brief answers (summarise.is_brief), reported apart."""
        return is_brief(self.quotes)


def synthesis_key(clustering_id: str, summary_keys: list[str], model_id: str, prompt: Prompt,
                  mode: str, embed_model_id: str) -> str:
    """Identity of a synthesis: the themes' summaries (in order), the model, prompt and
    mode, and the check of its sentences."""
    return content_hash("synthesis-v41", clustering_id, summary_keys, model_id, prompt.sha256,
                        mode, MAX_THEMES_PER_SECTION, CONNECTIVES, OTHER_SECTION_SHARE,
                        OTHER_SECTION_IDEAS, QUOTE_CANDIDATES, TITLE_QUOTE_MIN, COMMON_STEMS,
                        TYPICAL_MIN_SHARE, BRIEF_WORDS, embed_model_id, SUPPORT_THRESHOLD, PROSE_CHECKS,
                        SECTION_MIN_SHARE)


def section_of(kinds: dict[str, int]) -> str | None:
    """The section of a theme: its dominant kind among opportunities, risks and conditions
    (ties go in that order), when at least ``SECTION_MIN_SHARE`` of its ideas are of it;
    None for a theme of observations or off-topic ideas, or nearly so."""
    counted = [(kinds.get(k, 0), -i, s) for i, (k, s) in enumerate(SECTION_OF_KIND.items())]
    n, _, section = max(counted)
    return section if n > 0 and n >= SECTION_MIN_SHARE * sum(kinds.values()) else None


def sections_of(themes: list[Theme]) -> tuple[dict[str, list[Theme]], list[Theme], dict[int, str]]:
    """The themes of each section, heaviest first by the share of respondents who said the
    section's kind in them; the themes of no section; each theme's own section.

    A theme goes to the section of its dominant kind (``section_of``) and to any other
    section whose kind at least ``OTHER_SECTION_SHARE`` of all respondents and
    ``OTHER_SECTION_IDEAS`` ideas expressed in it (only when its ``kind_shares`` are known).
    """
    sections: dict[str, list[Theme]] = {s: [] for s in SECTIONS[:3]}
    aside: list[Theme] = []
    home: dict[int, str] = {}
    for theme in themes:
        own = section_of(theme.kinds)
        if own is None:
            aside.append(theme)
            continue
        home[theme.cluster_id] = own
        for kind, section in SECTION_OF_KIND.items():
            if section == own or (theme.kind_shares
                                  and theme.share_of(kind) >= OTHER_SECTION_SHARE
                                  and theme.kinds.get(kind, 0) >= OTHER_SECTION_IDEAS):
                sections[section].append(theme)
    for kind, section in SECTION_OF_KIND.items():
        sections[section].sort(key=lambda t, k=kind: -t.share_of(k))  # stable: ties keep order
    return sections, aside, home


def _lower_first(text: str) -> str:
    """The sentence after a connective: a plain capitalised first word, an elided article
    (« L'IA » -> « l'IA ») or « À » is lowered; « ChatGPT », « IA », « Pronote… » are kept
    when they are names (a capital inside the word, or all capitals)."""
    first = text.split(" ", 1)[0].rstrip(",;:.!?")  # « Prudence, prudence »
    if len(first) > 1 and first[1] in "'’":
        return text[:1].lower() + text[1:]
    if len(first) == 1 or (first[1:].isalpha() and first[1:].islower()):
        return text[:1].lower() + text[1:]
    return text


def _fold_words(text: str) -> str:
    return " ".join(text.lower().strip(" .!?…").split())


def _end(text: str) -> str:
    text = text.strip().rstrip(" ;,:")
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _with_figure(sentence: str, share: float) -> str:
    """« …, sentence (près d'un tiers des répondants, 31 %). »"""
    body = _end(sentence)[:-1].rstrip()
    words, figure = majority_phrase(share).rsplit(" (", 1)
    return f"{body} ({words} des répondants, {figure.rstrip(')')})."


def compose_synthesis(themes: list[Theme], question: str, llm: LLM, prompt: Prompt,
                      embed: Callable[[list[str]], np.ndarray],
                      kind_shares: dict[str, float], *, write: bool = True) -> SynthesisDraft:
    """The synthesis composed by code from one checked model sentence per theme (with
    ``write`` False, the « citations » mode: from each theme's title and most central quote
    of the section's kind, with no model call).

    ``themes`` are ordered by share of respondents; ``kind_shares`` give, for each kind, the
    share of respondents who expressed at least one idea of it (each theme's own, in
    ``Theme.kind_shares``, place and order it in the sections: ``sections_of``).
    """
    common = common_stems(themes, question)
    counted = QuoteStems.of(themes)
    typical = typical_words(themes, common, counted)
    draft = SynthesisDraft([], None, common=common, typical=typical,
                           partners=typical_partners(themes, common, typical, counted))
    if not themes:
        draft.failure = "aucun thème à synthétiser"
        draft.sentences.append(SynthesisSentence(
            "conclusion", 0, 0, "Aucun thème ne s'est dégagé des réponses : la synthèse est vide.",
            [], "code", None, 0.0, False))
        draft.fallbacks["synthese_vide"] = 1
        return draft
    brief = sorted((t for t in themes if t.brief), key=lambda t: -t.share)
    sections, aside, home = sections_of([t for t in themes if not t.brief])
    for paragraph, (section, members) in enumerate(sections.items()):
        if members:
            _section(draft, section, paragraph, members, question, llm if write else None,
                     prompt, embed, kind_shares, home)
        else:
            _empty_section(draft, section, paragraph, themes, kind_shares)
    _conclusion(draft, sections, aside, themes, brief, question)
    _drop_repeats(draft, embed)
    if draft.fallbacks.get("phrase_sans_reponse"):
        # Published with its fallbacks, and tried again at the next run: a model that did
        # not answer (server down, timeout) may answer then.
        draft.failure = (f"{draft.fallbacks['phrase_sans_reponse']} phrases sans réponse du "
                         "modèle, remplacées par des phrases de repli")
    return draft


EMPTY = {
    "opportunites": "d'apports",
    "risques": "de risques ou de craintes",
    "conditions": "de conditions ou de demandes",
}


def _empty_section(draft: SynthesisDraft, section: str, paragraph: int, themes: list[Theme],
                   kind_shares: dict[str, float]) -> None:
    """A section no theme belongs to says why, with the figures, and cites the themes where
    such ideas are."""
    kind = KIND_OF_SECTION[section]
    holding = [t.cluster_id for t in themes if t.kinds.get(kind)]
    share = kind_shares.get(kind, 0.0)
    text = f"Aucun thème n'est fait principalement {EMPTY[section]}"
    if holding:
        text += (f" ; {majority_phrase(share)} des répondants en expriment au moins un, dans "
                 "d'autres thèmes.")
    elif share > 0:  # only among the ideas no theme took
        text += (f" ; {majority_phrase(share)} des répondants en expriment, parmi les idées "
                 "« autres / inclassables ».")
    else:
        text += " : aucun répondant n'en exprime."
    draft.sentences.append(SynthesisSentence(section, paragraph, 0, text, holding, "code",
                                             "code" if holding else None, 1.0, True))
    _count(draft, "partie_sans_theme")


def _section(draft: SynthesisDraft, section: str, paragraph: int, members: list[Theme],
             question: str, llm: LLM | None, prompt: Prompt,
             embed: Callable[[list[str]], np.ndarray],
             kind_shares: dict[str, float], home: dict[int, str]) -> None:
    kind = KIND_OF_SECTION[section]
    opening = OPENINGS[section].format(who=majority_phrase(kind_shares.get(kind, 0.0)))
    opening = opening[:1].upper() + opening[1:]
    add = draft.sentences.append
    add(SynthesisSentence(section, paragraph, 0, opening, [t.cluster_id for t in members],
                          "code", "code", 1.0, True))
    shown, rest = members[:MAX_THEMES_PER_SECTION], members[MAX_THEMES_PER_SECTION:]
    for i, theme in enumerate(shown):
        connective = CONNECTIVES[section][-1 if i == len(shown) - 1 and i >= 2 else i]
        sentence = _theme_sentence(draft, theme, section, question, llm, prompt, embed)
        sentence.body = sentence.text
        body = _with_figure(strip_openers(sentence.text), theme.share_of(kind))
        sentence.text = f"{connective}, {_lower_first(body)}"
        sentence.section, sentence.paragraph, sentence.position = section, paragraph, i + 1
        add(sentence)
    # The lighter themes, in one sentence; a theme of another section is cited there.
    rest = [t for t in rest if home.get(t.cluster_id) == section]
    if rest:
        titles = " ; ".join(f"« {t.title} » ({percent(t.share_of(kind))})" for t in rest)
        add(SynthesisSentence(section, paragraph, len(shown) + 1,
                              f"Plus rarement, les répondants évoquent aussi : {titles}.",
                              [t.cluster_id for t in rest], "code", "code", 1.0, True))


def _count(draft: SynthesisDraft, what: str) -> None:
    draft.fallbacks[what] = draft.fallbacks.get(what, 0) + 1


def _model_sentence(draft: SynthesisDraft, theme: Theme, ideas: list[str], section: str,
                    question: str, llm: LLM | None, prompt: Prompt) -> tuple[str | None, bool]:
    """The model's one sentence for one theme, written from ``ideas``, and whether it was
    cut by the token budget or the grammar's length bound (« …et à gagner un temps précieux
    le d »); (None, False) when no model is asked (the « citations » mode) or it failed."""
    if llm is None:
        return None, False
    messages = prompt.render(question=question, section=PARTS[section], title=theme.title,
                             summary=theme.summary,
                             ideas="\n".join(f"- {i}" for i in ideas[:IDEAS_SHOWN]))
    try:
        result = llm.chat(messages, schema=SENTENCE_SCHEMA, max_tokens=SENTENCE_MAX_TOKENS)
        if result.call_key:
            draft.call_keys.append(result.call_key)
        raw = _SentenceOut.model_validate_json(result.text).phrase
    except LLMError:
        _count(draft, "phrase_sans_reponse")
        return None, False
    except ValidationError:
        _count(draft, "phrase_illisible")
        return None, False
    cut = result.finish_reason == "length" or len(raw) >= SENTENCE_MAX_CHARS - 5
    written = tidy_summary(raw) or None
    return (split_sentences(written)[0] if written else None), cut  # one sentence, as asked


def _theme_sentence(draft: SynthesisDraft, theme: Theme, section: str, question: str,
                    llm: LLM | None, prompt: Prompt,
                    embed: Callable[[list[str]], np.ndarray]) -> SynthesisSentence:
    """One sentence for one theme, from its ideas of the section's kind: the model's (none
    in the « citations » mode, ``llm`` None) if code does not refuse it
    (``sentence_problem``, or cut short) and the theme's ideas support it; else, built by
    code, « title : « the most central quote of the section's kind » », « title : first
    summary sentence », the title (none contrary to the section nor unfinished); else the
    first of these, flagged « non étayée »."""
    kind = KIND_OF_SECTION[section]
    ideas = theme.ideas_of(kind)
    written, cut = _model_sentence(draft, theme, ideas, section, question, llm, prompt)
    refused = ("phrase tronquée" if cut else sentence_problem(written, section, question)
               ) if written else None
    if refused:
        _count(draft, "phrase_refusee")
    candidates = [(written, "modele")] if written and not refused else []
    # The fallbacks are built by code, and none may say the opposite of its section (« une
    # menace pour l'esprit critique » opened the opportunities) nor be unfinished: « Titre :
    # « what a respondent wrote » » (the most central quote of the section's kind, verbatim),
    # « Titre : première phrase du résumé » (itself checked), the title.
    title_vec = embed([theme.title])[0] if theme.title else None
    word, partner = draft.typical.get(theme.cluster_id), draft.partners.get(theme.cluster_id)
    quote = representative_quote(theme, kind, title_vec, word, partner)
    if quote:
        # A fallback title is an idea in the respondent's words, and the quote closest to it
        # is then often the same words (« Une opportunité à saisir pour l'école : « Une
        # opportunité à saisir pour l'école » », four times in the fifth pass's demo
        # synthesis): the quote alone. Passing over it for the next central quote gave
        # quotes about something else (« Les élèves l'utilisent déjà massivement, souvent
        # pour tricher… : « À l'école primaire, aucun intérêt pour les élèves » »).
        # A title about something else than the quote (« Les élèves doivent créer des
        # comptes avec leur adresse personnelle : « Le plus important est d'apprendre aux
        # élèves quand ne pas l'utiliser » », a demo condition on 5 December 2026): the
        # quote alone, what respondents said.
        # Close vectors are not enough: « Les élèves en savent souvent plus que nous : « À
        # l'école primaire, aucun intérêt pour les élèves eux-mêmes » » (0.47) and « L'IA
        # devient l'alibi d'un désengagement de l'État : « L'IA ne changera rien à ça » »
        # (0.56) read as two subjects, while « Il faut avancer prudemment : « Avec prudence,
        # mais il faut y aller » » (0.57) reads as one. The title and its quote must also
        # share a content word that is neither the question's nor one said everywhere.
        def away(text: str) -> bool:
            return title_vec is not None and (
                float(embed([text])[0] @ title_vec) < TITLE_QUOTE_MIN
                or not content_stems(theme.title) & content_stems(text) - draft.common)

        apart = away(quote)
        if apart:
            # The typical word can pull a quote away from a title that tells the theme: the
            # demo's biggest theme of risks, titled « Les élèves n'apprennent plus rien »,
            # was told by « À l'école primaire, aucun intérêt pour les élèves eux-mêmes »,
            # its most central quote saying « école » (8 of its 51 quotes), while its second
            # most central was « Les élèves n'apprennent plus rien, ils recopient » (6
            # December 2026). When the title and the typical word disagree on what the
            # theme's quotes share, the one more of them say wins: there, « apprennent » or
            # « rien » (10 quotes) against « école » (8). The title must be the model's,
            # checked by code (closer to its own theme than to any other), or a reviewer's;
            # one respondent's idea, the model's titles refused, does not tell the theme
            # (« Très utile pour préparer mes cours » against « gain de temps »). A title
            # that says the typical word agrees with it: « Les outils de la tech » and « Je
            # refuse d'entrer la moindre information sur mes élèves dans ces outils », its
            # typical word « outils » (16 of 24), not paired with a less central quote on
            # « technologie ». Then the most central quote that goes with the title.
            # (the quote already found apart is not embedded and checked again)
            paired = next((q for q in central_quotes(theme, kind)
                           if q != quote and not away(q)), None) \
                if _title_wins(theme, word, draft.common) else None
            if paired is not None:
                quote, apart = paired, False
        if apart:
            # Given alone, the quote need not be the closest to a title it is not shown
            # with: the most central one tells the theme. The closest to « L'IA devient
            # l'alibi d'un désengagement de l'État », « Nous refusons que l'IA serve à
            # supprimer des postes », made job cuts the demo's most cited risk, beside the
            # union's campaign that says it (5 December 2026).
            central = representative_quote(theme, kind, None, word, partner) or quote
            if central != quote:  # the same quote is embedded and checked once
                quote, apart = central, away(central)
        # A title cut short (« Nous refusons l'intelligence artificielle pour supprimer des
        # postes ou à alourdir… », a fallback of three demo runs of 1-5 December 2026)
        # breaks the sentence it opens, before a quote that says it whole: the quote alone.
        repeated = repeats_title(theme.title, quote)
        # So does a title that exclaims or asks (« En s'entendant sur qui est pollueur ! »,
        # an idea titling a Grand Débat theme, read « …pollueur ! : « Par le principe du
        # pollueur payeur! » », 7 December 2026): it is no heading.
        alone = apart or repeated or theme.title.endswith(("…", "!", "?"))
        cited = f"« {quote} »" if alone else f"{theme.title} : « {quote} »"
        # The conclusion names the theme as its sentence does: by the quote given alone.
        # A title the quote opens with can be a stub of it (« L'école élémentaire », the
        # model's title for « À l'école élémentaire, l'IA doit rester un outil pour
        # l'enseignant, pas pour les enfants », made « les conditions les plus demandées
        # sont « L'école élémentaire » », 6 December 2026). A title cut short is a
        # reformulation that can bend what the quote says: the demo's conclusion named the
        # union's motion « Nous refusons l'intelligence artificielle pour supprimer des
        # postes ou à alourdir… », which « refusons que l'intelligence artificielle serve
        # de prétexte à supprimer des postes » does not say (7 December 2026).
        if alone:
            draft.named[(section, theme.cluster_id)] = idea_title(quote)
        candidates.append((cited, "repli" if llm is not None else "citation"))
    first = split_sentences(theme.summary)[:1]
    # A title taken from the summary's first sentence, whole or cut, is not said before it:
    # « Il serait aussi souhaitable que tout le monde paie l'impôt… : il serait aussi
    # souhaitable que tout le monde paie l'impôt sur le revenu… » (200 Grand Débat comments,
    # 6 December 2026).
    if first and _fold_words(first[0]) != _fold_words(theme.title):
        candidates.append((first[0] if repeats_title(theme.title, first[0])
                           else f"{theme.title} : {_lower_first(first[0])}", "repli"))
    candidates.append((theme.title, "repli"))
    candidates = [c for c in candidates if c[1] == "modele" or (
        kind_of(c[0]) != _CONTRARY.get(section) and prose_problem(c[0]) is None)] or candidates
    vectors = embed([text for text, _ in candidates])
    for (text, origin), vec in zip(candidates, vectors):
        score = float((theme.vectors @ vec).max()) if len(theme.vectors) else 0.0
        if score >= SUPPORT_THRESHOLD:
            if origin == "repli":
                _count(draft, "phrase_remplacee")
            return SynthesisSentence("", 0, 0, _end(text), [theme.cluster_id], origin,
                                     "modele" if origin == "modele" else "code", round(score, 4),
                                     True, None if origin == "modele" else written)
    _count(draft, "phrase_non_etayee")
    text, origin = candidates[0]
    score = float((theme.vectors @ vectors[0]).max()) if len(theme.vectors) else 0.0
    return SynthesisSentence("", 0, 0, _end(text), [theme.cluster_id], origin,
                             "modele" if origin == "modele" else "code", round(score, 4), False,
                             None if origin == "modele" else written)


QUOTE_WORDS = (5, 40)  # a quote a reader can take in at a glance, and that says something
# A quote has MIN_CONTENT_WORDS content words or more too: « L'IA ne changera rien à ça »
# (two) told the demo's biggest theme of risks on 5 December 2026, with nothing a reader
# can use.

# The quote under a title is taken among this many most central eligible quotes, the one
# closest to the title: « L'IA est une mode comme les autres : « On nous demande d'intégrer
# l'IA sans nous avoir formés » » read as a title and a quote about two things.
QUOTE_CANDIDATES = 5
# Under this cosine between a title and the quote chosen for it, the two are about different
# things and the quote is given alone. In two demo syntheses of 5 December 2026, the pairs
# that read as one subject scored 0.52-0.84; of those that did not, five scored 0.13-0.44
# (« Synthétiser en une page une circulaire de trente pages : « En physique-chimie, elle
# m'aide à concevoir des situations-problèmes… » », 0.13) and one 0.51.
TITLE_QUOTE_MIN = 0.45


# A content word said in at least a tenth of the quotes of half the themes or more is said
# everywhere and ties no title to a quote: « élèves » in 17 of the demo's 25 themes, the
# next word (« outils ») in 9; no word of 200 Grand Débat comments in more than 7 of 27
# themes (5 December 2026). Counted from this many themes on; fewer tell nothing apart.
COMMON_STEMS = (0.1, 0.5, 6)  # share of a theme's quotes, share of the themes, fewest themes


def common_stems(themes: list[Theme], question: str) -> frozenset[str]:
    """The question's content words and those said everywhere (``COMMON_STEMS``)."""
    in_quotes, in_themes, fewest = COMMON_STEMS
    spread: Counter[str] = Counter()
    said = [t.quotes for t in themes if t.quotes]
    for quotes in said if len(said) >= fewest else []:
        counts = Counter(stem for q in quotes for stem in content_stems(str(q)))
        spread.update(stem for stem, n in counts.items() if n >= in_quotes * len(quotes))
    return frozenset({stem for stem, n in spread.items() if n >= in_themes * len(said)}
                     | content_stems(question))


# A theme's most central quotes are often its most generic: a demo theme on time saved
# preparing lessons was told by « Très utile pour préparer mes cours », its most central
# quote, while « gain de temps » is said in a fifth of its quotes (docs/quality.md). The
# quote is taken among those of the central candidates that say the word the theme's quotes
# share most, if any does: the synthesis then names what its respondents have in common.
# A word said by fewer than a tenth of a theme's quotes is not what they share (« perdu »,
# in 3 of the 50 quotes of a demo theme that shares none).
TYPICAL_MIN_SHARE = 0.1


@dataclass(frozen=True)
class QuoteStems:
    """The themes' distinct quotes and their content words, counted once for
    ``typical_words`` and ``typical_partners``."""

    distinct: dict[int, list[str]]  # each theme's distinct quotes, in order
    stems: dict[str, set[str]]  # each quote's content words
    said: Counter[str]  # how many distinct quotes of all themes say each word
    total: int  # distinct quotes of all themes

    @classmethod
    def of(cls, themes: list[Theme]) -> QuoteStems:
        distinct = {t.cluster_id: list(dict.fromkeys(map(str, t.quotes))) for t in themes}
        stems = {q: content_stems(q) for quotes in distinct.values() for q in quotes}
        said = Counter(s for quotes in distinct.values() for q in quotes for s in stems[q])
        return cls(distinct, stems, said, sum(map(len, distinct.values())))

    def weights(self, cluster_id: int, common: frozenset[str]) -> dict[str, float]:
        """The theme's content words (not ``common``) weighed as in class-based TF-IDF: the
        share of its distinct quotes saying each, times log(quotes of all themes / quotes
        saying it); only those said by two quotes and ``TYPICAL_MIN_SHARE`` of the theme's
        or more."""
        quotes = self.distinct.get(cluster_id, [])
        counts = Counter(s for q in quotes for s in self.stems[q] - common)
        return {s: n / len(quotes) * math.log(self.total / self.said[s])
                for s, n in counts.items() if n >= max(2, TYPICAL_MIN_SHARE * len(quotes))}


def typical_words(themes: list[Theme], common: frozenset[str],
                  counted: QuoteStems | None = None) -> dict[int, str]:
    """The content word each theme's quotes share most, weighed as in class-based TF-IDF:
    the share of its distinct quotes saying it times log(quotes of all themes / quotes
    saying it). Only words said by two quotes and ``TYPICAL_MIN_SHARE`` of the theme's or
    more count, neither the question's nor those said everywhere (``common``); a theme with
    none has no typical word. ``counted``: ``QuoteStems.of(themes)``, when already made."""
    counted = counted or QuoteStems.of(themes)
    out: dict[int, str] = {}
    for cluster_id in counted.distinct:
        weights = counted.weights(cluster_id, common)
        if weights:
            out[cluster_id] = max(sorted(weights), key=weights.__getitem__)
    return out


# A theme's typical word is said in several senses: a demo theme on time saved (« gain de
# temps » in 4 of its 31 distinct quotes) was told by « Il y a un potentiel énorme, encore
# faut-il nous laisser le temps d'expérimenter », its most central quote saying « temps »
# (6 December 2026). The theme's next most typical word, said with it by one of its quotes,
# tells which sense the theme shares: the quote is then taken among the candidates that say
# both, if any does. The word said most often beside it told the sense less well: under
# « prépar » (a demo theme on time saved preparing lessons, 7 December 2026), « cours »
# (3 quotes) chose « Très utile pour préparer mes cours », where « temps », the theme's next
# most typical word (8 of its 24 quotes), chooses « Gain de temps énorme pour la préparation »;
# elsewhere it was a verb (« font ») or a function word (« soit »).
def typical_partners(themes: list[Theme], common: frozenset[str], typical: dict[int, str],
                     counted: QuoteStems | None = None) -> dict[int, str]:
    """For each theme with a typical word (``typical_words``), its next most typical word
    (weighed and bounded as there) that at least one of its quotes says with it; neither the
    question's nor one said everywhere (``common``). ``counted``: as for ``typical_words``."""
    counted = counted or QuoteStems.of(themes)
    out: dict[int, str] = {}
    for cluster_id, word in typical.items():
        together = set().union(*(counted.stems[q] for q in counted.distinct.get(cluster_id, [])
                                 if word in counted.stems[q]))
        weights = {s: w for s, w in counted.weights(cluster_id, common | {word}).items()
                   if s in together}
        if weights:
            out[cluster_id] = max(sorted(weights), key=weights.__getitem__)
    return out


def representative_quote(theme: Theme, kind: str, title: np.ndarray | None = None,
                         word: str | None = None, partner: str | None = None) -> str | None:
    """A central quote of the theme among its ideas of ``kind`` (all its ideas if it has
    none of that kind) that reads as a whole sentence of 5 to 40 words, three content words
    or more, in the respondent's words, that does not point back at what was said before it
    (``refers_back``) nor announce what follows it (a final colon), without its opening
    connective or final full stop;
    None if none. Given the theme's typical ``word`` (``typical_words``), only those of the
    ``QUOTE_CANDIDATES`` most central that say it are candidates, if any does; of the
    candidates, the most central one, or, given the ``title``'s vector, the one closest to
    it (ties to the more central). Given the word's ``partner`` too (``typical_partners``),
    those that say both, if any does, before those that say the word."""
    eligible = _eligible_quotes(theme, kind)
    if not eligible:
        return None
    ranked = list(eligible.items())[:QUOTE_CANDIDATES]
    if word is not None:
        saying = [e for e in ranked if word in content_stems(e[0])]
        ranked = [e for e in saying if partner in content_stems(e[0])] or saying or ranked
    if title is None or len(theme.vectors) != len(theme.quotes):
        return ranked[0][0]
    return max(ranked, key=lambda e: float(theme.vectors[e[1]] @ title))[0]


TELLING_TITLES = ("modele", "relecteur")


def _title_wins(theme: Theme, word: str | None, common: frozenset[str]) -> bool:
    """Whether the theme's title tells what its quotes share better than its typical
    ``word``: a title the model wrote or a reviewer gave, without the word, whose own
    content words (neither the question's nor those said everywhere) are said by at least
    as many of its distinct quotes as the word."""
    if theme.title_origin not in TELLING_TITLES:
        return False
    own = content_stems(theme.title) - common
    if word is None:
        return bool(own)
    if word in own or not own:
        return False
    quotes = [content_stems(q) for q in dict.fromkeys(theme.quotes)]
    return sum(bool(q & own) for q in quotes) >= sum(word in q for q in quotes)


def central_quotes(theme: Theme, kind: str) -> list[str]:
    """The ``QUOTE_CANDIDATES`` most central quotes ``representative_quote`` chooses among,
    whatever word they say, most central first."""
    return list(_eligible_quotes(theme, kind))[:QUOTE_CANDIDATES]


# A dash or bullet that opens a quote marks an item of the respondent's list, not a word:
# « -au niveau national, aider les petites communes… », « -developper le recyclage… » (two
# Grand Débat quotes of 7 December 2026, the dash glued to the word, which segments.py
# does not take for a bullet). Not before a figure: « -20 % » is a number.
_LIST_MARK = re.compile(r"^[-–—•*·▪►]+\s*(?=[^\W\d_])")


def _eligible_quotes(theme: Theme, kind: str) -> dict[str, int]:
    """The quotes ``representative_quote`` may give (see there), most central first, each
    with its index in the theme's quotes."""
    kinds = theme.idea_kinds or [kind] * len(theme.quotes)
    chosen = [i for i, k in enumerate(kinds[:len(theme.quotes)]) if k == kind] or list(
        range(len(theme.quotes)))
    eligible: dict[str, int] = {}
    for i in chosen:
        said = strip_openers(_LIST_MARK.sub("", " ".join(str(theme.quotes[i]).split())))
        text = said.rstrip(" .;:,")
        # A respondent who trails off (« …le wifi ne fonctionne pas dans la moitié des
        # salles, alors l'IA... ») says more than the words left without the dots, which read
        # as a quote cut short.
        if said.endswith(("...", "…")) and text and not text.endswith("…"):
            text += "…"
        # Nor does one that announces what follows it (« Oui aux référendums d initiative
        # gouvernementale ou citoyenne à conditionde: », then the conditions in a list) read
        # alone: it led the opportunities of 200 Grand Débat comments, cut before its
        # conditions (7 December 2026).
        if (QUOTE_WORDS[0] <= len(text.split()) <= QUOTE_WORDS[1] and not said.endswith(":")
                and len(content_stems(text)) >= MIN_CONTENT_WORDS
                and prose_problem(text) is None and "«" not in text
                and not refers_back(text)):
            eligible.setdefault(text[:1].upper() + text[1:], i)
    # A quote with a pseudonymisation mark reads as a redaction and tells where its
    # respondent works: « J'enseigne au [ETABLISSEMENT_1], [ADRESSE], où nous n'avons
    # toujours pas de wifi dans les salles » told a demo theme of 29 ideas, 20 of them
    # without a mark (7 December 2026). Such a quote is given only when none other is.
    unmarked = {q: i for q, i in eligible.items() if not carries_marks(q)}
    return unmarked or eligible


def repeats_title(title: str, quote: str) -> bool:
    """Whether the quote opens with the title's words (a title taken from it, whole or cut),
    or does after one word (« Préparer des textes adaptés à différents niveaux de lecture »,
    a model's reformulation, from « Pour préparer des textes adaptés… ») or after words
    without content (« Il y a un potentiel énorme… »); a title the quote
    only ends on (« L'IA menace l'esprit critique des élèves » under « L'esprit critique des
    élèves ») is not repeated: the quote says more."""
    # Both without their openers: « Oui tout le monde s'accorde à le dire », a model's title
    # of 200 Grand Débat comments, was published « tout le monde s'accorde à le dire :
    # « Tout le monde s'accorde à le dire » » (6 December 2026).
    words = _fold_words(strip_openers(title.replace("…", " ")))
    said = _fold_words(strip_openers(quote))
    if not words:
        return False
    if said.startswith(words) or said.partition(" ")[2].startswith(words):
        return True
    # Or after words that say nothing: « Un potentiel énorme, encore faut-il nous laisser le
    # temps d'expérimenter », a model's title copied from « Il y a un potentiel énorme,
    # encore faut-il… », was published before its quote (6 December 2026).
    at = said.find(words)
    end = at + len(words)
    return (at > 0 and said[at - 1] == " " and not content_stems(said[:at])
            and (end == len(said) or not said[end].isalnum()))


_TEMPLATE_MARKS = re.compile(r"[{}\[\]<>|*#=_]|\+\+")
# Latin letters with their accents, digits, punctuation and the typographic signs of French.
_FOREIGN = re.compile(r"[^\x20-\x7e\u00a0-\u017f\u2000-\u206f\u20ac\u2212]")
_CONTRARY = {"opportunites": "risque", "risques": "opportunite"}
MIN_CONTENT_WORDS = 3  # « Un outil intéressant » (2) says nothing a reader can use


def sentence_problem(sentence: str, section: str, question: str) -> str | None:
    """Why code refuses a model's sentence before any support check, or None: prompt or
    JSON marks in it, letters of another script, a sentence that says the opposite of its
    section (by the rules of kinds.py), a respondent's sentence in the first person copied
    back, one too short to say anything, or one made mostly of the question's words."""
    if _TEMPLATE_MARKS.search(sentence):
        return "marques de gabarit"
    if _FOREIGN.search(sentence):  # the small model sometimes slips into another script
        return "caractères étrangers"
    if kind_of(sentence) == _CONTRARY.get(section):
        return "contraire à sa partie"
    prose = prose_problem(sentence)
    if prose:
        return prose
    if sentence.rstrip().endswith("?"):  # a synthesis states, it does not ask
        return "question"
    if FIRST_PERSON.search(sentence):  # a respondent's sentence copied back
        return "à la première personne"
    stems = content_stems(sentence)
    if len(stems) < MIN_CONTENT_WORDS:
        return "trop courte"
    if stems and len(stems & content_stems(question)) / len(stems) >= 0.4:
        return "reprend la question"
    return None


class _SentenceOut(BaseModel):
    phrase: str = Field(min_length=1)


def _brief_sentence(theme: Theme, common: frozenset[str] = frozenset()) -> str:
    """A theme of brief answers in figures, by code: how many of its ideas lean which way,
    and the nouns most of them say (``brief_words``; none of ``common``, the question's
    words)."""
    who = majority_phrase(theme.share)
    examples = ", ".join(f"« {e} »" for e in brief_examples(theme.quotes))
    # Only the leanings present: ideas of one kind group are clustered apart (cluster.BY_KIND),
    # so a theme of brief risks and observations held no favourable one (« 0 favorable »).
    words = brief_words(theme.quotes, common)
    repeated = f" ; {brief_said(words)}" if words else ""
    return (f"{who[:1].upper()}{who[1:]} des répondants répondent aussi en quelques mots, sans "
            f"développer ({examples}) : parmi ces réponses, {leanings(theme.kinds)}{repeated}.")


def _conclusion(draft: SynthesisDraft, sections: dict[str, list[Theme]], aside: list[Theme],
                themes: list[Theme], brief: list[Theme], question: str = "") -> None:
    heads = []
    for section, label in (("opportunites", "les apports les plus cités sont"),
                           ("risques", "les risques les plus cités sont"),
                           ("conditions", "les conditions les plus demandées sont")):
        top = [f"« {draft.named.get((section, t.cluster_id), t.title)} »"
               for t in sections[section][:2]]
        if top:
            heads.append(f"{label} {' et '.join(top)}")
    cited = list(dict.fromkeys(t.cluster_id for s in sections.values() for t in s[:2]))
    paragraph = sum(1 for s in sections.values() if s)
    position = 0
    if heads:
        text = "En conclusion, " + " ; ".join(heads) + "."
        draft.sentences.append(SynthesisSentence("conclusion", paragraph, position, text, cited,
                                                 "code", "code", 1.0, True))
        position += 1
    # The brief answers' words leave out the question's words only, as their theme's summary
    # does (summarise.brief_summary, written before the themes are known together): the
    # report's theme and the synthesis name the same words.
    asked = frozenset(content_stems(question))
    for theme in brief:
        draft.sentences.append(SynthesisSentence(
            "conclusion", paragraph, position, _brief_sentence(theme, asked),
            [theme.cluster_id], "code", "code", 1.0, True))
        position += 1
    if aside:
        share = max(t.share for t in aside)
        titles = " ; ".join(f"« {t.title} »" for t in aside)
        who = (f"{majority_phrase(share)} des répondants" if len(aside) == 1
               else f"jusqu'à {majority_phrase(share)} des répondants pour le plus cité")
        draft.sentences.append(SynthesisSentence(
            "conclusion", paragraph, position,
            f"D'autres réponses relèvent de constats ou d'autres sujets : {titles} ({who}).",
            [t.cluster_id for t in aside], "code", "code", 1.0, True))
    if not draft.sentences or all(s.section != "conclusion" for s in draft.sentences):
        draft.sentences.append(SynthesisSentence(
            "conclusion", paragraph, 0, "Les thèmes dégagés ne relèvent d'aucune des trois "
            "parties : voir le détail des thèmes.", [t.cluster_id for t in themes], "code",
            "code", 1.0, True))
        draft.fallbacks["conclusion_vide"] = 1


def _drop_repeats(draft: SynthesisDraft, embed: Callable[[list[str]], np.ndarray]) -> None:
    """Keep each sentence once: a sentence whose words (before connective and proportion)
    are too close to an earlier one's is dropped, and its themes are cited by that one."""
    if len(draft.sentences) < 2:
        return
    vectors = embed([s.body or s.text for s in draft.sentences])
    kept: list[int] = []
    for i, sentence in enumerate(draft.sentences):
        twin = next((j for j in kept if float(vectors[i] @ vectors[j]) >= SAID_AGAIN_COSINE),
                    None)
        if twin is None:
            kept.append(i)
            continue
        _count(draft, "phrase_doublon")
        earlier = draft.sentences[twin]
        earlier.cluster_ids = list(dict.fromkeys(earlier.cluster_ids + sentence.cluster_ids))
    draft.sentences = [draft.sentences[i] for i in kept]


# --- free mode -----------------------------------------------------------------------------

_SENTENCE_ITEM = {
    "type": "object",
    "properties": {"texte": {"type": "string", "maxLength": 400},
                   "themes": {"type": "array", "maxItems": 6, "items": {"type": "integer"}}},
    "required": ["texte", "themes"],
    "additionalProperties": False,
}
FREE_SCHEMA: dict = {
    "type": "object",
    "properties": {
        s: {"type": "array", "minItems": 1, "maxItems": 6, "items": _SENTENCE_ITEM} for s in SECTIONS
    },
    "required": list(SECTIONS),
    "additionalProperties": False,
}
FREE_MAX_TOKENS = 1400


class _FreeSentence(BaseModel):
    texte: str
    themes: list[int] = Field(default_factory=list)


class _FreeOut(BaseModel):
    opportunites: list[_FreeSentence]
    risques: list[_FreeSentence]
    conditions: list[_FreeSentence]
    conclusion: list[_FreeSentence]


def themes_block(themes: list[Theme], llm: LLM, prompt: Prompt) -> str:
    """The free synthesis input: themes by weight; the lightest ones shortened to fit."""
    budget = (llm.context_size - sum(llm.count_tokens(c) for _, c in prompt.messages)
              - FREE_MAX_TOKENS - 150)
    lines = []
    used = 0
    for t in themes:
        full = f"T{t.cluster_id} ({t.share:.0%} des répondants) {t.title} : {t.summary}"
        short = f"T{t.cluster_id} ({t.share:.0%} des répondants) {t.title} : {t.title}."
        line = full if used + llm.count_tokens(full) <= budget else short
        if used + llm.count_tokens(line) > budget:
            break
        lines.append(line)
        used += llm.count_tokens(line)
    return "\n".join(lines)


def free_synthesis(themes: list[Theme], question: str, llm: LLM, prompt: Prompt) -> SynthesisDraft:
    """The whole synthesis in one call (strong models); sentences to be checked by code."""
    if not themes:
        return SynthesisDraft([], "aucun thème à synthétiser")
    valid = {t.cluster_id for t in themes}
    messages = prompt.render(question=question, themes=themes_block(themes, llm, prompt))
    parsed, reason, budget, keys = None, None, FREE_MAX_TOKENS, []
    for _ in range(3):
        try:
            result = llm.chat(messages, schema=FREE_SCHEMA, max_tokens=budget)
            if result.call_key:
                keys.append(result.call_key)
            parsed = _FreeOut.model_validate_json(result.text)
            break
        except LLMError as exc:
            reason = f"appel au modèle en échec : {exc}"
        except ValidationError:
            reason = "JSON invalide ou tronqué renvoyé par le modèle"
            budget = min(3072, budget * 2)
    if parsed is None:
        return SynthesisDraft([], reason, list(dict.fromkeys(keys)))
    sentences: list[SynthesisSentence] = []
    for section in SECTIONS:
        seen: set[str] = set()
        paragraph = 0
        for item in getattr(parsed, section):
            ids = [i for i in dict.fromkeys(item.themes) if i in valid]
            texts = new_sentences(split_sentences(tidy_summary(item.texte)), seen)
            for position, text in enumerate(texts):
                sentences.append(SynthesisSentence(section, paragraph, position, text, ids))
            paragraph += 1 if texts else 0
    return SynthesisDraft(sentences, None, list(dict.fromkeys(keys)))

