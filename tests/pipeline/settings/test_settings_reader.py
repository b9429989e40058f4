"""Tests for the reader of TOML tables: unknown keys (with hints), values of the wrong
type, missing required keys, duplicates, and every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import (
    TOP_KEYS,
    ConfigError,
)
from settings_support import BASE, by_key, only, problems


def test_unknown_top_level_key(tmp_path: Path) -> None:
    problem = only(tmp_path, 'sender = "x@example.org"\n')
    assert problem.key == "sender"
    assert problem.message.startswith("unknown key; expected one of: data_dir, base_url,")
    assert problem.message.endswith("did you mean 'from'?")


def test_unknown_nested_key(tmp_path: Path) -> None:
    problem = only(tmp_path, BASE.replace('name = "Werk en Leven"', 'name = "W"\ncolour = "red"'))
    assert problem.key == "sources[0].colour"
    assert problem.message == (
        "unknown key; expected one of: name, type, url, language, enabled, preferred,"
        " categories, min_interval, max_interval, full_text"
    )


def test_unknown_key_in_tables(tmp_path: Path) -> None:
    found = by_key(
        problems(
            tmp_path,
            """
            [schedule]
            tz = "Europe/Amsterdam"
            [smtp]
            from = "digest@example.org"
            sender = "digest@example.org"
            [[watchlists]]
            name = "a"
            title = "A"
            query = "a"
            querry = "b"
            """,
        )
    )
    assert set(found) == {"schedule.tz", "smtp.sender", "watchlists[0].querry"}
    assert found["schedule.tz"].endswith("did you mean 'timezone'?")
    assert found["smtp.sender"].endswith("did you mean 'from'?")
    assert found["watchlists[0].querry"].endswith("did you mean 'query'?")


SMTP = "[smtp]\nfrom = 'a@example.org'\n"


WRONG_TYPES = [
    ("digest_title = 5", "digest_title", "expected a string, got integer 5"),
    ('digest_title = " "', "digest_title", "expected a non-empty string, got an empty string"),
    (
        'allow_private_networks = "yes"',
        "allow_private_networks",
        "expected true or false, got 'yes'",
    ),
    ("data_dir = ['a']", "data_dir", "expected a string, got an array of 1 item"),
    ("schedule = 3", "schedule", "expected a table ([schedule] section), got integer 3"),
    (
        "[sources]\nname = 'x'",
        "sources",
        "expected an array of tables ([[sources]] sections), got a table",
    ),
    ("sources = [1]", "sources[0]", "expected a table, got integer 1"),
    (
        SMTP + "timeout = 'lang'",
        "smtp.timeout",
        "expected a number of seconds from 0.1 to 600, got 'lang'",
    ),
    (SMTP + "starttls = 1", "smtp.starttls", "expected true or false, got integer 1"),
    (
        "[schedule]\ntimezone = 2024-01-01",
        "schedule.timezone",
        "expected a time zone name such as 'Europe/Amsterdam', got date 2024-01-01",
    ),
]


@pytest.mark.parametrize(("text", "key", "message"), WRONG_TYPES)
def test_wrong_type(tmp_path: Path, text: str, key: str, message: str) -> None:
    assert only(tmp_path, text + "\n")[1:] == (key, message)


def test_wrong_type_in_array_item(tmp_path: Path) -> None:
    problem = only(tmp_path, BASE.replace('query = "thuiswerken"', "query = 5"))
    assert problem[1:] == ("watchlists[1].query", "expected a string, got integer 5")


def test_missing_required_keys(tmp_path: Path) -> None:
    found = by_key(problems(tmp_path, "[[sources]]\n[[watchlists]]\n[[subscribers]]\n[smtp]\n"))
    assert set(found) == {
        "smtp.from",
        "sources[0].name",
        "sources[0].url",
        "watchlists[0].name",
        "watchlists[0].title",
        "watchlists[0].query",
        "subscribers[0].email",
        "subscribers[0].watchlists",
    }
    assert all(message.startswith("missing required key") for message in found.values())


def test_duplicate_source_names(tmp_path: Path) -> None:
    text = BASE + '[[sources]]\nname = "werk en leven"\nurl = "https://example.org/2.xml"\n'
    problem = only(tmp_path, text)
    assert problem[1:] == ("sources[1].name", "duplicate name 'werk en leven' (also sources[0])")


def test_duplicate_watchlist_names(tmp_path: Path) -> None:
    text = BASE + '[[watchlists]]\nname = "thuiswerken"\ntitle = "Nog eens"\nquery = "x"\n'
    problem = only(tmp_path, text)
    assert problem[1:] == (
        "watchlists[2].name",
        "duplicate name 'thuiswerken' (also watchlists[1])",
    )


def test_duplicate_subscriber_emails(tmp_path: Path) -> None:
    text = BASE + '[[subscribers]]\nemail = "Lezer@Example.org"\nwatchlists = ["thuiswerken"]\n'
    problem = only(tmp_path, text)
    assert problem.key == "subscribers[1].email"
    assert problem.message == "duplicate e-mail address 'Lezer@example.org' (also subscribers[0])"


def test_duplicate_watchlist_in_subscriber(tmp_path: Path) -> None:
    text = BASE.replace('["social-media-werk"]', '["social-media-werk", "social-media-werk"]')
    problem = only(tmp_path, text)
    assert problem.key == "subscribers[0].watchlists[1]"
    assert problem.message.startswith("duplicate watchlist 'social-media-werk'")


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    text = """
    colour = "blue"
    [schedule]
    timezone = "Europe/Amsterdan"
    crawl_every = "soon"
    [smtp]
    port = "abc"
    starttls = true
    ssl = true
    from = "digest@example.org"

    [[sources]]
    name = "A"
    url = "https://example.org/a.xml"
    [[sources]]
    name = "B"
    url = 5
    [[sources]]
    name = "a"
    url = "ftp://x"

    [[watchlists]]
    name = "x"
    title = "X"
    query = "x"
    [[watchlists]]
    name = "x"
    title = ""
    query = "y"

    [[subscribers]]
    email = "not-an-address"
    watchlists = ["foo", "x"]
    [[subscribers]]
    email = "b@example.org"
    language = "de"
    watchlists = ["x", 3]
    """
    found = problems(tmp_path, text)
    assert by_key(found) == {
        "colour": f"unknown key; expected one of: {', '.join(TOP_KEYS)}",
        "schedule.timezone": (
            "unknown time zone 'Europe/Amsterdan'; expected an IANA name such as "
            "'Europe/Amsterdam'; did you mean 'Europe/Amsterdam'?"
        ),
        "schedule.crawl_every": (
            "expected a duration such as '30m', '2h' or '1d' "
            "(a whole number followed by s, m, h or d), got 'soon'"
        ),
        "smtp": (
            "starttls and ssl cannot both be true; use starttls = true (usually port 587) "
            "or ssl = true (usually port 465)"
        ),
        "smtp.port": "expected an integer from 1 to 65535, got 'abc'",
        "sources[1].url": "expected an absolute http(s) URL, got integer 5",
        "sources[2].url": "expected an absolute http(s) URL, got 'ftp://x'",
        "sources[2].name": "duplicate name 'a' (also sources[0])",
        "watchlists[1].title": "expected a non-empty string, got an empty string",
        "watchlists[1].name": "duplicate name 'x' (also watchlists[0])",
        "subscribers[0].email": (
            "invalid e-mail address 'not-an-address': An email address must have an @-sign."
        ),
        "subscribers[0].watchlists[0]": "no watchlist named 'foo'; defined: x",
        "subscribers[1].language": "expected one of: nl, en, got 'de'",
        "subscribers[1].watchlists[1]": "expected a string, got integer 3",
    }
    assert len(found) == 14
    text_form = str(ConfigError(found))
    assert f"{tmp_path / 'trendwatch.toml'}: sources[2].url: expected an absolute" in text_form
    assert "type=" not in text_form and "Input should" not in text_form
