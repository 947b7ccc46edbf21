from synthese.align import locate_quote

ANSWER = "Je pense que l'IA   peut aider les élèves en difficulté, mais attention à la triche !"


def test_exact_quote_is_found_with_offsets():
    m = locate_quote(ANSWER, "peut aider les élèves")
    assert m.kind == "exact" and ANSWER[m.start:m.end] == "peut aider les élèves"


def test_quote_differing_in_case_accents_and_spaces_is_normalised_match():
    m = locate_quote(ANSWER, "l'ia peut aider les eleves en difficulte")
    assert m.kind == "normalised"
    assert m.span(ANSWER) == "l'IA   peut aider les élèves en difficulté"


def test_lightly_rewritten_quote_is_fuzzy_match_with_score():
    m = locate_quote(ANSWER, "l'IA peut aider des élèves en difficulté mais attention a la triche")
    assert m is not None and m.kind == "fuzzy" and 85 <= m.score < 100
    assert "triche" in m.span(ANSWER) and m.span(ANSWER) in ANSWER


def test_invented_quote_is_not_located():
    assert locate_quote(ANSWER, "les enseignants doivent être formés à l'intelligence artificielle") is None


def test_empty_or_tiny_quotes_are_not_matched_fuzzily():
    assert locate_quote(ANSWER, "") is None
    assert locate_quote(ANSWER, "zzz") is None


def test_every_located_span_is_verbatim():
    for quote in ["aider les élèves", "ATTENTION À LA TRICHE", "peut aider des eleves en difficulte"]:
        m = locate_quote(ANSWER, quote)
        assert m is not None
        assert ANSWER[m.start:m.end] == m.span(ANSWER)
        assert not ANSWER[m.start].isspace() and not ANSWER[m.end - 1].isspace()


def test_quote_cut_mid_word_by_the_length_bound_is_widened_to_whole_words():
    m = locate_quote(ANSWER, "peut aider les élè")
    assert m.kind == "exact" and m.span(ANSWER) == "peut aider les élèves"
