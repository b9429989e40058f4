"""The jobs: crawl, process, digest, archive.

The CLI and (later) the scheduler call these same functions, so a manual run and a
scheduled run behave alike. Each job is idempotent: running it again does no harm.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from digests.archive import archive_entry, write_edition_page, write_indexes
from digests.deliver import (
    DeliveryError,
    OutboxTransport,
    SessionDeliveryError,
    SmtpTransport,
)
from digests.fsutil import atomic_write_text, make_private_dir
from digests.mail import build_message, make_message_id
from digests.model import Edition, Recipient
from digests.render import render_edition
from digests.tokens import MIN_SECRET_BYTES, with_links
from pipeline.digest.editions import (
    Audience,
    EditionData,
    audiences,
    build_edition,
    edition_from_json,
    edition_to_json,
    period_ending,
    sent_story_sizes,
    trend_items,
)
from pipeline.jsonl import read_jsonl
from pipeline.process.analysis.features import ArticleFeatures, Entity
from pipeline.process.watchlists.matching import CompiledQuery, MatchDoc
from pipeline.schedule.decide import Decision, digest_due
from pipeline.settings import ConfigError, ConfigProblem, Settings, Subscriber, show_duration
from pipeline.store import Store, from_iso, iso

log = logging.getLogger("trendwatch")

PROCESS_BATCH = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- crawl -------------------------------------------------------------------------
# The crawl job lives in pipeline.crawl.job (due sources, polling, source health);
# jobs.crawl stays the entry point that the CLI, the demo and the scheduler call.

# It is imported on first use: commands that do not crawl (check, status, digest,
# archive) never load the crawling stack (httpx, feedparser, trafilatura, Scrapy).
_CRAWL_NAMES = frozenset({"SourceReport", "crawl", "crawl_async", "next_poll_after"})


def __getattr__(name: str) -> Any:
    if name in _CRAWL_NAMES:
        from pipeline.crawl import job as crawl_job

        return getattr(crawl_job, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- process -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessReport:
    articles: int = 0
    matches: int = 0
    rematched: tuple[str, ...] = ()
    duplicates: int = 0
    new_stories: int = 0
    trend_weeks: tuple[str, ...] = ()


def _stored_features(row: dict) -> ArticleFeatures:
    entities = tuple(Entity(**e) for e in json.loads(row.get("entities") or "[]"))
    lang = row.get("detected_language") or row.get("language") or "und"
    return ArticleFeatures(id=row["id"], lang=lang, published=None, entities=entities)


def process(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> ProcessReport:
    """Analyse new and changed articles (language, spaCy tags, keyphrases), match them
    against every watchlist, mark near duplicates, assign stories and update the week's
    trends; re-match stored articles for watchlists that are new or whose query changed.
    ``stop`` is asked after each batch (one transaction): when it says yes, the rest
    waits for the next run."""
    # spaCy, numpy and datasketch load here, not when the CLI starts
    from pipeline.process.batch import (
        STATE_KEY,
        Analyser,
        Processor,
        article_input,
        match_watchlist,
        worker_config,
    )
    from pipeline.process.trend_job import update_trends

    now = now or utcnow()
    config = worker_config(settings)
    specs = {w.name: w for w in config.watchlists}
    stale = store.sync_watchlists(settings.watchlists)
    matches = 0
    # 1. watchlists that are new or changed catch up on already processed articles
    through = store.max_processed_id()
    progress = store.watchlist_progress()
    for name in stale:
        query = CompiledQuery(specs[name].query) if specs[name].query.strip() else None
        after = progress.get(name, 0)
        while rows := store.processed_articles(after, through, PROCESS_BATCH):
            results = []
            for r in rows:
                feats = _stored_features(r)
                doc = MatchDoc.build(r["title"], r.get("text") or "", r.get("url"), feats.lang)
                results.append((r["id"], name, match_watchlist(query, specs[name], doc, feats)))
            after = rows[-1]["id"]
            matches += store.save_matches(results, progress={name: after}, now=now)
        store.save_matches([], progress={name: through}, now=now)
        log.info("watchlist %r: matched again against stored articles", name)
    # 2. new and changed articles: analyse, match, dedup, cluster; one transaction a batch
    processed = duplicates = new_stories = 0
    dates: set[str] = set()
    processor: Processor | None = None
    with Analyser(config, settings.nlp.n_process) as analyser:
        # the workers analyse the next batch while this process stores the current one
        rows = store.articles_to_process(PROCESS_BATCH)
        pending = analyser.submit([article_input(r) for r in rows]) if rows else None
        while rows and pending is not None:
            following = store.articles_to_process(PROCESS_BATCH, after_id=rows[-1]["id"])
            ahead = analyser.submit([article_input(r) for r in following]) if following else None
            processor = processor or Processor(settings, store, now)
            analysed = pending.result()
            clustered = {r["id"] for r in rows if r.get("story_id") is not None}
            batch = processor.run(analysed, clustered)
            results = [(a.features.id, n, why) for a in analysed for n, why in a.matches.items()]
            top = max(r["id"] for r in rows)
            state = processor.state()
            matches += store.save_processed(
                batch.processed,
                matches=results,
                progress={name: top for name in specs},
                stories=batch.stories,
                state={STATE_KEY: state.header},
                cluster_stories=(state.changed, state.removed),
                repoint=batch.repoint,
                merges=batch.merges,
                now=now,
            )
            processor.stored()
            processed += len(rows)
            duplicates += batch.duplicates
            new_stories += batch.new_stories
            dates.update(r.get("published") or r["fetched"] for r in rows)
            if on_batch:
                on_batch(len(rows))
            rows, pending = following, ahead
            if stop is not None and stop() and rows:
                log.warning("process: stopping; %d+ articles left for the next run", len(rows))
                break
    weeks: tuple[str, ...] = ()
    if processed:
        weeks = update_trends(settings, store, dates, now)
        log.info(
            "processed %d articles: %d watchlist matches, %d near duplicates, %d new stories",
            processed,
            matches,
            duplicates,
            new_stories,
        )
    return ProcessReport(processed, matches, tuple(stale), duplicates, new_stories, weeks)


@dataclass(frozen=True)
class ImportReport:
    articles: int
    new: int
    updated: int
    unchanged: int
    sources: tuple[str, ...]


def import_jsonl(store: Store, path: Path, *, now: datetime | None = None) -> ImportReport:
    """Store the articles of a JSON Lines file (checked whole before anything is
    stored) under their ``source`` (default "import"); importing again adds nothing."""
    now = now or utcnow()
    articles = read_jsonl(path)
    by_source: dict[str, list] = {}
    for a in articles:
        by_source.setdefault(a.source, []).append(a.entry)
    new = updated = unchanged = 0
    for name, entries in sorted(by_source.items()):
        source_id = store.ensure_source(name, "import", f"import:{name}", now)
        saved = store.save_entries(source_id, entries, now)
        new, updated, unchanged = (
            new + saved.new,
            updated + saved.updated,
            unchanged + saved.unchanged,
        )
        log.info("import %r: %d new, %d updated from %s", name, saved.new, saved.updated, path)
    return ImportReport(len(articles), new, updated, unchanged, tuple(sorted(by_source)))


# --- digest ------------------------------------------------------------------------


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
    busy: bool = False  # another run was delivering
    stopped: bool = False  # asked to stop part-way; the rest stays pending
    failed: list[str] = field(default_factory=list)
    archive_pages: list[str] = field(default_factory=list)
    outbox: str | None = None

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
) -> DigestReport:
    """Build this period's edition for every audience (once), write it to the archive
    and deliver it to each subscriber exactly once.

    With ``due`` (the scheduler, ``trendwatch digest --due``) only audiences whose
    weekday and hour have come, at most ``[schedule] digest_grace`` ago, and that did
    not get that week's edition yet; each edition then covers the week up to its
    scheduled moment. With ``retry_now`` (``trendwatch digest`` run by hand) the
    deliveries waiting for their retry after a temporary failure are tried at once, as
    flushing a mail queue does; without it they wait for their back-off. ``stop`` is
    asked between messages: when it says yes, the rest stays pending for the next run."""
    now = now or utcnow()
    report = DigestReport()
    at = _due_audiences(settings, store, now, report) if due else None
    editions: list[tuple[int, Edition, tuple[str, ...]]] = []
    for audience, edition, row in _editions(settings, store, now, at):
        if row is None:
            edition_id = store.add_edition(_edition_row(edition))
            report.built.append(edition.key)
            log.info("edition %s: built with %d articles", edition.key, edition.item_count)
        else:
            edition_id = row["id"]
        report.editions.append(edition.key)
        page = settings.archive_dir / edition.archive_path
        if row is None or not page.exists():
            report.archive_pages.append(write_page(settings, edition))
        editions.append((edition_id, edition, audience.emails))
    if report.built or not due:
        write_archive_index(settings, store)
    if dry_run:
        return report
    _deliver(settings, store, editions, report, now, stop, retry_now=retry_now)
    return report


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
        if e in subscribers and (row["item_count"] > 0 or subscribers[e].send_empty)
    ]
    return set(wanted) <= store.delivered_to(row["id"])


def _editions(
    settings: Settings, store: Store, now: datetime, at: dict[str, datetime] | None = None
) -> Iterator[tuple[Audience, Edition, dict | None]]:
    """This period's edition of every audience (of those in ``at``, for the period up
    to its moment there): the frozen one if it was built, else a new one built from the
    store (not yet stored)."""
    titles = {w.name: w.title for w in settings.watchlists}
    for audience in digest_audiences(settings):
        if at is not None and audience.slug not in at:
            continue
        tz = audience.when.timezone
        period = period_ending(at[audience.slug] if at is not None else now, tz)
        row = store.edition(period.key(audience.slug))
        if row is not None:
            yield audience, edition_from_json(row["data"]), row
            continue
        week = f"{period.year}-W{period.week:02d}"
        earlier = [
            edition_from_json(r["data"]) for r in store.editions_for(audience.slug, iso(now))
        ]
        trends = trend_items(
            store.trends(week, "*"),
            {name: store.trends(week, name) for name in audience.watchlists},
        )
        data = EditionData(
            rows_for=lambda name, p=period: store.matched_articles(name, p.start, p.end),
            members_for=store.story_members,
            sent_before=sent_story_sizes(earlier),
            trends=trends,
            related_pool=store.period_articles(period.start, period.end),
        )
        edition = build_edition(
            audience,
            period,
            title=settings.digest_title,
            timezone=tz,
            watchlist_titles=titles,
            data=data,
            built_at=now,
            base_url=settings.base_url,
        )
        yield audience, edition, None


def preview(
    settings: Settings, store: Store, email: str, out_dir: Path, *, now: datetime | None = None
) -> tuple[Path, Path]:
    """Write the HTML and text of ``email``'s next edition to ``out_dir``; nothing is
    recorded, archived or sent."""
    now = now or utcnow()
    subscriber = next(
        (s for s in settings.subscribers if s.email.casefold() == email.casefold()), None
    )
    if subscriber is None:
        known = ", ".join(s.email for s in settings.subscribers) or "none"
        raise KeyError(f"no subscriber {email!r} in {settings.path} (subscribers: {known})")
    for audience, edition, _ in _editions(settings, store, now):
        if subscriber.email in audience.emails:
            rendered = render_edition(
                edition,
                _recipient(settings, subscriber),
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


def _recipient(settings: Settings, sub: Any) -> Recipient:
    recipient = Recipient(sub.email, sub.name, sub.language, tuple(sub.watchlists))
    return with_links(
        recipient,
        secret=token_secret(settings),
        base_url=settings.base_url,
        unsubscribe_mailto=settings.unsubscribe_mailto or _address(settings.sender),
    )


def _address(mailbox: str) -> str:
    return parseaddr(mailbox)[1] or mailbox


def token_secret(settings: Settings) -> bytes:
    """The secret that signs unsubscribe and manage links: from the environment
    variable ``secret_env`` names, else a random one kept in the data folder."""
    if settings.secret_env:
        value = os.environ.get(settings.secret_env, "")
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                [
                    ConfigProblem(
                        str(settings.path),
                        "secret_env",
                        f"environment variable {settings.secret_env} must hold a secret of"
                        f" at least {MIN_SECRET_BYTES} bytes ({MIN_SECRET_BYTES} ASCII characters)",
                    )
                ]
            )
        return value.encode()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        make_private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        problem = f"cannot read the link secret: {exc.strerror or exc}"
    else:
        if len(secret) >= MIN_SECRET_BYTES:
            return secret
        problem = f"the link secret is {len(secret)} bytes; it needs at least {MIN_SECRET_BYTES}"
    # bad local configuration (exit 2): the links signed with it cannot be made
    raise ConfigError(
        [
            ConfigProblem(
                str(path),
                "",
                f"{problem}. Delete the file to have a new one made (links in mails already"
                f" sent stop working), or set secret_env in {settings.path} to the name of an"
                f" environment variable holding a secret of at least {MIN_SECRET_BYTES}"
                " characters.",
            )
        ]
    )


def _edition_row(edition: Edition) -> dict:
    return {
        "key": edition.key,
        "slug": edition.slug,
        "title": edition.title,
        "language": edition.language,
        "period_start": iso(edition.period_start),
        "period_end": iso(edition.period_end),
        "year": edition.year,
        "week": edition.week,
        "watchlists": ",".join(s.watchlist for s in edition.sections),
        "item_count": edition.item_count,
        "archive_path": edition.archive_path,
        "data": edition_to_json(edition),
        "built_at": iso(edition.built_at or utcnow()),
    }


RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)
PENDING_GIVE_UP = timedelta(days=7)


def retry_after(attempts: int) -> timedelta:
    """Back-off after a temporary failure: 5 minutes, doubling per attempt, at most 6 h."""
    return min(RETRY_FIRST * (2 ** max(0, attempts - 1)), RETRY_MAX)


@contextmanager
def delivery_lock(settings: Settings) -> Iterator[bool]:
    """One delivering run per data folder at a time (the scheduler's and a manual one may
    overlap): yields False when another process holds the lock."""
    make_private_dir(settings.data_dir)
    with open(settings.data_dir / "delivery.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _earlier_pending(
    settings: Settings, store: Store, current: set[int], now: datetime
) -> list[tuple[int, Edition, tuple[str, ...]]]:
    """Deliveries of earlier editions still pending (a temporary failure at the end of
    a period): delivered late within PENDING_GIVE_UP of the edition, else given up."""
    subscribers = {s.email for s in settings.subscribers}
    out: dict[int, tuple[Edition, list[str]]] = {}
    for row in store.unfinished_deliveries():
        if row["edition_id"] in current:
            continue
        built = datetime.fromisoformat(row["built_at"])
        if now - built > PENDING_GIVE_UP or row["subscriber"] not in subscribers:
            why = (
                "given up: not delivered within 7 days of the edition"
                if row["subscriber"] in subscribers
                else "given up: no longer a subscriber"
            )
            store.finish_delivery(row["id"], "failed", now, error=why)
            log.warning("delivery %s -> %s: %s", row["edition_key"], row["subscriber"], why)
            continue
        if row["edition_id"] not in out:
            out[row["edition_id"]] = (edition_from_json(row["data"]), [])
        out[row["edition_id"]][1].append(row["subscriber"])
    return [(eid, edition, tuple(emails)) for eid, (edition, emails) in out.items()]


def _transport(settings: Settings, report: DigestReport) -> tuple[Any, str]:
    smtp = settings.smtp
    if smtp is None:
        report.outbox = str(settings.outbox_dir)
        return OutboxTransport(settings.outbox_dir), "outbox"
    transport = SmtpTransport(
        smtp.host,
        smtp.port,
        starttls=smtp.starttls,
        ssl=smtp.ssl,
        username=smtp.username,
        password=smtp.password(),
        timeout=smtp.timeout,
    )
    return transport, "smtp"


def _deliver(
    settings: Settings,
    store: Store,
    editions: list[tuple[int, Edition, tuple[str, ...]]],
    report: DigestReport,
    now: datetime,
    stop: Callable[[], bool] | None = None,
    *,
    retry_now: bool = False,
) -> None:
    with delivery_lock(settings) as mine:
        if not mine:
            report.busy = True
            log.warning("delivery: another trendwatch run is delivering; left to it")
            return
        current = {edition_id for edition_id, _, _ in editions}
        batch = editions + _earlier_pending(settings, store, current, now)
        transport, kind = _transport(settings, report)
        with transport:
            _deliver_batch(
                settings, store, batch, report, transport, kind, now, stop, retry_now=retry_now
            )


def _deliver_batch(
    settings: Settings,
    store: Store,
    batch: list[tuple[int, Edition, tuple[str, ...]]],
    report: DigestReport,
    transport: Any,
    kind: str,
    now: datetime,
    stop: Callable[[], bool] | None = None,
    *,
    retry_now: bool = False,
) -> None:
    subscribers = {s.email: s for s in settings.subscribers}
    domain = settings.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    for edition_id, edition, emails in batch:
        for email in emails:
            if stop is not None and stop():
                report.stopped = True
                log.warning("delivery: stopping; what is left stays pending for the next run")
                return
            sub = subscribers[email]
            if edition.item_count == 0 and not sub.send_empty:
                report.empty.append(f"{edition.key} -> {email}")
                continue  # nothing at all this period: not sent unless asked for
            row = store.ensure_delivery(edition_id, email, now)
            label = f"{edition.key} -> {email}"
            delivery_key = f"{edition.key}/{email}"
            if row["status"] == "sending":
                row = _recover_interrupted(store, row, transport, delivery_key, label)
            if row["status"] == "failed":
                report.failed_before.append(f"{label}: {row['last_error'] or 'no answer kept'}")
                continue
            if row["status"] != "pending":
                report.skipped.append(label)
                continue
            due = from_iso(row["next_attempt"])
            if due is not None and due > now and not retry_now:
                report.deferred.append(f"{label}: retry after {row['next_attempt']}")
                continue
            # the Message-ID stays the same across attempts, so a resent copy is known
            message_id = row["message_id"] or make_message_id(delivery_key, domain)
            recipient = _recipient(settings, sub)
            rendered = render_edition(
                edition, recipient, sender=settings.sender, template_dir=settings.template_dir
            )
            msg = build_message(
                edition, recipient, rendered, sender=settings.sender, message_id=message_id
            )
            if not store.claim_delivery(row["id"], kind, message_id):
                report.skipped.append(label)
                continue
            started = time.monotonic()
            try:
                transport.send(msg, delivery_key)
            except SessionDeliveryError as exc:
                # the server refused us, not this reader: keep it pending and stop here
                attempts = row["attempts"] + 1
                store.finish_delivery(
                    row["id"],
                    "pending",
                    now,
                    error=str(exc),
                    next_attempt=now + retry_after(attempts),
                )
                report.failed.append(f"{label}: {exc}")
                log.error("delivery stopped: %s; everything left stays pending", exc)
                return
            except DeliveryError as exc:
                attempts = row["attempts"] + 1
                if exc.temporary:
                    wait = now + retry_after(attempts)
                    store.finish_delivery(
                        row["id"], "pending", now, error=str(exc), next_attempt=wait
                    )
                else:
                    store.finish_delivery(row["id"], "failed", now, error=str(exc))
                report.failed.append(f"{label}: {exc}")
                log.error("delivery %s: %s", label, exc)
                continue
            store.finish_delivery(row["id"], "sent", now)
            report.sent.append(label)
            log.info("delivery %s: sent via %s (%.2f s)", label, kind, time.monotonic() - started)


def _recover_interrupted(
    store: Store,
    row: dict,
    transport: OutboxTransport | SmtpTransport,
    delivery_key: str,
    label: str,
) -> dict:
    """A delivery left in 'sending' by a run that died mid-message. An outbox file
    tells whether it was written. For SMTP nobody knows whether the server accepted it
    in the instant before the crash: it is sent again, with the same Message-ID, because
    losing a digest silently is worse than a duplicate that mail systems can recognise."""
    if isinstance(transport, OutboxTransport) and transport.already_delivered(delivery_key):
        store.finish_delivery(row["id"], "sent", utcnow())
        log.warning("delivery %s: found written by an interrupted run; recorded", label)
    else:
        store.finish_delivery(row["id"], "pending", utcnow(), error="interrupted while sending")
        log.warning("delivery %s: interrupted while sending; sending again", label)
    return store.delivery(row["id"]) or row


# --- archive -----------------------------------------------------------------------


def write_page(settings: Settings, edition: Edition) -> str:
    """The edition's web version (no personal data) as a standalone archive page."""
    html = render_edition(edition, template_dir=settings.template_dir).html
    return str(write_edition_page(settings.archive_dir, edition, html))


def write_archive_index(settings: Settings, store: Store) -> str:
    """Rewrite every archive index (overall, per year, per watchlist) and the Atom feed
    from the editions in the store."""
    entries = [archive_entry(edition_from_json(r["data"])) for r in store.editions()]
    languages = Counter(s.language for s in settings.subscribers)
    paths = write_indexes(
        settings.archive_dir,
        entries,
        title=settings.digest_title,
        language=languages.most_common(1)[0][0] if languages else "nl",
        base_url=settings.base_url,
        template_dir=settings.template_dir,
        timezone=settings.schedule.timezone,
    )
    return str(paths[0])


def rebuild_archive(settings: Settings, store: Store) -> list[str]:
    """Rewrite every stored edition's page and the index (e.g. after a template change)."""
    pages = []
    for row in store.editions():
        edition = edition_from_json(row["data"])
        pages.append(
            str(write_edition_page(settings.archive_dir, edition, render_edition(edition).html))
        )
    pages.append(write_archive_index(settings, store))
    return pages
