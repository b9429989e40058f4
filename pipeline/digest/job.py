"""The digest job: this period's edition for every audience, built once and frozen in
the store, written to the archive, then delivered (``pipeline.digest.delivery``).

Also the audiences whose digest is due (the scheduler's ``--due`` runs) and ``preview``,
which renders one reader's next edition to files without recording anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from digests.archive import write_edition_page
from digests.fsutil import atomic_write_text, make_private_dir
from digests.model import Edition
from digests.render import EditionRenderer, edition_renderer, render_edition
from digests.templating import forget_rendered
from pipeline.digest.archive import page_html, write_archive_index, write_page
from pipeline.digest.build import edition_row, new_edition
from pipeline.digest.delivery import Outgoing, deliver
from pipeline.digest.editions import Audience, Period, audiences, period_ending
from pipeline.digest.frozen import edition_from_json
from pipeline.digest.parallel import Helper, build_editions
from pipeline.digest.phases import Phases
from pipeline.digest.reads import EditionReads
from pipeline.digest.secret import recipient
from pipeline.schedule.decide import Decision, digest_due
from pipeline.settings import Settings, Subscriber, show_duration
from pipeline.store import EditionRow, Store, iso
from pipeline.subscriptions import with_readers

log = logging.getLogger("trendwatch")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DigestReport:
    editions: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # "edition key -> subscriber"
    skipped: list[str] = field(default_factory=list)  # already delivered
    # failed for good in an earlier run (a 5xx), never retried: "KEY -> ADDRESS: answer"
    failed_before: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # nothing new: not sent
    deferred: list[str] = field(default_factory=list)  # pending, waiting for its retry time
    late: list[str] = field(default_factory=list)  # came due too long ago (--due): skipped
    unsubscribed: list[str] = field(default_factory=list)  # unsubscribed during the run
    busy: bool = False  # another run was delivering
    stopped: bool = False  # asked to stop part-way; the rest stays pending
    failed: list[str] = field(default_factory=list)
    archive_pages: list[str] = field(default_factory=list)
    outbox: str | None = None
    phases: Phases = field(default_factory=Phases)  # where the run's time went

    @property
    def ok(self) -> bool:
        return not self.failed


def digest(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    due: bool = False,
    retry_now: bool = False,
    stop: Callable[[], bool] | None = None,
    overlap: bool = True,
) -> DigestReport:
    """Build this period's edition for every audience (once), write it to the archive
    and deliver it to each subscriber exactly once.

    With ``due`` (the scheduler, ``trendwatch digest --due``) only audiences whose
    weekday and hour have come, at most ``[schedule] digest_grace`` ago, and that did
    not get that week's edition yet; each edition then covers the week up to its
    scheduled moment. With ``retry_now`` (``trendwatch digest`` run by hand) the
    deliveries waiting for their retry after a temporary failure are tried at once, as
    flushing a mail queue does; without it they wait for their back-off. ``stop`` is
    asked between messages: when it says yes, the rest stays pending for the next run.
    With ``overlap`` (the default) each edition is delivered as soon as it is stored and
    archived, while the next ones are built (by the second process, if any); without
    it all are built, stored and archived first. The mails, their order, the rows and
    the files are the same either way (tested).

    The subscribers are the config's and the web's, without those who unsubscribed
    (:func:`pipeline.subscriptions.with_readers`).

    The articles' markup the run rendered (shared by its editions) is dropped when it
    ends: a long-running ``trendwatch run`` does not hold it until the next run."""
    try:
        return _digest(settings, store, now, dry_run, due, retry_now, stop, overlap)
    finally:
        forget_rendered()


def _digest(
    settings: Settings,
    store: Store,
    now: datetime | None,
    dry_run: bool,
    due: bool,
    retry_now: bool,
    stop: Callable[[], bool] | None,
    overlap: bool = True,
) -> DigestReport:
    now = now or utcnow()
    settings = with_readers(settings, store)
    report = DigestReport()
    at = _due_audiences(settings, store, now, report) if due else None
    renderers: dict[int, EditionRenderer] = {}
    stored = _stored(settings, store, now, at, report, renderers, dry_run=dry_run)
    if dry_run:
        for _ in stored:
            pass
        return report
    if not overlap:
        stored = iter(list(stored))
    deliver(settings, store, stored, report, now, stop, retry_now=retry_now, renderers=renderers)
    return report


def _stored(
    settings: Settings,
    store: Store,
    now: datetime,
    at: dict[str, datetime] | None,
    report: DigestReport,
    renderers: dict[int, EditionRenderer],
    *,
    dry_run: bool,
) -> Iterator[Outgoing]:
    """This period's edition of every audience (of those in ``at``), in the plan's
    order, each built if it was not (and stored) and its archive page written when it
    was built now or is missing, yielded as it is ready: its id, the edition and its
    readers. Each edition's renderer goes into ``renderers`` (unless ``dry_run``): its
    archive page and every reader's mail come from one set of views and one rendered
    skeleton. Once all are yielded, the archive index is rewritten."""
    phases = report.phases
    editions: dict[str, Edition] = {}
    plan = _plan(settings, store, now, at)
    helper = Helper()
    built = build_editions(
        settings, store, [(a, p) for a, p, row in plan if row is None], now, helper=helper
    )
    # the pages are written (and fsynced) by a thread while the next edition is built;
    # an edition is handed on once its page is on disk (its mails link to it)
    held: _Held | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trendwatch-archive") as writer:
        for audience, _, row in plan:
            with phases.timing("editions"):
                new = next(built) if row is None else None
                edition = new.edition if new is not None else edition_from_json(row.data)
            with phases.timing("store"):
                if new is not None:
                    edition_id = store.add_edition(new.row or edition_row(edition))
                    report.built.append(edition.key)
                    log.info("edition %s: built with %d articles", edition.key, edition.item_count)
                else:
                    edition_id = row.id
            report.editions.append(edition.key)
            renderer = edition_renderer(
                edition, template_dir=settings.template_dir, sender=settings.sender
            )
            if new is not None and new.skeletons:
                renderer.adopt(new.skeletons)  # rendered by the second process
            if not dry_run:
                renderers[edition_id] = renderer
            writing = None
            with phases.timing("archive"):
                page = settings.archive_dir / edition.archive_path
                if new is not None or not page.exists():
                    html = page_html(
                        settings, edition, renderer, html=new.page if new is not None else None
                    )
                    writing = writer.submit(write_edition_page, settings.archive_dir, edition, html)
            editions[edition.key] = edition
            if held is not None:
                yield _written(held, report)
            held = _Held((edition_id, edition, audience.emails), writing)
        if held is not None:
            yield _written(held, report)
    for _ in built:  # (none left) the second process's last word: the CPU it took
        pass
    if helper.used:
        phases.add("editions (2nd process)", helper.wall, helper.cpu)
    with phases.timing("archive"):
        if report.built or at is None:
            write_archive_index(settings, store, editions)


@dataclass(frozen=True)
class _Held:
    """An edition ready but for its archive page, being written (None: not written)."""

    item: Outgoing
    writing: Future[Path] | None


def _written(held: _Held, report: DigestReport) -> Outgoing:
    """The held edition once its page is on disk (an error writing it is raised)."""
    if held.writing is not None:
        with report.phases.timing("archive"):
            report.archive_pages.append(str(held.writing.result()))
    return held.item


def digest_audiences(settings: Settings) -> list[Audience]:
    """The config's audiences, each with its delivery moment."""
    return audiences(
        settings.subscribers, settings.digest_time, settings.digest_time(_DEFAULT_SUBSCRIBER)
    )


