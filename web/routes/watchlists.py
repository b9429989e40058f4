"""Watchlists: ``/watchlists`` (every watchlist with its count this week),
``/watchlists/{name}`` (weekly counts over the last six months as an SVG chart, the
rising terms and names of each week with their numbers, the latest stories) and
``/watchlists/{name}.atom`` (an Atom feed of the watchlist's matched stories, newest
first, to follow it in any feed reader).

Weeks are ISO weeks in the config's time zone (``[schedule] timezone``), counted back
from the application's clock (``create_app(clock=...)``): the current week (not over
yet, hatched in the chart) and the 25 before it. A name from the URL that is not a
configured watchlist is a 404.

The feed: each entry is a story (or an article that belongs to none): the story's
representative article's title and link, the other sources that carried it, a link to
the story page; its id is stable (the story page's URL under ``base_url``, else a
``urn:uuid`` derived from the story's id), its ``updated`` the time the story last
changed in the store. It holds no personal data (no authors, no subscribers). It is
cacheable: an ``ETag`` (a hash of the body) and ``Last-Modified`` (the newest entry's
``updated``); a conditional GET that matches is answered 304. Its language is the one
``?lang=`` asks for, else the one most subscribers read, so one URL is one document.

The reads (:mod:`pipeline.store.pages`) are indexed; the per-watchlist aggregates, the
page's body and the feed are computed once and kept on the connection until the
database changes (``Store.page_cached``), so a page costs about what the home page does.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digests import i18n as digest_i18n
from pipeline.process.trends import previous_weeks, week_bounds, week_key
from pipeline.settings import Settings, Watchlist
from pipeline.store import Store, StoredTrend, StorySource, WatchlistStory
from web import i18n
from web.charts import week_chart
from web.routes.stories import count_noun, day, formatters, number, web_href, when
from web.state import app_state, settings_of, store_of, url
from web.templating import environment, language, page_context, render

WEEKS = 26  # about six months
PAGE_STORIES = 10
FEED_STORIES = 30
RISING_PER_KIND = 5
MAX_OTHER_SOURCES = 8
FEED_MAX_AGE = 300  # seconds a feed reader or proxy may keep the feed
ATOM = "application/atom+xml; charset=utf-8"
NO_WATCHLIST = "no_watchlist"

Week = tuple[str, datetime, datetime]  # ISO week key, start, end (exclusive)


# --- pure -------------------------------------------------------------------------


def recent_weeks(now: datetime, timezone: str, count: int = WEEKS) -> list[Week]:
    """The ISO week of ``now`` in ``timezone`` and the ``count - 1`` before it, oldest
    first, each with its bounds (local midnights). Pure."""
    current = week_key(now, timezone)
    keys = [*reversed(previous_weeks(current, count - 1)), current]
    return [(key, *week_bounds(key, timezone)) for key in keys]


@dataclass(frozen=True)
class Rising:
    """A term or name that rose in a week: its label, the articles that have it, how
    many times its usual share (None when it is new)."""

    label: str
    count: int
    ratio: float | None
    new: bool


@dataclass(frozen=True)
class WeekRising:
    week: str
    start: datetime
    end: datetime
    terms: tuple[Rising, ...]
    names: tuple[Rising, ...]


def rising_by_week(
    trends: Sequence[StoredTrend], weeks: Sequence[Week], per_kind: int = RISING_PER_KIND
) -> list[WeekRising]:
    """Per week (newest first), the terms and names that rose (or are new), strongest
    first, as the digest ranks them; weeks without any are left out. Pure."""
    by_week: dict[tuple[str, str], list[StoredTrend]] = {}
    for trend in trends:
        by_week.setdefault((trend.week, trend.kind), []).append(trend)
    out = []
    for key, start, end in reversed(weeks):
        lists = []
        for kind in ("term", "entity"):
            rows = [
                t.data
                for t in by_week.get((key, kind), [])
                if t.data.get("new") or float(t.data.get("score") or 0) > 0
            ]
            rows.sort(key=lambda d: (-float(d.get("score") or 0), -int(d["count"]), d["term"]))
            lists.append(
                tuple(
                    Rising(
                        label=str(d.get("label") or d["term"]),
                        count=int(d["count"]),
                        ratio=None if d.get("new") else float(d["ratio"]),
                        new=bool(d.get("new")),
                    )
                    for d in rows[:per_kind]
                )
            )
        if any(lists):
            out.append(WeekRising(key, start, end, lists[0], lists[1]))
    return out


@dataclass(frozen=True)
class OtherSource:
    name: str
    href: str | None


@dataclass(frozen=True)
class StoryView:
    """One of a watchlist's stories, as the page and the feed show it."""

    story: WatchlistStory
    href: str | None  # the representative article's link
    others: tuple[OtherSource, ...]  # the other sources that carried it


