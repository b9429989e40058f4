"""The story page (``/stories/{id}``) on a real SQLite file filled by the real crawl and
process jobs: the timeline across sources and languages, copies folded under their
original, names and keyphrases, escaping of what feeds say, and what a bad id gets."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pages_support import AUTHOR, NOW, STORED_TITLE, SUBSCRIBER, seeded, story_of
from pipeline.settings import load_settings
from pipeline.store import Store, StoryArticle
from web.routes.stories import keyphrases_of, names_of, timeline, web_href
from web_support import Clock, app_for, client

pytestmark = pytest.mark.both_databases  # each test on SQLite and on PostgreSQL


@pytest.fixture(autouse=True)
def config(fill_once: Callable[[Callable[[], Path]], Path], tmp_path_factory: Any) -> Path:
    """A config whose database (SQLite, or the module's PostgreSQL database) holds the
    seeded stories (once for the module on each database)."""
    return fill_once(lambda: seeded(tmp_path_factory.mktemp("stories")))


def get(config: Path, path: str, **headers: str):
    with client(app_for(config, Clock(NOW))) as web:
        return web.get(path, headers=headers)


def test_a_story_across_sources_and_languages_with_its_copy_folded(config: Path) -> None:
    story = story_of(config, "https://nos.example/jumbo")
    assert story_of(config, "https://wire.example/jumbo") == story
    page = get(config, f"/stories/{story}")
    assert page.status_code == 200
    html = page.text
    assert '<h1 lang="nl">Jumbo schrapt 300 banen in Veghel</h1>' in html
    assert "3 artikelen uit 3 bronnen, 25 november 2026." in html
    assert "Engels, Nederlands." in html
    # the timeline: oldest first; the English report its own entry; Regio's copy folded
    timeline_html = html[html.index('class="timeline"') :]
    order = [m for m in re.findall(r'<li id="article-(\d+)"', timeline_html)]
    assert len(order) == 3
    nos, copy, wire = order
    assert timeline_html.index("Jumbo schrapt") < timeline_html.index("Jumbo to cut")
    folded = timeline_html[timeline_html.index("<details") : timeline_html.index("</details>")]
    assert "1 kopie: Regio" in folded and "Honderden banen weg bij Jumbo" in folded
    assert f'id="article-{copy}"' in folded and "Jumbo to cut" not in folded
    assert (
        '<a href="https://wire.example/jumbo" rel="noopener noreferrer nofollow" lang="en">' in html
    )
    assert "25 nov 2026 · 13:00" in html  # 12:00 UTC in Amsterdam
    assert '<abbr title="Engels">EN</abbr>' in html
    # names and keyphrases with the number of articles that have them
    names = html[html.index('id="story-names"') : html.index('id="story-keyphrases"')]
    assert re.search(r"<li>Jumbo <span class=\"count\">2</span></li>", names)
    assert "Veghel" in names and "FNV" in names
    assert "<li>" in html[html.index('id="story-keyphrases"') : html.index('id="story-timeline"')]
    # the watchlists it matched link to their pages
    assert '<a href="/watchlists/jumbo">Jumbo &amp; banen</a>' in html
    assert 'href="/watchlists/thuiswerken"' not in html
    assert nos and wire


def test_in_english_and_no_personal_data(config: Path) -> None:
    story = story_of(config, "https://nos.example/jumbo")
    page = get(config, f"/stories/{story}?lang=en")
    assert "3 articles from 3 sources, 25 November 2026." in page.text
    assert "1 copy: Regio" in page.text and "Timeline" in page.text
    assert SUBSCRIBER not in page.text and AUTHOR not in page.text and "redactie@" not in page.text


def test_what_feeds_say_is_escaped(config: Path) -> None:
    story = story_of(config, "https://nos.example/veilig-thuiswerken")
    html = get(config, f"/stories/{story}").text
    assert "&lt;script&gt;window.__xss = &#34;title&#34;&lt;/script&gt; Thuiswerken veilig" in html
    assert "&lt;script&gt;window.__xss = &#39;escaped&#39;&lt;/script&gt; blijft tekst." in html
    assert "<script>window" not in html and "onerror" not in html
    assert STORED_TITLE.startswith("<script>")  # stored as text: the page escapes it
    assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/htmx.min.js" defer>']


@pytest.mark.parametrize(
    "path",
    [
        "/stories/0",
        "/stories/999",
        "/stories/99999999999999999999999",
        "/stories/-1",
        "/stories/x",
        "/stories/",
    ],
)
def test_unknown_and_malformed_ids_are_404_never_500(config: Path, path: str) -> None:
    page = get(config, path)
    assert page.status_code == 404, path
    if path[len("/stories/") :].isdigit():
        assert "Dit verhaal bestaat niet (meer)." in page.text


def test_a_story_without_articles_left_is_404(config: Path, tmp_path: Path) -> None:
    with Store(load_settings(config).database) as store:
        with store.transaction():
            store._x(
                "INSERT INTO stories (id, label, size, updated) VALUES (500, 'leeg', 0, ?)",
                [NOW.isoformat()],
            )
        try:
            assert get(config, "/stories/500").status_code == 404
        finally:
            with store.transaction():
                store._x("DELETE FROM stories WHERE id = 500")


# --- the pure parts ------------------------------------------------------------------


def article(id_: int, *, duplicate_of: int | None = None, source: str = "S", **kw) -> StoryArticle:
    values = {
        "id": id_,
        "duplicate_of": duplicate_of,
        "url": f"https://x.test/{id_}",
        "title": f"Artikel {id_}",
        "date": datetime(2026, 11, 20, tzinfo=UTC) + timedelta(hours=id_),
        "source_name": source,
        "language": "nl",
        "excerpt": "",
        "entities": (),
        "keyphrases": (),
    }
    values.update(kw)
    return StoryArticle(**values)


def test_timeline_folds_copies_under_the_original_and_keeps_orphans() -> None:
    rows = [
        article(1),
        article(2, duplicate_of=1, source="B"),
        article(3, duplicate_of=99),
        article(4),
    ]
    entries = timeline(rows)
    assert [e.article.id for e in entries] == [1, 3, 4]
    assert [c.id for c in entries[0].copies] == [2]
    assert entries[0].sources == ["S", "B"]


def test_names_count_articles_and_show_the_usual_spelling() -> None:
    rows = [
        article(
            1,
            entities=({"key": "fnv", "text": "FNV", "label": "ORG"},) * 2,
            keyphrases=("baan", "vakbond"),
        ),
        article(
            2,
            entities=({"key": "fnv", "text": "Fnv", "label": "ORG"},),
            keyphrases=("vakbond", "cao"),
        ),
        article(3, entities=({"key": "fnv", "text": "FNV", "label": "ORG"},), keyphrases=("cao",)),
    ]
    assert [(t.text, t.count) for t in names_of(rows)] == [("FNV", 3)]
    assert [(t.text, t.count) for t in keyphrases_of(rows)] == [
        ("cao", 2),
        ("vakbond", 2),
        ("baan", 1),
    ]


def test_only_web_links_become_hrefs() -> None:
    assert web_href("https://x.test/a?b=1") == "https://x.test/a?b=1"
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//x.test",
        None,
        "",
    ):
        assert web_href(bad) is None, bad
