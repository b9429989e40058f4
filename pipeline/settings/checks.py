"""The checks of single config values: one function per kind of value.

A check takes a value as TOML parsed it and returns it cleaned (stripped, normalised,
converted: ``"30m"`` becomes a ``timedelta``), or raises :class:`Invalid` with a
message in plain English that says what was expected and what was found. Checks are
pure (no file, no network); the :class:`~pipeline.settings.reader.Reader` calls them
and records the message under the key it checked. Length bounds of text values are
the reader's job, before a check runs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from email_validator import EmailNotValidError, validate_email

from pipeline.process.watchlists.query import QuerySyntaxError, parse_query
from pipeline.settings.model import DEFAULT_TIMEZONE

SENDER_EXAMPLE = "a sender such as 'Trendwatch <digest@example.org>' or a bare address"

_WEEKDAY_NAMES = (
    ("mon", "monday", "ma", "maandag"),
    ("tue", "tuesday", "di", "dinsdag"),
    ("wed", "wednesday", "wo", "woensdag"),
    ("thu", "thursday", "do", "donderdag"),
    ("fri", "friday", "vr", "vrijdag"),
    ("sat", "saturday", "za", "zaterdag"),
    ("sun", "sunday", "zo", "zondag"),
)
WEEKDAYS = {name: day for day, names in enumerate(_WEEKDAY_NAMES) for name in names}

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"(\d+)\s*([smhd])")
_DIGEST_RE = re.compile(r"([a-z]+)\s+(\d{1,2}):(\d{2})")
_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_LABEL_RE = re.compile(r"[A-Z][A-Z_]{1,19}")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HOST_RE = re.compile(r"[A-Za-z0-9._\[\]:-]+")
_MAILBOX_RE = re.compile(r"(?:(?P<name>[^<>]*?)\s*<(?P<addr>[^<>\s]+)>|(?P<bare>[^<>\s]+))")


class Invalid(ValueError):
    """A value failed a check; the message says what was expected."""


def describe(value: object) -> str:
    """A short plain-English rendering of a TOML value for error messages."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value if abs(value) < 10**30 else 'of more than 30 digits'}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return f"an array of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return "a table"
    for kind, moment in (("date-time", datetime), ("date", date), ("time", time)):
        if isinstance(value, moment):  # datetime first: a datetime is a date too
            return f"{kind} {value.isoformat()}"
    return type(value).__name__


