"""The kind of an idea by rule, from the respondent's words."""

import pytest

from synthese.kinds import kind_in_context, kind_of


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
    # fighting a problem is no risk
    assert kind_of("Reconnaître le vote blanc, c'est lutter contre l'abstention.") != "risque"


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


def test_an_observation_takes_the_view_said_just_before_it_else_just_after():
    fact = "C'est la fin des devoirs maison."
    assert kind_of(fact) == "constat"
    fear, welcome = "Je suis très inquiet.", "L'IA m'aide à préparer mes cours."
    assert kind_in_context(fact, fear, None) == "risque"
    assert kind_in_context(fact, None, welcome) == "opportunite"
    assert kind_in_context(fact, fear, welcome) == "risque"  # the one before first
    assert kind_in_context(fact, "Il faut former les enseignants.", welcome) == "opportunite"
    assert kind_in_context(fact, "J'enseigne en lycée.", None) == "constat"


def test_only_an_observation_takes_its_neighbours_view():
    assert kind_in_context("Il faut former les enseignants.", "Je suis très inquiet.",
                           None) == "condition"
    assert kind_in_context("L'IA m'aide à préparer mes cours.", "Je suis très inquiet.",
                           None) == "opportunite"


def test_a_respondent_saying_who_they_are_stays_an_observation():
    for who in ("Je suis professeure de SVT en collège.", "J'enseigne le français en UPE2A.",
                "Je suis CPE au collège."):
        assert kind_in_context(who, None, "Les élèves trichent avec ChatGPT.") == "constat"


def test_the_clause_after_but_turns_against_the_view_before_it_when_its_words_say_nothing():
    # Neither « relire et corriger… prend autant de temps » nor « elle comble un vide » has
    # a word of risk or benefit: « mais » says which way they go.
    assert kind_of("On nous vend un gain de temps, mais relire et corriger ce que produit "
                   "l'outil prend autant de temps que de le faire soi-même.") == "risque"
    assert kind_of("L'IA ne remplace pas une formation, mais en attendant, elle comble un "
                   "vide que l'institution a laissé.") == "opportunite"
    # with no view before it, nothing to turn against
    assert kind_of("Je suis en collège, mais je vais bientôt changer.") == "constat"


def test_an_observation_after_a_turn_turns_against_the_view_before_it():
    welcome, fear = "L'IA m'aide à préparer mes cours.", "Je suis très inquiet."
    turned = "Cela dit, les familles favorisées sauront accompagner leurs enfants."
    assert kind_of(turned) == "constat"
    assert kind_in_context(turned, welcome, None) == "risque"
    assert kind_in_context(turned, fear, None) == "opportunite"
    assert kind_in_context(turned, "J'enseigne en lycée.", None) == "constat"
    assert kind_in_context(turned, welcome, fear) == "risque"
    assert kind_in_context("C'est la fin des devoirs maison.", None,
                           "Mais " + welcome[0].lower() + welcome[1:]) == "constat"


@pytest.mark.parametrize("text", [
    "Interdire aux supermarchés de faire des marges indécentes sur le bio",  # « indécent »
    "Taxer toutes les entreprises étrangères qui font du chiffre d'affaire en France",
    "- developper les pistes cyclables",
    "-limiter les emballages plastique afin de réduire les déchets",
    "Développer le télétravail.",  # « développ » is no benefit word, but a proposal
    "D'abord réduire la TVA payée par tous au même taux sans référence aux revenus.",
    "Surtout limiter le nombre de mandats pour éviter que la politique devienne un métier.",
    "Garder les mairies et les régions... Mais supprimer les départements",
    "être instauré à l'initiative d'une motion regroupant au moins un tiers des parlementaires.",
])
def test_a_proposal_said_as_an_infinitive_is_a_condition(text):
    assert kind_of(text) == "condition"


@pytest.mark.parametrize("text, kind", [
    # an infinitive subject of a conjugated verb: the verb's sentence decides
    ("Faire repérer les erreurs d'une IA est un excellent exercice.", "opportunite"),
    ("Rédiger une demande de subvention prend deux fois moins de temps.", "opportunite"),
    ("Introduire cette question dans ce grand débat me semble très dommageable.", "constat"),
    # a noun ending like an infinitive
    ("Danger pour l'esprit critique des élèves.", "risque"),
    # a clause of its own after it, a question: what the demo's teachers wrote
    (("Adapter un document en gros caractères, avec des phrases courtes et un lexique, en "
      "deux minutes : c'est là que l'IA est vraiment utile."), "opportunite"),
    ("Aussi, synthétiser en une page une circulaire de trente pages, franchement, ça aide.",
     "opportunite"),
    # (a remark on the consultation itself, and off-topic since rules v12)
    ("pourquoi envoyer ce questionnaire en pleine période de conseils de classe ??",
     "hors_sujet"),
    (("Travailler avec les élèves sur la façon dont l'IA fabrique ses réponses, c'est "
      "passionnant et très formateur."), "opportunite"),
    ("Hier, un élève m'a rendu un devoir écrit par ChatGPT.", "constat"),
])
def test_an_infinitive_with_a_conjugated_verb_or_a_noun_is_not_a_proposal(text, kind):
    assert kind_of(text) == kind


@pytest.mark.parametrize("text, kind", [
    ("Prudence, prudence.", "condition"),
    ("Outil puissant, à manier avec précaution.", "condition"),
    ("J'attends des textes officiels qui précisent les usages autorisés.", "condition"),
    ("Vivement qu'on ait des outils institutionnels !", "condition"),
    ("Encore faut-il que tous les élèves y aient accès.", "condition"),
    ("Formation indispensable.", "condition"),
    ("Très inquiétant pour les plus jeunes.", "risque"),  # « é »: « inquiétant »
    ("Attention aux données des élèves.", "risque"),
])
def test_caution_and_waiting_ask_for_something_and_a_warning_is_a_risk(text, kind):
    assert kind_of(text) == kind


@pytest.mark.parametrize("text, kind", [
    # time freed, confidence regained, relief
    ("Corriger les exercices avec l'outil me libère du temps pour les élèves.", "opportunite"),
    ("Avec la synthèse vocale, ce garçon lit enfin seul.", "opportunite"),
    ("Une élève timide a repris confiance en elle.", "opportunite"),
    ("Franchement, l'outil m'a sauvé la mise en début d'année.", "opportunite"),
    ("J'ai hâte de tester avec ma classe.", "opportunite"),
    ("Deux vidéos m'ont suffi pour démarrer, ce n'est pas si compliqué.", "opportunite"),
    # « plus » negates only after « ne »
    ("J'ai changé ma façon d'évaluer et c'est plus intéressant.", "opportunite"),
    # « peu » negates a benefit, and a benefit denied is a risk
    ("Un outil séduisant mais peu fiable.", "risque"),
    # loss, neglect, breakdown
    ("Ce type d'outil va détruire le goût de l'effort.", "risque"),
    ("Personne ne sait qui héberge les données.", "risque"),
    ("Dans ma salle, le vidéoprojecteur ne fonctionne pas.", "risque"),
    ("Plus besoin d'apprendre ses leçons, en somme.", "risque"),
    ("Un usage non encadré en dehors de la classe.", "risque"),
    # checking the tool's output is a burden, not a demand
    ("Il faut toujours tout relire, ça prend un temps fou.", "risque"),
    # a question after a turn is an objection
    ("Il faudrait des salles équipées, mais avec quel budget ?", "risque"),
    # the future of obligation, « pourquoi pas », what is missing
    ("Il faudra bien apprendre à vivre avec.", "condition"),
    ("Pourquoi pas, avec des outils hébergés en France.", "condition"),
    ("Il nous manque surtout du matériel.", "condition"),
    ("Rien ne se fera sans du temps de concertation.", "condition"),
    ("Les examens vont devoir évoluer.", "condition"),
    # a demand after the first third keeps the view said before it
    ("Un vrai soutien pour les dys, à condition qu'il soit gratuit et hébergé en France.",
     "opportunite"),
])
def test_rules_v9_read_time_freed_loss_burden_and_obligation(text, kind):
    assert kind_of(text) == kind


@pytest.mark.parametrize("text, kind", [
    # a view said mixed, or said to depend on the use, is neither a benefit nor a risk
    ("Mon avis est partagé.", "constat"),
    ("Sentiment plutôt mitigé.", "constat"),
    ("Tout dépend de l'usage : aider à réfléchir ou réfléchir à leur place.", "constat"),
    ("Pour ma matière, c'est à la fois une aide et un danger.", "constat"),
    ("Ni miracle ni catastrophe, un outil parmi d'autres.", "constat"),
    ("Pour certaines tâches oui, pour d'autres non.", "constat"),
    ("J'aborde la rentrée avec un mélange d'envie et de crainte.", "constat"),
    # a mixed feeling explained takes the view of its explanation
    ("Je reste très mitigée, ils recopient tout sans lire.", "risque"),
    # a demand is still a demand
    ("Avis partagé, il faudrait d'abord former les équipes.", "condition"),
    # a turn word inside a clause turns nothing (« je regrette cependant que… »)
    ("Je regrette toutefois que tout repose sur la bonne volonté de chacun.", "risque"),
    ("Une fausse bonne idée, comme les tablettes.", "risque"),
    ("Ça a permis aux élèves de poser leurs questions sans gêne.", "opportunite"),
])
def test_rules_v11_read_a_mixed_view_as_an_observation(text, kind):
    assert kind_of(text) == kind


def test_a_mixed_view_does_not_take_its_neighbours_view():
    fear = "Je suis très inquiet pour mes élèves."
    assert kind_in_context("Avis partagé.", fear, None) == "constat"
    assert kind_in_context("Question complexe.", None, fear) == "constat"
    # an observation that says nothing of the kind still does
    assert kind_in_context("C'est la fin des devoirs maison.", fear, None) == "risque"


@pytest.mark.parametrize("text, kind", [
    # rules v12: a remark on the consultation itself is off-topic, whatever its words
    ("Encore un questionnaire.", "hors_sujet"),
    ("pourquoi envoyer ce questionnaire en pleine période de conseils de classe ??",
     "hors_sujet"),
    (("Je profite de ce questionnaire pour signaler que les absences ne sont toujours pas "
     "remplacées dans mon collège"), "hors_sujet"),
    (("Je propose qu'une IA remplisse aussi les livrets scolaires et les enquêtes "
     "ministérielles comme celle-ci."), "hors_sujet"),
    ("Hors sujet, mais : les rendez-vous de carrière sont une vaste blague.", "hors_sujet"),
    # questionnaires the respondent makes are on topic
    (("Pour les rallyes lecture, je génère des questionnaires sur les albums en quelques "
     "minutes, c'est un gain de temps."), "opportunite"),
    # checking the tool's output is a burden, also after « faut de » (v12)
    ("Les propositions sont souvent banales, il faut de toute façon retravailler derrière.",
     "risque"),
    ("Il faut des moyens.", "condition"),
])
def test_rules_v12_read_a_remark_on_the_consultation_as_off_topic(text, kind):
    assert kind_of(text) == kind


def test_an_off_topic_remark_gives_no_view_to_its_neighbour():
    remark = "Encore un questionnaire."
    assert kind_in_context("On en reçoit trois par mois.", remark, None) == "constat"
    assert kind_in_context(remark, "Je suis très inquiet pour mes élèves.", None) == "hors_sujet"
