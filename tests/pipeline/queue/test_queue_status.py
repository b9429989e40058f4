"""``trendwatch status`` on PostgreSQL shows the work queue: each queue's jobs waiting,
running, stalled (held by a worker that stopped sending heartbeats) and failed, and
each worker's last heartbeat. SQLite has no queue and shows none."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from procrastinate.jobs import Status

from pipeline.cli.status import queue_lines
from pipeline.queue.app import make_app
from pipeline.store import Store
from postgres_support import query
from tests_support import trendwatch

BEAT = r"worker (?P<id>\d+): last heartbeat (?P<ago>\d+) s ago, 1 job"


def jobs_in_every_state(url: str) -> tuple[int, int]:
    """Four fetch jobs: one waiting, one running by a live worker, one held by a dead
    worker (stalled), one failed; the two workers' ids (live, dead)."""

    async def run() -> tuple[int, int]:
        app = make_app(url)
        async with app.open_async():
            fetch = app.tasks["crawl.fetch_source"]
            for name in "ABCD":
                await fetch.defer_async(name=name, deferred_at="2026-03-02T09:00:00+00:00")
            manager = app.job_manager
            live = await manager.register_worker()
            dead = await manager.register_worker()
            await manager.fetch_job(["crawl"], live)  # A runs
            await manager.fetch_job(["crawl"], dead)  # B is stalled
            failed = await manager.fetch_job(["crawl"], live)  # C failed
            assert failed is not None
            await manager.finish_job(failed, status=Status.FAILED, delete_job=False)
            return live, dead

    live, dead = asyncio.run(run())
    with Store(url) as store:
        query(
            store,
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
            " WHERE id = ?",
            [dead],
        )
    return live, dead


def test_status_shows_the_queue_and_the_workers(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    (tmp_path / "trendwatch.toml").write_text('data_dir = "data"\n', encoding="utf-8")
    with Store(postgres_url):
        pass
    live, dead = jobs_in_every_state(postgres_url)

    shown = trendwatch("--config", "trendwatch.toml", "status", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Queue crawl: 1 waiting, 1 running, 1 stalled, 1 failed" in shown.stdout
    assert "Workers: 2" in shown.stdout
    ages = {
        int(m["id"]): int(m["ago"])
        for m in re.finditer(
            r"worker (?P<id>\d+): last heartbeat (?P<ago>\d+) s ago, 1 job", shown.stdout
        )
    }
    assert set(ages) == {live, dead}
    assert ages[dead] >= 3600 > ages[live]  # the dead one stopped an hour ago

    data = json.loads(
        trendwatch("--config", "trendwatch.toml", "status", "--json", cwd=tmp_path).stdout
    )
    assert data["queue"]["queues"] == [
        {"queue": "crawl", "waiting": 1, "running": 1, "stalled": 1, "failed": 1}
    ]
    assert [w["id"] for w in data["queue"]["workers"]] == [live, dead]


def test_sqlite_status_has_no_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRENDWATCH_DATABASE_URL", raising=False)
    (tmp_path / "trendwatch.toml").write_text('data_dir = "data"\n', encoding="utf-8")
    shown = trendwatch("--config", "trendwatch.toml", "status", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Queue" not in shown.stdout and "Workers" not in shown.stdout
    data = json.loads(
        trendwatch("--config", "trendwatch.toml", "status", "--json", cwd=tmp_path).stdout
    )
    assert data["queue"] is None


def test_queue_lines_without_jobs_or_workers() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert queue_lines({"queues": [], "workers": []}, now) == [
        "Queue: no jobs",
        "Workers: none (start one with: trendwatch worker)",
    ]
    beat = {"id": 7, "last_heartbeat": "2026-03-02T08:59:50+00:00", "running": 2}
    assert queue_lines({"queues": [], "workers": [beat]}, now)[1:] == [
        "Workers: 1",
        "  worker 7: last heartbeat 10 s ago, 2 jobs",
    ]


def test_a_heartbeats_age_is_the_databases_when_it_gives_one() -> None:
    """The database stamps heartbeats with its own clock; a machine whose clock is off
    must still show the age the database measured, not its own difference."""
    machine_clock_a_year_ahead = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    beat = {
        "id": 7,
        "last_heartbeat": "2026-03-02T08:00:00+00:00",
        "seconds_since_heartbeat": 3600.4,
        "running": 0,
    }
    lines = queue_lines({"queues": [], "workers": [beat]}, machine_clock_a_year_ahead)
    assert lines[-1] == "  worker 7: last heartbeat 3600 s ago, 0 jobs"


def test_a_late_worker_that_holds_its_liveness_lock_is_shown_alive() -> None:
    """A loaded worker's heartbeats come late, but its process holds its liveness lock:
    its jobs are not recovered, and status says why instead of leaving the reader to
    take it for dead."""
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    late = {"id": 7, "last_heartbeat": None, "seconds_since_heartbeat": 95.0, "running": 1}
    assert queue_lines({"queues": [], "workers": [{**late, "alive": True}]}, now)[-1] == (
        "  worker 7: last heartbeat 95 s ago, 1 job"
        " (late, but its process holds its liveness lock: alive)"
    )
    assert queue_lines({"queues": [], "workers": [{**late, "alive": False}]}, now)[-1] == (
        "  worker 7: last heartbeat 95 s ago, 1 job"
    )