_DEFAULT_SUBSCRIBER = Subscriber(email="", name="", language="", watchlists=())


def _due_audiences(
    settings: Settings, store: Store, now: datetime, report: DigestReport
) -> dict[str, datetime]:
    """The audiences whose digest is due now, each with its scheduled moment; those
    that came due longer than the grace period ago are logged (once) and skipped."""
    due: dict[str, datetime] = {}
    for audience in digest_audiences(settings):
        decision = digest_due(
            now,
            audience.when,
            settings.schedule.digest_grace,
            lambda week, a=audience: _handled(settings, store, a, week),
        )
        if decision.decision is Decision.SEND:
            due[audience.slug] = decision.slot
        elif decision.decision is Decision.LATE:
            year, week = decision.week
            key = f"{year}-W{week:02d}/{audience.slug}"
            report.late.append(key)
            if store.state(f"late:{key}") is None:
                store.set_state(f"late:{key}", iso(now) or "")
                if not store.editions_for(audience.slug, iso(now) or ""):
                    # a new install or a new audience: nothing was missed
                    log.info("edition %s: the first digest comes at its next moment", audience.slug)
                    continue
                log.warning(
                    "edition %s: due at %s, more than %s ago; skipped (trendwatch was not"
                    " running). Run 'trendwatch digest' to send it anyway.",
                    key,
                    f"{decision.slot:%Y-%m-%d %H:%M} UTC",
                    show_duration(settings.schedule.digest_grace),
                )
    return due


def _handled(settings: Settings, store: Store, audience: Audience, week: tuple[int, int]) -> bool:
    """Whether ``audience``'s edition of ``week`` was built and every subscriber who
    should get it has a delivery (sent, pending a retry or failed for good)."""
    row = store.edition(f"{week[0]}-W{week[1]:02d}/{audience.slug}")
    if row is None:
        return False
    subscribers = {s.email: s for s in settings.subscribers}
    wanted = [
        e
        for e in audience.emails
        if e in subscribers and (row.item_count > 0 or subscribers[e].send_empty)
    ]
    return set(wanted) <= store.delivered_to(row.id)


