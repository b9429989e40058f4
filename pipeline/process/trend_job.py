"""Compute and store each week's trends from the stored article tags.

For every week that received articles (and the weeks after it, up to now, whose
baseline it is part of), per scope (``*`` for everything, and each watchlist): rising
keyphrases and entities against the previous four weeks, entities never seen before,
and the stories that grew. The statistics are in :mod:`pipeline.process.trends`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from pipeline.process.trends import (
    HISTORY_WEEKS,
    StorySize,
    Trend,
    WeekCounts,
    new_entities,
    previous_weeks,
    rising,
    story_sizes,
    week_bounds,
    week_key,
)
from pipeline.settings import Settings
from pipeline.store import Store

MAX_WEEKS_BACK = 5  # older weeks are history; their trends were shown long ago
LIMIT = 15
ALL = "*"


def weeks_to_update(dates: Iterable[datetime], now: datetime, tz: str) -> list[str]:
    """The weeks whose trends the new articles change: their own weeks and every later
    week up to now (they are part of those weeks' baseline), at most five weeks back."""
    current = week_key(now, tz)
    recent = [current, *previous_weeks(current, MAX_WEEKS_BACK - 1)]
    touched = {week_key(d, tz) for d in dates}
    oldest = min((w for w in touched if w in recent), key=recent.index, default=None)
    if oldest is None:
        return []
    return list(reversed(recent[: recent.index(oldest) + 1]))


def update_trends(
    settings: Settings, store: Store, dates: Iterable[datetime], now: datetime
) -> tuple[str, ...]:
    tz = settings.schedule.timezone
    weeks = weeks_to_update(dates, now, tz)
    for week in weeks:
        for scope, trends in week_trends(store, week, tz, [w.name for w in settings.watchlists]):
            store.save_trends(week, scope, trends)
    return tuple(weeks)


def week_trends(
    store: Store, week: str, tz: str, watchlists: list[str]
) -> list[tuple[str, list[dict]]]:
    history_keys = previous_weeks(week, HISTORY_WEEKS)
    start, _ = week_bounds(history_keys[-1], tz)
    week_start, end = week_bounds(week, tz)
    rows = store.tagged_articles(start, end)
    docs: dict[str, list[dict]] = defaultdict(list)
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        for e in row.entities:
            surface[e["key"]][e["text"]] += 1
        doc = {
            "week": week_key(row.date, tz),
            "terms": list(row.keyphrases),
            "entities": [e["key"] for e in row.entities],
            "watchlists": list(row.watchlists),
            "story": row.story_id,
        }
        docs[doc["week"]].append(doc)
    # which of the week's entities appeared before it: asked once for the whole week,
    # every scope's entities are among them (None: no history, so nothing is "new")
    seen: set[str] | None = None
    if store.has_articles_before(week_start - timedelta(weeks=HISTORY_WEEKS)):
        week_entities = {e for d in docs.get(week, []) for e in d["entities"]}
        seen = store.entity_seen_before(week_entities, week_start)
    scoped = _by_scope(docs, watchlists)
    out = []
    for scope in [ALL, *watchlists]:
        current = scoped[week][scope]
        history = {k: scoped[k][scope] for k in history_keys}
        trends = _scope_trends(week, current, history, seen)
        for t in trends:
            if t["kind"] == "entity":
                t["label"] = (
                    surface[t["term"]].most_common(1)[0][0] if surface[t["term"]] else t["term"]
                )
            else:
                t["label"] = t["term"]
        trends += _stories(store, current)
        out.append((scope, trends))
    return out


def _by_scope(
    docs: dict[str, list[dict]], watchlists: list[str]
) -> defaultdict[str, dict[str, list[dict]]]:
    """Per week, per scope (``*`` and each watchlist): its documents in their order.
    One pass over the documents, not one per scope."""
    out: defaultdict[str, dict[str, list[dict]]] = defaultdict(
        lambda: {scope: [] for scope in [ALL, *watchlists]}
    )
    for week, week_docs in docs.items():
        scoped = out[week]
        for d in week_docs:
            scoped[ALL].append(d)
            for name in dict.fromkeys(d["watchlists"]):
                if name in scoped and name != ALL:
                    scoped[name].append(d)
    return out


def _scope_trends(
    week: str,
    current: list[dict],
    history: dict[str, list[dict]],
    seen: set[str] | None,
) -> list[dict]:
    trends: list[Trend] = []
    for kind, field in (("term", "terms"), ("entity", "entities")):
        now_counts = WeekCounts.from_documents(week, (d[field] for d in current))
        past = [WeekCounts.from_documents(k, (d[field] for d in ds)) for k, ds in history.items()]
        found = rising(now_counts, past, kind=kind, limit=LIMIT)
        if not any(p.docs for p in past):
            found = []  # without a baseline "rising" means nothing
        if kind == "entity" and seen is not None:
            fresh = new_entities(now_counts, seen, limit=LIMIT)
            known = {t.term for t in found}
            found = [
                Trend(**{**t.as_dict(), "new": True}) if t.term not in seen else t for t in found
            ] + [t for t in fresh if t.term not in known]
        trends.extend(found)
    return [t.as_dict() for t in trends]


def _stories(store: Store, current: list[dict]) -> list[dict]:
    this_week = Counter(d["story"] for d in current if d["story"] is not None)
    if not this_week:
        return []
    info = store.stories_by_id(this_week)
    sizes = [
        StorySize(sid, info[sid].label, n, max(n, info[sid].size), info[sid].first_seen)
        for sid, n in this_week.items()
        if sid in info
    ]
    return [
        {**s.as_dict(), "kind": "story", "term": str(s.story_id)}
        for s in story_sizes(sizes, min_this_week=2, limit=LIMIT)
    ]
