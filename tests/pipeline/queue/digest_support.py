"""What the digest queue's tests share: a config whose digest came due two minutes
ago, a week of processed articles, an SMTP server that holds every message at DATA
until told, the mails as comparable content, and a look at the queue's jobs."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mail_support import DIGEST_CONFIG

from crawlers.entries import Entry
from pipeline.process import job as process_job
from pipeline.store import Store
from postgres_support import query
from smtp_support import Received, Recorder

SECRET_ENV = "TW_TEST_DIGEST_QUEUE_SECRET"
SECRET = "a-secret-the-reference-and-the-workers-share-0123456789"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

WATCHLISTS = DIGEST_CONFIG

# nine readers in three audiences
READERS = [
    *[(f"nl{i}@example.nl", "nl", ("social-media-werk", "thuiswerken")) for i in range(4)],
    *[(f"en{i}@example.com", "en", ("thuiswerken",)) for i in range(3)],
    *[(f"thuis{i}@example.nl", "nl", ("thuiswerken",)) for i in range(2)],
]


def due_moment(now: datetime) -> datetime:
    """The digest's moment in the config: two minutes before ``now``, to the minute."""
    return (now - timedelta(minutes=2)).replace(second=0, microsecond=0)


def config(port: int, moment: datetime) -> str:
    """A config whose weekly digest (UTC) is at ``moment``, mailed to ``port``."""
    lines = [
        f'secret_env = "{SECRET_ENV}"',
        "[schedule]",
        'timezone = "UTC"',
        f'digest = "{WEEKDAYS[moment.weekday()]} {moment:%H:%M}"',
        "[smtp]",
        'host = "127.0.0.1"',
        f"port = {port}",
        'from = "Trendwatch <digest@trendwatch.test>"',
    ]
    for address, language, watchlists in READERS:
        names = ", ".join(f'"{w}"' for w in watchlists)
        lines += [
            "[[subscribers]]",
            f'email = "{address}"',
            f'name = "{address.split("@")[0].title()}"',
            f'language = "{language}"',
            f"watchlists = [{names}]",
        ]
    return "\n".join(lines) + "\n" + WATCHLISTS


def articles(moment: datetime) -> list[Entry]:
    texts = [
        (
            "Werkgevers maken regels voor social media",
            "Medewerkers delen steeds vaker iets over hun werk op social media. Werkgevers"
            " reageren met richtlijnen. Een jurist legt uit wat mag.",
        ),
        ("Thuiswerken blijft de norm", "Na vijf jaar is thuiswerken gewoon geworden."),
        ("Hybride werken in de zorg", "Ook in de zorg wordt hybride werken gewoon."),
        ("Social media en werk: de regels", "Wat mag je op social media zeggen over werk?"),
    ]
    return [
        Entry(
            identity=f"guid:{n}",
            title=title,
            url=f"https://hrnieuws.test.invalid/{n}",
            text=text,
            summary=text,
            published=moment - timedelta(days=1 + n),
            language="nl",
        )
        for n, (title, text) in enumerate(texts)
    ]


def seed(settings: Any, store: Store, moment: datetime) -> None:
    """A week of articles before ``moment``, processed (matches, stories)."""
    when = moment - timedelta(hours=1)
    store.sync_sources(settings.sources, when)
    store.save_entries(store.sources()[0].id, articles(moment), when)
    process_job.process(settings, store, now=when)


@dataclass
class GatedRecorder(Recorder):
    """A :class:`Recorder` that holds every message at the end of its DATA (stored
    nothing, no reply) until ``gate`` is set; ``held`` tells per (peer, recipient)
    whether it is held, passed (stored once the gate opened) or gone (its client went
    away while held: nothing stored, as a mail server does)."""

    gate: threading.Event = field(default_factory=threading.Event)
    held: dict[tuple[Any, str], str] = field(default_factory=dict)

    async def handle_DATA(self, server, session, envelope):
        key = (session.peer, envelope.rcpt_tos[0])
        if not self.gate.is_set():
            self.held[key] = "held"
            try:
                while not self.gate.is_set():
                    await asyncio.sleep(0.01)
            except asyncio.CancelledError:  # aiosmtpd: the connection was lost
                self.held[key] = "gone"
                raise
            if server.transport is None or server.transport.is_closing():
                self.held[key] = "gone"
                return "421 4.3.0 closing"
            self.held[key] = "passed"
        return await super().handle_DATA(server, session, envelope)

    def holding(self, state: str = "held") -> set[str]:
        """The recipients of the messages in ``state``."""
        return {rcpt for (_, rcpt), s in list(self.held.items()) if s == state}


def content(raw: bytes) -> dict[str, Any]:
    """A mail as what its reader gets: every header but Date (the content type without
    its random boundary), and each part's text."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers = sorted(
        (k, msg.get_content_type() if k.lower() == "content-type" else str(v))
        for k, v in msg.items()
        if k.lower() != "date"
    )
    parts = [(p.get_content_type(), p.get_content()) for p in msg.walk() if not p.is_multipart()]
    return {"headers": headers, "parts": parts}


def by_reader(received: list[Received]) -> dict[str, list[dict[str, Any]]]:
    """Every envelope recipient -> the contents it received, in order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in received:
        for rcpt in r.rcpt_tos:
            out.setdefault(rcpt, []).append(content(r.content))
    return out


def digest_jobs(url: str, *statuses: str) -> list[tuple[str, str, str | None]]:
    """The digest queue's jobs in ``statuses``: (task, status, the delivery's address)."""
    with Store(url) as store:
        rows = query(
            store,
            "SELECT task_name, status, args->>'email' FROM procrastinate_jobs"
            " WHERE queue_name = 'digest' ORDER BY id",
        )
    return [tuple(r) for r in rows if r[1] in statuses]  # type: ignore[misc]


def now_utc() -> datetime:
    return datetime.now(UTC)
