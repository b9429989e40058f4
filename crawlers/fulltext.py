"""Full text of an article page: extraction (trafilatura) and fetching.

Two uses share this module:

- a feed source with ``full_text = true`` whose feed carries only a teaser: the pipeline
  asks :func:`needs_full_text` per entry, fetches the article page with
  :func:`fetch_full_text` and merges the result with :func:`apply_full_text`;
- the blog spider (``crawlers/blog``), which crawls sites without a feed and asks
  :func:`extract_article` whether each page it sees is an article at all.

:func:`extract_article` is pure (bytes in, plain data out) so it can run in a thread or
a worker process: trafilatura costs about 56 ms per page, far too long to run on the
event loop of a crawl that has hundreds of sources in flight.
"""

from __future__ import annotations

import asyncio
import functools
import html as html_lib
import json
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import htmldate
import httpx
import trafilatura
from lxml.html import HtmlElement

from crawlers.entries import Entry
from crawlers.http import PrivateAddressRefused, fetch
from crawlers.sanitize import html_to_text, sanitize_html
from crawlers.urls import canonical_url, is_web_url

# An article has at least this many words of main text. Teasers, tag pages with one
# post and "about" blurbs fall below it; real blog posts and news items rarely do.
MIN_ARTICLE_WORDS = 120
# A feed entry whose content is shorter than this is taken for a summary.
SUMMARY_MAX_WORDS = 150
ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_LANG = re.compile(r"^[a-zA-Z]{2,3}(?![a-zA-Z])")
# Trailers that feeds put after a cut-off teaser.
_TRUNCATED = re.compile(
    r"(?:\.\.\.|…|\[(?:\.\.\.|…)\]|\((?:\.\.\.|…)\)"
    r"|\b(?:read more|continue reading|read the full (?:story|article)|keep reading"
    r"|lees (?:meer|verder)|verder lezen|meer lezen|lees het hele artikel)\b[^\n]{0,40})"
    r"\s*[\]).»›→>]*\s*$",
    re.IGNORECASE,
)
# Listing URLs: a taxonomy term page (/tag/x/, /category/x/) or a page of a paginated
# list. An article below a category (/category/news/my-post/) does not match.
_LISTING_PATH = re.compile(
    r"/(?:tags?|category|categories|categorie|categorieen|author|auteur|auteurs|label|"
    r"labels|topics?|onderwerp|onderwerpen|thema|archive|archief|search|zoeken)"
    r"(?:/[^/]+)?/?$"
    r"|/page/\d+/?$|/pagina/\d+/?$|^/\d{4}/?$|^/\d{4}/\d{2}/?$",
    re.IGNORECASE,
)
_LISTING_QUERY = re.compile(r"(?:^|&)(?:page|paged|pagina|p|s|q)=", re.IGNORECASE)
# Containers whose links are navigation or recommendations, not the page's content.
_BOILERPLATE_TAGS = frozenset({"nav", "aside", "footer", "header", "form"})
_BOILERPLATE_NAME = re.compile(
    r"related|sidebar|widget|comment|reactie|footer|menu|\bnav|share|social|recommend|"
    r"popular|recent|breadcrumb|lees-ook|read-more|more-stories",
    re.IGNORECASE,
)
_ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "liveblogposting", "reportagenewsarticle",
     "analysisnewsarticle", "opinionnewsarticle", "reviewnewsarticle", "report",
     "scholarlyarticle", "techarticle", "socialmediaposting"}
)  # fmt: skip
_LISTING_TYPES = frozenset(
    {"collectionpage", "itemlist", "searchresultspage", "blog", "profilepage"}
)


