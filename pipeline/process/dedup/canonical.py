"""Which copy of a group of near duplicates is shown: the canonical article, and the
decision for a newly processed one. Pure: the caller looks the stored articles up and
writes the decision."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.process.dedup.index import NearDuplicateIndex
from pipeline.process.dedup.signatures import Signature

_UNKNOWN_DATE = datetime(1970, 1, 1, tzinfo=UTC)  # only ever compared with itself


@dataclass(frozen=True)
class Candidate:
    """What dedup needs to know of a stored or arriving article.

    ``published``: the publication date, else first seen (aware, UTC). ``preferred``:
    the source is one the configuration prefers as the canonical version (say, the
    outlet that wrote the story rather than the aggregator). ``duplicate_of``: the
    canonical article this one duplicates, or None when it is canonical itself.
    """

    article_id: int
    published: datetime | None
    source: str = ""
    preferred: bool = False
    duplicate_of: int | None = None


def _canonical_order(candidate: Candidate) -> tuple[bool, bool, datetime, int]:
    return (
        not candidate.preferred,
        candidate.published is None,
        candidate.published or _UNKNOWN_DATE,
        candidate.article_id,
    )


def choose_canonical(candidates: Sequence[Candidate]) -> int:
    """The id of the article a group of near duplicates should show.

    One from a preferred source if there is any; among those (or among all, when none
    is preferred) the earliest published, an unknown date counting as latest; then the
    lowest id, which is the first stored. A total order, so the choice does not depend
    on the order in which the articles arrived.
    """
    if not candidates:
        raise ValueError("no candidates to choose from")
    return min(candidates, key=_canonical_order).article_id


@dataclass(frozen=True)
class DedupDecision:
    """What to record for a newly processed article.

    - ``duplicate_of``: the canonical article it duplicates (never itself a duplicate:
      chains stay one link long), or None.
    - ``replaces``: when the new article is a copy that should become the canonical one
      (a preferred source, or published earlier than the current canonical), the id of
      the canonical it takes over from. The caller then points that article and every
      article pointing at it to the new one. ``duplicate_of`` is None then.
    - ``similarity``: the estimated Jaccard with the closest match (0.0 when none), for
      logs and explanations.

    Neither set: the article is new, or already the canonical of its group.
    """

    duplicate_of: int | None = None
    replaces: int | None = None
    similarity: float = 0.0


def _canonical_of(info: Candidate, lookup: Callable[[int], Candidate]) -> Candidate:
    """Follow ``duplicate_of`` links to the canonical article (normally one step at most)."""
    seen = {info.article_id}
    while info.duplicate_of is not None and info.duplicate_of not in seen:
        info = lookup(info.duplicate_of)
        seen.add(info.article_id)
    return info


def duplicate_of(
    new: Candidate,
    sig: Signature | bytes,
    index: NearDuplicateIndex,
    info_lookup: Callable[[int], Candidate],
    *,
    max_gap: timedelta | None = None,
) -> DedupDecision:
    """Decide whether the article ``new`` duplicates an article already in ``index``.

    The closest match (highest estimated Jaccard, then lowest id) decides; its canonical
    article (``info_lookup`` gives each article's :class:`Candidate`, including its
    ``duplicate_of``) is the group's. Between that canonical and the new article,
    :func:`choose_canonical` picks the one to show: usually the existing one stays and
    the new article is its duplicate; if the new one wins (preferred source, or earlier
    publication date as when the originating outlet's feed is polled after the
    syndicator's), the decision says it replaces the old canonical. Applying the same
    order to every arrival makes the outcome independent of the crawl order.

    ``max_gap``: ignore matches published further apart than this, so that a recurring
    article built on one template (a daily market report, a weekly column's fixed
    intro) does not fold into last week's. None (default) compares the whole window.

    Read-only: the caller records the decision and then calls ``index.add`` for the new
    article. Running it again for an article already recorded gives a consistent answer
    (its own entry in the index is skipped; if it is its group's canonical, the decision
    is empty).
    """
    for article_id, score in index.find(sig):
        if article_id == new.article_id:
            continue
        match = info_lookup(article_id)
        if (
            max_gap is not None
            and match.published is not None
            and new.published is not None
            and abs(match.published - new.published) > max_gap
        ):
            continue
        canonical = _canonical_of(match, info_lookup)
        if canonical.article_id == new.article_id:
            return DedupDecision(similarity=score)  # re-run: the new one already leads
        if choose_canonical([canonical, new]) == new.article_id:
            return DedupDecision(replaces=canonical.article_id, similarity=score)
        return DedupDecision(duplicate_of=canonical.article_id, similarity=score)
    return DedupDecision()
