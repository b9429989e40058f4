"""Incremental story clustering: which articles tell the same story.

Pure logic, no I/O. Articles arrive one at a time, in the order the pipeline processes
them; each joins the most similar *open* story when it is similar enough, or starts a new
one. A story is open while its latest article lies within ``window`` of the newest article
seen; older stories are closed and never compared again, so the work per article depends
on how many stories are open (bounded by the window), never on how many articles have
ever been stored.

How similar an article is to a story is a weighted mean of up to four comparisons, each
the average over all member pairs of a cosine between TF-IDF vectors. Summing the
members' unit vectors per story makes that average one dot product (average linkage, as
in the batch baseline, without keeping the members):

* terms: content lemmas, compared only with members in the article's language, because
  Dutch and English lemmas do not overlap;
* entities: names, language-neutral, plus the single words of multi-word names ("Reid"
  meets "Tara Reid"), so a Dutch and an English article about the same event still meet
  on "Philips", "Roy Jakobs" or "Elazig";
* numbers and links: "6.8", "4000", a shared URL. With the names, they are what tells two
  earthquakes or two rounds of layoffs apart when their words are alike.

The mean leaves out what one side lacks (terms across languages, numbers in an article
without any; links unless one is shared), and fades with the time between article and
story (``half_life``). Inverse document frequencies are learnt as articles arrive, so
common words and names weigh little.

A story that an article has just grown may now resemble another open story as much as an
article would need to join it: the two are merged into the older one (``merge_threshold``),
which repairs a story that began as two fragments. :attr:`Assignment.merged` reports the
folded story ids; the pipeline must move their articles to the surviving id.

Candidate stories come from an inverted index over each open story's strongest keys, and
story vectors are cut to their top keys, so lookup and comparison cost stay bounded.
Everything is deterministic: the same articles in the same order give the same stories
and ids, ties go to the lower id, and the state (:meth:`StoryClusterer.dump`) is plain
JSON data from which :meth:`StoryClusterer.load` continues exactly like an uninterrupted
run.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from srsly import msgpack

from pipeline.process.analysis.features import ArticleFeatures

STATE_VERSION = 1
MAX_MERGE_ROUNDS = 3  # merges one article may cause (each costs one more candidate lookup)
DIGITS = 6  # stored weights are rounded, so a dumped state reloads to the same numbers
Vector = dict[str, float]
# Feature spaces. Term spaces are per language ("t:en", "t:nl"); the others are shared.
ENTITIES, NUMBERS, LINKS = "e", "n", "l"
SHARED_SPACES = (ENTITIES, NUMBERS, LINKS)


@dataclass(frozen=True)
class ClusterConfig:
    """Tuning knobs. Weights and thresholds were tuned on the ECB+ development topics
    (``bench/cluster_eval.py``); the results are stable within about ±0.02 of them."""

    window: timedelta = timedelta(days=7)  # stories idle this long close
    threshold: float = 0.16  # minimum similarity for an article to join a story
    merge_threshold: float | None = 0.18  # two open stories this similar become one (None: never)
    half_life: timedelta | None = timedelta(days=3)  # similarity halves per this much time apart
    term_weight: float = 1.0
    entity_weight: float = 1.5  # names carry the most weight: they tell same-kind events apart
    number_weight: float = 1.0
    link_weight: float = 1.0  # only counts when a link is shared
    entity_parts: float = 0.5  # weight of the single words of multi-word names ("reid")
    binary_tf: bool = True  # a word's presence, not its repetition (measured: +0.01 F1)
    skip_padded_numbers: bool = True  # "07", "04": clock times and dates, not facts
    doc_terms: int = 150  # heaviest terms kept per article vector (300: same F1, 2.7x slower)
    story_terms: int = 150  # heaviest terms kept per story and language
    story_keys: int = 100  # heaviest names / numbers / links kept per story
    probe_keys: int = 10  # heaviest keys per feature space used to look up candidates
    max_candidates: int = 8  # stories fully compared per article (30 gave the same F1)
    max_posting: int = 2000  # a key shared by more open stories than this finds none
    max_df_keys: int = 200_000  # per feature space; beyond it the rarest keys are forgotten
    label_size: int = 3


@dataclass(frozen=True)
class StoredState:
    """What :meth:`StoryClusterer.dump_stored` hands to the store: the header, the
    story rows to write (id -> packed story) and the ids of the rows to delete."""

    header: bytes
    changed: dict[int, bytes]
    removed: list[int]


@dataclass(frozen=True)
class Assignment:
    """Where :meth:`StoryClusterer.add` put an article.

    ``similarity`` is the best similarity to any open story, whether or not it was high
    enough to join (0.0 when no candidate shared a key with the article). ``merged``
    lists open stories that this article bridged and that were folded into ``story_id``:
    the pipeline must move their articles to ``story_id``.
    """

    story_id: int
    is_new: bool
    similarity: float
    merged: tuple[int, ...] = ()


@dataclass(frozen=True)
class Story:
    """A read-only summary of one story, as the pipeline stores and shows it."""

    id: int
    label: tuple[str, ...]
    representative: int  # article id
    size: int
    first: datetime | None
    last: datetime | None
    langs: tuple[str, ...]


@dataclass
class _Rep:
    """The story's representative article and its vectors (to re-check it as it grows)."""

    id: int
    lang: str
    vectors: dict[str, Vector]  # never changed once made


