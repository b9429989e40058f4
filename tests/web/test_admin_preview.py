"""The watchlist preview: PreviewIndex answers as CompiledQuery does, article by
article (words, lemmas, phrases, intitle:, site:, lang:, OR, exclusions); the window,
replaced articles, weekly counts and highlighting; and the preview endpoint, which never
answers a query's syntax error with a 500 but shows it at its position."""

from __future__ import annotations

import html
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from admin_support import csrf_of, fill_store, write_admin_config
from pipeline.process.watchlists.matching import CompiledQuery, MatchDoc
from pipeline.process.watchlists.preview import (
    PreviewDoc,
    PreviewIndex,
    highlight,
    weekly_counts,
)
from pipeline.process.watchlists.query import QuerySyntaxError, parse_query
from pipeline.settings import load_settings
from pipeline.store import Store
from web.admin_work import Preparing, PreviewIndexes
from web_support import LOCAL, NOW, app_for, client

pytestmark = pytest.mark.both_databases  # each test on SQLite and on PostgreSQL


@pytest.fixture(autouse=True)
def _each_database(configured_database: str) -> None:
    """The app and the test's store open ``settings.database``: the SQLite file, or on
    PostgreSQL a fresh database named by ``$TRENDWATCH_DATABASE_URL``."""


NL = (
    "woningen woning huurwoning huurders thuiswerken thuis werken werkgevers werknemers"
    " medewerker medewerkers de het een van op in ontslag banen baan vakbond"
).split()
EN = (
    "housing houses remote work working workers employer employers staff office offices"
    " the a of in on layoffs jobs job union"
).split()


def corpus(n: int, seed: int = 3) -> list[PreviewDoc]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        lang = ("nl", "en", "und")[i % 3]
        words = NL if lang != "en" else EN
        title = " ".join(rng.choices(words, k=5)).capitalize()
        text = ". ".join(" ".join(rng.choices(words, k=12)) for _ in range(3)) + "."
        host = rng.choice(["nos.nl", "www.nu.nl", "bbc.co.uk", "news.bbc.co.uk", None])
        url = f"https://{host}/{i}" if host else None
        docs.append(PreviewDoc(i + 1, title, text, url, lang, NOW - timedelta(hours=i)))
    return docs


QUERIES = [
    "woning",
    "woningen",
    "Woningen",
    "medewerker",
    '"thuis werken"',
    '"de werknemers" OR layoffs',
    "intitle:vakbond",
    'intitle:"remote work"',
    "banen -ontslag",
    "-office work",
    "(housing OR woning) (office OR baan)",
    "site:bbc.co.uk office",
    "site:nu.nl OR lang:en",
    "lang:und banen",
    "employer",
    '"work the" OR "het een"',
    "staff | union",
    "onbekendwoord OR job",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_matches_what_compiled_query_matches(query: str) -> None:
    docs = corpus(240)
    index = PreviewIndex()
    index.add(docs[:100])
    index.add(docs[100:])  # two batches per language, joined when matched
    found = index.match(parse_query(query), NOW - timedelta(days=30), NOW + timedelta(seconds=1))
    compiled = CompiledQuery(query)
    expected = [
        d.id
        for d in docs
        if compiled.match(MatchDoc.build(d.title, d.text, d.url, d.language)) is not None
    ]
    assert [article_id for article_id, _ in found.matches] == expected  # newest first
    assert found.searched == len(docs)


def test_dutch_words_match_their_inflections() -> None:
    index = PreviewIndex()
    index.add([PreviewDoc(1, "Nieuws", "Er zijn te weinig woningen.", None, "nl", NOW)])
    since, until = NOW - timedelta(days=1), NOW + timedelta(seconds=1)
    assert [i for i, _ in index.match(parse_query("woning"), since, until).matches] == [1]
    assert index.match(parse_query("woningnood"), since, until).matches == ()


def test_only_the_window_counts_and_a_changed_article_replaces_its_old_version() -> None:
    index = PreviewIndex()
    old = PreviewDoc(1, "Banen", "Ontslag bij de bank.", None, "nl", NOW - timedelta(days=40))
    index.add([old, PreviewDoc(2, "Banen", "Meer banen.", None, "nl", NOW - timedelta(days=1))])
    since, until = NOW - timedelta(days=30), NOW + timedelta(seconds=1)
    assert [i for i, _ in index.match(parse_query("banen"), since, until).matches] == [2]
    index.add([PreviewDoc(2, "Huizen", "Geen woorden meer.", None, "nl", NOW)])
    assert index.match(parse_query("banen"), since, until).matches == ()
    assert [i for i, _ in index.match(parse_query("huizen"), since, until).matches] == [2]
    assert len(index) == 2 and index.size == 3


def test_weekly_counts_cover_every_week_of_the_window() -> None:
    since = datetime(2026, 11, 1, 12, tzinfo=UTC)  # a Sunday
    until = datetime(2026, 11, 20, tzinfo=UTC)
    dates = [datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)]
    weeks = weekly_counts(dates, since, until, "Europe/Amsterdam")
    assert [(w.week, w.count) for w in weeks] == [(44, 0), (45, 2), (46, 0), (47, 0)]
    assert weeks[1].start.isoformat() == "2026-11-02T00:00:00+01:00"


