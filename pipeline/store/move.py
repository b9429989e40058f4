"""Moving a SQLite database into an empty PostgreSQL one (``trendwatch migrate-db``).

Every table is copied with its ids (:data:`TABLES`, in an order the foreign keys
accept): the articles' links to stories and to the article they duplicate
(:data:`LINKS`) are set once the stories exist; the ``state`` table's values go to
``value`` or ``value_bytes`` as PostgreSQL keeps them; the search index is built the
PostgreSQL way (a ``tsvector`` under the article's language) from what SQLite's FTS5
table holds. The rows go in batches through ``COPY``, all in ONE transaction that also
creates the schema: a failure anywhere (a row the target rejects, a lost connection,
counts that differ) rolls everything back and leaves the target as empty as it was.
The source is read in one read transaction (a consistent snapshot) and never written.

Then every identity sequence is set past the largest copied id, and the rows of each
table are counted on both sides before the commit (:class:`TableCount`).

The decisions (what to copy, in which order, how a row changes on the way, whether the
counts agree) are pure functions; :func:`move_database` does the I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline.settings.database import shown_url
from pipeline.store.connection import StoreBase, StoreError, StoreUnreachable
from pipeline.store.dialect import POSTGRESQL, is_postgresql

# Every table of the schema but the search index, in an order the foreign keys accept.
TABLES: tuple[str, ...] = (
    "sources",
    "watchlists",
    "articles",
    "stories",
    "article_features",
    "matches",
    "trends",
    "state",
    "cluster_stories",
    "editions",
    "deliveries",
    "subscribers",
    "subscribe_requests",
)
SEARCH = "article_search"  # rebuilt on the target from SQLite's FTS5 rows
# Columns copied as NULL and set after every table is in (they point at later rows).
LINKS: dict[str, tuple[str, ...]] = {"articles": ("story_id", "duplicate_of")}
BATCH = 2000  # rows per progress step

Progress = Callable[[str, int], None]  # (table, rows just copied)


class MoveError(StoreError):
    """The database could not be moved; the target was left as it was."""


class TargetNotEmpty(MoveError):
    """The target database already holds tables."""


class TargetUnreachable(MoveError):
    """No connection to the target database (a bad host, name, user or password)."""


@dataclass(frozen=True)
class TableCount:
    """The rows of one table in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


def target_columns(table: str, columns: Sequence[str]) -> list[str]:
    """The target's columns for the source's ``columns`` of ``table``: the ``state``
    table keeps bytes apart on PostgreSQL (``value_bytes``)."""
    if table == "state":
        return ["key", "value", "value_bytes"]
    return list(columns)


def target_row(table: str, columns: Sequence[str], row: Sequence[Any]) -> list[Any]:
    """A source row as the target takes it: :data:`LINKS` columns empty (set later),
    a ``state`` value in its text or bytes column."""
    if table == "state":
        key, value = row
        return POSTGRESQL.state_params(key, value)
    later = LINKS.get(table, ())
    return [None if name in later else value for name, value in zip(columns, row, strict=True)]


def mismatches(counts: Iterable[TableCount]) -> list[TableCount]:
    """The tables whose rows did not all arrive."""
    return [c for c in counts if not c.ok]


def unknown_tables(source_tables: Iterable[str]) -> list[str]:
    """Tables in the source that the move does not know (a newer schema than this code):
    refusing beats leaving them behind."""
    known = {*TABLES, SEARCH, "watchlists"}
    return sorted(
        t for t in source_tables if t not in known and not t.startswith((f"{SEARCH}_", "sqlite_"))
    )


def safe_message(error: BaseException, url: str) -> str:
    """The text of ``error`` without the password of ``url`` (drivers may repeat it)."""
    text = str(error).strip() or type(error).__name__
    for password in _passwords(url):
        text = text.replace(password, "***")
    return text


def _passwords(url: str) -> list[str]:
    """The password of ``url`` as written and decoded (none: [])."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return sorted({password, unquote(password)}, key=len, reverse=True) if password else []


class _Target(StoreBase):
    """The PostgreSQL database moved into: opened without building its schema, which
    the move builds inside its own transaction (so a failure leaves nothing behind)."""

    def _migrate_postgresql(self) -> None:
        pass

    def build_schema(self) -> None:
        StoreBase._migrate_postgresql(self)  # a savepoint inside the move's transaction


def open_target(url: str) -> StoreBase:
    """A connection to the PostgreSQL database at ``url`` (its schema not yet built)."""
    if not is_postgresql(url):
        raise MoveError(f"{shown_url(url)} is not a postgresql:// URL")
    try:
        return _Target(url)
    except StoreUnreachable as exc:
        raise TargetUnreachable(str(exc)) from None
    except StoreError:
        raise
    except Exception as exc:  # psycopg's OperationalError and friends
        raise TargetUnreachable(
            f"cannot connect to {shown_url(url)}: {safe_message(exc, url)}"
        ) from exc


def source_counts(source: StoreBase) -> dict[str, int]:
    """The rows of every table to move (and of the search index), in :data:`TABLES`
    order, inside the source's read transaction."""
    tables = [r[0] for r in source._x("SELECT name FROM sqlite_master WHERE type = 'table'")]
    unknown = unknown_tables(tables)
    if unknown:
        raise MoveError(
            f"{source.location} holds tables this trendwatch does not know how to move:"
            f" {', '.join(unknown)}"
        )
    return {t: source._x(f"SELECT count(*) FROM {t}").fetchone()[0] for t in (*TABLES, SEARCH)}


