"""Search in headless Chromium against a real ``trendwatch serve`` process, over articles
the real process job indexed: from the home page's box, in Dutch (``woning`` finds an
article that only says ``woningen``) and in English (``company`` finds ``companies``),
with the filters of the form, pages and no console errors; a script in an article's
text never runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_web_serve import Served

from browser_support import watched_tab
from search_support import load_articles, write_search_config
from smtp_support import free_port
from web_support import SECRET, SECRET_ENV

BOUW = "Gemeente Utrecht bouwt duizend nieuwe woningen"
REMOTE = "Companies hire more remote workers"
HOUSING = "Housing shortage grows in Dutch cities"
HUUR = "Huurders betalen opnieuw meer"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    config = write_search_config(tmp_path_factory.mktemp("served"))
    load_articles(config)
    port = free_port()
    with pytest.MonkeyPatch.context() as env:  # the module's child, before each test's
        env.setenv(SECRET_ENV, SECRET)
        server = Served(config, port, "serve", "--port", str(port))
    try:
        yield server.start()
    finally:
        server.kill()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A tab in Dutch whose console errors, page errors and dialogs fail the test."""
    with watched_tab(browser) as (tab, problems):
        yield tab
    assert problems == []


def titles(page: Any) -> list[str]:
    return page.locator(".search-title").all_inner_texts()


def test_search_from_the_home_page_in_dutch_and_english(page: Any, served: Served) -> None:
    page.goto(served.base + "/")
    page.fill("form[role=search] input[name=q]", "woning")
    page.press("form[role=search] input[name=q]", "Enter")
    page.wait_for_url(served.base + "/search?q=woning")
    assert titles(page) == [BOUW]  # the article only says "woningen"
    assert page.locator(".search-title mark").all_inner_texts() == ["woningen"]
    assert page.locator(".search-snippet mark").first.inner_text() == "woningen"
    assert page.locator(".search-count").inner_text() == "1 artikel gevonden"
    # English: the interface and the query
    page.goto(served.base + "/search?lang=en")
    page.fill("#q", "company")
    page.click(".search-box button")
    page.wait_for_load_state()
    assert titles(page) == [REMOTE]  # it only says "companies"
    assert page.locator(".search-title mark").all_inner_texts() == ["Companies"]
    assert page.locator(".search-count").inner_text() == "1 article found"


def test_the_filters_of_the_form(page: Any, served: Served) -> None:
    page.goto(served.base + "/search")
    page.fill("#q", "woningen OR housing OR huur")
    page.click(".search-filters summary")  # the filters fold open without script
    page.select_option("#language", "en")
    page.click(".search-box button")
    page.wait_for_load_state()
    assert titles(page) == [HOUSING]
    assert page.locator(".search-filters").get_attribute("open") is not None  # stays open
    page.select_option("#language", "")
    page.select_option("#watchlist", "wonen")
    page.select_option("#sort", "newest")
    page.fill("#from", "2026-11-19")
    page.fill("#to", "2026-11-25")
    page.click(".search-box button")
    page.wait_for_load_state()
    assert titles(page) == [HUUR, BOUW]
    page.select_option("#source", "NOS")
    page.click(".search-box button")
    page.wait_for_load_state()
    assert titles(page) == [HUUR]
    assert "source=NOS" in page.url and "watchlist=wonen" in page.url
    # a date the server cannot read: a message on the page, not an error page
    page.goto(served.base + "/search?q=woning&from=morgen")
    assert page.locator("[role=alert]").inner_text() == (
        "Een datum klopt niet; gebruik de vorm 2026-11-30."
    )


def test_a_script_in_an_article_never_runs(page: Any, served: Served) -> None:
    page.goto(served.base + "/search?q=woningnood")
    page.wait_for_load_state("load")
    snippet = page.locator(".search-snippet").inner_text()
    assert "<script>document.title='pwned'</script>" in snippet  # shown as text
    assert page.title() != "pwned"
    assert page.evaluate("() => document.querySelectorAll('main script, main img').length") == 0
    # and what is typed into the box is no markup either
    page.goto(served.base + "/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert page.locator("#q").input_value() == "<img src=x onerror=alert(1)>"
    assert page.evaluate("() => document.querySelectorAll('main img').length") == 0
