"""Tests for the watchlist query parser (Google Alerts syntax)."""

from __future__ import annotations

import pytest

from pipeline.process.watchlists.query import (
    And,
    Lang,
    Not,
    Or,
    QuerySyntaxError,
    Site,
    Term,
    parse_query,
    positive_terms,
    words_of,
)


def t(*words: str, in_title: bool = False) -> Term:
    return Term(tuple(words), in_title=in_title)


# --- terms and phrases ---------------------------------------------------------------


def test_single_word_is_a_term() -> None:
    assert parse_query("thuiswerken") == t("thuiswerken")


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_query("  \tthuiswerken \n") == t("thuiswerken")


def test_words_keep_their_spelling_in_the_tree() -> None:
    # folding (case, diacritics) is the matcher's job, the parser keeps the text
    assert parse_query("Coördinator") == t("Coördinator")


def test_phrase_is_one_term_of_several_words() -> None:
    node = parse_query('"social media"')
    assert node == t("social", "media")
    assert node.text == "social media"


@pytest.mark.parametrize("query", ["“sociale media”", '"sociale media”', '“sociale media"'])
def test_typographic_quotes_delimit_a_phrase(query: str) -> None:
    assert parse_query(query) == t("sociale", "media")


def test_punctuation_inside_a_phrase_is_not_part_of_its_words() -> None:
    assert parse_query('"werk, privé & balans"') == t("werk", "privé", "balans")


def test_apostrophe_words_stay_whole() -> None:
    assert parse_query("zzp'ers") == t("zzp'ers")
    assert parse_query("zzp’ers") == t("zzp’ers")


def test_hyphenated_word_becomes_a_phrase_of_its_parts() -> None:
    assert parse_query("e-mail") == t("e", "mail")


def test_words_of_splits_on_non_word_characters() -> None:
    assert words_of("Werk-privé balans, 2026!") == ("Werk", "privé", "balans", "2026")
    assert words_of("  ") == ()
    assert words_of("KPN's") == ("KPN's",)


# --- AND, OR and precedence ------------------------------------------------------------


def test_space_separated_terms_must_all_occur() -> None:
    assert parse_query("thuiswerken kantoor") == And((t("thuiswerken"), t("kantoor")))


def test_phrase_and_word_combine_with_and() -> None:
    assert parse_query('"social media" werk') == And((t("social", "media"), t("werk")))


@pytest.mark.parametrize("query", ["ontslag OR reorganisatie", "ontslag | reorganisatie"])
def test_or_and_pipe_are_the_same(query: str) -> None:
    assert parse_query(query) == Or((t("ontslag"), t("reorganisatie")))


@pytest.mark.parametrize("query", ["ontslag|reorganisatie", "(ontslag)OR(reorganisatie)"])
def test_or_needs_no_spaces_next_to_pipe_or_parentheses(query: str) -> None:
    assert parse_query(query) == Or((t("ontslag"), t("reorganisatie")))


def test_lowercase_or_is_an_ordinary_word() -> None:
    # as on Google: only upper-case OR is the operator
    assert parse_query("werk or privé") == And((t("werk"), t("or"), t("privé")))


def test_word_containing_or_is_not_the_operator() -> None:
    assert parse_query("ORGANISATIE") == t("ORGANISATIE")


def test_chained_or_is_flat() -> None:
    assert parse_query("ontslag OR reorganisatie | massaontslag") == Or(
        (t("ontslag"), t("reorganisatie"), t("massaontslag"))
    )


def test_or_binds_tighter_than_and_on_the_right() -> None:
    # a b OR c  ==  a AND (b OR c)
    assert parse_query("thuiswerken kantoor OR hybride") == And(
        (t("thuiswerken"), Or((t("kantoor"), t("hybride"))))
    )


def test_or_binds_tighter_than_and_on_the_left() -> None:
    # a OR b c  ==  (a OR b) AND c
    assert parse_query("werkgever OR werknemer thuiswerken") == And(
        (Or((t("werkgever"), t("werknemer"))), t("thuiswerken"))
    )


def test_parentheses_override_precedence() -> None:
    assert parse_query("(thuiswerken kantoor) OR hybride") == Or(
        (And((t("thuiswerken"), t("kantoor"))), t("hybride"))
    )


