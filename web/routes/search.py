"""Search (``GET /search?q=``): full-text search over the articles, with filters.

The form's fields (all optional, all in the URL, so a search can be shared and paged)::

    q          what to find: words, "phrases", -word, OR, word* (pipeline.search.query)
    watchlist  only articles a watchlist matched      source    only one source's
    language   nl or en (as the NLP stage detected)   from, to  dates (YYYY-MM-DD),
    sort       relevance (default) or newest                    in the schedule's zone
    page       1, 2, ... (20 results a page, of the WINDOW most recent matches)

Each word is searched as typed and through its lemmas (:mod:`pipeline.search.lemmas`,
in the language filtered on, else Dutch and English), so ``woning`` finds
``woningen``; opening the page starts loading the lemmatiser (a few seconds, once per
process) in the background. A search looks at the 2,000 most recently stored matches
(:data:`pipeline.store.search.WINDOW`) and says so when there are more. Results show
the title and a snippet with the matches marked (escaped text; ``<mark>`` is added by
the template, never taken from an article).

No input is an error page: an empty query, or one with only words to leave out, shows
the form with a hint; a filter that cannot be read (a date that is no date, a page
that is no number) shows the form with what is wrong; a query the index refuses (it
should not: every word is quoted) says so on the page. All of them answer 200, as the
form page they are (a 4xx would be a console error in the browser).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digests import i18n as digest_i18n
from pipeline.search.lemmas import LANGUAGES, lemmas_of, query_lemmas, warm_up_in_background
from pipeline.search.query import SearchQuery, parse, with_lemmas
from pipeline.search.snippet import Highlight, marked, snippet
from pipeline.store.search import WINDOW, SearchError, SearchFilters, SearchHit, Sort
from web.state import settings_of, store_of, url
from web.templating import language, render

log = logging.getLogger("trendwatch.web")

PATH = "/search"
PER_PAGE = 20
LAST_PAGE = WINDOW // PER_PAGE
SORTS: tuple[Sort, ...] = ("relevance", "newest")
PAGE_WINDOW = 2  # page links either side of the current one


@dataclass(frozen=True)
class SearchForm:
    """The form as read from the URL, and what could not be read (string keys)."""

    q: str = ""
    watchlist: str = ""
    source: str = ""
    language: str = ""
    start: date | None = None
    end: date | None = None
    sort: Sort = "relevance"
    page: int = 1
    problems: tuple[str, ...] = field(default=())

    def params(self, **changes: Any) -> dict[str, str]:
        """The form as URL parameters (the empty ones left out)."""
        form = replace(self, **changes)
        values = {
            "q": form.q,
            "watchlist": form.watchlist,
            "source": form.source,
            "language": form.language,
            "from": form.start.isoformat() if form.start else "",
            "to": form.end.isoformat() if form.end else "",
            "sort": "" if form.sort == "relevance" else form.sort,
            "page": "" if form.page == 1 else str(form.page),
        }
        return {k: v for k, v in values.items() if v}


def _date(value: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append("search.invalid_date")
        return None


def read_form(params: Mapping[str, str]) -> SearchForm:
    """The form from the query string (pure); values that cannot be read are left out
    and named in ``problems``."""
    problems: list[str] = []

    def text(name: str, limit: int = 200) -> str:
        return " ".join(params.get(name, "").split())[:limit]

    start, end = _date(text("from"), problems), _date(text("to"), problems)
    if start and end and end < start:
        problems.append("search.invalid_range")
    sort_value = text("sort") or "relevance"
    sort: Sort = "newest" if sort_value == "newest" else "relevance"
    if sort_value not in SORTS:
        problems.append("search.invalid_sort")
    page = 1
    if text("page"):
        try:
            page = int(text("page"))
        except ValueError:
            problems.append("search.invalid_page")
        if not 1 <= page <= LAST_PAGE:
            page = 1
            problems.append("search.invalid_page")
    lang = text("language")
    if lang and lang not in LANGUAGES:
        problems.append("search.invalid_language")
        lang = ""
    return SearchForm(
        q=text("q", 500),
        watchlist=text("watchlist"),
        source=text("source"),
        language=lang,
        start=start,
        end=end,
        sort=sort,
        page=page,
        problems=tuple(dict.fromkeys(problems)),
    )


def filters_of(form: SearchForm, timezone: str) -> SearchFilters:
    """The store's filters: dates are whole days in ``timezone``, ``to`` included."""
    zone = ZoneInfo(timezone)

    def midnight(day: date | None) -> datetime | None:
        return datetime.combine(day, time(), zone) if day else None

    return SearchFilters(
        watchlist=form.watchlist or None,
        source=form.source or None,
        language=form.language or None,
        start=midnight(form.start),
        end=midnight(form.end + timedelta(days=1)) if form.end else None,
    )


