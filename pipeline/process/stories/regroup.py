"""Regrouping the young stories around a story: a decision that depends on which
articles there are, not on the order they came in.

Joins, merges, splits and gathering each decide on what has arrived so far, so two
arrival orders of the same reports can leave different stories: most often the first
reports of one event drawn into a young story of a like event (two earthquakes), which
a split no longer parts once the mixed story's halves are each a blend of both, or an
event left in fragments that began before its story could draw them in. So when a young
story reaches a split check size, the members of it and of the young stories near it in
its language are grouped again from scratch (:func:`groups`): average linkage over the
members, merging the two most alike groups while they are on average at least
``regroup_threshold`` alike, except two groups of at least :data:`MIN_PART` members
that a split would part (less alike than ``split_threshold`` and than ``split_ratio``
times the less coherent of the two is inside). :func:`plan` then says which stories
change and how.

Pure: no I/O; the clusterer rebuilds the stories (see
:meth:`~pipeline.process.stories.clusterer.StoryClusterer.add`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.process.stories.model import OpenStory
from pipeline.process.stories.split import Similarity

# two groups of fewer members are never kept apart for their coherence: two or three
# near-copies of one report are very alike inside, which says nothing about whether
# they belong to the larger group (ECB+ dev, file and 5 shuffled orders, regrouping at
# check sizes only: with 2, 0.001-0.004 F1 lower in every order than 3; 4 as 3)
MIN_PART = 3
LIMIT = 64  # members regrouped at most (the story's own and its nearest neighbours')


def groups(
    members: Sequence[OpenStory],
    similarity: Similarity,
    threshold: float,
    apart_threshold: float | None,
    ratio: float,
) -> list[list[int]]:
    """The positions in ``members`` grouped by average linkage: the two most alike
    groups (ties: the lowest positions) become one while their members are on average
    at least ``threshold`` alike, unless both have at least :data:`MIN_PART` members
    and are on average less alike than ``apart_threshold`` and than ``ratio`` times
    the less coherent of the two is inside (None: never kept apart). Each group sorted,
    the groups in order of their first position."""
    n = len(members)
    found: dict[int, list[int]] = {i: [i] for i in range(n)}
    inner = dict.fromkeys(range(n), 0.0)  # the sum of the similarities inside a group
    link: dict[tuple[int, int], float] = {}
    for i in range(n):
        for j in range(i + 1, n):
            link[(i, j)] = similarity(members[i], members[j])
    apart: set[tuple[int, int]] = set()
    while len(apart) < len(link):
        (a, b), best = max(
            ((pair, value) for pair, value in link.items() if pair not in apart),
            key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]),
        )
        if best < threshold:
            break
        na, nb = len(found[a]), len(found[b])
        if _kept_apart(best, na, nb, inner[a], inner[b], apart_threshold, ratio):
            apart.add((a, b))
            continue
        inner[a] += inner.pop(b) + best * na * nb
        found[a] += found.pop(b)
        del link[(a, b)]
        apart = {pair for pair in apart if a not in pair and b not in pair}
        for k in found:
            if k != a:
                ka = link.pop((min(a, k), max(a, k)))
                kb = link.pop((min(b, k), max(b, k)))
                link[(min(a, k), max(a, k))] = (na * ka + nb * kb) / (na + nb)
    return sorted((sorted(g) for g in found.values()), key=lambda g: g[0])


def _kept_apart(
    between: float,
    na: int,
    nb: int,
    inner_a: float,
    inner_b: float,
    threshold: float | None,
    ratio: float,
) -> bool:
    """Whether two groups of ``na`` and ``nb`` members (their inner sums of
    similarities) on average ``between`` alike are two that a split would part."""
    if threshold is None or min(na, nb) < MIN_PART or between >= threshold:
        return False
    inside = min(inner_a / (na * (na - 1) / 2), inner_b / (nb * (nb - 1) / 2))
    return between < ratio * inside


@dataclass(frozen=True)
class Plan:
    """How regrouping changes the stories: ``gone`` (story ids) fold into the host
    story, which then keeps ``kept`` (article ids), and each of ``new`` (article ids)
    becomes a new story. Stories whose members stay together alone are not named."""

    gone: tuple[int, ...]
    kept: tuple[int, ...]
    new: tuple[tuple[int, ...], ...]


def plan(
    current: Mapping[int, Sequence[int]], found: Sequence[Sequence[int]], host: int, article: int
) -> Plan | None:
    """The changes from ``current`` (story id -> its members' article ids) to the
    groups ``found`` (article ids), the group of ``article`` staying in the ``host``
    story (whose members it is among); None when every group is a story already."""
    now = {frozenset(ids): sid for sid, ids in current.items()}
    if all(frozenset(g) in now for g in found):
        return None
    same = {now[frozenset(g)] for g in found if frozenset(g) in now} - {host}
    gone = tuple(sorted(sid for sid in current if sid not in same and sid != host))
    kept: tuple[int, ...] = ()
    new: list[tuple[int, ...]] = []
    for group in found:
        if article in group:
            kept = tuple(group)
        elif now.get(frozenset(group)) not in same:
            new.append(tuple(group))
    return Plan(gone, kept, tuple(new))


def pairs_within(
    known: Mapping[tuple[int, int], float], group: Sequence[int]
) -> dict[tuple[int, int], float]:
    """The member similarities of ``known`` (by pairs of article ids) between two
    articles of ``group``: what a story rebuilt from the group keeps of them."""
    inside = set(group)
    return {pair: value for pair, value in known.items() if pair[0] in inside and pair[1] in inside}