def quote(text: str, limit: int = 60) -> str:
    """``repr`` of a string, shortened when long."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def text(value: object, expected: str = "") -> str:
    """A non-empty string with surrounding blanks removed."""
    if not isinstance(value, str):
        raise Invalid(f"expected {expected or 'a string'}, got {describe(value)}")
    stripped = value.strip()
    if not stripped:
        raise Invalid(f"expected {expected or 'a non-empty string'}, got an empty string")
    return stripped


def query(value: object) -> str:
    """A watchlist query in Google Alerts syntax."""
    given = text(value)
    try:
        parse_query(given)
    except QuerySyntaxError as exc:
        raise Invalid(
            f"{exc} in {quote(given)}; expected Google Alerts syntax: words, "
            '"exact phrase", OR, -exclusion, (groups), site:, intitle:, lang:'
        ) from None
    return given


def string(value: object) -> str:
    """Any string (may be empty), stripped."""
    if not isinstance(value, str):
        raise Invalid(f"expected a string, got {describe(value)}")
    return value.strip()


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {describe(value)}")
    return value


def port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise Invalid(f"expected an integer from 1 to 65535, got {describe(value)}")
    return value


def seconds(low: float, high: float) -> Callable[[object], float]:
    """A number of seconds from ``low`` to ``high`` (never inf or nan)."""

    def check(value: object) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high  # never true of inf or nan
        ):
            raise Invalid(
                f"expected a number of seconds from {low:g} to {high:g}, got {describe(value)}"
            )
        return float(value)

    return check


FETCH_TIMEOUT = seconds(0.1, 600)  # crawl.timeout, smtp.timeout: one request
CRAWL_TIMEOUT = seconds(1, 86400)  # a blog's whole crawl
DELAY = seconds(0, 3600)  # crawl.per_host_delay, a blog's delay


def choice(options: Sequence[str]) -> Callable[[object], str]:
    """A check accepting exactly one of ``options``."""

    def check(value: object) -> str:
        if value not in options:
            raise Invalid(f"expected one of: {', '.join(options)}, got {describe(value)}")
        return str(value)

    return check


def http_url(value: object) -> str:
    """An absolute http(s) URL with a host."""
    problem = Invalid(f"expected an absolute http(s) URL, got {describe(value)}")
    if not isinstance(value, str) or re.search(r"\s", value.strip()):
        raise problem
    url = value.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise problem from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise problem
    return url


def base_url(value: object) -> str:
    url = http_url(value)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise Invalid(f"expected an http(s) URL without '?' or '#' parts, got {quote(url)}")
    return url.rstrip("/")


def language(value: object) -> str:
    if not isinstance(value, str) or not _LANGUAGE_RE.fullmatch(value):
        raise Invalid(
            f"expected a 2-letter lowercase language code such as 'nl', got {describe(value)}"
        )
    return value


def _matching(value: object, pattern: re.Pattern[str], expected: str, kind: str = "") -> str:
    """Non-empty text (``kind`` names it when it is not) that ``pattern`` matches whole."""
    given = text(value, kind)
    if not pattern.fullmatch(given):
        raise Invalid(f"expected {expected}, got {quote(given)}")
    return given


def slug(value: object) -> str:
    """A watchlist name such as ``social-media-werk``."""
    return _matching(
        value,
        _SLUG_RE,
        "lowercase letters, digits and '-' (starting with a letter or digit), "
        "such as 'social-media-werk'",
    )


def env_name(value: object) -> str:
    """The name of an environment variable, such as ``TRENDWATCH_SMTP_PASSWORD``."""
    return _matching(
        value,
        _ENV_NAME_RE,
        "an environment variable name (letters, digits and '_', not starting "
        "with a digit) such as 'TRENDWATCH_SMTP_PASSWORD'",
        "an environment variable name",
    )


def host(value: object) -> str:
    given = text(value, "a host name")
    if "://" in given or not _HOST_RE.fullmatch(given):
        raise Invalid(f"expected a host name such as 'smtp.example.org', got {quote(given)}")
    return given


@cache
def _known_timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def timezone(value: object) -> str:
    """An IANA time zone name that zoneinfo can load."""
    name = text(value, f"a time zone name such as '{DEFAULT_TIMEZONE}'")
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        message = (
            f"unknown time zone {quote(name)}; expected an IANA name such as '{DEFAULT_TIMEZONE}'"
        )
        close = difflib.get_close_matches(name, _known_timezones(), n=1, cutoff=0.8)
        raise Invalid(message + (f"; did you mean '{close[0]}'?" if close else "")) from None
    return name


def duration(low: timedelta, high: timedelta) -> Callable[[object], timedelta]:
    """A duration like ``"30m"`` from ``low`` to ``high``, in whole seconds."""
    expected = "a duration such as '30m', '2h' or '1d' (a whole number followed by s, m, h or d)"

    def check(value: object) -> timedelta:
        match = _DURATION_RE.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise Invalid(f"expected {expected}, got {describe(value)}")
        digits = match[1].lstrip("0")
        seconds = int(digits or "0") * DURATION_UNITS[match[2]] if len(digits) < 16 else None
        if seconds is None or not low.total_seconds() <= seconds <= high.total_seconds():
            raise Invalid(
                f"expected a duration from {show_duration(low)} to {show_duration(high)},"
                f" got {quote(match[0])}"
            )
        return timedelta(seconds=seconds)

    return check


SECOND, HOUR, DAY = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)
CRAWL_EVERY = duration(SECOND, 7 * DAY)  # schedule.crawl_every
DIGEST_GRACE = duration(SECOND, 7 * DAY)  # schedule.digest_grace: a digest is weekly
POLL_INTERVAL = duration(SECOND, 30 * DAY)  # a source's min_interval and max_interval
STORY_WINDOW = duration(HOUR, 90 * DAY)  # nlp.story_window


def show_duration(value: timedelta) -> str:
    """A duration the way the config writes it: "90s", "15m", "2h", "1d"."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def whole_number(low: int, high: int) -> Callable[[object], int]:
    """A whole number (not a boolean) from ``low`` to ``high``."""

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"expected a whole number from {low} to {high}, got {describe(value)}")
        return value

    return check


