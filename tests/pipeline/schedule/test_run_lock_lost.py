"""The one-``run``-per-database lock survives its connection being cut. The server drops
an advisory lock silently with its connection (a server restart, the network, here
``pg_terminate_backend``); ``trendwatch run`` checks it at every tick and takes it
again, and stops (status 1, with a clear log line) when another run took it meanwhile
or the database stays out of reach."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from pytest_httpserver import HTTPServer
from test_run import Run, config_text, feed, moment, rss, runs, site, write_config  # noqa: F401  (fixtures)

from pipeline.schedule.locks import DatabaseRunLock, RunLockHeld
from pipeline.store import Store
from pipeline.store.run_lock import RUN_LOCK_OBJECT
from pipeline.store.schema import APPLICATION_ID

KEY = f"l.classid::bigint = {APPLICATION_ID} AND l.objid::bigint = {RUN_LOCK_OBJECT}"
HOLDERS = f"SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND {KEY}"


def cut(url: str) -> int:
    """Terminate the connection holding the run lock (waiting until it is gone); its pid."""
    with psycopg.connect(url, autocommit=True) as conn:
        [(pid,)] = conn.execute(HOLDERS).fetchall()
        [(done,)] = conn.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchall()
    assert done
    return pid


def holder_pids(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [pid for (pid,) in conn.execute(HOLDERS).fetchall()]


def test_a_lock_whose_connection_was_cut_is_taken_again(postgres_url: str) -> None:
    Store(postgres_url).close()  # the schema
    lock = DatabaseRunLock(postgres_url)
    lock.take()
    try:
        assert lock.keep() is None  # held: nothing to do
        before = cut(postgres_url)
        assert holder_pids(postgres_url) == []
        assert lock.keep() is None
        [after] = holder_pids(postgres_url)
        assert after != before
        with pytest.raises(RunLockHeld):  # a second run is refused again
            DatabaseRunLock(postgres_url).take()
    finally:
        lock.close()
    assert holder_pids(postgres_url) == []


def test_a_run_whose_lock_another_run_took_meanwhile_must_stop(postgres_url: str) -> None:
    Store(postgres_url).close()
    lock, second = DatabaseRunLock(postgres_url), DatabaseRunLock(postgres_url)
    lock.take()
    try:
        cut(postgres_url)
        second.take()  # another run started in the gap
        why = lock.keep()
        assert why is not None and "holds it now" in why
    finally:
        lock.close()
        second.close()


def test_a_run_that_cannot_reach_the_database_to_take_it_again_stops_in_time(
    postgres_url: str,
) -> None:
    Store(postgres_url).close()
    patient, hasty = DatabaseRunLock(postgres_url), DatabaseRunLock(postgres_url, retake_for=0)
    for lock in (patient, hasty):
        lock.take()
        cut(postgres_url)
        lock.url = "postgresql://postgres@127.0.0.1:1/postgres"  # the server away
    assert patient.keep() is None  # still trying, for RETAKE_FOR seconds
    why = hasty.keep()
    assert why is not None and "could not be taken again" in why


def test_run_takes_its_lock_again_and_stops_when_another_run_took_it(
    site: HTTPServer,  # noqa: F811
    tmp_path: Path,
    runs: list[Run],  # noqa: F811
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    feed(site, "/a.xml", rss("a", 2))
    text = config_text(site, feeds=("/a.xml",), digest=moment(timedelta(days=3)))
    run = Run(write_config(tmp_path, text), tmp_path / "run.log")
    runs.append(run)
    run.wait_for_log("crawl: 1 sources polled")

    first = cut(postgres_url)  # a server restart, say
    run.wait_for_log("run lock taken again")
    run.wait_for(lambda: holder_pids(postgres_url) not in ([], [first]), "the lock held again")

    # cut again, and another run takes the lock before this one looks (the run may win
    # the race now and then: cut again until the other run holds it)
    with psycopg.connect(postgres_url, autocommit=True) as other:
        deadline = time.monotonic() + 60
        while True:
            if holder_pids(postgres_url):
                cut(postgres_url)
            [(got,)] = other.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", [APPLICATION_ID, RUN_LOCK_OBJECT]
            ).fetchall()
            if got:
                break
            assert time.monotonic() < deadline, "the test never took the lock"
        code = run.child.wait(timeout=60)
    assert code == 1, run.text()
    told = run.text()
    assert "run lock was lost, and another trendwatch run" in told, told
    assert "holds it now; stopping" in told
