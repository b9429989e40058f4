"""What one digest run builds its editions from, read from the store once.

Audiences overlap: many share a watchlist, and every audience's edition of a period
draws its "Lees ook" from the same articles of that period. So within one run each
watchlist's matches of a period, each story's members, the period's articles (grouped
and indexed once, :class:`pipeline.digest.stories.RelatedPool`) and each week's
trends are read once and shared by every edition that needs them, instead of once per
audience. The rows are the store's, unchanged, so the editions are the same as when
each reads its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from digests.model import Edition
from pipeline.digest.editions import (
    Audience,
    EditionData,
    Period,
    sent_story_sizes,
    trend_items,
)
from pipeline.digest.stories import RelatedPool, StoryRows
from pipeline.store import MatchedArticle, Store, StoryMember


class EditionReads:
    """The store's rows for the editions of one run, each read once (keep it for the
    run only: what it read is not read again)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._matched: dict[tuple[str, datetime, datetime], tuple[MatchedArticle, ...]] = {}
        self._members: dict[int, list[StoryMember]] = {}
        self._pools: dict[tuple[datetime, datetime], RelatedPool] = {}
        self._trends: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._items: dict[int, Any] = {}  # EditionData.items, for the run
        # each matched article's own columns, decoded once for every watchlist it matched
        self._articles: dict[int, dict[str, Any]] = {}
        self._periods: set[tuple[datetime, datetime]] = set()  # whose matches were read

    def warm(self, periods: Iterable[Period]) -> None:
        """Read what every edition of ``periods`` shares (each period's matches of all
        watchlists and its "Lees ook" candidates) now: before a second process is
        forked, so that it starts with them instead of reading them again."""
        for period in periods:
            self._read_period(period)
            self.related_pool(period)

    def on(self, store: Store) -> EditionReads:
        """These reads for another connection to the same store (a forked process's
        own): what was read is shared, what is not yet is read through ``store``."""
        other = EditionReads(store)
        other.__dict__.update({k: v for k, v in self.__dict__.items() if k != "store"})
        return other

    def matched(self, watchlist: str, period: Period) -> tuple[MatchedArticle, ...]:
        """``watchlist``'s matched articles of ``period`` (see ``Store.matched_articles``),
        as :class:`StoryRows`: the editions that share them share their stories too."""
        key = (watchlist, period.start, period.end)
        self._read_period(period)
        if key not in self._matched:  # no match in the period
            self._matched[key] = StoryRows([])
        return self._matched[key]

    def _read_period(self, period: Period) -> None:
        """Every watchlist's matches of ``period`` at once, unless read already."""
        if (period.start, period.end) not in self._periods:
            self._periods.add((period.start, period.end))
            found = self.store.period_matches(period.start, period.end, known=self._articles)
            for name, rows in found.items():
                self._matched[(name, period.start, period.end)] = StoryRows(rows)

    def members(self, story_ids: Iterable[int]) -> list[StoryMember]:
        """Every article of the given stories, each story's in id order (see
        ``Store.story_members``); only the stories not read before are asked for."""
        wanted = sorted(set(story_ids))
        missing = [i for i in wanted if i not in self._members]
        if missing:
            for story_id in missing:
                self._members[story_id] = []
            for member in self.store.story_members(missing):
                if member.story_id is not None:
                    self._members.setdefault(member.story_id, []).append(member)
        return [m for i in wanted for m in self._members[i]]

    def related_pool(self, period: Period) -> RelatedPool:
        """The period's articles as "Lees ook" candidates (see ``Store.period_articles``)."""
        key = (period.start, period.end)
        if key not in self._pools:
            self._pools[key] = RelatedPool(self.store.period_articles(period.start, period.end))
        return self._pools[key]

    def trends(self, week: str, scope: str) -> list[dict[str, Any]]:
        key = (week, scope)
        if key not in self._trends:
            self._trends[key] = self.store.trends(week, scope)
        return self._trends[key]

    def edition_data(
        self, audience: Audience, period: Period, earlier: Sequence[Edition]
    ) -> EditionData:
        """What ``audience``'s edition of ``period`` is built from; ``earlier``: the
        audience's editions before it (their stories come back only if they grew)."""
        week = f"{period.year}-W{period.week:02d}"
        return EditionData(
            rows_for=lambda name: self.matched(name, period),
            members_for=self.members,
            sent_before=sent_story_sizes(earlier),
            trends=trend_items(
                self.trends(week, "*"),
                {name: self.trends(week, name) for name in audience.watchlists},
            ),
            related_pool=self.related_pool(period),
            items=self._items,
        )
