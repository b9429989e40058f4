"""Tests for the [[watchlists]] section, the entities of [nlp] and of watchlists, and
the subscribers' references to watchlists."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.settings import (
    ConfigError,
    load_settings,
)
from settings_support import BASE, by_key, load, only, problems


def test_subscriber_names_missing_watchlist(tmp_path: Path) -> None:
    text = BASE.replace('watchlists = ["social-media-werk"]', 'watchlists = ["thuiswerken", "foo"]')
    problem = only(tmp_path, text)
    assert problem.key == "subscribers[0].watchlists[1]"
    assert problem.message == "no watchlist named 'foo'; defined: social-media-werk, thuiswerken"


def test_subscriber_watchlists_empty_or_missing(tmp_path: Path) -> None:
    text = BASE + '[[subscribers]]\nemail = "b@example.org"\nwatchlists = []\n'
    text += '[[subscribers]]\nemail = "c@example.org"\n'
    found = by_key(problems(tmp_path, text))
    assert found == {
        "subscribers[1].watchlists": "expected a non-empty array of watchlist names, "
        "got an array of 0 items",
        "subscribers[2].watchlists": "missing required key; expected an array of watchlist names",
    }


def test_bad_watchlist_slug(tmp_path: Path) -> None:
    text = BASE.replace('name = "thuiswerken"', 'name = "Thuis werken"')
    problem = only(tmp_path, text)
    assert problem.key == "watchlists[1].name"
    assert "lowercase letters, digits and '-'" in problem.message
    assert problem.message.endswith("got 'Thuis werken'")


@pytest.mark.parametrize(
    ("query", "position", "what"),
    [
        ('"social media werk', 1, "unbalanced quote"),
        ("(thuiswerken OR hybride", 1, "unbalanced '('"),
        ("werk OR", 6, "'OR' needs a term on its right"),
        ("werk - media", 6, "'-' must be followed by a term or phrase"),
    ],
)
def test_malformed_watchlist_query_names_watchlist_and_position(
    tmp_path: Path, query: str, position: int, what: str
) -> None:
    path = tmp_path / "trendwatch.toml"
    path.write_text(
        f"[[watchlists]]\nname = 'w'\ntitle = 'W'\nquery = '{query}'\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    [problem] = info.value.problems
    assert problem.key == "watchlists[0].query"
    assert what in problem.message
    assert f"at position {position}" in problem.message


def test_nlp_section_and_entity_watchlists(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [nlp]
        models = { nl = "nl_core_news_sm" }
        n_process = 2
        story_window = "5d"
        [[nlp.entities]]
        name = "Ministerie van SZW"
        label = "ORG"
        aliases = ["SZW"]
        [[watchlists]]
        name = "jumbo"
        title = "Jumbo"
        entities = ["Jumbo", { name = "Frits Muller", label = "PERSON", aliases = ["F. Muller"] }]
        """,
    )
    assert settings.nlp.models == (("nl", "nl_core_news_sm"),)
    assert settings.nlp.n_process == 2 and settings.nlp.story_window == timedelta(days=5)
    assert settings.nlp.entities[0].aliases == ("SZW",)
    jumbo = settings.watchlist("jumbo")
    assert jumbo.query == ""
    assert [e.name for e in jumbo.entities] == ["Jumbo", "Frits Muller"]
    assert jumbo.entities[1].label == "PERSON"


def test_nlp_and_entity_errors_name_key_and_expectation(tmp_path: Path) -> None:
    found = by_key(
        problems(
            tmp_path,
            """
            [nlp]
            models = { nl = 3 }
            n_process = 0
            colour = 1
            [[nlp.entities]]
            label = "org"
            aliases = [""]
            [[watchlists]]
            name = "a"
            title = "A"
            [[watchlists]]
            name = "b"
            title = "B"
            entities = [1]
            """,
        )
    )
    assert found["nlp.models"].startswith("expected a spaCy pipeline name for 'nl'")
    assert found["nlp.n_process"] == "expected a whole number from 1 to 32, got integer 0"
    assert found["nlp.colour"].startswith("unknown key; expected one of: models")
    assert found["nlp.entities[0].name"].startswith("missing required key")
    assert found["nlp.entities[0].label"].startswith("expected an upper-case label")
    assert found["nlp.entities[0].aliases"].startswith("expected an array of non-empty strings")
    assert found["watchlists[0].query"].startswith("missing required key; expected a query")
    assert found["watchlists[1].entities[0]"].startswith("expected a name or a table")