def test_highlight_marks_whole_words_ignoring_case() -> None:
    assert highlight("Thuiswerken en thuiswerkend thuiswerken.", ["thuiswerken"]) == [
        ("Thuiswerken", True),
        (" en thuiswerkend ", False),
        ("thuiswerken", True),
        (".", False),
    ]
    assert highlight("a (b)", ["(b)"]) == [("a ", False), ("(b)", True)]
    assert highlight("", ["x"]) == [] and highlight("x", []) == [("x", False)]


def test_groups_nested_too_deep_are_a_syntax_error_at_their_position() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("a " + "(" * 60 + "b" + ")" * 60)
    assert caught.value.position == 53 and "nested more than 50 deep" in caught.value.message


# --- the endpoint ----------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    config = write_admin_config(tmp_path)
    fill_store(config)
    return config


BAD = [
    ('thuiswerken "OR', 13, "unbalanced quote"),
    ("thuiswerken OR", 13, "needs a term on its right"),
    ("(thuiswerken", 1, "unbalanced '('"),
    ("thuiswerken)", 12, "unbalanced ')'"),
    ("-thuiswerken", 1, "not excluded"),
    ("site:", 1, "needs a value"),
    ("site:a..b", 1, "is not a domain"),
    ("lang:nederlands", 1, "not a language code"),
    ("OR x", 1, "needs a term on its left"),
    ("(" * 400 + "x" + ")" * 400, 51, "nested"),
    ("x " * 600, 1001, "longer than 1000"),
    ('"\x00" <script>alert(1)</script> "', 31, "unbalanced quote"),
]


@pytest.mark.parametrize(("query", "position", "message"), BAD)
def test_a_syntax_error_is_shown_at_its_position_never_a_500(
    config: Path, query: str, position: int, message: str
) -> None:
    with client(app_for(config), peer=LOCAL) as web:
        params = {"query": query, "editing": "", "lang": "en"}
        partial = web.get("/admin/watchlists/preview", params=params, headers={"HX-Request": "1"})
        page = web.get("/admin/watchlists/preview", params=params)
    for response in (partial, page):
        assert response.status_code == 200
        text = html.unescape(response.text)
        assert f"position {position}: {message}" in text or (
            f"position {position}: " in text and message in text
        )
        assert "<script>" not in response.text  # escaped
    assert "<html" not in partial.text and "<html" in page.text
    assert '<pre class="query-error">' in partial.text and "<mark>" in partial.text


def test_the_preview_shows_matches_why_and_the_count_per_week(config: Path) -> None:
    with client(app_for(config), peer=LOCAL) as web:
        response = web.get(
            "/admin/watchlists/preview",
            params={"query": 'thuiswerken OR "hybride werken" OR remote', "lang": "en"},
            headers={"HX-Request": "1"},
        )
    page = response.text
    assert response.status_code == 200
    assert "3 articles found (5 searched)" in page  # the 45-day-old one is out of the window
    assert "Oud nieuws" not in page
    # newest first, each with the words as they stand, where, and a marked snippet
    assert page.index("blijft de norm") < page.index("work is here to stay")
    assert page.index("work is here to stay") < page.index("vraagt afspraken")
    assert "in title and text · words: Thuiswerken" in page
    assert "words: Hybride werken" in page
    assert "<mark>Hybride werken</mark> vraagt afspraken" in page
    assert "Bij <mark>hybride werken</mark> horen" in page
    assert '<meter min="0" max="2" value="2">' in page  # two in the week of 23 November


def test_the_page_without_javascript_posts_the_form_with_its_csrf_token(config: Path) -> None:
    with client(app_for(config), peer=LOCAL) as web:
        page = web.get("/admin/watchlists/new")
        form = {"name": "x", "title": "X", "query": "banen", "editing": ""}
        refused = web.post("/admin/watchlists/preview", data=form)
        shown = web.post("/admin/watchlists/preview", data={**form, "csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert shown.status_code == 200 and 'value="X"' in shown.text
    assert "Jumbo schrapt 300 <mark>banen</mark>" in shown.text


def test_a_preview_waits_for_the_index_and_then_says_how_far_it_got(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading_started, release = threading.Event(), threading.Event()
    reading = Store.preview_articles

    def slow(self: Store, ids: list[int]) -> list:
        reading_started.set()
        release.wait()  # no timeout: held until the test lets go
        return reading(self, ids)

    monkeypatch.setattr(Store, "preview_articles", slow)
    indexes = PreviewIndexes()
    with Store(load_settings(config).database) as store:
        indexes.start(store.database, NOW)
        reading_started.wait()
        # the build is under way: the preview does not wait for it, it says how far
        found = indexes.preview(store, parse_query("banen"), NOW, wait=0.0)
        assert found == Preparing(0, 5)
        release.set()
        assert indexes.wait(store.database)
        found = indexes.preview(store, parse_query("banen"), NOW)
    assert not isinstance(found, Preparing) and len(found.matches) == 1
