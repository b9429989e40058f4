"""The search box's syntax: words, phrases, OR, exclusions, prefixes, and everything
else people type read leniently, never an error."""

from __future__ import annotations

import random

import pytest

from pipeline.search.query import MAX_EXCLUDED, MAX_TERMS, SearchQuery, Term, parse, with_lemmas


def shape(query: SearchQuery) -> tuple[list[list[str]], list[str]]:
    """Groups and exclusions as text, for comparing."""
    return [[t.text for t in g] for g in query.groups], [t.text for t in query.excluded]


@pytest.mark.parametrize(
    ("typed", "groups", "excluded"),
    [
        ("woning", [["woning"]], []),
        ("woning huur", [["woning"], ["huur"]], []),
        ('"nieuwe woningen" bouw', [["nieuwe woningen"], ["bouw"]], []),
        ("“nieuwe woningen”", [["nieuwe woningen"]], []),
        ("woning OR huis prijs", [["woning", "huis"], ["prijs"]], []),
        ("woning | huis OR flat", [["woning", "huis", "flat"]], []),
        ("woning -huur", [["woning"]], ["huur"]),
        ('woning -"sociale huur"', [["woning"]], ["sociale huur"]),
        ("woning*", [["woning*"]], []),
        ("wo*", [["wo"]], []),  # a prefix needs three letters
        ("covid-19", [["covid 19"]], []),
        ("e-mail", [["e mail"]], []),
        ("(woning OR huis) AND prijs", [["woning", "huis"], ["prijs"]], []),
        ("woning or huis", [["woning"], ["or"], ["huis"]], []),  # only OR is the operator
        ('"unclosed phrase', [["unclosed phrase"]], []),
        ("OR woning OR", [["woning"]], []),
        ("woning OR -huur", [["woning"]], ["huur"]),
        ("woning - huur", [["woning"], ["huur"]], []),  # a lone "-" is dropped
        ("Woning woning WONING", [["Woning"]], []),
        ("woning -woning", [["woning"]], []),  # cannot both find and leave out
        ("-OR", [], ["OR"]),
        ("", [], []),
        ("   ", [], []),
        ("!!! ??? ...", [], []),
        ('""', [], []),
        ("-huur", [], ["huur"]),
        ("NEAR(a b)", [["NEAR"], ["a"], ["b"]], []),
        ("title:woning", [["title woning"]], []),
    ],
)
def test_what_people_type(typed: str, groups: list[list[str]], excluded: list[str]) -> None:
    query = parse(typed)
    assert shape(query) == (groups, excluded)
    assert query.empty == (not groups)


def test_long_queries_are_cut_and_say_so() -> None:
    words = " ".join(f"w{i}" for i in range(MAX_TERMS + 5))
    query = parse(words + " " + " ".join(f"-x{i}" for i in range(MAX_EXCLUDED + 2)))
    assert len(query.terms) == MAX_TERMS and len(query.excluded) == MAX_EXCLUDED
    assert query.dropped == 5 + 2
    assert len(parse("a " * 2000).terms) == 1  # only the first 500 characters are read


def test_with_lemmas_adds_a_words_lemmas_and_its_own_folded_form() -> None:
    query = with_lemmas(parse('Woningen "nieuwe huizen" bouw* -Huren'), lambda w: {w[:-2]})
    [[woningen], [phrase], [prefix]] = query.groups
    assert woningen.lemmas == {"woningen", "Woning"}
    assert phrase.lemmas == prefix.lemmas == frozenset()  # phrases and prefixes: as typed
    assert query.excluded[0].lemmas == {"huren", "Hur"}
    assert Term(("Één",)).folded == ("een",)


def test_random_input_always_parses() -> None:
    rng = random.Random(7)
    alphabet = 'aé "“-*()|:^OR AND \t'
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        query = parse(text)
        assert all(t.words and all(w.strip() for w in t.words) for t in query.terms)
