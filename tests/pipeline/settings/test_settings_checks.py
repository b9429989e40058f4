"""Tests for the checks of single config values (durations, weekdays and times, URLs,
e-mail addresses, time zones, ports, host names): what each accepts, and the
message each gives for what it refuses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from settings_support import BASE, by_key, load, only, problems


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


def test_bad_base_url(tmp_path: Path) -> None:
    problem = only(tmp_path, 'base_url = "digest.example.org"\n')
    assert problem[1:] == ("base_url", "expected an absolute http(s) URL, got 'digest.example.org'")


@pytest.mark.parametrize("email", ["lezer", "lezer@@example.org", "lezer@example"])
def test_bad_email(tmp_path: Path, email: str) -> None:
    problem = only(tmp_path, BASE.replace("lezer@example.org", email))
    assert problem.key == "subscribers[0].email"
    assert problem.message.startswith(f"invalid e-mail address {email!r}: ")


def test_bad_sender(tmp_path: Path) -> None:
    found = by_key(problems(tmp_path, 'from = "Trendwatch <nobody>"\n[smtp]\nfrom = "a b c"\n'))
    assert found["from"].startswith("invalid e-mail address 'nobody': ")
    assert found["smtp.from"].startswith("expected a sender such as 'Trendwatch <digest@")


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
