"""Validating parsed TOML into :class:`Settings`: every problem found, reported at once.

:func:`validate_settings_data` reads the top-level keys and each section with one
:class:`~pipeline.settings.reader.Reader`, which collects the problems, and raises a
:class:`ConfigError` listing them all, or returns the :class:`Settings`. The sections
``[schedule]``, ``[smtp]``, ``[nlp]``, ``[crawl]``, ``[digest]`` and ``[[subscribers]]`` are read
here; ``[[sources]]`` in :mod:`~pipeline.settings.validate_sources` and
``[[watchlists]]`` in :mod:`~pipeline.settings.validate_watchlists`, ``[web]`` in
:mod:`~pipeline.settings.validate_web`; the checks of
single values are in :mod:`~pipeline.settings.checks`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pipeline.settings import checks
from pipeline.settings.checks import SENDER_EXAMPLE, describe, quote
from pipeline.settings.database import (
    DATABASE_URL_ENV,
    database_url,
    exposed_password_problem,
    sqlite_path,
)
from pipeline.settings.model import (
    ConfigError,
    ConfigProblem,
    CrawlSettings,
    DigestSettings,
    NlpSettings,
    Schedule,
    Settings,
    SmtpSettings,
    Subscriber,
)
from pipeline.settings.reader import Reader, key_path
from pipeline.settings.validate_sources import source_list, with_alert_urls
from pipeline.settings.validate_watchlists import WatchlistNames, entity_list, watchlist_list
from pipeline.settings.validate_web import web_settings

DEFAULT_SENDER = "Trendwatch <trendwatch@localhost>"
DEFAULT_TITLE = "Trendwatch"
SUBSCRIBER_LANGUAGES = ("nl", "en")

TOP_KEYS = (
    *("data_dir", "base_url", "digest_title", "from", "allow_private_networks"),
    *("template_dir", "secret_env", "unsubscribe_mailto"),
    *("schedule", "smtp", "nlp", "sources", "watchlists", "subscribers"),
    *("crawl", "web", "database_url", "digest", "language"),
)
NLP_KEYS = ("models", "n_process", "batch_size", "story_window", "entities")
SCHEDULE_KEYS = ("timezone", "crawl_every", "digest", "digest_grace")
SMTP_KEYS = ("host", "port", "starttls", "ssl", "username", "password_env", "from", "timeout")
DIGEST_KEYS = ("processes",)
CRAWL_KEYS = ("per_host", "per_host_delay", "timeout", "max_bytes", "user_agent", "concurrency")
SUBSCRIBER_KEYS = ("email", "name", "language", "watchlists", "timezone", "send_empty", "digest")


def validate_settings_data(
    data: dict[str, Any],
    file: str,
    base_dir: Path,
    *,
    path: Path | None = None,
    env_database_url: str | None = None,
    file_mode: int | None = None,
) -> Settings:
    """Validate parsed TOML ``data``; ``file`` names it in problems.

    Relative paths resolve against ``base_dir``; ``path`` (default
    ``base_dir / name of file``) becomes :attr:`Settings.path`.
    ``env_database_url`` is ``$TRENDWATCH_DATABASE_URL`` (it wins over the file's
    ``database_url``); ``file_mode``, the file's permission bits, when known: a file
    that holds a database password must be private.
    """
    reader = Reader(file)
    reader.known_keys(data, "", TOP_KEYS)
    data_dir = reader.optional(data, "", "data_dir", checks.text, "data")
    base_url = reader.optional(data, "", "base_url", checks.base_url, None)
    title = reader.optional(data, "", "digest_title", checks.text, DEFAULT_TITLE)
    sender = reader.optional(data, "", "from", checks.mailbox, DEFAULT_SENDER)
    private = reader.optional(data, "", "allow_private_networks", checks.boolean, False)
    template_dir = reader.optional(data, "", "template_dir", checks.text, None)
    secret_env = reader.optional(data, "", "secret_env", checks.env_name, None)
    unsubscribe_mailto = reader.optional(data, "", "unsubscribe_mailto", checks.email, None)
    # the command line's language (pipeline.cli.i18n); None: $TRENDWATCH_LANG, the locale
    language = reader.optional(data, "", "language", checks.choice(SUBSCRIBER_LANGUAGES), None)
    schedule = _schedule(reader, data)
    smtp = _smtp(reader, data)
    nlp = _nlp(reader, data)
    crawl = _crawl(reader, data)
    digest = _digest(reader, data)
    sources = source_list(reader, data)
    watchlists, names = watchlist_list(reader, data)
    sources = with_alert_urls(reader, sources, watchlists, names)
    subscribers = _subscribers(reader, data, names)
    web = web_settings(reader, data)
    db_url = _database_url(reader, data, env_database_url, file_mode)
    if template_dir:
        try:
            why = None if (Path(base_dir) / Path(template_dir).expanduser()).is_dir() else ""
        except OSError as exc:  # e.g. a name longer than the file system allows
            why = f" ({exc.strerror})"
        if why is not None:
            reader.add(
                "template_dir",
                f"expected a folder of jinja2 templates; {quote(template_dir)} is not a"
                f" folder{why}",
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
        web=web,
        digest=digest,
        database_url=_resolved_database_url(db_url, base_dir),
        language=language,
    )


def _database_url(
    reader: Reader, data: dict[str, Any], env_value: str | None, file_mode: int | None
) -> str | None:
    """The checked database URL: ``$TRENDWATCH_DATABASE_URL`` if set, else the file's."""
    from_file = reader.optional(data, "", "database_url", database_url, None)
    if from_file is not None and file_mode is not None:
        problem = exposed_password_problem(from_file, file_mode)
        if problem:
            reader.add("database_url", problem)
    if env_value is None or not env_value.strip():
        return from_file
    env = Reader(f"${DATABASE_URL_ENV}")
    value = env.checked(env_value, "", database_url)
    reader.problems.extend(ConfigProblem(p.file, "", p.message) for p in env.problems)
    return value