def story_views(
    stories: Sequence[WatchlistStory], sources: Sequence[StorySource]
) -> list[StoryView]:
    """The stories with the other sources that carried each (not the representative's
    source), each source once. Pure."""
    by_story: dict[int, list[StorySource]] = {}
    for s in sources:
        by_story.setdefault(s.story_id, []).append(s)
    views = []
    for story in stories:
        carried = by_story.get(story.story_id, []) if story.story_id is not None else []
        others = [
            OtherSource(s.source_name, web_href(s.url))
            for s in carried
            if s.source_name != story.source_name
        ]
        views.append(StoryView(story, web_href(story.url), tuple(others[:MAX_OTHER_SOURCES])))
    return views


def is_fresh(
    if_none_match: str | None, if_modified_since: str | None, etag: str, modified: datetime
) -> bool:
    """Whether a conditional GET's validators match (RFC 9110 13.1): ``If-None-Match``
    (weak comparison, ``*``) when present, else ``If-Modified-Since`` against
    ``modified`` (to the second). A date that does not parse is no match. Pure."""
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified.replace(microsecond=0) <= since
    return False


def entry_id(base_url: str | None, story: WatchlistStory) -> str:
    """A feed entry's id, stable across requests and rebuilds of the feed: the story
    page's URL under ``base_url``, else a ``urn:uuid`` of the story's (or the lone
    article's) id."""
    if story.story_id is not None and base_url:
        return base_url.rstrip("/") + f"/stories/{story.story_id}"
    kind, number = (
        ("story", story.story_id) if story.story_id is not None else ("article", story.article_id)
    )
    return uuid.uuid5(uuid.NAMESPACE_URL, f"trendwatch:{base_url or ''}:{kind}:{number}").urn


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=4096)
def week_period(key: str, lang: str, timezone: str) -> str:
    """ "Week 48 · 23–29 november 2026" for the ISO week ``key``, kept."""
    start, end = week_bounds(key, timezone)
    return digest_i18n.week_period(int(key[-2:]), start, end, lang, timezone)


@functools.lru_cache(maxsize=4096)
def ratio(value: float, lang: str) -> str:
    return digest_i18n.ratio(value, lang)


# --- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class WatchlistData:
    counts: dict[str, int]
    trends: list[StoredTrend]
    stories: list[WatchlistStory]
    sources: list[StorySource] = field(default_factory=list)


def read_watchlist(store: Store, name: str, weeks: Sequence[Week]) -> WatchlistData:
    stories = store.watchlist_stories(name, FEED_STORIES)
    ids = [s.story_id for s in stories if s.story_id is not None]
    return WatchlistData(
        counts=store.watchlist_week_counts(name, weeks),
        trends=store.watchlist_trends(name, [key for key, _, _ in weeks]),
        stories=stories,
        sources=store.story_sources(ids) if ids else [],
    )


def watchlist_data(request: Request, name: str, weeks: Sequence[Week]) -> WatchlistData:
    store = store_of(request)
    key = ("watchlist", name, weeks[0][0], weeks[-1][0])
    return store.page_cached(key, lambda: read_watchlist(store, name, weeks))


def configured(settings: Settings, name: str) -> Watchlist:
    """The watchlist ``name`` of the config, else a 404."""
    found = next((w for w in settings.watchlists if w.name == name), None)
    if found is None:
        raise HTTPException(404, NO_WATCHLIST)
    return found


def absolute(request: Request, path: str) -> str:
    """``path`` on this site as an absolute URL: under ``base_url`` when it is set,
    else on the host the request came to."""
    base = settings_of(request).base_url
    if base:
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}{url(request, path)}"
    return f"{request.url.scheme}://{request.url.netloc}{path}"


def page_path(name: str) -> str:
    return "/watchlists/" + quote(name, safe="")


# --- endpoints ----------------------------------------------------------------------


def index(request: Request) -> Response:
    settings = settings_of(request)
    now = app_state(request).clock()
    week, start, end = recent_weeks(now, settings.schedule.timezone, 1)[0]
    store = store_of(request)
    counts = store.page_cached(("counts", week), lambda: store.watchlist_counts(start, end))
    lang = language(request)
    rows = [(w, counts.get(w.name, 0)) for w in settings.watchlists]
    context = {
        **formatters(lang),
        "rows": rows,
        "week": week_period(week, lang, settings.schedule.timezone),
        "page_path": page_path,
    }
    return render(request, "watchlists_index.html.j2", context)


def page(request: Request) -> Response:
    settings = settings_of(request)
    watchlist = configured(settings, request.path_params["name"])
    weeks = recent_weeks(app_state(request).clock(), settings.schedule.timezone)
    lang = language(request)
    key = (
        "watchlist-page",
        watchlist,
        weeks[0][0],
        weeks[-1][0],
        lang,
        settings.base_url,
        settings.schedule.timezone,
    )
    body = store_of(request).page_cached(
        key, lambda: page_body(request, watchlist, weeks, lang, settings.schedule.timezone)
    )
    context = {
        "watchlist": watchlist,
        "body": Markup(body),  # watchlists_body.html.j2, autoescaped
        "feed_path": page_path(watchlist.name) + ".atom",
    }
    return render(request, "watchlists.html.j2", context)


