"""The process job in two stages (the work queue's way, here in one process on SQLite):
analysis batches in any order, then the sequential half in id order, give exactly what
one ``trendwatch process`` run gives; nothing is clustered before every article before
it is analysed; an article whose analysis fails is marked, shown and blocks nothing; a
result of an article that changed since is not used."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline import jsonl
from pipeline.process import batch as process_batch
from pipeline.process import job as process_job
from pipeline.process.batch import Analysed, Failed, analyse_or_fail, article_input, worker_config
from pipeline.process.staged import analyse_batch, process_analysed, ready_prefix
from pipeline.process.stored_analysis import decode, encode, fingerprint
from pipeline.queue.decide import analysis_batch_lock, analysis_batches
from pipeline.status import status_data
from pipeline.store import Store, StoredAnalysis
from postgres_support import query
from tests.pipeline.queue import process_corpus

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CONFIG = process_corpus.CONFIG.replace('data_dir = "data"\n', "")


def _store(tmp_path: Path, name: str) -> Store:
    process_corpus.write(tmp_path / "corpus")
    store = Store(tmp_path / f"{name}.db")
    jsonl.import_jsonl(store, tmp_path / "corpus" / "in.jsonl", now=NOW)
    return store


def outcome(store: Store) -> dict[str, Any]:
    """Everything processing decides: every article's features, duplicate and story,
    the stories, the matches, the clusterer's state and the trends."""
    return {
        "export": list(jsonl.iter_export(store.export_rows())),
        "stories": query(
            store,
            "SELECT id, label, representative_id, first_seen, last_seen, size FROM stories"
            " ORDER BY id",
        ),
        "matches": query(
            store, "SELECT article_id, watchlist, terms, location, snippet FROM matches"
            " ORDER BY article_id, watchlist",
        ),
        "state": query(store, "SELECT key, value FROM state ORDER BY key"),
        "open": query(store, "SELECT id, state FROM cluster_stories ORDER BY id"),
        "trends": query(store, "SELECT * FROM trends ORDER BY 1, 2, 3"),
    }  # fmt: skip


def _one_process(settings: Any, tmp_path: Path) -> dict[str, Any]:
    """The :func:`outcome` of one ``trendwatch process`` run over the corpus at NOW."""
    with _store(tmp_path, "alone") as alone:
        process_job.process(settings, alone, now=NOW)
        return outcome(alone)


def test_batches_in_any_order_then_id_order_give_what_one_process_gives(
    make_settings, tmp_path: Path
) -> None:
    settings = make_settings(CONFIG)
    expected = _one_process(settings, tmp_path)
    with _store(tmp_path, "staged") as store:
        ids = store.unanalysed_ids()
        batches = analysis_batches(ids, set(), 5)
        assert len(batches) == 8 and [i for b in batches for i in b] == ids
        # the later batches first: nothing can be clustered while the first waits
        for ids_ in reversed(batches[1:]):
            assert analyse_batch(settings, store, ids_, now=NOW) == len(ids_)
        assert store.unanalysed_ids() == batches[0]
        assert process_analysed(settings, store, now=NOW).articles == 0
        assert store.unprocessed_count() == len(ids)
        # a batch done twice (deferred again, retried) analyses nothing the second time
        assert analyse_batch(settings, store, batches[3], now=NOW) == 0
        assert analyse_batch(settings, store, batches[0], now=NOW) == len(batches[0])
        report = process_analysed(settings, store, now=NOW)
        assert report.articles == len(ids) and store.unprocessed_count() == 0
        assert query(store, "SELECT count(*) FROM article_analysis") == [(0,)]
        assert outcome(store) == expected
    assert expected["stories"] and any(r["duplicate_of"] for r in expected["export"])


@pytest.mark.parametrize("first", [8, 13, 20])
def test_the_sequential_half_in_two_jobs_stores_the_state_one_process_stores(
    make_settings, tmp_path: Path, first: int
) -> None:
    """As the work queue runs it: the first articles analysed and processed by one
    job, the rest by the next (which reloads the clusterer's state). Everything, the
    clusterer's stored state too, byte for byte, equals one ``trendwatch process`` run
    at the same ``now``. (A reloaded story's members once came back with their keys
    sorted, and the story's sums rebuilt from them stored their keys in another order.)"""
    settings = make_settings(CONFIG)
    expected = _one_process(settings, tmp_path)
    with _store(tmp_path, "two") as store:
        ids = store.unanalysed_ids()
        analyse_batch(settings, store, ids[:first], now=NOW)
        assert process_analysed(settings, store, now=NOW).articles == first
        analyse_batch(settings, store, ids[first:], now=NOW)
        assert process_analysed(settings, store, now=NOW).articles == len(ids) - first
        assert outcome(store) == expected
    assert len(expected["open"]) > 1


def test_the_sequential_half_stops_at_the_first_article_not_analysed(
    make_settings, tmp_path: Path
) -> None:
    settings = make_settings(CONFIG)
    with _store(tmp_path, "gap") as store:
        ids = store.unanalysed_ids()
        analyse_batch(settings, store, ids[:10], now=NOW)
        analyse_batch(settings, store, ids[12:], now=NOW)
        assert process_analysed(settings, store, now=NOW).articles == 10
        assert store.unanalysed_ids() == ids[10:12]
        waiting = query(store, "SELECT id FROM articles WHERE processed_at IS NULL ORDER BY id")
        assert [r[0] for r in waiting] == ids[10:]