def _resolved_database_url(url: str | None, base_dir: Path) -> str | None:
    """A ``sqlite:///`` URL with its file made absolute (relative to ``base_dir``)."""
    if url is None or not url.startswith("sqlite:"):
        return url
    return "sqlite:///" + str((base_dir / Path(sqlite_path(url)).expanduser()).resolve())


def _schedule(reader: Reader, data: dict[str, Any]) -> Schedule:
    table = reader.table(data, "schedule") or {}
    reader.known_keys(table, "schedule", SCHEDULE_KEYS)
    default = Schedule()
    weekday, at = reader.optional(
        table,
        "schedule",
        "digest",
        checks.digest_moment,
        (default.digest_weekday, default.digest_time),
    )
    return Schedule(
        timezone=reader.optional(table, "schedule", "timezone", checks.timezone, default.timezone),
        crawl_every=reader.optional(
            table, "schedule", "crawl_every", checks.CRAWL_EVERY, default.crawl_every
        ),
        digest_weekday=weekday,
        digest_time=at,
        digest_grace=reader.optional(
            table, "schedule", "digest_grace", checks.DIGEST_GRACE, default.digest_grace
        ),
    )


def _smtp(reader: Reader, data: dict[str, Any]) -> SmtpSettings | None:
    table = reader.table(data, "smtp") if "smtp" in data else None
    if table is None:
        return None
    reader.known_keys(table, "smtp", SMTP_KEYS)
    starttls = reader.optional(table, "smtp", "starttls", checks.boolean, False)
    ssl = reader.optional(table, "smtp", "ssl", checks.boolean, False)
    if starttls and ssl:
        reader.add(
            "smtp",
            "starttls and ssl cannot both be true; use starttls = true (usually port 587) "
            "or ssl = true (usually port 465)",
        )
    default_port = 587 if starttls else 465 if ssl else 25
    return SmtpSettings(
        host=reader.optional(table, "smtp", "host", checks.host, "localhost"),
        port=reader.optional(table, "smtp", "port", checks.port, default_port),
        starttls=starttls,
        ssl=ssl,
        username=reader.optional(table, "smtp", "username", checks.text, None),
        password_env=reader.optional(table, "smtp", "password_env", checks.env_name, None),
        sender=reader.required(table, "smtp", "from", checks.mailbox, SENDER_EXAMPLE) or "",
        timeout=reader.optional(table, "smtp", "timeout", checks.FETCH_TIMEOUT, 30.0),
    )