def pages(current: int, last: int) -> list[int | None]:
    """The page numbers to link: the first, the last, a few around the current one;
    None where numbers are left out."""
    shown = sorted({1, last, *range(current - PAGE_WINDOW, current + PAGE_WINDOW + 1)})
    out: list[int | None] = []
    for n in (n for n in shown if 1 <= n <= last):
        if out and out[-1] is not None and n > out[-1] + 1:
            out.append(None)
        out.append(n)
    return out


def safe_link(link: str | None) -> str | None:
    """An article's address if it is a web address (never ``javascript:``)."""
    return link if link and link.lower().startswith(("https://", "http://")) else None


@functools.lru_cache(maxsize=4096)
def _day(day: date, lang: str) -> str:
    """A short date (babel is slow enough to be worth a cache: 20 dates a page)."""
    return digest_i18n.format_day(datetime.combine(day, time()), lang)


def _hit_view(hit: SearchHit, highlight: Highlight, lang: str, timezone: str) -> dict[str, Any]:
    def lemma(word: str) -> tuple[str, ...]:
        return lemmas_of(word, hit.language or "")

    return {
        "hit": hit,
        "link": safe_link(hit.url),
        "title": marked(hit.title, highlight, lemma),
        "snippet": snippet(hit.text, highlight, lemma),
        "day": _day(digest_i18n.local_date(hit.date, timezone), lang),
    }


def search_page(request: Request) -> Response:
    settings = settings_of(request)
    store = store_of(request)
    form = read_form(request.query_params)
    lang = language(request)
    timezone = settings.schedule.timezone
    context: dict[str, Any] = {
        "form": form,
        "watchlists": settings.watchlists,
        "sources": store.source_names(),
        "languages": LANGUAGES,
        "sorts": SORTS,
        "results": None,
        "notice": "",
    }
    if form.problems:
        return render(request, "search.html.j2", context, noindex=True)
    query: SearchQuery = parse(form.q)
    if not form.q:
        warm_up_in_background()  # the lemmatiser, while the reader types
        return render(request, "search.html.j2", context)
    if query.empty:
        context["notice"] = "search.only_excluded" if query.excluded else "search.no_words"
        return render(request, "search.html.j2", context, noindex=True)
    langs = (form.language,) if form.language else LANGUAGES
    query = with_lemmas(query, lambda word: query_lemmas(word, langs))
    try:
        found = store.search(
            query,
            filters_of(form, timezone),
            sort=form.sort,
            limit=PER_PAGE,
            offset=(form.page - 1) * PER_PAGE,
        )
    except SearchError:
        log.warning("search: the index refused %r", form.q, exc_info=True)
        context["notice"] = "search.failed"
        return render(request, "search.html.j2", context, noindex=True)
    highlight = Highlight.of(query)
    last = max(1, -(-found.total // PER_PAGE))

    def page_url(n: int) -> str:
        return url(request, PATH) + "?" + urlencode(form.params(page=n))

    context |= {
        "results": [_hit_view(h, highlight, lang, timezone) for h in found.hits],
        "total": found.total,
        "more": found.more,
        "dropped": query.dropped,
        "pages": pages(form.page, last) if last > 1 else [],
        "page_url": page_url,
        "last": last,
    }
    return render(request, "search.html.j2", context, noindex=True)


routes: list[BaseRoute] = [Route(PATH, search_page, name="search")]
