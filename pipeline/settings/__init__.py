"""The one settings loader: read ``trendwatch.toml`` and validate it.

Every problem found is collected and reported at once, as a :class:`ConfigError`
whose :class:`ConfigProblem` entries name the file, the key path (e.g.
``sources[2].url``) and what was expected, in plain English. Every text value has a
length bound (:data:`TEXT_LIMITS`, from :mod:`crawlers.bounds`) and every number a
range; a value outside them is refused, so none can switch a limit off.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from email_validator import EmailNotValidError, validate_email

from crawlers.bounds import MAX_NAME, MAX_PATH, MAX_QUERY, MAX_TITLE, MAX_URL, clip
from pipeline.process.watchlists.query import QuerySyntaxError, parse_query
from pipeline.schedule.decide import DigestTime

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "Schedule",
    "Settings",
    "SmtpSettings",
    "Source",
    "Subscriber",
    "Watchlist",
    "default_config_path",
    "load_settings",
    "validate_settings_data",
]

T = TypeVar("T")
D = TypeVar("D")

DEFAULT_CONFIG_PATH = Path("config/trendwatch.toml")
DEFAULT_TIMEZONE = "Europe/Amsterdam"
DEFAULT_SENDER = "Trendwatch <trendwatch@localhost>"
DEFAULT_TITLE = "Trendwatch"
SENDER_EXAMPLE = "a sender such as 'Trendwatch <digest@example.org>' or a bare address"
SOURCE_TYPES = ("feed", "alert", "blog")
SUBSCRIBER_LANGUAGES = ("nl", "en")

TOP_KEYS = (
    *("data_dir", "base_url", "digest_title", "from", "allow_private_networks"),
    *("template_dir", "secret_env", "unsubscribe_mailto"),
    *("schedule", "smtp", "nlp", "sources", "watchlists", "subscribers"),
    *("crawl",),
)
NLP_KEYS = ("models", "n_process", "batch_size", "story_window", "entities")
ENTITY_KEYS = ("name", "label", "aliases")
SCHEDULE_KEYS = ("timezone", "crawl_every", "digest", "digest_grace")
SMTP_KEYS = ("host", "port", "starttls", "ssl", "username", "password_env", "from", "timeout")
# Source keys: every type has the common ones; the others belong to one or two types.
COMMON_SOURCE_KEYS = (
    *("name", "type", "url", "language", "enabled", "preferred"),
    *("categories", "min_interval", "max_interval"),
)
ALERT_ONLY_KEYS = ("watchlist", "provider", "region", "endpoint")
BLOG_ONLY_KEYS = ("sitemap", "allow", "deny", "max_pages", "max_depth", "delay", "timeout")
SOURCE_TYPE_KEYS = {
    "feed": (*COMMON_SOURCE_KEYS, "full_text"),
    "alert": (*COMMON_SOURCE_KEYS, "full_text", *ALERT_ONLY_KEYS),
    "blog": (*COMMON_SOURCE_KEYS, *BLOG_ONLY_KEYS),
}
SOURCE_KEYS = (*COMMON_SOURCE_KEYS, "full_text", *ALERT_ONLY_KEYS, *BLOG_ONLY_KEYS)
CRAWL_KEYS = ("per_host", "per_host_delay", "timeout", "max_bytes", "user_agent", "concurrency")
ALERT_PROVIDERS = ("google-news", "bing-news")
DEFAULT_MIN_INTERVAL = timedelta(minutes=15)
DEFAULT_MAX_INTERVAL = timedelta(days=1)
DEFAULT_BLOG_MIN_INTERVAL = timedelta(hours=2)  # a blog crawl fetches up to max_pages pages
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
WATCHLIST_KEYS = ("name", "title", "query", "entities")
SUBSCRIBER_KEYS = ("email", "name", "language", "watchlists", "timezone", "send_empty", "digest")
MAX_CONFIG_BYTES = 16 * 1024 * 1024  # a larger file is refused before it is parsed
# The length bound of a text value, by its key (the last name in its key path); every
# other text value (names, labels, e-mail addresses, host names, ...) has MAX_NAME.
TEXT_LIMITS = {
    **dict.fromkeys(("url", "base_url", "sitemap", "endpoint"), MAX_URL),
    **dict.fromkeys(("query", "allow", "deny"), MAX_QUERY),
    **dict.fromkeys(("title", "digest_title", "from", "user_agent"), MAX_TITLE),
    **dict.fromkeys(("email", "unsubscribe_mailto"), MAX_TITLE),
    **dict.fromkeys(("data_dir", "template_dir"), MAX_PATH),
}
# Keys people plausibly write instead of the real one.
KEY_HINTS = {"sender": "from", "tz": "timezone", "time_zone": "timezone"}

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
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HOST_RE = re.compile(r"[A-Za-z0-9._\[\]:-]+")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_MAILBOX_RE = re.compile(r"(?:(?P<name>[^<>]*?)\s*<(?P<addr>[^<>\s]+)>|(?P<bare>[^<>\s]+))")


# --------------------------------------------------------------------------- errors


class ConfigProblem(NamedTuple):
    """One problem in a config file; ``key`` is ``""`` for the file as a whole."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        if self.key:
            return f"{self.file}: {self.key}: {self.message}"
        return f"{self.file}: {self.message}"


