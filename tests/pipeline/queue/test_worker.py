"""``trendwatch worker`` on PostgreSQL: the queue's tables come with the store's
migrations (once), a worker registers and sends heartbeats, SIGTERM stops it cleanly,
and SQLite is refused with exit status 2."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pipeline.queue.app import make_app
from pipeline.queue.decide import UnknownQueue, parse_queues
from pipeline.store import Store
from postgres_support import query
from tests_support import trendwatch
from worker_support import Worker, wait_until


def test_the_queue_tables_come_with_the_migrations_once(postgres_url: str) -> None:
    for _ in range(2):  # a second opening finds them and changes nothing
        with Store(postgres_url) as store:
            assert store.has_queue()
            assert store.queue_counts() == []
            assert store.queue_workers() == []

    async def defer() -> int:
        app = make_app(postgres_url)
        async with app.open_async():
            return await app.tasks["crawl.fetch_source"].defer_async(
                name="A", deferred_at="2026-01-01T00:00:00+00:00"
            )

    job = asyncio.run(defer())
    with Store(postgres_url) as store:
        assert query(store, "SELECT count(*) FROM procrastinate_jobs WHERE id = ?", [job]) == [(1,)]
        [counts] = store.queue_counts()
        assert (counts.queue, counts.waiting, counts.running) == ("crawl", 1, 0)


def test_sqlite_has_no_queue(tmp_path: Path) -> None:
    with Store(tmp_path / "tw.db") as store:
        assert not store.has_queue()
        assert store.queue_counts() == [] and store.queue_workers() == []


def test_the_worker_refuses_sqlite_with_status_2(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TRENDWATCH_DATABASE_URL", raising=False)
    (tmp_path / "trendwatch.toml").write_text('data_dir = "data"\n', encoding="utf-8")
    result = trendwatch("--config", "trendwatch.toml", "worker", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "needs PostgreSQL" in result.stderr and "database_url" in result.stderr


def test_an_unknown_queue_is_refused(tmp_path: Path, postgres_url: str, monkeypatch) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    (tmp_path / "trendwatch.toml").write_text('data_dir = "data"\n', encoding="utf-8")
    result = trendwatch(
        "--config", "trendwatch.toml", "worker", "--queues", "crawl,mail", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "unknown queue 'mail'" in result.stderr


def test_queue_names() -> None:
    assert parse_queues("digest, crawl,crawl") == ("crawl", "digest")
    assert parse_queues("") == ("crawl", "process", "digest")
    with pytest.raises(UnknownQueue):
        parse_queues("crawl,nope")


def test_sigterm_stops_a_worker_cleanly(tmp_path: Path, postgres_url: str) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    worker = Worker(config, tmp_path / "w.log", postgres_url, "--heartbeat", "0.5")

    def beats() -> list:
        with Store(postgres_url) as store:
            return [w.last_heartbeat for w in store.queue_workers()]

    try:
        wait_until(lambda: len(beats()) == 1, "registering", [worker])
        first = beats()
        wait_until(lambda: beats() != first, "a second heartbeat", [worker])
    finally:
        status = worker.stop()
    assert status == 0, worker.text()
    assert "Stop requested" in worker.text()
    with Store(postgres_url) as store:  # it unregistered
        assert store.queue_workers() == []


def _registered(url: str) -> bool:
    with Store(url) as store:
        return bool(store.queue_workers())


def test_the_worker_never_logs_the_databases_password(tmp_path: Path, postgres_url: str) -> None:
    """The URL's password is a secret: the worker's log names the database without it.
    (The test server trusts local logins, so any password connects.)"""
    config = tmp_path / "trendwatch.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    with_password = postgres_url.replace("postgres@", "postgres:geheim-wachtwoord@", 1)
    assert with_password != postgres_url
    worker = Worker(config, tmp_path / "w.log", with_password, "--heartbeat", "0.5")
    try:
        wait_until(
            lambda: worker.log.exists() and "worker on " in worker.text(), "its log line", [worker]
        )
        # stopped only once it is a worker (registered: its SIGTERM handler is set),
        # not while it starts, when SIGTERM ends it at once (exit -15)
        wait_until(lambda: _registered(postgres_url), "it registered", [worker])
    finally:
        status = worker.stop()
    assert status == 0, worker.text()
    assert "geheim-wachtwoord" not in worker.text()
    assert "***" in worker.text()