def page_body(
    request: Request, watchlist: Watchlist, weeks: Sequence[Week], lang: str, tz: str
) -> str:
    """The body of a watchlist's page: the chart, the table, the rising terms and
    names, the latest stories (``watchlists_body.html.j2``)."""
    data = watchlist_data(request, watchlist.name, weeks)
    current = weeks[-1][0]

    def period(key: str) -> str:
        return week_period(key, lang, tz)

    counts = [(key, data.counts.get(key, 0)) for key, _, _ in weeks]
    total = sum(n for _, n in counts)
    chart = week_chart(
        counts,
        title=i18n.t(lang, "watchlists.chart_title", title=watchlist.title),
        desc=i18n.t(
            lang,
            "watchlists.chart_desc",
            weeks=WEEKS,
            first=period(weeks[0][0]),
            last=period(current),
            articles=count_noun(total, lang),
        ),
        current=current,
        bar_title=lambda key, n: f"{period(key)}: {count_noun(n, lang)}",
        partial_note=i18n.t(lang, "watchlists.partial"),
        chart_id="weeks",
        number=lambda n: number(n, lang),
    )
    context = {
        **page_context(request),
        **formatters(lang),
        "watchlist": watchlist,
        "chart": Markup(chart),  # built by web.charts, which escapes every text
        "counts": [(key, period(key), n, key == current) for key, n in reversed(counts)],
        "rising": rising_by_week(data.trends, weeks),
        "period": period,
        "stories": story_views(data.stories[:PAGE_STORIES], data.sources),
        "feed_path": page_path(watchlist.name) + ".atom",
        "when": lambda moment: when(moment, lang, tz),
        "ratio": lambda value: ratio(value, lang),
    }
    return environment().get_template("watchlists_body.html.j2").render(context)


@dataclass(frozen=True)
class FeedDocument:
    body: bytes
    etag: str
    updated: datetime


def feed(request: Request) -> Response:
    settings = settings_of(request)
    watchlist = configured(settings, request.path_params["name"])
    lang = i18n.supported(request.query_params.get("lang")) or i18n.config_language(
        [s.language for s in settings.subscribers]
    )
    weeks = recent_weeks(app_state(request).clock(), settings.schedule.timezone)
    site = absolute(request, "/")
    key = ("watchlist-feed", watchlist, weeks[-1][0], lang, site, settings.digest_title)
    document = store_of(request).page_cached(
        key, lambda: feed_document(request, watchlist, weeks, lang)
    )
    headers = {
        "ETag": document.etag,
        "Last-Modified": format_datetime(document.updated.astimezone(UTC), usegmt=True),
        "Cache-Control": f"public, max-age={FEED_MAX_AGE}",
    }
    fresh = is_fresh(
        request.headers.get("if-none-match"),
        request.headers.get("if-modified-since"),
        document.etag,
        document.updated,
    )
    if fresh:
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type=ATOM, headers=headers)


def feed_document(
    request: Request, watchlist: Watchlist, weeks: Sequence[Week], lang: str
) -> FeedDocument:
    """The Atom feed of a watchlist's newest stories (``watchlists.atom.j2``)."""
    settings = settings_of(request)
    data = watchlist_data(request, watchlist.name, weeks)
    views = story_views(data.stories, data.sources)
    zone = ZoneInfo(settings.schedule.timezone)
    # without entries: the start of this week, so that the document stays the same
    updated = max((v.story.updated for v in views), default=weeks[-1][1])
    context = {
        "lang": lang,
        "t": lambda key, **values: i18n.t(lang, key, **values),
        "count_noun": lambda n: count_noun(n, lang),
        "day": lambda moment: day(moment.astimezone(zone).date(), lang),
        "title": f"{watchlist.title} · {settings.digest_title}",
        "id": entry_feed_id(settings.base_url, watchlist.name),
        "self_href": absolute(request, page_path(watchlist.name) + ".atom"),
        "page_href": absolute(request, page_path(watchlist.name)),
        "site_title": settings.digest_title,
        "updated": rfc3339(updated),
        "entries": [
            {
                "id": entry_id(settings.base_url, v.story),
                "view": v,
                "story_href": absolute(request, f"/stories/{v.story.story_id}")
                if v.story.story_id is not None
                else None,
                "updated": rfc3339(v.story.updated),
                "published": rfc3339(v.story.first_seen or v.story.date),
            }
            for v in views
        ],
    }
    body = environment().get_template("watchlists.atom.j2").render(context).encode()
    return FeedDocument(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', updated)


def entry_feed_id(base_url: str | None, name: str) -> str:
    """The feed's own id: its URL under ``base_url``, else a ``urn:uuid`` of its name."""
    path = page_path(name) + ".atom"
    if base_url:
        return base_url.rstrip("/") + path
    return uuid.uuid5(uuid.NAMESPACE_URL, "trendwatch:" + path).urn


routes: list[BaseRoute] = [
    Route("/watchlists", index, name="watchlists"),
    Route("/watchlists/{name}.atom", feed, name="watchlist_feed"),
    Route("/watchlists/{name}", page, name="watchlist"),
]
