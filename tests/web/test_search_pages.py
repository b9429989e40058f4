"""The search page under Starlette's TestClient, over articles the real process job
indexed: Dutch and English through their lemmas, the syntax, each filter, both
orders, pages, the friendly answers to empty and unreadable input, escaping, and the
home page's search box."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pipeline.store.search import SearchError, SearchMixin
from search_support import SCRIPT, load_articles, write_search_config
from web.routes import search as search_route
from web_support import app_for, client

pytestmark = pytest.mark.both_databases  # each test on SQLite and on PostgreSQL


TITLES = {
    "bouw": "Gemeente Utrecht bouwt duizend nieuwe woningen",
    "huur": "Huurders betalen opnieuw meer",
    "banen": "Supermarkt schrapt honderden banen",
    "remote": "Companies hire more remote workers",
    "housing": "Housing shortage grows in Dutch cities",
    "script": "Woningnood in de Randstad",
}


@pytest.fixture(autouse=True)
def indexed(fill_once: Callable[[Callable[[], Path]], Path], tmp_path_factory: Any) -> Path:
    """A config whose database (SQLite, or the module's PostgreSQL database) holds the
    articles, processed (once for the module on each database)."""

    def fill() -> Path:
        config = write_search_config(tmp_path_factory.mktemp("search"))
        load_articles(config)
        return config

    return fill_once(fill)


@pytest.fixture
def web(indexed: Path) -> Iterator[TestClient]:
    with client(app_for(indexed)) as test_client:
        yield test_client


def found(html: str) -> list[str]:
    """The result titles on a page, in order, marks taken out."""
    titles = re.findall(r'<h2 class="search-title">(.*?)</h2>', html, re.S)
    return [re.sub(r"<[^>]+>", "", t) for t in titles]


def keys(html: str) -> list[str]:
    by_title = {title: key for key, title in TITLES.items()}
    return [by_title[t] for t in found(html)]


def test_dutch_and_english_are_found_through_their_lemmas(web: TestClient) -> None:
    dutch = web.get("/search", params={"q": "woning"})
    assert dutch.status_code == 200
    assert keys(dutch.text) == ["bouw"]  # it only says "woningen"
    assert "nieuwe <mark>woningen</mark>" in dutch.text
    assert "1 artikel gevonden" in dutch.text
    english = web.get("/search", params={"q": "company", "lang": "en"})
    assert keys(english.text) == ["remote"]  # it only says "companies"
    assert "<mark>Companies</mark> hire" in english.text and "1 article found" in english.text
    assert keys(web.get("/search", params={"q": "Banen"}).text) == ["banen"]
    assert keys(web.get("/search", params={"q": "baan"}).text) == ["banen"]
    assert keys(web.get("/search", params={"q": "worker"}).text) == ["remote"]


def test_phrases_exclusions_or_and_prefixes(web: TestClient) -> None:
    def search(q: str) -> list[str]:
        return sorted(keys(web.get("/search", params={"q": q}).text))

    assert search('"nieuwe woningen"') == ["bouw"]
    assert search('"woningen nieuwe"') == []
    assert search("sociale") == ["banen", "bouw", "huur"]  # "sociaal plan": one lemma
    assert search("sociale -huur") == ["banen", "bouw"]
    assert search("woning OR housing") == ["bouw", "housing"]
    assert search("woning OR housing -Utrecht") == ["housing"]
    assert search("woningn*") == ["script"]
    assert search("rent OR huur vakbond") == []
    assert search("banen OR huur directie") == ["banen"]


def test_each_filter_and_both_orders(web: TestClient) -> None:
    def search(**params: str) -> list[str]:
        page = web.get("/search", params=params)
        assert page.status_code == 200, page.text
        return keys(page.text)

    everything = "sociale OR housing OR workers OR woningnood OR banen"
    assert sorted(search(q=everything)) == sorted(TITLES)
    assert search(q=everything, watchlist="wonen", sort="newest") == ["huur", "bouw", "housing"]
    assert sorted(search(q=everything, source="NOS")) == ["banen", "huur"]
    assert sorted(search(q=everything, language="en")) == ["housing", "remote"]
    # dates are days in the schedule's zone, "to" included
    assert search(q=everything, sort="newest", **{"from": "2026-11-20", "to": "2026-11-22"}) == [
        "script",
        "bouw",
    ]
    assert search(q=everything, sort="newest") == [
        "huur",
        "remote",
        "script",
        "bouw",
        "housing",
        "banen",
    ]


def test_pages(web: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_route, "PER_PAGE", 2)
    q = "sociale OR housing OR workers OR woningnood OR banen"
    first = web.get("/search", params={"q": q, "sort": "newest"}).text
    second = web.get("/search", params={"q": q, "sort": "newest", "page": "2"}).text
    third = web.get("/search", params={"q": q, "sort": "newest", "page": "3"}).text
    assert (keys(first), keys(second), keys(third)) == (
        ["huur", "remote"],
        ["script", "bouw"],
        ["housing", "banen"],
    )
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert 'rel="prev"' in second and 'rel="next"' in second
    assert 'rel="next"' not in third and '<strong aria-current="page">3</strong>' in third
    assert 'href="/search?q=sociale+OR+housing' in second and "sort=newest&amp;page=3" in second
    beyond = web.get("/search", params={"q": q, "page": "9"})
    assert beyond.status_code == 200 and found(beyond.text) == []
    assert "Er zijn niet zoveel pagina" in beyond.text


@pytest.mark.parametrize(
    "q",
    [
        "NEAR(woning huur, 2)",
        "title : woning",
        "{title text}: x",
        '"',
        "AND OR NOT",
        "*",
        "woning^",
        "'; DROP TABLE articles; --",
        "(((woning",
        "x" * 2000,
        "\x00",
    ],
)
def test_what_fts5_would_call_a_syntax_error_gets_a_page(web: TestClient, q: str) -> None:
    page = web.get("/search", params={"q": q})
    assert page.status_code == 200
    assert "Er ging iets mis" not in page.text


def test_empty_and_unreadable_input_gets_a_friendly_page(web: TestClient) -> None:
    blank = web.get("/search")
    assert blank.status_code == 200 and "Zoek op woorden" in blank.text
    assert "noindex" not in blank.text
    spaces = web.get("/search", params={"q": "   "})
    assert spaces.status_code == 200 and "Zoek op woorden" in spaces.text
    for q in ("!!!", '""', "-"):
        page = web.get("/search", params={"q": q})
        assert page.status_code == 200 and "Typ een woord om naar te zoeken." in page.text
    for params, message in [
        ({"q": "woning", "from": "30-11-2026"}, "Een datum klopt niet"),
        ({"q": "woning", "from": "2026-11-30", "to": "2026-11-01"}, "ligt vóór de begindatum"),
        ({"q": "woning", "page": "twee"}, "Dat paginanummer bestaat niet"),
        ({"q": "woning", "page": "0"}, "Dat paginanummer bestaat niet"),
        ({"q": "woning", "sort": "random"}, "beste eerst of nieuwste eerst"),
        ({"q": "woning", "language": "de"}, "Nederlands of Engels"),
    ]:
        page = web.get("/search", params=params)
        assert page.status_code == 200, params
        assert message in page.text and 'role="alert"' in page.text
        assert 'value="woning"' in page.text  # the form keeps what was typed
    long = web.get("/search", params={"q": " ".join(f"w{i}" for i in range(15))})
    assert "3 woorden zijn niet meegenomen" in long.text
    only_out = web.get("/search", params={"q": "-huur", "lang": "en"})
    assert only_out.status_code == 200 and "Your search only leaves words out" in only_out.text


def test_nothing_from_an_article_or_the_query_is_markup(web: TestClient) -> None:
    # (PostgreSQL's parser takes `<script>` in a text for a tag and indexes none of it,
    # so the article is found by its word alone there; the query is shown apart)
    for query in ("woningnood", f"woningnood {SCRIPT}"):
        page = web.get("/search", params={"q": query})
        assert page.status_code == 200
        assert "<script>document" not in page.text and "<img" not in page.text
        assert "noindex" in page.text
    found = web.get("/search", params={"q": "woningnood"}).text
    assert "&lt;img src=&#34;x&#34; onerror=" in found  # the article's text, as text
    assert re.findall(r"<mark>([^<]*)</mark>", found)  # only our own tags
    assert 'value="woningnood &lt;script&gt;' in page.text  # the query, as text


def test_only_web_addresses_are_linked() -> None:
    assert search_route.safe_link("https://x.example/a") == "https://x.example/a"
    assert search_route.safe_link("javascript:alert(1)") is None
    assert search_route.safe_link(None) is None


def test_page_numbers() -> None:
    assert search_route.pages(1, 1) == [1]
    assert search_route.pages(1, 9) == [1, 2, 3, None, 9]
    assert search_route.pages(5, 9) == [1, None, 3, 4, 5, 6, 7, None, 9]
    assert search_route.pages(9, 9) == [1, None, 7, 8, 9]


def test_an_empty_database_answers_too(
    config: Path, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "postgresql":  # a database of its own, not the module's filled one
        monkeypatch.setenv("TRENDWATCH_DATABASE_URL", request.getfixturevalue("postgres_url"))
    with client(app_for(config)) as fresh:
        page = fresh.get("/search", params={"q": "woning"})
    assert page.status_code == 200 and "Niets gevonden" in page.text


def test_the_home_page_has_a_search_box(web: TestClient) -> None:
    home = web.get("/").text
    form = re.search(r'<form method="get" action="/search" role="search">.*?</form>', home)
    assert form and 'name="q"' in form.group()


def test_a_query_the_index_refuses_is_said_on_the_page(
    web: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise SearchError("fts5: syntax error near x")

    monkeypatch.setattr(SearchMixin, "search", refuse)
    page = web.get("/search", params={"q": "woning"})
    assert page.status_code == 200
    assert "Deze zoekopdracht lukte niet" in page.text and found(page.text) == []
