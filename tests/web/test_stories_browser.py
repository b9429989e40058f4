"""A story page and a watchlist page with its chart, in headless Chromium (Debian's,
driven by Playwright) against a real ``trendwatch serve`` child process, on a database
filled by the real crawl and process jobs (dated from the clock, read once), on SQLite
and on PostgreSQL. No console
errors on any page, and the script payloads of a feed never run: they show as text."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_web_serve import Served, fetch

from browser_support import watched_tab
from pages_support import STORED_TITLE, seeded, story_of
from smtp_support import free_port
from web_support import ADMIN_ENV, SECRET, SECRET_ENV


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Served, Path]]:
    """The served site on SQLite, then on a PostgreSQL database of its own (named by
    $TRENDWATCH_DATABASE_URL while the module's tests of that database run)."""
    folder = tmp_path_factory.mktemp("served")
    with ExitStack() as stack, pytest.MonkeyPatch.context() as env:
        if request.param == "postgresql":
            from postgres_support import fresh_database, server_url

            url = stack.enter_context(fresh_database(server_url()))
            env.setenv("TRENDWATCH_DATABASE_URL", url)
        else:
            env.delenv("TRENDWATCH_DATABASE_URL", raising=False)
        web = f'[web]\nadmin_token_env = "{ADMIN_ENV}"\n'
        # in a thread of its own: the crawl runs its event loop, and once the browser
        # is up (the second database) Playwright's runs in this thread
        with ThreadPoolExecutor(1) as pool:
            config = pool.submit(seeded, folder, datetime.now(UTC), web=web).result()
        port = free_port()
        env.setenv(SECRET_ENV, SECRET)  # the autouse fixture is not set up yet
        server = Served(config, port, "serve", "--port", str(port))
        try:
            yield server.start(), config
        finally:
            server.kill()


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    with watched_tab(browser) as watched:  # Accept-Language: the pages in Dutch
        yield watched


def open_page(tab: Any, url: str) -> None:
    response = tab.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    assert tab.evaluate("() => typeof window.__xss") == "undefined", url


def test_a_story_page_in_chromium(site: tuple[Served, Path], page: tuple[Any, list[str]]) -> None:
    served, config = site
    tab, problems = page
    jumbo = story_of(config, "https://nos.example/jumbo")
    open_page(tab, f"{served.base}/stories/{jumbo}")
    assert tab.locator("h1").inner_text() == "Jumbo schrapt 300 banen in Veghel"
    items = tab.locator("ol.timeline > li")
    assert items.count() == 2  # the Dutch original (its copy folded) and the English report
    copy = tab.get_by_role("link", name="Honderden banen weg bij Jumbo")
    assert not copy.is_visible()  # folded under its original
    tab.get_by_text("1 kopie: Regio").click()  # <details>: no script needed
    assert copy.is_visible()
    assert (
        tab.locator("ol.timeline [lang=en]").first.inner_text() == "Jumbo to cut 300 jobs in Veghel"
    )
    assert tab.locator("#story-names + ul li").count() >= 3
    # the stylesheet applied: the timeline's rule and the digest's colours
    border = tab.evaluate(
        "() => getComputedStyle(document.querySelector('ol.timeline')).borderLeftStyle"
    )
    assert border == "solid"
    # the payload story: the feed's script shows as text and never runs
    payload = story_of(config, "https://nos.example/veilig-thuiswerken")
    open_page(tab, f"{served.base}/stories/{payload}")
    assert tab.locator("h1").inner_text() == STORED_TITLE
    excerpt = tab.locator(".excerpt").inner_text()
    assert "<script>window.__xss = 'escaped'</script> blijft tekst." in excerpt
    assert tab.locator("main script, main img").count() == 0
    assert problems == []


def test_a_watchlist_page_with_its_chart_in_chromium(
    site: tuple[Served, Path], page: tuple[Any, list[str]]
) -> None:
    served, _ = site
    tab, problems = page
    open_page(tab, f"{served.base}/watchlists")
    tab.get_by_role("link", name="Thuiswerken").click()
    tab.wait_for_url(f"{served.base}/watchlists/thuiswerken")
    assert tab.evaluate("() => typeof window.__xss") == "undefined"
    chart = tab.get_by_role("img", name="Artikelen per week over Thuiswerken")
    assert chart.count() == 1 and chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 80
    bars = chart.locator("g:has(> title)")  # a bar: its tooltip, its rect, its texts
    assert bars.count() == 26
    numbers = [int(bars.nth(i).locator("text").first.text_content()) for i in range(26)]
    assert sum(numbers) == 8  # every article on working from home, in 26 weeks
    last = bars.nth(25).locator("rect").get_attribute("fill")
    assert last == "url(#weeks-hatch)"  # this week: hatched, and the legend says why
    assert chart.get_by_text("deze week, nog niet voorbij").count() == 1
    tab.get_by_text("De getallen als tabel").click()
    assert tab.locator(".chart-table tbody tr").count() == 26
    stories = tab.locator("ol.stories > li h3 a")
    assert stories.count() == 8
    assert stories.first.inner_text() == STORED_TITLE  # escaped text, not markup
    stories.first.click()
    tab.wait_for_url(f"{served.base}/stories/*")
    assert tab.evaluate("() => typeof window.__xss") == "undefined"
    open_page(tab, f"{served.base}/watchlists/jumbo?lang=en")
    assert tab.get_by_role("img", name="Articles per week on Jumbo & banen").count() == 1
    assert "Also in" in tab.locator("ol.stories").inner_text()
    assert problems == []


def test_the_feed_over_http_with_a_conditional_get(site: tuple[Served, Path]) -> None:
    served, _ = site
    status, headers, body = fetch(served.base + "/watchlists/thuiswerken.atom")
    assert status == 200 and headers["content-type"].startswith("application/atom+xml")
    assert "<script>" not in body and "&lt;script&gt;" in body
    request = urllib.request.Request(
        served.base + "/watchlists/thuiswerken.atom", headers={"If-None-Match": headers["etag"]}
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=10)
    answer.value.close()
    assert answer.value.code == 304
    assert fetch(served.base + "/watchlists/nope.atom")[0] == 404
    assert fetch(served.base + "/stories/123456789")[0] == 404
    assert served.stop() == 0
    assert "Traceback" not in served.errors.read_text("utf-8")