@dataclass(frozen=True)
class Extracted:
    """The main content and metadata of one article page, as plain data."""

    url: str  # canonical URL: the page's own rel=canonical when it is on the same site
    title: str
    text: str  # plain text, paragraphs separated by blank lines
    content: str  # sanitised HTML of the main text (one <p> per paragraph)
    author: str | None = None
    published: datetime | None = None  # timezone-aware UTC
    language: str | None = None  # ISO 639 code from <html lang>, meta or JSON-LD
    description: str | None = None  # the page's meta/og description
    categories: tuple[str, ...] = field(default_factory=tuple)

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class FullTextError:
    """Why :func:`fetch_full_text` has no article for a URL.

    ``kind`` is one of ``robots`` (robots.txt forbids it; nothing was fetched),
    ``private-address`` (the private-network guard refused the page's host, or where
    it redirects to; nothing was sent there), ``fetch`` (network or HTTP failure),
    ``not-html`` and ``no-article`` (the page was fetched but holds no article, e.g. a
    listing or a consent wall).
    """

    url: str
    kind: str
    error: str
    status: int = 0


@dataclass(frozen=True)
class _Signals:
    """What the page's markup says about its kind, scored. See :func:`_page_signals`."""

    article: int
    listing: int
    date_markup: bool
    time_element: str | None  # datetime of the first <time> in the content, if any
    canonical: str | None
    language: str | None


def extract_article(
    html: str | bytes,
    url: str,
    *,
    min_words: int = MIN_ARTICLE_WORDS,
    require_evidence: bool = False,
    now: datetime | None = None,
) -> Extracted | None:
    """The article on an HTML page, or None when the page holds none.

    None for empty pages, pages whose main text has fewer than ``min_words`` words and
    listing pages (home page, tag/category archives, pagination), recognised by URL
    pattern, several ``<article>`` teasers, headings linking to other pages of the
    site and schema.org/Open Graph types; article markup (``og:type=article``,
    schema.org ``Article``, a single ``<article>``, a publication date) outweighs them.

    ``require_evidence`` (the blog spider sets it) also wants at least one positive
    article signal, so an "about" or contact page with enough text is not taken for a
    post. Fetching the full text of a feed entry leaves it off: the feed already said
    the URL is an article.

    ``now`` is the time of the crawl: a publication date after its day is not believed
    (default: today, htmldate's own bound).
    """
    latest = _latest_date(now)
    if not html or not html.strip():
        return None
    try:
        tree = trafilatura.load_html(html)
    except (ValueError, TypeError):
        return None
    if tree is None or not len(tree):
        return None
    signals = _page_signals(tree, url)
    page_url = signals.canonical or canonical_url(url)
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=page_url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            favor_precision=True,
            date_extraction_params={
                "original_date": True,
                "extensive_search": False,  # metadata only; text patterns come below
                "outputformat": _DATE_FORMAT,
                "max_date": latest,
            },
        )
    except (ValueError, TypeError):  # trafilatura raises these for unusable trees
        return None
    if doc is None or isinstance(doc, dict):
        return None
    title = " ".join((doc.title or "").split())
    paragraphs = _paragraphs(doc.text or "", title)
    words = sum(len(p.split()) for p in paragraphs)
    if words < min_words:
        return None
    if signals.listing >= 2 and signals.listing >= signals.article:
        return None
    # Date metadata first (trafilatura reads meta tags and JSON-LD with the time of
    # day), then the content's <time datetime>, which trafilatura skips.
    published = _parse_date(doc.date)
    from_markup = _parse_date(signals.time_element)
    if from_markup and (
        published is None
        or (_is_midnight_guess(doc.date) and abs(from_markup - published).days < 1)
    ):
        published = from_markup  # same day, but with the time of day and zone
    if published is None:
        # The page has no date metadata: htmldate's text patterns (a "Gepubliceerd op 3
        # oktober 2025" line, a date in the URL) are the next best thing.
        published = _parse_date(
            htmldate.find_date(
                tree,
                url=page_url,
                original_date=True,
                extensive_search=True,
                outputformat=_DATE_FORMAT,
                max_date=latest,
            )
        )
    evidence = signals.article + (1 if published and not signals.date_markup else 0)
    if require_evidence and evidence <= 0:
        return None
    if not title:
        title = " ".join(paragraphs[0].split()[:12])
    content = sanitize_html("".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs))
    categories = tuple(dict.fromkeys(c for c in (doc.categories or []) + (doc.tags or []) if c))
    return Extracted(
        url=page_url,
        title=title,
        text=html_to_text(content),
        content=content,
        author=_clean(doc.author),
        published=published,
        language=signals.language or _language(doc.language),
        description=_clean(doc.description),
        categories=categories,
    )