@dataclass
class _Story:
    id: int
    first: datetime | None
    last: datetime | None
    size: int = 0
    langs: dict[str, int] = field(default_factory=dict)
    sums: dict[str, Vector] = field(default_factory=dict)  # space -> sum of unit vectors
    # key -> (count, text): tuples of plain values, which the garbage collector skips
    names: dict[str, tuple[int, str]] = field(default_factory=dict)
    phrases: dict[str, int] = field(default_factory=dict)
    rep: _Rep | None = None
    indexed: dict[str, Vector] = field(default_factory=dict)  # space -> the sums indexed
    bucket: int | None = None  # the time bucket the keys are indexed under
    packed: bytes | None = None  # the story's dump as MessagePack, until it changes


class StoryClusterer:
    """Assigns articles to stories one at a time; see the module docstring."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        cfg = self.config
        self._weights = {
            "t": cfg.term_weight,
            ENTITIES: cfg.entity_weight,
            NUMBERS: cfg.number_weight,
            LINKS: cfg.link_weight,
        }
        self.next_id = 1
        self.clock: datetime | None = None  # newest effective time seen
        self.prev_time: datetime | None = None  # effective time of the previous article
        self.docs: dict[str, int] = {}  # language -> articles seen
        self.df: dict[str, dict[str, int]] = {}  # space -> key -> articles with it
        self._open: dict[int, _Story] = {}
        # The inverted index: time bucket -> feature space -> key -> the open stories
        # with that key, as one story id or, for several, the keys of a dict (a dict of
        # ints is not tracked by the garbage collector, a set is). Most keys belong to
        # one story; there is an entry for every key of every open story.
        self._index: dict[int | None, dict[str, dict[str, int | dict[int, None]]]] = {}
        self._sizes: dict[str, dict[str, int]] = {}  # space -> key -> open stories with it
        self._bucket_days = max(1, math.ceil(self.config.window / timedelta(days=1)))
        self._expiry: list[tuple[datetime, int]] = []  # lazy heap of (last, story id)
        self._saved: set[int] = set()  # ids of the stories stored (see dump_stored)
        self._unsaved: set[int] = set()  # ids of the stories changed since
        self.comparisons = 0  # full similarity computations, for tests and benchmarks
        self.postings_scanned = 0

    # --- public API ---------------------------------------------------------------

    def add(self, article: ArticleFeatures) -> Assignment:
        """Assign ``article`` to an open story or start a new one."""
        when = article.published or self.prev_time
        self.prev_time = when
        if when is not None and (self.clock is None or when > self.clock):
            self.clock = when
            self._expire(when - self.config.window)
        raw = self._raw_keys(article)
        self._count(raw, article.lang)
        probe = self._singleton(article, when, raw)
        story, score = self._best_match(probe)
        is_new = story is None or score < self.config.threshold
        if story is None or is_new:
            story = self._new_story()
        joined = story.id
        self._absorb(story, probe)
        merged: list[int] = []
        if self._may_merge(story, probe, is_new):
            story = self._merge_neighbours(story, merged)
        is_new = is_new and story.id == joined  # a new story folded into an older one is not
        return Assignment(story.id, is_new, round(score, 6), tuple(sorted(merged)))

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

    def dump(self) -> dict[str, Any]:
        """The whole state as JSON-able data (see :meth:`load`).

        ``{"version": 1, "next_id": int, "clock": iso|null, "prev_time": iso|null,
        "docs": {lang: articles seen}, "df": {space: {key: articles}}, "stories": [...]}``
        where each open story is ``{"id", "first", "last", "size", "langs": {lang: n},
        "sums": {space: {key: weight}}, "names": {key: [count, text]}, "phrases":
        {phrase: count}, "rep": {"id", "lang", "vectors": {...} or null when equal to
        "sums"}}``. Spaces are ``t:<lang>`` (terms), ``e`` (names), ``n`` (numbers) and
        ``l`` (links). The configuration is not part of the state.
        """
        stories = [_dump_story(self._open[sid]) for sid in sorted(self._open)]
        return {**self._header(), "stories": stories}

    def _header(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "next_id": self.next_id,
            "clock": _iso(self.clock),
            "prev_time": _iso(self.prev_time),
            "docs": dict(self.docs),
            "df": {space: dict(counts) for space, counts in self.df.items()},
        }

    def dump_stored(self) -> StoredState:
        """The state of :meth:`dump` as the pipeline stores it after every batch, and
        :meth:`from_stored` reads it back: a small header (counts, clock, document
        frequencies) and one row per open story, of which only the stories changed,
        created or gone since the last :meth:`mark_stored` are written. MessagePack,
        about six times faster than JSON for the floats of the story vectors."""
        packer = msgpack.Packer(use_bin_type=True)  # one per call: making one costs more
        changed = {}
        for sid in sorted(self._unsaved):
            story = self._open.get(sid)
            if story is None:  # created and merged away or closed since: nothing to keep
                continue
            if story.packed is None:
                story.packed = packer.pack(_dump_story(story))
            changed[sid] = story.packed
        removed = sorted(self._saved - self._open.keys())
        header = packer.pack({**self._header(), "stories": "rows"})
        return StoredState(header, changed, removed)

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
        state = msgpack.unpackb(value, raw=False)
        if state.pop("stories", None) != "rows":
            raise ValueError("story state: expected a header with its stories in rows")
        packed = list(rows)
        state["stories"] = [msgpack.unpackb(row, raw=False) for row in packed]
        self = cls.load(state, config)
        for story, row in zip(self._open.values(), packed, strict=True):
            story.packed = row  # as stored: unchanged until the story changes
        self._saved = set(self._open)
        return self

    @classmethod
    def load(cls, state: Mapping[str, Any], config: ClusterConfig | None = None) -> StoryClusterer:
        """Rebuild a clusterer from :meth:`dump` output (the index is derived, not stored)."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported story state version: {state.get('version')!r}")
        self = cls(config)
        self.next_id = int(state["next_id"])
        self.clock = _parse(state["clock"])
        self.prev_time = _parse(state["prev_time"])
        self.docs = {k: int(v) for k, v in state["docs"].items()}
        self.df = {space: dict(counts) for space, counts in state["df"].items()}
        for raw in state["stories"]:
            story = _load_story(raw)
            self._open[story.id] = story
            self._reindex(story)
            if story.last is not None:
                heapq.heappush(self._expiry, (story.last, story.id))
        return self

    # --- vectors ------------------------------------------------------------------

    def _count(self, raw: dict[str, dict[str, float]], lang: str) -> None:
        """Update document counts first, so an article's own keys count (as in batch IDF)."""
        self.docs[lang] = self.docs.get(lang, 0) + 1
        for space, keys in raw.items():
            counts = self.df.setdefault(space, {})
            get = counts.get
            for key in keys:
                counts[key] = get(key, 0) + 1
            if len(counts) > self.config.max_df_keys:
                self.df[space] = _prune(counts, self.config.max_df_keys)

    def _idf(self, space: str, key: str) -> float:
        return math.log(self._idf_total(space) / (1 + self.df.get(space, {}).get(key, 0))) + 1.0

    def _idf_total(self, space: str) -> int:
        """The numerator of :meth:`_idf`: one more than the articles the space counts."""
        return 1 + (
            self.docs.get(space[2:], 0) if space.startswith("t:") else sum(self.docs.values())
        )

    def _raw_keys(self, article: ArticleFeatures) -> dict[str, dict[str, float]]:
        cfg = self.config
        return _raw_keys(article, cfg.entity_parts, cfg.skip_padded_numbers)

    def _vectorise(self, raw: dict[str, dict[str, float]]) -> dict[str, Vector]:
        """Unit TF-IDF vectors per space (from :meth:`_raw_keys`), terms cut to
        ``doc_terms``."""
        out: dict[str, Vector] = {}
        binary = self.config.binary_tf
        log = math.log
        for space, counts in raw.items():
            # _tf(c, binary) * _idf(space, k), inlined: this runs for every key of every article
            total = self._idf_total(space)
            df = self.df.get(space, {}).get
            vec = {
                k: ((c if c < 1.0 else 1.0) if binary else _tf(c, binary))
                * (log(total / (1 + df(k, 0))) + 1.0)
                for k, c in counts.items()
                if c > 0
            }
            if space.startswith("t:"):
                vec = _top(vec, self.config.doc_terms)
            vec = _unit(vec)
            if vec:
                out[space] = vec
        return out

    def _singleton(
        self, article: ArticleFeatures, when: datetime | None, raw: dict[str, dict[str, float]]
    ) -> _Story:
        """The article as a one-member story (id 0): comparing and joining are then the
        same operations for an article and for a whole story."""
        vectors = self._vectorise(raw)
        story = _Story(0, when, when, size=1, langs={article.lang: 1}, sums=vectors)
        for entity in article.entities:
            story.names[entity.key] = (1, story.names.get(entity.key, (0, entity.text))[1])
        story.phrases = dict.fromkeys(article.keyphrases[:5], 1)
        story.rep = _Rep(article.id, article.lang, vectors)
        return story

    # --- candidates and similarity ------------------------------------------------

    def _best_match(self, probe: _Story) -> tuple[_Story | None, float]:
        """The open story most similar to ``probe`` (ties: lowest id) and its similarity."""
        best: _Story | None = None
        best_score = 0.0
        for story in self._candidates(probe):
            self.comparisons += 1
            score = self._similarity(probe, story)
            if score > best_score or (score == best_score and best and story.id < best.id):
                best, best_score = story, score
        return best, best_score

    def _candidates(self, probe: _Story) -> list[_Story]:
        """Open stories in the window sharing a strong key with ``probe``, most overlap first.

        Only the time buckets that can hold a story within the window of ``probe`` are
        scanned (see :meth:`_bucket`): out-of-order input (an import, a backfill) leaves
        stories open all over the calendar, and the work must not grow with them.
        """
        overlap: dict[int, float] = {}
        max_posting = self.config.max_posting
        near = [self._index[bucket] for bucket in self._near_buckets(probe)]
        for space, keys in _probes(probe.sums, self.config.probe_keys):
            sizes = self._sizes.get(space)
            if sizes is None:
                continue
            indexes = [index[space] for index in near if space in index]
            for key, weight in keys:
                size = sizes.get(key, 0)
                if not size or size > max_posting:
                    continue
                self.postings_scanned += size
                for index in indexes:
                    posting = index.get(key)
                    if posting is None:
                        continue
                    if type(posting) is int:
                        overlap[posting] = overlap.get(posting, 0.0) + weight
                    else:
                        for sid in posting:
                            overlap[sid] = overlap.get(sid, 0.0) + weight
        overlap.pop(probe.id, None)
        found = []
        window = self.config.window
        for _, sid in sorted([(-score, sid) for sid, score in overlap.items()]):
            story = self._open[sid]
            if _gap(story, probe) <= window:
                found.append(story)
                if len(found) == self.config.max_candidates:
                    break
        return found

    def _bucket(self, story: _Story) -> int | None:
        """The time bucket a story is indexed under: its first day, in blocks of the
        window's length, if it spans no more than a window; else (and without dates)
        None, the bucket that every lookup scans."""
        if story.first is None or story.last is None:
            return None
        if story.last - story.first > self.config.window:
            return None
        return story.first.toordinal() // self._bucket_days

    def _near_buckets(self, probe: _Story) -> list[int | None]:
        """The buckets holding every open story within the window of ``probe`` (and some
        beyond it: :meth:`_candidates` checks the gap of each)."""
        if probe.first is None or probe.last is None:
            return list(self._index)
        # a story in a dated bucket starts at most a window before its end, which is at
        # most a window before the probe's start, and at most a window after the probe's
        # end; three days spare for rounding and time zones (dates are compared as days)
        days = self._bucket_days
        low = (probe.first.toordinal() - 2 * days - 3) // days
        high = (probe.last.toordinal() + days + 3) // days
        if high - low + 1 > len(self._index):
            return list(self._index)
        near: list[int | None] = [b for b in range(low, high + 1) if b in self._index]
        if None in self._index:
            near.append(None)
        return near

    def _similarity(self, a: _Story, b: _Story) -> float:
        """Weighted mean of the average-link cosines of the spaces both stories have,
        faded by the time between them.

        A space only one side has is left out rather than counted as zero: a Dutch and an
        English article have no terms in common by construction, and an article without
        numbers says nothing about numbers. Links only count when some are shared: every
        article links to itself, so "no shared link" is the normal case, not evidence.
        """
        weights = self._weights
        components = _components(a, b)
        if not components.get(LINKS):
            components.pop(LINKS, None)
        norm = sum(weights[space] for space in components)
        if norm == 0.0:
            return 0.0
        total = sum(weights[space] * value for space, value in components.items())
        return total / norm * self._decay(a, b)

    def _decay(self, a: _Story, b: _Story) -> float:
        half_life = self.config.half_life
        if half_life is None:
            return 1.0
        return 0.5 ** (_gap(a, b) / half_life)

    # --- story bookkeeping ----------------------------------------------------------

    def _new_story(self) -> _Story:
        story = _Story(self.next_id, None, None)
        self.next_id += 1
        self._open[story.id] = story
        return story

    def _absorb(self, story: _Story, other: _Story) -> None:
        """Add ``other`` (an article's singleton or a whole story) to ``story``."""
        cfg = self.config
        story.packed = None
        self._unsaved.add(story.id)
        story.size += other.size
        for lang, n in other.langs.items():
            story.langs[lang] = story.langs.get(lang, 0) + n
        for space, vec in other.sums.items():
            limit = cfg.story_terms if space.startswith("t:") else cfg.story_keys
            story.sums[space] = _top(_add(story.sums.get(space, {}), vec), limit)
        names = story.names
        for key, (count, text) in other.names.items():
            old = names.get(key)
            names[key] = (old[0] + count, old[1]) if old else (count, text)
        story.names = dict(_top_items(story.names, lambda v: v[0], cfg.story_keys))
        for phrase, count in other.phrases.items():
            story.phrases[phrase] = story.phrases.get(phrase, 0) + count
        story.phrases = dict(_top_items(story.phrases, lambda v: v, cfg.story_keys))
        for when in (other.first, other.last):
            if when is not None:
                story.first = when if story.first is None else min(story.first, when)
                story.last = when if story.last is None else max(story.last, when)
        if story.last is not None:
            heapq.heappush(self._expiry, (story.last, story.id))
        story.rep = self._better_rep(story, story.rep, other.rep)
        self._reindex(story)

    def _better_rep(self, story: _Story, a: _Rep | None, b: _Rep | None) -> _Rep | None:
        """Of two representatives, the one closer to the story now; ties: lower id."""
        if a is None or b is None:
            return a or b
        score_a = self._similarity(_rep_story(a), story)
        score_b = self._similarity(_rep_story(b), story)
        if score_b > score_a or (score_b == score_a and b.id < a.id):
            return b
        return a

    def _may_merge(self, story: _Story, probe: _Story, is_new: bool) -> bool:
        """Whether ``story``, just grown by ``probe``, may now merge with another.

        Not when it is a new story that is just the article: it has the article's
        candidates, and none of them came up to ``threshold``, let alone to a
        ``merge_threshold`` at least as high. Skipping saves a search per new story."""
        threshold = self.config.merge_threshold
        if threshold is None:
            return False
        just_the_article = is_new and story.sums == probe.sums
        return not (just_the_article and threshold >= self.config.threshold)

    def _merge_neighbours(self, story: _Story, merged: list[int]) -> _Story:
        """Fold open stories that ``story`` has grown similar to into one (lowest id)."""
        threshold = self.config.merge_threshold
        assert threshold is not None
        for _ in range(MAX_MERGE_ROUNDS):
            other, score = self._best_match(story)
            if other is None or score < threshold:
                break
            keep, gone = (story, other) if story.id < other.id else (other, story)
            self._drop(gone)
            self._absorb(keep, gone)
            merged.append(gone.id)
            story = keep
        return story

    def _drop(self, story: _Story) -> None:
        self._unindex_all(story)
        del self._open[story.id]

    def _unindex_all(self, story: _Story) -> None:
        for space, vec in story.indexed.items():
            self._unindex(story.id, story.bucket, space, vec.keys())
        story.indexed = {}

    def _reindex(self, story: _Story) -> None:
        """Index the story under every key of its sums, in its time bucket. The sums
        indexed are remembered (the dicts themselves: :meth:`_absorb` replaces them rather
        than changing them), so that only the keys that came or went are re-indexed."""
        bucket = self._bucket(story)
        if bucket != story.bucket:
            self._unindex_all(story)  # moved to another bucket: index it afresh
            story.bucket = bucket
        indexed = story.indexed
        for space in [s for s in indexed if s not in story.sums]:
            self._unindex(story.id, bucket, space, indexed.pop(space).keys())
        for space, vec in story.sums.items():
            before = indexed.get(space)
            if before is vec:
                continue
            if before is not None:
                self._unindex(story.id, bucket, space, before.keys() - vec.keys())
                added: Iterable[str] = vec.keys() - before.keys()
            else:
                added = vec.keys()
            if added:
                index = self._index.setdefault(bucket, {}).setdefault(space, {})
                sizes = self._sizes.setdefault(space, {})
                sid = story.id
                for key in added:
                    posting = index.get(key)
                    if posting is None:
                        index[key] = sid
                    elif type(posting) is int:
                        index[key] = {posting: None, sid: None}
                    else:
                        posting[sid] = None
                    sizes[key] = sizes.get(key, 0) + 1
            indexed[space] = vec

    def _unindex(self, story_id: int, bucket: int | None, space: str, keys: Iterable[str]) -> None:
        if not keys:
            return
        by_space = self._index[bucket]
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
                del self._index[bucket]
        if not sizes:
            del self._sizes[space]

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

    # --- summaries --------------------------------------------------------------------

    def _summary(self, story: _Story) -> Story:
        assert story.rep is not None
        return Story(
            id=story.id,
            label=self._label(story),
            representative=story.rep.id,
            size=story.size,
            first=story.first,
            last=story.last,
            langs=tuple(sorted(story.langs, key=lambda k: (-story.langs[k], k))),
        )

    def _label(self, story: _Story) -> tuple[str, ...]:
        """Most telling names (count × IDF), then keyphrases, without repeats."""

        def name_score(item: tuple[str, tuple[int, str]]) -> tuple[float, str]:
            key, (count, _text) = item
            return (-count * self._idf(ENTITIES, key), key)

        label: list[str] = []
        seen: set[str] = set()
        for key, (_count, text) in sorted(story.names.items(), key=name_score):
            if len(label) < self.config.label_size:
                label.append(text)
                seen.add(key)
        for phrase, _ in sorted(story.phrases.items(), key=lambda kv: (-kv[1], kv[0])):
            if len(label) >= self.config.label_size:
                break
            if phrase not in seen:
                label.append(phrase)
                seen.add(phrase)
        return tuple(label)


