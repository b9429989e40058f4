"""The digest queue with real processes: PostgreSQL, a real SMTP server (aiosmtpd) and
``trendwatch worker`` processes. Each reader gets exactly one digest, the one the
digest job (``trendwatch digest --due``) sends on the same data, also when a worker is
killed (``kill -9``) while its messages are on their way; a send that fails while the
mail server is down is tried again at its retry time, never lost and never doubled."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from digest_support import (
    READERS,
    SECRET,
    SECRET_ENV,
    GatedRecorder,
    by_reader,
    config,
    digest_jobs,
    due_moment,
    now_utc,
    seed,
)

from pipeline.digest import job as digest_job
from pipeline.queue.app import make_app
from pipeline.queue.digest import defer_due_editions
from pipeline.settings import load_settings
from pipeline.store import Store, iso
from postgres_support import query
from smtp_support import FaultyRecorder, Recorder, free_port
from tests_support import trendwatch
from worker_support import Worker, wait_until

ADDRESSES = sorted(address for address, _, _ in READERS)
WORKER_OPTIONS = ("--queues", "digest", "--concurrency", "2", "--sends", "2")
FAST = ("--heartbeat", "0.5", "--poll", "0.2")


def serve(recorder: Recorder) -> Iterator[int]:
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def gated() -> Iterator[tuple[GatedRecorder, int]]:
    recorder = GatedRecorder()
    try:
        for port in serve(recorder):
            yield recorder, port
    finally:
        recorder.gate.set()


@pytest.fixture
def faulty() -> Iterator[tuple[FaultyRecorder, int]]:
    recorder = FaultyRecorder()
    for port in serve(recorder):
        yield recorder, port


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)  # the workers inherit it


def folder(tmp_path: Path, name: str, port: int, moment: datetime) -> Path:
    """A data folder with the config; its path."""
    path = tmp_path / name
    path.mkdir()
    (path / "trendwatch.toml").write_text('data_dir = "data"\n' + config(port, moment), "utf-8")
    return path / "trendwatch.toml"


def reference(tmp_path: Path, moment: datetime, now: datetime) -> dict[str, list[dict]]:
    """What the digest job sends when due (``trendwatch digest --due``, in one process,
    on SQLite) on the same data: by reader."""
    recorder = Recorder()
    for port in serve(recorder):
        settings = load_settings(folder(tmp_path, "reference", port, moment))
        with Store(settings.database) as store:
            seed(settings, store, moment)
            report = digest_job.digest(settings, store, now=now, due=True)
        assert report.ok and len(report.sent) == len(READERS), report
    return by_reader(recorder.received)


def start_workers(config_path: Path, url: str, tmp_path: Path, n: int) -> dict[int, Worker]:
    """``n`` workers, by their id in procrastinate_workers."""
    ids: dict[int, Worker] = {}
    for i in range(n):
        worker = Worker(config_path, tmp_path / f"w{i}.log", url, *WORKER_OPTIONS, *FAST)
        wait_until(lambda i=i: len(registered(url)) == i + 1, f"worker {i} starting", [worker])
        [new] = registered(url) - set(ids)
        ids[new] = worker
    return ids


def registered(url: str) -> set[int]:
    with Store(url) as store:
        return {w.id for w in store.queue_workers()}


def defer_due(url: str, config_path: Path) -> None:
    """The periodic task's work, once more from here: what is waiting or done already
    is not deferred again."""

    async def defer() -> None:
        app = make_app(url)
        async with app.open_async():
            await defer_due_editions(app, load_settings(config_path), datetime.now(UTC))

    asyncio.run(defer())


def prepared(
    tmp_path: Path, port: int, url: str, monkeypatch: pytest.MonkeyPatch, moment: datetime
) -> Path:
    """The workers' folder on PostgreSQL at ``url``, seeded; its config."""
    config_path = folder(tmp_path, "queue", port, moment)
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", url)
    settings = load_settings(config_path)
    with Store(settings.database) as store:
        seed(settings, store, moment)
    return config_path


