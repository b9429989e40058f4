"""What migrate-db decides (pipeline.store.move): every table of today's schema is
moved, a newer schema's unknown table stops it, a row changes only where PostgreSQL
keeps it differently, and an error's text never carries the password."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipeline.store import Store
from pipeline.store.move import (
    SEARCH,
    TABLES,
    TableCount,
    mismatches,
    safe_message,
    target_columns,
    target_row,
    unknown_tables,
)


def test_every_table_of_the_schema_is_moved(tmp_path: Path) -> None:
    Store(tmp_path / "tw.db").close()
    conn = sqlite3.connect(tmp_path / "tw.db")
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    conn.close()
    assert unknown_tables(tables) == []
    assert set(tables) - {t for t in tables if t.startswith(f"{SEARCH}_")} == {*TABLES, SEARCH}


def test_a_table_it_does_not_know_stops_the_move() -> None:
    assert unknown_tables([*TABLES, SEARCH, f"{SEARCH}_data", "queue_jobs"]) == ["queue_jobs"]


def test_links_wait_and_state_keeps_bytes_apart() -> None:
    columns = ["id", "title", "story_id", "duplicate_of"]
    assert target_row("articles", columns, [3, "t", 9, 1]) == [3, "t", None, None]
    assert target_row("stories", ["id", "representative_id"], [9, 3]) == [9, 3]
    assert target_columns("state", ["key", "value"]) == ["key", "value", "value_bytes"]
    assert target_row("state", ["key", "value"], ["clusterer", b"\x00\x01"]) == [
        "clusterer",
        None,
        b"\x00\x01",
    ]
    assert target_row("state", ["key", "value"], ["k", "tekst"]) == ["k", "tekst", None]


def test_counts_that_differ_are_named() -> None:
    counts = [TableCount("articles", 20, 20), TableCount("matches", 5, 4)]
    assert mismatches(counts) == [TableCount("matches", 5, 4)]


def test_an_error_never_repeats_the_password() -> None:
    url = "postgresql://tw:p%40ss@db.test/tw"
    error = RuntimeError('password authentication failed for user "tw" (p@ss)')
    assert safe_message(error, url) == 'password authentication failed for user "tw" (***)'
    assert safe_message(RuntimeError("p%40ss"), url) == "***"
    assert safe_message(RuntimeError("x"), "postgresql://db.test/tw") == "x"
