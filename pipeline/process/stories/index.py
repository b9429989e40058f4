"""The inverted index over the open stories, by time bucket: which stories to compare.

Candidate stories come from an index over each open story's strongest keys, and story
vectors are cut to their top keys, so lookup and comparison cost stay bounded. Stories
are indexed under the time bucket of their first day, so that a lookup scans only the
buckets that can hold a story within the window of the article: out-of-order input (an
import, a backfill) leaves stories open all over the calendar, and the work must not grow
with them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import timedelta

from pipeline.process.stories.keys import CONCEPTS
from pipeline.process.stories.model import ClusterConfig, OpenStory
from pipeline.process.stories.similarity import gap
from pipeline.process.stories.vectors import probes

Posting = int | dict[int, None]


def indexed_space(space: str) -> bool:
    """Whether a space's keys find candidates: not the lexicon's concepts, which many
    stories of one kind share (they only lift a candidate that names, numbers or terms
    found)."""
    return not space.startswith(f"{CONCEPTS}:")


class StoryIndex:
    """Open stories by time bucket, feature space and key; see the module docstring."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        # Time bucket -> feature space -> key -> the open stories with that key, as one
        # story id or, for several, the keys of a dict (a dict of ints is not tracked by
        # the garbage collector, a set is). Most keys belong to one story; there is an
        # entry for every key of every open story.
        self._postings: dict[int | None, dict[str, dict[str, Posting]]] = {}
        self._sizes: dict[str, dict[str, int]] = {}  # space -> key -> open stories with it
        self._bucket_days = max(1, math.ceil(config.window / timedelta(days=1)))
        self.postings_scanned = 0  # for tests and benchmarks

    def candidates(self, probe: OpenStory, stories: Mapping[int, OpenStory]) -> list[OpenStory]:
        """Open stories in the window sharing a strong key with ``probe``, most overlap first.

        Only the time buckets that can hold a story within the window of ``probe`` are
        scanned (see :meth:`bucket`). ``stories``: the open stories by id.
        """
        overlap: dict[int, float] = {}
        max_posting = self.config.max_posting
        scanned = 0
        near = [self._postings[bucket] for bucket in self.near_buckets(probe)]
        for space, keys in probes(probe.sums, self.config.probe_keys, indexed_space):
            sizes = self._sizes.get(space)
            if sizes is None:
                continue
            indexes = [index[space] for index in near if space in index]
            for key, weight in keys:
                size = sizes.get(key, 0)
                if not size or size > max_posting:
                    continue
                scanned += size
                for index in indexes:
                    posting = index.get(key)
                    if posting is None:
                        continue
                    if type(posting) is int:
                        overlap[posting] = overlap.get(posting, 0.0) + weight
                    else:
                        for sid in posting:
                            overlap[sid] = overlap.get(sid, 0.0) + weight
        self.postings_scanned += scanned
        overlap.pop(probe.id, None)
        found = []
        window = self.config.window
        for _, sid in sorted([(-score, sid) for sid, score in overlap.items()]):
            story = stories[sid]
            if gap(story, probe) <= window:
                found.append(story)
                if len(found) == self.config.max_candidates:
                    break
        return found

    def bucket(self, story: OpenStory) -> int | None:
        """The time bucket a story is indexed under: its first day, in blocks of the
        window's length, if it spans no more than a window; else (and without dates)
        None, the bucket that every lookup scans."""
        if story.first is None or story.last is None:
            return None
        if story.last - story.first > self.config.window:
            return None
        return story.first.toordinal() // self._bucket_days

    def near_buckets(self, probe: OpenStory) -> list[int | None]:
        """The buckets holding every open story within the window of ``probe`` (and some
        beyond it: :meth:`candidates` checks the gap of each)."""
        if probe.first is None or probe.last is None:
            return list(self._postings)
        # a story in a dated bucket starts at most a window before its end, which is at
        # most a window before the probe's start, and at most a window after the probe's
        # end; three days spare for rounding and time zones (dates are compared as days)
        days = self._bucket_days
        low = (probe.first.toordinal() - 2 * days - 3) // days
        high = (probe.last.toordinal() + days + 3) // days
        if high - low + 1 > len(self._postings):
            return list(self._postings)
        near: list[int | None] = [b for b in range(low, high + 1) if b in self._postings]
        if None in self._postings:
            near.append(None)
        return near

    def reindex(self, story: OpenStory) -> None:
        """Index the story under every key of its sums, in its time bucket. The sums
        indexed are remembered (the dicts themselves: the clusterer replaces them rather
        than changing them), so that only the keys that came or went are re-indexed."""
        bucket = self.bucket(story)
        if bucket != story.bucket:
            self.unindex_all(story)  # moved to another bucket: index it afresh
            story.bucket = bucket
        indexed = story.indexed
        for space in [s for s in indexed if s not in story.sums]:
            self._unindex(story.id, bucket, space, indexed.pop(space).keys())
        for space, vec in story.sums.items():
            if not indexed_space(space):
                continue
            before = indexed.get(space)
            if before is vec:
                continue
            if before is not None:
                self._unindex(story.id, bucket, space, before.keys() - vec.keys())
                added: Iterable[str] = vec.keys() - before.keys()
            else:
                added = vec.keys()
            if added:
                self._add(story.id, bucket, space, added)
            indexed[space] = vec

    def unindex_all(self, story: OpenStory) -> None:
        """Take the story out of the index (it closed, or merged into another)."""
        for space, vec in story.indexed.items():
            self._unindex(story.id, story.bucket, space, vec.keys())
        story.indexed = {}

    def _add(self, sid: int, bucket: int | None, space: str, added: Iterable[str]) -> None:
        index = self._postings.setdefault(bucket, {}).setdefault(space, {})
        sizes = self._sizes.setdefault(space, {})
        for key in added:
            posting = index.get(key)
            if posting is None:
                index[key] = sid
            elif type(posting) is int:
                index[key] = {posting: None, sid: None}
            else:
                posting[sid] = None
            sizes[key] = sizes.get(key, 0) + 1

    def _unindex(self, story_id: int, bucket: int | None, space: str, keys: Iterable[str]) -> None:
        if not keys:
            return
        by_space = self._postings[bucket]
        index = by_space[space]
        sizes = self._sizes[space]
        for key in keys:
            posting = index[key]
            if type(posting) is int:
                del index[key]
            else:
                del posting[story_id]
                if len(posting) == 1:
                    index[key] = next(iter(posting))
            if sizes[key] == 1:
                del sizes[key]
            else:
                sizes[key] -= 1
        if not index:
            del by_space[space]
            if not by_space:
                del self._postings[bucket]
        if not sizes:
            del self._sizes[space]