async def extract_article_async(
    html: str | bytes,
    url: str,
    *,
    min_words: int = MIN_ARTICLE_WORDS,
    require_evidence: bool = False,
    executor: Executor | None = None,
    now: datetime | None = None,
) -> Extracted | None:
    """:func:`extract_article` off the event loop: in ``executor`` when given (a
    ``ProcessPoolExecutor`` gets true parallelism; the function and its result pickle),
    else in the default thread pool."""
    call = functools.partial(
        extract_article,
        html,
        url,
        min_words=min_words,
        require_evidence=require_evidence,
        now=now,
    )
    if executor is None:
        return await asyncio.to_thread(call)
    return await asyncio.get_running_loop().run_in_executor(executor, call)


async def fetch_full_text(
    client: httpx.AsyncClient,
    url: str,
    robots_allowed: Callable[[str], Awaitable[bool]] | None = None,
    *,
    min_words: int = 60,
    executor: Executor | None = None,
    now: datetime | None = None,
) -> Extracted | FullTextError:
    """Fetch an article page and extract its full text.

    ``robots_allowed`` (for instance a ``RobotsCache``'s bound ``allowed``) is asked
    before anything is fetched, and again for the final URL when a redirect moved to
    another site; a refusal is returned as ``FullTextError(kind="robots")``. ``client``
    comes from :func:`crawlers.http.make_client`, which owns timeouts, size caps and the
    private-network guard. ``min_words`` is lower than the blog spider's bar: the feed
    already vouched that the URL is an article, so a short news item still counts.
    ``now`` is the crawl's time (see :func:`extract_article`). Never raises for network
    or page problems.
    """
    if not is_web_url(url):
        return FullTextError(url=url, kind="fetch", error="not an http(s) URL")
    if robots_allowed is not None and (
        refused := await _refused(robots_allowed, url, url, "forbidden by robots.txt")
    ):
        return refused
    result = await fetch(client, url, accept=ACCEPT_HTML)
    if result.error or result.content is None:
        kind = "private-address" if result.refused_private else "fetch"
        return FullTextError(
            url=url, kind=kind, error=result.error or "empty response", status=result.status
        )
    final = result.url or url
    if (
        robots_allowed is not None
        and _host(final) != _host(url)
        and (
            refused := await _refused(
                robots_allowed, url, final, f"redirected to {final}, forbidden by robots.txt"
            )
        )
    ):
        return refused
    ctype = (result.content_type or "").split(";")[0].strip().lower()
    if ctype and "html" not in ctype and "xml" not in ctype:
        return FullTextError(
            url=url, kind="not-html", error=f"not an HTML page ({ctype})", status=result.status
        )
    try:
        extracted = await extract_article_async(
            result.content, final, min_words=min_words, executor=executor, now=now
        )
    except Exception as exc:  # a third-party parser choking on hostile HTML
        return FullTextError(
            url=url,
            kind="no-article",
            error=f"extraction failed: {type(exc).__name__}: {exc}"[:300],
            status=result.status,
        )
    if extracted is None:
        return FullTextError(
            url=url, kind="no-article", error="no article text on the page", status=result.status
        )
    return extracted


async def _refused(
    robots_allowed: Callable[[str], Awaitable[bool]], url: str, page: str, message: str
) -> FullTextError | None:
    """Why ``page`` may not be fetched (for the article at ``url``): robots.txt forbids
    it (``message``), or the private-network guard refused its robots.txt; else None."""
    try:
        if await robots_allowed(page):
            return None
    except PrivateAddressRefused as exc:
        return FullTextError(url=url, kind="private-address", error=str(exc))
    return FullTextError(url=url, kind="robots", error=message)