def region(value: object) -> str:
    """A country code for news search, such as "NL"; stored upper case."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value.strip()):
        raise Invalid(f"expected a 2-letter country code such as 'NL', got {describe(value)}")
    return value.strip().upper()


_SIZE_UNITS = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2}
_SIZE_RE = re.compile(r"(\d{1,15})\s*([a-z]*)")


def byte_size(value: object) -> int:
    """A size in bytes: a whole number, or a string such as "15MiB" or "500 KB"."""
    expected = "a size in bytes such as 15728640, '15MiB' or '500KB' (at least 1KiB)"
    if isinstance(value, bool):
        raise Invalid(f"expected {expected}, got {describe(value)}")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE_RE.fullmatch(value.strip().lower()) if isinstance(value, str) else None
        if match is None or match[2] not in _SIZE_UNITS:
            raise Invalid(f"expected {expected}, got {describe(value)}")
        size = int(match[1]) * _SIZE_UNITS[match[2]]
    if not 1024 <= size <= 1024**3:
        raise Invalid(f"expected {expected} and at most 1GiB, got {describe(value)}")
    return size


def user_agent(value: object) -> str:
    given = text(value, "a User-Agent string")
    if any(ord(ch) < 32 or ord(ch) > 126 for ch in given):
        raise Invalid(f"expected printable ASCII for a User-Agent header, got {quote(given)}")
    return given


def digest_moment(value: object) -> tuple[int, time]:
    """A weekday and 24-hour time like ``"mon 07:00"``."""
    expected = "a weekday and a 24-hour time such as 'mon 07:00' or 'ma 07:00'"
    match = _DIGEST_RE.fullmatch(value.strip().lower()) if isinstance(value, str) else None
    if match is None:
        raise Invalid(f"expected {expected}, got {describe(value)}")
    day, hour, minute = match[1], int(match[2]), int(match[3])
    if day not in WEEKDAYS:
        raise Invalid(
            f"unknown weekday {quote(day)}; expected mon, tue, wed, thu, fri, sat, sun "
            "(or Dutch ma, di, wo, do, vr, za, zo)"
        )
    if hour > 23 or minute > 59:
        raise Invalid(f"invalid time '{match[2]}:{match[3]}'; expected HH:MM from 00:00 to 23:59")
    return WEEKDAYS[day], time(hour, minute)


# Reserved top-level names (RFC 2606/6761) that tests, demos and intranets use; mail to
# them is fine to configure, so they are checked as if they were ordinary domains.
_RESERVED_TLDS = ("test", "invalid", "localhost", "local", "example")


def _address(address: str) -> str:
    """An e-mail address checked (not delivered to) by email-validator; normalised."""
    local, _, domain = address.rpartition("@")
    low = domain.lower()
    reserved = low == "localhost" or ("." in low and low.rsplit(".", 1)[-1] in _RESERVED_TLDS)
    probe = f"{local}@{domain.lower().replace('.', '-')}.example.org" if reserved else address
    result = validate_email(probe, check_deliverability=False)
    return f"{result.local_part}@{domain.lower()}" if reserved else result.normalized


def email(value: object) -> str:
    """A subscriber address, normalised by email-validator."""
    given = text(value, "an e-mail address")
    try:
        return _address(given)
    except EmailNotValidError as exc:
        raise Invalid(f"invalid e-mail address {quote(given)}: {exc}") from None


def mailbox(value: object) -> str:
    """A sender: ``"Name <addr>"`` or a bare address; ``localhost`` domains allowed."""
    given = text(value, SENDER_EXAMPLE)
    match = _MAILBOX_RE.fullmatch(given)
    if match is None or any(ord(ch) < 32 for ch in given):
        raise Invalid(f"expected {SENDER_EXAMPLE}, got {quote(given)}")
    address = match["addr"] or match["bare"]
    try:
        _address(address)
    except EmailNotValidError as exc:
        raise Invalid(f"invalid e-mail address {quote(address)}: {exc}") from None
    return given


def entity_label(value: object) -> str:
    """An entity label such as ``PERSON`` or ``ORG``."""
    return _matching(value, _LABEL_RE, "an upper-case label such as 'PERSON' or 'ORG'")


def text_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise Invalid(f"expected an array of non-empty strings, got {describe(value)}")
    return tuple(v.strip() for v in value)


def positive_int(limit: int) -> Callable[[object], int]:
    """A whole number from 1 to ``limit``."""
    return whole_number(1, limit)


def models(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise Invalid(
            "expected a table of language = spaCy pipeline, such as"
            f' {{ nl = "nl_core_news_sm" }}, got {describe(value)}'
        )
    pairs = []
    for lang, name in value.items():
        language(lang)
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise Invalid(f"expected a spaCy pipeline name for {lang!r}, got {describe(name)}")
        pairs.append((lang, name))
    return tuple(sorted(pairs))
