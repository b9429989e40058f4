"""Tests for building editions: audiences, periods, teasers, sections and freezing."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from digests.model import DigestItem, DigestSection, Edition, Recipient, StoryRef
from digests.render import edition_context
from pipeline.digest.editions import (
    DEFAULT_PERIOD,
    SECTION_QUOTA,
    TEASER_CHARS,
    Audience,
    EditionData,
    Period,
    audiences,
    build_edition,
    period_ending,
    sent_story_sizes,
    teaser,
)
from pipeline.digest.frozen import edition_from_json, edition_to_json
from pipeline.settings import Subscriber
from pipeline.store import MatchedArticle
from pipeline.store.values import typed_row

AMS = ZoneInfo("Europe/Amsterdam")


def sub(email: str, language: str = "nl", *watchlists: str) -> Subscriber:
    return Subscriber(
        email=email, name=email.split("@")[0], language=language, watchlists=watchlists
    )


# --- audiences -----------------------------------------------------------------------


def test_subscribers_with_same_language_and_watchlists_share_an_audience() -> None:
    result = audiences(
        [
            sub("anne@example.nl", "nl", "thuiswerken", "social-media-werk"),
            sub("bram@example.nl", "nl", "thuiswerken", "social-media-werk"),
        ]
    )
    assert result == [
        Audience("nl", ("thuiswerken", "social-media-werk"), ("anne@example.nl", "bram@example.nl"))
    ]


def test_audiences_split_by_language_and_by_watchlists_in_config_order() -> None:
    result = audiences(
        [
            sub("anne@example.nl", "nl", "thuiswerken"),
            sub("john@example.com", "en", "thuiswerken"),
            sub("bram@example.nl", "nl", "thuiswerken", "ontslag"),
            sub("carla@example.nl", "nl", "thuiswerken"),
        ]
    )
    assert result == [
        Audience("nl", ("thuiswerken",), ("anne@example.nl", "carla@example.nl")),
        Audience("en", ("thuiswerken",), ("john@example.com",)),
        Audience("nl", ("thuiswerken", "ontslag"), ("bram@example.nl",)),
    ]


def test_watchlist_order_is_part_of_the_audience() -> None:
    # sections follow the subscriber's watchlist order, so a different order is a
    # different edition
    result = audiences(
        [
            sub("anne@example.nl", "nl", "thuiswerken", "ontslag"),
            sub("bram@example.nl", "nl", "ontslag", "thuiswerken"),
        ]
    )
    assert [a.watchlists for a in result] == [
        ("thuiswerken", "ontslag"),
        ("ontslag", "thuiswerken"),
    ]
    assert result[0].slug != result[1].slug


def test_no_subscribers_no_audiences() -> None:
    assert audiences([]) == []


def test_audience_slug() -> None:
    a = Audience("nl", ("social-media-werk", "thuiswerken"), ("anne@example.nl",))
    assert a.slug == "nl-social-media-werk_thuiswerken"
    # watchlist names are [a-z0-9-], so '_' cannot be confused with part of a name
    assert re.fullmatch(r"[a-z0-9_-]+", a.slug)


def test_long_audience_slug_is_shortened_stably_and_uniquely() -> None:
    many = tuple(f"watchlist-over-arbeidsmarkt-{i}" for i in range(6))
    a = Audience("nl", many, ("anne@example.nl",))
    b = Audience("nl", (*many[:-1], "iets-anders"), ("anne@example.nl",))
    assert len(a.slug) <= 80
    assert re.fullmatch(r"[a-z0-9_-]+", a.slug)
    assert a.slug.startswith("nl-watchlist-over-arbeidsmarkt-0")
    assert "-and-5-" in a.slug
    assert a.slug == Audience("nl", many, ("bram@example.nl",)).slug  # not about people
    assert a.slug != b.slug


def test_slug_holds_no_email_address() -> None:
    a = Audience("en", ("layoffs",), ("john.smith@example.com",))
    assert "@" not in a.slug and "john" not in a.slug


# --- period_ending -------------------------------------------------------------------


def test_period_is_the_week_up_to_now() -> None:
    now = datetime(2026, 11, 30, 6, 0, tzinfo=AMS)
    p = period_ending(now, "Europe/Amsterdam")
    assert p.end == now
    assert p.start == now - timedelta(days=7)
    assert p.end - p.start == DEFAULT_PERIOD
    assert (p.year, p.week) == (2026, 49)
    assert p.key("nl-thuiswerken") == "2026-W49/nl-thuiswerken"


def test_period_length_can_be_chosen() -> None:
    now = datetime(2026, 11, 30, 6, 0, tzinfo=AMS)
    p = period_ending(now, "Europe/Amsterdam", length=timedelta(days=1))
    assert p.start == datetime(2026, 11, 29, 6, 0, tzinfo=AMS)


@pytest.mark.parametrize(
    "now,year,week",
    [
        # 2026 has 53 ISO weeks: Thursday 31 December and Friday 1 January are in W53
        (datetime(2026, 12, 31, 9, 0, tzinfo=AMS), 2026, 53),
        (datetime(2027, 1, 1, 9, 0, tzinfo=AMS), 2026, 53),
        (datetime(2027, 1, 3, 23, 59, tzinfo=AMS), 2026, 53),
        (datetime(2027, 1, 4, 0, 0, tzinfo=AMS), 2027, 1),
        # and Monday 29 December 2025 already belongs to 2026-W01
        (datetime(2025, 12, 29, 8, 0, tzinfo=AMS), 2026, 1),
        (datetime(2026, 1, 1, 8, 0, tzinfo=AMS), 2026, 1),
    ],
)
def test_period_is_named_after_the_iso_week_around_new_year(
    now: datetime, year: int, week: int
) -> None:
    p = period_ending(now, "Europe/Amsterdam")
    assert (p.year, p.week) == (year, week)
    assert p.key("nl-thuiswerken") == f"{year}-W{week:02d}/nl-thuiswerken"


def test_period_new_year_edition_covers_both_years() -> None:
    now = datetime(2027, 1, 1, 9, 0, tzinfo=AMS)
    p = period_ending(now, "Europe/Amsterdam")
    assert p.start == datetime(2026, 12, 25, 9, 0, tzinfo=AMS)
    assert p.end == now


def test_week_is_taken_in_the_digests_time_zone() -> None:
    # Sunday 3 January 2027 23:30 UTC is already Monday 4 January in Amsterdam
    now = datetime(2027, 1, 3, 23, 30, tzinfo=UTC)
    ams = period_ending(now, "Europe/Amsterdam")
    utc = period_ending(now, "UTC")
    new_york = period_ending(now, "America/New_York")
    assert (ams.year, ams.week) == (2027, 1)
    assert (utc.year, utc.week) == (2026, 53)
    assert (new_york.year, new_york.week) == (2026, 53)
    # the instants themselves are not shifted
    assert ams.end == utc.end == now


def test_period_key_pads_the_week() -> None:
    p = Period(
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2026, 1, 8, tzinfo=UTC),
        year=2026,
        week=2,
    )
    assert p.key("en-layoffs") == "2026-W02/en-layoffs"


# --- teaser --------------------------------------------------------------------------


def test_teaser_takes_at_most_three_sentences() -> None:
    text = (
        "Werkgevers zoeken dringend personeel. Het tekort loopt verder op! "
        "Vooral in de zorg? Ook het onderwijs heeft het zwaar."
    )
    assert teaser(text) == (
        "Werkgevers zoeken dringend personeel. Het tekort loopt verder op! Vooral in de zorg?"
    )


def test_teaser_of_a_short_text_is_the_text() -> None:
    assert teaser("Werkgevers zoeken personeel.") == "Werkgevers zoeken personeel."
    assert teaser("Werkgevers zoeken personeel") == "Werkgevers zoeken personeel"


def test_teaser_of_empty_text_is_empty() -> None:
    assert teaser("") == ""
    assert teaser("  \n ") == ""


def test_teaser_collapses_whitespace() -> None:
    assert teaser("  Regel een.\n\n  Regel   twee.  ") == "Regel een. Regel twee."


def test_teaser_stops_at_two_sentences_when_the_third_is_too_long() -> None:
    first = "Het kabinet wil thuiswerken stimuleren."
    second = "Werkgevers reageren verdeeld."
    third = "Volgens de werkgeversorganisatie " + "moet er meer overleg komen en " * 12 + "klaar."
    result = teaser(f"{first} {second} {third}")
    assert result == f"{first} {second}"
    assert len(result) <= TEASER_CHARS


def test_teaser_cuts_a_long_first_sentence_at_a_word() -> None:
    sentence = "Werkgevers " + "zoeken steeds vaker naar personeel, " * 12 + "zegt het UWV."
    result = teaser(sentence + " Tweede zin.")
    assert result.endswith(" …")
    body = result.removesuffix(" …")
    assert len(body) <= TEASER_CHARS
    assert not body.endswith(",")
    assert sentence.startswith(body)
    assert sentence[len(body)] == " "  # cut at a word edge


def test_teaser_respects_a_custom_cap() -> None:
    text = "Werkgevers zoeken dringend personeel in de zorg en het onderwijs."
    result = teaser(text, max_chars=30)
    assert result == "Werkgevers zoeken dringend …"
    assert len(result) <= 30 + len(" …")


def test_teaser_sentence_count_can_be_chosen() -> None:
    text = "Eerste zin. Tweede zin. Derde zin."
    assert teaser(text, max_sentences=2) == "Eerste zin. Tweede zin."


def test_teaser_does_not_split_before_a_lowercase_word() -> None:
    text = "Het gaat om o.a. zorgmedewerkers. Dat meldt het CBS. Er is meer. En nog meer."
    assert teaser(text) == "Het gaat om o.a. zorgmedewerkers. Dat meldt het CBS. Er is meer."


@pytest.mark.parametrize("text", ["x " * 2000, "a" * 1000, "Één. " * 300, "…" * 500])
def test_teaser_is_always_capped(text: str) -> None:
    assert len(teaser(text)) <= TEASER_CHARS + len(" …")


# --- build_edition -------------------------------------------------------------------


def row(n: int, **extra: Any) -> MatchedArticle:
    """A matched article as the store reads it from its SQL row (JSON and times as text)."""
    base = {
        "id": n,
        "title": f"Artikel {n} over thuiswerken",
        "url": f"https://nu.nl/werk/{n}",
        "source_name": "NU.nl",
        "date": f"2026-11-{20 + n % 9:02d}T08:00:00+00:00",
        "summary": f"Samenvatting {n}. Meer werknemers willen thuiswerken.",
        "text": None,
        "terms": '["thuiswerken"]',
    }
    base.update(extra)
    unused = dict.fromkeys(("story_id", "duplicate_of", "entities", "keyphrases", "published"))
    stored = {**unused, "fetched": base["date"], "language": "nl", "location": "title"}
    return typed_row(MatchedArticle, {**stored, "snippet": "", **base})


PERIOD = Period(
    start=datetime(2026, 11, 23, 6, 0, tzinfo=AMS),
    end=datetime(2026, 11, 30, 6, 0, tzinfo=AMS),
    year=2026,
    week=49,
)
BUILT = datetime(2026, 11, 30, 6, 0, 5, tzinfo=AMS)


def build(audience: Audience, rows: dict[str, Sequence[MatchedArticle]], **kw: Any) -> Edition:
    kw.setdefault("title", "Trendwatch Werk en Leven")
    kw.setdefault("timezone", "Europe/Amsterdam")
    kw.setdefault(
        "watchlist_titles", {"thuiswerken": "Thuiswerken", "ontslag": "Ontslag en reorganisatie"}
    )
    kw.setdefault("built_at", BUILT)
    data = EditionData(rows_for=lambda name: rows.get(name, []), members_for=lambda ids: [])
    return build_edition(audience, PERIOD, data=data, **kw)


AUD = Audience("nl", ("ontslag", "thuiswerken"), ("anne@example.nl",))
BASE = "https://trends.example.nl"


def test_edition_metadata() -> None:
    ed = build(AUD, {}, base_url="https://trends.example.nl")
    assert ed.key == "2026-W49/nl-ontslag_thuiswerken"
    assert ed.slug == AUD.slug
    assert ed.title == "Trendwatch Werk en Leven"
    assert ed.language == "nl"
    assert ed.timezone == "Europe/Amsterdam"
    assert (ed.period_start, ed.period_end) == (PERIOD.start, PERIOD.end)
    assert (ed.year, ed.week) == (2026, 49)
    assert ed.built_at == BUILT
    assert ed.base_url == "https://trends.example.nl"


def test_sections_follow_the_subscribers_watchlist_order() -> None:
    rows = {"thuiswerken": [row(1)], "ontslag": [row(2)]}
    ed = build(AUD, rows)
    assert [s.watchlist for s in ed.sections] == ["ontslag", "thuiswerken"]
    assert [s.title for s in ed.sections] == ["Ontslag en reorganisatie", "Thuiswerken"]
    other = build(Audience("nl", ("thuiswerken", "ontslag"), ("b@example.nl",)), rows)
    assert [s.watchlist for s in other.sections] == ["thuiswerken", "ontslag"]


def test_rows_are_asked_per_watchlist_in_order() -> None:
    asked: list[str] = []

    def rows_for(name: str) -> list[MatchedArticle]:
        asked.append(name)
        return []

    build_edition(
        AUD,
        PERIOD,
        title="T",
        timezone="Europe/Amsterdam",
        watchlist_titles={},
        data=EditionData(rows_for=rows_for, members_for=lambda ids: []),
        built_at=BUILT,
    )
    assert asked == ["ontslag", "thuiswerken"]


def test_watchlist_without_title_uses_its_name() -> None:
    ed = build(Audience("nl", ("cao-nieuws",), ("a@example.nl",)), {})
    assert ed.sections[0].title == "cao-nieuws"


def test_quota_keeps_the_first_rows_and_counts_the_rest() -> None:
    rows = [row(n) for n in range(1, 9)]
    ed = build(AUD, {"thuiswerken": rows})
    section = ed.sections[1]
    assert SECTION_QUOTA == 5
    assert [i.title for i in section.items] == [r.title for r in rows[:5]]
    assert section.more == 3
    assert ed.item_count == 8


def test_the_stories_left_out_by_the_quota_are_kept_in_the_edition() -> None:
    rows = [row(n, story_id=100 + n) for n in range(1, 9)]  # eight stories of one article
    ed = build(AUD, {"thuiswerken": rows})
    section = ed.sections[1]
    # equal sizes: the store's order; the top 5 for the e-mail, the other 3 kept
    assert [i.title for i in section.items] == [
        f"Artikel {n} over thuiswerken" for n in (1, 2, 3, 4, 5)
    ]
    assert section.more == 3
    assert [i.title for i in section.more_items] == [
        f"Artikel {n} over thuiswerken" for n in (6, 7, 8)
    ]
    assert section.more_items[0].url == "https://nu.nl/werk/6"
    assert section.more_items[0].teaser == "Samenvatting 6. Meer werknemers willen thuiswerken."
    assert section.more_references == () and section.more_missing == 0
    assert section.count == 8 and ed.item_count == 8
    assert edition_from_json(edition_to_json(ed)) == ed  # they are frozen with it
    # only the e-mail's stories count as sent
    assert sent_story_sizes([ed]) == {101: 1, 102: 1, 103: 1, 104: 1, 105: 1}


def test_the_mail_shows_the_quota_and_the_archive_page_every_story() -> None:
    ed = build(AUD, {"thuiswerken": [row(n) for n in range(1, 9)]}, base_url=BASE)
    reader = Recipient("anne@example.nl", "Anne", "nl", AUD.watchlists)
    mail = edition_context(ed, reader)["sections"][1]
    assert [i.title for i in mail.items] == [f"Artikel {n} over thuiswerken" for n in range(1, 6)]
    assert mail.more == "+3 meer in het archief"
    page = f"{BASE}/archive/2026/W49/nl-ontslag_thuiswerken.html"  # the edition's web version
    assert mail.more_href == f"{page}#s-thuiswerken"
    web = edition_context(ed)["sections"][1]  # no recipient: the archive page
    assert [i.title for i in web.items] == [f"Artikel {n} over thuiswerken" for n in range(1, 9)]
    assert web.anchor == "s-thuiswerken"
    assert web.more is None and web.more_href is None


@pytest.mark.parametrize(
    "count,shown,more", [(0, 0, 0), (1, 1, 0), (3, 3, 0), (4, 3, 1), (9, 3, 6)]
)
def test_custom_quota(count: int, shown: int, more: int) -> None:
    ed = build(AUD, {"ontslag": [row(n) for n in range(count)]}, quota=3)
    assert (len(ed.sections[0].items), ed.sections[0].more) == (shown, more)
    assert len(ed.sections[0].more_items) == more


def test_empty_watchlist_gives_an_empty_section() -> None:
    ed = build(AUD, {"ontslag": [row(1)]})
    assert ed.sections[1] == DigestSection(watchlist="thuiswerken", title="Thuiswerken")


def test_item_fields_come_from_the_row() -> None:
    r = row(
        3,
        title="Eén op de drie werknemers wil thuiswerken",
        url="https://www.nu.nl/werk/3",
        source_name="NU.nl Werk",
        date="2026-11-26T13:45:00+00:00",
        summary="Eén op de drie werknemers wil vaker thuiswerken. Dat blijkt uit onderzoek.",
        terms='["Eén", "thuiswerken"]',
    )
    item = build(AUD, {"ontslag": [r]}).sections[0].items[0]
    assert item == DigestItem(
        title="Eén op de drie werknemers wil thuiswerken",
        url="https://www.nu.nl/werk/3",
        source="NU.nl Werk",
        published=datetime(2026, 11, 26, 13, 45, tzinfo=UTC),
        teaser="Eén op de drie werknemers wil vaker thuiswerken. Dat blijkt uit onderzoek.",
        matched=("Eén", "thuiswerken"),
    )
    assert item.published.tzinfo is not None


@pytest.mark.parametrize(
    "terms,matched",
    [
        ('["sociale media", "werk"]', ("sociale media", "werk")),
        ("[]", ()),
        (None, ()),
        ("", ()),
        (["managers"], ("managers",)),
    ],
)
def test_matched_terms_from_json(terms: Any, matched: tuple[str, ...]) -> None:
    item = build(AUD, {"ontslag": [row(1, terms=terms)]}).sections[0].items[0]
    assert item.matched == matched


def test_missing_url_becomes_empty() -> None:
    item = build(AUD, {"ontslag": [row(1, url=None)]}).sections[0].items[0]
    assert item.url == ""


def test_teaser_from_summary_else_text_else_empty() -> None:
    long_text = "Volledige tekst. " + "Nog een zin. " * 50
    from_summary = row(1, summary="Korte samenvatting.", text=long_text)
    from_text = row(2, summary=None, text=long_text)
    nothing = row(3, summary=None, text=None)
    items = build(AUD, {"ontslag": [from_summary, from_text, nothing]}).sections[0].items
    assert items[0].teaser == "Korte samenvatting."
    assert items[1].teaser == "Volledige tekst. Nog een zin. Nog een zin."
    assert items[2].teaser == ""


# --- freezing ------------------------------------------------------------------------


def sample_edition(**kw: Any) -> Edition:
    rows = {
        "ontslag": [
            row(1, title="Massaontslag bij Philips: 300 banen weg", terms='["banen"]'),
            row(2, title="Reorganisatie “Gemeente Utrecht” — één afdeling", url=None),
        ],
        "thuiswerken": [row(n) for n in range(3, 10)],
    }
    return build(AUD, rows, base_url="https://trends.example.nl", **kw)


def test_edition_survives_a_json_round_trip() -> None:
    ed = sample_edition()
    again = edition_from_json(edition_to_json(ed))
    assert again == ed
    assert again.sections[1].more == 2
    assert again.sections[0].items[0].matched == ("banen",)
    assert isinstance(again.sections, tuple) and isinstance(again.sections[0].items, tuple)


def test_round_trip_keeps_instants_and_offsets() -> None:
    ed = sample_edition()
    again = edition_from_json(edition_to_json(ed))
    for before, after in [
        (ed.period_start, again.period_start),
        (ed.period_end, again.period_end),
        (ed.built_at, again.built_at),
    ]:
        assert after == before
        assert after.utcoffset() == before.utcoffset()


def test_round_trip_is_stable() -> None:
    text = edition_to_json(sample_edition())
    assert edition_to_json(edition_from_json(text)) == text


def test_an_edition_is_frozen_as_dataclasses_asdict_writes_it() -> None:
    """The store's JSON of an edition is ``dataclasses.asdict`` as JSON, sorted keys."""
    import dataclasses

    for ed in (sample_edition(), edition_from_json(edition_to_json(sample_edition()))):
        reference = json.dumps(
            dataclasses.asdict(ed),
            default=lambda value: value.isoformat(),
            ensure_ascii=False,
            sort_keys=True,
        )
        assert edition_to_json(ed) == reference


