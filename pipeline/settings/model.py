"""What loading the config gives: :class:`Settings` and its parts, or a :class:`ConfigError`.

Frozen dataclasses with the defaults a missing key gets; the checks and the reading
live in :mod:`pipeline.settings.validate` and :mod:`pipeline.settings.load`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import NamedTuple

from pipeline.schedule.decide import DigestTime

DEFAULT_TIMEZONE = "Europe/Amsterdam"
DEFAULT_MIN_INTERVAL = timedelta(minutes=15)
DEFAULT_MAX_INTERVAL = timedelta(days=1)
DEFAULT_MAX_BYTES = 15 * 1024 * 1024


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
    per_host_delay: float = 0.0  # least seconds between request starts to one host
    timeout: float = 20.0  # seconds for one fetch, redirects and body included
    max_bytes: int = DEFAULT_MAX_BYTES  # decoded body size cap
    user_agent: str | None = None  # None: trendwatch's own
    concurrency: int = 64  # sources (and connections) in flight at once


@dataclass(frozen=True)
class DigestSettings:
    """The ``[digest]`` section: how the digest job runs."""

    processes: int = 2  # processes building a run's editions (2: a second one if it pays)


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
    # the version its links are signed with: not in the file, set from the store by
    # pipeline.subscriptions.readers (0 until the address unsubscribes)
    token_version: int = 0


class Listen(NamedTuple):
    """A host and port to serve on; ``str()`` gives ``host:port`` (IPv6 in brackets)."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


DEFAULT_LISTEN = Listen("127.0.0.1", 8080)


@dataclass(frozen=True)
class WebSettings:
    """The ``[web]`` section: where ``trendwatch serve`` (and ``run``) listens, who is admin,
    and which reverse proxies may tell the client's address."""

    listen: Listen | None = None  # None: `run` serves no web; `serve` uses DEFAULT_LISTEN
    admin_token_env: str | None = None  # environment variable holding the admin token
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()


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
    web: WebSettings = field(default_factory=WebSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    # None: the SQLite file under data_dir; else a checked "sqlite:////absolute/path" or
    # "postgresql://..." URL (pipeline.settings.database). It may hold a password: kept
    # out of repr so that printing the settings never shows it.
    database_url: str | None = field(default=None, repr=False)
    # the top-level ``language``: what the command line speaks ("nl", "en"), unless
    # ``--lang`` or $TRENDWATCH_LANG says otherwise; None: the locale decides
    language: str | None = None

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
        """The SQLite file: ``database_url``'s when it names one, else under data_dir."""
        if self.database_url and self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.data_dir / "trendwatch.db"

    @property
    def database(self) -> str | Path:
        """What the store opens: the PostgreSQL URL, else the SQLite file."""
        if self.database_url and self.database_url.startswith("postgresql://"):
            return self.database_url
        return self.db_path

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"
