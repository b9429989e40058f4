"""An edition's stories: the store's article rows grouped by story, and the stories of
the period that share names or keyphrases with one ("Lees ook").

Pure functions over the store's typed rows. What several editions of one run share is
made once: the stories of a watchlist's rows (:class:`StoryRows`) and
the period's pool of "Lees ook" candidates with each story's ranking
(:class:`RelatedPool`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from digests.model import RelatedLink
from pipeline.store import MatchedArticle, PeriodArticle

MAX_RELATED = 3

ArticleT = TypeVar("ArticleT", bound=PeriodArticle)


@dataclass
class Group(Generic[ArticleT]):
    """The articles of one story: matched by one watchlist, or of the period."""

    id: int  # the lead article's id
    story_id: int | None
    lead: ArticleT
    rows: list[ArticleT]
    keys: frozenset[str]  # entity keys and keyphrases, for "related"

    @property
    def key(self) -> Any:
        """The story's identity across watchlists: its story id, else its article's."""
        return self.story_id if self.story_id is not None else ("article", self.id)


Matched = Group[MatchedArticle]


def anchor(group: Group[Any]) -> str:
    """The name of a story in its edition, for references to it ("story-12")."""
    return f"story-{group.story_id}" if group.story_id is not None else f"article-{group.id}"


class StoryRows(tuple):  # type: ignore[type-arg]
    """Rows (a tuple: they do not change) that keep their stories once grouped, for as
    long as they live: one run's editions share a watchlist's rows
    (:class:`pipeline.digest.reads.EditionReads`), so they share its stories."""

    def groups(self) -> list[Group[Any]]:
        """The rows grouped by story (:func:`stories`), grouped the first time only."""
        groups = self.__dict__.get("_groups")
        if groups is None:
            groups = self.__dict__["_groups"] = stories(self)
        return groups


def stories_of(rows: Sequence[ArticleT]) -> list[Group[ArticleT]]:
    """:func:`stories`, made once for :class:`StoryRows`."""
    if isinstance(rows, StoryRows):
        return rows.groups()
    return stories(list(rows))


def stories(rows: Sequence[ArticleT]) -> list[Group[ArticleT]]:
    """``rows`` grouped by story (an article without one is a story of its own), in
    the order of each story's first row."""
    by_story: dict[Any, list[ArticleT]] = {}
    for r in rows:
        key = r.story_id or ("article", r.id)
        by_story.setdefault(key, []).append(r)
    groups = []
    for key, rs in by_story.items():
        # the lead: a canonical copy (not a duplicate), the earliest, the lowest id
        lead = min(rs, key=lambda r: (r.duplicate_of is not None, r.date, r.id))
        keys = frozenset(k for r in rs for k in _keys(r))
        story_id = key if isinstance(key, int) else None
        groups.append(Group(lead.id, story_id, lead, rs, keys))
    return groups


def _keys(row: PeriodArticle) -> list[str]:
    return [f"e:{e['key']}" for e in row.entities] + [f"k:{p}" for p in row.keyphrases[:5]]


Scored = list[tuple[int, Group[PeriodArticle]]]


class RelatedPool:
    """The candidates for "Lees ook": a period's canonical articles grouped into
    stories, each story found by its names and keyphrases. Made once per period and
    shared by every edition of that period (:func:`related_pool`), which also shares
    each story's ranking of the others."""

    def __init__(self, rows: Sequence[PeriodArticle]) -> None:
        self.groups: tuple[Group[PeriodArticle], ...] = tuple(stories(rows))
        by_key: dict[str, list[int]] = {}
        for position, group in enumerate(self.groups):
            for key in group.keys:
                by_key.setdefault(key, []).append(position)
        self._by_key = by_key
        self._ranked: dict[tuple[int, int | None, frozenset[str]], tuple[Scored, bool]] = {}

    def sharing(self, keys: Iterable[str]) -> list[Group[PeriodArticle]]:
        """The stories that share at least one of ``keys``, in the pool's order."""
        positions = {p for key in keys for p in self._by_key.get(key, ())}
        return [self.groups[p] for p in sorted(positions)]

    def scored(self, group: Matched) -> tuple[Scored, bool]:
        """The stories related to ``group`` with their scores (see :func:`related`) and
        whether each has an identity of its own (a story id that is no other's article
        id). If so they come ranked (most shared first), once for every edition;
        otherwise in the pool's order."""
        key = (group.id, group.story_id, group.keys)
        if key not in self._ranked:
            found = _scored(group, self.sharing(group.keys))
            names = [other.story_id or other.id for _, other in found]
            distinct = len(set(names)) == len(names)
            if distinct:
                found.sort(key=lambda x: (-x[0], x[1].id))
            self._ranked[key] = (found, distinct)
        return self._ranked[key]


def related_pool(rows: Sequence[PeriodArticle] | RelatedPool) -> RelatedPool:
    """``rows`` as a :class:`RelatedPool` (as it is when it already is one)."""
    return rows if isinstance(rows, RelatedPool) else RelatedPool(rows)


def related(group: Matched, pool: RelatedPool, shown: set[Any]) -> tuple[RelatedLink, ...]:
    """Stories of the period, not shown in full in the edition (``shown``: their keys),
    that share names (or two keyphrases) with ``group``, most shared first."""
    found, distinct = pool.scored(group)
    if distinct:  # ranked once: the first ones not shown
        best = []
        for _, other in found:
            if other.key not in shown:
                best.append(other)
                if len(best) == MAX_RELATED:
                    break
        return _links(best)
    scored: dict[Any, tuple[int, Group[PeriodArticle]]] = {}
    for score, other in found:
        if other.key in shown:
            continue
        key = other.story_id or other.id
        if key not in scored or scored[key][0] < score:
            scored[key] = (score, other)
    ranked = sorted(scored.values(), key=lambda x: (-x[0], x[1].id))[:MAX_RELATED]
    return _links([g for _, g in ranked])


def _scored(group: Matched, others: list[Group[PeriodArticle]]) -> Scored:
    """The ``others`` related to ``group`` (not itself, not its story) with their
    scores: two a shared name, one a shared keyphrase; a name or two keyphrases."""
    out: Scored = []
    for other in others:
        if other.id == group.id or (other.story_id and other.story_id == group.story_id):
            continue
        shared = group.keys & other.keys
        names = sum(k.startswith("e:") for k in shared)
        if names or len(shared) >= 2:
            out.append((names * 2 + (len(shared) - names), other))
    return out


def _links(groups: Iterable[Group[PeriodArticle]]) -> tuple[RelatedLink, ...]:
    return tuple(RelatedLink(g.lead.title, g.lead.url or "", g.lead.source_name) for g in groups)
