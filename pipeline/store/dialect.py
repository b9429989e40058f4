"""Where SQLite and PostgreSQL differ, in one place.

The store's SQL is written once, in SQLite's spelling (``?`` and ``:name`` parameters,
``INSERT ... ON CONFLICT``, which both accept); a :class:`Dialect` turns it into what
its database takes, once per statement (cached):

- parameters: ``?`` and ``:name`` stay for sqlite3; psycopg gets ``%s`` and
  ``%(name)s`` (a literal ``%`` doubled), quoted text and ``::`` casts left alone;
- DDL (:meth:`Dialect.ddl`): ``id INTEGER PRIMARY KEY`` is an identity column on
  PostgreSQL, integers are 64-bit (``BIGINT``), ``BLOB`` is ``BYTEA``, ``REAL`` is
  ``DOUBLE PRECISION``, and the columns that hold a time (:data:`TIME_COLUMNS`) are
  ``TIMESTAMPTZ`` instead of ISO-8601 text; text columns are ``COLLATE "C"``, so
  they compare and sort by code point as SQLite does, whatever the server's locale;
- values read (:meth:`Dialect.value`): PostgreSQL's times come back as the same
  UTC ISO-8601 text SQLite holds (``iso``), and its ``numeric`` sums as ``int``, so
  every caller sees what it saw on SQLite;
- connections (:func:`open_engine`): SQLite's file through the standard sqlite3
  driver (its PRAGMAs are the connection's, not here), PostgreSQL through psycopg 3
  in UTC; both in the driver's autocommit mode, the store issuing ``BEGIN``,
  ``SAVEPOINT`` and ``COMMIT`` itself (:meth:`StoreBase.transaction`);
- JSON kept as text: aggregating into an array (:meth:`Dialect.json_group_array`),
  the elements of an array (:meth:`Dialect.json_array_elements`) and a field of one
  (:meth:`Dialect.json_field`), objects: SQLite's JSON1 functions, PostgreSQL's;
- time arithmetic (:meth:`Dialect.days_between`), a time parameter's type where
  nothing else gives it (:meth:`Dialect.moment`), and ``max(a, b)``
  (:meth:`Dialect.greatest`);
- the ``state`` table's values, text or bytes: one column on SQLite, which keeps
  either; ``value`` or ``value_bytes`` on PostgreSQL (:meth:`Dialect.state_params`);
- the schema's version: ``PRAGMA user_version`` and ``application_id`` on SQLite, a
  one-row ``trendwatch_schema`` table on PostgreSQL.

Statements run on the DBAPI connection that SQLAlchemy's ``Connection`` holds:
SQLAlchemy's per-statement layer costs about 60 µs (``exec_driver_sql``) to 110 µs
(``text()``) against 4 µs for sqlite3 itself on this machine, too much for the web's
pages and the bulk writes, which run many small statements.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.pool import NullPool, StaticPool

from pipeline.store.values import iso

POSTGRESQL_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")

# Columns that hold a moment (UTC ISO-8601 text on SQLite, timestamptz on PostgreSQL).
TIME_COLUMNS = frozenset(
    {
        *("created", "updated", "fetched", "published", "processed_at", "analysed_at"),
        *("last_fetched", "last_success", "last_error_at", "next_poll", "url_changed_at"),
        *("disabled_at", "retry_after", "first_seen", "last_seen", "period_start"),
        *("period_end", "built_at", "next_attempt", "sent_at", "confirmed_at"),
        *("unsubscribed_at", "expires", "used_at"),
    }
)

# Outside a quoted string or identifier: a parameter, a cast, or a literal percent sign.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\?|:([A-Za-z_]\w*)|%")
_TIME_COLUMN = re.compile(r"\b(\w+) TEXT\b")


def is_postgresql(location: object) -> bool:
    """Whether ``location`` (a path or a URL) names a PostgreSQL database."""
    return isinstance(location, str) and location.startswith(POSTGRESQL_PREFIXES)


class Dialect:
    """SQLite: the SQL as written."""

    name = "sqlite"
    STATE_UPSERT = (
        "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key)"
        " DO UPDATE SET value = excluded.value"
    )
    STATE_SELECT = "SELECT value FROM state WHERE key = ?"

    def json_group_array(self, expression: str, order: str = "") -> str:
        """The JSON text of an array of ``expression`` over a group ('[]' for none), in
        ``order`` (SQLite: the order the rows come in, by the index it reads them by)."""
        return f"json_group_array({expression})"

    def json_object(self, *fields: tuple[str, str]) -> str:
        """A JSON object of ``(name, expression)`` pairs."""
        return "json_object(" + ", ".join(f"'{k}', {v}" for k, v in fields) + ")"

    def json_value(self, column: str) -> str:
        """JSON text in ``column`` as a JSON value (not a string) inside an object."""
        return f"json({column})"

    def days_between(self, later: str, earlier: str) -> str:
        """The days from ``earlier`` to ``later`` (two times), with the fraction."""
        return f"julianday({later}) - julianday({earlier})"

    def greatest(self, *expressions: str) -> str:
        """The largest of ``expressions`` (SQLite's max() of several)."""
        return f"max({', '.join(expressions)})"

    def moment(self, parameter: str) -> str:
        """A time parameter where nothing gives it its type (a ``SELECT`` list)."""
        return parameter

    def json_array_elements(self, column: str, alias: str) -> str:
        """A table of the elements of the JSON array in ``column``, one a row, as
        ``alias`` (for a ``FROM`` list; :meth:`json_field` reads them)."""
        return f"json_each({column}) {alias}"

    def json_field(self, alias: str, key: str) -> str:
        """The text of field ``key`` of the element ``alias``."""
        return f"json_extract({alias}.value, '$.{key}')"

    def state_params(self, key: str, value: str | bytes) -> list[Any]:
        """The parameters of :attr:`STATE_UPSERT` for one key."""
        return [key, value]

    def state_value(self, row: tuple[Any, ...]) -> str | bytes:
        """A value from a row of :attr:`STATE_SELECT`."""
        return row[0]

    def sql(self, statement: str) -> str:
        return statement

    def ddl(self, statement: str) -> str:
        return statement

    def value(self, value: Any) -> Any:
        return value


class PostgresDialect(Dialect):
    """PostgreSQL through psycopg 3."""

    name = "postgresql"
    STATE_UPSERT = (
        "INSERT INTO state (key, value, value_bytes) VALUES (?, ?, ?) ON CONFLICT (key)"
        " DO UPDATE SET value = excluded.value, value_bytes = excluded.value_bytes"
    )
    STATE_SELECT = "SELECT value, value_bytes FROM state WHERE key = ?"

    def json_group_array(self, expression: str, order: str = "") -> str:
        by = f" ORDER BY {order}" if order else ""
        return f"coalesce(json_agg({expression}{by}), '[]'::json)::text"

    def json_object(self, *fields: tuple[str, str]) -> str:
        return "json_build_object(" + ", ".join(f"'{k}', {v}" for k, v in fields) + ")"

    def json_value(self, column: str) -> str:
        return f"({column})::json"

    def days_between(self, later: str, earlier: str) -> str:
        return f"extract(epoch FROM ({later}) - ({earlier})) / 86400"

    def greatest(self, *expressions: str) -> str:
        return f"greatest({', '.join(expressions)})"

    def moment(self, parameter: str) -> str:
        return f"CAST({parameter} AS TIMESTAMPTZ)"

    def json_array_elements(self, column: str, alias: str) -> str:
        return f"jsonb_array_elements({column}::jsonb) AS {alias}(value)"

    def json_field(self, alias: str, key: str) -> str:
        return f"({alias}.value ->> '{key}')"

    def state_params(self, key: str, value: str | bytes) -> list[Any]:
        if isinstance(value, bytes | bytearray | memoryview):
            return [key, None, bytes(value)]
        return [key, value, None]

    def state_value(self, row: tuple[Any, ...]) -> str | bytes:
        return row[0] if row[1] is None else bytes(row[1])

    def sql(self, statement: str) -> str:
        return _pyformat(statement)

    def ddl(self, statement: str) -> str:
        statement = re.sub(
            r"\bid INTEGER PRIMARY KEY\b",
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            statement,
        )
        statement = re.sub(r"\bINTEGER\b", "BIGINT", statement)
        statement = re.sub(r"\bBLOB\b", "BYTEA", statement)
        statement = re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)
        statement = _TIME_COLUMN.sub(
            lambda m: f"{m[1]} TIMESTAMPTZ" if m[1] in TIME_COLUMNS else m[0], statement
        )
        # text compares and sorts by code point, as SQLite's BINARY, whatever the locale
        return re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', statement)

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return iso(value)
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value


