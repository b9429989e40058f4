"""One audience's new edition of a period, built from the store and fitted under the
size at which mail programs clip a mail; and the row the store keeps it as.

:func:`new_edition` is the unit of work of building: the digest job calls it for each
audience whose edition is not built yet (in this process, or in a second one:
:mod:`pipeline.digest.parallel`), and so can a caller that builds one edition at a
time. What several audiences share is read once through the
:class:`~pipeline.digest.reads.EditionReads` the caller keeps for its run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from digests.model import Edition, Recipient
from digests.render import render_edition
from pipeline.digest.editions import Audience, Period, build_edition
from pipeline.digest.fit import fit_edition
from pipeline.digest.frozen import edition_from_json, edition_to_json
from pipeline.digest.reads import EditionReads
from pipeline.digest.secret import recipient
from pipeline.settings import Settings, Subscriber
from pipeline.store import iso


def new_edition(
    settings: Settings,
    reads: EditionReads,
    audience: Audience,
    period: Period,
    now: datetime,
    subscribers: Mapping[str, Subscriber] | None = None,
) -> Edition:
    """``audience``'s edition of ``period``, built at ``now`` from the store that
    ``reads`` reads (its earlier editions decide which stories come back), its HTML
    part fitted under :data:`pipeline.digest.fit.MAIL_HTML_LIMIT` for the audience's
    reader with the longest address. Nothing is written. ``subscribers``: the
    settings' by address, when the caller holds them."""
    if subscribers is None:
        subscribers = {s.email: s for s in settings.subscribers}
    store = reads.store
    earlier = [edition_from_json(r.data) for r in store.editions_for(audience.slug, iso(now))]
    build = functools.partial(
        build_edition,
        audience,
        period,
        title=settings.digest_title,
        timezone=audience.when.timezone,
        watchlist_titles={w.name: w.title for w in settings.watchlists},
        data=reads.edition_data(audience, period, earlier),
        built_at=now,
        base_url=settings.base_url,
    )
    return fit_edition(
        lambda quotas: build(quota=quotas),
        mail_size(settings, longest_address(settings, subscribers, audience)),
        audience.watchlists,
    )


def mail_size(settings: Settings, reader: Recipient) -> Callable[[Edition], int]:
    """The size in bytes of an edition's HTML part as ``reader`` gets it."""

    def size(edition: Edition) -> int:
        rendered = render_edition(
            edition, reader, sender=settings.sender, template_dir=settings.template_dir
        )
        return len(rendered.html.encode("utf-8"))

    return size


def longest_address(
    settings: Settings, subscribers: Mapping[str, Subscriber], audience: Audience
) -> Recipient:
    """The reader of ``audience`` with the longest address, with its links: the others'
    HTML parts are a few bytes shorter at most."""
    known = [subscribers[e] for e in audience.emails if e in subscribers]
    if not known:  # cannot happen: an audience is made of subscribers
        return Recipient(email="", name="", language=audience.language)
    return recipient(settings, max(known, key=lambda s: len(s.email)))


def edition_row(edition: Edition) -> dict:
    """The store's row of a built edition (``Store.add_edition``)."""
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
        "built_at": iso(edition.built_at or datetime.now(UTC)),
    }
