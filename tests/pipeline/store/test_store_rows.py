"""The store's reads return typed rows with the values stored: one example of each read,
most of them on the database an earlier trendwatch wrote (the fixture of
``test_store_old_database``), and ``typed_row``, which decodes the stored values. On
SQLite and PostgreSQL (the same rows copied there): the reads give the same rows."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.store import (
    AnalysedArticle,
    ArticleToProcess,
    DedupCandidate,
    DeliveryRow,
    EditionRow,
    ExportedArticle,
    MatchedArticle,
    PeriodArticle,
    Store,
    StoredFeatures,
    StoredStory,
    StoryMember,
    TaggedArticle,
    UnfinishedDelivery,
)
from pipeline.store.values import typed_row
from postgres_support import as_on
from store_support import NOW, entry, source_id

pytestmark = pytest.mark.both_databases

FIXTURE = Path(__file__).parents[2] / "fixtures" / "store" / "trendwatch-v4.db"
WEEK = (NOW - timedelta(days=7), NOW)
EDITION = "2026-W48/nl-thuiswerken_banen"
ALERT_URL = "https://elders.test.invalid/9"
ALERT_TEXT = "Een bericht over thuiswerken."
ALERT_TAGS = ("alert", "bericht", "thuiswerken")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def old(tmp_path: Path, database: str | Path) -> Iterator[Store]:
    """The earlier trendwatch's database, migrated; on PostgreSQL, its rows copied there."""
    path = tmp_path / "data" / "trendwatch.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    with Store(path) as store, as_on(store, database) as either:
        yield either


# --- typed_row ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Example:
    when: datetime
    maybe: datetime | None
    names: tuple[str, ...]
    counts: dict[str, int]
    items: list[int]
    flag: bool
    text: str | None
    blob: bytes


def test_typed_row_decodes_times_json_and_flags_as_the_fields_say() -> None:
    row = typed_row(
        Example,
        {
            "when": "2026-11-26T12:00:00+00:00",
            "maybe": None,
            "names": '["a", "b"]',
            "counts": '{"a": 2}',
            "items": "[1, 2]",
            "flag": 1,
            "text": "[not json]",
            "blob": b"\x00",
            "ignored": "a column the row has no field for",
        },
    )
    assert row == Example(NOW, None, ("a", "b"), {"a": 2}, [1, 2], True, "[not json]", b"\x00")


@pytest.mark.parametrize("stored", [None, "", "[]"])
def test_typed_row_reads_null_or_empty_json_as_empty(stored: str | None) -> None:
    row = typed_row(
        Example,
        {
            "when": "2026-11-26T12:00:00+00:00",
            "maybe": "2026-11-27T12:00:00+00:00",
            "names": stored,
            "counts": None if stored is None else stored.replace("[]", "{}"),
            "items": stored,
            "flag": 0,
            "text": None,
            "blob": b"",
        },
    )
    assert (row.maybe, row.names, row.counts, row.items, row.flag) == (
        NOW + timedelta(days=1),
        (),
        {},
        [],
        False,
    )


def test_typed_row_takes_json_that_is_decoded_already_as_it_is() -> None:
    row = typed_row(
        Example,
        dict.fromkeys(("maybe", "text"))
        | {"when": NOW.isoformat(), "names": ["x"], "counts": {"x": 1}, "items": (1,), "flag": True}
        | {"blob": b""},
    )
    assert (row.names, row.counts, row.items) == (("x",), {"x": 1}, [1])


def test_typed_row_needs_every_field() -> None:
    with pytest.raises(KeyError, match="blob"):
        typed_row(
            Example, dict.fromkeys(("when", "maybe", "names", "counts", "items", "flag", "text"))
        )


# --- the process job's reads ------------------------------------------------------------


def test_an_article_to_process(store: Store) -> None:
    e = entry(1, summary="Kort.", content="<p>Tekst</p>", language="en")
    store.save_entries(source_id(store), [e], NOW)
    [row] = store.articles_to_process()
    assert row == ArticleToProcess(
        id=row.id,
        title=e.title,
        url=e.url,
        summary="Kort.",
        content="<p>Tekst</p>",
        text=e.text,
        language="en",
        published=e.published,
        fetched=NOW,
        updated=NOW,
        story_id=None,
        source_name="Bron",
        source_language="nl",
    )
    assert row.published == NOW - timedelta(hours=1)


def test_an_analysed_article(old: Store) -> None:
    assert old.processed_articles(4, 5) == [
        AnalysedArticle(
            id=5,
            title="Alleen in de alert",
            url=ALERT_URL,
            text=ALERT_TEXT,
            language="nl",
            detected_language="nl",
            entities=(),
        )
    ]
    [first] = old.processed_articles(0, 1)
    assert first.entities == (
        {"text": "Utrecht", "key": "utrecht", "label": "NAME"},
        {"text": "Amsterdam", "key": "amsterdam", "label": "NAME"},
    )


