"""The jobs: crawl, process, digest, archive.

The CLI and (later) the scheduler call these same functions, so a manual run and a
scheduled run behave alike. Each job is idempotent: running it again does no harm.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawlers.feed_crawler import CrawlOutcome, FetchState, crawl_feed
from crawlers.http import HttpOptions, make_client
from digests.archive import write_edition_page, write_index
from digests.deliver import (
    DeliveryError,
    OutboxTransport,
    SmtpTransport,
)
from digests.mail import build_message, make_message_id
from digests.model import ArchiveEntry, Edition, Recipient
from digests.render import render_edition
from pipeline.editions import (
    audiences,
    build_edition,
    edition_from_json,
    edition_to_json,
    period_ending,
)
from pipeline.features import ArticleFeatures, Entity
from pipeline.jsonl import read_jsonl
from pipeline.matching import CompiledQuery, MatchDoc
from pipeline.settings import Settings
from pipeline.store import SourceRow, Store, iso

log = logging.getLogger("trendwatch")

MAX_BACKOFF = timedelta(hours=24)
CRAWL_CONCURRENCY = 16
PROCESS_BATCH = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- crawl -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceReport:
    name: str
    status: str  # "ok", "not modified", "error"
    new: int = 0
    updated: int = 0
    entries: int = 0
    error: str | None = None
    warning: str | None = None
    seconds: float = 0.0


def next_poll_after(success: bool, errors: int, every: timedelta, now: datetime) -> datetime:
    """When to poll again: the interval after a success, exponential back-off
    (interval x 2^(errors-1), at most a day) after consecutive failures."""
    if success or errors <= 0:
        return now + every
    return now + min(every * (2 ** min(errors - 1, 16)), max(MAX_BACKOFF, every))


def crawl(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    on_done: Callable[[SourceReport], None] | None = None,
) -> list[SourceReport]:
    """Fetch every enabled source once, store new entries and each source's health."""
    now = now or utcnow()
    store.sync_sources(settings.sources, now)
    rows = [r for r in store.sources() if r.enabled and r.type in ("feed", "alert")]
    return asyncio.run(_crawl_rows(settings, store, rows, on_done))


async def _crawl_rows(
    settings: Settings,
    store: Store,
    rows: list[SourceRow],
    on_done: Callable[[SourceReport], None] | None,
) -> list[SourceReport]:
    limit = asyncio.Semaphore(CRAWL_CONCURRENCY)
    reports: list[SourceReport] = []
    options = HttpOptions(allow_private_networks=settings.allow_private_networks)
    async with make_client(options) as client:

        async def one(row: SourceRow) -> None:
            async with limit:
                started = time.monotonic()
                state = FetchState(row.url, row.etag, row.last_modified, row.language)
                outcome = await crawl_feed(client, row.name, state)
                report = _record(settings, store, row, outcome, time.monotonic() - started)
                reports.append(report)
                if on_done:
                    on_done(report)

        await asyncio.gather(*(one(r) for r in rows))
    reports.sort(key=lambda r: r.name)
    return reports