def test_nested_groups() -> None:
    assert parse_query('((ontslag OR reorganisatie) "nieuwe medewerkers")') == And(
        (Or((t("ontslag"), t("reorganisatie"))), t("nieuwe", "medewerkers"))
    )


def test_phrases_can_be_or_ed() -> None:
    assert parse_query('"social media" OR "sociale media"') == Or(
        (t("social", "media"), t("sociale", "media"))
    )


# --- exclusion -----------------------------------------------------------------------


def test_minus_excludes_a_word() -> None:
    assert parse_query("vacature -stage") == And((t("vacature"), Not(t("stage"))))


def test_minus_excludes_a_phrase() -> None:
    assert parse_query('werk -"social media"') == And((t("werk"), Not(t("social", "media"))))


def test_minus_excludes_a_group() -> None:
    assert parse_query("ontslag -(Philips OR Shell)") == And(
        (t("ontslag"), Not(Or((t("Philips"), t("Shell")))))
    )


def test_excluded_term_may_come_first() -> None:
    assert parse_query("-stage vacature") == And((Not(t("stage")), t("vacature")))


def test_minus_inside_a_word_is_part_of_the_word() -> None:
    assert parse_query("werk-privé") == t("werk", "privé")


def test_excluded_alternative_inside_or() -> None:
    assert parse_query("vacature OR -stage") == Or((t("vacature"), Not(t("stage"))))


# --- operators -----------------------------------------------------------------------


def test_site_operator() -> None:
    assert parse_query("site:nu.nl") == Site("nu.nl")


@pytest.mark.parametrize("value", ["NU.nl", "www.nu.nl", "WWW.NU.NL", "nu.nl.", ".nu.nl"])
def test_site_domain_is_normalised(value: str) -> None:
    assert parse_query(f"site:{value}") == Site("nu.nl")


def test_operator_names_are_case_insensitive() -> None:
    assert parse_query("SITE:nu.nl Intitle:Werk LANG:NL") == And(
        (Site("nu.nl"), t("Werk", in_title=True), Lang("nl"))
    )


def test_excluded_site() -> None:
    assert parse_query("ontslag -site:nu.nl") == And((t("ontslag"), Not(Site("nu.nl"))))


def test_intitle_word() -> None:
    assert parse_query("intitle:vacature") == t("vacature", in_title=True)


@pytest.mark.parametrize("query", ['intitle:"nieuwe medewerkers"', "intitle:“nieuwe medewerkers”"])
def test_intitle_phrase(query: str) -> None:
    assert parse_query(query) == t("nieuwe", "medewerkers", in_title=True)


def test_excluded_intitle() -> None:
    assert parse_query("werk -intitle:vacature") == And(
        (t("werk"), Not(t("vacature", in_title=True)))
    )


@pytest.mark.parametrize(
    "value,code", [("nl", "nl"), ("EN", "en"), ("Nl", "nl"), ("nld", "nld"), ("ENG", "eng")]
)
def test_lang_operator(value: str, code: str) -> None:
    assert parse_query(f"thuiswerken lang:{value}") == And((t("thuiswerken"), Lang(code)))


def test_unknown_operator_prefix_is_an_ordinary_word() -> None:
    # "tijd:" is not an operator; the word is kept (and split into its word parts)
    assert parse_query("tijd:werk") == t("tijd", "werk")


def test_operators_alone_are_a_valid_query() -> None:
    assert parse_query("site:nu.nl lang:nl") == And((Site("nu.nl"), Lang("nl")))


# --- positive_terms ------------------------------------------------------------------


def test_positive_terms_leave_out_excluded_ones() -> None:
    tree = parse_query('(ontslag OR "nieuwe medewerkers") -stage intitle:werk site:nu.nl')
    assert positive_terms(tree) == [
        t("ontslag"),
        t("nieuwe", "medewerkers"),
        t("werk", in_title=True),
    ]


