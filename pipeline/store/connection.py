"""The connection: opening a database, a SQLite file (created private: 0600 in a 0700
folder) or a PostgreSQL database by URL, through SQLAlchemy (:mod:`.dialect`); SQLite's
pragmas (WAL, foreign keys, a busy timeout); bringing the schema up to date one
migration at a time (after a backup on SQLite); transactions; and SQLite's online
backups.

``StoreBase`` is what every part of the store builds on: ``transaction()``, and
``_x`` (a statement), ``_many`` (one statement, many rows), ``_rows``/``_one`` (queries
that return dicts), which run the part's SQL on either database. ``self.db``
(sqlite-utils, SQLite only) is the same SQLite connection, for the parts not yet
ported to both databases.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import sqlalchemy.exc
import sqlite_utils

from digests.fsutil import create_private_file, fsync_dir, make_private_dir
from pipeline.settings.database import shown_url
from pipeline.store.dialect import (
    POSTGRESQL,
    SQLITE,
    Dialect,
    in_transaction,
    is_postgresql,
    open_engine,
)
from pipeline.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, PostgresMigration

BUSY_TIMEOUT_MS = 10_000

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be used (newer schema, not a trendwatch database...)."""


class StoreUnreachable(StoreError):
    """No connection to the PostgreSQL server (a bad host, name, user or password)."""


def backup_file_name(when: datetime, tag: str | None = None, suffix: str = ".db") -> str:
    """``trendwatch-20261126-120000.db`` (UTC), or ``trendwatch-{tag}-20261126-120000.db``;
    ``suffix`` ``.dump`` for a PostgreSQL dump."""
    stamp = when.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"trendwatch-{tag}-{stamp}{suffix}" if tag else f"trendwatch-{stamp}{suffix}"


class _NotPorted:
    """``self.db`` on PostgreSQL: the parts still written for sqlite-utils say so."""

    def __getattr__(self, name: str) -> Any:
        raise StoreError(
            "this part of the store runs on SQLite only so far (PostgreSQL support is in"
            " progress); use a SQLite database_url for it"
        )


