"""The watchlist pages (``/watchlists``, ``/watchlists/{name}``) on a real SQLite file
filled by the real crawl and process jobs: counts this week, the chart of 26 weeks
from the app's clock, the rising terms and names per week, the latest stories with
their other sources; unknown names; the reads kept until the database changes."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

from pages_support import NOW, SUBSCRIBER, seeded, story_of
from pipeline.settings import load_settings
from pipeline.store import Store
from web_support import Clock, app_for, client

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def seeded_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded(tmp_path_factory.mktemp("watchlists")).parent


@pytest.fixture
def config(seeded_folder: Path, tmp_path: Path) -> Path:
    """A copy of the seeded instance, for the test to change."""
    shutil.copytree(seeded_folder, tmp_path / "site")
    return tmp_path / "site" / "trendwatch.toml"


def chart_of(html: str) -> ET.Element:
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, "no chart"
    return ET.fromstring(match.group(0))


def bars(root: ET.Element) -> list[tuple[str, str, list[str]]]:
    """(tooltip, fill, texts) of every bar."""
    out = []
    for g in root.iter(f"{SVG}g"):
        rect, title = g.find(f"{SVG}rect"), g.find(f"{SVG}title")
        if rect is not None and title is not None:
            out.append((title.text, rect.get("fill"), [t.text for t in g.findall(f"{SVG}text")]))
    return out


def test_the_index_lists_every_watchlist_with_its_count_this_week(config: Path) -> None:
    with client(app_for(config, Clock(NOW))) as web:
        page = web.get("/watchlists")
        moved = web.get("/watchlists/")
        home = web.get("/")
    assert page.status_code == 200
    rows = re.findall(
        r'<li><a href="(/watchlists/[^"]+)">([^<]+)</a>\s*<span class="meta">([^<]+)</span>',
        page.text,
    )
    assert rows == [
        ("/watchlists/thuiswerken", "Thuiswerken", "3 artikelen deze week"),
        ("/watchlists/jumbo", "Jumbo &amp; banen", "2 artikelen deze week"),  # a copy once
        ("/watchlists/stil", "Stil onderwerp", "0 artikelen deze week"),
    ]
    assert "Week 48 · 23–29 november 2026" in page.text
    assert moved.status_code in (307, 308) and moved.headers["location"].endswith("/watchlists")
    assert 'href="/watchlists/jumbo"' in home.text  # the home page's topics link here


def test_a_watchlist_page_has_26_weeks_as_a_chart_and_a_table(config: Path) -> None:
    with client(app_for(config, Clock(NOW))) as web:
        page = web.get("/watchlists/thuiswerken")
    assert page.status_code == 200
    html = page.text
    root = chart_of(html)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == (
        "Artikelen per week over Thuiswerken"
    )
    desc = root.find(f"{SVG}desc").text
    assert "26 weken" in desc and "Week 23 · 1–7 juni 2026" in desc and "8 artikelen" in desc
    drawn = bars(root)
    assert len(drawn) == 26
    assert drawn[-1] == (
        "Week 48 · 23–29 november 2026: 3 artikelen",
        "url(#weeks-hatch)",
        ["3", "48"],
    )
    assert drawn[-2] == ("Week 47 · 16–22 november 2026: 1 artikel", "#c8102e", ["1", "47"])
    assert drawn[0][2] == ["0", "23", "2026"]  # the year under the first week
    counts = {texts[1]: int(texts[0]) for _, _, texts in drawn}
    assert {week: n for week, n in counts.items() if n} == {
        "28": 1, "39": 1, "44": 1, "46": 1, "47": 1, "48": 3,
    }  # fmt: skip
    assert "deze week, nog niet voorbij" in html  # the hatching's legend, in words
    table = html[html.index('class="chart-table"') :]
    assert "<td>Week 48 · 23–29 november 2026 (tot nu toe)</td><td>3</td>" in table
    assert table.count("<tr><td>") == 26
    assert 'type="application/atom+xml"' in html and 'href="/watchlists/thuiswerken.atom"' in html
    assert SUBSCRIBER not in html


def test_the_weeks_follow_the_apps_clock(config: Path) -> None:
    later = Clock(NOW + timedelta(weeks=7))  # 2027-W02: the article of 2026-W28 drops out
    with client(app_for(config, later)) as web:
        html = web.get("/watchlists/thuiswerken?lang=en").text
    drawn = bars(chart_of(html))
    assert len(drawn) == 26
    assert drawn[-1][0] == "Week 2 · 11–17 January 2027: 0 articles"
    assert drawn[0][0].startswith("Week 30 · 20–26 July 2026")
    assert sum(int(texts[0]) for _, _, texts in drawn) == 7
    assert [texts[2] for _, _, texts in drawn if len(texts) == 3] == ["2026", "2027"]


def test_the_latest_stories_newest_first_with_their_other_sources(config: Path) -> None:
    with client(app_for(config, Clock(NOW))) as web:
        home = web.get("/watchlists/thuiswerken").text
        jumbo = web.get("/watchlists/jumbo").text
    stories = home[home.index('class="stories"') :]
    titles = re.findall(r'<h3><a href="/stories/\d+">([^<]+)</a></h3>', stories)
    assert len(titles) == 8
    assert titles[0].startswith("&lt;script&gt;window.__xss")  # the newest, escaped
    assert titles[1].startswith("Thuiswerken 1:") and titles[-1].startswith("Thuiswerken 7:")
    story = story_of(config, "https://nos.example/jumbo")
    item = jumbo[jumbo.index(f'href="/stories/{story}"') :]
    assert "Jumbo schrapt 300 banen in Veghel" in item.split("</h3>")[0]
    assert '<a href="https://nos.example/jumbo" rel="noopener noreferrer nofollow">NOS</a>' in item
    assert "3 artikelen" in item
    also = item[item.index("Ook bij") : item.index("</p>", item.index("Ook bij"))]
    assert 'href="https://regio.example/jumbo-banen"' in also and ">Regio</a>" in also
    assert 'href="https://wire.example/jumbo"' in also and ">Wire</a>" in also
    assert ">NOS<" not in also


def test_the_rising_terms_and_names_of_each_week_with_their_numbers(config: Path) -> None:
    def trend(term: str, kind: str, count: int, ratio: float, score: float, new: bool = False):
        return {
            "term": term.lower(),
            "label": term,
            "kind": kind,
            "count": count,
            "docs": 10,
            "expected": 1.0,
            "ratio": ratio,
            "score": score,
            "new": new,
        }

    with Store(load_settings(config).database) as store:
        store.save_trends(
            "2026-W47",
            "thuiswerken",
            [
                trend("Hybride werken", "term", 4, 3.24, 9.5),
                trend("Kantoordag", "term", 3, 2.0, 7.0),
                trend("Gedaald", "term", 1, 0.5, -3.0),  # fell: not shown
                trend("FNV", "entity", 5, 2.5, 12.0),
                trend("Nieuwe Bond", "entity", 2, 2.0, 0.0, new=True),
                {"kind": "story", "term": "7", "label": "x", "this_week": 3, "total": 3},
            ],
        )
        store.save_trends("2026-W48", "jumbo", [trend("Ontslag", "term", 9, 4.0, 20.0)])
        store.save_trends("2026-W20", "thuiswerken", [trend("Oud", "term", 9, 4.0, 20.0)])
    with client(app_for(config, Clock(NOW))) as web:
        html = web.get("/watchlists/thuiswerken").text
    rising = html[html.index("Stijgend per week") : html.index("Nieuwste verhalen")]
    assert "Week 47 · 16–22 november 2026" in rising
    items = re.findall(
        r"<li><strong>([^<]+)</strong> <span class=\"meta-inline\">([^<]+)</span>", rising
    )
    assert items == [
        ("Hybride werken", "4 artikelen · 3,2× zo vaak als gewoonlijk"),
        ("Kantoordag", "3 artikelen · 2× zo vaak als gewoonlijk"),
        ("FNV", "5 artikelen · 2,5× zo vaak als gewoonlijk"),
        ("Nieuwe Bond", "2 artikelen · nieuw"),
    ]
    assert (
        rising.index("<h4>Woorden</h4>") < rising.index("Hybride") < rising.index("<h4>Namen</h4>")
    )
    assert "Gedaald" not in rising and "Ontslag" not in rising and "Oud" not in rising


@pytest.mark.parametrize(
    "path",
    [
        "/watchlists/nope",
        "/watchlists/nope.atom",
        "/watchlists/THUISWERKEN",
        "/watchlists/thuiswerken.rss",
        "/watchlists/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/watchlists/a%2Fb",
        "/watchlists/" + "x" * 5000,
    ],
)
def test_an_unknown_watchlist_is_404_never_500(config: Path, path: str) -> None:
    with client(app_for(config, Clock(NOW))) as web:
        page = web.get(path)
    assert page.status_code == 404, path
    assert "<script>alert" not in page.text
    if "nope" in path:
        assert "Dit onderwerp bestaat niet (meer)." in page.text


def test_the_pages_change_when_the_database_does(config: Path) -> None:
    """The aggregates are kept per connection, until another connection commits."""
    app = app_for(config, Clock(NOW))
    with client(app) as web:
        before = web.get("/watchlists").text
        assert "3 artikelen deze week" in before
        with Store(load_settings(config).database) as other:
            other.db.execute(
                "DELETE FROM matches WHERE watchlist = 'thuiswerken' AND article_id ="
                " (SELECT id FROM articles WHERE url = 'https://nos.example/thuiswerken-1')"
            )
            other.db.conn.commit()
        after = web.get("/watchlists").text
        page = web.get("/watchlists/thuiswerken").text
    assert "2 artikelen deze week" in after
    assert bars(chart_of(page))[-1][2][0] == "2"
