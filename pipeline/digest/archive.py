"""The public archive: each edition's web page (no personal data), the indexes
(overall, per year, per watchlist) and the Atom feed, written from the stored editions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from digests.archive import archive_entry, write_edition_page, write_indexes
from digests.model import Edition
from digests.render import EditionRenderer, render_web_page
from pipeline.digest.frozen import edition_from_json
from pipeline.settings import Settings
from pipeline.store import Store


def write_page(settings: Settings, edition: Edition) -> str:
    """The edition's web version (no personal data) as a standalone archive page."""
    return str(write_edition_page(settings.archive_dir, edition, page_html(settings, edition)))


def page_html(
    settings: Settings,
    edition: Edition,
    renderer: EditionRenderer | None = None,
    *,
    html: str | None = None,
) -> str:
    """The edition's archive page (no personal data): ``html`` itself when given (rendered
    already, by another process), else from ``renderer`` when it is the edition's (its
    views are reused), else rendered anew."""
    if html is None and renderer is not None and renderer.edition is edition:
        html = renderer.archive_html()
    elif html is None:
        html = render_web_page(edition, template_dir=settings.template_dir)
    return html


def write_archive_index(
    settings: Settings, store: Store, known: Mapping[str, Edition] | None = None
) -> list[str]:
    """Rewrite every archive index (overall, per year, per watchlist) and the Atom feed
    from the editions in the store; the files written, the overall index first.
    ``known``: editions the caller holds as stored, by key (the run's own), taken as they
    are instead of decoded again."""
    known = known or {}
    entries = [
        archive_entry(known[r.key] if r.key in known else edition_from_json(r.data))
        for r in store.editions()
    ]
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
    return [str(path) for path in paths]


def rebuild_archive(settings: Settings, store: Store) -> list[str]:
    """Rewrite every stored edition's page, the indexes and the feed (e.g. after a
    template change: the config's ``template_dir`` is used); the files written."""
    pages = [write_page(settings, edition_from_json(row.data)) for row in store.editions()]
    return pages + write_archive_index(settings, store)
