"""The process queue: a ``trendwatch worker --queues process`` on PostgreSQL runs the
process job by itself (its periodic task) and gives what ``trendwatch process`` gives in
one process: the same stories, duplicates and matches (the export, times of import
aside)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.store import Store
from postgres_support import query
from tests.pipeline.cli.jsonl_support import ARTICLES as BOTH
from tests.pipeline.cli.jsonl_support import CONFIG
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

    def processed() -> bool:
        with Store(postgres_url) as store:
            busy = query(
                store,
                "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'process'"
                " AND status IN ('todo', 'doing')",
            )
            return store.unprocessed_count() == 0 and busy == [(0,)]

    try:
        wait_until(processed, "every article processed", [worker], timeout=180)
    finally:
        assert worker.stop() == 0
    assert "process.run" in worker.text()
    records = _commands(tmp_path / "queue", postgres_url, EXPORT)
    assert records == alone
    assert records[0]["story_id"] == records[1]["story_id"] is not None
