"""Helpers of the story clustering tests (``test_clusterer``, ``test_story_index``,
``test_story_state``): made-up articles, streams of them, and clustering a stream.

The labelled Dutch/English fixture is in ``tests/fixtures/stories/`` and the fixtures
``story_records`` and ``story_articles`` of this folder's ``conftest.py`` read it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pipeline.process.analysis.features import ArticleFeatures, Entity
from pipeline.process.stories import ClusterConfig, StoryClusterer

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def cluster(
    articles: list[ArticleFeatures], config: ClusterConfig | None = None
) -> tuple[dict[int, int], StoryClusterer]:
    """Article id -> final story id (following merges, then splits, as the pipeline
    does), and the clusterer."""
    clusterer = StoryClusterer(config)
    assigned: dict[int, int] = {}
    for article in articles:
        assignment = clusterer.add(article)
        assigned[article.id] = assignment.story_id
        gone = set(assignment.merged)
        for article_id, story in assigned.items():
            if story in gone:
                assigned[article_id] = assignment.story_id
        assigned.update(assignment.moved)
    return assigned, clusterer


def by_story(records: list[dict]) -> dict[str, list[int]]:
    """Gold story name -> the ids of its articles."""
    out: dict[str, list[int]] = {}
    for r in records:
        out.setdefault(r["story"], []).append(r["id"])
    return out


def article(
    id_: int,
    when: datetime | None,
    terms: dict[str, int],
    names: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    lang: str = "en",
) -> ArticleFeatures:
    entities = tuple(Entity(n, n.lower(), "NAME") for n in names)
    return ArticleFeatures(
        id_, lang, when, terms=terms, entities=entities, numbers=frozenset(numbers)
    )


def unrelated(i: int, when: datetime) -> ArticleFeatures:
    """An article sharing nothing but the word "news" with the others."""
    return article(
        i, when, {"news": 1, f"topic{i}": 2, f"place{i}": 1}, (f"Person{i} Name{i}",), (f"{i}00",)
    )


def scattered(n: int, seed: int) -> list[ArticleFeatures]:
    """Overlapping articles on a few dozen events spread over three months, in shuffled
    order (an import or a backfill): stories stay open all over the calendar."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(200)]
    out = []
    for i in range(n):
        event = rng.randrange(40)
        terms = {w: rng.randint(1, 3) for w in rng.sample(words[event * 4 : event * 4 + 16], 8)}
        names = tuple({f"Event{event} Person", f"Place{rng.randrange(60)}"})
        day = T0 + timedelta(days=event * 2 + rng.random() * 6)
        numbers = (str(1000 + event), str(rng.randrange(5000, 9000)))
        out.append(article(i + 1, day, terms, names, numbers, lang=rng.choice(["en", "nl"])))
    rng.shuffle(out)
    return out
