"""The story clusterer: articles in, one at a time, each joined to the most similar open
story or starting a new one; merges of stories an article has bridged.

The decisions are here; how alike two stories are is :mod:`.similarity`, which stories
are compared is :mod:`.index`, what an article brings is :mod:`.keys`, what a story
shows is :mod:`.labels` and the stored form is :mod:`.state`. See the package docstring
for the method.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.stories import regroup, split, state
from pipeline.process.stories.index import StoryIndex
from pipeline.process.stories.keys import CONCEPTS, raw_keys
from pipeline.process.stories.labels import better_representative, summary
from pipeline.process.stories.lexicon import load_lexicon, load_names
from pipeline.process.stories.model import (
    Assignment,
    ClusterConfig,
    OpenStory,
    Representative,
    Story,
)
from pipeline.process.stories.similarity import (
    Frequencies,
    similarity,
    similarity_from,
    weights_of,
)
from pipeline.process.stories.state import StoredState
from pipeline.process.stories.vectors import add, top, top_items

MAX_MERGE_ROUNDS = 3  # merges one article may cause (each costs one more candidate lookup)
# two stories whose centroids are this much less alike than ``gather_threshold`` are not
# compared member by member for gathering (their members' average similarity runs a few
# hundredths above the centroids'; on ECB+ dev the same stories in file and 5 shuffled
# orders as without this shortcut, with about half the similarities per article)
GATHER_MARGIN = 0.08


class StoryClusterer:
    """Assigns articles to stories one at a time; see the package docstring."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        self._weights = weights_of(self.config)
        # which report stands for a story is decided on what it shares with the story in
        # its own right: the lexicon's bonus would favour a report in the other language
        self._rep_weights = self._weights | {CONCEPTS: 0.0}
        cfg = self.config
        self._names = load_names(cfg.name_forms) if cfg.name_forms is not None else None
        self._lexicon = load_lexicon(cfg.lexicon) if cfg.lexicon_weight > 0 else None
        self.next_id = 1
        self.clock: datetime | None = None  # newest effective time seen
        self.prev_time: datetime | None = None  # effective time of the previous article
        self.frequencies = Frequencies(self.config)  # document frequencies, for IDF
        self._open: dict[int, OpenStory] = {}
        self._index = StoryIndex(self.config)  # which open stories have which keys
        self._expiry: list[tuple[datetime, int]] = []  # lazy heap of (last, story id)
        self._saved: set[int] = set()  # ids of the stories stored (see dump_stored)
        self._unsaved: set[int] = set()  # ids of the stories changed since
        self.comparisons = 0  # full similarity computations, for tests and benchmarks
        self.bounded = 0  # comparisons left out on a bound (see similarity_from), likewise
        # story id -> (article, article) -> similarity of two members (see _split)
        self._member_pairs: dict[int, dict[tuple[int, int], float]] = {}

    @property
    def postings_scanned(self) -> int:
        """Index entries scanned for candidates, for tests and benchmarks."""
        return self._index.postings_scanned

    # --- public API ---------------------------------------------------------------

    def add(self, article: ArticleFeatures) -> Assignment:
        """Assign ``article`` to an open story or start a new one."""
        when = article.published or self.prev_time
        self.prev_time = when
        if when is not None and (self.clock is None or when > self.clock):
            self.clock = when
            self._expire(when - self.config.window)
        cfg = self.config
        raw = raw_keys(
            article, cfg.entity_parts, cfg.skip_padded_numbers, self._names, self._lexicon
        )
        self.frequencies.count(raw, article.lang)
        probe = self._singleton(article, when, raw)
        story, score = self._best_match(probe)
        is_new = story is None or score < self._join_floor(story)
        if story is None or is_new:
            story = self._new_story()
        joined = story.id
        before = story.size  # the largest part the story grew from (see _split)
        self._absorb(story, probe)
        merged: list[int] = []
        if self._may_merge(story, probe, is_new):
            story, before = self._merge_neighbours(story, merged, before)
        moved = self._split(story, article.id, before)
        checked = not moved and split.should_check(story, before)
        if checked:
            story = self._gather(story, merged)
        if checked or (not moved and 1 < story.size <= cfg.regroup_small):
            story, moved = self._regroup(story, article.id, merged)
        is_new = is_new and story.id == joined  # a new story folded into an older one is not
        return Assignment(story.id, is_new, round(score, 6), tuple(sorted(merged)), moved)

    def stories(self) -> list[Story]:
        """Summaries of the open stories, by id."""
        return [self._summary(self._open[sid]) for sid in sorted(self._open)]

    def story(self, story_id: int) -> Story | None:
        """The summary of an open story; None once it closed or was merged away."""
        found = self._open.get(story_id)
        return self._summary(found) if found else None

    def close_before(self, when: datetime) -> list[Story]:
        """Close the open stories whose latest article is older than ``when``; their final
        summaries, by id.

        :meth:`add` also closes stories on its own, as soon as the newest article puts
        them outside the window, without reporting them: a story never changes after its
        last article joined, so the summary taken then (:meth:`story`) is final. Calling
        this before :meth:`dump` just keeps the stored state small.
        """
        return sorted(self._expire(when), key=lambda s: s.id)

    # --- the state (see .state) -----------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The whole state as JSON-able data (see :meth:`load`).

        ``{"version": 1, "next_id": int, "clock": iso|null, "prev_time": iso|null,
        "docs": {lang: articles seen}, "df": {space: {key: articles}}, "stories": [...]}``
        where each open story is ``{"id", "first", "last", "size", "langs": {lang: n},
        "sums": {space: {key: weight}}, "names": {key: [count, text]}, "phrases":
        {phrase: count}, "rep": {"id", "lang", "vectors": {...} or null when equal to
        "sums"}, "members": [...], "member_keys": [...]}`` (``members``: a story of 2
        to 32 articles in the form of a one-article story each, without ``id``,
        ``size`` and the representative's vectors, its weights as ``"weights": {space:
        [[key positions in member_keys], [millionths]]}``; see :mod:`.split` and
        :func:`.state._dump_member`). Spaces are ``t:<lang>`` (terms),
        ``e`` (names), ``n`` (numbers) and ``l`` (links). The configuration is not part
        of the state.
        """
        stories = [state.dump_story(self._open[sid]) for sid in sorted(self._open)]
        return {**self._header(), "stories": stories}

    def _header(self, copy: bool = True) -> dict[str, Any]:
        return state.dump_header(self.next_id, self.clock, self.prev_time, self.frequencies, copy)

    def dump_stored(self) -> StoredState:
        """The state of :meth:`dump` as the pipeline stores it after every batch, and
        :meth:`from_stored` reads it back: a small header (counts, clock, document
        frequencies) and one row per open story, of which only the stories changed,
        created or gone since the last :meth:`mark_stored` are written."""
        # the header is packed at once: the clusterer's own tables, not copies
        return state.pack(self._header(copy=False), self._open, self._unsaved, self._saved)

    def mark_stored(self) -> None:
        """The last :meth:`dump_stored` is stored: later ones write only what changes
        from here on."""
        self._saved = set(self._open)
        self._unsaved = set()

    @classmethod
    def from_stored(
        cls,
        value: str | bytes,
        rows: Iterable[bytes] = (),
        config: ClusterConfig | None = None,
    ) -> StoryClusterer:
        """Rebuild a clusterer from the header and story rows of :meth:`dump_stored`,
        or from the JSON text of :meth:`dump` (stories inline, no rows) that earlier
        versions of trendwatch stored; its stories are all written at the next store."""
        if isinstance(value, str):
            self = cls.load(json.loads(value), config)
            self._unsaved = set(self._open)
            return self
        unpacked, _ = state.unpack(value, rows)
        self = cls.load(unpacked, config)
        self._saved = set(self._open)
        return self

    @classmethod
    def load(cls, data: Mapping[str, Any], config: ClusterConfig | None = None) -> StoryClusterer:
        """Rebuild a clusterer from :meth:`dump` output (the index is derived, not stored)."""
        self = cls(config)
        self.next_id, self.clock, self.prev_time = state.load_header(data, self.frequencies)
        for raw in data["stories"]:
            story = state.load_story(raw)
            self._open[story.id] = story
            self._index.reindex(story)
            if story.last is not None:
                heapq.heappush(self._expiry, (story.last, story.id))
        return self

    # --- comparing ------------------------------------------------------------------

    def _singleton(
        self, article: ArticleFeatures, when: datetime | None, raw: dict[str, dict[str, float]]
    ) -> OpenStory:
        """The article as a one-member story (id 0): comparing and joining are then the
        same operations for an article and for a whole story."""
        vectors = self.frequencies.vectorise(raw)
        story = OpenStory(0, when, when, size=1, langs={article.lang: 1}, sums=vectors)
        for entity in article.entities:
            story.names[entity.key] = (1, story.names.get(entity.key, (0, entity.text))[1])
        story.phrases = dict.fromkeys(article.keyphrases[:5], 1)
        story.rep = Representative(article.id, article.lang, vectors)
        return story

    def _best_match(self, probe: OpenStory, floor: float = 0.0) -> tuple[OpenStory | None, float]:
        """The open story most similar to ``probe`` (ties: lowest id) and its similarity,
        when that similarity is at least ``floor``; else a story less similar than
        ``floor``, or None (and 0.0). A candidate that is certainly less similar than
        the best so far, or than ``floor``, is not compared in full (see
        :func:`.similarity.similarity_from`)."""
        best: OpenStory | None = None
        best_score = 0.0
        for story in self._index.candidates(probe, self._open):
            score = self._similarity_from(probe, story, max(best_score, floor))
            if score is None:
                continue
            if score > best_score or (score == best_score and best and story.id < best.id):
                best, best_score = story, score
        return best, best_score

    def _similarity(self, a: OpenStory, b: OpenStory) -> float:
        return similarity(a, b, self._weights, self.config.half_life)

    def _similarity_from(self, a: OpenStory, b: OpenStory, limit: float) -> float | None:
        """:meth:`_similarity`, or None when it is certainly below ``limit``."""
        found = similarity_from(a, b, self._weights, self.config.half_life, limit)
        if found is None:
            self.bounded += 1
        else:
            self.comparisons += 1
        return found

    def _rep_similarity(self, a: OpenStory, b: OpenStory) -> float:
        return similarity(a, b, self._rep_weights, self.config.half_life)

    # --- story bookkeeping ----------------------------------------------------------

    def _new_story(self) -> OpenStory:
        story = OpenStory(self.next_id, None, None)
        self.next_id += 1
        self._open[story.id] = story
        return story

    def _absorb(self, story: OpenStory, other: OpenStory) -> None:
        """Add ``other`` (an article's singleton or a whole story) to ``story``."""
        cfg = self.config
        self._unsaved.add(story.id)
        story.size += other.size
        for lang, n in other.langs.items():
            story.langs[lang] = story.langs.get(lang, 0) + n
        for space, vec in other.sums.items():
            limit = cfg.story_terms if space.startswith("t:") else cfg.story_keys
            story.sums[space] = top(add(story.sums.get(space, {}), vec), limit)
        names = story.names
        for key, (count, text) in other.names.items():
            old = names.get(key)
            names[key] = (old[0] + count, old[1]) if old else (count, text)
        story.names = dict(top_items(story.names, lambda v: v[0], cfg.story_keys))
        for phrase, count in other.phrases.items():
            story.phrases[phrase] = story.phrases.get(phrase, 0) + count
        story.phrases = dict(top_items(story.phrases, lambda v: v, cfg.story_keys))
        for when in (other.first, other.last):
            if when is not None:
                story.first = when if story.first is None else min(story.first, when)
                story.last = when if story.last is None else max(story.last, when)
        if story.last is not None:
            heapq.heappush(self._expiry, (story.last, story.id))
        story.rep = better_representative(story, story.rep, other.rep, self._rep_similarity)
        self._index.reindex(story)
        split.track(story, other)

    def _join_floor(self, story: OpenStory) -> float:
        """The similarity an article needs to join ``story``: ``pair_threshold`` for a
        one-article story, else ``threshold``."""
        pair = self.config.pair_threshold
        return pair if pair is not None and story.size == 1 else self.config.threshold

    def _may_merge(self, story: OpenStory, probe: OpenStory, is_new: bool) -> bool:
        """Whether ``story``, just grown by ``probe``, may now merge with another.

        Not when it is a new story that is just the article: it has the article's
        candidates, and none of them came up to ``threshold``, let alone to a
        ``merge_threshold`` at least as high. Skipping saves a search per new story."""
        threshold = self.config.merge_threshold
        if threshold is None:
            return False
        just_the_article = is_new and story.sums == probe.sums
        return not (just_the_article and threshold >= self.config.threshold)

    def _merge_neighbours(
        self, story: OpenStory, merged: list[int], before: int
    ) -> tuple[OpenStory, int]:
        """Fold open stories that ``story`` has grown similar to into one (lowest id),
        unless their members keep apart (see :meth:`_keep_apart`); the story and the
        size of the largest part it grew from (``before``: the story without the
        article)."""
        threshold = self.config.merge_threshold
        assert threshold is not None
        # the lowest floor below: a story less similar than this never merges, nor
        # keeps the best from being looked at
        lowest = min(threshold, self.config.threshold) if self.config.singletons_join else threshold
        for _ in range(MAX_MERGE_ROUNDS):
            other, score = self._best_match(story, lowest)
            if other is None:
                break
            # a one-article story is an article that came too early: it may join as one
            alone = self.config.singletons_join and other.size == 1
            floor = self.config.threshold if alone else threshold
            if story.size == 1:  # two single articles: as when one joins the other
                floor = max(floor, self._join_floor(other))
            if score < floor:
                break
            # the member similarities known of either, and those the guard computes
            pairs = self._member_pairs.get(story.id, {}) | self._member_pairs.get(other.id, {})
            if self._keep_apart(story, other, pairs):
                break
            before = max(before, other.size)
            story = self._fold(story, other, pairs, merged)
        return story, before

    def _fold(
        self,
        story: OpenStory,
        other: OpenStory,
        pairs: dict[tuple[int, int], float],
        merged: list[int],
    ) -> OpenStory:
        """Merge two open stories into the older (lower id), which keeps ``pairs`` as its
        known member similarities while young; the merged one's id goes to ``merged``."""
        keep, gone = (story, other) if story.id < other.id else (other, story)
        self._drop(gone)
        self._absorb(keep, gone)
        if keep.members is not None:
            self._member_pairs[keep.id] = pairs
        merged.append(gone.id)
        return keep

    def _keep_apart(
        self, story: OpenStory, other: OpenStory, known: dict[tuple[int, int], float]
    ) -> bool:
        """Whether two young stories in one language that are close enough to merge
        are still two groups of members that a split would part again (see
        :func:`.split.apart`; ``merge_guard``). Member similarities are looked up in
        and added to ``known``."""
        cfg = self.config
        threshold = cfg.split_threshold
        if not cfg.merge_guard or threshold is None:
            return False
        if story.members is None or other.members is None:
            return False  # one is past its young age, or stored without members
        if len(story.langs) != 1 or story.langs.keys() != other.langs.keys():
            return False  # languages share no words (see .split.should_check)
        similar = self._member_similarity(known)
        return split.apart(
            story.members, other.members, similar, threshold, cfg.split_ratio, cfg.split_min_part
        )

    def _gather(self, story: OpenStory, merged: list[int]) -> OpenStory:
        """Fold ``story``, which has grown to a check size and stayed whole, and the
        young stories among its candidates whose members are on average as alike to its
        members as ``gather_threshold`` (see :func:`.split.gathers`) into one, when one
        of the two has at most ``gather_size`` articles: a fragment that began before
        the story was large enough to draw it in, or the story itself as a fragment of
        a larger one (whichever reaches a check size first)."""
        cfg = self.config
        if cfg.gather_threshold is None or story.members is None:
            return story
        known = self._member_pairs.setdefault(story.id, {})
        similar = self._member_similarity(known)
        for other in self._index.candidates(story, self._open):
            if (
                min(other.size, story.size) > cfg.gather_size
                or other.members is None
                or other.langs.keys() != story.langs.keys()
            ):
                continue
            # one similarity of the centroids spares many of members
            limit = cfg.gather_threshold - GATHER_MARGIN
            score = self._similarity_from(story, other, limit)
            if score is None or score < limit:
                continue
            if not split.gathers(
                story.members,
                other.members,
                similar,
                cfg.gather_threshold,
                cfg.split_threshold,
                cfg.split_ratio,
            ):
                continue
            story = self._fold(story, other, known, merged)
            if story.members is None:
                break
        return story

    def _regroup(
        self, story: OpenStory, article_id: int, merged: list[int]
    ) -> tuple[OpenStory, tuple[tuple[int, int], ...]]:
        """Group the members of ``story`` (just grown to a check size, whole) and of
        the young stories near it in its language again (see :mod:`.regroup`); the
        story of ``article_id`` after it, and ``(article id, new story id)`` of the
        articles put into new stories (the stories folded in go to ``merged``)."""
        cfg = self.config
        threshold = cfg.regroup_threshold
        if threshold is None or cfg.merge_threshold is None:
            return story, ()  # regrouping merges stories: not when they never merge
        if story.members is None or len(story.langs) != 1:
            return story, ()
        near = [story]
        total = len(story.members)
        for other in self._index.candidates(story, self._open):
            if (
                other.members is None
                or other.langs.keys() != story.langs.keys()
                or total + len(other.members) > regroup.LIMIT
            ):
                continue
            # one similarity of the centroids spares many of members
            score = self._similarity_from(story, other, threshold - GATHER_MARGIN)
            if score is None or score < threshold - GATHER_MARGIN:
                continue
            near.append(other)
            total += len(other.members)
        known: dict[tuple[int, int], float] = {}
        for one in near:
            known |= self._member_pairs.get(one.id, {})
        members = {_article_of(m): m for one in near for m in one.members or ()}
        listed = list(members.values())
        found = regroup.groups(
            listed, self._member_similarity(known), threshold, cfg.split_threshold, cfg.split_ratio
        )
        current = {one.id: [_article_of(m) for m in one.members or ()] for one in near}
        ids = [[_article_of(listed[p]) for p in group] for group in found]
        change = regroup.plan(current, ids, story.id, article_id)
        # the similarities of these members, those across stories too, for the next time
        shared = regroup.pairs_within(known, list(members))
        for one in near:
            self._member_pairs[one.id] = shared
        if change is None:
            return story, ()
        for one in near:
            if one.id == story.id or one.id in change.gone:
                self._drop(one)
        merged.extend(change.gone)
        kept = OpenStory(story.id, None, None)
        self._open[kept.id] = kept
        moved: list[tuple[int, int]] = []
        for target, group in [(kept, change.kept)] + [(self._new_story(), g) for g in change.new]:
            self._member_pairs[target.id] = shared
            for article in group:
                self._absorb(target, members[article])
            if target is not kept:
                moved += [(article, target.id) for article in group]
        return kept, tuple(moved)

    def _split(self, story: OpenStory, article_id: int, before: int) -> tuple[tuple[int, int], ...]:
        """Split ``story`` in two when its members have turned out to be two stories
        (see :mod:`.split`). The part with the article ``article_id`` keeps the id, the
        other becomes a new story; ``(article id, new story id)`` of the moved ones."""
        threshold = self.config.split_threshold
        if story.members is None:
            self._member_pairs.pop(story.id, None)  # past its young age: never checked again
        if threshold is None or not split.should_check(story, before):
            return ()
        members = story.members
        assert members is not None
        cfg = self.config
        known = self._member_pairs.setdefault(story.id, {})
        parts = split.halves(
            members, self._member_similarity(known), threshold, cfg.split_ratio, cfg.split_min_part
        )
        if story.size >= split.MAX_MEMBERS:  # checked for the last time
            del self._member_pairs[story.id]
        if parts is None:
            return ()
        stay, leave = parts
        if not any(_article_of(members[p]) == article_id for p in stay):
            stay, leave = leave, stay
        self._drop(story)
        kept = OpenStory(story.id, None, None)
        self._open[kept.id] = kept
        new = self._new_story()
        for whole, positions in ((kept, stay), (new, leave)):
            for position in positions:
                self._absorb(whole, members[position])
        return tuple((_article_of(members[p]), new.id) for p in leave)

    def _member_similarity(
        self, known: dict[tuple[int, int], float]
    ) -> Callable[[OpenStory, OpenStory], float]:
        """:meth:`_similarity` of two members of a story, remembered in ``known`` (by
        their article ids) from one split check of the story to the next."""

        def similar(a: OpenStory, b: OpenStory) -> float:
            pair = (_article_of(a), _article_of(b))
            found = known.get(pair)
            if found is None:
                self.comparisons += 1
                found = known[pair] = self._similarity(a, b)
            return found

        return similar

    def _drop(self, story: OpenStory) -> None:
        self._index.unindex_all(story)
        del self._open[story.id]
        self._member_pairs.pop(story.id, None)

    def _expire(self, before: datetime) -> list[Story]:
        closed = []
        while self._expiry and self._expiry[0][0] < before:
            last, sid = heapq.heappop(self._expiry)
            story = self._open.get(sid)
            if story is None or story.last != last:
                continue  # stale heap entry: the story grew, merged or closed since
            self._drop(story)
            closed.append(self._summary(story))
        return closed

    def _summary(self, story: OpenStory) -> Story:
        return summary(story, self.frequencies.idf, self.config.label_size)


def _article_of(member: OpenStory) -> int:
    """The article id of a member (a one-article story)."""
    assert member.rep is not None
    return member.rep.id
