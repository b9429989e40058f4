"""What a watchlist query would match among recent articles: the watchlist editor's
live preview.

Pure and in memory. :class:`PreviewIndex` holds the words of recent articles as
matching compares them (:func:`pipeline.process.watchlists.matching.word_keys`: each
word's folded form and lemma, in the article's language), interned to integers in
numpy arrays, one pair of arrays per field (title, body) and per batch of articles of
one language, with a separator between articles. A query is parsed once
(:func:`~pipeline.process.watchlists.query.parse_query`) and evaluated over the whole
index at once: a term is a comparison over the arrays, a phrase the same comparisons
shifted by one word each, AND/OR/NOT are operations on one boolean per article. The
answer is the one :class:`~pipeline.process.watchlists.matching.CompiledQuery` gives
article by article (tests/web/test_admin_preview.py compares them); why an article
matched (the words as they stand, where, a snippet) is then worked out by
``CompiledQuery`` for the few articles shown.

An article added again (processed again after a change) replaces its earlier version.
:func:`weekly_counts` counts matches per ISO week in the schedule's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pipeline.process.watchlists.matching import fold, lemma, lower, word_keys
from pipeline.process.watchlists.query import And, Lang, Node, Not, Or, Site, Term

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Mask = npt.NDArray[np.bool_]

WINDOW = timedelta(days=30)  # how far back the preview looks
_GAP = -1  # between two articles' words: a phrase never spans two articles
_UNKNOWN = -2  # a query word no article has


@dataclass(frozen=True, slots=True)
class PreviewDoc:
    """An article as the preview indexes it (as ``MatchDoc.build`` sees it)."""

    id: int
    title: str
    text: str
    url: str | None
    language: str  # the analysis's, else the feed's, else "und" (as the process job)
    date: datetime  # publication, else first seen (aware)


@dataclass(frozen=True, slots=True)
class WeekCount:
    year: int  # ISO year and week
    week: int
    start: datetime  # its Monday, 00:00 in the time zone asked for
    count: int


@dataclass(frozen=True, slots=True)
class PreviewResult:
    """What a query matches in [since, until): the articles (id, date), newest first,
    and how many articles it looked at."""

    matches: tuple[tuple[int, datetime], ...]
    searched: int


class _Field:
    """One field of a batch of articles of one language: every word's folded form and
    lemma as integers, a gap after each article, and where each article starts."""

    __slots__ = ("docs", "folds", "lemmas", "starts")

    def __init__(self, docs: list[int], keys: list[list[tuple[int, int]]]) -> None:
        import numpy as np

        starts, folds, lemmas = [], [], []
        for words in keys:
            starts.append(len(folds))
            folds.extend(f for f, _ in words)
            lemmas.extend(m for _, m in words)
            folds.append(_GAP)
            lemmas.append(_GAP)
        self.docs = np.array(docs, dtype=np.int64)
        self.starts = np.array(starts, dtype=np.int64)
        self.folds = np.array(folds, dtype=np.int32)
        self.lemmas = np.array(lemmas, dtype=np.int32)

    @classmethod
    def joined(cls, parts: Sequence[_Field]) -> _Field:
        """One field holding the articles of ``parts``, in order."""
        import numpy as np

        joined = cls([], [])
        offsets = np.cumsum([0] + [len(p.folds) for p in parts[:-1]])
        joined.docs = np.concatenate([p.docs for p in parts])
        joined.starts = np.concatenate([p.starts + o for p, o in zip(parts, offsets, strict=True)])
        joined.folds = np.concatenate([p.folds for p in parts])
        joined.lemmas = np.concatenate([p.lemmas for p in parts])
        return joined

    def where(self, words: Sequence[tuple[int, int]]) -> npt.NDArray[np.int64]:
        """The articles (global indexes) in which the words stand one after the other;
        a word is (folded form, lemma) ids and matches a word with either as either."""
        import numpy as np

        folds, lemmas = self.folds, self.lemmas
        f, m = words[0]
        hit = (folds == f) | (lemmas == f)
        if m != f:
            hit |= (folds == m) | (lemmas == m)
        at = np.flatnonzero(hit)
        for k, (f, m) in enumerate(words[1:], 1):  # the next words, where the first is
            at = at[at + k < len(folds)]
            nf, nl = folds[at + k], lemmas[at + k]
            at = at[(nf == f) | (nl == f) | (nf == m) | (nl == m)]
        return np.unique(self.docs[np.searchsorted(self.starts, at, side="right") - 1])


class _Batch:
    __slots__ = ("body", "language", "title")

    def __init__(self, language: str, title: _Field, body: _Field) -> None:
        self.language = language
        self.title = title
        self.body = body


class PreviewIndex:
    """Recent articles, ready for previews (see the module docstring)."""

    def __init__(self) -> None:
        self._keys: dict[str, int] = {}
        self._batches: list[_Batch] = []
        self._ids: list[int] = []  # index -> article id
        self._stamps: list[float] = []  # index -> date (POSIX seconds)
        self._dates: list[datetime] = []
        self._langs: list[str] = []
        self._domains: list[str] = []
        self._dead: set[int] = set()  # indexes replaced by a later version
        self._where: dict[int, int] = {}  # article id -> its index now

    def __len__(self) -> int:
        return len(self._ids) - len(self._dead)

    @property
    def size(self) -> int:
        """Every version held, replaced ones too (a reason to build anew)."""
        return len(self._ids)

    def __contains__(self, article_id: int) -> bool:
        return article_id in self._where

    def _intern(self, key: str) -> int:
        found = self._keys.get(key)
        if found is None:
            found = self._keys[key] = len(self._keys)
        return found

    def _ids_of(self, text: str, language: str) -> list[tuple[int, int]]:
        intern = self._intern
        return [(intern(f), intern(m)) for f, m in word_keys(text, language)[1]]

    def add(self, docs: Iterable[PreviewDoc]) -> int:
        """Index ``docs`` (an article seen before replaces its earlier version); how
        many were added."""
        by_language: dict[str, list[tuple[int, PreviewDoc]]] = {}
        for doc in docs:
            language = (doc.language or "").lower()
            earlier = self._where.get(doc.id)
            if earlier is not None:
                self._dead.add(earlier)
            index = len(self._ids)
            self._where[doc.id] = index
            self._ids.append(doc.id)
            self._stamps.append(doc.date.timestamp())
            self._dates.append(doc.date)
            self._langs.append(language)
            host = (urlsplit(doc.url).hostname or "") if doc.url else ""
            self._domains.append(host.lower())
            by_language.setdefault(language, []).append((index, doc))
        for language, items in by_language.items():
            indexes = [i for i, _ in items]
            fields = []
            for part in ("title", "text"):
                keys = [self._ids_of(getattr(d, part), language) for _, d in items]
                fields.append(_Field(indexes, keys))
            self._batches.append(_Batch(language, fields[0], fields[1]))
        return sum(len(items) for items in by_language.values())

    # --- evaluation ------------------------------------------------------------------

    def compact(self) -> None:
        """One batch per language: fewer, larger arrays to compare."""
        by_language: dict[str, list[_Batch]] = {}
        for batch in self._batches:
            by_language.setdefault(batch.language, []).append(batch)
        if all(len(group) == 1 for group in by_language.values()):
            return
        self._batches = [
            group[0]
            if len(group) == 1
            else _Batch(
                language,
                _Field.joined([b.title for b in group]),
                _Field.joined([b.body for b in group]),
            )
            for language, group in by_language.items()
        ]

    def match(self, tree: Node, since: datetime, until: datetime) -> PreviewResult:
        """The articles dated in [since, until) that the parsed query ``tree`` matches."""
        import numpy as np

        self.compact()
        n = len(self._ids)
        stamps = np.array(self._stamps, dtype=np.float64)
        alive = np.ones(n, dtype=np.bool_)
        if self._dead:
            alive[list(self._dead)] = False
        window = alive & (stamps >= since.timestamp()) & (stamps < until.timestamp())
        if not window.any():
            return PreviewResult((), 0)
        found = self._eval(tree, window) & window
        indexes = np.flatnonzero(found)
        order = indexes[np.argsort(-stamps[indexes], kind="stable")]
        return PreviewResult(
            tuple((self._ids[i], self._dates[i]) for i in order.tolist()),
            int(window.sum()),
        )

    def _eval(self, node: Node, window: Mask) -> Mask:
        import numpy as np

        if isinstance(node, Term):
            return self._term(node, len(window))
        if isinstance(node, And):
            out = np.ones(len(window), dtype=np.bool_)
            for part in node.nodes:
                out &= self._eval(part, window)
                if not (out & window).any():
                    break
            return out
        if isinstance(node, Or):
            out = np.zeros(len(window), dtype=np.bool_)
            for part in node.nodes:
                out |= self._eval(part, window)
            return out
        if isinstance(node, Not):
            return ~self._eval(node.node, window)
        if isinstance(node, Site):
            dotted = "." + node.domain
            return np.array(
                [d == node.domain or d.endswith(dotted) for d in self._domains], dtype=np.bool_
            )
        if isinstance(node, Lang):
            return np.array([lang == node.code for lang in self._langs], dtype=np.bool_)
        raise TypeError(node)

    def _term(self, term: Term, n: int) -> Mask:
        import numpy as np

        out = np.zeros(n, dtype=np.bool_)
        for batch in self._batches:
            words = [self._word(w, batch.language) for w in term.words]
            if any(w == (_UNKNOWN, _UNKNOWN) for w in words):
                continue
            fields = (batch.title,) if term.in_title else (batch.title, batch.body)
            for fld in fields:
                out[fld.where(words)] = True
        return out

    def _word(self, word: str, language: str) -> tuple[int, int]:
        """A query word's (folded form, lemma) ids in ``language``, as matching has them."""
        keys = self._keys
        return (
            keys.get(fold(word), _UNKNOWN),
            keys.get(lemma(lower(word), language), _UNKNOWN),
        )


