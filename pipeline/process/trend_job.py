"""Compute and store each week's trends from the stored article tags.

For every week that received articles (and the weeks after it, up to now, whose
baseline it is part of), per scope (``*`` for everything, and each watchlist): rising
keyphrases and entities against the previous four weeks, entities never seen before,
and the stories that grew. The statistics are in :mod:`pipeline.process.trends`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from operator import itemgetter
from sys import intern

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
from pipeline.store import Store, StoredStory

MAX_WEEKS_BACK = 5  # older weeks are history; their trends were shown long ago
LIMIT = 15
ALL = "*"


def weeks_to_update(dates: Iterable[datetime], now: datetime, tz: str) -> list[str]:
    """The weeks whose trends the new articles change: their own weeks and every later
    week up to now (they are part of those weeks' baseline), at most five weeks back."""
    current = week_key(now, tz)
    recent = [current, *previous_weeks(current, MAX_WEEKS_BACK - 1)]
    touched = {week_key(d, tz) for d in dates}
    oldest = max((w for w in touched if w in recent), key=recent.index, default=None)
    if oldest is None:
        return []
    return list(reversed(recent[: recent.index(oldest) + 1]))


Trends = list[tuple[str, list[dict]]]  # a week's trends per scope, as stored
# computes the trends of some weeks: (weeks, tz, watchlists) -> week -> trends
Computer = Callable[[list[str], str, list[str]], dict[str, Trends]]


def update_trends(
    settings: Settings,
    store: Store,
    dates: Iterable[datetime],
    now: datetime,
    compute: Computer | None = None,
) -> tuple[str, ...]:
    """Compute and store the trends of the weeks ``dates`` change
    (:func:`weeks_to_update`); the weeks. ``compute`` computes them elsewhere (the
    process job's worker processes, :meth:`~pipeline.process.batch.Analyser.trends`);
    by default here."""
    tz = settings.schedule.timezone
    weeks = weeks_to_update(dates, now, tz)
    if weeks:
        names = [w.name for w in settings.watchlists]
        if compute is None:
            found = weeks_trends(store, weeks, tz, names)
        else:
            found = compute(weeks, tz, names)
        for week in weeks:
            for scope, trends in found[week]:
                store.save_trends(week, scope, trends)
    return tuple(weeks)


def weeks_trends(
    store: Store, weeks: list[str], tz: str, watchlists: list[str]
) -> dict[str, Trends]:
    """The trends of consecutive ``weeks``, by week (their articles read once)."""
    tagged = TaggedWeeks(store, weeks, tz, watchlists)
    return {week: tagged.trends(week) for week in weeks}


def trends_from(
    database: str, weeks: list[str], tz: str, watchlists: list[str]
) -> dict[str, Trends]:
    """:func:`weeks_trends` on its own connection to ``database`` (``Store.database``):
    what a worker process computes."""
    with Store(database) as store:
        return weeks_trends(store, weeks, tz, watchlists)


class TaggedWeeks:
    """The tagged articles of some consecutive weeks and of the history before them, read
    from the store once: each week's trends read four weeks before it, so updating
    several weeks would otherwise read and count most articles several times. A week's
    document counts per scope are counted once, whichever week's baseline they are."""

    def __init__(self, store: Store, weeks: list[str], tz: str, watchlists: list[str]) -> None:
        self.store = store
        self.tz = tz
        self.watchlists = watchlists
        start, _ = week_bounds(min(previous_weeks(w, HISTORY_WEEKS)[-1] for w in weeks), tz)
        end = max(week_bounds(w, tz)[1] for w in weeks)
        self._start = start
        # per article: its week, date and (entity key, spelling) pairs; the strings
        # interned (names and phrases repeat across articles: the rows, decoded from
        # JSON, held a copy of each in every article, half of a worker's memory here)
        self._rows: list[tuple[str, datetime, tuple[tuple[str, str], ...]]] = []
        docs: dict[str, list[dict]] = defaultdict(list)
        for row in store.iter_tagged_articles(start, end):
            key = week_key(row.date, tz)
            pairs = tuple((intern(e["key"]), intern(e["text"])) for e in row.entities)
            self._rows.append((key, row.date, pairs))
            docs[key].append(
                {
                    "terms": {intern(phrase) for phrase in row.keyphrases},
                    "entities": {entity for entity, _ in pairs},
                    "watchlists": [intern(name) for name in row.watchlists],
                    "story": row.story_id,
                }
            )
        self._scoped = _by_scope(docs, watchlists)
        self._counts: dict[tuple[str, str, str], WeekCounts] = {}
        self._last_start = max(week_bounds(w, tz)[0] for w in weeks)
        self._first: dict[str, datetime] | None = None

    def _first_seen(self) -> dict[str, datetime]:
        """Every entity key of the articles before the last week, with its first date:
        read once, for the weeks that ask whether their entities appeared before them."""
        if self._first is None:
            # the store reads the articles before the weeks read and the copies among
            # them; the canonical articles of those weeks are here already
            first = self.store.entities_first_seen(self._last_start, copies_from=self._start)
            for _, date, pairs in self._rows:
                if date < self._last_start:
                    for key, _ in pairs:
                        at = first.get(key)
                        if at is None or date < at:
                            first[key] = date
            self._first = first
        return self._first

    def counts(self, week: str, scope: str, field: str) -> WeekCounts:
        """The document counts of one week, scope and field (``terms`` or ``entities``)."""
        key = (week, scope, field)
        found = self._counts.get(key)
        if found is None:
            docs = self._scoped[week][scope]
            found = self._counts[key] = WeekCounts.from_sets(week, [d[field] for d in docs])
        return found

    def trends(self, week: str) -> Trends:
        """The trends of ``week`` (one of the weeks read) per scope: ``*``, then each
        watchlist."""
        history_keys = previous_weeks(week, HISTORY_WEEKS)
        week_start, _ = week_bounds(week, self.tz)
        # which of the week's entities appeared before it: asked once for the whole week,
        # every scope's entities are among them (None: no history, so nothing is "new")
        seen: set[str] | None = None
        if self.store.has_articles_before(week_start - timedelta(weeks=HISTORY_WEEKS)):
            first = self._first_seen()
            week_entities = {e for d in self._scoped[week][ALL] for e in d["entities"]}
            seen = {e for e in week_entities if (at := first.get(e)) and at < week_start}
        out = [
            (scope, _scope_trends(self, week, scope, history_keys, seen))
            for scope in [ALL, *self.watchlists]
        ]
        labels = self._labels(
            {t["term"] for _, trends in out for t in trends if t["kind"] == "entity"},
            {week, *history_keys},
        )
        # the stories of every scope's articles are among those of all the week's
        stories = self.store.stories_by_id(
            {d["story"] for d in self._scoped[week][ALL] if d["story"] is not None}
        )
        for scope, trends in out:
            for t in trends:
                t["label"] = (
                    labels.get(t["term"], t["term"]) if t["kind"] == "entity" else t["term"]
                )
            trends += _stories(stories, self._scoped[week][scope])
        return out

    def _labels(self, keys: set[str], weeks: set[str]) -> dict[str, str]:
        """An entity's label: the spelling most articles of ``weeks`` used (the first
        one seen of the most used)."""
        spellings: dict[str, dict[str, int]] = {}
        for week, _, pairs in self._rows:
            if week in weeks:
                for key, text in pairs:
                    if key in keys:
                        counts = spellings.setdefault(key, {})
                        counts[text] = counts.get(text, 0) + 1
        return {key: max(counts.items(), key=itemgetter(1))[0] for key, counts in spellings.items()}


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
    tagged: TaggedWeeks,
    week: str,
    scope: str,
    history_keys: list[str],
    seen: set[str] | None,
) -> list[dict]:
    trends: list[Trend] = []
    for kind, field in (("term", "terms"), ("entity", "entities")):
        now_counts = tagged.counts(week, scope, field)
        past = [tagged.counts(k, scope, field) for k in history_keys]
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


def _stories(info: Mapping[int, StoredStory], current: list[dict]) -> list[dict]:
    """The stories that grew among the articles ``current``; ``info``: their stories as
    stored, by id."""
    this_week = Counter(d["story"] for d in current if d["story"] is not None)
    if not this_week:
        return []
    sizes = [
        StorySize(sid, info[sid].label, n, max(n, info[sid].size), info[sid].first_seen)
        for sid, n in this_week.items()
        if sid in info
    ]
    return [
        {**s.as_dict(), "kind": "story", "term": str(s.story_id)}
        for s in story_sizes(sizes, min_this_week=2, limit=LIMIT)
    ]
