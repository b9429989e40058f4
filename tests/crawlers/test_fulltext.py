"""Full-text extraction from article pages, and fetching them through the real client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from crawlers.entries import Entry
from crawlers.fulltext import (
    Extracted,
    FullTextError,
    apply_full_text,
    extract_article,
    extract_article_async,
    fetch_full_text,
    needs_full_text,
)
from crawlers.http import HttpOptions, make_client
from tests_support import REPO

PAGES = REPO / "tests" / "fixtures" / "pages"
BLOG = REPO / "tests" / "fixtures" / "blog"
NEWS_URL = "https://personeelpraktijk.example/nieuws/2026/11/thuiswerkvergoeding-werkgevers"
# The time of the crawl, passed to the extraction: htmldate believes no date after its
# day, so without it a page's date depends on the day the tests run.
CRAWLED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # after every fixture page's date


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def blog_page(name: str, base: str = "https://werkvloer.example") -> str:
    return (BLOG / name).read_text("utf-8").replace("{{BASE}}", base)


def test_news_article_with_metadata() -> None:
    article = extract_article(
        page("nieuws-nl.html"), NEWS_URL + "?utm_source=rss&utm_medium=feed", now=CRAWLED
    )
    assert isinstance(article, Extracted)
    assert article.url == NEWS_URL  # the page's rel=canonical, tracking parameters gone
    assert article.title == "Werkgevers worstelen met vergoeding voor thuiswerkers"
    assert article.author == "Lotte Bakker"
    assert article.published == datetime(2026, 11, 18, 5, 45, tzinfo=UTC)
    assert article.language == "nl"
    assert article.description and article.description.startswith("De helft van de werkgevers")
    assert article.text.startswith("De helft van de werkgevers betaalt thuiswerkers")
    assert "los beeldscherm veel klachten kunnen voorkomen." in article.text
    assert "Vaste afspraken helpen" in article.text  # an intermediate heading is content
    assert "\n\n" in article.text  # paragraphs kept apart
    assert article.word_count > 200
    for boilerplate in (
        "Wij gebruiken cookies",  # consent banner
        "Vacatures",  # navigation
        "Meest gelezen",  # sidebar
        "Advertentie",
        "Schandalig",  # a comment
        "Schrijf je in",  # newsletter box
        "Colofon",  # footer
    ):
        assert boilerplate not in article.text
    assert article.content.startswith("<p>") and "<script" not in article.content


def test_blog_post_without_metadata_gets_its_date_from_the_text() -> None:
    article = extract_article(
        page("blog-en-no-metadata.html"),
        "https://notes.example/posts/annual-reviews.html",
        now=CRAWLED,
    )
    assert article is not None
    assert article.title == "Why we stopped doing annual reviews"
    # no meta tag, no <time>, no date in the URL: htmldate reads "Posted on 3 October 2026"
    assert article.published == datetime(2026, 10, 3, tzinfo=UTC)
    assert article.published.tzinfo is not None
    assert article.text.startswith("For eight years our team ran the same ritual")
    assert article.text.endswith("before you roll it out everywhere.")
    for boilerplate in ("Priya", "Blogroll", "Recent posts", "Powered by", "Archive"):
        assert boilerplate not in article.text


def test_time_element_gives_the_time_of_day() -> None:
    article = extract_article(
        blog_page("article-burnout.html"),
        "https://werkvloer.example/2026/09/burn-out-voorkomen/",
        now=CRAWLED,
    )
    assert article is not None
    assert article.author == "Fatima El Amrani"
    assert article.published == datetime(2026, 9, 21, 6, 0, tzinfo=UTC)
    assert "Marloes" not in article.text and "Lees ook" not in article.text


def test_a_date_after_the_crawls_day_is_not_believed() -> None:
    # the page says 18 November 2026, 06:45; a crawl that day believes it, one the day
    # before does not (htmldate falls back to the month in the URL)
    html, url = page("nieuws-nl.html"), NEWS_URL
    same_day = extract_article(html, url, now=datetime(2026, 11, 18, 0, 5, tzinfo=UTC))
    day_before = extract_article(html, url, now=datetime(2026, 11, 17, 23, 55, tzinfo=UTC))
    assert same_day is not None and day_before is not None
    assert same_day.published == datetime(2026, 11, 18, 5, 45, tzinfo=UTC)
    assert day_before.published == datetime(2026, 11, 1, tzinfo=UTC)  # /nieuws/2026/11/


@pytest.mark.parametrize(
    ("html", "url"),
    [
        (page("listing-en.html"), "https://peopledesk.example/category/workplace/"),
        (blog_page("index.html"), "https://werkvloer.example/"),
        (blog_page("tag-hybride-werken.html"), "https://werkvloer.example/tag/hybride-werken/"),
        (blog_page("page-2.html"), "https://werkvloer.example/page/2/"),
        (page("empty-shell.html"), "https://portal.example/nieuws/123"),
        (b"", "https://example.org/a"),
        ("   ", "https://example.org/a"),
        (b"\x00\x01 not html at all", "https://example.org/a"),
    ],
    ids=["category", "home", "tag", "pagination", "js-shell", "empty", "blank", "binary"],
)
def test_pages_without_an_article(html: str | bytes, url: str) -> None:
    assert extract_article(html, url, now=CRAWLED) is None


ABOUT_PAGE = """<html><head><title>Over ons</title></head><body>
<nav><a href="/">Home</a> <a href="/diensten/">Diensten</a></nav>
<div class="content"><h1>Over ons</h1>
<p>Wij zijn een klein adviesbureau dat organisaties helpt met personeelsbeleid,
verzuimbegeleiding en het opzetten van een goede inwerkperiode voor nieuwe collega's.
Onze adviseurs werkten eerder zelf als leidinggevende of als personeelsadviseur.</p>
<p>We begonnen het bureau omdat we zagen dat kleine werkgevers vaak dezelfde vragen
hebben als grote organisaties, maar geen eigen afdeling om ze te beantwoorden. Een
contract opstellen, een zieke medewerker begeleiden of een functiegesprek voorbereiden:
daar helpen we bij.</p>
<p>Elke opdracht begint met een kennismaking op locatie. We willen weten hoe het werk er
in de praktijk uitziet voordat we advies geven, want een regeling die op papier klopt
maar op de werkvloer niet werkt, helpt niemand.</p>
<p>Je kunt ons bellen op werkdagen tussen negen en vijf, of een bericht sturen via het
contactformulier. We reageren binnen twee werkdagen, ook in de zomermaanden, en het
eerste gesprek is altijd vrijblijvend.</p>
</div><footer>Adviesbureau</footer></body></html>"""


def test_require_evidence_rejects_undated_pages_without_article_markup() -> None:
    lenient = extract_article(ABOUT_PAGE, "https://advies.example/over-ons/", now=CRAWLED)
    assert lenient is not None and lenient.word_count >= 120
    assert (
        extract_article(
            ABOUT_PAGE, "https://advies.example/over-ons/", require_evidence=True, now=CRAWLED
        )
        is None
    )
    assert (
        extract_article(
            blog_page("article-vierdagen.html"),
            "https://werkvloer.example/2026/10/vier-dagen-werkweek-proef/",
            require_evidence=True,
            now=CRAWLED,
        )
        is not None
    )


def test_min_words() -> None:
    url = "https://werkvloer.example/2026/09/burn-out-voorkomen/"
    assert (
        extract_article(blog_page("article-burnout.html"), url, min_words=500, now=CRAWLED) is None
    )


def test_canonical_pointing_at_the_home_page_is_ignored() -> None:
    html = blog_page("article-thuiswerken.html").replace(
        'rel="canonical" href="https://werkvloer.example/2026/10/thuiswerken-na-de-pandemie/"',
        'rel="canonical" href="https://werkvloer.example/"',
    )
    url = "https://werkvloer.example/2026/10/thuiswerken-na-de-pandemie/?ref_src=x"
    article = extract_article(html, url, now=CRAWLED)
    assert article is not None
    assert article.url == "https://werkvloer.example/2026/10/thuiswerken-na-de-pandemie/"


def test_extract_article_async_runs_off_the_loop() -> None:
    async def run() -> tuple[Extracted | None, Extracted | None]:
        with ThreadPoolExecutor(max_workers=1) as pool:
            in_pool = await extract_article_async(
                page("nieuws-nl.html"), NEWS_URL, executor=pool, now=CRAWLED
            )
        in_thread = await extract_article_async(page("nieuws-nl.html"), NEWS_URL, now=CRAWLED)
        return in_pool, in_thread

    in_pool, in_thread = asyncio.run(run())
    assert in_pool == in_thread == extract_article(page("nieuws-nl.html"), NEWS_URL, now=CRAWLED)


# --- needs_full_text / apply_full_text ------------------------------------------------

LONG = " ".join(["Werkgevers en werknemers maakten nieuwe afspraken over thuiswerken."] * 30)


def entry(content: str, *, url: str | None = "https://example.org/a", summary: str = "") -> Entry:
    text = content.replace("<p>", "").replace("</p>", "")
    return Entry(
        identity="guid:1", title="Titel", url=url, content=content, text=text, summary=summary
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", True),  # no content at all
        ("<p>Een korte samenvatting van het artikel.</p>", True),  # too short
        (f"<p>{LONG} En dan ging het verder...</p>", True),
        (f"<p>{LONG} En dan ging het verder […]</p>", True),
        (f"<p>{LONG} Het kabinet wil dat snel regelen. Read more</p>", True),
        (f"<p>{LONG} Het kabinet wil dat snel regelen. Lees verder »</p>", True),
        (f"<p>{LONG}</p>", False),  # a full article
        (f"<p>{LONG} Over drie dagen volgt meer.</p>", False),
    ],
)
def test_needs_full_text(content: str, expected: bool) -> None:
    assert needs_full_text(entry(content)) is expected


def test_needs_full_text_without_a_link_is_false() -> None:
    assert needs_full_text(entry("", url=None)) is False


def test_apply_full_text_keeps_identity_and_feed_values() -> None:
    article = extract_article(page("nieuws-nl.html"), NEWS_URL, now=CRAWLED)
    assert article is not None
    teaser = entry("<p>De helft van de werkgevers betaalt geen vergoeding.</p>", url=NEWS_URL)
    merged = apply_full_text(teaser, article)
    assert (merged.identity, merged.url, merged.title) == (teaser.identity, NEWS_URL, "Titel")
    assert merged.content == article.content and merged.text == article.text
    assert merged.summary == "De helft van de werkgevers betaalt geen vergoeding."
    assert merged.author == "Lotte Bakker"  # the feed had none
    assert merged.published == article.published
    assert needs_full_text(merged) is False


# --- fetch_full_text through crawlers.http against a local server ---------------------


def run_fetch(url: str, robots=None, *, allow_private: bool = True) -> Extracted | FullTextError:
    async def go() -> Extracted | FullTextError:
        async with make_client(HttpOptions(allow_private_networks=allow_private)) as client:
            return await fetch_full_text(client, url, robots, now=CRAWLED)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def local_server() -> Iterator[HTTPServer]:
    """An HTTP server on 127.0.0.1 (not "localhost": the crawlers see an IPv4 address)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def news_site(local_server: HTTPServer) -> HTTPServer:
    server = local_server
    server.clear()  # handlers and log of the previous test
    server.expect_request("/nieuws/thuiswerkvergoeding").respond_with_data(
        page("nieuws-nl.html"), content_type="text/html; charset=utf-8"
    )
    server.expect_request("/category/workplace/").respond_with_data(
        page("listing-en.html"), content_type="text/html; charset=utf-8"
    )
    server.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.7", content_type="application/pdf"
    )
    server.expect_request("/gone").respond_with_data("weg", status=404)
    return server


