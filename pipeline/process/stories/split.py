"""Splitting a young story that turns out to be two: the clusterer's repair of a join
made too early.

An article joins a story on its similarity to the story's few members so far, which is
noisy: when the first reports of two events of one kind (two earthquakes, two pirate
attacks) arrive mixed, one can join a story of the other, and the mixed story then draws
in the reports of both. Which story an article lands in then depends on the order the
articles arrive in. So a story keeps its members (each as the one-article story it came
in as) while it is young (up to :data:`MAX_MEMBERS` articles), and at a few sizes
(:data:`CHECK_SIZES`) the clusterer asks :func:`halves` whether the members fall apart
into two groups: average linkage over the members down to two groups, which are split
when the two are less alike than ``split_threshold`` and clearly less alike than each is
inside (``split_ratio``). Once a story is past :data:`MAX_MEMBERS` its members are
dropped: it is no longer young, and its state stays small. The members serve two more
decisions on young stories: :func:`apart` (two stories close enough to merge that a
split would part again stay two) and :func:`gathers` (a small story belongs to a larger
one it is on average alike enough to).

Pure: no I/O; the clusterer rebuilds the two stories (see
:meth:`~pipeline.process.stories.clusterer.StoryClusterer.add`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pipeline.process.stories.model import OpenStory

MAX_MEMBERS = 32  # a story keeps its members up to this size
CHECK_SIZES = frozenset({4, 6, 8, 12, 16, 20, 24, 32})  # sizes at which a split is considered

Similarity = Callable[[OpenStory, OpenStory], float]


def track(story: OpenStory, other: OpenStory) -> None:
    """Keep ``story``'s members up to date once ``other`` (an article's one-article
    story, of id 0, or a whole story) has been absorbed into it (``story.size`` counts
    both). Members stay unknown (None) once unknown on either side, as for a story of a
    state stored before members were kept, and are dropped past :data:`MAX_MEMBERS`."""
    if story.members is None or story.size > MAX_MEMBERS:
        story.members = None
    elif other.id == 0:
        story.members.append(other)
    elif other.members is None:
        story.members = None
    else:
        story.members.extend(other.members)


def should_check(story: OpenStory, before: int | None = None) -> bool:
    """Whether a split of ``story`` is considered now: it knows its members, it has
    just reached or passed one of :data:`CHECK_SIZES` since it had ``before`` articles
    (default: one fewer; a merge grows a story by more than one), so the cost stays a
    few similarities per article, and its members are all in one language. Two
    reports in two languages share no terms, so they are always less alike than two
    in one language: a
    bilingual story would split along its languages (on the bilingual fixtures of
    ``tests/fixtures/stories`` it did, and lost F1), which is the opposite of a repair."""
    if story.members is None or len(story.langs) != 1:
        return False
    start = story.size - 1 if before is None else before
    return any(start < size <= story.size for size in CHECK_SIZES)


def apart(
    first: Sequence[OpenStory],
    second: Sequence[OpenStory],
    similarity: Similarity,
    threshold: float,
    ratio: float,
    min_part: int = 2,
) -> bool:
    """Whether two young stories, of members ``first`` and ``second``, are two groups
    that :func:`halves` would split again: a merge of them would be undone (or, after
    the last check size, kept wrongly). Each has at least ``min_part`` members, and
    their members are on average less alike than ``threshold`` and than ``ratio``
    times the average inside the less coherent of the two.

    The merge guard: the centroids of two stories of one kind of event (two quakes)
    can come as close as a merge needs while their reports stay apart, and then a
    split made at one size was merged back at the next article."""
    if min(len(first), len(second)) < max(min_part, 2):
        return False
    between = _mean(similarity(a, b) for a in first for b in second)
    inside = min(_inside_of(first, similarity), _inside_of(second, similarity))
    return between < threshold and between < ratio * inside


def gathers(
    story: Sequence[OpenStory],
    fragment: Sequence[OpenStory],
    similarity: Similarity,
    threshold: float,
    split_threshold: float | None,
    ratio: float,
) -> bool:
    """Whether a small young story (``fragment``'s members) belongs to a larger one:
    their members are on average at least ``threshold`` alike, and not two groups
    that :func:`apart` would keep apart."""
    between = _mean(similarity(a, b) for a in story for b in fragment)
    if between < threshold:
        return False
    return split_threshold is None or not apart(story, fragment, similarity, split_threshold, ratio)


def _inside_of(members: Sequence[OpenStory], similarity: Similarity) -> float:
    """The average similarity between the members of one story."""
    n = len(members)
    return _mean(similarity(members[i], members[j]) for i in range(n) for j in range(i + 1, n))


def halves(
    members: Sequence[OpenStory],
    similarity: Similarity,
    threshold: float,
    ratio: float,
    min_part: int = 2,
) -> tuple[list[int], list[int]] | None:
    """The positions in ``members`` of the two groups the story should split into (the
    larger first; on a tie, the one with the first member), or None to keep it whole.

    Average linkage merges the two most alike groups until two are left (ties: the
    lowest positions). They are split when their average similarity is below
    ``threshold`` and below ``ratio`` times the average similarity inside the less
    coherent of the two, and each has at least ``min_part`` members."""
    n = len(members)
    if n < 2 * min_part:
        return None
    sim = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            sim[i][j] = sim[j][i] = similarity(members[i], members[j])
    groups = _two_groups(sim)
    first, second = sorted(groups, key=lambda g: (-len(g), g[0]))
    if len(second) < min_part:
        return None
    between = _mean(sim[i][j] for i in first for j in second)
    inside = min(_inside(sim, first), _inside(sim, second))
    if between < threshold and between < ratio * inside:
        return first, second
    return None


def _two_groups(sim: list[list[float]]) -> list[list[int]]:
    """Average-linkage agglomeration down to two groups (Lance-Williams updates)."""
    groups: dict[int, list[int]] = {i: [i] for i in range(len(sim))}
    link = {(i, j): sim[i][j] for i in groups for j in groups if i < j}
    while len(groups) > 2:
        (a, b), _ = max(link.items(), key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))
        na, nb = len(groups[a]), len(groups[b])
        groups[a] += groups.pop(b)
        for k in groups:
            if k == a:
                continue
            ka = link.pop((min(a, k), max(a, k)))
            kb = link.pop((min(b, k), max(b, k)))
            link[(min(a, k), max(a, k))] = (na * ka + nb * kb) / (na + nb)
        del link[(a, b)]
    return [sorted(g) for g in groups.values()]


def _inside(sim: list[list[float]], group: list[int]) -> float:
    """The average similarity between the members of one group."""
    return _mean(sim[i][j] for i in group for j in group if i < j)


def _mean(values: Iterable[float]) -> float:
    total = count = 0
    for value in values:
        total += value
        count += 1
    return total / count if count else 0.0


def dump_members(story: OpenStory, dump: Callable[[OpenStory], dict[str, Any]]) -> Any:
    """The members as stored with the story (None: not kept)."""
    return None if story.members is None else [dump(m) for m in story.members]


def load_members(
    raw: Mapping[str, Any], load: Callable[[Mapping[str, Any]], OpenStory]
) -> list[OpenStory] | None:
    """The members of a stored story; None for a story stored without them (by an
    earlier version, or past :data:`MAX_MEMBERS`)."""
    members = raw.get("members")
    return None if members is None else [load(m) for m in members]