def weekly_counts(
    dates: Iterable[datetime], since: datetime, until: datetime, timezone: str
) -> list[WeekCount]:
    """The number of ``dates`` in each ISO week (in ``timezone``) that [since, until)
    touches, oldest first, weeks without any included."""
    zone = ZoneInfo(timezone)
    counts: dict[tuple[int, int], int] = {}
    for moment in dates:
        year, week, _ = moment.astimezone(zone).isocalendar()
        counts[(year, week)] = counts.get((year, week), 0) + 1
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        year, week, _ = monday.isocalendar()
        start = datetime.combine(monday, time(), tzinfo=zone)
        weeks.append(WeekCount(year, week, start, counts.get((year, week), 0)))
        monday += timedelta(days=7)
    return weeks


def highlight(text: str, words: Iterable[str]) -> list[tuple[str, bool]]:
    """``text`` in pieces, each with whether it is one of ``words`` (as the matcher
    reports them: as they stand in the text; compared ignoring case), for a page to
    mark; the pieces join up to ``text``."""
    wanted = sorted({w for w in words if w.strip()}, key=len, reverse=True)
    if not wanted or not text:
        return [(text, False)] if text else []
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(w) for w in wanted) + r")(?!\w)", re.IGNORECASE
    )
    pieces: list[tuple[str, bool]] = []
    at = 0
    for found in pattern.finditer(text):
        if found.start() > at:
            pieces.append((text[at : found.start()], False))
        pieces.append((found.group(0), True))
        at = found.end()
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces
