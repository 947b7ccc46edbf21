"""Answers cut into numbered segments by code: sentences, lines, bullets, long clauses."""

from synthese.segments import is_content, numbered, split_segments


def _texts(text):
    return [(s.text, s.content) for s in split_segments(text)]


def test_sentences_lines_and_bullets_are_segments_with_their_offsets():
    text = "Pour :\n- les appréciations\n- les exercices différenciés\nContre : la triche. Voilà !"
    segments = split_segments(text)
    assert [s.text for s in segments] == ["Pour :", "les appréciations",
                                          "les exercices différenciés", "Contre : la triche.",
                                          "Voilà !"]
    assert all(text[s.start:s.end] == s.text for s in segments)
    assert [s.number for s in segments] == [1, 2, 3, 4, 5]
    assert [s.content for s in segments][:2] == [False, True]  # a header carries no idea


def test_lower_case_sentences_and_spaced_punctuation_are_cut_too():
    assert [t for t, _ in _texts("mon ex mari paie en retard . la loi ne prévoit rien.")] == [
        "mon ex mari paie en retard .", "la loi ne prévoit rien."]


def test_abbreviations_do_not_end_a_sentence():
    assert [t for t, _ in _texts("M. Dupont l'a dit. Mme Durand aussi.")] == [
        "M. Dupont l'a dit.", "Mme Durand aussi."]


def test_nothing_is_cut_inside_guillemets_or_brackets_closed_on_the_same_line():
    # Three demo answers and 14 of 200 Grand Débat comments were cut so, and « » dedans. »
    # became an idea of its own.
    quoted = ("Les élèves copient-collent les réponses, parfois avec la phrase « En tant que "
              "modèle de langage... » dedans. Bref.")
    assert [t for t, _ in _texts(quoted)] == [quoted[:-6], "Bref."]
    assert [t for t, _ in _texts("Taxer les GAFA (google, amazon...) et vite. Oui !")] == [
        "Taxer les GAFA (google, amazon...) et vite.", "Oui !"]
    assert [t for t, _ in _texts("Instruire le peuple (réellement ! )")] == [
        "Instruire le peuple (réellement ! )"]
    # A long sentence is not cut at a clause boundary inside brackets either.
    long = ("Mettre en place une plateforme web pour tous les citoyens du territoire (comme "
            "celle-ci, mais en plus sécurisée) afin de rester informés et de participer, et "
            "publier chaque année les comptes de la métropole ; voilà ce qu'il faudrait faire vite.")
    assert [t for t, _ in _texts(long)] == [long[:long.index(" ;")],
                                            "voilà ce qu'il faudrait faire vite."]


def test_a_sentence_keeps_the_bracket_that_closes_it_and_a_line_break_still_cuts():
    text = "Oui pour certains sujets (à voir !)\nNon pour le reste."
    segments = split_segments(text)
    assert [s.text for s in segments] == ["Oui pour certains sujets (à voir !)",
                                          "Non pour le reste."]
    assert all(text[s.start:s.end] == s.text for s in segments)
    # A bracket never closed protects nothing: the answer is still cut into its sentences.
    assert [t for t, _ in _texts("Des taxes (sur tout... Et encore. Non.")] == [
        "Des taxes (sur tout...", "Et encore.", "Non."]


def test_a_long_sentence_is_cut_at_its_clause_boundaries_into_parts_that_are_not_tiny():
    long = ("L'IA peut aider les enseignants à préparer des exercices différenciés pour leurs "
            "classes, mais elle pose de vraies questions sur les données personnelles des élèves "
            "et sur la dépendance à des entreprises privées ; il faudrait un cadre national.")
    parts = [t for t, _ in _texts(long)]
    assert len(parts) == 3
    assert parts[1].startswith("mais elle pose") and parts[2] == "il faudrait un cadre national."
    short = "Utile, mais énergivore."
    assert [t for t, _ in _texts(short)] == [short]


def test_courtesy_and_empty_segments_carry_no_idea():
    for text in ("Merci.", "Bonjour", "RAS", "Rien à ajouter.", "-", "?", "Cordialement,",
                 "Sans avis", "Je ne sais pas."):
        assert not is_content(text), text
    for text in ("Ça fait peur", "Top", "pas du tout convaincu", "Merci de nous former."):
        assert is_content(text), text


def test_the_model_reads_one_numbered_segment_per_line():
    assert numbered(split_segments("Oui. Non.")) == "[1] Oui.\n[2] Non."
