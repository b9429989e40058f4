"""Stories (``/stories/{id}``): every article of a story across sources and languages as
a timeline, duplicates folded under their canonical copy, with the story's names and
keyphrases and the watchlists it matched.

The id comes from the URL as digits; one no story has (or too large for the store) is
a 404. The reads are indexed (``articles_story``; see :mod:`pipeline.store.pages`); the
page's body is rendered once and kept on the connection until the database changes
(``Store.page_cached``). The page holds no personal data: no authors, no subscribers.
Feed text is sanitised plain text in the store and escaped here.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digests import i18n as digest_i18n
from pipeline.digest.editions import teaser
from pipeline.store import StoryArticle
from web import i18n as web_i18n
from web.state import settings_of, store_of
from web.templating import environment, language, page_context, render

MAX_ID = 2**63 - 1  # SQLite's largest integer
MAX_ARTICLES = 1000  # articles a story page shows
MAX_TAGS = 12  # names and keyphrases shown
NO_STORY = "no_story"


@dataclass(frozen=True)
class TimelineEntry:
    """A canonical article of the story with the copies folded under it."""

    article: StoryArticle
    copies: tuple[StoryArticle, ...]

    @property
    def sources(self) -> list[str]:
        """Its source and the sources of its copies, each once."""
        names = [self.article.source_name, *(c.source_name for c in self.copies)]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Tag:
    """A name or keyphrase of the story and in how many of its articles it occurs."""

    text: str
    count: int


def timeline(articles: Sequence[StoryArticle]) -> list[TimelineEntry]:
    """The articles (oldest first) as a timeline: each copy (``duplicate_of``) under its
    canonical article; a copy whose canonical article is not in the story stands on its
    own. Pure."""
    present = {a.id for a in articles}
    copies: dict[int, list[StoryArticle]] = defaultdict(list)
    heads: list[StoryArticle] = []
    for article in articles:
        if article.duplicate_of is not None and article.duplicate_of in present:
            copies[article.duplicate_of].append(article)
        else:
            heads.append(article)
    return [TimelineEntry(a, tuple(copies.get(a.id, ()))) for a in heads]


def names_of(articles: Iterable[StoryArticle], limit: int = MAX_TAGS) -> list[Tag]:
    """The names (entities) of the articles, the most frequent first: each counted once
    per article, shown as most often written. Pure."""
    counts: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    for article in articles:
        for entity in article.entities:
            surface[entity["key"]][entity["text"]] += 1
        counts.update({e["key"] for e in article.entities})
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Tag(surface[key].most_common(1)[0][0], n) for key, n in ranked]


def keyphrases_of(articles: Iterable[StoryArticle], limit: int = MAX_TAGS) -> list[Tag]:
    """The keyphrases of the articles: those in most articles first (each counted once
    per article), then those ranked higher within an article. Pure."""
    counts: Counter[str] = Counter()
    best: dict[str, int] = {}
    for article in articles:
        for rank, phrase in enumerate(dict.fromkeys(article.keyphrases)):
            counts[phrase] += 1
            best[phrase] = min(best.get(phrase, rank), rank)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], best[kv[0]], kv[0]))[:limit]
    return [Tag(text, n) for text, n in ranked]


def web_href(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) link, else None (never a ``javascript:``
    or ``data:`` link from a feed in an ``href``). Pure."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


# Babel parses its locale on every call (tens of microseconds): a page shows hundreds
# of numbers and dates, so the formatted forms are kept.
@functools.lru_cache(maxsize=4096)
def day(local: date, lang: str) -> str:
    """ "24 nov 2026" (digests.i18n.format_day), kept."""
    return digest_i18n.format_day(datetime.combine(local, time(12)), lang)


@functools.lru_cache(maxsize=4096)
def number(value: int | float, lang: str) -> str:
    return digest_i18n.number(value, lang)


@functools.lru_cache(maxsize=4096)
def count_noun(count: int, lang: str, key: str = "article") -> str:
    return digest_i18n.count_noun(lang, count, key)


def formatters(lang: str) -> dict[str, Any]:
    """``number`` and ``count_noun`` for a template, as :mod:`web.templating` gives them
    but kept (see :func:`number`)."""
    return {
        "number": lambda value: number(value, lang),
        "count_noun": lambda count, key="article": count_noun(count, lang, key),
    }


def article_link(article: StoryArticle) -> Markup:
    """The article's title as a link to it (a safe http(s) URL only; else plain), in its
    language. Built here rather than in a template macro: a story page shows hundreds,
    and a macro call costs ten times this."""
    code = article.language
    attr = f' lang="{code}"' if code in ("nl", "en") else ""
    title = escape(article.title)
    href = web_href(article.url)
    if href is None:
        return Markup(f"<span{attr}>{title}</span>")
    return Markup(f'<a href="{escape(href)}" rel="noopener noreferrer nofollow"{attr}>{title}</a>')


@functools.lru_cache(maxsize=256)
def language_name(code: str, lang: str) -> str:
    """ "Dutch", "Engels", "language: de": the name of the language ``code`` in ``lang``."""
    if code in ("nl", "en"):
        return web_i18n.t(lang, f"stories.lang.{code}")
    return web_i18n.t(lang, "stories.lang.other", code=code)


def when(moment: datetime, lang: str, timezone: str) -> str:
    """ "24 nov 2026 · 09:30" in the instance's time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{day(local.date(), lang)} · {local:%H:%M}"