class ConfigError(Exception):
    """The config could not be loaded; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class _Invalid(ValueError):
    """A value failed a check; the message says what was expected."""


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Schedule:
    """When to crawl and when to send the digest."""

    timezone: str = DEFAULT_TIMEZONE
    crawl_every: timedelta = timedelta(minutes=30)
    digest_weekday: int = 0  # 0 = Monday
    digest_time: time = time(7, 0)
    digest_grace: timedelta = timedelta(hours=24)  # a digest due longer ago is skipped


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server."""

    host: str
    port: int
    starttls: bool
    ssl: bool
    username: str | None
    password_env: str | None
    sender: str
    timeout: float = 30.0

    def password(self) -> str | None:
        """The password from the environment variable named by ``password_env``."""
        if not self.password_env:
            return None
        return os.environ.get(self.password_env)


@dataclass(frozen=True)
class BlogOptions:
    """How far a ``type = "blog"`` source's spider goes (see crawlers.blog.BlogConfig)."""

    sitemap: str | None = None
    allow: tuple[str, ...] = ()  # regular expressions on absolute URLs (re.search)
    deny: tuple[str, ...] = ()
    max_pages: int = 50
    max_depth: int = 2
    delay: float = 1.0  # seconds between requests (AutoThrottle may wait longer)
    timeout: float = 300.0  # seconds for the whole crawl; the child process is killed then


@dataclass(frozen=True)
class Source:
    """A feed, alert or blog to crawl."""

    name: str
    type: str
    url: str  # for an alert built from a watchlist: the provider's search-feed URL
    language: str | None = None
    enabled: bool = True
    preferred: bool = False  # its copy of a syndicated story is the one shown
    full_text: bool = False  # fetch article pages for entries that carry only a teaser
    min_interval: timedelta = DEFAULT_MIN_INTERVAL  # bounds for adaptive polling
    max_interval: timedelta = DEFAULT_MAX_INTERVAL
    categories: tuple[str, ...] = ()  # OPML folders and categories
    watchlist: str | None = None  # alert: built from this watchlist's query...
    provider: str | None = None  # ...at this provider (google-news, bing-news)
    region: str | None = None  # ...for this country (upper case, e.g. "NL")
    endpoint: str | None = None  # ...at this address instead of the provider's own
    blog: BlogOptions | None = None  # type = "blog" only
    key: str = field(default="", compare=False)  # where it is in the file: "sources[2]"


@dataclass(frozen=True)
class CrawlSettings:
    """The ``[crawl]`` section: how politely and how fast to fetch."""

    per_host: int = 2  # requests in flight per host
    per_host_delay: float = 1.0  # seconds between request starts to one host
    timeout: float = 20.0  # seconds for one fetch, redirects and body included
    max_bytes: int = DEFAULT_MAX_BYTES  # decoded body size cap
    user_agent: str | None = None  # None: trendwatch's own
    concurrency: int = 32  # sources (and connections) in flight at once


@dataclass(frozen=True)
class EntitySpec:
    """A person or organisation to tag, with the other names it goes by."""

    name: str
    label: str = "ENTITY"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class NlpSettings:
    """The ``[nlp]`` section: trained pipelines, parallelism, gazetteer entities."""

    models: tuple[tuple[str, str], ...] = ()  # (language, installed spaCy pipeline)
    n_process: int = 1
    batch_size: int = 64
    story_window: timedelta = timedelta(days=7)
    entities: tuple[EntitySpec, ...] = ()


@dataclass(frozen=True)
class Watchlist:
    """A named query whose matches form one digest section."""

    name: str
    title: str
    query: str  # may be empty when the watchlist names entities only
    entities: tuple[EntitySpec, ...] = ()


@dataclass(frozen=True)
class Subscriber:
    """Someone who receives the digest."""

    email: str
    name: str
    language: str
    watchlists: tuple[str, ...]
    timezone: str | None = None
    send_empty: bool = False  # also mail an edition with nothing in it
    digest_weekday: int | None = None  # own digest moment; None: the schedule's
    digest_time: time | None = None


@dataclass(frozen=True)
class Settings:
    """The validated configuration."""

    path: Path
    data_dir: Path
    base_url: str | None
    digest_title: str
    sender: str
    allow_private_networks: bool
    template_dir: Path | None
    secret_env: str | None  # environment variable holding the token secret
    unsubscribe_mailto: str | None
    schedule: Schedule
    smtp: SmtpSettings | None
    nlp: NlpSettings
    crawl: CrawlSettings
    sources: tuple[Source, ...]
    watchlists: tuple[Watchlist, ...]
    subscribers: tuple[Subscriber, ...]

    def watchlist(self, name: str) -> Watchlist:
        """The watchlist called ``name``; KeyError if there is none."""
        for watchlist in self.watchlists:
            if watchlist.name == name:
                return watchlist
        raise KeyError(name)

    def subscriber_timezone(self, subscriber: Subscriber) -> str:
        """The subscriber's own time zone, else the schedule's."""
        return subscriber.timezone or self.schedule.timezone

    def digest_time(self, subscriber: Subscriber) -> DigestTime:
        """When the subscriber's digest goes out, in :meth:`subscriber_timezone`.

        The subscriber's own ``digest`` if given, else the schedule's.
        """
        if subscriber.digest_weekday is not None and subscriber.digest_time is not None:
            weekday, at = subscriber.digest_weekday, subscriber.digest_time
        else:
            weekday, at = self.schedule.digest_weekday, self.schedule.digest_time
        return DigestTime(weekday, at, self.subscriber_timezone(subscriber))

    @property
    def db_path(self) -> Path:
        return self.data_dir / "trendwatch.db"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


# --------------------------------------------------------------------------- value checks