def needs_full_text(entry: Entry, *, max_words: int = SUMMARY_MAX_WORDS) -> bool:
    """True when the feed gave only a teaser for ``entry``: no content at all, content
    shorter than ``max_words`` words, or content that ends like a cut-off teaser
    ("...", "[…]", "Read more", "Lees verder")."""
    if not entry.url:
        return False
    text = (entry.text or entry.summary or "").strip()
    if not entry.content.strip() or not text:
        return True
    if len(text.split()) < max_words:
        return True
    return bool(_TRUNCATED.search(text[-80:]))


def apply_full_text(entry: Entry, extracted: Extracted) -> Entry:
    """``entry`` with its content replaced by the page's full text.

    Identity, URL and title stay as the feed gave them, so a re-crawl still recognises
    the entry; the feed's teaser becomes the summary. Author, date and language fill
    gaps only: the feed's own values are kept when it has them.
    """
    summary = entry.summary or entry.text
    return replace(
        entry,
        content=extracted.content,
        text=extracted.text,
        summary=summary,
        author=entry.author or extracted.author,
        published=entry.published or extracted.published,
        language=entry.language or extracted.language,
        title=entry.title or extracted.title,
    )


# --- page signals -------------------------------------------------------------------


def _page_signals(tree: HtmlElement, url: str) -> _Signals:
    """Score the page as article or listing from its markup and URL.

    Weights: a listing URL, several top-level ``<article>`` elements, headings linking
    to other pages of the site and a schema.org collection type count 2 each (3 for
    five or more heading links); ``og:type=website`` 1. On the article side
    ``og:type=article`` and a schema.org Article type count 2, a single ``<article>``
    and a publication date in the markup 1. Links inside navigation, sidebars,
    footers, comment sections and "related posts" blocks are ignored, so a post with a
    sidebar full of recent posts still reads as a post.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    here = parts.path.rstrip("/") or "/"
    article = listing = 0
    if here == "/" or _LISTING_PATH.search(parts.path) or _LISTING_QUERY.search(parts.query):
        listing += 2

    meta = _meta(tree)
    og_type = meta.get("og:type", "").lower()
    if og_type == "article":
        article += 2
    elif og_type == "website":
        listing += 1

    ld_types, ld_lang, ld_date = _json_ld(tree)
    if ld_types & _ARTICLE_TYPES:
        article += 2
    elif ld_types & _LISTING_TYPES:
        listing += 2

    articles = [a for a in tree.iter("article") if not _in_boilerplate(a, stop_at_article=False)]
    top_level = [a for a in articles if not any(p.tag == "article" for p in a.iterancestors())]
    if len(top_level) >= 2:
        listing += 2
    elif len(top_level) == 1:
        article += 1

    teasers: set[str] = set()
    for heading in tree.iter("h1", "h2", "h3", "h4"):
        if _in_boilerplate(heading):
            continue
        for a in heading.iter("a"):
            target = _same_site_target(a.get("href"), url, host)
            if target and target != here:
                teasers.add(target)
    if len(teasers) >= 5:
        listing += 3
    elif len(teasers) >= 3:
        listing += 2
    elif len(teasers) == 2:
        listing += 1

    time_element = next(
        (t.get("datetime") for t in tree.iterfind(".//time[@datetime]") if not _in_boilerplate(t)),
        None,
    )
    date_markup = bool(
        meta.get("article:published_time")
        or tree.xpath('//*[@itemprop="datePublished"]')
        or ld_date
        or time_element
    )
    if date_markup:
        article += 1

    language = (
        _language(tree.get("lang"))
        or _language(meta.get("content-language"))
        or _language(meta.get("og:locale"))
        or _language(ld_lang)
    )
    return _Signals(
        article=article,
        listing=listing,
        date_markup=date_markup,
        time_element=time_element,
        canonical=_canonical(tree, meta, url, host),
        language=language,
    )


def _meta(tree: HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in tree.iterfind(".//meta"):
        key = (m.get("property") or m.get("name") or m.get("http-equiv") or "").strip().lower()
        value = (m.get("content") or "").strip()
        if key and value and key not in out:
            out[key] = value
    return out


def _json_ld(tree: HtmlElement) -> tuple[set[str], str | None, bool]:
    """schema.org types (lower-cased) declared in JSON-LD, an ``inLanguage``, and
    whether a ``datePublished`` is given."""
    types: set[str] = set()
    language: str | None = None
    dated = False
    for script in tree.iterfind(".//script[@type]"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack: list[Any] = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                kind = node.get("@type")
                for t in kind if isinstance(kind, list) else [kind]:
                    if isinstance(t, str):
                        types.add(t.rsplit("/", 1)[-1].lower())
                lang = node.get("inLanguage")
                if isinstance(lang, str) and not language:
                    language = lang
                dated = dated or bool(node.get("datePublished"))
                graph = node.get("@graph")
                if graph:
                    stack.append(graph)
    return types, language, dated


def _in_boilerplate(element: HtmlElement, *, stop_at_article: bool = True) -> bool:
    """True when ``element`` sits in navigation, a sidebar, the site footer, comments or
    a "related posts" block. A ``<header>``/``<footer>`` inside an ``<article>`` is the
    post's own title and byline block, not boilerplate."""
    for node in (element, *element.iterancestors()):
        tag = node.tag if isinstance(node.tag, str) else ""
        if node is not element:
            if stop_at_article and tag == "article":
                return False
            if tag in _BOILERPLATE_TAGS:
                if tag in ("header", "footer") and any(
                    p.tag == "article" for p in node.iterancestors()
                ):
                    continue
                return True
        name = f"{node.get('class') or ''} {node.get('id') or ''}"
        if name.strip() and _BOILERPLATE_NAME.search(name):
            return True
    return False