def test_json_keeps_non_ascii_text_readable() -> None:
    text = edition_to_json(sample_edition())
    assert "“Gemeente Utrecht” — één afdeling" in text
    data = json.loads(text)
    assert data["key"] == f"2026-W49/{AUD.slug}"


def test_round_trip_without_optional_fields() -> None:
    ed = build(Audience("en", ("layoffs",), ("john@example.com",)), {}, built_at=None)
    ed = Edition(**{**ed.__dict__, "base_url": None})
    again = edition_from_json(edition_to_json(ed))
    assert again == ed
    assert again.built_at is None and again.base_url is None
    assert again.sections == (DigestSection(watchlist="layoffs", title="layoffs"),)


# --- a story in several sections: in full once, then one-line references ---------------

THREE = Audience("nl", ("ontslag", "thuiswerken", "verzuim"), ("anne@example.nl",))
TITLES = {"ontslag": "Ontslag", "thuiswerken": "Thuiswerken", "verzuim": "Verzuim en burn-out"}


def story(n: int, story_id: int | None) -> MatchedArticle:
    return row(n, story_id=story_id, title=f"Verhaal {n}")


def test_a_story_in_two_sections_is_shown_in_full_in_the_first_and_referred_to_later() -> None:
    shared = story(1, 7)
    ed = build(
        THREE,
        {"ontslag": [shared, story(2, 8)], "verzuim": [story(3, 9), shared]},
        watchlist_titles=TITLES,
    )
    ontslag, thuiswerken, verzuim = ed.sections
    assert [i.title for i in ontslag.items] == ["Verhaal 1", "Verhaal 2"]
    assert ontslag.items[0].anchor == "story-7"  # referred to below: named
    assert ontslag.items[1].anchor == ""  # nobody refers to it
    assert ontslag.references == () and thuiswerken.references == ()
    assert [i.title for i in verzuim.items] == ["Verhaal 3"]
    assert verzuim.references == (
        StoryRef(title="Verhaal 1", watchlist="ontslag", anchor="story-7"),
    )
    # a reference counts for its section
    assert (ontslag.count, thuiswerken.count, verzuim.count) == (2, 0, 2)
    assert not thuiswerken.items and thuiswerken.quiet


