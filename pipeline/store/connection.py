"""The connection: opening a database file (created private: 0600 in a 0700 folder),
its pragmas (WAL, foreign keys, a busy timeout), bringing its schema up to date one
migration at a time after a backup, transactions, and online backups.

``StoreBase`` is what every part of the store builds on: ``self.db`` (sqlite-utils),
``transaction()``, and ``_rows``/``_one`` for queries that return dicts.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import sqlite_utils

from digests.fsutil import create_private_file, make_private_dir
from pipeline.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be used (newer schema, not a trendwatch database...)."""


def backup_file_name(when: datetime, tag: str | None = None) -> str:
    """``trendwatch-20261126-120000.db`` (UTC), or ``trendwatch-{tag}-20261126-120000.db``."""
    stamp = when.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"trendwatch-{tag}-{stamp}.db" if tag else f"trendwatch-{stamp}.db"


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class StoreBase:
    """An open trendwatch database; the parts of the store add the queries."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # The database holds every subscriber's address: a new one is created 0600 in a
        # new 0700 folder, and SQLite gives its -wal and -shm files the database's mode.
        make_private_dir(self.path.parent)
        create_private_file(self.path)
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
        self.db = sqlite_utils.Database(conn, execute_plugins=False)
        self._configure()
        self._migrate()

    # lifecycle
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _configure(self) -> None:
        x = self.db.execute
        x(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        x("PRAGMA foreign_keys = ON")
        if x("PRAGMA journal_mode").fetchone()[0] != "wal":
            x("PRAGMA journal_mode = WAL")
        x("PRAGMA synchronous = NORMAL")

    def _migrate(self) -> None:
        app_id = self.db.execute("PRAGMA application_id").fetchone()[0]
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(f"{self.path} is not a trendwatch database")
        if app_id == 0 and version == 0 and self.db.table_names():
            raise StoreError(f"{self.path} holds tables but is not a trendwatch database")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}; this trendwatch knows up to "
                f"{SCHEMA_VERSION}. Upgrade trendwatch."
            )
        if 0 < version < SCHEMA_VERSION:
            self._backup_before_migration(version)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            _, migrate = MIGRATIONS[number - 1]
            with self.db.atomic():
                migrate(self.db)
                problems = self.db.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise StoreError(f"migration {number} broke foreign keys: {problems[:3]}")
                self.db.execute(f"PRAGMA user_version = {number}")
                self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict]:
        return list(self.db.query(sql, params))

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    # --- backups -------------------------------------------------------------------

    def backup(self, target: str | Path) -> Path:
        """Copy the database to ``target`` with SQLite's online backup API; return the path.

        Safe while other connections or processes write (WAL): the copy is read in one
        step through a connection of its own, so it is one consistent snapshot with every
        transaction committed before it started and nothing uncommitted. It is written to
        a temporary file beside ``target``, must pass ``PRAGMA integrity_check``, and only
        then is renamed to ``target`` (replacing an existing file atomically): a half or
        failed backup never carries the final name. The copy is one self-contained file
        (rollback journal, not WAL), so it can be copied like any other file.
        """
        target = Path(target)
        live = self.path.resolve()
        own_files = {live, *(live.with_name(live.name + s) for s in ("-wal", "-shm", "-journal"))}
        if target.resolve() in own_files:
            raise ValueError(f"cannot back up {self.path} onto itself ({target})")
        make_private_dir(target.parent)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            source = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                copy = sqlite3.connect(name)
                try:
                    source.backup(copy)
                    copy.execute("PRAGMA journal_mode = DELETE")
                    result = [row[0] for row in copy.execute("PRAGMA integrity_check")]
                finally:
                    copy.close()
            finally:
                source.close()
            if result != ["ok"]:
                raise StoreError(
                    f"the backup of {self.path} failed its integrity check: {result[:3]}"
                )
            os.replace(name, target)
        except sqlite3.Error as exc:
            Path(name).unlink(missing_ok=True)
            raise StoreError(f"could not back up {self.path} to {target}: {exc}") from exc
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return target

    def _backup_before_migration(self, version: int) -> Path:
        """Back the database up into ``backups/`` beside it before migrating ``version``."""
        name = backup_file_name(datetime.now(UTC), f"v{version}-before-v{SCHEMA_VERSION}")
        try:
            path = self.backup(self.path.parent / "backups" / name)
        except (OSError, StoreError) as exc:
            raise StoreError(
                f"could not back up {self.path} before migrating it from schema version"
                f" {version} to {SCHEMA_VERSION}: {exc}. Nothing was migrated."
            ) from exc
        log.warning(
            "Database %s has schema version %d; backed up to %s before migrating it to %d.",
            self.path,
            version,
            path,
            SCHEMA_VERSION,
        )
        return path
