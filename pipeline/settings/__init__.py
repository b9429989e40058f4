"""The one settings loader: read ``trendwatch.toml`` and validate it.

Every problem found is collected and reported at once, as a :class:`ConfigError`
whose :class:`ConfigProblem` entries name the file, the key path (e.g.
``sources[2].url``) and what was expected, in plain English. Every text value has a
length bound (:data:`TEXT_LIMITS`, from :mod:`crawlers.bounds`) and every number a
range; a value outside them is refused, so none can switch a limit off.

Callers import from here; the parts are:

- :mod:`~pipeline.settings.model`: :class:`Settings` and its parts (frozen dataclasses),
  :class:`ConfigError` and :class:`ConfigProblem`;
- :mod:`~pipeline.settings.load`: :func:`load_settings` (the file) and
  :func:`default_config_path`;
- :mod:`~pipeline.settings.validate`: :func:`validate_settings_data` (parsed TOML to
  :class:`Settings`), with one module per large section
  (:mod:`~pipeline.settings.validate_sources`,
  :mod:`~pipeline.settings.validate_watchlists`, :mod:`~pipeline.settings.validate_web`),
  the checks of single values (:mod:`~pipeline.settings.checks`) and the
  problem-collecting :mod:`~pipeline.settings.reader`;
- :mod:`~pipeline.settings.database`: ``database_url`` and ``$TRENDWATCH_DATABASE_URL``
  (SQLite file or PostgreSQL), and hiding a password in it;
- :mod:`~pipeline.settings.edit`: appending sources to the file (``trendwatch sources``).
"""

from __future__ import annotations

from pipeline.settings.checks import show_duration
from pipeline.settings.load import (
    DEFAULT_CONFIG_PATH,
    MAX_CONFIG_BYTES,
    default_config_path,
    load_settings,
)
from pipeline.settings.model import (
    DEFAULT_LISTEN,
    BlogOptions,
    ConfigError,
    ConfigProblem,
    CrawlSettings,
    DigestSettings,
    EntitySpec,
    Listen,
    NlpSettings,
    Schedule,
    Settings,
    SmtpSettings,
    Source,
    Subscriber,
    Watchlist,
    WebSettings,
)
from pipeline.settings.reader import TEXT_LIMITS
from pipeline.settings.validate import TOP_KEYS, validate_settings_data

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_LISTEN",
    "MAX_CONFIG_BYTES",
    "TEXT_LIMITS",
    "TOP_KEYS",
    "BlogOptions",
    "ConfigError",
    "ConfigProblem",
    "CrawlSettings",
    "DigestSettings",
    "EntitySpec",
    "Listen",
    "NlpSettings",
    "Schedule",
    "Settings",
    "SmtpSettings",
    "Source",
    "Subscriber",
    "Watchlist",
    "WebSettings",
    "default_config_path",
    "load_settings",
    "show_duration",
    "validate_settings_data",
]
