"""What the application keeps between requests: the live settings, the instance secret,
a store per thread, the rate limiters, the clock.

:class:`LiveSettings` reloads the config file when it changes: every request stats the
file (a few microseconds) and loads it again when its modification time or size
differs. A file that no longer validates is logged and the last good settings stay.

:class:`StoreAccess` hands each thread its own :class:`~pipeline.store.Store` (SQLite
connections belong to the thread that opened them), opened on first use and kept for
the next request on that thread. Endpoints that read the store are plain ``def``
functions: Starlette runs them on its thread pool, never on the event loop.

:func:`app_state` returns the :class:`AppState` of a request; route modules use the
shortcuts :func:`settings_of`, :func:`store_of` and :func:`url` (a path on this site,
under the path of ``base_url`` when the site is published below a folder).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from pipeline.digest.secret import token_secret
from pipeline.settings import ConfigError, Settings, load_settings
from pipeline.store import Store
from web.ratelimit import RateLimiter

log = logging.getLogger("trendwatch.web")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class LiveSettings:
    """The settings of one config file, loaded again when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._settings = load_settings(self.path)  # a bad file at start-up: ConfigError
        self._secret = _secret(self._settings)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def current(self) -> Settings:
        """The settings now: reloaded first if the file changed since the last look."""
        stamp = self._stat()
        if stamp == self._stamp or stamp is None:
            return self._settings
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload()
        return self._settings

    def secret(self) -> bytes:
        """The instance secret (pipeline.digest.secret.token_secret) of the settings now."""
        self.current()
        return self._secret

    def _reload(self) -> None:
        try:
            fresh = load_settings(self.path)
            secret = _secret(fresh)
        except ConfigError as exc:
            log.error("config: reload of %s rejected; still serving the old config", self.path)
            for problem in exc.problems:
                log.error("config: %s", problem)
            return
        self._settings, self._secret = fresh, secret
        log.info("config: reloaded %s", self.path)


def _secret(settings: Settings) -> bytes:
    """token_secret, once more if ``trendwatch run`` created the key file meanwhile."""
    try:
        return token_secret(settings)
    except FileExistsError:
        return token_secret(settings)


class StoreAccess:
    """One :class:`Store` per thread and database (SQLite file or PostgreSQL URL),
    opened on first use."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, database: Path | str) -> Store:
        stores: dict[Path | str, Store] = self._local.__dict__.setdefault("stores", {})
        store = stores.get(database)
        if store is None:
            store = stores[database] = Store(database)
        return store

    def close_this_thread(self) -> None:
        """Close the stores this thread opened (the others close with their threads)."""
        stores: dict[Path | str, Store] = self._local.__dict__.pop("stores", {})
        for store in stores.values():
            store.close()


@dataclass
class AppState:
    """Everything the routes share; one per application (``app.state.trendwatch``)."""

    settings: LiveSettings
    clock: Clock = utcnow
    stores: StoreAccess = field(default_factory=StoreAccess)
    # failed admin logins per client address: 10 per 15 minutes
    login_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(10, 15 * 60))


def app_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.trendwatch
    return state


SETTINGS_KEY = "trendwatch.settings"  # the request's settings, in its ASGI scope


def settings_of(conn: HTTPConnection) -> Settings:
    """The settings now (reloaded when the config file changed), looked up once per
    request: every part of a page sees the same config, and the file is looked at once."""
    settings: Settings | None = conn.scope.get(SETTINGS_KEY)
    if settings is None:
        settings = conn.scope[SETTINGS_KEY] = app_state(conn).settings.current()
    return settings


def store_of(conn: HTTPConnection) -> Store:
    """This thread's store. Call it from a plain ``def`` endpoint (the thread pool),
    or inside ``run_in_threadpool`` from an ``async def`` one, never on the event loop."""
    return app_state(conn).stores.get(settings_of(conn).database)


def url(conn: HTTPConnection, path: str) -> str:
    """``path`` (``/archive/``) as a link on this site: under the path of ``base_url``
    (``https://example.org/trendwatch`` gives ``/trendwatch/archive/``). The reverse
    proxy strips that prefix before the request reaches the application."""
    base = settings_of(conn).base_url
    prefix = urlsplit(base).path.rstrip("/") if base else ""
    return prefix + path
