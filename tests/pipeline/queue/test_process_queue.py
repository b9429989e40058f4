"""The process queue: ``trendwatch worker --queues process`` processes on PostgreSQL by
itself (its periodic task) and gives what ``trendwatch process`` gives in one process:
the same stories, duplicates and matches (the export, times of import aside). Three
workers analyse batches in parallel; one killed (``kill -9``) in the middle of a batch
has it put back and done by another, nothing lost, nothing analysed or clustered twice.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.process.batch import STATE_KEY
from pipeline.queue.process import HOLD_ENV
from pipeline.store import Store
from postgres_support import query
from tests.pipeline.cli.jsonl_support import ARTICLES as BOTH
from tests.pipeline.cli.jsonl_support import CONFIG
from tests.pipeline.queue import process_corpus
from tests_support import trendwatch
from worker_support import Worker, wait_until

ARTICLES = [
    *BOTH,
    {**BOTH[0], "id": "nl-2", "url": "https://regio.example/jumbo", "source": "Regio"},
]


def _commands(folder: Path, url: str | None, *commands: tuple[str, ...]) -> list[dict]:
    """The articles imported into a new folder's database (``url``, else SQLite), the
    ``commands`` run there, and its export if one of them (without the times of
    import). The commands run with ``$TRENDWATCH_DATABASE_URL`` set to ``url``."""
    folder.mkdir(exist_ok=True)
    (folder / "trendwatch.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "in.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), "utf-8")
    os.environ["TRENDWATCH_DATABASE_URL"] = url or ""
    for command in commands:
        done = trendwatch("--config", "trendwatch.toml", *command, cwd=folder)
        assert done.returncode == 0, done.stderr
    out = folder / "out.jsonl"
    lines = out.read_text("utf-8").splitlines() if EXPORT in commands else []
    return [{k: v for k, v in json.loads(line).items() if k != "fetched"} for line in lines]


def _processed(url: str) -> bool:
    """Whether every article is processed and no process job waits or runs."""
    with Store(url) as store:
        busy = query(
            store,
            "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'process'"
            " AND status IN ('todo', 'doing')",
        )
        return store.unprocessed_count() == 0 and busy == [(0,)]


IMPORT = ("import", "--jsonl", "in.jsonl")
EXPORT = ("export", "--jsonl", "out.jsonl")


def test_a_process_worker_gives_what_one_process_gives(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", "")  # restored after the test
    alone = _commands(tmp_path / "alone", None, IMPORT, ("process",), EXPORT)
    _commands(tmp_path / "queue", postgres_url, IMPORT)
    config = tmp_path / "queue" / "trendwatch.toml"
    worker = Worker(config, tmp_path / "w.log", postgres_url, "--queues", "process")
    try:
        wait_until(lambda: _processed(postgres_url), "every article processed", [worker], 180)
    finally:
        assert worker.stop() == 0
    assert "process.run" in worker.text()
    records = _commands(tmp_path / "queue", postgres_url, EXPORT)
    assert records == alone
    assert records[0]["story_id"] == records[1]["story_id"] is not None


JOB_END = re.compile(
    r"Job (process\.\w+)\[(\d+)\]\((.*?)\) ended with status: Success.*?Result: (\{.*?\})"
)


def _results(text: str, task: str) -> list[tuple[str, dict]]:
    """(arguments, result) of each job of ``task`` a worker's log says succeeded."""
    return [
        (args, ast.literal_eval(result))
        for name, _, args, result in JOB_END.findall(text)
        if name == task
    ]


def _export(folder: Path, url: str) -> list[dict]:
    """The export of ``folder``'s database (``url``, else its SQLite file), without
    the times of import."""
    os.environ["TRENDWATCH_DATABASE_URL"] = url
    done = trendwatch("--config", "trendwatch.toml", *EXPORT, cwd=folder)
    assert done.returncode == 0, done.stderr
    lines = (folder / "out.jsonl").read_text("utf-8").splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "fetched"} for line in lines]