# --- helpers --------------------------------------------------------------------------


def _rep_story(rep: _Rep) -> _Story:
    return _Story(0, None, None, size=1, langs={rep.lang: 1}, sums=rep.vectors)


def _components(a: _Story, b: _Story) -> dict[str, float]:
    """Average-link cosine per space, for the spaces both stories have.

    With unit member vectors, the mean cosine over all member pairs equals the dot product
    of the two sums divided by the number of pairs. Terms only pair members of the same
    language.
    """
    out: dict[str, float] = {}
    dot = pairs = 0.0
    for lang in sorted(set(a.langs) & set(b.langs)):
        space = f"t:{lang}"
        if space in a.sums and space in b.sums:
            dot += _dot(a.sums[space], b.sums[space])
            pairs += a.langs[lang] * b.langs[lang]
    if pairs:
        out["t"] = dot / pairs
    for space in SHARED_SPACES:
        if a.sums.get(space) and b.sums.get(space):
            out[space] = _dot(a.sums[space], b.sums[space]) / (a.size * b.size)
    return out


def _gap(a: _Story, b: _Story) -> timedelta:
    """Time between two stories' spans (zero when they overlap or a date is unknown)."""
    if a.first is None or a.last is None or b.first is None or b.last is None:
        return timedelta(0)
    return max(timedelta(0), b.first - a.last, a.first - b.last)