def test_positive_terms_of_an_excluded_group_are_none() -> None:
    tree = parse_query("ontslag -(Philips OR Shell)")
    assert positive_terms(tree) == [t("ontslag")]


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query,message,position",
    [
        # empty
        ("", "empty query", 1),
        ("   ", "empty query", 1),
        # quotes
        ('"social media', "unbalanced quote", 1),
        ('werk "social media', "unbalanced quote", 6),
        ("werk “sociale media", "unbalanced quote", 6),
        ('intitle:"nieuwe medewerkers', "unbalanced quote", 9),
        ('""', "empty phrase", 1),
        ('werk " "', "empty phrase", 6),
        # parentheses
        ("(ontslag", "unbalanced '('", 1),
        ("werk (ontslag OR reorganisatie", "unbalanced '('", 6),
        ("((ontslag) werk", "unbalanced '('", 1),
        ("ontslag)", "unbalanced ')'", 8),
        ("werk ) ontslag", "unbalanced ')'", 6),
        ("(werk) ontslag)", "unbalanced ')'", 15),
        ("()", "empty group", 2),
        ("werk ( )", "empty group", 8),
        # OR
        ("OR werk", "'OR' needs a term on its left", 1),
        ("| werk", "'OR' needs a term on its left", 1),
        ("werk OR", "'OR' needs a term on its right", 6),
        ("werk |", "'OR' needs a term on its right", 6),
        ("werk OR OR ontslag", "'OR' needs a term on its right", 6),
        ("werk | | ontslag", "'OR' needs a term on its right", 6),
        ("(werk OR) ontslag", "'OR' needs a term on its right", 7),
        ("ontslag (OR werk)", "'OR' needs a term on its left", 10),
        # minus
        ("-", "'-' must be followed by a term or phrase", 1),
        ("werk -", "'-' must be followed by a term or phrase", 6),
        ("werk - stage", "'-' must be followed by a term or phrase", 6),
        ("(werk -)", "'-' must be followed by a term or phrase", 7),
        ("werk -| stage", "'-' must be followed by a term or phrase", 6),
        ("werk --stage", "'-' must be followed by a term or phrase", 6),
        # only exclusions
        ("-stage", "a query needs at least one term that is not excluded", 1),
        ('-stage -"bijbaan"', "a query needs at least one term that is not excluded", 1),
        ("-site:nu.nl", "a query needs at least one term that is not excluded", 1),
        # operators without (valid) value
        ("site:", "'site:' needs a value", 1),
        ("werk site:", "'site:' needs a value", 6),
        ("site: nu.nl", "'site:' needs a value", 1),
        ("werk -site:", "'site:' needs a value", 7),
        ("site:https://nu.nl", "'site:https://nu.nl' is not a domain", 1),
        ("werk site:nu.nl/werk", "'site:nu.nl/werk' is not a domain", 6),
        ("site:nu_nl", "'site:nu_nl' is not a domain", 1),
        ("intitle:", "'intitle:' needs a value", 1),
        ('intitle:""', "'intitle:' needs a word", 1),
        ("lang:", "'lang:' needs a value", 1),
        ("werk lang:dutch", "'lang:dutch' is not a language code", 6),
        ("werk lang:n", "'lang:n' is not a language code", 6),
        ("werk lang:nlde", "'lang:nlde' is not a language code", 6),  # 2 or 3 letters
        ("werk lang:n1", "'lang:n1' is not a language code", 6),
        ("werk lang:nl-BE", "'lang:nl-BE' is not a language code", 6),
        # no word at all
        ("!!!", "no word", 1),
        ("werk &", "no word", 6),
    ],
)
def test_syntax_errors_say_what_and_where(query: str, message: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.message == message
    assert info.value.position == position
    assert str(info.value) == f"{message} at position {position}"


def test_syntax_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_query("(werk")


def test_error_position_points_at_the_offending_character() -> None:
    query = 'thuiswerken "hybride werken'
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert query[info.value.position - 1] == '"'


def test_closing_parenthesis_without_opening_one_is_reported_as_unbalanced() -> None:
    # A stray ')' before anything else is the same mistake as 'werk )': an unbalanced
    # ')'. It must not be reported as an "empty group" (there is no group).
    for query in (")", ") thuiswerken"):
        with pytest.raises(QuerySyntaxError) as info:
            parse_query(query)
        assert (info.value.message, info.value.position) == ("unbalanced ')'", 1), query


def test_group_of_only_exclusions_next_to_a_positive_term_is_valid() -> None:
    # 'vacature (-stage -bijbaan)' means vacature AND NOT stage AND NOT bijbaan, exactly
    # like 'vacature -stage -bijbaan'; the query as a whole has a positive term.
    tree = parse_query("vacature (-stage -bijbaan)")
    assert positive_terms(tree) == [t("vacature")]
