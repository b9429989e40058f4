"""Tests for the settings model: Settings' helper methods, frozen values, the SMTP
password from the environment, each subscriber's digest moment, a problem's text."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from pipeline.schedule.decide import DigestTime
from pipeline.settings import (
    ConfigError,
    ConfigProblem,
    load_settings,
)
from settings_support import BASE, EXAMPLE, load


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


def test_problem_and_error_text() -> None:
    with_key = ConfigProblem("c.toml", "smtp.port", "bad")
    whole = ConfigProblem("c.toml", "", "file not found")
    assert str(with_key) == "c.toml: smtp.port: bad"
    assert str(whole) == "c.toml: file not found"
    error = ConfigError([with_key, whole])
    assert str(error) == "c.toml: smtp.port: bad\nc.toml: file not found"
    assert error.problems == [with_key, whole]


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
