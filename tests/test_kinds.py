"""The kind of an idea by rule, from the respondent's words."""

import pytest

from synthese.kinds import kind_of


@pytest.mark.parametrize("text, kind", [
    ("L'IA m'aide à préparer mes cours.", "opportunite"),
    ("Les élèves trichent avec ChatGPT.", "risque"),
    ("Il faudrait former les enseignants d'abord.", "condition"),
    ("J'enseigne les mathématiques en lycée.", "constat"),
])
def test_each_kind_from_its_words(text, kind):
    assert kind_of(text) == kind


def test_the_clause_after_but_decides():
    assert kind_of("C'est une bonne chose, mais ils trichent tous.") == "risque"
    assert kind_of("On craint la triche, mais c'est un gain de temps formidable.") == "opportunite"


def test_a_negated_fear_or_benefit_is_not_read_as_it():
    assert kind_of("Je ne suis pas contre, c'est pratique.") == "opportunite"
    assert kind_of("Ce n'est pas utile en classe.") != "opportunite"


def test_irony_reads_as_a_risk():
    assert kind_of("Super, une IA pour corriger les copies écrites par l'IA.") == "risque"


def test_a_demand_after_a_welcome_keeps_the_welcome():
    assert kind_of("J'y vois un vrai gain de temps pour différencier, à condition d'être formé.") \
        == "opportunite"
    assert kind_of("À condition d'être formé, pourquoi pas.") == "condition"


def test_typographic_apostrophes_read_like_straight_ones():
    assert kind_of("Il faut qu’on nous forme.") == kind_of("Il faut qu'on nous forme.") == "condition"


def test_a_lack_or_a_loss_reads_as_a_risk():
    assert kind_of("Tous les élèves n'ont pas d'ordinateur à la maison.") == "risque"
    assert kind_of("Du coup ils ne progressent plus à l'écrit.") == "risque"


def test_a_question_is_an_objection_unless_it_proposes():
    assert kind_of("Mais qui paie ?") == "risque"
    assert kind_of("Pourquoi ne pas proposer un outil public ?") == "condition"