def _record(
    settings: Settings, store: Store, row: SourceRow, outcome: CrawlOutcome, seconds: float
) -> SourceReport:
    now = utcnow()
    every = settings.schedule.crawl_every
    if outcome.error:
        errors = row.consecutive_errors + 1
        store.record_fetch_error(
            row.id, now, outcome.error, next_poll=next_poll_after(False, errors, every, now)
        )
        log.warning("source %r: %s (failure %d in a row)", row.name, outcome.error, errors)
        return SourceReport(row.name, "error", error=outcome.error, seconds=seconds)
    saved = store.save_entries(row.id, outcome.entries, now)
    store.record_fetch_success(
        row.id,
        now,
        etag=outcome.fetch.etag,
        last_modified=outcome.fetch.last_modified,
        warning=outcome.warning,
        title=outcome.feed_title,
        next_poll=next_poll_after(True, 0, every, now),
    )
    if outcome.not_modified:
        log.info("source %r: not modified (%.2f s)", row.name, seconds)
        return SourceReport(row.name, "not modified", seconds=seconds)
    if outcome.warning:
        log.warning("source %r: %s", row.name, outcome.warning)
    log.info(
        "source %r: %d entries, %d new, %d updated (%.2f s)",
        row.name,
        len(outcome.entries),
        saved.new,
        saved.updated,
        seconds,
    )
    return SourceReport(
        row.name,
        "ok",
        new=saved.new,
        updated=saved.updated,
        entries=len(outcome.entries),
        warning=outcome.warning,
        seconds=seconds,
    )


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
) -> ProcessReport:
    """Analyse new and changed articles (language, spaCy tags, keyphrases), match them
    against every watchlist, mark near duplicates, assign stories and update the week's
    trends; re-match stored articles for watchlists that are new or whose query changed."""
    # spaCy, numpy and datasketch load here, not when the CLI starts
    from pipeline.processing import (
        Analyser,
        Processor,
        article_input,
        match_watchlist,
        worker_config,
    )
    from pipeline.trend_job import update_trends

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
        while rows := store.articles_to_process(PROCESS_BATCH):
            processor = processor or Processor(settings, store, now)
            analysed = analyser([article_input(r) for r in rows])
            clustered = {r["id"] for r in rows if r.get("story_id") is not None}
            batch = processor.run(analysed, clustered)
            results = [(a.features.id, n, why) for a in analysed for n, why in a.matches.items()]
            top = max(r["id"] for r in rows)
            matches += store.save_processed(
                batch.articles,
                matches=results,
                progress={name: top for name in specs},
                stories=batch.stories,
                state=processor.state(),
                repoint=batch.repoint,
                now=now,
            )
            processed += len(rows)
            duplicates += batch.duplicates
            new_stories += batch.new_stories
            dates.update(r.get("published") or r["fetched"] for r in rows)
            if on_batch:
                on_batch(len(rows))
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
) -> DigestReport:
    """Build this period's edition for every audience (once), write it to the archive
    and deliver it to each subscriber exactly once."""
    now = now or utcnow()
    report = DigestReport()
    tz = settings.schedule.timezone
    period = period_ending(now, tz)
    titles = {w.name: w.title for w in settings.watchlists}
    editions: list[tuple[int, Edition, tuple[str, ...]]] = []
    for audience in audiences(settings.subscribers):
        key = period.key(audience.slug)
        row = store.edition(key)
        if row is None:
            edition = build_edition(
                audience,
                period,
                title=settings.digest_title,
                timezone=tz,
                watchlist_titles=titles,
                rows_for=lambda name: store.matched_articles(name, period.start, period.end),
                built_at=now,
                base_url=settings.base_url,
            )
            edition_id = store.add_edition(_edition_row(edition))
            report.built.append(key)
            log.info("edition %s: built with %d articles", key, edition.item_count)
        else:
            edition_id, edition = row["id"], edition_from_json(row["data"])
        report.editions.append(key)
        page = settings.archive_dir / edition.archive_path
        if row is None or not page.exists():
            report.archive_pages.append(write_page(settings, edition))
        editions.append((edition_id, edition, audience.emails))
    write_archive_index(settings, store)
    if dry_run:
        return report
    _deliver(settings, store, editions, report)
    return report


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


def _deliver(
    settings: Settings,
    store: Store,
    editions: list[tuple[int, Edition, tuple[str, ...]]],
    report: DigestReport,
) -> None:
    subscribers = {s.email: s for s in settings.subscribers}
    smtp = settings.smtp
    transport: OutboxTransport | SmtpTransport
    if smtp is None:
        transport = OutboxTransport(settings.outbox_dir)
        report.outbox = str(settings.outbox_dir)
        kind = "outbox"
    else:
        transport = SmtpTransport(
            smtp.host,
            smtp.port,
            starttls=smtp.starttls,
            ssl=smtp.ssl,
            username=smtp.username,
            password=smtp.password(),
            timeout=smtp.timeout,
        )
        kind = "smtp"
    domain = settings.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    with transport:
        for edition_id, edition, emails in editions:
            for email in emails:
                sub = subscribers[email]
                row = store.ensure_delivery(edition_id, email, utcnow())
                label = f"{edition.key} -> {email}"
                delivery_key = f"{edition.key}/{email}"
                if row["status"] == "sending":
                    row = _recover_interrupted(store, row, transport, delivery_key, label)
                if row["status"] != "pending":
                    report.skipped.append(label)
                    continue
                message_id = make_message_id(delivery_key, domain)
                if not store.claim_delivery(row["id"], kind, message_id):
                    report.skipped.append(label)
                    continue
                recipient = Recipient(sub.email, sub.name, sub.language, tuple(sub.watchlists))
                rendered = render_edition(edition, recipient, sender=settings.sender)
                msg = build_message(
                    edition, recipient, rendered, sender=settings.sender, message_id=message_id
                )
                try:
                    transport.send(msg, delivery_key)
                except DeliveryError as exc:
                    status = "pending" if exc.temporary else "failed"
                    store.finish_delivery(row["id"], status, utcnow(), error=str(exc))
                    report.failed.append(f"{label}: {exc}")
                    log.error("delivery %s: %s", label, exc)
                    continue
                store.finish_delivery(row["id"], "sent", utcnow())
                report.sent.append(label)
                log.info("delivery %s: sent via %s", label, kind)


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
    html = render_edition(edition).html
    return str(write_edition_page(settings.archive_dir, edition, html))


def write_archive_index(settings: Settings, store: Store) -> str:
    """Rewrite the archive index from every edition in the store."""
    entries = [
        ArchiveEntry(
            title=r["title"],
            language=r["language"],
            year=r["year"],
            week=r["week"],
            period_start=datetime.fromisoformat(r["period_start"]),
            period_end=datetime.fromisoformat(r["period_end"]),
            path=r["archive_path"],
            item_count=r["item_count"],
            watchlists=tuple(w for w in r["watchlists"].split(",") if w),
        )
        for r in store.editions()
    ]
    language = settings.subscribers[0].language if settings.subscribers else "nl"
    path = write_index(
        settings.archive_dir,
        entries,
        title=settings.digest_title,
        language=language,
        timezone=settings.schedule.timezone,
    )
    return str(path)


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