def test_the_quota_counts_the_stories_shown_in_full() -> None:
    shared = story(1, 7)
    rows = {
        "ontslag": [shared],
        "thuiswerken": [shared, story(2, 8), story(3, 9), story(4, 10)],
    }
    ed = build(THREE, rows, watchlist_titles=TITLES, quota=2)
    section = ed.sections[1]
    # the shared story takes no quota place: two more stories in full, one left out
    assert [i.title for i in section.items] == ["Verhaal 2", "Verhaal 3"]
    assert [r.title for r in section.references] == ["Verhaal 1"]
    assert section.more == 1 and section.count == 4


def test_a_story_left_out_by_an_earlier_quota_is_shown_in_full_where_it_makes_the_quota() -> None:
    late = story(9, 70)
    rows = {
        "ontslag": [story(1, 11), story(2, 12), late],  # quota 2: Verhaal 9 is "+1 more"
        "thuiswerken": [late],  # shown in full here, the first section that shows it
        "verzuim": [late, story(3, 13)],  # and referred to here
    }
    ed = build(THREE, rows, watchlist_titles=TITLES, quota=2)
    ontslag, thuiswerken, verzuim = ed.sections
    assert [i.title for i in ontslag.items] == ["Verhaal 1", "Verhaal 2"]
    assert ontslag.more == 1 and ontslag.references == ()
    assert [i.title for i in thuiswerken.items] == ["Verhaal 9"]
    assert thuiswerken.items[0].anchor == "story-70"
    assert [i.title for i in verzuim.items] == ["Verhaal 3"]
    assert verzuim.references == (
        StoryRef(title="Verhaal 9", watchlist="thuiswerken", anchor="story-70"),
    )
    # kept for the archive page, the left-out story stays in full where it made the
    # quota: its first section refers to it there, a later section
    assert ontslag.more_items == ()
    assert ontslag.more_references == (
        StoryRef(title="Verhaal 9", watchlist="thuiswerken", anchor="story-70"),
    )