def _raw_keys(
    article: ArticleFeatures, entity_parts: float, skip_padded: bool
) -> dict[str, dict[str, float]]:
    """Counts per space; entity words of multi-word names count ``entity_parts`` each."""
    out: dict[str, dict[str, float]] = {}
    if article.terms:
        out[f"t:{article.lang}"] = {k: float(c) for k, c in article.terms.items() if c > 0}
    names: dict[str, float] = {}
    for entity in article.entities:
        names[entity.key] = names.get(entity.key, 0.0) + 1.0
    if entity_parts > 0:
        for entity in article.entities:
            parts = entity.key.split()
            if len(parts) > 1:
                for part in parts:
                    if len(part) > 2 and part not in names:
                        names[part] = entity_parts
    if names:
        out[ENTITIES] = names
    # sets are sorted: their order would change with the interpreter's string hashing
    numbers = sorted(n for n in article.numbers if not (skip_padded and _padded(n)))
    if numbers:
        out[NUMBERS] = dict.fromkeys(numbers, 1.0)
    if article.links:
        out[LINKS] = dict.fromkeys(sorted(article.links), 1.0)
    return out


def _padded(number: str) -> bool:
    return len(number) > 1 and number[0] == "0" and number[1].isdigit()


def _tf(count: float, binary: bool) -> float:
    if binary:
        return min(count, 1.0)
    return 1 + math.log(count) if count >= 1 else count


