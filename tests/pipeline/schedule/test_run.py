"""``trendwatch run`` as a user runs it: a child process with short intervals against a
local HTTP server and a local SMTP server (aiosmtpd), stopped with real signals.

Under libfaketime (``faketime -f +365d pytest``) the child inherits LD_PRELOAD and its
timed waits never time out (see test_scheduler_jobs.py): a test that needs the
scheduler to wake by itself (the next crawl cycle, --watch-config) fails at any offset.
``TW_TEST_CLOCK_OFFSET_DAYS=365`` moves the clock of this process and the child instead.
"""

from __future__ import annotations

import email
import email.policy
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from smtp_support import Received
from tests_support import child_env

RSS = "application/rss+xml; charset=utf-8"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The one wall-clock bound in these tests, because it is itself the promise to users:
# `trendwatch run` exits within 10 s of SIGTERM. Nothing else here is timed.
STOP_LIMIT = 10.0


# --- a local site and the child process ------------------------------------------------


def rss(prefix: str, n: int) -> bytes:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{prefix} {i}: thuiswerken blijft populair bij werkgevers</title>"
        f"<link>https://news.test/{prefix}/{i}</link><guid>{prefix}-{i}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(hours=i + 1))}</pubDate>"
        f"<description>Werkgevers zien dat thuiswerken blijft. Artikel {i} van {prefix}"
        " over hybride werken en de gevolgen voor teams.</description></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{prefix}</title><link>https://news.test/</link>{items}</channel></rss>"
    ).encode()


def feed(server: HTTPServer, path: str, body: bytes) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(body, content_type=RSS, headers={"ETag": '"v1"'})

    server.expect_request(path).respond_with_handler(handler)


@pytest.fixture
def site(threaded_server: HTTPServer) -> Iterator[HTTPServer]:
    threaded_server.clear()
    threaded_server.no_handler_status_code = 404
    yield threaded_server
    threaded_server.clear()


def write_config(directory: Path, body: str) -> Path:
    path = directory / "trendwatch.toml"
    path.write_text(body, encoding="utf-8")
    return path


def moment(delta: timedelta) -> str:
    """A ``digest`` value (UTC) for now + delta, to the minute."""
    at = datetime.now(UTC) + delta
    return f"{WEEKDAYS[at.weekday()]} {at:%H:%M}"


def config_text(
    server: HTTPServer,
    *,
    feeds: tuple[str, ...] = ("/a.xml", "/b.xml"),
    digest: str,
    smtp_port: int | None = None,
    subscribers: tuple[str, ...] = ("anne@example.nl",),
    send_empty: bool = False,
) -> str:
    text = f"""data_dir = "data"
allow_private_networks = true
[schedule]
timezone = "UTC"
crawl_every = "2s"
digest = "{digest}"
[crawl]
per_host_delay = 0
[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = 'thuiswerken OR "hybride werken"'
"""
    if smtp_port is not None:
        text += f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\ntimeout = 30\n'
        text += 'from = "Trendwatch <digest@example.nl>"\n'
    else:  # mail goes to the outbox
        text = 'from = "Trendwatch <digest@example.nl>"\n' + text
    for path in feeds:
        name = path.strip("/").removesuffix(".xml")
        text += (
            f'[[sources]]\nname = "{name}"\nurl = "{server.url_for(path)}"\nlanguage = "nl"\n'
            'min_interval = "1s"\nmax_interval = "2s"\n'
        )
    for address in subscribers:
        text += (
            f'[[subscribers]]\nemail = "{address}"\nname = "Lezer"\nlanguage = "nl"\n'
            f'watchlists = ["thuiswerken"]\nsend_empty = {str(send_empty).lower()}\n'
        )
    return text


def _env() -> dict[str, str]:
    env = child_env(NO_COLOR="1", COLUMNS="200")
    env.pop("TRENDWATCH_CONFIG", None)
    return env


