"""``trendwatch run`` on PostgreSQL (``$TRENDWATCH_DATABASE_URL``), as a user runs it
(a child process, a local feed server, a local SMTP server, real signals): crawl,
process and the digest in one process, mailed once across a restart; one ``run`` per
database, also from another data folder (another machine), refused with who holds it.
The helpers are test_run.py's (the same loop on SQLite)."""

from __future__ import annotations

import json
import signal
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from pytest_httpserver import HTTPServer
from test_run import (
    Run,
    config_text,
    feed,
    message_ids,
    moment,
    rss,
    runs,  # noqa: F401  (a fixture)
    site,  # noqa: F401  (a fixture)
    start_the_loop,
    stop_and_start_again,
    write_config,
)

from tests_support import trendwatch


@pytest.fixture
def database(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh PostgreSQL database, named to the run children by the environment."""
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    return postgres_url


def count(url: str, sql: str) -> int:
    """A count while the run may still be creating the tables (-1: not there yet)."""
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(sql).fetchone()
    except psycopg.Error:
        return -1
    return int(row[0]) if row else -1


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_run_crawls_processes_and_mails_once_on_postgresql(
    site: HTTPServer,  # noqa: F811
    smtpd,
    tmp_path: Path,
    runs: list[Run],  # noqa: F811
    database: str,
) -> None:
    recorder, port = smtpd
    run, config = start_the_loop(site, port, tmp_path, runs)
    processed = "SELECT count(*) FROM articles WHERE processed_at IS NOT NULL"
    run.wait_for(lambda: count(database, processed) == 7, "seven processed articles")
    run.wait_for_log("crawl: 2 sources polled, 0 new articles")  # a revalidating cycle
    assert recorder.received == []
    # the digest moment moves to a minute ago: SIGHUP makes it due within the grace
    config.write_text(config_text(site, digest=moment(timedelta(minutes=-1)), smtp_port=port))
    mark = len(run.text())
    run.child.send_signal(signal.SIGHUP)
    run.wait_for_log("config: reloaded", after=mark)
    run.wait_for(lambda: len(recorder.received) >= 1, "the digest")
    code, _ = run.stop()
    assert code == 0
    assert not (tmp_path / "data" / "trendwatch.db").exists()  # nothing went to SQLite
    assert rows(database, "SELECT status, count(*) FROM deliveries GROUP BY status") == [
        ("sent", 1)
    ]
    html = recorder.received[0].content.decode("utf-8", "replace")
    assert "thuiswerken" in html
    assert count(database, "SELECT count(*) FROM matches") >= 1

    # a restart, still within the digest's grace period, neither repeats nor forgets
    again = Run(config, tmp_path / "run2.log")
    runs.append(again)
    again.wait_for_log("crawl: 2 sources polled")
    again.wait_for_log("crawl: 2 sources polled", after=len(again.text()))
    assert again.stop()[0] == 0
    assert set(message_ids(recorder.received).values()) == {1}
    assert len(recorder.received) == 1
    assert count(database, "SELECT count(DISTINCT guid) FROM articles") == count(
        database, "SELECT count(*) FROM articles"
    )


def test_a_second_run_on_the_database_is_refused_from_another_data_folder(
    site: HTTPServer,  # noqa: F811
    tmp_path: Path,
    runs: list[Run],  # noqa: F811
    database: str,
) -> None:
    feed(site, "/a.xml", rss("a", 2))
    text = config_text(site, feeds=("/a.xml",), digest=moment(timedelta(days=3)))
    here, there = tmp_path / "here", tmp_path / "there"  # two machines' folders
    here.mkdir()
    there.mkdir()
    first = Run(write_config(here, text), here / "run.log")
    runs.append(first)
    first.wait_for_log("crawl: 1 sources polled")

    secret = database.replace("postgres@", "postgres:s3cr3t-pw@")  # trust: any password
    other = write_config(there, text)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRENDWATCH_DATABASE_URL", secret)
        second = trendwatch("--config", str(other), "run", cwd=there, timeout=60)
    assert second.returncode == 2, second.stderr
    assert f"pid {first.child.pid}" in second.stderr
    assert "one 'trendwatch run' per database" in second.stderr
    assert "s3cr3t-pw" not in second.stderr
    status = trendwatch("--config", str(other), "status", "--json", cwd=there, timeout=60)
    assert status.returncode == 0, status.stderr
    assert f"pid {first.child.pid}" in json.loads(status.stdout)["scheduler"]
    # the lock goes with the first run's connection: a run from the other folder starts
    stop_and_start_again(first, other, there / "run.log", runs, "crawl: 1 sources polled")