def _crawl(reader: Reader, data: dict[str, Any]) -> CrawlSettings:
    table = reader.table(data, "crawl") or {}
    reader.known_keys(table, "crawl", CRAWL_KEYS)
    d = CrawlSettings()
    return CrawlSettings(
        per_host=reader.optional(table, "crawl", "per_host", checks.positive_int(1000), d.per_host),
        per_host_delay=reader.optional(
            table, "crawl", "per_host_delay", checks.DELAY, d.per_host_delay
        ),
        timeout=reader.optional(table, "crawl", "timeout", checks.FETCH_TIMEOUT, d.timeout),
        max_bytes=reader.optional(table, "crawl", "max_bytes", checks.byte_size, d.max_bytes),
        user_agent=reader.optional(table, "crawl", "user_agent", checks.user_agent, None),
        concurrency=reader.optional(
            table, "crawl", "concurrency", checks.positive_int(1000), d.concurrency
        ),
    )


def _digest(reader: Reader, data: dict[str, Any]) -> DigestSettings:
    table = reader.table(data, "digest") or {}
    reader.known_keys(table, "digest", DIGEST_KEYS)
    d = DigestSettings()
    return DigestSettings(
        processes=reader.optional(table, "digest", "processes", checks.positive_int(2), d.processes)
    )


def _nlp(reader: Reader, data: dict[str, Any]) -> NlpSettings:
    table = reader.table(data, "nlp")
    if not table:
        return NlpSettings()
    reader.known_keys(table, "nlp", NLP_KEYS)
    return NlpSettings(
        models=reader.optional(table, "nlp", "models", checks.models, ()),
        n_process=reader.optional(table, "nlp", "n_process", checks.positive_int(32), 1),
        batch_size=reader.optional(table, "nlp", "batch_size", checks.positive_int(10_000), 64),
        story_window=reader.optional(
            table, "nlp", "story_window", checks.STORY_WINDOW, timedelta(days=7)
        ),
        entities=entity_list(reader, table, "nlp", strings_allowed=False),
    )


def _subscriber_watchlists(
    reader: Reader, path: str, table: dict[str, Any], names: WatchlistNames
) -> tuple[str, ...]:
    """The subscriber's watchlist names, each checked against the defined ones."""
    key = key_path(path, "watchlists")
    if "watchlists" not in table:
        reader.add(key, "missing required key; expected an array of watchlist names")
        return ()
    value = table["watchlists"]
    if not isinstance(value, list) or not value:
        reader.add(key, f"expected a non-empty array of watchlist names, got {describe(value)}")
        return ()
    wanted = [reader.checked(item, key_path(key, i), checks.text) for i, item in enumerate(value)]
    for index, name in enumerate(wanted):
        if name is not None and name not in names.given:
            reader.add(key_path(key, index), f"no watchlist named {quote(name)}; {names.listing}")
    reader.unique(((key_path(key, i), n) for i, n in enumerate(wanted)), "watchlist")
    return tuple(name for name in wanted if name is not None)


def _subscriber(
    reader: Reader, path: str, table: dict[str, Any], names: WatchlistNames
) -> Subscriber:
    reader.known_keys(table, path, SUBSCRIBER_KEYS)
    email = reader.required(table, path, "email", checks.email, "an e-mail address") or ""
    name = reader.optional(table, path, "name", checks.string, "")
    language = reader.optional(table, path, "language", checks.choice(SUBSCRIBER_LANGUAGES), "nl")
    watchlists = _subscriber_watchlists(reader, path, table, names)
    timezone = reader.optional(table, path, "timezone", checks.timezone, None)
    send_empty = reader.optional(table, path, "send_empty", checks.boolean, False)
    weekday, at = reader.optional(table, path, "digest", checks.digest_moment, (None, None))
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


def _subscribers(
    reader: Reader, data: dict[str, Any], names: WatchlistNames
) -> tuple[Subscriber, ...]:
    tables = reader.tables(data, "subscribers")
    entries = [(path, _subscriber(reader, path, table, names)) for path, table in tables]
    reader.unique(((path, s.email) for path, s in entries), "e-mail address", "email")
    return tuple(subscriber for _, subscriber in entries)
