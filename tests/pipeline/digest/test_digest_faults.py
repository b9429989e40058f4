"""Exactly-once delivery of the digest under faults, against a real SMTP server.

An aiosmtpd server on 127.0.0.1 (``smtp_support.FaultyRecorder``) refuses, drops the
connection or blocks on cue; the tests drive ``digest_job.digest`` (and the ``trendwatch
digest`` command as a child process where a process is killed) and then count what
arrived at the server, Message-ID by Message-ID, per recipient.

What "exactly once" means here. The deliveries table decides: a delivery that was
recorded 'sent' is never sent again, a temporary failure stays 'pending' for the next
run, a permanent one is recorded 'failed' and never retried. SMTP has one window that no
client can close: the server has the whole message but the client has not read its
"250" yet (RFC 1047). A run that dies, or a connection that drops, in that window cannot
know whether the message arrived; ``delivery._recover_interrupted`` sends it again rather
than lose it, with the same Message-ID (it depends only on edition + subscriber), so that
mail systems and readers can recognise the copy. So the guarantee the tests check is:
every subscriber receives the digest, and all copies a subscriber receives carry one
and the same Message-ID; a second copy exists only for a message that was in that
window, and nowhere else.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import select
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from mail_support import DIGEST_CONFIG

from crawlers.entries import Entry
from digests.mail import make_message_id
from pipeline.cli import status_data
from pipeline.digest import delivery
from pipeline.digest import job as digest_job
from pipeline.digest.editions import audiences, period_ending
from pipeline.digest.retry import retry_after
from pipeline.process import job as process_job
from pipeline.store import DeliveryRow, Store
from smtp_support import FaultyRecorder, free_port, message_ids_by_recipient
from tests_support import child_env

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # Thursday of ISO week 48
DOMAIN = "trendwatch.test"
SENDER = f"Trendwatch <digest@{DOMAIN}>"

# Six subscribers in two audiences, so a batch has several messages. The job delivers
# edition by edition in config order: nl1 nl2 nl3 en1 en2 en3 (see ORDER).
NL = [f"nl{i}@example.nl" for i in (1, 2, 3)]
EN = [f"en{i}@example.com" for i in (1, 2, 3)]
ORDER = [*NL, *EN]

BODY = DIGEST_CONFIG + "".join(
    f'[[subscribers]]\nemail = "{e}"\nname = "Lezer {e[:3]}"\nlanguage = "{e[:2]}"\n'
    + (
        'watchlists = ["social-media-werk", "thuiswerken"]\n'
        if e in NL
        else 'watchlists = ["thuiswerken"]\n'
    )
    for e in ORDER
)

TEMPORARY = "451 4.3.0 Try again later"


def smtp_toml(port: int) -> str:
    return f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntimeout = 10\nfrom = "{SENDER}"\n'


def outbox_toml() -> str:
    return f'from = "{SENDER}"\n'


def articles(now: datetime) -> list[Entry]:
    def entry(n: int, title: str, text: str, days: int) -> Entry:
        return Entry(
            identity=f"guid:{n}",
            title=title,
            url=f"https://hrnieuws.test.invalid/{n}",
            text=text,
            summary=text,
            published=now - timedelta(days=days),
            language="nl",
        )

    return [
        entry(
            1,
            "Werkgevers maken regels voor social media",
            "Medewerkers delen steeds vaker iets over hun werk op social media.",
            1,
        ),
        entry(2, "Thuiswerken blijft de norm", "Thuiswerken is gewoon geworden.", 2),
    ]


def seed(settings, store: Store, now: datetime = NOW) -> None:
    store.sync_sources(settings.sources, now)
    store.save_entries(store.sources()[0].id, articles(now), now)
    process_job.process(settings, store, now=now)


@pytest.fixture
def server() -> Iterator[tuple[FaultyRecorder, int]]:
    """A misbehaving SMTP server on 127.0.0.1: (its handler, port)."""
    handler = FaultyRecorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()


def delivery_keys(settings, now: datetime) -> dict[str, str]:
    """subscriber -> the delivery key (edition key + address) the job uses for it."""
    period = period_ending(now, settings.schedule.timezone)
    return {
        email_: f"{period.key(a.slug)}/{email_}"
        for a in audiences(settings.subscribers)
        for email_ in a.emails
    }


def expected_ids(settings, now: datetime) -> dict[str, str]:
    return {e: make_message_id(k, DOMAIN) for e, k in delivery_keys(settings, now).items()}


def rows_by_subscriber(store: Store) -> dict[str, DeliveryRow]:
    return {d.subscriber: d for d in store.deliveries()}


def assert_each_got_one(handler: FaultyRecorder, settings, now: datetime = NOW) -> None:
    """Every subscriber received exactly one message, with its own stable Message-ID."""
    got = message_ids_by_recipient(handler.received)
    assert got == {e: [mid] for e, mid in expected_ids(settings, now).items()}


def recipients(lines: list[str]) -> list[str]:
    """Subscribers named in report lines like 'KEY -> ADDRESS[: error]'."""
    return [line.split(" -> ")[1].split(":")[0] for line in lines]


# --- 4xx: pending, retried on the next run ---------------------------------------------


@pytest.mark.parametrize(
    ("stage", "refused"),
    [
        # the first two DATA commands of the run get 451: nl1 and nl2 stay pending
        ("DATA", NL[:2]),
        # every recipient's first RCPT gets 450: the whole first run is refused
        ("RCPT", ORDER),
        # the first MAIL FROM gets 451 (e.g. greylisting the sender): nl1 stays pending
        ("MAIL", NL[:1]),
    ],
)
def test_4xx_keeps_deliveries_pending_and_the_next_run_sends_them_once(
    make_settings, server, stage: str, refused: list[str]
) -> None:
    handler, port = server
    if stage == "DATA":
        handler.data_rule = lambda n, rcpts: TEMPORARY if n <= 2 else None
    elif stage == "RCPT":
        handler.rcpt_first_replies = {e: ["450 4.2.1 Mailbox busy, try later"] for e in ORDER}
    else:
        handler.mail_replies = [TEMPORARY]
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert recipients(first.failed) == refused
        assert recipients(first.sent) == [e for e in ORDER if e not in refused]
        rows = rows_by_subscriber(store)
        code = "450" if stage == "RCPT" else "451"
        for e in refused:
            assert rows[e].status == "pending" and rows[e].attempts == 1
            assert code in rows[e].last_error
            # retried with back-off: not before next_attempt (5 minutes after attempt 1)
            due = rows[e].next_attempt
            assert due == NOW + retry_after(1) == NOW + timedelta(minutes=5)
        # `trendwatch status` lists them as retrying, with the next attempt
        problems = [p for e in status_data(settings, store, NOW)["editions"] for p in e["problems"]]
        assert sorted(p["subscriber"] for p in problems) == sorted(refused)
        assert all(p["status"] == "retrying" and code in p["last_error"] for p in problems)
        assert {p["next_attempt"] for p in problems} == {rows[refused[0]].next_attempt.isoformat()}
        # one connection for the whole batch: a 4xx reply does not cost the connection
        assert handler.connections_seen == 1

        # a run at the same moment leaves them alone ...
        early = digest_job.digest(settings, store, now=NOW)
        assert early.sent == [] and recipients(early.deferred) == refused
        # said in the instance's time zone, to the minute (5 minutes after NOW)
        local = (NOW + timedelta(minutes=5)).astimezone(ZoneInfo("Europe/Amsterdam"))
        assert all(
            line.endswith(f": retry after {local:%Y-%m-%d %H:%M} (Europe/Amsterdam)")
            for line in early.deferred
        )
        # ... the next run after the back-off sends exactly those
        later = NOW + timedelta(minutes=6)
        second = digest_job.digest(settings, store, now=later)
        assert recipients(second.sent) == refused and second.failed == []
        assert sorted(recipients(second.skipped)) == sorted(set(ORDER) - set(refused))
        rows = rows_by_subscriber(store)
        assert all(rows[e].attempts == 2 for e in refused)
        assert all(r.status == "sent" and r.message_id for r in rows.values())

        # and a third run sends nothing at all
        third = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert third.sent == [] and third.failed == [] and len(third.skipped) == 6
        assert store.delivery_counts() == {"sent": 6}
    assert_each_got_one(handler, settings)


def test_4xx_is_retried_with_backoff(make_settings, server, monkeypatch) -> None:
    """Issue 6: temporary failures are retried *with backoff* on the next run."""
    handler, port = server
    handler.data_rule = lambda n, rcpts: TEMPORARY if n == 1 else None
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        digest_job.digest(settings, store, now=NOW)
        row = rows_by_subscriber(store)[NL[0]]
        assert row.status == "pending" and row.next_attempt is not None
        # a run before next_attempt leaves it alone ...
        assert NL[0] not in recipients(digest_job.digest(settings, store, now=NOW).sent)
        assert handler.data_seen == 6
        # ... a run after it sends it
        later = row.next_attempt + timedelta(seconds=1)
        monkeypatch.setattr(delivery, "utcnow", lambda: later)
        assert recipients(digest_job.digest(settings, store, now=later).sent) == [NL[0]]
    assert_each_got_one(handler, settings)


def test_a_delivery_left_pending_is_not_lost_when_the_week_ends(make_settings, server) -> None:
    """With a weekly schedule the next run after a 4xx is in the next ISO week. The
    week-48 delivery must then be sent late or be recorded as given up, not forgotten."""
    handler, port = server
    handler.data_rule = lambda n, rcpts: TEMPORARY if n == 1 else None
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        digest_job.digest(settings, store, now=NOW)
        week48 = rows_by_subscriber(store)[NL[0]]
        assert week48.status == "pending"
        digest_job.digest(settings, store, now=NOW + timedelta(days=7))  # the next weekly run
        assert store.delivery(week48.id).status in ("sent", "failed")


# --- 5xx: recorded 'failed', never retried, reported by `trendwatch status` --------------


def _env() -> dict[str, str]:
    env = child_env(COLUMNS="200", NO_COLOR="1")
    env.pop("TRENDWATCH_CONFIG", None)
    return env


def trendwatch(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """``trendwatch ARGS`` as a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("stage", "victim", "reply"),
    [
        ("RCPT", EN[1], "550 5.1.1 No such user"),
        ("DATA", NL[1], "554 5.7.1 Message rejected as spam"),
    ],
)
def test_5xx_for_one_recipient_is_recorded_failed_and_never_retried(
    make_settings, server, tmp_path: Path, stage: str, victim: str, reply: str
) -> None:
    handler, port = server
    if stage == "RCPT":
        handler.rcpt_replies[victim] = reply
    else:
        handler.data_rule = lambda n, rcpts: reply if victim in rcpts else None
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert recipients(first.failed) == [victim] and not first.ok
        assert recipients(first.sent) == [e for e in ORDER if e != victim]
        row = rows_by_subscriber(store)[victim]
        assert row.status == "failed" and row.attempts == 1
        assert reply in row.last_error  # the server's code and text are kept
        assert handler.connections_seen == 1  # the others went over the same connection

        # the server would accept it now; still, later runs never try it again
        handler.rcpt_replies.clear()
        handler.data_rule = None
        for hours in (1, 25):
            again = digest_job.digest(settings, store, now=NOW + timedelta(hours=hours))
            assert again.sent == [] and again.failed == [] and again.ok
        assert store.delivery_counts() == {"sent": 5, "failed": 1}
    assert handler.rcpt_seen.count(victim) == 1  # one attempt, ever
    got = message_ids_by_recipient(handler.received)
    assert victim not in got
    ids = expected_ids(settings, NOW)
    assert got == {e: [ids[e]] for e in ORDER if e != victim}

    status = trendwatch("--config", str(settings.path), "status", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["deliveries"] == {"sent": 5, "failed": 1}
    key = delivery_keys(settings, NOW)[victim].rsplit("/", 1)[0]
    by_edition = {e["key"]: e for e in info["editions"]}
    assert by_edition[key]["deliveries"] == {"sent": 2, "failed": 1}
    # who failed and why: the server's answer as it came
    [problem] = by_edition[key]["problems"]
    assert problem["subscriber"] == victim and problem["status"] == "failed"
    assert problem["attempts"] == 1 and reply in problem["last_error"]
    assert all(e["problems"] == [] for k, e in by_edition.items() if k != key)
    text = trendwatch("--config", str(settings.path), "status", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    [line] = [x for x in text.stdout.splitlines() if victim in x]
    assert line.split()[:2] == ["failed", victim] and reply in line


def test_a_5xx_for_the_sender_does_not_fail_every_subscriber_for_good(
    make_settings, server
) -> None:
    """A server that refuses our sender (a wrong ``from``, an expired account) says
    nothing about the recipients. After the fix, the next run must deliver."""
    handler, port = server
    handler.mail_replies = ["550 5.7.1 Sender address rejected: not owned by user"] * 6
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        digest_job.digest(settings, store, now=NOW)
        assert "failed" not in store.delivery_counts()
        handler.mail_replies.clear()
        digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
    assert_each_got_one(handler, settings)


# --- asked to stop ---------------------------------------------------------------------


def test_a_run_asked_to_stop_sends_nothing_after_the_message_it_was_sending(
    make_settings, server
) -> None:
    """The next message is made while the one before is on its way to the server, but
    each message's outcome is recorded before the run asks whether to stop, and the
    next is claimed only after that: a stop after two messages leaves exactly two sent
    and recorded, nothing claimed, and the next run sends the other four, once."""
    handler, port = server
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        seen: list[dict[str, int]] = []

        def stop() -> bool:
            seen.append(store.delivery_counts())
            return len(handler.received) == 2

        first = digest_job.digest(settings, store, now=NOW, stop=stop)
        assert seen == [{}, {"sent": 1}, {"sent": 2}]
        assert recipients(first.sent) == ORDER[:2] and first.stopped
        assert store.delivery_counts() == {"sent": 2}
        second = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert recipients(second.sent) == ORDER[2:]
    assert_each_got_one(handler, settings)


def test_a_run_that_fails_while_a_message_is_on_its_way_records_that_message(
    make_settings, server, monkeypatch
) -> None:
    """The next message is made while one is being sent: if making it fails (a bug, an
    interrupt), the message on its way is still recorded as sent, so the next run does
    not send it again."""
    handler, port = server
    settings = make_settings(smtp_toml(port) + BODY)
    made = []
    prepared = delivery._Delivering._prepared

    def failing(self, *args, **kwargs):
        if made:
            raise RuntimeError("cannot make the message")
        made.append(True)
        return prepared(self, *args, **kwargs)

    with Store(settings.db_path) as store:
        seed(settings, store)
        monkeypatch.setattr(delivery._Delivering, "_prepared", failing)
        with pytest.raises(RuntimeError):
            digest_job.digest(settings, store, now=NOW)
        assert store.delivery_counts() == {"sent": 1}  # nothing left 'sending'
        monkeypatch.setattr(delivery._Delivering, "_prepared", prepared)
        second = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert recipients(second.sent) == ORDER[1:]
    assert_each_got_one(handler, settings)


# --- the connection drops ---------------------------------------------------------------


def test_server_that_drops_every_connection_after_two_messages(make_settings, server) -> None:
    """A silent drop (no reply, the socket closes) when the client starts message 3 on a
    connection. SmtpTransport reconnects once when a *reused* connection fails, and that
    retry is safe: the server never had the message. So the first run sends all six, over
    three connections, each message once."""
    handler, port = server
    handler.per_connection = 2
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert recipients(first.sent) == ORDER and first.ok
        assert handler.connections_seen == 3
        assert sorted(handler.accepted_on.values()) == [2, 2, 2]
        assert digest_job.digest(settings, store, now=NOW + timedelta(hours=1)).sent == []
    assert_each_got_one(handler, settings)


def test_server_that_answers_421_after_two_messages_per_connection(make_settings, server) -> None:
    """421 at the end of DATA for message 3 on a connection, then the server closes. The
    message was refused (not stored), SmtpTransport treats a 421 on a reused connection
    as "closing channel", reconnects once and sends it again: all six in the first run."""
    handler, port = server
    handler.per_connection = 2
    handler.per_connection_reply = "421 4.7.0 Too many messages on this connection"
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert recipients(first.sent) == ORDER and first.ok
        assert handler.connections_seen == 3
        assert handler.data_seen == 8  # messages 3 and 5 were refused once each
        assert digest_job.digest(settings, store, now=NOW + timedelta(hours=1)).sent == []
    assert_each_got_one(handler, settings)


@pytest.mark.parametrize("how", ["silent drop", "421"])
def test_server_goes_down_after_two_messages_then_comes_back(
    make_settings, server, how: str
) -> None:
    """The server stores two messages and then, for the rest of the first run, drops
    every connection (or answers every DATA with 421 and closes). Message 3 fails on the
    reused connection, is retried once on a new one and fails again; messages 4-6 each
    fail on a fresh connection (no retry there). All four stay pending; the next run,
    with the server back, sends exactly those four."""
    handler, port = server
    if how == "silent drop":
        handler.down_after = 2
    else:
        handler.data_rule = lambda n, rcpts: "421 4.3.2 Service shutting down" if n > 2 else None
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert recipients(first.sent) == ORDER[:2]
        assert recipients(first.failed) == ORDER[2:]
        assert store.delivery_counts() == {"sent": 2, "pending": 4}
        errors = [r.last_error for r in store.deliveries() if r.status == "pending"]
        if how == "silent drop":  # message 3 got its one retry on a new connection
            assert "(after reconnect)" in errors[0]
        else:
            assert all("421 4.3.2 Service shutting down" in e for e in errors)
        # connection 1 (messages 1-3), the reconnect for message 3, one each for 4, 5, 6
        assert handler.connections_seen == 5
        assert len(handler.received) == 2

        handler.down_after = None  # the server is back
        handler.data_rule = None
        second = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert recipients(second.sent) == ORDER[2:] and second.ok
        assert digest_job.digest(settings, store, now=NOW + timedelta(hours=2)).sent == []
        assert store.delivery_counts() == {"sent": 6}
    assert_each_got_one(handler, settings)


def test_drop_after_the_server_stored_the_message_resends_it_with_the_same_message_id(
    make_settings, server
) -> None:
    """The ambiguous window: the server stores message 3 and the connection dies before
    its "250" reaches the client. The transport cannot tell this from a drop before the
    message, reconnects and sends it again: that subscriber gets two copies with one
    Message-ID (a duplicate mail systems can recognise); nobody else gets a second."""
    handler, port = server
    handler.commit_and_drop = {3}
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert recipients(first.sent) == ORDER and first.ok
        assert handler.connections_seen == 2
        assert digest_job.digest(settings, store, now=NOW + timedelta(hours=1)).sent == []
        assert store.delivery_counts() == {"sent": 6}
    got = message_ids_by_recipient(handler.received)
    ids = expected_ids(settings, NOW)
    assert got == {e: [ids[e]] * (2 if e == ORDER[2] else 1) for e in ORDER}


# --- the process is killed mid-batch ------------------------------------------------------


def _wait_until(ready, child: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Wait for ``ready()`` while the child is alive; fail with its stderr otherwise."""
    deadline = time.monotonic() + timeout
    while not ready():
        if child.poll() is not None:
            pytest.fail(f"child exited {child.returncode} early:\n{log.read_text()}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"child never got there:\n{log.read_text()}")
        time.sleep(0.005)


def _db_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status")
        return dict(rows.fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize(
    "server_stored_it",
    [
        pytest.param(False, id="in-flight message not stored"),
        pytest.param(True, id="in-flight message stored"),
    ],
)
def test_cli_killed_while_the_server_holds_message_3(
    make_settings, server, tmp_path: Path, server_stored_it: bool
) -> None:
    """``trendwatch digest`` is SIGKILLed while the server sits on the DATA of message 3.

    Two messages were sent and recorded, the third is 'sending', three have no row yet.
    The next run sends the rest, and sends message 3 again with the same Message-ID (see
    the module docstring): if the server had stored it before the kill, that subscriber
    has two copies with one Message-ID; if not, one. Nobody is missing, nobody has two
    different Message-IDs, and a third run sends nothing.
    """
    handler, port = server
    handler.block_at = 3
    handler.commit_blocked = server_stored_it
    settings = make_settings(smtp_toml(port) + BODY)
    now = datetime.now(UTC)  # the command builds the edition of the real current week
    with Store(settings.db_path) as store:
        seed(settings, store, now)
    config = str(settings.path)
    log = tmp_path / "child.log"
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", config, "digest"],
            cwd=tmp_path,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until(handler.blocked.is_set, child, log)
            child.kill()  # SIGKILL: no cleanup, no finally blocks
        finally:
            child.wait(10)
    assert child.returncode == -9
    assert _db_counts(settings.db_path) == {"sent": 2, "sending": 1}
    assert len(handler.received) == (3 if server_stored_it else 2)
    handler.release.set()  # the server is responsive again
    handler.block_at = None

    rerun = trendwatch("--config", config, "digest", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    arrived = len(handler.received)
    assert arrived == 6 + server_stored_it  # message 3 (again), then 4, 5, 6
    # the command once more: nothing is sent, nothing changes
    with Store(settings.db_path) as store:
        before = store.deliveries()
    again = trendwatch("--config", config, "digest", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(handler.received) == arrived

    later = datetime.now(UTC)
    if delivery_keys(settings, later) != delivery_keys(settings, now):
        pytest.skip("the ISO week changed during the test: a new edition is due")
    with Store(settings.db_path) as store:
        assert store.deliveries() == before
        rows = rows_by_subscriber(store)
    assert {e: r.status for e, r in rows.items()} == dict.fromkeys(ORDER, "sent")
    assert [rows[e].attempts for e in ORDER] == [1, 1, 2, 1, 1, 1]
    ids = expected_ids(settings, now)
    got = message_ids_by_recipient(handler.received)
    assert sorted(got) == sorted(ORDER)  # none lost
    for e in ORDER:
        assert set(got[e]) == {ids[e]} == {rows[e].message_id}  # one Message-ID each
    copies = {e: len(got[e]) for e in ORDER}
    assert copies == {e: 2 if (e == ORDER[2] and server_stored_it) else 1 for e in ORDER}


# The outbox has no server to hold a message, so the child is the real CLI with the
# outbox's file writer wrapped to park the process at a chosen point of message 3.
_PARKED_CLI = r"""
import os, sys, time
import digests.deliver as deliver
from pipeline.cli import main

where, fd = os.environ["TW_PARK"], int(os.environ["TW_READY_FD"])
real, calls = deliver.atomic_write_bytes, []

def park():
    os.write(fd, b"x")
    time.sleep(60)

def write(path, data, **kwargs):
    calls.append(path)
    if len(calls) == 3 and where == "before write":
        park()
    real(path, data, **kwargs)
    if len(calls) == 3 and where == "after write":
        park()

deliver.atomic_write_bytes = write
sys.argv[0] = "trendwatch"
main()
"""


@pytest.mark.parametrize("where", ["before write", "after write"])
def test_outbox_cli_killed_mid_batch(make_settings, tmp_path: Path, where: str) -> None:
    """Killed while message 3 was claimed but not written, or written but not recorded:
    the next run writes the missing file (before) or finds it and records it without
    writing it again (after). Either way: exactly one .eml per subscriber."""
    settings = make_settings(outbox_toml() + BODY)
    now = datetime.now(UTC)
    with Store(settings.db_path) as store:
        seed(settings, store, now)
    config = str(settings.path)
    log = tmp_path / "child.log"
    ready_r, ready_w = os.pipe()
    try:
        with log.open("w") as out:
            child = subprocess.Popen(
                [sys.executable, "-c", _PARKED_CLI, "--config", config, "digest"],
                cwd=tmp_path,
                env={**_env(), "TW_PARK": where, "TW_READY_FD": str(ready_w)},
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(ready_w,),
            )
            os.close(ready_w)
            try:
                readable, _, _ = select.select([ready_r], [], [], 30)
                if not readable or not os.read(ready_r, 1):
                    child.kill()
                    child.wait(10)
                    pytest.fail(f"child did not park:\n{log.read_text()}")
                child.kill()
            finally:
                child.wait(10)
    finally:
        os.close(ready_r)
    assert child.returncode == -9
    assert _db_counts(settings.db_path) == {"sent": 2, "sending": 1}
    outbox = settings.outbox_dir
    written = {p.name: p.read_bytes() for p in outbox.glob("*.eml")}
    assert len(written) == (3 if where == "after write" else 2)
    assert not list(outbox.glob(".*.tmp"))  # nothing half-written left behind

    rerun = trendwatch("--config", config, "digest", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    # the command once more: nothing is written, nothing changes
    after_rerun = {p.name: p.read_bytes() for p in outbox.glob("*.eml")}
    with Store(settings.db_path) as store:
        before = store.deliveries()
    again = trendwatch("--config", config, "digest", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {p.name: p.read_bytes() for p in outbox.glob("*.eml")} == after_rerun
    with Store(settings.db_path) as store:
        assert store.deliveries() == before

    if delivery_keys(settings, datetime.now(UTC)) != delivery_keys(settings, now):
        pytest.skip("the ISO week changed during the test: a new edition is due")
    files = sorted(outbox.glob("*.eml"))
    for name, content in written.items():  # nothing written before the kill was rewritten
        assert (outbox / name).read_bytes() == content
    ids = expected_ids(settings, now)
    seen: dict[str, list[str]] = {}
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        seen.setdefault(msg["To"].addresses[0].addr_spec, []).append(str(msg["Message-ID"]))
    assert seen == {e: [ids[e]] for e in ORDER}
    with Store(settings.db_path) as store:
        rows = rows_by_subscriber(store)
    assert {e: r.status for e, r in rows.items()} == dict.fromkeys(ORDER, "sent")
    # 'after write': found in the outbox and recorded, not claimed and written again
    assert rows[ORDER[2]].attempts == (1 if where == "after write" else 2)


# --- two runs at once -------------------------------------------------------------------


def test_a_second_run_while_the_first_is_sending_does_not_resend(make_settings, server) -> None:
    """The scheduler's run and a manual ``trendwatch digest`` can overlap. The second run
    must leave the first run's message in flight alone."""
    handler, port = server
    handler.block_at = 1
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
    errors: list[BaseException] = []

    def first_run() -> None:
        try:
            with Store(settings.db_path) as store:
                digest_job.digest(settings, store, now=NOW)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=first_run)
    thread.start()
    try:
        assert handler.blocked.wait(10)
        with Store(settings.db_path) as store:
            second = digest_job.digest(settings, store, now=NOW)
    finally:
        handler.release.set()
        thread.join(10)
    assert not errors
    assert NL[0] not in recipients(second.sent)
    assert_each_got_one(handler, settings)


# --- retrying by hand: `trendwatch digest` flushes what waits for a retry --------------


def test_a_run_by_hand_sends_what_waits_for_a_retry_at_once_and_only_once(
    make_settings, server
) -> None:
    """An outage after two messages leaves four deliveries pending with a back-off of 5
    minutes; one of those readers' addresses no longer exists (550). A minute later the
    server is fixed. The scheduler (and ``digest --due``) keeps the back-off; a run by
    hand (``retry_now``, as ``trendwatch digest`` does) tries the four at once: three
    are sent, the 550 is recorded failed for good. Nothing is sent twice, nothing is
    lost, and the failed one is never tried again, by hand or by the scheduler."""
    handler, port = server
    handler.down_after = 2  # the outage: every connection dropped after two messages
    victim = EN[1]
    handler.rcpt_replies[victim] = "550 5.1.1 No such user"
    settings = make_settings(smtp_toml(port) + BODY)
    with Store(settings.db_path) as store:
        seed(settings, store)
        first = digest_job.digest(settings, store, now=NOW)
        assert recipients(first.sent) == ORDER[:2]
        assert recipients(first.failed) == ORDER[2:]
        assert store.delivery_counts() == {"sent": 2, "pending": 4}
        waiting = ORDER[2:]
        assert {rows_by_subscriber(store)[e].next_attempt for e in waiting} == {
            NOW + timedelta(minutes=5)
        }

        handler.down_after = None  # the outage is fixed
        fixed = NOW + timedelta(minutes=1)  # still within the back-off
        for scheduled in (True, False):  # `run` / `digest --due`, and the job's default
            kept = digest_job.digest(settings, store, now=fixed, due=scheduled)
            assert kept.sent == [] and kept.failed == []
            assert recipients(kept.deferred) == waiting
        assert len(handler.received) == 2

        by_hand = digest_job.digest(settings, store, now=fixed, retry_now=True)
        assert recipients(by_hand.sent) == [e for e in waiting if e != victim]
        assert recipients(by_hand.failed) == [victim] and by_hand.deferred == []
        rows = rows_by_subscriber(store)
        assert rows[victim].status == "failed" and "550 5.1.1" in rows[victim].last_error
        assert all(rows[e].attempts == 2 for e in waiting)

        # again by hand, and the scheduler after the back-off: nothing more is sent
        again = digest_job.digest(settings, store, now=fixed, retry_now=True)
        assert again.sent == [] and again.failed == [] and again.deferred == []
        later = digest_job.digest(settings, store, now=NOW + timedelta(hours=1))
        assert later.sent == [] and later.failed == [] and later.deferred == []
        assert store.delivery_counts() == {"sent": 5, "failed": 1}
    assert handler.rcpt_seen.count(victim) == 1  # the 5xx: one attempt, ever
    ids = expected_ids(settings, NOW)
    assert message_ids_by_recipient(handler.received) == {e: [ids[e]] for e in ORDER if e != victim}


def test_trendwatch_digest_by_hand_after_an_outage_sends_at_once(
    make_settings, server, tmp_path: Path
) -> None:
    """The command as a user runs it: ``trendwatch digest`` during an outage leaves all
    six pending; after the fix ``digest --due`` (cron) still waits for the back-off,
    while ``trendwatch digest`` sends all six at once, once each."""
    handler, port = server
    handler.down = True
    settings = make_settings(smtp_toml(port) + BODY)
    now = datetime.now(UTC)  # the command builds the edition of the real current week
    with Store(settings.db_path) as store:
        seed(settings, store, now)
    config = str(settings.path)

    outage = trendwatch("--config", config, "digest", cwd=tmp_path)
    assert outage.returncode == 1, outage.stdout + outage.stderr
    assert _db_counts(settings.db_path) == {"pending": 6}
    handler.down = False  # fixed

    cron = trendwatch("--config", config, "digest", "--due", cwd=tmp_path)
    assert cron.returncode == 0, cron.stdout + cron.stderr
    assert handler.received == [] and "waiting to retry" in cron.stdout

    manual = trendwatch("--config", config, "digest", cwd=tmp_path)
    assert manual.returncode == 0, manual.stdout + manual.stderr
    assert "waiting to retry" not in manual.stdout
    sent = [line for line in manual.stdout.splitlines() if line.startswith("  sent ")]
    assert sorted(recipients(sent)) == sorted(ORDER)
    again = trendwatch("--config", config, "digest", cwd=tmp_path)
    assert again.returncode == 0 and " sent " not in again.stdout

    if delivery_keys(settings, datetime.now(UTC)) != delivery_keys(settings, now):
        pytest.skip("the ISO week changed during the test: a new edition is due")
    assert _db_counts(settings.db_path) == {"sent": 6}
    assert_each_got_one(handler, settings, now)


def test_a_later_run_says_failed_for_good_with_the_answer_not_already_delivered(
    make_settings, server, tmp_path: Path
) -> None:
    """After a 5xx for one reader, a later ``trendwatch digest`` says what happened to
    that delivery: failed for good, with the server's answer; never "already delivered"."""
    handler, port = server
    victim, reply = EN[1], "550 5.1.1 No such user"
    handler.rcpt_replies[victim] = reply
    settings = make_settings(smtp_toml(port) + BODY)
    now = datetime.now(UTC)  # the command builds the edition of the real current week
    with Store(settings.db_path) as store:
        seed(settings, store, now)
        first = digest_job.digest(settings, store, now=now)
        assert recipients(first.failed) == [victim]
        again = digest_job.digest(settings, store, now=now + timedelta(minutes=1), retry_now=True)
        assert victim not in recipients(again.skipped) and again.ok
        [line] = again.failed_before
        assert line.startswith(f"{delivery_keys(settings, now)[victim].rsplit('/', 1)[0]} -> ")
        assert recipients([line]) == [victim] and line.endswith(reply)

    later = trendwatch("--config", str(settings.path), "digest", cwd=tmp_path)
    assert later.returncode == 0, later.stdout + later.stderr
    if delivery_keys(settings, datetime.now(UTC)) != delivery_keys(settings, now):
        pytest.skip("the ISO week changed during the test: a new edition is due")
    [said] = [x for x in later.stdout.splitlines() if victim in x]
    assert said.startswith("  failed for good ") and said.endswith(reply)
    assert sum("already delivered" in x for x in later.stdout.splitlines()) == 5
    assert handler.rcpt_seen.count(victim) == 1