def _same_site_target(href: str | None, base: str, host: str) -> str | None:
    if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
        return None
    parts = urlsplit(urljoin(base, href.strip()))
    if (parts.hostname or "").lower() != host:
        return None
    return parts.path.rstrip("/") or "/"


def _canonical(tree: HtmlElement, meta: dict[str, str], url: str, host: str) -> str | None:
    """The page's declared canonical URL, when it is on the same site and does not
    point a deeper page at the home page (a common misconfiguration that would give
    every post the same identity)."""
    candidates = [
        link.get("href")
        for link in tree.iterfind(".//link[@rel]")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    candidates.append(meta.get("og:url"))
    here = urlsplit(url).path.rstrip("/")
    for href in candidates:
        if not href:
            continue
        absolute = canonical_url(href, url)
        parts = urlsplit(absolute)
        if not is_web_url(absolute) or (parts.hostname or "").lower() != host:
            continue
        if here and not parts.path.rstrip("/"):
            continue
        return absolute
    return None


# --- small helpers --------------------------------------------------------------------


def _paragraphs(text: str, title: str) -> list[str]:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if lines and title and lines[0].casefold() == title.casefold():
        lines = lines[1:]  # trafilatura keeps the page's <h1>; the title is kept apart
    return lines


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.strptime(value[:10], "%Y-%m-%d")
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _latest_date(now: datetime | None) -> datetime | None:
    """htmldate's ``max_date`` for a crawl at ``now``: the end of its day (UTC), naive
    like the dates htmldate reads (:func:`_parse_date` takes those for UTC); None leaves
    htmldate's default, the end of today."""
    if now is None:
        return None
    return now.astimezone(UTC).replace(
        tzinfo=None, hour=23, minute=59, second=59, microsecond=999999
    )


def _is_midnight_guess(value: str | None) -> bool:
    """htmldate reports a bare date as midnight without a zone."""
    return bool(value) and str(value).endswith("T00:00:00")


def _language(value: str | None) -> str | None:
    if not value or not isinstance(value, str):
        return None
    m = _LANG.match(value.strip())
    return m.group(0).lower() if m else None


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
