"""The NLP results: ``article_features`` (language, entities, keyphrases, MinHash),
duplicate and story links on articles, and ``save_processed``, which stores one processed
batch (with its matches, stories, the clusterer's state and the articles' rows of the
search index) in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pipeline.store.analysis_results import AnalysisOutcome, write_outcomes
from pipeline.store.article_rows import ArticleInfo, DedupCandidate, StoredFeatures
from pipeline.store.connection import StoreBase
from pipeline.store.matches import mark_processed, write_match_rows
from pipeline.store.prepared import text_of
from pipeline.store.rows import MatchRow, ProcessedArticle, StoryRow
from pipeline.store.search import index_articles
from pipeline.store.values import chunks, iso, typed_row


def set_duplicates(db: StoreBase, duplicate_of: dict[int, int | None]) -> None:
    """Set each article's canonical copy (None: it has none), inside the caller's
    transaction, writing only the rows where it changes: most articles are no copy and
    had none, and on SQLite (foreign keys on) a write of ``duplicate_of``, a key into its
    own table, rewrites every index of ``articles`` (about 45 µs a row), not just its
    own."""
    db._many(
        "UPDATE articles SET duplicate_of = NULL WHERE id = ? AND duplicate_of IS NOT NULL",
        [(i,) for i, canonical in duplicate_of.items() if canonical is None],
    )
    db._many(
        "UPDATE articles SET duplicate_of = ? WHERE id = ?"
        " AND (duplicate_of IS NULL OR duplicate_of <> ?)",
        [(c, i, c) for i, c in duplicate_of.items() if c is not None],
    )


class AnalysisMixin(StoreBase):
    """NLP results per article, written one batch at a time."""

    def save_processed(
        self,
        articles: Iterable[ProcessedArticle],
        *,
        matches: Iterable[MatchRow],
        progress: dict[str, int],
        stories: Iterable[StoryRow],
        state: dict[str, str | bytes],
        cluster_stories: tuple[dict[int, bytes], Iterable[int]] = ({}, ()),
        repoint: Iterable[tuple[int, int]] = (),
        merges: Iterable[tuple[int, int]] = (),
        moves: Iterable[tuple[int, int]] = (),
        failed: Iterable[AnalysisOutcome] = (),
        now: datetime,
    ) -> int:
        """Store one processed batch in one transaction: features (each article's
        ``text``, else made from its fields), duplicate and story links, watchlist
        matches (every watchlist was evaluated for these articles: ``matches`` are
        their hits, one row per article and watchlist, as
        :func:`~pipeline.store.prepared.match_row` makes them), the stories touched and
        the clusterer's state (its ``state`` rows, and ``cluster_stories``: the open
        stories to write, by id, and the ids of those to delete). ``merges`` (story,
        into) are applied before ``moves`` (article, story: a story split in two).
        ``failed``: the articles of the batch whose analysis failed, marked (kept in
        ``article_analysis``) and processed without features. The articles' stored
        analysis results are dropped. A crash part-way leaves the batch unprocessed, to
        be done again from the same state."""
        stories = list(stories)
        with self.transaction():
            self._many(
                "INSERT INTO stories (id, label, representative_id, first_seen, last_seen,"
                " size, updated) VALUES (?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
                " SET label = excluded.label, first_seen = excluded.first_seen,"
                " last_seen = excluded.last_seen, size = excluded.size,"
                " updated = excluded.updated",
                [
                    (story.id, story.label, iso(story.first), iso(story.last), story.size, iso(now))
                    for story in stories
                ],
            )
            articles = list(articles)
            ids = [a.id for a in articles]
            texts = [text_of(a) for a in articles]
            analysed = iso(now)
            self._many(
                "INSERT INTO article_features (article_id, language, entities,"
                " keyphrases, terms, numbers, links, minhash, analysed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (article_id) DO UPDATE SET"
                " language = excluded.language, entities = excluded.entities,"
                " keyphrases = excluded.keyphrases, terms = excluded.terms,"
                " numbers = excluded.numbers, links = excluded.links,"
                " minhash = excluded.minhash, analysed_at = excluded.analysed_at",
                [
                    (a.id, a.language, *text[:5], a.minhash, analysed)
                    for a, text in zip(articles, texts, strict=True)
                ],
            )
            # one write of each row for its story (None keeps it) and processed_at
            self._many(
                "UPDATE articles SET story_id = coalesce(?, story_id), processed_at = ?"
                " WHERE id = ?",
                [(a.story_id, analysed, a.id) for a in articles],
            )
            set_duplicates(self, {a.id: a.duplicate_of for a in articles})
            # full-text search: title, text, lemmas
            index_articles(
                self, [(a.id, a.language, t.lemmas) for a, t in zip(articles, texts, strict=True)]
            )
            for old, new in merges:  # two stories turned out to be one
                self._x("UPDATE articles SET story_id = ? WHERE story_id = ?", [new, old])
                self._x("DELETE FROM stories WHERE id = ?", [old])
            self._many(  # in order: an article may move twice
                "UPDATE articles SET story_id = ? WHERE id = ?", [(s, a) for a, s in moves]
            )
            for old, new in repoint:  # a better canonical copy arrived
                self._x(
                    "UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ? OR id = ?",
                    [new, old, old],
                )
                self._x("UPDATE articles SET duplicate_of = NULL WHERE id = ?", [new])
            # representatives last: they may be articles of this very batch
            self._many(
                "UPDATE stories SET representative_id = ? WHERE id = ?",
                [(story.representative_id, story.id) for story in stories],
            )
            # every watchlist was evaluated for these articles: clear theirs, store the hits
            for chunk, marks in chunks(ids):
                self._x(f"DELETE FROM matches WHERE article_id IN ({marks})", chunk)
            count = write_match_rows(self, matches, now)
            for chunk, marks in chunks(ids):
                self._x(f"DELETE FROM article_analysis WHERE article_id IN ({marks})", chunk)
            failed = list(failed)
            write_outcomes(self, failed, now)
            # (the analysed articles were marked with their story)
            mark_processed(self, [f.article_id for f in failed], progress, now)
            for key, value in state.items():
                self._x(self.dialect.STATE_UPSERT, self.dialect.state_params(key, value))
            changed, removed = cluster_stories
            self._many("DELETE FROM cluster_stories WHERE id = ?", [(i,) for i in removed])
            self._many(
                "INSERT INTO cluster_stories (id, state) VALUES (?, ?) ON CONFLICT (id)"
                " DO UPDATE SET state = excluded.state",
                list(changed.items()),
            )
        return count

    def dedup_candidates(self, since: datetime) -> list[DedupCandidate]:
        """Processed articles first seen since ``since`` with their MinHash signature,
        oldest first, for the near-duplicate index."""
        rows = self._rows(
            "SELECT a.id, a.duplicate_of, a.story_id, coalesce(a.published, a.fetched) AS date,"
            " s.name AS source_name, f.minhash FROM articles a"
            " JOIN article_features f ON f.article_id = a.id JOIN sources s ON s.id = a.source_id"
            " WHERE a.fetched >= ? AND f.minhash IS NOT NULL ORDER BY a.id",
            [iso(since)],
        )
        return [typed_row(DedupCandidate, r) for r in rows]

    def article_infos(self, ids: Iterable[int]) -> list[ArticleInfo]:
        """Date, source and duplicate-of of the given articles (no signature)."""
        wanted = sorted(set(ids))
        rows: list[dict] = []
        for chunk, marks in chunks(wanted):
            rows += self._rows(
                "SELECT a.id, a.duplicate_of, coalesce(a.published, a.fetched) AS date,"
                " s.name AS source_name FROM articles a JOIN sources s ON s.id = a.source_id"
                f" WHERE a.id IN ({marks})",
                chunk,
            )
        return [typed_row(ArticleInfo, r) for r in rows]

    def features(self, article_id: int) -> StoredFeatures | None:
        row = self._one("SELECT * FROM article_features WHERE article_id = ?", [article_id])
        return typed_row(StoredFeatures, row) if row else None

    def reset_processing(self) -> int:
        """Forget every NLP result so ``process`` starts again from the first article."""
        with self.transaction():
            self._x("UPDATE articles SET processed_at = NULL, duplicate_of = NULL, story_id = NULL")
            for table in (
                "article_analysis",
                "article_features",
                "matches",
                "stories",
                "state",
                "cluster_stories",
                "trends",
            ):
                self._x(f"DELETE FROM {table}")
            self._x("UPDATE watchlists SET matched_through = 0")
        # every article is to be processed again
        return int(self._x("SELECT count(*) FROM articles").fetchone()[0])
