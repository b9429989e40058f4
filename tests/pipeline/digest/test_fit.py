"""Mails that are never clipped: an edition far bigger than the benchmark's largest (four
watchlists of five stories) keeps its HTML part under 100 KB, footer and unsubscribe
link included, and every story it leaves out is on the web version the mail links to."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from digests.mail import build_message, make_message_id
from digests.model import Edition, Recipient
from digests.render import render_edition, render_web_page, web_url
from digests.tokens import with_links
from pipeline.digest.editions import Audience, EditionData, Period, build_edition
from pipeline.digest.fit import MAIL_HTML_LIMIT, fit_edition, lower_quota
from pipeline.store import MatchedArticle, PeriodArticle, StoryMember
from pipeline.store.values import typed_row

NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
PERIOD = Period(start=NOW - timedelta(days=7), end=NOW, year=2026, week=48)
BASE = "https://digest.example.org"
SENDER = "Trendwatch <digest@digest.example.org>"
WATCHLISTS = tuple(f"onderwerp-{n}" for n in range(8))
STORIES = 30  # per watchlist
WORDS = "thuiswerken kantoor vakbond minister reorganisatie pensioen loon".split()


def article(n: int, watchlist: str) -> dict[str, object]:
    """The SQL row of a long matched article: a long title and teaser, names and
    keyphrases (so every story has "Lees ook" links)."""
    words = " ".join(WORDS[(n + k) % len(WORDS)] for k in range(12))
    when = (NOW - timedelta(hours=1 + n)).isoformat()
    return {
        "id": n,
        "title": f"Verhaal {n} over {words} en wat dat betekent voor werknemers",
        "url": f"https://nieuws.example.org/{watchlist}/artikel-{n}?ref=digest&utm=mail",
        "summary": f"Het {n}e verhaal. " + " ".join([words.capitalize() + "."] * 6),
        "text": None,
        "published": when,
        "fetched": when,
        "date": when,
        "language": "nl",
        "story_id": n,
        "duplicate_of": None,
        "source_name": f"Bron {n % 7}",
        "terms": '["thuiswerken", "kantoor"]',
        "location": "title+body",
        "snippet": "",
        "entities": f'[{{"key": "org:{n % 5}", "text": "Org {n % 5}"}}]',
        "keyphrases": f'["{WORDS[n % 7]}", "{WORDS[(n + 1) % 7]}"]',
    }


ROWS = {
    name: [typed_row(MatchedArticle, article(1000 * w + n, name)) for n in range(STORIES)]
    for w, name in enumerate(WATCHLISTS)
}


def members(story_ids: object) -> list[StoryMember]:
    """Each story carried by four more sources ("Ook bij")."""
    out = []
    for story in sorted(story_ids):  # type: ignore[call-overload]
        for k in range(4):
            out.append(
                StoryMember(
                    id=100_000 + story * 10 + k,
                    story_id=story,
                    duplicate_of=None,
                    url=f"https://ander{k}.example.org/{story}",
                    title=f"Kopie {story}",
                    date=NOW - timedelta(hours=2),
                    source_name=f"Andere bron {k}",
                )
            )
    return out


POOL = [typed_row(PeriodArticle, article(50_000 + n, "pool")) for n in range(60)]
READER = with_links(
    Recipient("lezer@example.org", "Lezer", "nl", WATCHLISTS),
    secret=b"a-secret-of-at-least-16-bytes",
    base_url=BASE,
    unsubscribe_mailto="digest@digest.example.org",
)


def build(quotas: Mapping[str, int] | int = 5, watchlists: tuple[str, ...] = WATCHLISTS) -> Edition:
    return build_edition(
        Audience("nl", watchlists, ("lezer@example.org",)),
        PERIOD,
        title="Trendwatch",
        timezone="Europe/Amsterdam",
        watchlist_titles={},
        data=EditionData(rows_for=ROWS.__getitem__, members_for=members, related_pool=POOL),
        built_at=NOW,
        base_url=BASE,
        quota=quotas,
    )


def html_size(edition: Edition) -> int:
    return len(render_edition(edition, READER, sender=SENDER).html.encode("utf-8"))


def mail_html(edition: Edition) -> str:
    """The HTML part as it arrives: the message built, serialised and parsed again."""
    rendered = render_edition(edition, READER, sender=SENDER)
    msg = build_message(
        edition, READER, rendered, sender=SENDER, message_id=make_message_id("k", "example.org")
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    html = parsed.get_body(("html",))
    assert html is not None
    return html.get_content()


def test_a_big_edition_fits_under_the_limit_with_its_footer_and_the_rest_online() -> None:
    unfitted = build()
    assert html_size(unfitted) > 1.5 * MAIL_HTML_LIMIT  # the quota alone: clipped

    edition = fit_edition(build, html_size, WATCHLISTS)
    html = mail_html(edition)
    assert len(html.encode("utf-8")) < MAIL_HTML_LIMIT
    # the footer, with the reader's unsubscribe link, is all there
    assert READER.unsubscribe_url and READER.manage_url
    for link in (READER.unsubscribe_url, READER.manage_url):
        assert f'href="{link}"' in html
    assert html.rstrip().endswith("</html>")
    # the mail still shows stories, and links to its web version for the others
    shown = {i.url for s in edition.sections for i in s.items}
    assert 0 < len(shown) < len({i.url for s in unfitted.sections for i in s.items})
    online = web_url(edition)
    assert online is not None and f'href="{online}"' in html
    cut = [s for s in edition.sections if s.more]
    assert cut
    for section in cut:
        assert re.search(rf'href="{re.escape(online)}#s-{section.watchlist}"', html)
    # the web version holds every story of the period, the cut ones included
    page = render_web_page(edition)
    every = {r.url for rows in ROWS.values() for r in rows}
    assert every - shown
    for url in every:
        assert f'href="{url.replace("&", "&amp;")}"' in page


def test_an_edition_that_fits_is_built_once_with_the_full_quota() -> None:
    built: list[Mapping[str, int]] = []

    def counting(quotas: Mapping[str, int]) -> Edition:
        built.append(dict(quotas))
        return build(quotas)

    edition = fit_edition(counting, lambda e: 1, WATCHLISTS)
    assert built == [dict.fromkeys(WATCHLISTS, 5)]
    assert [len(s.items) for s in edition.sections] == [5] * len(WATCHLISTS)


def test_the_fullest_section_gives_way_the_last_first() -> None:
    edition = build({**dict.fromkeys(WATCHLISTS, 5), WATCHLISTS[2]: 3})
    quotas = {**dict.fromkeys(WATCHLISTS, 5), WATCHLISTS[2]: 3}
    assert lower_quota(edition, quotas) == {**quotas, WATCHLISTS[-1]: 4}
    # one story less each time until every section has given one
    sizes = iter(range(100, 0, -1))
    three = WATCHLISTS[:3]
    fitted = fit_edition(lambda q: build(q, three), lambda e: next(sizes), three, limit=97)
    assert [len(s.items) for s in fitted.sections] == [4, 4, 4]


def test_nothing_left_to_cut_stops() -> None:
    two = WATCHLISTS[:2]
    edition = fit_edition(lambda q: build(q, two), lambda e: 10**9, two)
    assert [len(s.items) for s in edition.sections] == [0, 0]
    assert [s.more for s in edition.sections] == [STORIES, STORIES]
