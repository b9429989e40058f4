"""Trend statistics: what rose this week, what is new, which stories grew.

Pure functions over per-week document frequencies; no I/O. The pipeline builds one
:class:`WeekCounts` per ISO week and scope (one watchlist, or everything) from the stored
per-article lemmas, keyphrases and entity keys, calls :func:`rising`, :func:`new_entities`
and :func:`story_sizes`, and stores the results (:meth:`Trend.as_dict`) per week, so the
digest and the archive show "rising this week" with the numbers behind it.

Counts are *document* frequencies (how many articles mention a term at all), not token
counts: one article that repeats a word twenty times is one piece of evidence, not twenty.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

KINDS = ("term", "entity")
HISTORY_WEEKS = 4  # the baseline: this many weeks before the current one, pooled
# Chi-square critical value for p < 0.01 at one degree of freedom. G² is asymptotically
# chi-square distributed, so a score below this is what chance alone produces often.
MIN_SCORE = 6.63
SMOOTHING = 1.0  # add-k for the displayed ratio

_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")


# --- weeks -----------------------------------------------------------------------------


def week_key(moment: datetime | date, tz: str | tzinfo | None = None) -> str:
    """The ISO week ``moment`` falls in, as "2026-W48".

    With ``tz`` the moment is first converted to that zone: weeks end at local midnight,
    so an article stored as Sunday 23:30 UTC belongs to the next week in Amsterdam. A
    naive datetime cannot be converted reliably (Python would assume the machine's zone),
    so it is refused when ``tz`` is given; a date, or a datetime without ``tz``, is taken
    as it stands.
    """
    if isinstance(moment, datetime) and tz is not None:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("week_key needs an aware datetime when a time zone is given")
        moment = moment.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)
    year, week, _ = moment.isocalendar()
    return f"{year:04d}-W{week:02d}"


def parse_week(key: str) -> tuple[int, int]:
    """ "2026-W48" -> (2026, 48); a malformed key or a week the year lacks is a ValueError."""
    m = _WEEK_KEY.match(key)
    if not m:
        raise ValueError(f"not an ISO week key like '2026-W48': {key!r}")
    year, week = int(m.group(1)), int(m.group(2))
    date.fromisocalendar(year, week, 1)  # raises for W00, W54, or W53 in a 52-week year
    return year, week


def week_start(key: str) -> date:
    """The Monday of the ISO week ``key``."""
    year, week = parse_week(key)
    return date.fromisocalendar(year, week, 1)


def week_bounds(key: str, tz: str | tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the ISO week ``key`` as aware datetimes: Monday 00:00 to the next
    Monday 00:00 in ``tz``. Compare them with stored UTC times after ``astimezone``."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    monday = week_start(key)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return start, end


def previous_weeks(key: str, n: int = HISTORY_WEEKS) -> list[str]:
    """The ``n`` ISO weeks before ``key``, most recent first.

    Stepping back from a Monday by whole weeks and asking the calendar for the ISO week
    handles year boundaries, including years with 53 ISO weeks (2020, 2026): "2021-W01"
    goes back to "2020-W53", "2027-W01" to "2026-W53", "2026-W01" to "2025-W52".
    """
    if n < 0:
        raise ValueError("n must not be negative")
    monday = week_start(key)
    return [week_key(monday - timedelta(weeks=i)) for i in range(1, n + 1)]


# --- data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekCounts:
    """Document frequencies of one week in one scope.

    ``docs`` is the number of articles in the week; ``counts`` maps a term (or entity
    key) to the number of those articles that contain it, so every count lies in
    0..docs. Inconsistent input is refused rather than silently producing nonsense ratios.
    """

    week: str  # ISO week key, "2026-W48"
    docs: int
    counts: Mapping[str, int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        parse_week(self.week)
        if self.docs < 0:
            raise ValueError(f"{self.week}: docs must not be negative")
        for term, n in self.counts.items():
            if not 0 <= n <= self.docs:
                raise ValueError(f"{self.week}: count {n} for {term!r} outside 0..{self.docs}")

    @classmethod
    def from_documents(cls, week: str, documents: Iterable[Iterable[str]]) -> WeekCounts:
        """Count each term once per document: ``documents`` yields each article's terms."""
        return cls.from_sets(week, [set(terms) for terms in documents])

    @classmethod
    def from_sets(cls, week: str, documents: Sequence[Set[str]]) -> WeekCounts:
        """:meth:`from_documents` of documents whose terms are sets already."""
        return cls(week=week, docs=len(documents), counts=Counter(chain.from_iterable(documents)))

    def count(self, term: str) -> int:
        return self.counts.get(term, 0)


@dataclass(frozen=True)
class Trend:
    """One term or entity that stands out this week, with the numbers behind it."""

    term: str  # the lemma, keyphrase or entity key
    kind: str  # "term" or "entity"
    count: int  # articles this week that contain it
    docs: int  # articles this week
    expected: float  # its baseline count scaled to this week's docs
    ratio: float  # smoothed (count + k) / (expected + k): "3× more than usual"
    score: float  # signed Dunning G²; 0.0 when there is no baseline to compare with
    new: bool  # absent from the baseline (rising) / never seen before (new_entities)
    baseline: int = 0  # articles in the baseline weeks that contain it
    baseline_docs: int = 0  # articles in the baseline weeks

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data for the store; :meth:`from_dict` reads it back."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trend:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class StorySize:
    """One story cluster's size: how many articles joined it this week, and in all."""

    story_id: int | str
    label: str  # the story's headline or label, for display
    this_week: int  # articles added to the story this week
    total: int  # articles in the story up to and including this week
    first_seen: datetime | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.this_week <= self.total:
            raise ValueError(f"story {self.story_id}: need 0 <= this_week <= total")

    @property
    def before(self) -> int:
        """Articles the story had before this week."""
        return self.total - self.this_week

    @property
    def new(self) -> bool:
        """The story started this week."""
        return self.before == 0

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["first_seen"] = self.first_seen.isoformat() if self.first_seen else None
        data["new"] = self.new
        return data


# --- statistics ----------------------------------------------------------------------------


def _xlogx(x: float) -> float:
    return x * math.log(x) if x > 0 else 0.0


def log_likelihood(count: int, docs: int, baseline: int, baseline_docs: int) -> float:
    """Dunning's G² for a 2×2 table, signed: positive when the term is relatively more
    frequent this week (count/docs) than in the baseline (baseline/baseline_docs).

    Rows are the two periods, columns "contains the term" / "does not". G² = 2·Σ O·ln(O/E)
    over the four cells; written with x·ln x terms so empty cells need no special case.
    With no documents on either side there is no comparison and the result is 0.0.

    Why G² and not a difference of counts: a raw difference ranks frequent words first
    (60 vs 50 beats 8 vs 1) and ignores how many articles there were. A z-score on
    proportions assumes normality, which fails for the small counts that matter most here
    (a name going from 0 or 1 to 8). G² is a likelihood-ratio test that stays reliable for
    small counts (Dunning 1993), compares rates rather than counts, and so lets a rare term
    with a sharp jump outrank a common one with a modest rise only when the evidence says so.
    """
    a, b = count, baseline
    c, d = docs - count, baseline_docs - baseline
    n = docs + baseline_docs
    if docs == 0 or baseline_docs == 0:
        return 0.0
    g2 = 2.0 * (
        _xlogx(a)
        + _xlogx(b)
        + _xlogx(c)
        + _xlogx(d)
        - _xlogx(docs)
        - _xlogx(baseline_docs)
        - _xlogx(a + b)
        - _xlogx(c + d)
        + _xlogx(n)
    )
    g2 = max(g2, 0.0)  # rounding can leave -1e-15 for identical rates
    # The sign compares the rates exactly, in integers: a/docs vs b/baseline_docs.
    lhs, rhs = a * baseline_docs, b * docs
    return g2 if lhs > rhs else -g2 if lhs < rhs else 0.0


def _smoothed_ratio(count: int, expected: float, k: float) -> float:
    """(count + k) / (expected + k): finite for terms never seen before, and damped for
    small counts, so 2 articles against an expected 0.25 reads 2.4×, not 8×."""
    return (count + k) / (expected + k)


def _trend(
    term: str,
    kind: str,
    current: WeekCounts,
    baseline: int,
    baseline_docs: int,
    smoothing: float,
    score: float | None = None,
) -> Trend:
    """``score``: its :func:`log_likelihood`, when the caller has it already."""
    count = current.count(term)
    expected = baseline * current.docs / baseline_docs if baseline_docs else 0.0
    if score is None:
        score = log_likelihood(count, current.docs, baseline, baseline_docs)
    return Trend(
        term=term,
        kind=kind,
        count=count,
        docs=current.docs,
        expected=expected,
        ratio=_smoothed_ratio(count, expected, smoothing),
        score=score,
        new=baseline == 0,
        baseline=baseline,
        baseline_docs=baseline_docs,
    )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")


def rising(
    current: WeekCounts,
    history: Sequence[WeekCounts],
    *,
    kind: str,
    min_count: int = 3,
    limit: int | None = 20,
    min_score: float = MIN_SCORE,
    smoothing: float = SMOOTHING,
) -> list[Trend]:
    """Terms (or entities) over-represented this week compared with ``history`` pooled.

    ``history`` is the baseline, normally the weeks of :func:`previous_weeks` (missing
    weeks may be left out or given with zero documents). Each term with at least
    ``min_count`` articles this week is scored with signed G² (:func:`log_likelihood`);
    only terms whose rate rose and whose score reaches ``min_score`` are kept, highest
    score first, ties broken by count (higher first) and then by term, so the order never
    depends on dict order. ``min_count`` drops one-off noise that G² alone might let
    through in a quiet week.

    Without any baseline documents (the first week of a new install or watchlist) no
    statistic exists: every term reaching ``min_count`` comes back with ``new=True`` and
    ``score=0.0``, most frequent first, and ``min_score`` does not apply. Callers that
    only want "rising" with evidence keep ``score > 0``.
    """
    _check_kind(kind)
    if any(week.week == current.week for week in history):
        raise ValueError(f"history must not contain the current week {current.week}")
    if current.docs == 0:
        return []
    # the history pooled, for the terms that may rise only: summing every week's
    # counts of every term costs more than the rest put together
    baseline_docs = sum(week.docs for week in history)
    past = [week.counts for week in history]
    kept = []  # (-score, -count, term, baseline): the order of the result, terms unique
    for term, count in current.counts.items():
        if count < min_count:
            continue
        baseline = sum(counts.get(term, 0) for counts in past)
        if baseline_docs and count * baseline_docs <= baseline * current.docs:
            continue  # fell or flat: log_likelihood's sign, without computing the rest
        score = log_likelihood(count, current.docs, baseline, baseline_docs)
        if baseline_docs and (score <= 0.0 or score < min_score):
            continue  # fell, flat, or not enough evidence
        kept.append((-score, -count, term, baseline))
    best = sorted(kept) if limit is None else heapq.nsmallest(limit, kept)
    return [
        _trend(term, kind, current, baseline, baseline_docs, smoothing, -negative)
        for negative, _, term, baseline in best
    ]


def new_entities(
    current: WeekCounts,
    seen_before: Container[str] | Callable[[str], bool],
    *,
    min_count: int = 2,
    limit: int | None = None,
    smoothing: float = SMOOTHING,
) -> list[Trend]:
    """Entities in at least ``min_count`` articles this week that never appeared before.

    ``seen_before`` is the set of entity keys seen in any earlier week (or a predicate, for
    a store lookup). It must not include this week, or nothing would ever be new. Unlike
    ``rising(...).new``, which only means "absent from the last weeks", this is "never":
    a name that went quiet for two months and came back is rising, not new.

    There is no baseline rate for something never seen, so ``score`` is 0.0, ``expected``
    0.0 and ``ratio`` the smoothed count + k over k. Most frequent first, then by key.
    Note that in the first week of a fresh database everything is new; callers may want
    to skip this until there is history.
    """
    known = seen_before if callable(seen_before) else seen_before.__contains__
    kept = [
        (-count, term)
        for term, count in current.counts.items()
        if count >= min_count and not known(term)
    ]
    best = sorted(kept) if limit is None else heapq.nsmallest(limit, kept)
    return [_trend(term, "entity", current, 0, 0, smoothing) for _, term in best]


def story_sizes(
    stories: Iterable[StorySize], *, min_this_week: int = 1, limit: int | None = None
) -> list[StorySize]:
    """Stories that grew this week, most articles added first.

    Growth is the number of articles added this week, not a percentage: a story going
    from 1 to 3 articles is not bigger news than one going from 40 to 55. Ties go to the
    bigger story, then by label and id so the order is stable.
    """
    grown = [s for s in stories if s.this_week >= min_this_week]
    grown.sort(key=lambda s: (-s.this_week, -s.total, s.label, str(s.story_id)))
    return grown if limit is None else grown[:limit]