def _describe(value: object) -> str:
    """A short plain-English rendering of a TOML value for error messages."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value if abs(value) < 10**30 else 'of more than 30 digits'}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list):
        return f"an array of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return f"date-time {value.isoformat()}"
    if isinstance(value, date):
        return f"date {value.isoformat()}"
    if isinstance(value, time):
        return f"time {value.isoformat()}"
    return type(value).__name__


def _quote(text: str, limit: int = 60) -> str:
    """``repr`` of a string, shortened when long."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _text(value: object, expected: str = "") -> str:
    """A non-empty string with surrounding blanks removed."""
    if not isinstance(value, str):
        raise _Invalid(f"expected {expected or 'a string'}, got {_describe(value)}")
    text = value.strip()
    if not text:
        raise _Invalid(f"expected {expected or 'a non-empty string'}, got an empty string")
    return text


def _query(value: object) -> str:
    """A watchlist query in Google Alerts syntax."""
    text = _text(value)
    try:
        parse_query(text)
    except QuerySyntaxError as exc:
        raise _Invalid(
            f"{exc} in {_quote(text)}; expected Google Alerts syntax: words, "
            '"exact phrase", OR, -exclusion, (groups), site:, intitle:, lang:'
        ) from None
    return text


def _string(value: object) -> str:
    """Any string (may be empty), stripped."""
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_describe(value)}")
    return value.strip()


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_describe(value)}")
    return value


def _port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _Invalid(f"expected an integer from 1 to 65535, got {_describe(value)}")
    return value


def _seconds(low: float, high: float) -> Callable[[object], float]:
    """A number of seconds from ``low`` to ``high`` (never inf or nan)."""

    def check(value: object) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high  # never true of inf or nan
        ):
            raise _Invalid(
                f"expected a number of seconds from {low:g} to {high:g}, got {_describe(value)}"
            )
        return float(value)

    return check


FETCH_TIMEOUT = _seconds(0.1, 600)  # crawl.timeout, smtp.timeout: one request
CRAWL_TIMEOUT = _seconds(1, 86400)  # a blog's whole crawl
DELAY = _seconds(0, 3600)  # crawl.per_host_delay, a blog's delay


def _choice(options: Sequence[str]) -> Callable[[object], str]:
    """A check accepting exactly one of ``options``."""

    def check(value: object) -> str:
        if value not in options:
            raise _Invalid(f"expected one of: {', '.join(options)}, got {_describe(value)}")
        return str(value)

    return check


def _http_url(value: object) -> str:
    """An absolute http(s) URL with a host."""
    problem = _Invalid(f"expected an absolute http(s) URL, got {_describe(value)}")
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


def _base_url(value: object) -> str:
    url = _http_url(value)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise _Invalid(f"expected an http(s) URL without '?' or '#' parts, got {_quote(url)}")
    return url.rstrip("/")


def _language(value: object) -> str:
    if not isinstance(value, str) or not _LANGUAGE_RE.fullmatch(value):
        raise _Invalid(
            f"expected a 2-letter lowercase language code such as 'nl', got {_describe(value)}"
        )
    return value


def _slug(value: object) -> str:
    text = _text(value)
    if not _SLUG_RE.fullmatch(text):
        raise _Invalid(
            "expected lowercase letters, digits and '-' (starting with a letter or digit), "
            f"such as 'social-media-werk', got {_quote(text)}"
        )
    return text


def _env_name(value: object) -> str:
    text = _text(value, "an environment variable name")
    if not _ENV_NAME_RE.fullmatch(text):
        raise _Invalid(
            "expected an environment variable name (letters, digits and '_', not starting "
            f"with a digit) such as 'TRENDWATCH_SMTP_PASSWORD', got {_quote(text)}"
        )
    return text


def _host(value: object) -> str:
    text = _text(value, "a host name")
    if "://" in text or not _HOST_RE.fullmatch(text):
        raise _Invalid(f"expected a host name such as 'smtp.example.org', got {_quote(text)}")
    return text


@cache
def _known_timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _timezone(value: object) -> str:
    """An IANA time zone name that zoneinfo can load."""
    name = _text(value, f"a time zone name such as '{DEFAULT_TIMEZONE}'")
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        message = (
            f"unknown time zone {_quote(name)}; expected an IANA name such as '{DEFAULT_TIMEZONE}'"
        )
        close = difflib.get_close_matches(name, _known_timezones(), n=1, cutoff=0.8)
        raise _Invalid(message + (f"; did you mean '{close[0]}'?" if close else "")) from None
    return name


def _duration(low: timedelta, high: timedelta) -> Callable[[object], timedelta]:
    """A duration like ``"30m"`` from ``low`` to ``high``, in whole seconds."""
    expected = "a duration such as '30m', '2h' or '1d' (a whole number followed by s, m, h or d)"

    def check(value: object) -> timedelta:
        match = _DURATION_RE.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise _Invalid(f"expected {expected}, got {_describe(value)}")
        digits = match[1].lstrip("0")
        seconds = int(digits or "0") * DURATION_UNITS[match[2]] if len(digits) < 16 else None
        if seconds is None or not low.total_seconds() <= seconds <= high.total_seconds():
            raise _Invalid(
                f"expected a duration from {show_duration(low)} to {show_duration(high)},"
                f" got {_quote(match[0])}"
            )
        return timedelta(seconds=seconds)

    return check


SECOND, HOUR, DAY = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)
CRAWL_EVERY = _duration(SECOND, 7 * DAY)  # schedule.crawl_every
DIGEST_GRACE = _duration(SECOND, 7 * DAY)  # schedule.digest_grace: a digest is weekly
POLL_INTERVAL = _duration(SECOND, 30 * DAY)  # a source's min_interval and max_interval
STORY_WINDOW = _duration(HOUR, 90 * DAY)  # nlp.story_window