class Run:
    """One ``trendwatch run`` child process and its log file."""

    def __init__(self, config: Path, log: Path, *extra: str) -> None:
        self.log = log
        self.errors = log.with_suffix(".stderr")
        self.errors_file = self.errors.open("w")
        self.child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline",
                "--config",
                str(config),
                "run",
                "--log-file",
                str(log),
                *extra,
            ],
            cwd=config.parent,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=self.errors_file,
        )
        self.errors_file.close()  # the child has its own copy

    def text(self) -> str:
        return self.log.read_text("utf-8") if self.log.exists() else ""

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.child.poll() is not None:
                err = self.errors.read_text()
                pytest.fail(
                    f"run exited {self.child.returncode} before {what}:\n{err}\n{self.text()}"
                )
            if time.monotonic() > deadline:
                self.child.kill()
                pytest.fail(f"run never got to {what}:\n{self.text()}")
            time.sleep(0.05)

    def wait_for_log(self, needle: str, timeout: float = 60, after: int = 0) -> None:
        self.wait_for(lambda: needle in self.text()[after:], repr(needle), timeout)

    def stop(
        self, sig: int = signal.SIGTERM, meanwhile: Callable[[], None] | None = None
    ) -> tuple[int, float]:
        """Send ``sig`` (then call ``meanwhile``); returns (exit status, seconds it took
        to exit), the seconds for the SIGTERM promise (STOP_LIMIT)."""
        started = time.monotonic()
        self.child.send_signal(sig)
        if meanwhile is not None:
            meanwhile()
        try:
            code = self.child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.child.kill()
            pytest.fail(f"run did not exit within 30 s of {sig}:\n{self.text()}")
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for r in started:
        r.kill()


def stop_and_start_again(run: Run, config: Path, log: Path, runs: list[Run], ready: str) -> None:
    """``run``, still going, stops cleanly; its lock went with it: a new run with
    ``config`` starts (its log says ``ready``) and stops cleanly too."""
    assert run.child.poll() is None
    assert run.stop()[0] == 0
    after = Run(config, log)
    runs.append(after)
    after.wait_for_log(ready)
    assert after.stop()[0] == 0