def _probes(vectors: dict[str, Vector], limit: int) -> list[tuple[str, list[tuple[str, float]]]]:
    """The heaviest ``limit`` keys of each space (by space, heaviest first), so that
    terms, whose weight is spread over many words, find candidates as well as names and
    numbers do."""
    return [(space, _heaviest(vectors[space], limit)) for space in sorted(vectors)]


def _by_weight(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


def _heaviest(vec: Mapping[str, float], limit: int) -> list[tuple[str, float]]:
    """``sorted(vec.items(), key=_by_weight)[:limit]``, without sorting all of a long
    vector: only the keys at least as heavy as the ``limit``-th heaviest weight can be
    among them (ties at that weight are then decided by key, as in the full sort)."""
    if len(vec) <= limit:
        return sorted(vec.items(), key=_by_weight)
    floor = heapq.nlargest(limit, vec.values())[-1]
    return sorted([kw for kw in vec.items() if kw[1] >= floor], key=_by_weight)[:limit]


def _top(vec: Mapping[str, float], limit: int) -> Vector:
    if len(vec) <= limit:
        return dict(vec)
    return dict(sorted(vec.items(), key=_by_weight)[:limit])


def _top_items(items: Mapping[str, Any], score, limit: int) -> list[tuple[str, Any]]:
    if len(items) <= limit:
        return list(items.items())
    return sorted(items.items(), key=lambda kv: (-score(kv[1]), kv[0]))[:limit]


def _prune(counts: dict[str, int], limit: int) -> dict[str, int]:
    """Forget the rarest keys until at most ``limit // 2`` remain (halving keeps pruning
    rare). A forgotten key counts as unseen, whose IDF differs little from a key seen in a
    handful of articles; without this the table would grow with every new name and link."""
    keep = limit // 2
    floor = 1
    while sum(1 for c in counts.values() if c > floor) > keep:
        floor += 1
    return {k: c for k, c in counts.items() if c > floor}


def _unit(vec: Vector) -> Vector:
    norm = math.sqrt(math.fsum(w * w for w in vec.values()))
    return {k: round(w / norm, DIGITS) for k, w in vec.items()} if norm > 0 else {}


def _dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """fsum is exact, so the result does not depend on the order of the shared keys
    (a set, whose order changes with the interpreter's string hashing)."""
    return math.fsum([a[k] * b[k] for k in a.keys() & b.keys()])


def _add(a: Mapping[str, float], b: Mapping[str, float]) -> Vector:
    out = dict(a)
    get = out.get
    for k, w in b.items():
        out[k] = round(get(k, 0.0) + w, DIGITS)
    return out


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _dump_story(story: _Story) -> dict[str, Any]:
    rep = story.rep
    assert rep is not None
    return {
        "id": story.id,
        "first": _iso(story.first),
        "last": _iso(story.last),
        "size": story.size,
        "langs": story.langs,
        "sums": story.sums,
        "names": {key: list(value) for key, value in story.names.items()},
        "phrases": story.phrases,
        # a one-article story's representative vectors are its sums: not stored twice
        "rep": {
            "id": rep.id,
            "lang": rep.lang,
            "vectors": None if rep.vectors == story.sums else rep.vectors,
        },
    }


def _load_story(raw: Mapping[str, Any]) -> _Story:
    sums = {space: dict(vec) for space, vec in raw["sums"].items()}
    rep = raw["rep"]
    vectors = {s: dict(v) for s, v in (rep["vectors"] or sums).items()}
    return _Story(
        id=int(raw["id"]),
        first=_parse(raw["first"]),
        last=_parse(raw["last"]),
        size=int(raw["size"]),
        langs=dict(raw["langs"]),
        sums=sums,
        names={k: (v[0], v[1]) for k, v in raw["names"].items()},
        phrases=dict(raw["phrases"]),
        rep=_Rep(int(rep["id"]), rep["lang"], vectors),
    )


def bcubed(predicted: Mapping[Any, Any], gold: Mapping[Any, Any]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering against gold labels.

    Both map item -> cluster label; only items present in both are scored. For each item,
    precision is the share of its predicted cluster that shares its gold label, recall the
    share of its gold cluster that shares its predicted cluster; both are averaged over
    items (Bagga and Baldwin 1998), and F1 is their harmonic mean.
    """
    items = [i for i in predicted if i in gold]
    if not items:
        return 0.0, 0.0, 0.0
    pred_sizes = _sizes(predicted[i] for i in items)
    gold_sizes = _sizes(gold[i] for i in items)
    both = _sizes((predicted[i], gold[i]) for i in items)
    precision = sum(both[(predicted[i], gold[i])] / pred_sizes[predicted[i]] for i in items)
    recall = sum(both[(predicted[i], gold[i])] / gold_sizes[gold[i]] for i in items)
    precision /= len(items)
    recall /= len(items)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _sizes(labels: Iterable[Any]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for label in labels:
        out[label] = out.get(label, 0) + 1
    return out