def test_fetch_full_text(news_site: HTTPServer) -> None:
    asked: list[str] = []

    async def allowed(url: str) -> bool:
        asked.append(url)
        return True

    url = news_site.url_for("/nieuws/thuiswerkvergoeding")
    article = run_fetch(url, allowed)
    assert isinstance(article, Extracted)
    assert article.title == "Werkgevers worstelen met vergoeding voor thuiswerkers"
    assert article.author == "Lotte Bakker"
    assert article.published == datetime(2026, 11, 18, 5, 45, tzinfo=UTC)
    assert asked == [url]
    [(request, _)] = news_site.log
    assert request.headers["User-Agent"].startswith("trendwatch/")
    assert "text/html" in request.headers["Accept"]


def test_fetch_full_text_refused_by_robots_fetches_nothing(news_site: HTTPServer) -> None:
    async def refuse(url: str) -> bool:
        return False

    result = run_fetch(news_site.url_for("/nieuws/thuiswerkvergoeding"), refuse)
    assert isinstance(result, FullTextError)
    assert result.kind == "robots"
    assert news_site.log == []


@pytest.mark.parametrize(
    ("path", "kind", "status"),
    [
        ("/gone", "fetch", 404),
        ("/category/workplace/", "no-article", 200),
        ("/report.pdf", "not-html", 200),
    ],
)
def test_fetch_full_text_failures(news_site: HTTPServer, path: str, kind: str, status: int) -> None:
    result = run_fetch(news_site.url_for(path))
    assert isinstance(result, FullTextError)
    assert (result.kind, result.status) == (kind, status)


def test_fetch_full_text_refuses_private_addresses(news_site: HTTPServer) -> None:
    result = run_fetch(news_site.url_for("/nieuws/thuiswerkvergoeding"), allow_private=False)
    assert isinstance(result, FullTextError)
    assert result.kind == "private-address" and "private" in result.error
    assert news_site.log == []