def test_the_stored_analysis_reads_back_equal(make_settings, tmp_path: Path) -> None:
    settings = make_settings(CONFIG)
    with _store(tmp_path, "codec") as store:
        inputs = [article_input(r) for r in store.articles_to_process(40)]
    results = analyse_or_fail(inputs, worker_config(settings))
    assert all(isinstance(r, Analysed) for r in results)
    assert [decode(encode(r)) for r in results] == results  # type: ignore[arg-type]
    assert any(r.matches for r in results if isinstance(r, Analysed))
    assert len({fingerprint(a) for a in inputs}) == len(inputs)


def test_a_changed_articles_result_is_not_used_but_analysed_again(
    make_settings, tmp_path: Path
) -> None:
    settings = make_settings(CONFIG)
    with _store(tmp_path, "changed") as store:
        ids = store.unanalysed_ids()
        analyse_batch(settings, store, ids, now=NOW)
        query(store, "UPDATE articles SET text = 'Heel ander nieuws.' WHERE id = ?", [ids[3]])
        assert process_analysed(settings, store, now=NOW).articles == 3
        assert store.unanalysed_ids() == [ids[3]]  # its stale result dropped
        assert analyse_batch(settings, store, ids, now=NOW) == 1
        assert process_analysed(settings, store, now=NOW).articles == len(ids) - 3
        [keyphrases] = query(
            store, "SELECT keyphrases FROM article_features WHERE article_id = ?", [ids[3]]
        )
        assert "nieuws" in keyphrases[0]


@pytest.fixture
def bad_article(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The analysis raises for any batch holding an article titled 'Bericht 3 ...'."""
    real = process_batch.analyse_articles
    bad: list[str] = []

    def analyse(articles, config):
        for a in articles:
            if a.title.startswith("Bericht 3 "):
                bad.append(a.title)
                raise RuntimeError("spaCy choked")
        return real(articles, config)

    monkeypatch.setattr(process_batch, "analyse_articles", analyse)
    return bad


@pytest.mark.parametrize("staged", [False, True], ids=["one process", "staged"])
def test_an_article_whose_analysis_fails_is_marked_shown_and_blocks_nothing(
    make_settings, tmp_path: Path, bad_article: list[str], staged: bool
) -> None:
    settings = make_settings(CONFIG)
    with _store(tmp_path, "bad") as store:
        ids = store.unanalysed_ids()
        if staged:
            for ids_ in analysis_batches(ids, set(), 10):
                analyse_batch(settings, store, ids_, now=NOW)
            report = process_analysed(settings, store, now=NOW)
        else:
            report = process_job.process(settings, store, now=NOW)
        assert bad_article  # it did raise
        assert report.articles == len(ids) and store.unprocessed_count() == 0
        [(bad_id,)] = query(store, "SELECT id FROM articles WHERE title LIKE 'Bericht 3 %'")
        count, [failed] = store.failed_analyses()
        assert count == 1 and failed.article_id == bad_id
        assert failed.error == "RuntimeError: spaCy choked"
        assert store.features(bad_id) is None
        assert query(store, "SELECT count(*) FROM article_features") == [(len(ids) - 1,)]
        assert query(store, "SELECT count(*) FROM articles WHERE story_id IS NOT NULL") == [
            (len(ids) - 1,)
        ]
        shown = status_data(settings, store, NOW)["failed_analyses"]
        assert shown["count"] == 1 and shown["latest"][0]["article"] == bad_id
        # processed again (--reprocess), it is analysed again; the mark goes on success
        store.reset_processing()
        assert store.failed_analyses()[0] == 0


def test_ready_prefix_and_batches() -> None:
    class Row:
        def __init__(self, id_: int) -> None:
            self.id = id_

    rows = [Row(i) for i in (1, 2, 4, 7)]
    prints = {1: "a", 2: "b", 4: "c", 7: "d"}
    stored = {i: StoredAnalysis(i, prints[i], "{}", None) for i in (1, 2, 7)}
    ready = ready_prefix(rows, stored, prints)  # type: ignore[arg-type]
    assert [r.id for r, _ in ready.rows] == [1, 2] and ready.blocked and ready.stale == []
    stored[4] = StoredAnalysis(4, "old", None, "failed")
    ready = ready_prefix(rows, stored, prints)  # type: ignore[arg-type]
    assert [r.id for r, _ in ready.rows] == [1, 2] and ready.stale == [4]
    stored[4] = StoredAnalysis(4, "c", None, "failed")  # a failure counts as analysed
    ready = ready_prefix(rows, stored, prints)  # type: ignore[arg-type]
    assert [r.id for r, _ in ready.rows] == [1, 2, 4, 7] and not ready.blocked
    assert analysis_batches([1, 2, 3, 5, 8, 9], {3, 8}, 2) == [[1, 2], [5, 9]]
    assert analysis_batch_lock([5, 9]) != analysis_batch_lock([5, 8, 9])
    assert Failed(1, "x") != Failed(2, "x")