def show_duration(value: timedelta) -> str:
    """A duration the way the config writes it: "90s", "15m", "2h", "1d"."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _whole_number(low: int, high: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Invalid(f"expected a whole number from {low} to {high}, got {_describe(value)}")
        return value

    return check


def _region(value: object) -> str:
    """A country code for news search, such as "NL"; stored upper case."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value.strip()):
        raise _Invalid(f"expected a 2-letter country code such as 'NL', got {_describe(value)}")
    return value.strip().upper()


_SIZE_UNITS = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2}
_SIZE_RE = re.compile(r"(\d{1,15})\s*([a-z]*)")


def _byte_size(value: object) -> int:
    """A size in bytes: a whole number, or a string such as "15MiB" or "500 KB"."""
    expected = "a size in bytes such as 15728640, '15MiB' or '500KB' (at least 1KiB)"
    if isinstance(value, bool):
        raise _Invalid(f"expected {expected}, got {_describe(value)}")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE_RE.fullmatch(value.strip().lower()) if isinstance(value, str) else None
        if match is None or match[2] not in _SIZE_UNITS:
            raise _Invalid(f"expected {expected}, got {_describe(value)}")
        size = int(match[1]) * _SIZE_UNITS[match[2]]
    if not 1024 <= size <= 1024**3:
        raise _Invalid(f"expected {expected} and at most 1GiB, got {_describe(value)}")
    return size


def _user_agent(value: object) -> str:
    text = _text(value, "a User-Agent string")
    if any(ord(ch) < 32 or ord(ch) > 126 for ch in text):
        raise _Invalid(f"expected printable ASCII for a User-Agent header, got {_quote(text)}")
    return text


def _digest_moment(value: object) -> tuple[int, time]:
    """A weekday and 24-hour time like ``"mon 07:00"``."""
    expected = "a weekday and a 24-hour time such as 'mon 07:00' or 'ma 07:00'"
    match = _DIGEST_RE.fullmatch(value.strip().lower()) if isinstance(value, str) else None
    if match is None:
        raise _Invalid(f"expected {expected}, got {_describe(value)}")
    day, hour, minute = match[1], int(match[2]), int(match[3])
    if day not in WEEKDAYS:
        raise _Invalid(
            f"unknown weekday {_quote(day)}; expected mon, tue, wed, thu, fri, sat, sun "
            "(or Dutch ma, di, wo, do, vr, za, zo)"
        )
    if hour > 23 or minute > 59:
        raise _Invalid(f"invalid time '{match[2]}:{match[3]}'; expected HH:MM from 00:00 to 23:59")
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


def _email(value: object) -> str:
    """A subscriber address, normalised by email-validator."""
    text = _text(value, "an e-mail address")
    try:
        return _address(text)
    except EmailNotValidError as exc:
        raise _Invalid(f"invalid e-mail address {_quote(text)}: {exc}") from None


def _mailbox(value: object) -> str:
    """A sender: ``"Name <addr>"`` or a bare address; ``localhost`` domains allowed."""
    text = _text(value, SENDER_EXAMPLE)
    match = _MAILBOX_RE.fullmatch(text)
    if match is None or any(ord(ch) < 32 for ch in text):
        raise _Invalid(f"expected {SENDER_EXAMPLE}, got {_quote(text)}")
    address = match["addr"] or match["bare"]
    try:
        _address(address)
    except EmailNotValidError as exc:
        raise _Invalid(f"invalid e-mail address {_quote(address)}: {exc}") from None
    return text


# --------------------------------------------------------------------------- the reader