def move_database(
    source: StoreBase, target: StoreBase, *, progress: Progress | None = None, batch: int = BATCH
) -> list[TableCount]:
    """Copy every row of ``source`` (SQLite) into ``target`` (an empty PostgreSQL
    database opened by :func:`open_target`) in one transaction; the counts per table.
    Raises :class:`TargetNotEmpty` when the target holds tables, :class:`MoveError`
    when the counts differ; on any failure the target is rolled back to empty."""
    step = progress or (lambda table, n: None)
    source._x("BEGIN")  # one snapshot of the source: a read transaction, never written
    try:
        counts = source_counts(source)
        with target.transaction():
            target._x("SELECT pg_advisory_xact_lock(?)", [0x54574D44])  # "TWMD"
            tables = target._x(
                "SELECT count(*) FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            ).fetchone()[0]
            if tables:
                raise TargetNotEmpty(
                    f"{target.location} is not empty (it holds {tables} tables); migrate-db"
                    " copies into an empty database only"
                )
            target.build_schema()  # type: ignore[attr-defined]
            for table in TABLES:
                _copy_table(source, target, table, batch, step)
            _set_links(source, target, batch)
            _copy_search(source, target, batch, step)
            _advance_identities(target)
            result = [
                TableCount(t, counts[t], target._x(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in (*TABLES, SEARCH)
            ]
            wrong = mismatches(result)
            if wrong:
                raise MoveError(
                    "the counts differ after the copy, nothing was kept: "
                    + ", ".join(f"{c.table} {c.source} → {c.target}" for c in wrong)
                )
        return result
    finally:
        source._x("ROLLBACK")


def _columns(source: StoreBase, table: str) -> list[str]:
    return [r[1] for r in source._x(f"PRAGMA table_info({table})")]


def _copy_rows(
    target: StoreBase,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    batch: int,
    step: Progress,
    shown: str | None = None,
) -> None:
    """``rows`` into ``table``'s ``columns`` through one COPY, reporting every batch."""
    cursor = target._dbapi.cursor()
    done = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            done += 1
            if done == batch:
                step(shown or table, done)
                done = 0
    if done:
        step(shown or table, done)


def _copy_table(
    source: StoreBase, target: StoreBase, table: str, batch: int, step: Progress
) -> None:
    columns = _columns(source, table)
    cursor = source._x(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")
    rows = (target_row(table, columns, row) for row in cursor)
    _copy_rows(target, table, target_columns(table, columns), rows, batch, step)


def _set_links(source: StoreBase, target: StoreBase, batch: int) -> None:
    """The articles' :data:`LINKS`, through a temporary table and one UPDATE."""
    for table, links in LINKS.items():
        typed = ", ".join(f"{c} BIGINT" for c in links)
        target._x(f"CREATE TEMPORARY TABLE tw_links (id BIGINT, {typed}) ON COMMIT DROP")
        present = " OR ".join(f"{c} IS NOT NULL" for c in links)
        rows = source._x(f"SELECT id, {', '.join(links)} FROM {table} WHERE {present}")
        _copy_rows(target, "tw_links", ["id", *links], rows, batch, lambda t, n: None)
        target._x(
            f"UPDATE {table} AS t SET {', '.join(f'{c} = l.{c}' for c in links)}"
            " FROM tw_links AS l WHERE t.id = l.id"
        )
        target._x("DROP TABLE tw_links")


def _copy_search(source: StoreBase, target: StoreBase, batch: int, step: Progress) -> None:
    """SQLite's FTS5 rows (title, text, lemmas, tags) with the article's language: the
    target computes their ``tsvector`` under that language's configuration."""
    rows = source._x(
        f"SELECT s.rowid, s.title, s.text, s.lemmas, s.tags, f.language FROM {SEARCH} s"
        " JOIN article_features f ON f.article_id = s.rowid ORDER BY s.rowid"
    )
    columns = ["id", "title", "text", "lemmas", "tags", "language"]
    _copy_rows(target, SEARCH, columns, rows, batch, step)


def _advance_identities(target: StoreBase) -> None:
    """Every identity sequence past the largest id copied (new rows get new ids)."""
    tables = [
        r[0]
        for r in target._x(
            "SELECT table_name FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND column_name = 'id' AND is_identity = 'YES'"
        )
    ]
    for table in tables:
        target._x(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" coalesce(max(id), 0) + 1, false) FROM {table}"
        )