def _outcome(store: Store) -> dict[str, Any]:
    """What processing decided beyond the export: the stories, the matches and the
    clusterer's stored state (its header and its open stories, byte for byte, however
    many sequential jobs the workers ran)."""
    return {
        "state": _bytes(store.state(STATE_KEY)),
        "open": [_bytes(row) for row in store.cluster_stories()],
        "stories": query(
            store,
            "SELECT id, label, representative_id, first_seen, last_seen, size FROM stories"
            " ORDER BY id",
        ),
        "matches": query(
            store,
            "SELECT article_id, watchlist, terms, location, snippet FROM matches"
            " ORDER BY article_id, watchlist",
        ),
    }


def _bytes(value: str | bytes | None) -> bytes | None:
    """A stored value as bytes (whichever type the database gave back)."""
    return value.encode() if isinstance(value, str) else None if value is None else bytes(value)


def test_workers_analyse_in_parallel_survive_a_kill_mid_batch_and_give_what_one_process_gives(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", "")  # restored after the test
    corpus = process_corpus.articles()
    alone_dir, queue_dir = tmp_path / "alone", tmp_path / "queue"
    for folder, url in ((alone_dir, ""), (queue_dir, postgres_url)):
        process_corpus.write(folder)
        os.environ["TRENDWATCH_DATABASE_URL"] = url
        for command in (IMPORT, *((("process",),) if not url else ())):
            done = trendwatch("--config", "trendwatch.toml", *command, cwd=folder)
            assert done.returncode == 0, done.stderr
    alone = _export(alone_dir, "")
    with Store(alone_dir / "data" / "trendwatch.db") as store:
        expected = _outcome(store)

    # every analysis job waits between analysing and storing while this file exists:
    # the worker seen waiting first is killed there, in the middle of its batch
    hold = tmp_path / "hold"
    hold.touch()
    options = ("--queues", "process", "--batch", "4", "--heartbeat", "2", "--poll", "0.2")
    workers = [
        Worker(
            queue_dir / "trendwatch.toml",
            tmp_path / f"w{n}.log",
            postgres_url,
            *options,
            env={HOLD_ENV: str(hold)},
        )
        for n in range(3)
    ]
    try:
        wait_until(
            lambda: any("holding before storing" in w.text() for w in workers),
            "an analysis batch analysed and held",
            workers,
            timeout=180,
        )
        [victim] = [w for w in workers if "holding before storing" in w.text()][:1]
        victim.kill()
        hold.unlink()
        live = [w for w in workers if w is not victim]
        wait_until(lambda: _processed(postgres_url), "every article processed", live, 240)
    finally:
        if hold.exists():
            hold.unlink()
        statuses = [w.stop() for w in workers if w.child.poll() is None]
    assert statuses == [0, 0]

    records = _export(queue_dir, postgres_url)
    assert records == alone
    with Store(postgres_url) as store:
        assert _outcome(store) == expected
        assert query(store, "SELECT count(*) FROM article_analysis") == [(0,)]
        assert store.failed_analyses()[0] == 0
        assert query(store, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'") == [
            (0,)
        ]
    assert expected["stories"] and any(r["duplicate_of"] for r in alone)

    # the killed batch was put back and done by a live worker; every article's analysis
    # was stored once (no job found its batch analysed by another) and clustered once
    logs = [w.text() for w in live]
    assert any("put back in its queue" in text for text in logs)
    analysed = [r for text in logs for r in _results(text, "process.analyse")]
    assert sum(r["stored"] for _, r in analysed) == len(corpus)
    assert all(r["stored"] == r["articles"] for _, r in analysed)
    assert sum(r["articles"] for text in logs for _, r in _results(text, "process.run")) == len(
        corpus
    )
    assert _results(victim.text(), "process.analyse") == []
    # the batches ran on more than one worker
    assert sum(bool(_results(text, "process.analyse")) for text in logs) >= 1
    ran = [w for w in workers if "Starting job process.analyse" in w.text()]
    assert len(ran) >= 2
