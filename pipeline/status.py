"""The read model behind ``trendwatch status`` (and later the web pages): what state
the sources, the articles, the editions and their deliveries are in, and what comes
next (the next crawl, each edition's next digest, the next delivery retry).

:func:`status_data` only reads, through the Store, and returns plain data (dicts,
lists, strings, numbers: what ``status --json`` prints as it is); it prints nothing.
The caller syncs the configured sources into the store first (``Store.sync_sources``)
so that a source just added to the config shows up. The subscribers are the config's
and the web's, without those who unsubscribed, who are listed apart.
pipeline.cli.status lays the data out for a terminal.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.digest import job as digest_job
from pipeline.settings import Settings
from pipeline.store import DeliveryRow, EditionRow, SourceRow, Store, iso
from pipeline.store.subscribers import UNSUBSCRIBED, email_key
from pipeline.subscriptions import with_readers


def status_data(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    """Everything ``trendwatch status`` shows, as of ``now``."""
    from pipeline.schedule.decide import next_slot
    from pipeline.schedule.locks import database_lock_holder, lock_holder

    week_ago = now - timedelta(days=7)
    polls = list(store.next_polls().values())
    next_crawl = min((t or now for t in polls), default=None)
    readers = with_readers(settings, store)  # the config's and the web's, less unsubscribes
    return {
        "config": str(settings.path),
        "database": store.location,  # a PostgreSQL URL without its password
        "schema_version": store.schema_version,
        # this machine's run by its data folder, else any machine's by the database
        "scheduler": lock_holder(settings.data_dir) or database_lock_holder(store),
        "next_crawl": iso(max(next_crawl, now)) if next_crawl else None,
        "next_digests": [
            {
                "edition": a.slug,
                "subscribers": list(a.emails),
                "at": iso(next_slot(now, a.when)),
                "timezone": a.when.timezone,
            }
            for a in digest_job.digest_audiences(readers)
        ],
        "next_retry": iso(store.next_delivery_attempt()),
        "articles": store.article_count(),
        "articles_this_week": store.article_count_since(week_ago),
        "matches_this_week": store.match_count(week_ago),
        "stories_this_week": store.story_count(week_ago),
        "sources": [_source_status(r, now) for r in store.sources()],
        "editions": [_edition_status(store, e) for e in store.editions()[:10]],
        "deliveries": store.delivery_counts(),
        "subscribers": _subscribers(settings, readers, store, now),
        "queue": _queue(store),
        "failed_analyses": _failed_analyses(store),
    }


def _failed_analyses(store: Store) -> dict[str, Any]:
    """The articles whose analysis failed (processed without features): how many, and
    the latest few with the error."""
    count, latest = store.failed_analyses(limit=5)
    return {
        "count": count,
        "latest": [
            {"article": f.article_id, "title": f.title, "error": f.error, "at": iso(f.analysed_at)}
            for f in latest
        ],
    }


def _queue(store: Store) -> dict[str, Any] | None:
    """The work queue on PostgreSQL: each queue's jobs by state, and each worker's
    last heartbeat; None without a queue (SQLite)."""
    if not store.has_queue():
        return None
    return {
        "queues": [
            {
                "queue": q.queue,
                "waiting": q.waiting,
                "running": q.running,
                "stalled": q.stalled,
                "failed": q.failed,
            }
            for q in store.queue_counts()
        ],
        "workers": [
            {
                "id": w.id,
                "last_heartbeat": iso(w.last_heartbeat),
                "seconds_since_heartbeat": w.seconds_since,
                "running": w.running,
                "alive": w.alive,
            }
            for w in store.queue_workers()
        ],
    }


def _subscribers(
    settings: Settings, readers: Settings, store: Store, now: datetime
) -> dict[str, Any]:
    """How many get the digest (``readers``: from the config, from the web), how many
    requests wait for their confirmation, and who unsubscribed, when (the latest first)
    and whether the config still names them (they get nothing all the same)."""
    configured = {email_key(s.email) for s in settings.subscribers}
    from_config = sum(email_key(s.email) in configured for s in readers.subscribers)
    gone = store.subscriber_records(UNSUBSCRIBED)
    gone.sort(key=lambda r: (r.unsubscribed_at or r.updated, r.email_key), reverse=True)
    return {
        "from_config": from_config,
        "from_web": len(readers.subscribers) - from_config,
        "waiting_for_confirmation": store.open_request_count(now),
        "unsubscribed": [
            {
                "email": r.email,
                "at": iso(r.unsubscribed_at or r.updated),
                "in_config": r.email_key in configured,
            }
            for r in gone
        ],
    }


def _source_status(row: SourceRow, now: datetime) -> dict[str, Any]:
    return {
        "name": row.name,
        "type": row.type,
        "url": row.url,
        "config_url": row.config_url,
        "enabled": row.enabled,
        "health": _health(row, now),
        "articles": row.article_count,
        "last_success": row.last_success,
        "last_error": row.last_error,
        "last_error_at": row.last_error_at,
        "last_status": row.last_status,
        "consecutive_errors": row.consecutive_errors,
        "warning": row.warning,
        "next_poll": None if row.disabled_reason else row.next_poll,
        "poll_interval": row.poll_interval,
        "retry_after": row.retry_after,
        "moved_from": row.moved_from,
        "url_changed_at": row.url_changed_at,
        "disabled_reason": row.disabled_reason,
        "disabled_at": row.disabled_at,
        "notes": _source_notes(row, now),
    }


def _health(row: SourceRow, now: datetime) -> str:
    if row.disabled_reason:
        return "gone, disabled"
    if not row.enabled:
        return "disabled in config"
    if row.last_success is None and row.last_error is None:
        return "never fetched"
    if row.consecutive_errors and row.retry_after and row.retry_after > iso(now):
        return "rate limited"
    if row.consecutive_errors:
        return f"failing ({row.consecutive_errors}x)"
    if row.warning:
        return "ok, with warning"
    return "ok"


def _source_notes(row: SourceRow, now: datetime) -> list[str]:
    """What else a person should know about a source, one short phrase each."""
    notes = []
    if row.disabled_reason:
        notes.append(
            f"{row.disabled_reason}; not polled any more. Change its url in the config or"
            f" run `trendwatch sources enable {row.name!r}`"
        )
    if row.retry_after and row.retry_after > iso(now):
        notes.append(f"rate limited: no poll before {row.retry_after}")
    if row.moved_from:
        notes.append(
            f"moved permanently on {(row.url_changed_at or '')[:10]} from {row.moved_from};"
            f" now polled at {row.url} (the config still says {row.config_url})"
        )
    if row.warning:
        notes.append(row.warning)
    return notes


def _edition_status(store: Store, edition: EditionRow) -> dict[str, Any]:
    rows = store.deliveries(edition.id)
    return {
        "key": edition.key,
        "items": edition.item_count,
        "built_at": iso(edition.built_at),
        "deliveries": _count_status(rows),
        "problems": _delivery_problems(rows),
    }


def _delivery_problems(rows: list[DeliveryRow]) -> list[dict[str, Any]]:
    """The deliveries that failed for good, and those waiting to be retried after an
    error: who, how often it was tried, the server's last answer, the next attempt."""
    return [
        {
            "subscriber": r.subscriber,
            "status": "failed" if r.status == "failed" else "retrying",
            "attempts": r.attempts,
            "last_error": r.last_error or "",
            "next_attempt": iso(r.next_attempt) if r.status != "failed" else None,
        }
        for r in rows
        if r.status == "failed" or (r.status in ("pending", "sending") and r.last_error)
    ]


def _count_status(rows: list[DeliveryRow]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r.status] = out.get(r.status, 0) + 1
    return out