def _plan(
    settings: Settings, store: Store, now: datetime, at: dict[str, datetime] | None = None
) -> list[tuple[Audience, Period, EditionRow | None]]:
    """This period's edition of every audience (of those in ``at``, for the period up
    to its moment there): each audience with its period and its stored edition, None
    when that is not built yet."""
    plan = []
    for audience in digest_audiences(settings):
        if at is not None and audience.slug not in at:
            continue
        period = period_ending(at[audience.slug] if at is not None else now, audience.when.timezone)
        plan.append((audience, period, store.edition(period.key(audience.slug))))
    return plan


def _editions(
    settings: Settings, store: Store, now: datetime
) -> Iterator[tuple[Audience, Edition]]:
    """This period's edition of every audience, one at a time: the frozen one if it
    was built, else a new one built from the store (not stored)."""
    reads = EditionReads(store)  # what several audiences share is read once
    subscribers = {s.email: s for s in settings.subscribers}
    for audience, period, row in _plan(settings, store, now):
        if row is not None:
            yield audience, edition_from_json(row.data)
        else:
            yield audience, new_edition(settings, reads, audience, period, now, subscribers)


def preview(
    settings: Settings, store: Store, email: str, out_dir: Path, *, now: datetime | None = None
) -> tuple[Path, Path]:
    """Write the HTML and text of ``email``'s next edition to ``out_dir``; nothing is
    recorded, archived or sent. ``email`` is any reader, of the config or the web."""
    now = now or utcnow()
    settings = with_readers(settings, store)
    subscriber = next(
        (s for s in settings.subscribers if s.email.casefold() == email.casefold()), None
    )
    if subscriber is None:
        known = ", ".join(s.email for s in settings.subscribers) or "none"
        raise KeyError(f"no subscriber {email!r} in {settings.path} (subscribers: {known})")
    for audience, edition in _editions(settings, store, now):
        if subscriber.email in audience.emails:
            rendered = render_edition(
                edition,
                recipient(settings, subscriber),
                sender=settings.sender,
                template_dir=settings.template_dir,
            )
            # the files hold the reader's address and working manage/unsubscribe links
            make_private_dir(out_dir)
            stem = f"{edition.year}-W{edition.week:02d}-{edition.slug}"
            html_path, text_path = out_dir / f"{stem}.html", out_dir / f"{stem}.txt"
            atomic_write_text(html_path, rendered.html, mode=0o600)
            atomic_write_text(text_path, rendered.text, mode=0o600)
            return html_path, text_path
    raise KeyError(email)  # every subscriber belongs to an audience


# --- for the digest queue (pipeline.queue.digest): the same decisions, one step each ---


def due_audiences(settings: Settings, store: Store, now: datetime) -> dict[str, datetime]:
    """The audiences whose digest is due at ``now``, by slug, each with its scheduled
    moment: the decision ``digest(due=True)`` (so ``trendwatch run``) takes; those that
    came due too long ago are logged once and left out. ``settings``: with the web's
    readers (:func:`pipeline.subscriptions.with_readers`)."""
    return _due_audiences(settings, store, now, DigestReport())


@dataclass(frozen=True)
class StoredEdition:
    """An audience's edition as the store holds it, and what building it did."""

    audience: Audience
    edition_id: int
    edition: Edition
    built: bool  # built and stored by this call (False: it was stored already)
    archive_page: str | None  # the page written by this call, if any


def build_editions_once(
    settings: Settings, store: Store, now: datetime, at: dict[str, datetime]
) -> list[StoredEdition]:
    """The edition of each audience in ``at`` (by slug) for the period up to its
    moment there, built and stored unless it was (a stored one is never built again),
    from one read of the store as :func:`digest` builds them, with its archive page
    written when it was built now or the page is missing; audiences no longer in the
    config are left out. ``settings``: with the web's readers."""
    out = []
    reads = EditionReads(store)  # what several audiences share is read once
    subscribers = {s.email: s for s in settings.subscribers}
    for audience, period, row in _plan(settings, store, now, at):
        if row is None:
            edition = new_edition(settings, reads, audience, period, now, subscribers)
            edition_id = store.add_edition(edition_row(edition))
            log.info("edition %s: built with %d articles", edition.key, edition.item_count)
        else:
            edition = edition_from_json(row.data)
            edition_id = row.id
        page = None
        if row is None or not (settings.archive_dir / edition.archive_path).exists():
            page = write_page(settings, edition)
        out.append(StoredEdition(audience, edition_id, edition, row is None, page))
    return out
