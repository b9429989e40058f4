"""PostgreSQL's change counter and the web's page cache over it, and the database's run
lock: a page kept by one process is read again after another process commits a write,
never before, and never kept from a read that raced a change; one ``run`` per database."""

from __future__ import annotations

import pytest

from pipeline.store import Store
from pipeline.store.changes import SLOTS, slot_of
from pipeline.store.run_lock import RunHolder, holder_name


def _write(store: Store, key: str) -> None:
    with store.transaction():
        store._x("INSERT INTO state (key, value) VALUES (?, 'v')", [key])


def test_a_committed_write_moves_the_stamp_and_reads_and_rollbacks_do_not(
    postgres_url: str,
) -> None:
    with Store(postgres_url) as store, Store(postgres_url) as other:
        before = store.change_stamp()
        store.watchlist_stories("any")  # reads
        assert store.change_stamp() == before
        with pytest.raises(RuntimeError), other.transaction():
            other._x("INSERT INTO state (key, value) VALUES ('gone', 'v')")
            raise RuntimeError("rolled back")
        assert store.change_stamp() == before
        _write(other, "a")
        assert store.change_stamp() > before


def test_the_page_cache_holds_until_another_connection_commits(postgres_url: str) -> None:
    calls: list[int] = []

    def read() -> int:
        calls.append(1)
        return len(calls)

    with Store(postgres_url) as store, Store(postgres_url) as other:
        assert store.page_cached(("k",), read) == 1
        assert store.page_cached(("k",), read) == 1  # kept
        assert other.page_cached(("k",), read) == 1  # shared by the process's connections
        _write(other, "a")  # as another process would
        assert store.page_cached(("k",), read) == 2
        assert other.page_cached(("k",), read) == 2
        _write(store, "b")  # this connection writes
        assert other.page_cached(("k",), read) == 3


def test_a_value_read_across_a_change_is_not_kept(postgres_url: str) -> None:
    with Store(postgres_url) as store, Store(postgres_url) as other:
        store.page_cached(("k",), lambda: "before")

        def read_while_it_changes() -> str:
            _write(other, "y")
            other.page_cached(("unrelated",), lambda: "")  # notices: empties the cache
            return "stale"

        assert store.page_cached(("new",), read_while_it_changes) == "stale"
        assert other.page_cached(("new",), lambda: "fresh") == "fresh"


def test_slots_spread_connections() -> None:
    assert {slot_of(pid) for pid in range(1000, 1000 + SLOTS)} == set(range(SLOTS))


def test_one_run_lock_per_database_named_by_its_holder(postgres_url: str) -> None:
    with Store(postgres_url) as first, Store(postgres_url) as second:
        assert second.run_lock_holder() is None
        assert first.take_run_lock(holder_name(4242, "box-1"))
        assert not second.take_run_lock(holder_name(77, "box-2"))
        holder = second.run_lock_holder()
        assert holder is not None
        assert holder.describe().startswith("trendwatch run (pid 4242 on box-1, connected since")
    with Store(postgres_url) as third:  # the holder's connection closed: free again
        assert third.run_lock_holder() is None
        assert third.take_run_lock(holder_name(5, "box-3"))


def test_a_holder_without_our_name_is_still_described() -> None:
    assert RunHolder("psql", None).describe() == "another trendwatch run"
    assert len(holder_name(1, "h" * 100).encode()) <= 63
