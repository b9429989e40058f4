"""Tests for the settings loader: defaults, helpers and every kind of config problem."""

from __future__ import annotations

import textwrap
from datetime import time, timedelta
from pathlib import Path

import pytest

from pipeline.schedule.decide import DigestTime
from pipeline.settings import (
    TOP_KEYS,
    ConfigError,
    ConfigProblem,
    Settings,
    default_config_path,
    load_settings,
    validate_settings_data,
)

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "config" / "trendwatch.example.toml"

BASE = """
[[sources]]
name = "Werk en Leven"
url = "https://example.org/feed.xml"

[[watchlists]]
name = "social-media-werk"
title = "Social media op het werk"
query = '"social media" werk'

[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = "thuiswerken"

[[subscribers]]
email = "lezer@example.org"
watchlists = ["social-media-werk"]
"""


def write(tmp_path: Path, text: str, name: str = "trendwatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Settings:
    return load_settings(write(tmp_path, text))


def problems(tmp_path: Path, text: str) -> list[ConfigProblem]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return info.value.problems


def only(tmp_path: Path, text: str) -> ConfigProblem:
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


def by_key(found: list[ConfigProblem]) -> dict[str, str]:
    return {p.key: p.message for p in found}


# --------------------------------------------------------------------------- loading


def test_example_config_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.path == EXAMPLE
    assert settings.data_dir == REPO / "data"
    assert settings.smtp is not None
    assert settings.sender == settings.smtp.sender
    assert settings.sources and settings.watchlists and settings.subscribers
    for subscriber in settings.subscribers:
        for name in subscriber.watchlists:
            assert settings.watchlist(name).name == name


def test_defaults_applied(tmp_path: Path) -> None:
    settings = load(tmp_path, "")
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert settings.base_url is None
    assert settings.digest_title == "Trendwatch"
    assert settings.sender == "Trendwatch <trendwatch@localhost>"
    assert settings.allow_private_networks is False
    assert settings.schedule.timezone == "Europe/Amsterdam"
    assert settings.schedule.crawl_every == timedelta(minutes=30)
    assert settings.schedule.digest_weekday == 0
    assert settings.schedule.digest_time == time(7, 0)
    assert settings.smtp is None
    assert settings.sources == settings.watchlists == settings.subscribers == ()


def test_item_defaults_applied(tmp_path: Path) -> None:
    settings = load(tmp_path, BASE)
    source = settings.sources[0]
    assert (source.type, source.language, source.enabled) == ("feed", None, True)
    subscriber = settings.subscribers[0]
    assert (subscriber.name, subscriber.language, subscriber.timezone) == ("", "nl", None)
    assert subscriber.watchlists == ("social-media-werk",)


def test_values_read(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        base_url = "https://digest.example.org/archief/"
        digest_title = "Werk en Leven"
        allow_private_networks = true
        [schedule]
        timezone = "Europe/London"
        crawl_every = "2h"
        digest = "vr 16:30"
        """,
    )
    assert settings.base_url == "https://digest.example.org/archief"
    assert settings.digest_title == "Werk en Leven"
    assert settings.allow_private_networks is True
    assert settings.schedule.timezone == "Europe/London"
    assert settings.schedule.crawl_every == timedelta(hours=2)
    assert settings.schedule.digest_weekday == 4
    assert settings.schedule.digest_time == time(16, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1s", timedelta(seconds=1)),
        ("2s", timedelta(seconds=2)),
        ("30s", timedelta(seconds=30)),
        ("90s", timedelta(seconds=90)),
        ("1m", timedelta(minutes=1)),
        ("1d", timedelta(days=1)),
    ],
)
def test_durations(tmp_path: Path, text: str, expected: timedelta) -> None:
    settings = load(tmp_path, f'[schedule]\ncrawl_every = "{text}"\n')
    assert settings.schedule.crawl_every == expected


@pytest.mark.parametrize(
    ("text", "weekday"), [("sun 23:59", 6), ("zo 00:00", 6), ("WO 8:05", 2), ("tue 12:00", 1)]
)
def test_digest_weekdays(tmp_path: Path, text: str, weekday: int) -> None:
    settings = load(tmp_path, f'[schedule]\ndigest = "{text}"\n')
    assert settings.schedule.digest_weekday == weekday


def test_data_dir_resolved_relative_to_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    path = write(config_dir, 'data_dir = "../var/trendwatch"\n')
    settings = load_settings(path)
    assert settings.path == path.resolve()
    assert settings.data_dir == (tmp_path / "var" / "trendwatch").resolve()
    assert settings.db_path == settings.data_dir / "trendwatch.db"
    assert settings.archive_dir == settings.data_dir / "archive"
    assert settings.outbox_dir == settings.data_dir / "outbox"


def test_data_dir_absolute_kept(tmp_path: Path) -> None:
    target = (tmp_path / "abs").resolve()
    settings = load(tmp_path, f"data_dir = '{target}'\n")
    assert settings.data_dir == target


def test_relative_config_path_reported_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", "x = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings("config/trendwatch.toml")
    assert str(info.value) == (
        f"config/trendwatch.toml: x: unknown key; expected one of: {', '.join(TOP_KEYS)}"
    )
    assert TOP_KEYS[:3] == ("data_dir", "base_url", "digest_title")


def test_password_reads_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load(
        tmp_path,
        """
        [smtp]
        host = "smtp.example.org"
        username = "digest"
        password_env = "TW_TEST_SMTP_PASSWORD"
        from = "digest@example.org"
        """,
    )
    assert settings.smtp is not None
    monkeypatch.delenv("TW_TEST_SMTP_PASSWORD", raising=False)
    assert settings.smtp.password() is None
    monkeypatch.setenv("TW_TEST_SMTP_PASSWORD", "geheim")
    assert settings.smtp.password() == "geheim"


def test_password_none_without_password_env(tmp_path: Path) -> None:
    settings = load(tmp_path, '[smtp]\nfrom = "digest@example.org"\n')
    assert settings.smtp is not None
    assert settings.smtp.password() is None
    assert settings.smtp.host == "localhost"
    assert settings.smtp.timeout == 30.0


@pytest.mark.parametrize(
    ("extra", "port"),
    [("", 25), ("starttls = true", 587), ("ssl = true", 465), ("port = 2525", 2525)],
)
def test_smtp_default_port(tmp_path: Path, extra: str, port: int) -> None:
    settings = load(tmp_path, f'[smtp]\nfrom = "digest@example.org"\n{extra}\n')
    assert settings.smtp is not None
    assert settings.smtp.port == port


def test_sender_top_level_and_smtp_wins(tmp_path: Path) -> None:
    settings = load(tmp_path, 'from = "Werk en Leven <digest@localhost>"\n')
    assert settings.sender == "Werk en Leven <digest@localhost>"
    settings = load(
        tmp_path,
        """
        from = "Werk en Leven <digest@localhost>"
        [smtp]
        from = "Trendwatch <digest@example.org>"
        """,
    )
    assert settings.sender == "Trendwatch <digest@example.org>"


def test_helpers(tmp_path: Path) -> None:
    text = BASE + 'timezone = "America/New_York"\n'
    settings = load(tmp_path, text)
    assert settings.watchlist("thuiswerken").title == "Thuiswerken"
    with pytest.raises(KeyError):
        settings.watchlist("onbekend")
    subscriber = settings.subscribers[0]
    assert settings.subscriber_timezone(subscriber) == "America/New_York"
    settings = load(tmp_path, BASE)
    assert settings.subscriber_timezone(settings.subscribers[0]) == "Europe/Amsterdam"


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load(tmp_path, BASE)
    with pytest.raises(AttributeError):
        settings.digest_title = "x"  # type: ignore[misc]


def test_validate_settings_data_from_dict(tmp_path: Path) -> None:
    settings = validate_settings_data({"data_dir": "d"}, "demo.toml", tmp_path)
    assert settings.data_dir == (tmp_path / "d").resolve()
    assert settings.path == (tmp_path / "demo.toml").resolve()
    with pytest.raises(ConfigError) as info:
        validate_settings_data({"data_dir": 5}, "demo.toml", tmp_path)
    assert info.value.problems == [
        ConfigProblem("demo.toml", "data_dir", "expected a string, got integer 5")
    ]


def test_default_config_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRENDWATCH_CONFIG", raising=False)
    assert default_config_path() == Path("config/trendwatch.toml")
    monkeypatch.setenv("TRENDWATCH_CONFIG", "/etc/trendwatch.toml")
    assert default_config_path() == Path("/etc/trendwatch.toml")


def test_problem_and_error_text() -> None:
    with_key = ConfigProblem("c.toml", "smtp.port", "bad")
    whole = ConfigProblem("c.toml", "", "file not found")
    assert str(with_key) == "c.toml: smtp.port: bad"
    assert str(whole) == "c.toml: file not found"
    error = ConfigError([with_key, whole])
    assert str(error) == "c.toml: smtp.port: bad\nc.toml: file not found"
    assert error.problems == [with_key, whole]


# --------------------------------------------------------------------------- problems


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


@pytest.mark.parametrize("url", ["ftp://x", "example.org/feed", "https://", "http://exa mple.org/"])
def test_bad_source_url(tmp_path: Path, url: str) -> None:
    problem = only(tmp_path, BASE.replace("https://example.org/feed.xml", url))
    assert problem.key == "sources[0].url"
    assert problem.message == f"expected an absolute http(s) URL, got {url!r}"


def test_bad_base_url(tmp_path: Path) -> None:
    problem = only(tmp_path, 'base_url = "digest.example.org"\n')
    assert problem[1:] == ("base_url", "expected an absolute http(s) URL, got 'digest.example.org'")


def test_bad_source_type_and_language(tmp_path: Path) -> None:
    text = BASE.replace('name = "Werk en Leven"', 'name = "W"\ntype = "rss"\nlanguage = "NL"')
    assert by_key(problems(tmp_path, text)) == {
        "sources[0].type": "expected one of: feed, alert, blog, got 'rss'",
        "sources[0].language": "expected a 2-letter lowercase language code such as 'nl', got 'NL'",
    }


@pytest.mark.parametrize("email", ["lezer", "lezer@@example.org", "lezer@example"])
def test_bad_email(tmp_path: Path, email: str) -> None:
    problem = only(tmp_path, BASE.replace("lezer@example.org", email))
    assert problem.key == "subscribers[0].email"
    assert problem.message.startswith(f"invalid e-mail address {email!r}: ")


def test_bad_sender(tmp_path: Path) -> None:
    found = by_key(problems(tmp_path, 'from = "Trendwatch <nobody>"\n[smtp]\nfrom = "a b c"\n'))
    assert found["from"].startswith("invalid e-mail address 'nobody': ")
    assert found["smtp.from"].startswith("expected a sender such as 'Trendwatch <digest@")


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


def test_bad_watchlist_slug(tmp_path: Path) -> None:
    text = BASE.replace('name = "thuiswerken"', 'name = "Thuis werken"')
    problem = only(tmp_path, text)
    assert problem.key == "watchlists[1].name"
    assert "lowercase letters, digits and '-'" in problem.message
    assert problem.message.endswith("got 'Thuis werken'")


def test_bad_time_zone(tmp_path: Path) -> None:
    text = '[schedule]\ntimezone = "Europe/Amsterdan"\n' + BASE.replace(
        'email = "lezer@example.org"', 'email = "lezer@example.org"\ntimezone = "Mars/Olympus"'
    )
    found = by_key(problems(tmp_path, text))
    assert found["schedule.timezone"].startswith(
        "unknown time zone 'Europe/Amsterdan'; expected an IANA name such as 'Europe/Amsterdam'"
    )
    assert found["subscribers[0].timezone"].startswith("unknown time zone 'Mars/Olympus'")
    assert len(found) == 2


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


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"30"', "expected a duration such as '30m', '2h' or '1d'"),
        ('"30 minutes"', "expected a duration such as '30m', '2h' or '1d'"),
        ('"1w"', "expected a duration such as '30m', '2h' or '1d'"),
        ("30", "expected a duration such as '30m', '2h' or '1d'"),
        ('"0s"', "expected a duration from 1s to 7d, got '0s'"),
        ('"0m"', "expected a duration from 1s to 7d, got '0m'"),
        ('"0d"', "expected a duration from 1s to 7d, got '0d'"),
        ('"1.5s"', "expected a duration such as '30m', '2h' or '1d'"),
        ('"-1s"', "expected a duration such as '30m', '2h' or '1d'"),
    ],
)
def test_bad_duration(tmp_path: Path, value: str, message: str) -> None:
    problem = only(tmp_path, f"[schedule]\ncrawl_every = {value}\n")
    assert problem.key == "schedule.crawl_every"
    assert problem.message.startswith(message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"monday"', "expected a weekday and a 24-hour time such as 'mon 07:00'"),
        ('"07:00"', "expected a weekday and a 24-hour time such as 'mon 07:00'"),
        ('"mon 7am"', "expected a weekday and a 24-hour time such as 'mon 07:00'"),
        ('"mnd 07:00"', "unknown weekday 'mnd'; expected mon, tue, wed, thu, fri, sat, sun"),
        ('"mon 24:00"', "invalid time '24:00'; expected HH:MM from 00:00 to 23:59"),
        ('"ma 07:60"', "invalid time '07:60'"),
        ("1", "expected a weekday and a 24-hour time such as 'mon 07:00'"),
    ],
)
def test_bad_digest_schedule(tmp_path: Path, value: str, message: str) -> None:
    problem = only(tmp_path, f"[schedule]\ndigest = {value}\n")
    assert problem.key == "schedule.digest"
    assert problem.message.startswith(message)


def test_starttls_and_ssl_both_set(tmp_path: Path) -> None:
    text = '[smtp]\nfrom = "digest@example.org"\nstarttls = true\nssl = true\n'
    problem = only(tmp_path, text)
    assert problem.key == "smtp"
    assert problem.message.startswith("starttls and ssl cannot both be true")


@pytest.mark.parametrize(
    ("value", "shown"), [('"abc"', "'abc'"), ("0", "integer 0"), ("70000", "integer 70000")]
)
def test_bad_smtp_port(tmp_path: Path, value: str, shown: str) -> None:
    problem = only(tmp_path, f'[smtp]\nfrom = "digest@example.org"\nport = {value}\n')
    assert problem[1:] == ("smtp.port", f"expected an integer from 1 to 65535, got {shown}")


def test_bad_smtp_host_and_password_env(tmp_path: Path) -> None:
    text = (
        '[smtp]\nfrom = "d@example.org"\nhost = "smtp://mail.example.org"\npassword_env = "MY-PW"\n'
    )
    found = by_key(problems(tmp_path, text))
    assert found["smtp.host"] == (
        "expected a host name such as 'smtp.example.org', got 'smtp://mail.example.org'"
    )
    assert found["smtp.password_env"].startswith("expected an environment variable name")


def test_toml_syntax_error(tmp_path: Path) -> None:
    problem = only(tmp_path, 'digest_title = "Trendwatch\n[schedule]\n')
    assert problem.key == ""
    assert problem.message.startswith("invalid TOML: ")
    assert "line 1" in problem.message and "column" in problem.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.problems == [
        ConfigProblem(str(path), "", "file not found (start from config/trendwatch.example.toml)")
    ]
    assert str(info.value).startswith(f"{path}: file not found")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert info.value.problems[0].message == "is a directory, expected a TOML file"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('digest_title = "Caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.problems[0].message.startswith("not UTF-8 text")


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


# --------------------------------------------------------------------------- nlp, entities, digest


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


def test_digest_settings(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    settings = load(
        tmp_path,
        """
        template_dir = "mine"
        secret_env = "TW_SECRET"
        unsubscribe_mailto = "afmelden@example.org"
        [[watchlists]]
        name = "a"
        title = "A"
        query = "a"
        [[subscribers]]
        email = "x@example.org"
        watchlists = ["a"]
        send_empty = true
        """,
    )
    assert settings.template_dir == (tmp_path / "mine").resolve()
    assert settings.secret_env == "TW_SECRET"
    assert settings.unsubscribe_mailto == "afmelden@example.org"
    assert settings.subscribers[0].send_empty is True


def test_digest_setting_errors(tmp_path: Path) -> None:
    found = by_key(
        problems(
            tmp_path,
            """
            template_dir = "missing"
            secret_env = "not a name"
            unsubscribe_mailto = "nobody"
            """,
        )
    )
    assert "'missing' is not a folder" in found["template_dir"]
    assert "secret_env" in found and "unsubscribe_mailto" in found


# --------------------------------------------------------------------------- crawling


def test_crawl_section_defaults_and_values(tmp_path: Path) -> None:
    crawl = load(tmp_path, "").crawl
    assert (crawl.per_host, crawl.per_host_delay, crawl.timeout) == (2, 1.0, 20.0)
    assert (crawl.max_bytes, crawl.user_agent, crawl.concurrency) == (15 * 1024**2, None, 32)
    crawl = load(
        tmp_path,
        """
        [crawl]
        per_host = 4
        per_host_delay = 0
        timeout = 7.5
        max_bytes = "500KB"
        user_agent = "mijnbot/1.0 (+https://example.org/bot)"
        concurrency = 64
        """,
    ).crawl
    assert (crawl.per_host, crawl.per_host_delay, crawl.timeout) == (4, 0.0, 7.5)
    assert (crawl.max_bytes, crawl.concurrency) == (500_000, 64)
    assert crawl.user_agent == "mijnbot/1.0 (+https://example.org/bot)"
    assert load(tmp_path, "[crawl]\nmax_bytes = 2048\n").crawl.max_bytes == 2048
    assert load(tmp_path, "[crawl]\nmax_bytes = '15MiB'\n").crawl.max_bytes == 15 * 1024**2


def test_crawl_section_problems(tmp_path: Path) -> None:
    found = by_key(
        problems(
            tmp_path,
            """
            [crawl]
            per_host = 0
            per_host_delay = -1
            timeout = 0
            max_bytes = "lots"
            user_agent = "bot\\nX-Evil: 1"
            concurrency = true
            per_hots = 3
            """,
        )
    )
    assert found == {
        "crawl.per_host": "expected a whole number from 1 to 1000, got integer 0",
        "crawl.per_host_delay": "expected a number of seconds from 0 to 3600, got integer -1",
        "crawl.timeout": "expected a number of seconds from 0.1 to 600, got integer 0",
        "crawl.max_bytes": (
            "expected a size in bytes such as 15728640, '15MiB' or '500KB' (at least 1KiB),"
            " got 'lots'"
        ),
        "crawl.user_agent": (
            "expected printable ASCII for a User-Agent header, got 'bot\\nX-Evil: 1'"
        ),
        "crawl.concurrency": "expected a whole number from 1 to 1000, got boolean true",
        "crawl.per_hots": (
            "unknown key; expected one of: per_host, per_host_delay, timeout, max_bytes,"
            " user_agent, concurrency; did you mean 'per_host'?"
        ),
    }


def test_source_defaults_per_type(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        """
        [[sources]]
        name = "Feed"
        url = "https://example.org/feed.xml"
        full_text = true
        categories = ["HR", "Werk"]
        min_interval = "1h"
        max_interval = "12h"
        [[sources]]
        name = "Blog"
        type = "blog"
        url = "https://example.org/blog/"
        sitemap = "https://example.org/sitemap.xml"
        allow = ['/blog/\\d{4}/', '/blog/page/']
        deny = '/tag/'
        max_pages = 20
        max_depth = 0
        delay = 0
        timeout = 120
        """,
    )
    feed, blog = settings.sources
    assert (feed.full_text, feed.categories) == (True, ("HR", "Werk"))
    assert (feed.min_interval, feed.max_interval) == (timedelta(hours=1), timedelta(hours=12))
    assert feed.blog is None and feed.key == "sources[0]"
    assert blog.min_interval == timedelta(hours=2)  # a blog crawl is heavier: polled less
    assert blog.max_interval == timedelta(days=1)
    assert blog.blog is not None
    assert blog.blog.sitemap == "https://example.org/sitemap.xml"
    assert blog.blog.allow == (r"/blog/\d{4}/", "/blog/page/")
    assert blog.blog.deny == ("/tag/",)
    assert (blog.blog.max_pages, blog.blog.max_depth, blog.blog.delay) == (20, 0, 0.0)
    assert blog.blog.timeout == 120.0
    default = load(tmp_path, BASE).sources[0]
    assert (default.min_interval, default.max_interval) == (timedelta(minutes=15), timedelta(1))
    assert (default.full_text, default.categories) == (False, ())


ALERTS = """
[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = 'thuiswerken OR "hybride werken" lang:nl'
[[watchlists]]
name = "personen"
title = "Personen"
entities = ["Jan Jansen"]
"""


def test_alert_built_from_a_watchlist(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        ALERTS
        + """
        [[sources]]
        name = "Google News NL"
        type = "alert"
        watchlist = "thuiswerken"
        provider = "google-news"
        language = "nl"
        region = "nl"
        [[sources]]
        name = "Bing"
        type = "alert"
        watchlist = "thuiswerken"
        provider = "bing-news"
        [[sources]]
        name = "Lokaal"
        type = "alert"
        watchlist = "thuiswerken"
        provider = "google-news"
        endpoint = "http://127.0.0.1:8080/rss/search"
        [[sources]]
        name = "Geplakt"
        type = "alert"
        url = "https://www.google.com/alerts/feeds/123/456"
        """,
    )
    google, bing, local, pasted = settings.sources
    assert google.url == (
        "https://news.google.com/rss/search?q=thuiswerken+OR+%22hybride+werken%22"
        "&hl=nl&gl=NL&ceid=NL:nl"
    )
    assert (google.watchlist, google.provider, google.region) == (
        "thuiswerken",
        "google-news",
        "NL",
    )
    assert bing.url == (
        "https://www.bing.com/news/search?q=thuiswerken+OR+%22hybride+werken%22"
        "&format=rss&setlang=nl&cc=NL"
    )
    assert local.url.startswith("http://127.0.0.1:8080/rss/search?q=thuiswerken+OR+")
    assert pasted.url == "https://www.google.com/alerts/feeds/123/456" and pasted.watchlist is None


def test_alert_problems(tmp_path: Path) -> None:
    def alert(name: str, body: str) -> str:
        return f'[[sources]]\nname = "{name}"\ntype = "alert"\n{body}\n'

    found = by_key(
        problems(
            tmp_path,
            ALERTS
            + alert("both", 'url = "https://x.org/f"\nwatchlist = "thuiswerken"')
            + alert("neither", 'language = "nl"')
            + alert("no provider", 'watchlist = "thuiswerken"')
            + alert("bad provider", 'watchlist = "thuiswerken"\nprovider = "yahoo"')
            + alert("unknown", 'watchlist = "verzuim"\nprovider = "google-news"')
            + alert("entities", 'watchlist = "personen"\nprovider = "bing-news"')
            + alert("region", 'watchlist = "thuiswerken"\nprovider = "bing-news"\nregion = "NLD"')
            + alert("pasted", 'url = "https://x.org/g"\nregion = "NL"\nprovider = "bing-news"'),
        )
    )
    assert found == {
        "sources[0]": (
            "give either url (a pasted alert or search feed) or watchlist (a feed built from"
            " a watchlist's query at provider), not both"
        ),
        "sources[1].url": (
            "missing required key; expected url = an alert or search feed URL, or"
            " watchlist = the name of a watchlist (with provider = 'google-news' or 'bing-news')"
        ),
        "sources[2].provider": (
            "missing required key; expected 'google-news' or 'bing-news': where the search"
            " feed for the watchlist's query is built"
        ),
        "sources[3].provider": "expected one of: google-news, bing-news, got 'yahoo'",
        "sources[4].watchlist": "no watchlist named 'verzuim'; defined: thuiswerken, personen",
        "sources[5].watchlist": (
            "watchlist 'personen' has no query (it names entities only); an alert feed needs"
            " a query to search for"
        ),
        "sources[6].region": "expected a 2-letter country code such as 'NL', got 'NLD'",
        "sources[7].region": (
            "only for an alert built from a watchlist (watchlist = ...); a pasted url is used"
            " as it is"
        ),
        "sources[7].provider": (
            "only for an alert built from a watchlist (watchlist = ...); a pasted url is used"
            " as it is"
        ),
    }


def test_source_keys_of_another_type_and_blog_problems(tmp_path: Path) -> None:
    found = by_key(
        problems(
            tmp_path,
            """
            [[sources]]
            name = "Feed"
            url = "https://example.org/feed.xml"
            sitemap = "https://example.org/sitemap.xml"
            watchlist = "x"
            min_interval = "2d"
            categories = "HR"
            [[sources]]
            name = "Blog"
            type = "blog"
            url = "https://example.org/"
            full_text = true
            allow = ["/blog/", "(unclosed"]
            deny = [3]
            max_pages = 0
            max_depth = -1
            delay = "even"
            sitemap = "sitemap.xml"
            """,
        )
    )
    assert found == {
        "sources[0].sitemap": 'only for sources of type "blog"; this one is "feed"',
        "sources[0].watchlist": 'only for sources of type "alert"; this one is "feed"',
        "sources[0].min_interval": "expected at most max_interval (1d), got 2d",
        "sources[0].categories": "expected an array of non-empty strings, got 'HR'",
        "sources[1].full_text": 'only for sources of type "feed" or "alert"; this one is "blog"',
        "sources[1].allow[1]": (
            "not a regular expression (missing ), unterminated subpattern at position 0):"
            " '(unclosed'; expected Python syntax such as '/blog/\\d{4}/'"
        ),
        "sources[1].deny[0]": "expected a regular expression (a non-empty string), got integer 3",
        "sources[1].max_pages": "expected a whole number from 1 to 100000, got integer 0",
        "sources[1].max_depth": "expected a whole number from 0 to 100, got integer -1",
        "sources[1].delay": "expected a number of seconds from 0 to 3600, got 'even'",
        "sources[1].sitemap": "expected an absolute http(s) URL, got 'sitemap.xml'",
    }


def test_demo_config_validates_with_no_per_host_delay(tmp_path: Path) -> None:
    text = (REPO / "config" / "demo.toml").read_text("utf-8")
    settings = load(tmp_path, text.replace("{feeds}", "http://127.0.0.1:8123/feeds"))
    assert settings.allow_private_networks is True
    assert settings.crawl.per_host_delay == 0.0
    assert len(settings.sources) == 5


# --------------------------------------------------------------------------- scheduler keys


def test_second_durations_for_a_fast_scheduler(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        BASE.replace(
            'url = "https://example.org/feed.xml"',
            'url = "https://example.org/feed.xml"\nmin_interval = "1s"\nmax_interval = "3s"',
        )
        + '[schedule]\ncrawl_every = "2s"\ndigest_grace = "5s"\n',
    )
    assert settings.schedule.crawl_every == timedelta(seconds=2)
    assert settings.schedule.digest_grace == timedelta(seconds=5)
    source = settings.sources[0]
    assert (source.min_interval, source.max_interval) == (
        timedelta(seconds=1),
        timedelta(seconds=3),
    )


def test_min_interval_zero_refused(tmp_path: Path) -> None:
    text = BASE.replace(
        'url = "https://example.org/feed.xml"',
        'url = "https://example.org/feed.xml"\nmin_interval = "0s"',
    )
    problem = only(tmp_path, text)
    assert problem[1:] == (
        "sources[0].min_interval",
        "expected a duration from 1s to 30d, got '0s'",
    )


def test_digest_grace_default_and_value(tmp_path: Path) -> None:
    assert load(tmp_path, BASE).schedule.digest_grace == timedelta(hours=24)
    settings = load(tmp_path, '[schedule]\ndigest_grace = "2h"\n')
    assert settings.schedule.digest_grace == timedelta(hours=2)
    assert 'digest_grace = "24h"' in EXAMPLE.read_text(encoding="utf-8")
    assert load_settings(EXAMPLE).schedule.digest_grace == timedelta(hours=24)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "24",
            "expected a duration such as '30m', '2h' or '1d' (a whole number followed by"
            " s, m, h or d), got integer 24",
        ),
        ('"a day"', "expected a duration such as '30m', '2h' or '1d'"),
        ('"0h"', "expected a duration from 1s to 7d, got '0h'"),
    ],
)
def test_bad_digest_grace(tmp_path: Path, value: str, message: str) -> None:
    problem = only(tmp_path, f"[schedule]\ndigest_grace = {value}\n")
    assert problem.key == "schedule.digest_grace"
    assert problem.message.startswith(message)
    assert str(problem).startswith(f"{tmp_path / 'trendwatch.toml'}: schedule.digest_grace: ")


def test_subscriber_digest_override(tmp_path: Path) -> None:
    text = (
        '[schedule]\ntimezone = "Europe/London"\ndigest = "wo 09:15"\n'
        + BASE
        + 'digest = "fri 16:00"\ntimezone = "America/New_York"\n'
        + '[[subscribers]]\nemail = "b@example.org"\nwatchlists = ["thuiswerken"]\n'
        + 'digest = "Vr 8:05"\n'
        + '[[subscribers]]\nemail = "c@example.org"\nwatchlists = ["thuiswerken"]\n'
    )
    settings = load(tmp_path, text)
    own, dutch, default = settings.subscribers
    assert (own.digest_weekday, own.digest_time) == (4, time(16, 0))
    assert settings.digest_time(own) == DigestTime(4, time(16, 0), "America/New_York")
    assert (dutch.digest_weekday, dutch.digest_time) == (4, time(8, 5))
    assert settings.digest_time(dutch) == DigestTime(4, time(8, 5), "Europe/London")
    assert (default.digest_weekday, default.digest_time) == (None, None)
    assert settings.digest_time(default) == DigestTime(2, time(9, 15), "Europe/London")


def test_subscriber_digest_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, BASE)
    subscriber = settings.subscribers[0]
    assert (subscriber.digest_weekday, subscriber.digest_time) == (None, None)
    assert settings.digest_time(subscriber) == DigestTime(0, time(7, 0), "Europe/Amsterdam")
    example = load_settings(EXAMPLE)
    reader = next(s for s in example.subscribers if s.email == "reader@example.org")
    assert example.digest_time(reader) == DigestTime(4, time(16, 0), "Europe/London")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "5",
            "expected a weekday and a 24-hour time such as 'mon 07:00' or 'ma 07:00',"
            " got integer 5",
        ),
        ('"friday"', "expected a weekday and a 24-hour time such as 'mon 07:00'"),
        ('"fry 16:00"', "unknown weekday 'fry'; expected mon, tue, wed, thu, fri, sat, sun"),
        ('"fri 25:00"', "invalid time '25:00'; expected HH:MM from 00:00 to 23:59"),
    ],
)
def test_bad_subscriber_digest(tmp_path: Path, value: str, message: str) -> None:
    problem = only(tmp_path, BASE + f"digest = {value}\n")
    assert problem.key == "subscribers[0].digest"
    assert problem.message.startswith(message)
    assert str(problem).startswith(f"{tmp_path / 'trendwatch.toml'}: subscribers[0].digest: ")


def test_subscriber_digest_problem_among_others(tmp_path: Path) -> None:
    text = (
        BASE
        + 'digest = "someday"\n'
        + '[[subscribers]]\nemail = "b@example.org"\nwatchlists = ["thuiswerken"]\n'
        + 'digest = "zo 07:00"\ndigst = "x"\n'
    )
    found = by_key(problems(tmp_path, text))
    assert set(found) == {"subscribers[0].digest", "subscribers[1].digst"}
    assert found["subscribers[1].digst"] == (
        "unknown key; expected one of: email, name, language, watchlists, timezone,"
        " send_empty, digest; did you mean 'digest'?"
    )