class _Result:
    """A PostgreSQL cursor's rows with their values as SQLite gives them (times as
    ISO-8601 text): what ``_x`` returns there (on SQLite it is the sqlite3 cursor)."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self.cursor = cursor
        self.value = dialect.value
        self.rowcount = cursor.rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self.cursor.fetchone()
        return None if row is None else tuple(map(self.value, row))

    def fetchall(self) -> list[tuple[Any, ...]]:
        value = self.value
        return [tuple(map(value, row)) for row in self.cursor.fetchall()]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())

    @property
    def description(self) -> Any:
        return self.cursor.description


class StoreBase:
    """An open trendwatch database; the parts of the store add the queries."""

    path: Path | None  # the SQLite file (None on PostgreSQL)
    database: Path | str  # what was opened: the SQLite file or the PostgreSQL URL
    db: Any  # sqlite-utils' Database on SQLite, for the parts not yet ported

    def __init__(self, path: str | Path) -> None:
        if is_postgresql(path):
            self.dialect: Dialect = POSTGRESQL
            self.path = None
            self.database = str(path)
            self.location = shown_url(str(path))
            self.engine, self.conn = self._connect(str(path))
            self.db = _NotPorted()
        else:
            self.dialect = SQLITE
            self.path = self.database = Path(path)
            self.location = str(self.path)
            # The database holds every subscriber's address: a new one is created 0600
            # in a new 0700 folder, and SQLite gives its -wal and -shm files its mode.
            make_private_dir(self.path.parent)
            create_private_file(self.path)
            # autocommit in the driver: the store's transaction() says BEGIN and COMMIT
            conn = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            self.engine, self.conn = open_engine(None, sqlite_connection=conn)
        # statements go to the driver's connection that SQLAlchemy's holds (see dialect)
        self._dbapi: Any = self.conn.connection.dbapi_connection
        try:
            if self.dialect is SQLITE:
                self._configure()
                self._migrate()
            else:
                self._migrate_postgresql()
        except BaseException:
            self.close()
            raise

    def _connect(self, url: str) -> tuple[Any, Any]:
        """The engine and connection of PostgreSQL at ``url``; StoreError (without the
        password) when the server cannot be reached or refuses the login."""
        try:
            return open_engine(url)
        except sqlalchemy.exc.OperationalError as exc:
            from pipeline.store.move import safe_message

            cause = exc.orig if exc.orig is not None else exc
            raise StoreUnreachable(
                f"cannot connect to {self.location}: {safe_message(cause, url)}"
            ) from None

    # lifecycle
    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()
        if self.dialect is SQLITE:
            self.db.close()

    # --- statements ----------------------------------------------------------------

    def _x(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """Run one statement; its cursor (rows as tuples, ``rowcount``)."""
        if self.dialect is SQLITE:
            return self._dbapi.execute(sql, params)
        cursor = self._dbapi.cursor()
        cursor.execute(self.dialect.sql(sql), params)
        return _Result(cursor, self.dialect)

    def _many(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> None:
        """Run one statement for each of ``rows`` (executemany)."""
        if self.dialect is SQLITE:
            self._dbapi.executemany(sql, rows)
            return
        rows = list(rows)
        if rows:
            self._dbapi.cursor().executemany(self.dialect.sql(sql), rows)

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict]:
        return list(self._iter_rows(sql, params))

    def _iter_rows(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> Iterator[dict]:
        """:meth:`_rows` one at a time, as the cursor gives them (a caller that keeps
        little of each holds no list of them all); the connection runs nothing else
        until the last is taken."""
        cursor = self._x(sql, params)
        names = [d[0] for d in cursor.description]
        for row in cursor:  # SQLite's cursor fetches as it goes; PostgreSQL's has them all
            yield dict(zip(names, row, strict=True))

    def _one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> dict | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; nested, a savepoint inside it (as sqlite-utils' atomic())."""
        if in_transaction(self.dialect, self._dbapi):
            savepoint = f"tw_{secrets.token_hex(8)}"
            self._x(f"SAVEPOINT {savepoint}")
            try:
                yield
            except BaseException:
                # an error may have ended the whole transaction, savepoints included
                if in_transaction(self.dialect, self._dbapi):
                    self._x(f"ROLLBACK TO SAVEPOINT {savepoint}")
                    self._x(f"RELEASE SAVEPOINT {savepoint}")
                raise
            else:
                self._x(f"RELEASE SAVEPOINT {savepoint}")
            return
        self._x(self.dialect.BEGIN)
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self._x(self._commit_statement())
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        if in_transaction(self.dialect, self._dbapi):
            self._x("ROLLBACK")

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

    def _migrate_postgresql(self) -> None:
        """The same migrations on PostgreSQL, all in one transaction (DDL is
        transactional there) under an advisory lock, so that processes opening one
        database at once migrate it once; the version is in ``trendwatch_schema``."""
        with self.transaction():
            self._x("SELECT pg_advisory_xact_lock(?)", [APPLICATION_ID])
            marked = self._x("SELECT to_regclass('trendwatch_schema')").fetchone()[0]
            if marked is None:
                tables = self._x(
                    "SELECT count(*) FROM information_schema.tables"
                    " WHERE table_schema = current_schema()"
                ).fetchone()[0]
                if tables:
                    raise StoreError(
                        f"{self.location} holds tables but is not a trendwatch database"
                    )
                self._x(
                    "CREATE TABLE trendwatch_schema (application_id BIGINT NOT NULL,"
                    " version INTEGER NOT NULL)"
                )
                self._x(
                    "INSERT INTO trendwatch_schema (application_id, version) VALUES (?, 0)",
                    [APPLICATION_ID],
                )
            app_id, version = self._x(
                "SELECT application_id, version FROM trendwatch_schema"
            ).fetchone()
            if app_id != APPLICATION_ID:
                raise StoreError(f"{self.location} is not a trendwatch database")
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.location} has schema version {version}; this trendwatch knows up"
                    f" to {SCHEMA_VERSION}. Upgrade trendwatch."
                )
            target = PostgresMigration(self._dbapi, self.dialect)
            for number in range(version + 1, SCHEMA_VERSION + 1):
                _, migrate = MIGRATIONS[number - 1]
                migrate(target)
                self._x("UPDATE trendwatch_schema SET version = ?", [number])
            self._apply_queue_schema()
            self._apply_change_counter()

    def _apply_change_counter(self) -> None:
        """The change counter of the web's page cache (PostgreSQL; :mod:`.changes`)."""

    def _commit_statement(self) -> str:
        """What ends a transaction: ``COMMIT`` (:mod:`.changes` puts the bump of its
        counter before it, in the same round trip)."""
        return "COMMIT"

    def _apply_queue_schema(self) -> bool:
        """The work queue's tables beside the store's (PostgreSQL; :mod:`.queue`)."""
        return False

    @property
    def schema_version(self) -> int:
        if self.dialect is SQLITE:
            return int(self.db.execute("PRAGMA user_version").fetchone()[0])
        return int(self._x("SELECT version FROM trendwatch_schema").fetchone()[0])

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
        fsync_dir(target.parent)
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