def test_a_dedup_candidate_and_its_features(old: Store) -> None:
    candidate = old.dedup_candidates(NOW - timedelta(days=7))[4]
    assert isinstance(candidate, DedupCandidate) and len(candidate.minhash) > 100
    assert candidate == DedupCandidate(
        id=5,
        duplicate_of=None,
        date=at(26, 7),
        source_name="Alert",
        story_id=4,
        minhash=candidate.minhash,
    )
    features = old.features(5)
    assert features == StoredFeatures(
        article_id=5,
        language="nl",
        entities=(),
        keyphrases=ALERT_TAGS,
        terms={"alert": 1, "bericht": 1, "thuiswerken": 1},
        numbers=(),
        links=(ALERT_URL,),
        minhash=candidate.minhash,
        analysed_at=at(26, 10),
    )
    assert old.features(99) is None


def test_a_tagged_article_and_its_story(old: Store) -> None:
    tagged = {r.id: r for r in old.iter_tagged_articles(*WEEK)}
    assert tagged[5] == TaggedArticle(
        id=5,
        date=at(26, 7),
        keyphrases=ALERT_TAGS,
        entities=(),
        watchlists=("thuiswerken",),
        story_id=4,
    )
    assert old.stories_by_id([2, 99]) == {
        2: StoredStory(
            id=2,
            label="FNV, Jumbo, Supermarktketen Jumbo",
            representative_id=3,
            first_seen=at(23, 12),
            last_seen=at(24, 12),
            size=2,
            updated=at(26, 10),
        )
    }


def test_an_exported_article_keeps_the_stored_times_as_text(old: Store) -> None:
    exported = list(old.export_rows(batch=2))
    assert [r.id for r in exported] == [1, 2, 3, 4, 5, 6]
    assert exported[4] == ExportedArticle(
        id=5,
        identity="guid:9",
        source_name="Alert",
        url=ALERT_URL,
        title="Alleen in de alert",
        published="2026-11-26T07:00:00+00:00",
        fetched="2026-11-26T08:00:00+00:00",
        language="nl",
        detected_language="nl",
        entities=(),
        keyphrases=ALERT_TAGS,
        matches=(
            {
                "watchlist": "thuiswerken",
                "terms": ["thuiswerken"],
                "location": "body",
                "snippet": ALERT_TEXT,
            },
        ),
        duplicate_of=None,
        story_id=4,
        processed_at="2026-11-26T10:00:00+00:00",
    )


# --- the digest job's reads -------------------------------------------------------------


def test_a_matched_article_is_a_period_article_is_a_story_member(old: Store) -> None:
    member = StoryMember(
        id=5,
        story_id=4,
        duplicate_of=None,
        url=ALERT_URL,
        title="Alleen in de alert",
        date=at(26, 7),
        source_name="Alert",
    )
    assert old.story_members([4]) == [member]
    period = PeriodArticle(**_fields(member), entities=(), keyphrases=ALERT_TAGS)
    assert old.period_articles(*WEEK)[0] == period
    assert old.matched_articles("thuiswerken", *WEEK)[0] == MatchedArticle(
        **_fields(period),
        summary=ALERT_TEXT,
        text=ALERT_TEXT,
        published=at(26, 7),
        fetched=at(26, 8),
        language="nl",
        terms=("thuiswerken",),
        location="body",
        snippet=ALERT_TEXT,
    )


def test_an_edition_and_its_deliveries(old: Store) -> None:
    [edition] = old.editions()
    assert json.loads(edition.data)["key"] == EDITION
    assert edition == EditionRow(
        id=1,
        key=EDITION,
        slug="nl-thuiswerken_banen",
        title="Trendwatch",
        language="nl",
        period_start=at(19, 12),
        period_end=at(26, 12),
        year=2026,
        week=48,
        watchlists="thuiswerken,banen",
        item_count=5,
        archive_path="2026/W48/nl-thuiswerken_banen.html",
        data=edition.data,
        built_at=at(26, 12),
    )
    assert old.edition(EDITION) == edition and old.edition("2026-W01/x") is None
    pending = DeliveryRow(
        id=2,
        edition_id=1,
        subscriber="later@example.nl",
        status="pending",
        transport=None,
        attempts=0,
        message_id=None,
        last_error=None,
        next_attempt=None,
        created=at(26, 12),
        sent_at=None,
    )
    sent = old.delivery(1)
    assert sent is not None and (sent.status, sent.transport, sent.sent_at) == (
        "sent",
        "outbox",
        at(26, 12),
    )
    assert old.deliveries() == old.deliveries(1) == [sent, pending]
    assert old.delivery(2) == pending == old.ensure_delivery(1, "later@example.nl", NOW)
    assert old.unfinished_deliveries() == [
        UnfinishedDelivery(
            **_fields(pending), edition_key=EDITION, built_at=at(26, 12), data=edition.data
        )
    ]


def _fields(row: StoryMember | DeliveryRow) -> dict[str, Any]:
    """A row's fields by name, to build the row that extends it."""
    return {f.name: getattr(row, f.name) for f in fields(row)}


def test_rows_are_frozen(old: Store) -> None:
    [edition] = old.editions()
    with pytest.raises(AttributeError):
        edition.item_count = 0  # type: ignore[misc]
    assert replace(edition, item_count=0).item_count == 0