SQLITE = Dialect()
POSTGRESQL = PostgresDialect()


@lru_cache(maxsize=4096)
def _pyformat(statement: str) -> str:
    """``?`` → ``%s``, ``:name`` → ``%(name)s``, ``%`` → ``%%``, outside quotes."""

    def swap(match: re.Match[str]) -> str:
        token = match[0]
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match[1]:
            return f"%({match[1]})s"
        return token  # a quoted string or identifier, or a :: cast

    return _TOKENS.sub(swap, statement)


def postgresql_url(url: str) -> str:
    """The SQLAlchemy URL of a ``postgresql://`` one: the psycopg 3 driver."""
    for prefix in POSTGRESQL_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    raise ValueError("not a PostgreSQL URL")


def open_engine(location: Any, sqlite_connection: Any = None) -> tuple[Engine, Connection]:
    """An engine and its one connection, in the driver's autocommit mode: PostgreSQL at
    the URL ``location`` (in UTC), or the given sqlite3 connection."""
    if sqlite_connection is not None:
        # The store closes the sqlite3 connection itself: the pool must never roll it
        # back or close it, which it would do from whatever thread drops an unclosed
        # store (sqlite3 refuses another thread; the web's threads each have one).
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite_connection,
            poolclass=StaticPool,
            pool_reset_on_return=None,
            isolation_level="AUTOCOMMIT",
        )
    else:
        engine = create_engine(
            postgresql_url(location),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"options": "-c timezone=UTC"},
        )
    return engine, engine.connect()


def in_transaction(dialect: Dialect, dbapi: Any) -> bool:
    """Whether the DBAPI connection is inside a transaction (also a failed one)."""
    if dialect is SQLITE:
        return bool(dbapi.in_transaction)
    return int(dbapi.info.transaction_status) != 0  # psycopg's IDLE