def query(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def count(db: Path, sql: str) -> int:
    """A count while the run may still be creating the database (-1: not there yet)."""
    if not db.exists():
        return -1
    try:
        return int(query(db, sql)[0][0])
    except sqlite3.OperationalError:
        return -1


def integrity(db: Path) -> str:
    return query(db, "PRAGMA integrity_check")[0][0]


def message_ids(received: list[Received]) -> Counter:
    """(recipient, Message-ID) pairs of what the SMTP server accepted."""
    out: Counter = Counter()
    for r in received:
        msg = email.message_from_bytes(r.content, policy=email.policy.default)
        for rcpt in r.rcpt_tos:
            out[(rcpt, msg["Message-ID"])] += 1
    return out


# --- the whole loop: crawl, process, digest, once -----------------------------------------


def start_the_loop(
    site: HTTPServer, smtp_port: int, folder: Path, runs: list[Run]
) -> tuple[Run, Path]:
    """A run of two feeds (7 articles about working from home), its digest days away,
    mailing to ``smtp_port``, started in ``folder``; the run and its config."""
    feed(site, "/a.xml", rss("a", 4))
    feed(site, "/b.xml", rss("b", 3))
    far = moment(timedelta(days=3))  # not due during the test
    config = write_config(folder, config_text(site, digest=far, smtp_port=smtp_port))
    run = Run(config, folder / "run.log")
    runs.append(run)
    return run, config


def test_articles_arrive_and_the_digest_is_sent_once_across_reload_and_restart(
    site: HTTPServer, smtpd, tmp_path: Path, runs: list[Run]
) -> None:
    recorder, port = smtpd
    run, config = start_the_loop(site, port, tmp_path, runs)
    db = tmp_path / "data" / "trendwatch.db"
    run.wait_for(
        lambda: count(db, "SELECT count(*) FROM articles WHERE processed_at IS NOT NULL") == 7,
        "seven processed articles",
    )
    run.wait_for_log("crawl: 2 sources polled, 0 new articles")  # a revalidating cycle
    assert recorder.received == []  # the digest is days away

    # the digest moment moves to a minute ago: SIGHUP makes it due within the grace
    config.write_text(config_text(site, digest=moment(timedelta(minutes=-1)), smtp_port=port))
    mark = len(run.text())
    run.child.send_signal(signal.SIGHUP)
    run.wait_for_log("config: reloaded", after=mark)
    run.wait_for(lambda: len(recorder.received) >= 1, "the digest")
    run.wait_for_log("crawl: 2 sources polled", after=len(run.text()))  # it keeps going
    code, seconds = run.stop()
    assert code == 0 and seconds < STOP_LIMIT  # the promise to users

    msg = email.message_from_bytes(recorder.received[0].content, policy=email.policy.default)
    assert recorder.received[0].rcpt_tos == ["anne@example.nl"]
    html = msg.get_body(("html",)).get_content()
    assert "thuiswerken blijft populair" in html
    assert query(db, "SELECT status, count(*) FROM deliveries GROUP BY status") == [("sent", 1)]

    # a restart (still within the grace period) neither repeats nor forgets
    again = Run(config, tmp_path / "run2.log")
    runs.append(again)
    again.wait_for_log("crawl: 2 sources polled")
    again.wait_for_log("crawl: 2 sources polled", after=len(again.text()))
    code, _ = again.stop()
    assert code == 0
    assert len(recorder.received) == 1
    assert integrity(db) == "ok"


# --- SIGTERM mid-send and mid-crawl -------------------------------------------------


class HoldingRecorder:
    """aiosmtpd handler that accepts every message at once, except message ``hold``: it
    is held in flight (DATA sent, no reply yet) until ``release`` is set."""

    def __init__(self, hold: int) -> None:
        self.hold = hold
        self.data_seen = 0
        self.received: list[Received] = []
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.data_seen += 1
        if self.data_seen == self.hold:
            self.holding.set()
            deadline = time.monotonic() + 60  # only against a hang
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        self.received.append(
            Received(session.peer, envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def holding_smtpd() -> Iterator[tuple[HoldingRecorder, int]]:
    from aiosmtpd.controller import Controller

    from smtp_support import free_port

    recorder = HoldingRecorder(hold=2)
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        recorder.release.set()
        controller.stop()


def test_sigterm_mid_send_finishes_the_message_and_the_restart_sends_the_rest_once(
    site: HTTPServer, holding_smtpd, tmp_path: Path, runs: list[Run]
) -> None:
    recorder, port = holding_smtpd
    feed(site, "/a.xml", rss("a", 2))
    readers = tuple(f"lezer{i}@example.nl" for i in range(5))
    config = write_config(
        tmp_path,
        config_text(
            site,
            feeds=("/a.xml",),
            digest=moment(timedelta(minutes=-1)),  # due now: sent on start
            smtp_port=port,
            subscribers=readers,
            send_empty=True,
        ),
    )
    db = tmp_path / "data" / "trendwatch.db"
    run = Run(config, tmp_path / "run.log")
    runs.append(run)
    run.wait_for(recorder.holding.is_set, "the second message in flight")

    def finish_the_message_in_flight() -> None:
        # the SIGTERM has arrived while message 2 is in flight; now the server answers
        run.wait_for_log("run: SIGTERM received; stopping")
        recorder.release.set()

    code, seconds = run.stop(meanwhile=finish_the_message_in_flight)
    assert code == 0 and seconds < STOP_LIMIT  # the promise to users
    assert "delivery: stopping" in run.text()
    assert len(recorder.received) == 2  # the first, and the one in flight at the SIGTERM
    statuses = dict(query(db, "SELECT status, count(*) FROM deliveries GROUP BY status"))
    assert "sending" not in statuses  # the message in flight was finished, not left half
    assert statuses.get("sent") == 2
    assert integrity(db) == "ok"

    again = Run(config, tmp_path / "run2.log")
    runs.append(again)
    again.wait_for(lambda: len(recorder.received) == len(readers), "the other messages")
    again.wait_for_log("digest: 3 sent, 0 failed")  # the run's digest job is over
    code, _ = again.stop()
    assert code == 0
    got = message_ids(recorder.received)
    assert sorted(rcpt for rcpt, _ in got) == sorted(readers)  # everyone, once
    assert set(got.values()) == {1}
    assert query(db, "SELECT status, count(*) FROM deliveries GROUP BY status") == [
        ("sent", len(readers))
    ]


def test_sigterm_mid_crawl_abandons_the_fetch_and_the_restart_finishes_it(
    site: HTTPServer, tmp_path: Path, runs: list[Run]
) -> None:
    release = threading.Event()
    feed(site, "/a.xml", rss("a", 3))

    asked = threading.Event()

    def slow(request: Request) -> Response:
        asked.set()
        release.wait(60)  # hangs until the test lets go (the 60 s only guard a hang)
        return Response(rss("slow", 2), content_type=RSS)

    site.expect_request("/slow.xml").respond_with_handler(slow)
    config = write_config(
        tmp_path,
        config_text(site, feeds=("/a.xml", "/slow.xml"), digest=moment(timedelta(days=3))),
    )
    db = tmp_path / "data" / "trendwatch.db"
    run = Run(config, tmp_path / "run.log")
    runs.append(run)
    run.wait_for(
        lambda: count(db, "SELECT count(*) FROM sources WHERE last_success IS NOT NULL") == 1,
        "the fast feed stored",
    )
    run.wait_for(asked.is_set, "the slow fetch in flight")
    code, seconds = run.stop()
    release.set()
    assert code == 0 and seconds < STOP_LIMIT  # the promise to users
    assert integrity(db) == "ok"
    rows = dict(query(db, "SELECT name, last_success FROM sources"))
    assert rows["a"] is not None and rows["slow"] is None  # abandoned, nothing half-stored
    assert query(db, "SELECT count(*) FROM articles")[0][0] == 3

    again = Run(config, tmp_path / "run2.log")
    runs.append(again)
    again.wait_for(
        lambda: count(db, "SELECT count(*) FROM articles WHERE processed_at IS NOT NULL") == 5,
        "the slow feed's articles processed",
    )
    code, _ = again.stop()
    assert code == 0
    guids = [g for (g,) in query(db, "SELECT guid FROM articles")]
    assert len(guids) == len(set(guids)) == 5


# --- config reloads and the lock ----------------------------------------------------


def test_sighup_with_a_broken_config_keeps_the_old_one_running(
    site: HTTPServer, tmp_path: Path, runs: list[Run]
) -> None:
    feed(site, "/a.xml", rss("a", 2))
    feed(site, "/b.xml", rss("b", 2))
    text = config_text(site, feeds=("/a.xml",), digest=moment(timedelta(days=3)))
    config = write_config(tmp_path, text)
    run = Run(config, tmp_path / "run.log")
    runs.append(run)
    run.wait_for_log("crawl: 1 sources polled")

    config.write_text(text + "[[sources]]\nname = 'b'\nurl = 'not a url'\nlanguage = 'nl'\n")
    mark = len(run.text())
    run.child.send_signal(signal.SIGHUP)
    run.wait_for_log("still running the old config", after=mark)
    run.wait_for_log("sources[1].url", after=mark)  # the problem is named, on the next line
    run.wait_for_log("crawl: 1 sources polled", after=len(run.text()))  # still crawling
    assert run.child.poll() is None

    # a valid config with a second source is taken up
    config.write_text(
        config_text(site, feeds=("/a.xml", "/b.xml"), digest=moment(timedelta(days=3)))
    )
    mark = len(run.text())
    run.child.send_signal(signal.SIGHUP)
    run.wait_for_log("config: reloaded", after=mark)
    run.wait_for_log("source 'b': 2 entries, 2 new", after=mark)
    code, _ = run.stop(signal.SIGINT)
    assert code == 0


def test_watch_config_reloads_a_changed_file(
    site: HTTPServer, tmp_path: Path, runs: list[Run]
) -> None:
    feed(site, "/a.xml", rss("a", 1))
    feed(site, "/b.xml", rss("b", 1))
    config = write_config(
        tmp_path, config_text(site, feeds=("/a.xml",), digest=moment(timedelta(days=3)))
    )
    run = Run(config, tmp_path / "run.log", "--watch-config")
    runs.append(run)
    run.wait_for_log("crawl: 1 sources polled")
    # a second source: the file's size changes, whatever the resolution of its mtime
    config.write_text(
        config_text(site, feeds=("/a.xml", "/b.xml"), digest=moment(timedelta(days=3)))
    )
    run.wait_for_log("config: reloaded")
    run.wait_for_log("source 'b': 1 entries, 1 new")
    assert run.stop()[0] == 0


def test_a_second_run_is_refused_and_one_off_commands_still_work(
    site: HTTPServer, tmp_path: Path, runs: list[Run]
) -> None:
    feed(site, "/a.xml", rss("a", 2))
    config = write_config(
        tmp_path, config_text(site, feeds=("/a.xml",), digest=moment(timedelta(days=3)))
    )
    run = Run(config, tmp_path / "run.log")
    runs.append(run)
    run.wait_for_log("crawl: 1 sources polled")

    second = subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(config), "run"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2
    assert f"pid {run.child.pid}" in second.stderr
    assert "run.lock" in second.stderr

    for args in (("crawl", "--all"), ("process",), ("digest", "--due"), ("status", "--json")):
        one_off = subprocess.run(
            [sys.executable, "-m", "pipeline", "--config", str(config), *args],
            cwd=tmp_path,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert one_off.returncode == 0, (args, one_off.stderr)
        if args[0] == "status":
            assert f"pid {run.child.pid}" in one_off.stdout  # status names the scheduler
    stop_and_start_again(run, config, tmp_path / "run2.log", runs, "run: started")