def story_page(request: Request) -> Response:
    story_id = request.path_params["story_id"]
    if not 0 < story_id <= MAX_ID:
        raise HTTPException(404, NO_STORY)
    settings = settings_of(request)
    lang = language(request)
    titles = tuple((w.name, w.title) for w in settings.watchlists)
    tz = settings.schedule.timezone
    key = ("story-page", story_id, lang, settings.base_url, tz, titles)
    title, body = store_of(request).page_cached(
        key, lambda: story_body(request, story_id, lang, tz, dict(titles))
    )
    context = {"title": title, "body": Markup(body)}  # stories_body.html.j2, autoescaped
    return render(request, "stories.html.j2", context)


def story_body(
    request: Request, story_id: int, lang: str, tz: str, titles: dict[str, str]
) -> tuple[str, str]:
    """The title and the body of a story's page (``stories_body.html.j2``); a 404 when
    there is no such story or it has no articles."""
    store = store_of(request)
    story = store.stories_by_id([story_id]).get(story_id)
    articles = store.story_articles(story_id, MAX_ARTICLES + 1) if story else []
    if story is None or not articles:
        raise HTTPException(404, NO_STORY)
    shown = articles[:MAX_ARTICLES]
    entries = timeline(shown)
    heads = [e.article for e in entries]
    lead = next((a for a in shown if a.id == story.representative_id), heads[0])
    matched = [(name, titles[name]) for name in store.story_watchlists(story_id) if name in titles]
    total = len(articles) if len(articles) <= MAX_ARTICLES else max(story.size, len(articles))
    context = {
        **page_context(request),
        **formatters(lang),
        "story": story,
        "lead": lead,
        "entries": entries,
        "names": names_of(heads),
        "keyphrases": keyphrases_of(heads),
        "watchlists": matched,
        "sources": sorted({a.source_name for a in shown}),
        "languages": sorted({a.language for a in shown if a.language}),
        "total": total,
        "more": total - len(shown),
        "when": lambda moment: when(moment, lang, tz),
        "teaser": teaser,
        "article_link": article_link,
        "language_name": lambda code: language_name(code, lang),
        "period": digest_i18n.format_period(shown[0].date, shown[-1].date, lang, tz),
    }
    body = environment().get_template("stories_body.html.j2").render(context)
    return lead.title, body


routes: list[BaseRoute] = [Route("/stories/{story_id:int}", story_page, name="story")]
