"""``article_analysis``: analysis results waiting for the sequential half of processing
(near duplicates and stories, in id order), and the marks of the articles whose
analysis failed.

The work queue analyses articles in parallel batch jobs; each job stores its batch's
results here in one transaction, and the one sequential job takes them in id order,
storing the processed articles with :meth:`AnalysisMixin.save_processed`, which drops
their results again (a failed analysis stays, as the article's mark). A result is of
the article as it was when analysed (``fingerprint``): one of an article that changed
since is stale. One-process ``trendwatch process`` keeps results in memory; it stores
only the failure marks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pipeline.store.connection import StoreBase
from pipeline.store.values import chunks, iso, typed_row


@dataclass(frozen=True, slots=True)
class StoredAnalysis:
    """One article's stored analysis: its result as JSON, or why it failed."""

    article_id: int
    fingerprint: str
    result: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class FailedAnalysis:
    """An article whose analysis failed, for the status."""

    article_id: int
    title: str
    error: str
    analysed_at: datetime


@dataclass(frozen=True)
class AnalysisOutcome:
    """What to store of one article's analysis: ``result`` (JSON), else ``error``."""

    article_id: int
    fingerprint: str
    result: str | None = None
    error: str | None = None


UPSERT = (
    "INSERT INTO article_analysis (article_id, fingerprint, result, error, analysed_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (article_id) DO UPDATE SET"
    " fingerprint = excluded.fingerprint, result = excluded.result,"
    " error = excluded.error, analysed_at = excluded.analysed_at"
)


def write_outcomes(db: StoreBase, outcomes: Iterable[AnalysisOutcome], now: datetime) -> None:
    """Upsert ``outcomes``, inside the caller's transaction."""
    db._many(
        UPSERT,
        [(o.article_id, o.fingerprint, o.result, o.error, iso(now)) for o in outcomes],
    )


class AnalysisResultsMixin(StoreBase):
    """Analysis results between the parallel and the sequential half of processing."""

    def save_analysis(self, outcomes: Sequence[AnalysisOutcome], now: datetime) -> int:
        """Store one analysed batch in one transaction; only the articles still waiting
        to be processed (one processed meanwhile needs none). The count stored."""
        with self.transaction():
            waiting: set[int] = set()
            for chunk, marks in chunks([o.article_id for o in outcomes]):
                rows = self._x(
                    f"SELECT id FROM articles WHERE id IN ({marks}) AND processed_at IS NULL",
                    chunk,
                ).fetchall()
                waiting.update(int(r[0]) for r in rows)
            kept = [o for o in outcomes if o.article_id in waiting]
            write_outcomes(self, kept, now)
        return len(kept)

    def stored_analysis(self, ids: Iterable[int]) -> dict[int, StoredAnalysis]:
        """The stored analysis of each of ``ids`` that has one, by article id."""
        found: dict[int, StoredAnalysis] = {}
        for chunk, marks in chunks(sorted(set(ids))):
            for row in self._rows(
                "SELECT article_id, fingerprint, result, error FROM article_analysis"
                f" WHERE article_id IN ({marks})",
                chunk,
            ):
                found[int(row["article_id"])] = typed_row(StoredAnalysis, row)
        return found

    def unanalysed_ids(self, limit: int = 100_000) -> list[int]:
        """Articles waiting to be processed that have no stored analysis, in id order."""
        rows = self._x(
            "SELECT a.id FROM articles a LEFT JOIN article_analysis r ON r.article_id = a.id"
            " WHERE a.processed_at IS NULL AND r.article_id IS NULL ORDER BY a.id LIMIT ?",
            [limit],
        ).fetchall()
        return [int(r[0]) for r in rows]

    def drop_analysis(self, ids: Iterable[int]) -> None:
        """Forget the stored analysis of ``ids`` (stale: the articles changed since)."""
        with self.transaction():
            for chunk, marks in chunks(sorted(set(ids))):
                self._x(f"DELETE FROM article_analysis WHERE article_id IN ({marks})", chunk)

    def failed_analyses(self, limit: int = 20) -> tuple[int, list[FailedAnalysis]]:
        """How many articles' analysis failed, and the latest ``limit`` of them."""
        count = int(
            self._x("SELECT count(*) FROM article_analysis WHERE error IS NOT NULL").fetchone()[0]
        )
        rows = self._rows(
            "SELECT r.article_id, a.title, r.error, r.analysed_at FROM article_analysis r"
            " JOIN articles a ON a.id = r.article_id WHERE r.error IS NOT NULL"
            " ORDER BY r.analysed_at DESC, r.article_id DESC LIMIT ?",
            [limit],
        )
        return count, [typed_row(FailedAnalysis, r) for r in rows]