def test_workers_mail_each_reader_the_digest_once_and_survive_a_kill_mid_send(
    gated: tuple[GatedRecorder, int],
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    secret: None,
) -> None:
    recorder, port = gated
    moment = due_moment(now_utc())
    expected = reference(tmp_path, moment, now_utc())
    assert sorted(expected) == ADDRESSES
    config_path = prepared(tmp_path, port, postgres_url, monkeypatch, moment)

    ids = start_workers(config_path, postgres_url, tmp_path, 3)
    workers = list(ids.values())
    try:
        defer_due(postgres_url, config_path)
        # every worker has both its sends held at DATA by the server: 6 messages on
        # their way, each claimed ('sending') in the deliveries table, none stored
        wait_until(lambda: len(recorder.holding()) == 6, "six messages held", workers)
        with Store(postgres_url) as store:
            sending = query(store, "SELECT subscriber FROM deliveries WHERE status = 'sending'")
            doing = query(
                store,
                "SELECT worker_id, args->>'email' FROM procrastinate_jobs"
                " WHERE task_name = 'digest.deliver' AND status = 'doing'",
            )
        assert {s for (s,) in sending} == recorder.holding() and not recorder.received
        holder, _ = doing[0]
        victim = ids[holder]
        mine = {e for w, e in doing if w == holder}
        victim.kill()
        # the server saw the victim's connections go: its two messages were not stored
        wait_until(lambda: mine <= recorder.holding("gone"), "the victim's sends gone", [])
        recorder.gate.set()
        live = [w for w in workers if w is not victim]

        def all_sent() -> bool:
            with Store(postgres_url) as store:
                sent = query(store, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
            return sent == [(len(READERS),)] and not digest_jobs(postgres_url, "todo", "doing")

        wait_until(all_sent, "every reader's delivery sent", live, timeout=120)
    finally:
        recorder.gate.set()
        statuses = [w.stop() for w in workers if w.child.poll() is None]

    assert statuses == [0, 0]
    got = by_reader(recorder.received)
    assert sorted(got) == ADDRESSES
    assert {a: len(m) for a, m in got.items()} == {a: 1 for a in ADDRESSES}
    for address in ADDRESSES:  # the digest job's mails, header for header, part for part
        assert got[address] == expected[address], address
    assert not digest_jobs(postgres_url, "failed")
    with Store(postgres_url) as store:
        attempts = dict(query(store, "SELECT subscriber, attempts FROM deliveries"))
        assert query(store, "SELECT count(*) FROM editions") == [(3,)]
    assert {a for a, n in attempts.items() if n == 2} == mine  # the killed sends, again
    assert all(n == 1 for a, n in attempts.items() if a not in mine)
    # the live workers put the dead one's jobs back (or ended them where a twin waited)
    recovered = ("put back in its queue", "the same job waits already")
    assert any(note in w.text() for w in live for note in recovered)
    archive = config_path.parent / "data" / "archive"
    assert len(list(archive.rglob("*.html"))) >= 3  # a page per edition, and the indexes


def test_a_send_that_fails_while_the_server_is_down_is_retried_at_its_time_once(
    faulty: tuple[FaultyRecorder, int],
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    secret: None,
) -> None:
    recorder, port = faulty
    recorder.down = True  # every MAIL: the connection closed
    config_path = prepared(tmp_path, port, postgres_url, monkeypatch, due_moment(now_utc()))
    workers = list(start_workers(config_path, postgres_url, tmp_path, 2).values())

    def waiting() -> list[tuple]:
        with Store(postgres_url) as store:
            return query(
                store,
                "SELECT d.subscriber, d.attempts, d.last_error,"
                " j.scheduled_at > now() + interval '4 minutes'"
                " FROM deliveries d JOIN editions e ON e.id = d.edition_id"
                " JOIN procrastinate_jobs j ON j.args->>'email' = d.subscriber"
                " AND j.task_name = 'digest.deliver' AND j.status = 'todo'"
                " WHERE d.status = 'pending' ORDER BY d.subscriber",
            )

    try:
        defer_due(postgres_url, config_path)
        wait_until(lambda: len(waiting()) == len(READERS), "every send failed once", workers)
        # each delivery waits for its retry (5 minutes by the database's clock), tried
        # once, its job deferred for then; nothing arrived, nothing failed for good
        rows = waiting()
        assert [r[0] for r in rows] == ADDRESSES
        assert all(r[1] == 1 and r[2] and r[3] for r in rows), rows
        assert not recorder.received
        assert not digest_jobs(postgres_url, "failed", "doing")
        assert len(digest_jobs(postgres_url, "todo")) == len(READERS)
        shown = trendwatch("--config", str(config_path), "status", cwd=config_path.parent)
        assert shown.returncode == 0, shown.stderr
        waiting_line = f"Queue digest: {len(READERS)} waiting, 0 running, 0 stalled, 0 failed"
        assert waiting_line in shown.stdout  # status shows the digest queue as the others

        # the server is back and five minutes have passed (moved in the database)
        recorder.down = False
        with Store(postgres_url) as store:
            query(
                store,
                "UPDATE deliveries SET next_attempt = ?",
                [iso(now_utc() - timedelta(seconds=1))],
            )
            query(
                store,
                "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'",
            )

        def all_sent() -> bool:
            with Store(postgres_url) as store:
                sent = query(store, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
            return sent == [(len(READERS),)] and not digest_jobs(postgres_url, "todo", "doing")

        wait_until(all_sent, "every delivery sent after the outage", workers, timeout=60)
    finally:
        statuses = [w.stop() for w in workers if w.child.poll() is None]

    assert statuses == [0, 0]
    got = by_reader(recorder.received)
    assert {a: len(m) for a, m in got.items()} == {a: 1 for a in ADDRESSES}
    with Store(postgres_url) as store:
        assert query(store, "SELECT DISTINCT attempts FROM deliveries") == [(2,)]
    assert not digest_jobs(postgres_url, "failed")
