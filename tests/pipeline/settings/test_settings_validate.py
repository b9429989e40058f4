"""Tests for validating the top-level keys and the [schedule], [smtp], [crawl] and
[[subscribers]] sections: defaults, values read, and their problems."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from pipeline.settings import (
    ConfigError,
    ConfigProblem,
    load_settings,
    validate_settings_data,
)
from settings_support import BASE, EXAMPLE, by_key, load, only, problems


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


def test_validate_settings_data_from_dict(tmp_path: Path) -> None:
    settings = validate_settings_data({"data_dir": "d"}, "demo.toml", tmp_path)
    assert settings.data_dir == (tmp_path / "d").resolve()
    assert settings.path == (tmp_path / "demo.toml").resolve()
    with pytest.raises(ConfigError) as info:
        validate_settings_data({"data_dir": 5}, "demo.toml", tmp_path)
    assert info.value.problems == [
        ConfigProblem("demo.toml", "data_dir", "expected a string, got integer 5")
    ]


def test_starttls_and_ssl_both_set(tmp_path: Path) -> None:
    text = '[smtp]\nfrom = "digest@example.org"\nstarttls = true\nssl = true\n'
    problem = only(tmp_path, text)
    assert problem.key == "smtp"
    assert problem.message.startswith("starttls and ssl cannot both be true")


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


def test_crawl_section_defaults_and_values(tmp_path: Path) -> None:
    crawl = load(tmp_path, "").crawl
    assert (crawl.per_host, crawl.per_host_delay, crawl.timeout) == (2, 0.0, 20.0)
    assert (crawl.max_bytes, crawl.user_agent, crawl.concurrency) == (15 * 1024**2, None, 64)
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


def test_digest_section_default_value_and_problems(tmp_path: Path) -> None:
    assert load(tmp_path, "").digest.processes == 2
    assert load(tmp_path, "[digest]\nprocesses = 1\n").digest.processes == 1
    found = by_key(problems(tmp_path, "[digest]\nprocesses = 3\nparallel = false\n"))
    assert found == {
        "digest.processes": "expected a whole number from 1 to 2, got integer 3",
        "digest.parallel": "unknown key; expected one of: processes",
    }


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


def test_digest_grace_default_and_value(tmp_path: Path) -> None:
    assert load(tmp_path, BASE).schedule.digest_grace == timedelta(hours=24)
    settings = load(tmp_path, '[schedule]\ndigest_grace = "2h"\n')
    assert settings.schedule.digest_grace == timedelta(hours=2)
    assert 'digest_grace = "24h"' in EXAMPLE.read_text(encoding="utf-8")
    assert load_settings(EXAMPLE).schedule.digest_grace == timedelta(hours=24)


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


def test_a_template_dir_longer_than_the_file_system_allows_is_a_problem(tmp_path: Path) -> None:
    # within the 4,096-character bound, but one name of 3,000 characters: the file
    # system refuses to look at it (it raised OSError out of the validation)
    found = by_key(problems(tmp_path, f'template_dir = "{"a" * 3000}"'))
    assert found["template_dir"].endswith("is not a folder (File name too long)")
