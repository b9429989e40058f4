"""The process queue: a ``trendwatch worker --queues process`` on PostgreSQL runs the
process job by itself (its periodic task) and gives what ``trendwatch process`` gives in
one process: the same stories, duplicates and matches (the export, times of import
aside)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from pipeline.cli import cli
from pipeline.store import Store
from postgres_support import query
from worker_support import Worker, wait_until

ARTICLES = [
    {
        "id": "nl-1",
        "title": "Jumbo schrapt 300 banen in Veghel",
        "text": "Supermarktketen Jumbo schrapt 300 banen op het hoofdkantoor in Veghel."
        " De ondernemingsraad van Jumbo is geschrokken. Vakbond FNV wil overleg.",
        "url": "https://nos.example/jumbo",
        "published": "2026-11-24T09:00:00Z",
        "source": "NOS",
    },
    {
        "id": "en-1",
        "title": "Jumbo to cut 300 jobs in Veghel",
        "text": "Dutch supermarket chain Jumbo will cut 300 jobs at its head office in"
        " Veghel. The FNV union wants talks with Jumbo management.",
        "url": "https://wire.example/jumbo",
        "published": "2026-11-24T12:00:00Z",
        "lang": "en",
    },
    {
        "id": "nl-2",
        "title": "Jumbo schrapt 300 banen",
        "text": "Supermarktketen Jumbo schrapt 300 banen op het hoofdkantoor in Veghel."
        " De ondernemingsraad van Jumbo is geschrokken. Vakbond FNV wil overleg.",
        "url": "https://regio.example/jumbo",
        "published": "2026-11-24T10:00:00Z",
        "source": "Regio",
    },
]
CONFIG = """data_dir = "data"
[[watchlists]]
name = "banen"
title = "Banen"
query = "banen OR jobs"
"""


def _invoke(config: Path, *args: str, url: str | None = None) -> Result:
    env = {"TRENDWATCH_DATABASE_URL": url} if url else {"TRENDWATCH_DATABASE_URL": ""}
    return CliRunner(env=env).invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def _imported(folder: Path, url: str | None) -> Path:
    folder.mkdir()
    config = folder / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    result = _invoke(config, "import", "--jsonl", str(source), url=url)
    assert result.exit_code == 0, result.output
    return config


def _export(config: Path, url: str | None) -> list[dict]:
    out = config.parent / "out.jsonl"
    assert _invoke(config, "export", "--jsonl", str(out), url=url).exit_code == 0
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    return [{k: v for k, v in r.items() if k != "fetched"} for r in records]


def test_a_process_worker_gives_what_one_process_gives(tmp_path: Path, postgres_url: str) -> None:
    alone = _imported(tmp_path / "alone", None)
    assert _invoke(alone, "process").exit_code == 0

    config = _imported(tmp_path / "queue", postgres_url)
    worker = Worker(
        config, tmp_path / "w.log", postgres_url, "--queues", "process", "--poll", "0.2"
    )

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
    records = _export(config, postgres_url)
    assert records == _export(alone, None)
    assert records[0]["story_id"] == records[1]["story_id"] is not None
