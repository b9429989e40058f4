"""The clusterer's data: its tuning (:class:`ClusterConfig`), what it reports
(:class:`Assignment`, :class:`Story`) and the running state of one open story
(:class:`OpenStory` with its :class:`Representative`), which the other modules of the
package read and change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.process.stories.vectors import Vector

if TYPE_CHECKING:
    from pipeline.process.stories.rows import MemberKeys, MemberPieces


@dataclass(frozen=True)
class ClusterConfig:
    """Tuning knobs. Weights and thresholds were tuned on the ECB+ development topics
    (``bench/cluster_eval.py``); the results are stable within about ±0.02 of them."""

    window: timedelta = timedelta(days=7)  # stories idle this long close
    threshold: float = 0.16  # minimum similarity for an article to join a story
    # a story an article has grown takes in a one-article story at ``threshold`` (an
    # article that came before the story could take it), not at ``merge_threshold``
    singletons_join: bool = True
    # an article joins a one-article story only this similar (None: at ``threshold``): a
    # cosine between two single articles is noisier than one against a story's centroid,
    # and an early wrong pair snowballs (chosen by bench/cluster_cv.py over ECB+ dev
    # topics in file and shuffled orders, in 3 folds of 5; shuffled held-out F1 +0.006)
    pair_threshold: float | None = 0.25
    merge_threshold: float | None = 0.18  # two open stories this similar become one (None: never)
    # a young story whose members fall into two groups less alike than this, and than
    # ``split_ratio`` times the groups are inside, becomes two (None: never; see .split):
    # arrival order then matters less (bench/cluster_eval.py, ECB+ dev topics)
    split_threshold: float | None = 0.2
    split_ratio: float = 0.6
    split_min_part: int = 2  # a split leaves at least this many articles on each side
    # two young stories close enough to merge stay apart while their members are two
    # groups that a split would part again (see .split.apart)
    merge_guard: bool = True
    # a young story that reached a split check size and stayed whole and the young
    # stories among its candidates whose members are on average this alike to its own
    # become one when one of the two has at most ``gather_size`` articles (None: never;
    # see StoryClusterer._gather): fragments begun before the story could draw them in
    # (chosen by bench/cluster_cv.py over ECB+ dev topics in 5 folds, file and shuffled
    # orders: 0.15 in 4 of 5 folds, 5 in 4 of 5)
    gather_threshold: float | None = 0.15
    gather_size: int = 5
    # when a young story reaches a split check size, the members of it and of the young
    # stories near it are grouped again by average linkage, merging while groups are on
    # average this alike, unless two groups of 3 or more are apart as a split would part
    # them (None: never; see .regroup): the same members give the same stories whatever
    # order they came in (bench/cluster_cv.py over ECB+ dev topics in 5 folds: 0.15 in 3
    # and 0.14 in 2, regroup_small 3 in all 5; README, "Stories"). Never without a
    # ``merge_threshold``: regrouping merges stories
    regroup_threshold: float | None = 0.15
    regroup_small: int = 3  # and at every size from 2 up to this one (0: check sizes only)
    half_life: timedelta | None = timedelta(days=5)  # similarity halves per this much time apart
    term_weight: float = 1.0
    entity_weight: float = 1.5  # names carry the most weight: they tell same-kind events apart
    number_weight: float = 1.0
    link_weight: float = 1.0  # only counts when a link is shared
    # the bilingual lexicon's concepts between members of two languages: a bonus of at
    # most what names, numbers and links share (0: not used); see similarity.similarity
    lexicon_weight: float = 0.5  # 1.0 joined two layoffs (fixture articles.jsonl) on "Nederland"
    lexicon_cap: float = 1.0  # the bonus is at most this times what names, numbers, links give
    lexicon: str = "builtin"  # stories/data/lexicon.tsv, or the path of a TSV like it
    name_forms: str | None = "builtin"  # stories/data/names.tsv, a path, or None: keys as they are
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
class Assignment:
    """Where :meth:`StoryClusterer.add` put an article.

    ``similarity`` is the best similarity to any open story, whether or not it was high
    enough to join (0.0 when no candidate shared a key with the article). ``merged``
    lists open stories that this article bridged and that were folded into ``story_id``:
    the pipeline must move their articles to ``story_id``. ``moved`` lists ``(article
    id, story id)`` for the articles that a split of the article's story put into a new
    story (see :mod:`.split`; the article stays in ``story_id``). The pipeline applies
    ``merged`` first, then ``moved``.
    """

    story_id: int
    is_new: bool
    similarity: float
    merged: tuple[int, ...] = ()
    moved: tuple[tuple[int, int], ...] = ()


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
class Representative:
    """The story's representative article and its vectors (to re-check it as it grows)."""

    id: int
    lang: str
    vectors: dict[str, Vector]  # never changed once made
    # as a story's stored row holds it, vectors and all, once packed (see .rows)
    packed: bytes | None = field(default=None, compare=False, repr=False)


@dataclass
class OpenStory:
    """An open story as the clusterer keeps it: the sums of its members' unit vectors per
    feature space, its names and phrases (for the label), its representative, and the
    bookkeeping of the index (``indexed``, ``bucket``) and of the stored state
    (``member_keys``, ``pieces``). An article is compared as a one-member
    story of id 0."""

    id: int
    first: datetime | None
    last: datetime | None
    size: int = 0
    langs: dict[str, int] = field(default_factory=dict)
    sums: dict[str, Vector] = field(default_factory=dict)  # space -> sum of unit vectors
    # key -> (count, text): tuples of plain values, which the garbage collector skips
    names: dict[str, tuple[int, str]] = field(default_factory=dict)
    phrases: dict[str, int] = field(default_factory=dict)
    rep: Representative | None = None
    indexed: dict[str, Vector] = field(default_factory=dict)  # space -> the sums indexed
    bucket: int | None = None  # the time bucket the keys are indexed under
    # its articles as the one-article stories they came in as, while the story is young
    # (see .split); None: not kept (past the size, or stored by an earlier version)
    members: list[OpenStory] | None = field(default_factory=list)
    # the stored row's pieces kept between batches (see .rows): a story's members' keys,
    # and a member's own packed dump (a member never changes once made)
    member_keys: MemberKeys | None = field(default=None, compare=False, repr=False)
    pieces: MemberPieces | None = field(default=None, compare=False, repr=False)
    # space -> (the vector, its length), while the story holds that vector (see
    # similarity.length): derived, never stored or compared
    lengths: dict[str, tuple[Vector, float]] = field(
        default_factory=dict, compare=False, repr=False
    )