def test_a_story_no_quota_takes_is_kept_in_full_in_the_first_section_that_has_it() -> None:
    left = story(2, 12)
    rows = {
        "ontslag": [story(1, 11), left],  # quota 1: Verhaal 2 is "+1 more"
        "verzuim": [story(3, 13), left],  # here too
    }
    ed = build(THREE, rows, watchlist_titles=TITLES, quota=1)
    ontslag, thuiswerken, verzuim = ed.sections
    assert [i.title for i in ontslag.items] == ["Verhaal 1"]
    assert [i.title for i in verzuim.items] == ["Verhaal 3"]
    assert ontslag.more == verzuim.more == 1
    assert ontslag.references == verzuim.references == ()
    assert [i.title for i in ontslag.more_items] == ["Verhaal 2"]
    assert ontslag.more_items[0].anchor == "story-12"  # referred to below
    assert ontslag.more_references == ()
    assert verzuim.more_items == ()
    assert verzuim.more_references == (
        StoryRef(title="Verhaal 2", watchlist="ontslag", anchor="story-12"),
    )
    assert (ontslag.count, thuiswerken.count, verzuim.count) == (2, 0, 2)
    assert ontslag.items[0].anchor == "" and verzuim.items[0].anchor == ""


def test_an_edition_stored_before_the_left_out_stories_were_kept_still_loads() -> None:
    ed = build(AUD, {"thuiswerken": [row(n) for n in range(1, 9)]}, base_url=BASE)
    data = json.loads(edition_to_json(ed))
    for section in data["sections"]:  # as the previous code stored it
        del section["more_items"], section["more_references"]
    old = edition_from_json(json.dumps(data))
    section = old.sections[1]
    assert len(section.items) == 5 and section.more == 3 and section.count == 8
    assert section.more_items == () and section.more_references == ()
    assert section.more_missing == 3
    # nothing to link to: the mail and the archive page say how many, unlinked
    reader = Recipient("anne@example.nl", "Anne", "nl", AUD.watchlists)
    for view in (edition_context(old, reader)["sections"][1], edition_context(old)["sections"][1]):
        assert len(view.items) == 5
        assert (view.more, view.more_href) == ("+3 meer deze week", None)


def test_an_article_without_a_story_is_referred_to_by_its_id() -> None:
    lone = story(5, None)
    ed = build(THREE, {"thuiswerken": [lone], "verzuim": [lone]}, watchlist_titles=TITLES)
    assert ed.sections[1].items[0].anchor == "article-5"
    assert ed.sections[2].items == ()
    assert ed.sections[2].references == (
        StoryRef(title="Verhaal 5", watchlist="thuiswerken", anchor="article-5"),
    )


def test_a_story_in_three_sections_is_referred_to_twice_and_remembered_once() -> None:
    shared = story(1, 7)
    ed = build(THREE, {name: [shared] for name in THREE.watchlists}, watchlist_titles=TITLES)
    assert len(ed.sections[0].items) == 1
    ref = StoryRef(title="Verhaal 1", watchlist="ontslag", anchor="story-7")
    assert ed.sections[1].references == ed.sections[2].references == (ref,)
    assert sent_story_sizes([ed]) == {7: 1}
    assert edition_from_json(edition_to_json(ed)) == ed  # references survive freezing