def _key_path(prefix: str, key: str | int) -> str:
    """``prefix.key`` or ``prefix[key]``; odd keys are quoted."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    bare = len(key) <= MAX_NAME and _BARE_KEY_RE.fullmatch(key)
    shown = key if bare else f'"{clip(key, MAX_NAME)}"'
    return f"{prefix}.{shown}" if prefix else shown


class _Reader:
    """Collects problems while pulling checked values out of TOML tables."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[ConfigProblem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(self.file, key, message))

    def known_keys(self, table: dict[str, Any], prefix: str, allowed: Sequence[str]) -> None:
        """Report every key of ``table`` not in ``allowed``."""
        for key in table:
            if key not in allowed:
                self.add(_key_path(prefix, key), _unknown_key_message(key, allowed))

    def required(
        self,
        table: dict[str, Any],
        prefix: str,
        key: str,
        check: Callable[[object], T],
        expected: str = "",
    ) -> T | None:
        """The checked value of a required key; None (and a problem) if bad."""
        if key not in table:
            hint = f"; expected {expected}" if expected else ""
            self.add(_key_path(prefix, key), "missing required key" + hint)
            return None
        return self.checked(table[key], _key_path(prefix, key), check)

    def optional(
        self, table: dict[str, Any], prefix: str, key: str, check: Callable[[object], T], default: D
    ) -> T | D:
        """The checked value of an optional key; ``default`` if absent or bad."""
        if key not in table:
            return default
        value = self.checked(table[key], _key_path(prefix, key), check)
        return default if value is None else value

    def checked(self, value: object, key: str, check: Callable[[object], T]) -> T | None:
        """``check(value)``, or None with the problem recorded under ``key`` (a text
        value longer than its bound is not checked further)."""
        if not self.within_bounds(value, key):
            return None
        try:
            return check(value)
        except _Invalid as exc:
            self.add(key, str(exc))
            return None

    def within_bounds(self, value: object, key: str) -> bool:
        """Whether ``value`` (a string, or the strings in an array or table) is within
        the length bound of ``key``; a problem for each string that is not."""
        limit = TEXT_LIMITS.get(_last_name(key), MAX_NAME)
        if isinstance(value, list):
            items: Iterable[tuple[str, object]] = (
                (_key_path(key, i), v) for i, v in enumerate(value)
            )
        elif isinstance(value, dict):
            items = ((_key_path(key, k), v) for k, v in value.items())
        else:
            items = ((key, value),)
        fits = True
        for where, item in items:
            if isinstance(item, str) and len(item) > limit:
                self.add(where, f"expected at most {limit:,} characters, got {len(item):,}")
                fits = False
        return fits

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any] | None:
        """An optional sub-table: empty when absent, None (and a problem) if not a table."""
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.add(key, f"expected a table ([{key}] section), got {_describe(value)}")
            return None
        return value

    def tables(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        """An optional array of tables as ``(key path, table)`` pairs."""
        value = data.get(key, [])
        if not isinstance(value, list):
            self.add(
                key, f"expected an array of tables ([[{key}]] sections), got {_describe(value)}"
            )
            return []
        items = []
        for index, item in enumerate(value):
            path = _key_path(key, index)
            if isinstance(item, dict):
                items.append((path, item))
            else:
                self.add(path, f"expected a table, got {_describe(item)}")
        return items

    def unique(self, entries: Iterable[tuple[str, str | None]], what: str, field: str = "") -> None:
        """Report case-insensitive repeats among ``(item path, value)`` pairs.

        A repeat is reported at ``item path.field`` and names the first item.
        """
        seen: dict[str, str] = {}
        for path, value in entries:
            if not value:
                continue
            first = seen.setdefault(value.casefold(), path)
            if first != path:
                key = _key_path(path, field) if field else path
                self.add(key, f"duplicate {what} {_quote(value)} (also {first})")


def _last_name(key: str) -> str:
    """The last name in a key path: ``sources[2].allow[0]`` → ``allow``."""
    return key.rsplit(".", 1)[-1].split("[", 1)[0]


def _unknown_key_message(key: str, allowed: Sequence[str]) -> str:
    message = f"unknown key; expected one of: {', '.join(allowed)}"
    hint = KEY_HINTS.get(key)
    if hint not in allowed and len(key) <= MAX_NAME:
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = close[0] if close else None
    return message + (f"; did you mean '{hint}'?" if hint else "")


# --------------------------------------------------------------------------- sections


def _schedule(reader: _Reader, data: dict[str, Any]) -> Schedule:
    table = reader.table(data, "schedule") or {}
    reader.known_keys(table, "schedule", SCHEDULE_KEYS)
    default = Schedule()
    weekday, at = reader.optional(
        table, "schedule", "digest", _digest_moment, (default.digest_weekday, default.digest_time)
    )
    return Schedule(
        timezone=reader.optional(table, "schedule", "timezone", _timezone, default.timezone),
        crawl_every=reader.optional(
            table, "schedule", "crawl_every", CRAWL_EVERY, default.crawl_every
        ),
        digest_weekday=weekday,
        digest_time=at,
        digest_grace=reader.optional(
            table, "schedule", "digest_grace", DIGEST_GRACE, default.digest_grace
        ),
    )


def _smtp(reader: _Reader, data: dict[str, Any]) -> SmtpSettings | None:
    table = reader.table(data, "smtp") if "smtp" in data else None
    if table is None:
        return None
    reader.known_keys(table, "smtp", SMTP_KEYS)
    starttls = reader.optional(table, "smtp", "starttls", _boolean, False)
    ssl = reader.optional(table, "smtp", "ssl", _boolean, False)
    if starttls and ssl:
        reader.add(
            "smtp",
            "starttls and ssl cannot both be true; use starttls = true (usually port 587) "
            "or ssl = true (usually port 465)",
        )
    default_port = 587 if starttls else 465 if ssl else 25
    return SmtpSettings(
        host=reader.optional(table, "smtp", "host", _host, "localhost"),
        port=reader.optional(table, "smtp", "port", _port, default_port),
        starttls=starttls,
        ssl=ssl,
        username=reader.optional(table, "smtp", "username", _text, None),
        password_env=reader.optional(table, "smtp", "password_env", _env_name, None),
        sender=reader.required(table, "smtp", "from", _mailbox, SENDER_EXAMPLE) or "",
        timeout=reader.optional(table, "smtp", "timeout", FETCH_TIMEOUT, 30.0),
    )


def _crawl(reader: _Reader, data: dict[str, Any]) -> CrawlSettings:
    table = reader.table(data, "crawl") or {}
    reader.known_keys(table, "crawl", CRAWL_KEYS)
    d = CrawlSettings()
    return CrawlSettings(
        per_host=reader.optional(table, "crawl", "per_host", _positive_int(1000), d.per_host),
        per_host_delay=reader.optional(table, "crawl", "per_host_delay", DELAY, d.per_host_delay),
        timeout=reader.optional(table, "crawl", "timeout", FETCH_TIMEOUT, d.timeout),
        max_bytes=reader.optional(table, "crawl", "max_bytes", _byte_size, d.max_bytes),
        user_agent=reader.optional(table, "crawl", "user_agent", _user_agent, None),
        concurrency=reader.optional(
            table, "crawl", "concurrency", _positive_int(1000), d.concurrency
        ),
    )


def _source(reader: _Reader, path: str, table: dict[str, Any]) -> Source:
    kind = table.get("type", "feed")
    allowed = SOURCE_TYPE_KEYS.get(kind, SOURCE_KEYS) if isinstance(kind, str) else SOURCE_KEYS
    for key in table:
        if key in allowed:
            continue
        if key in SOURCE_KEYS:
            types = [t for t, keys in SOURCE_TYPE_KEYS.items() if key in keys]
            only = " or ".join(f'"{t}"' for t in types)
            reader.add(
                _key_path(path, key), f'only for sources of type {only}; this one is "{kind}"'
            )
        else:
            reader.add(_key_path(path, key), _unknown_key_message(key, allowed))
    kind = reader.optional(table, path, "type", _choice(SOURCE_TYPES), "feed")
    watchlist = reader.optional(table, path, "watchlist", _text, None)
    if kind == "alert" and "url" in table and "watchlist" in table:
        reader.add(
            path,
            "give either url (a pasted alert or search feed) or watchlist (a feed built from"
            " a watchlist's query at provider), not both",
        )
    if kind == "alert" and "url" not in table and "watchlist" not in table:
        reader.add(
            _key_path(path, "url"),
            "missing required key; expected url = an alert or search feed URL, or"
            " watchlist = the name of a watchlist (with provider = 'google-news' or 'bing-news')",
        )
        url: str | None = ""
    elif kind == "alert" and "url" not in table:
        url = ""  # built from the watchlist once the watchlists are read
    else:
        url = reader.required(table, path, "url", _http_url, "an absolute http(s) URL") or ""
    provider = reader.optional(table, path, "provider", _choice(ALERT_PROVIDERS), None)
    if kind == "alert" and "watchlist" in table and "url" not in table and "provider" not in table:
        reader.add(
            _key_path(path, "provider"),
            "missing required key; expected 'google-news' or 'bing-news': where the search"
            " feed for the watchlist's query is built",
        )
    if kind == "alert" and "watchlist" not in table:
        for key in ("provider", "region", "endpoint"):
            if key in table:
                reader.add(
                    _key_path(path, key),
                    "only for an alert built from a watchlist (watchlist = ...); a pasted"
                    " url is used as it is",
                )
    default_min = DEFAULT_BLOG_MIN_INTERVAL if kind == "blog" else DEFAULT_MIN_INTERVAL
    min_interval = reader.optional(table, path, "min_interval", POLL_INTERVAL, default_min)
    max_interval = reader.optional(table, path, "max_interval", POLL_INTERVAL, DEFAULT_MAX_INTERVAL)
    if min_interval > max_interval:
        reader.add(
            _key_path(path, "min_interval"),
            f"expected at most max_interval ({show_duration(max_interval)}),"
            f" got {show_duration(min_interval)}",
        )
    return Source(
        name=reader.required(table, path, "name", _text) or "",
        type=kind,
        url=url or "",
        language=reader.optional(table, path, "language", _language, None),
        enabled=reader.optional(table, path, "enabled", _boolean, True),
        preferred=reader.optional(table, path, "preferred", _boolean, False),
        full_text=reader.optional(table, path, "full_text", _boolean, False),
        min_interval=min_interval,
        max_interval=max(min_interval, max_interval),
        categories=reader.optional(table, path, "categories", _text_list, ()),
        watchlist=watchlist,
        provider=provider,
        region=reader.optional(table, path, "region", _region, None),
        endpoint=reader.optional(table, path, "endpoint", _base_url, None),
        blog=_blog_options(reader, path, table) if kind == "blog" else None,
        key=path,
    )


def _blog_options(reader: _Reader, path: str, table: dict[str, Any]) -> BlogOptions:
    default = BlogOptions()
    return BlogOptions(
        sitemap=reader.optional(table, path, "sitemap", _http_url, None),
        allow=_patterns(reader, path, table, "allow"),
        deny=_patterns(reader, path, table, "deny"),
        max_pages=reader.optional(table, path, "max_pages", _positive_int(100_000), 50),
        max_depth=reader.optional(table, path, "max_depth", _whole_number(0, 100), 2),
        delay=reader.optional(table, path, "delay", DELAY, default.delay),
        timeout=reader.optional(table, path, "timeout", CRAWL_TIMEOUT, default.timeout),
    )


def _patterns(reader: _Reader, path: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
    """An array of regular expressions, each compiled to check it."""
    if key not in table:
        return ()
    value = table[key]
    if isinstance(value, str):
        value = [value]
    where = _key_path(path, key)
    if not isinstance(value, list):
        reader.add(where, f"expected an array of regular expressions, got {_describe(value)}")
        return ()
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            reader.add(
                _key_path(where, index),
                f"expected a regular expression (a non-empty string), got {_describe(item)}",
            )
            continue
        if not reader.within_bounds(item, _key_path(where, index)):
            continue
        try:
            re.compile(item)
        except re.error as exc:
            reader.add(
                _key_path(where, index),
                f"not a regular expression ({exc}): {_quote(item)}; expected Python syntax"
                r" such as '/blog/\d{4}/'",
            )
            continue
        out.append(item)
    return tuple(out)


def _sources(reader: _Reader, data: dict[str, Any]) -> tuple[Source, ...]:
    entries = [
        (path, _source(reader, path, table)) for path, table in reader.tables(data, "sources")
    ]
    reader.unique(((path, s.name) for path, s in entries), "name", "name")
    return tuple(source for _, source in entries)


def _alert_sources(
    reader: _Reader, sources: tuple[Source, ...], watchlists: tuple[Watchlist, ...], given: set[str]
) -> tuple[Source, ...]:
    """Alerts built from a watchlist get the provider's search-feed URL for its query."""
    from crawlers.alerts import search_feed_url  # pure string building; no network

    queries = {w.name: w.query for w in watchlists}
    valid = list(dict.fromkeys(w.name for w in watchlists if w.name))
    names = _Names(given, valid)
    out = []
    for s in sources:
        if s.type != "alert" or not s.watchlist or s.url:
            out.append(s)
            continue
        key = _key_path(s.key, "watchlist")
        if s.watchlist not in given:
            reader.add(key, f"no watchlist named {_quote(s.watchlist)}; {names.listing}")
        elif s.watchlist in queries and not queries[s.watchlist].strip():
            reader.add(
                key,
                f"watchlist {_quote(s.watchlist)} has no query (it names entities only);"
                " an alert feed needs a query to search for",
            )
        elif s.watchlist in queries and s.provider:
            url = search_feed_url(
                s.provider, queries[s.watchlist], s.language or "", s.region or ""
            )
            if s.endpoint:
                url = s.endpoint + "?" + urlsplit(url).query
            s = replace(s, url=url)
        out.append(s)
    return tuple(out)


def _watchlist(reader: _Reader, path: str, table: dict[str, Any]) -> Watchlist:
    reader.known_keys(table, path, WATCHLIST_KEYS)
    entities = _entity_list(reader, table, path, strings_allowed=True)
    if "query" not in table and entities:
        query = ""
    else:
        expected = "a query in Google Alerts syntax (or entities = [...])"
        query = reader.required(table, path, "query", _query, expected) or ""
    return Watchlist(
        name=reader.required(table, path, "name", _slug) or "",
        title=reader.required(table, path, "title", _text) or "",
        query=query,
        entities=entities,
    )


def _entity_list(
    reader: _Reader, table: dict[str, Any], path: str, *, strings_allowed: bool
) -> tuple[EntitySpec, ...]:
    """``entities = ["Name", {name = ..., label = ..., aliases = [...]}, ...]``."""
    key = _key_path(path, "entities")
    value = table.get("entities", [])
    if not isinstance(value, list):
        reader.add(key, f"expected an array of entities, got {_describe(value)}")
        return ()
    specs = []
    for index, item in enumerate(value):
        item_path = _key_path(key, index)
        if isinstance(item, str) and strings_allowed:
            name = reader.checked(item, item_path, _text)
            if name:
                specs.append(EntitySpec(name))
        elif isinstance(item, dict):
            reader.known_keys(item, item_path, ENTITY_KEYS)
            name = reader.required(item, item_path, "name", _text)
            label = reader.optional(item, item_path, "label", _entity_label, "ENTITY")
            aliases = reader.optional(item, item_path, "aliases", _text_list, ())
            if name:
                specs.append(EntitySpec(name, label, aliases))
        else:
            what = "a name or a table" if strings_allowed else "a table"
            reader.add(
                item_path, f"expected {what} with name, label and aliases, got {_describe(item)}"
            )
    reader.unique(((_key_path(key, i), e.name) for i, e in enumerate(specs)), "entity", "name")
    return tuple(specs)


def _entity_label(value: object) -> str:
    text = _text(value)
    if not re.fullmatch(r"[A-Z][A-Z_]{1,19}", text):
        raise _Invalid(
            f"expected an upper-case label such as 'PERSON' or 'ORG', got {_quote(text)}"
        )
    return text


def _text_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Invalid(f"expected an array of non-empty strings, got {_describe(value)}")
    return tuple(v.strip() for v in value)


def _positive_int(limit: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise _Invalid(f"expected a whole number from 1 to {limit}, got {_describe(value)}")
        return value

    return check


def _models(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise _Invalid(
            "expected a table of language = spaCy pipeline, such as"
            f' {{ nl = "nl_core_news_sm" }}, got {_describe(value)}'
        )
    models = []
    for lang, name in value.items():
        _language(lang)
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise _Invalid(f"expected a spaCy pipeline name for {lang!r}, got {_describe(name)}")
        models.append((lang, name))
    return tuple(sorted(models))


def _nlp(reader: _Reader, data: dict[str, Any]) -> NlpSettings:
    table = reader.table(data, "nlp")
    if not table:
        return NlpSettings()
    reader.known_keys(table, "nlp", NLP_KEYS)
    return NlpSettings(
        models=reader.optional(table, "nlp", "models", _models, ()),
        n_process=reader.optional(table, "nlp", "n_process", _positive_int(32), 1),
        batch_size=reader.optional(table, "nlp", "batch_size", _positive_int(10_000), 64),
        story_window=reader.optional(table, "nlp", "story_window", STORY_WINDOW, timedelta(days=7)),
        entities=_entity_list(reader, table, "nlp", strings_allowed=False),
    )


def _watchlists(reader: _Reader, data: dict[str, Any]) -> tuple[tuple[Watchlist, ...], set[str]]:
    """The watchlists, and every name given (valid or not) for reference checks."""
    tables = reader.tables(data, "watchlists")
    entries = [(path, _watchlist(reader, path, table)) for path, table in tables]
    reader.unique(((path, w.name) for path, w in entries), "name", "name")
    given = {t["name"].strip() for _, t in tables if isinstance(t.get("name"), str)}
    return tuple(w for _, w in entries), given


class _Names(NamedTuple):
    """Watchlist names for reference checks: all given, and the valid ones in order."""

    given: set[str]
    valid: list[str]

    @property
    def listing(self) -> str:
        return f"defined: {', '.join(self.valid)}" if self.valid else "no watchlists are defined"


def _subscriber_watchlists(
    reader: _Reader, path: str, table: dict[str, Any], names: _Names
) -> tuple[str, ...]:
    """The subscriber's watchlist names, each checked against the defined ones."""
    key = _key_path(path, "watchlists")
    if "watchlists" not in table:
        reader.add(key, "missing required key; expected an array of watchlist names")
        return ()
    value = table["watchlists"]
    if not isinstance(value, list) or not value:
        reader.add(key, f"expected a non-empty array of watchlist names, got {_describe(value)}")
        return ()
    wanted = [reader.checked(item, _key_path(key, i), _text) for i, item in enumerate(value)]
    for index, name in enumerate(wanted):
        if name is not None and name not in names.given:
            reader.add(_key_path(key, index), f"no watchlist named {_quote(name)}; {names.listing}")
    reader.unique(((_key_path(key, i), n) for i, n in enumerate(wanted)), "watchlist")
    return tuple(name for name in wanted if name is not None)


def _subscriber(reader: _Reader, path: str, table: dict[str, Any], names: _Names) -> Subscriber:
    reader.known_keys(table, path, SUBSCRIBER_KEYS)
    email = reader.required(table, path, "email", _email, "an e-mail address") or ""
    name = reader.optional(table, path, "name", _string, "")
    language = reader.optional(table, path, "language", _choice(SUBSCRIBER_LANGUAGES), "nl")
    watchlists = _subscriber_watchlists(reader, path, table, names)
    timezone = reader.optional(table, path, "timezone", _timezone, None)
    send_empty = reader.optional(table, path, "send_empty", _boolean, False)
    weekday, at = reader.optional(table, path, "digest", _digest_moment, (None, None))
    return Subscriber(
        email=email,
        name=name,
        language=language,
        watchlists=watchlists,
        timezone=timezone,
        send_empty=send_empty,
        digest_weekday=weekday,
        digest_time=at,
    )


def _subscribers(reader: _Reader, data: dict[str, Any], names: _Names) -> tuple[Subscriber, ...]:
    tables = reader.tables(data, "subscribers")
    entries = [(path, _subscriber(reader, path, table, names)) for path, table in tables]
    reader.unique(((path, s.email) for path, s in entries), "e-mail address", "email")
    return tuple(subscriber for _, subscriber in entries)


# --------------------------------------------------------------------------- entry points


def validate_settings_data(
    data: dict[str, Any], file: str, base_dir: Path, *, path: Path | None = None
) -> Settings:
    """Validate parsed TOML ``data``; ``file`` names it in problems.

    Relative paths resolve against ``base_dir``; ``path`` (default
    ``base_dir / name of file``) becomes :attr:`Settings.path`.
    """
    reader = _Reader(file)
    reader.known_keys(data, "", TOP_KEYS)
    data_dir = reader.optional(data, "", "data_dir", _text, "data")
    base_url = reader.optional(data, "", "base_url", _base_url, None)
    title = reader.optional(data, "", "digest_title", _text, DEFAULT_TITLE)
    sender = reader.optional(data, "", "from", _mailbox, DEFAULT_SENDER)
    private = reader.optional(data, "", "allow_private_networks", _boolean, False)
    template_dir = reader.optional(data, "", "template_dir", _text, None)
    secret_env = reader.optional(data, "", "secret_env", _env_name, None)
    unsubscribe_mailto = reader.optional(data, "", "unsubscribe_mailto", _email, None)
    schedule = _schedule(reader, data)
    smtp = _smtp(reader, data)
    nlp = _nlp(reader, data)
    crawl = _crawl(reader, data)
    sources = _sources(reader, data)
    watchlists, given = _watchlists(reader, data)
    sources = _alert_sources(reader, sources, watchlists, given)
    valid = list(dict.fromkeys(w.name for w in watchlists if w.name))
    subscribers = _subscribers(reader, data, _Names(given, valid))
    if template_dir and not (Path(base_dir) / Path(template_dir).expanduser()).is_dir():
        reader.add(
            "template_dir",
            f"expected a folder of jinja2 templates; {_quote(template_dir)} is not a folder",
        )
    if reader.problems:
        raise ConfigError(reader.problems)
    base_dir = Path(base_dir)
    return Settings(
        path=(path or base_dir / Path(file).name).resolve(),
        data_dir=(base_dir / Path(data_dir).expanduser()).resolve(),
        base_url=base_url,
        digest_title=title,
        sender=smtp.sender if smtp else sender,
        allow_private_networks=private,
        template_dir=(base_dir / Path(template_dir).expanduser()).resolve()
        if template_dir
        else None,
        secret_env=secret_env,
        unsubscribe_mailto=unsubscribe_mailto,
        schedule=schedule,
        smtp=smtp,
        nlp=nlp,
        crawl=crawl,
        sources=sources,
        watchlists=watchlists,
        subscribers=subscribers,
    )


def _read_toml(path: Path, file: str) -> dict[str, Any]:
    """Parse the TOML file, turning every failure into a ConfigError."""

    def fail(message: str) -> ConfigError:
        return ConfigError([ConfigProblem(file, "", message)])

    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise fail("file not found (start from config/trendwatch.example.toml)") from None
    except IsADirectoryError:
        raise fail("is a directory, expected a TOML file") from None
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise fail(f"larger than {MAX_CONFIG_BYTES // 1024**2} MiB; expected a config file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"invalid TOML: {exc}") from None
    except ValueError:  # int() refuses a decimal number of more digits than this
        raise fail(
            f"invalid TOML: a number of more than {sys.get_int_max_str_digits()} digits"
        ) from None
    except RecursionError:
        raise fail("invalid TOML: arrays or inline tables nested too deeply") from None


def load_settings(path: str | Path) -> Settings:
    """Read and validate the config file; raise ConfigError listing every problem."""
    config = Path(path)
    data = _read_toml(config, str(path))
    absolute = config.resolve()
    return validate_settings_data(data, str(path), absolute.parent, path=absolute)


def default_config_path() -> Path:
    """``$TRENDWATCH_CONFIG`` if set, else ``config/trendwatch.toml``."""
    value = os.environ.get("TRENDWATCH_CONFIG", "").strip()
    return Path(value).expanduser() if value else DEFAULT_CONFIG_PATH
