"""`trendwatch migrate-db --to postgresql://...` against a real PostgreSQL: the demo's
database, a processed one and one of 20,000 articles arrive with every row (ids kept,
new ids past them, the search index answering), digests built after the move equal
those built before, a non-empty target and a bad URL are refused (status 2, no
password shown), and a row the target rejects halfway leaves the target empty and the
source as it was."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from jsonl_support import ARTICLES, CONFIG
from pipeline.cli import cli
from pipeline.settings import load_settings
from pipeline.store import Store
from pipeline.store.move import SEARCH, TABLES

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SUBSCRIBER = """
[[subscribers]]
email = "lezer@example.invalid"
language = "nl"
watchlists = ["banen"]
"""


def _invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def _rows(store: Store, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` as the store reads it (times as ISO text on both), in
    key order; ``state`` as (key, value) and the search index as its text columns."""
    postgresql = store.dialect.name == "postgresql"
    if table == "state":
        rows = store._x("SELECT * FROM state ORDER BY key").fetchall()
        return [(r[0], store.dialect.state_value(r[1:])) for r in rows]
    if table == SEARCH:
        key = "id" if postgresql else "rowid"
        sql = f"SELECT {key}, title, text, lemmas, tags FROM {SEARCH} ORDER BY {key}"
        return [tuple(r) for r in store._x(sql).fetchall()]
    names = [d[0] for d in store._x(f"SELECT * FROM {table} LIMIT 0").description]
    order = ", ".join(names)  # every column: one order on both databases
    return [tuple(r) for r in store._x(f"SELECT * FROM {table} ORDER BY {order}").fetchall()]


def _assert_same(sqlite_file: Path, url: str) -> dict[str, int]:
    counts = {}
    with Store(sqlite_file) as before, Store(url) as after:
        for table in (*TABLES, SEARCH):
            rows = _rows(before, table)
            assert _rows(after, table) == rows, table
            counts[table] = len(rows)
        # a new row gets an id past the copied ones
        new = after._x(
            "INSERT INTO sources (name, url, created) VALUES ('Nieuw', 'https://n.test/', ?)"
            " RETURNING id",
            [NOW.isoformat()],
        ).fetchone()[0]
        assert new > max(r[0] for r in _rows(before, "sources"))
    return counts


def _demo(folder: Path) -> Path:
    """The demo's database, with this week's digest delivered (to the outbox) and a
    reader who subscribed on the web, one who asked and did not confirm yet."""
    from pipeline.demo.run import run_demo
    from pipeline.store.subscribers import Preferences

    assert run_demo(folder, console=Console(file=io.StringIO()), now=NOW) == 0
    config = folder / "trendwatch.toml"
    settings = load_settings(config)
    with Store(settings.db_path) as store:
        # the demo delivered this week's digests (to its outbox) as of NOW
        assert store._x("SELECT count(*) FROM deliveries WHERE status = 'sent'").fetchone()[0] == 3
        wants = Preferences("Lezer", "nl", ("verzuim-burnout",), None)
        for nonce, email in ((7, "web@example.invalid"), (8, "later@example.invalid")):
            store.add_subscribe_request(
                email, wants, consent="ja", nonce=nonce, now=NOW, expires=NOW + timedelta(days=1)
            )
        assert store.confirm_request(7, NOW) is not None
    return config


def _processed(folder: Path) -> Path:
    folder.mkdir()
    config = folder / "trendwatch.toml"
    config.write_text(CONFIG + SUBSCRIBER, encoding="utf-8")
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    for args in (("import", "--jsonl", str(source)), ("process",)):
        assert _invoke(config, *args).exit_code == 0
    return config


def test_the_demo_database_arrives_with_every_row(tmp_path: Path, postgres_url: str) -> None:
    config = _demo(tmp_path / "demo")
    result = _invoke(config, "migrate-db", "--to", postgres_url)
    assert result.exit_code == 0, result.output
    assert "Moved and verified" in result.output
    counts = _assert_same(load_settings(config).db_path, postgres_url)
    assert counts["articles"] > 0 and counts["editions"] > 0 and counts["deliveries"] > 0
    assert counts["subscribers"] == 1 and counts["subscribe_requests"] == 2
    assert counts["state"] > 0 and counts["cluster_stories"] > 0
    for table, count in counts.items():  # the printed table says the same
        assert f"│ {table}" in result.output and f"{count}" in result.output
    with Store(postgres_url) as moved:  # the index rebuilt as PostgreSQL's tsvector
        found = moved._x(
            f"SELECT count(*) FROM {SEARCH} WHERE document @@ to_tsquery('dutch', 'verzuim')"
        ).fetchone()[0]
        assert found > 0


def test_a_digest_built_after_the_move_equals_one_built_before(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.digest import job as digest_job

    config = _processed(tmp_path / "processed")
    assert _invoke(config, "migrate-db", "--to", postgres_url).exit_code == 0
    counts = _assert_same(load_settings(config).db_path, postgres_url)
    assert counts["matches"] == 2 and counts["stories"] >= 1

    def edition(url: str | None) -> list[tuple[Any, ...]]:
        if url:
            monkeypatch.setenv("TRENDWATCH_DATABASE_URL", url)
        settings = load_settings(config)
        with Store(settings.database) as store:
            report = digest_job.digest(settings, store, now=NOW, dry_run=True)
            assert report.built
            return [(e.key, e.item_count, e.data) for e in store.editions()]

    before = edition(None)
    assert before and before == edition(postgres_url)


def test_a_non_empty_target_is_refused(tmp_path: Path, postgres_url: str) -> None:
    config = _processed(tmp_path / "processed")
    assert _invoke(config, "migrate-db", "--to", postgres_url).exit_code == 0
    again = _invoke(config, "migrate-db", "--to", postgres_url)
    assert again.exit_code == 2
    assert "is not empty" in again.output
    with Store(postgres_url) as moved:  # the first copy is untouched
        assert moved.article_count() == len(ARTICLES)


def test_a_row_the_target_rejects_leaves_it_empty_and_the_source_as_it_was(
    tmp_path: Path, postgres_url: str
) -> None:
    config = _processed(tmp_path / "processed")
    db = load_settings(config).db_path
    conn = sqlite3.connect(db)
    with conn:  # a time PostgreSQL cannot read, in one of the last tables copied
        conn.execute(
            "INSERT INTO subscribe_requests (nonce, email_key, email, language, consent,"
            " created, expires) VALUES (1, 'a@b.invalid', 'a@b.invalid', 'nl', 'ja',"
            " 'not a time', 'not a time')"
        )
    conn.close()
    before = db.read_bytes()
    result = _invoke(config, "migrate-db", "--to", postgres_url)
    assert result.exit_code == 1
    assert "Not moved, the target was left empty" in result.output
    assert db.read_bytes() == before
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://tw:s3cr3t-pw@/tw",  # no host
        "mysql://tw:s3cr3t-pw@db.test/tw",
        "sqlite:///elsewhere.db",
        "postgresql://tw:s3cr3t-pw@127.0.0.1:1/tw",  # nothing listens there
    ],
)
def test_a_bad_url_is_a_clear_error_without_the_password(tmp_path: Path, url: str) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    Store(load_settings(config).db_path).close()
    result = _invoke(config, "migrate-db", "--to", url)
    assert result.exit_code == 2, result.output
    assert "s3cr3t-pw" not in result.output
    assert "Not" in result.output or "must name a PostgreSQL" in result.output


def test_a_processed_database_of_20000_articles_moves_whole_and_digests_alike(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's size: 20,000 articles of 40 sources in stories, matched by eight
    watchlists, stored with the store's own writes (``bench/web_corpus.py``, as the
    web and migrate-db benchmarks do). Every row of every table arrives, and the
    digests built after the move (every watchlist, both languages) equal those built
    before."""
    import random

    from bench import web_corpus
    from pipeline.digest import job as digest_job

    folder = tmp_path / "big"
    folder.mkdir()
    config = web_corpus.write_config(folder, nlp=False)
    readers = "".join(
        f'\n[[subscribers]]\nemail = "{lang}@example.invalid"\nlanguage = "{lang}"\n'
        f"watchlists = {json.dumps(list(web_corpus.WATCHLISTS))}\n"
        for lang in ("nl", "en")
    )
    config.write_text(config.read_text("utf-8") + readers, encoding="utf-8")
    config.chmod(0o600)
    monkeypatch.setenv(web_corpus.SECRET_ENV, "x" * 32)
    settings = load_settings(config)
    corpus = web_corpus.generate(20_000, random.Random(web_corpus.SEED))
    web_corpus.store_articles(settings, corpus, nlp=False)

    result = _invoke(config, "migrate-db", "--to", postgres_url)
    assert result.exit_code == 0, result.output
    counts = _assert_same(settings.db_path, postgres_url)
    assert counts["articles"] == 20_000 and counts["matches"] == 20_000
    assert counts["stories"] > 1000

    def editions(url: str | None) -> list[tuple[Any, ...]]:
        if url:
            monkeypatch.setenv("TRENDWATCH_DATABASE_URL", url)
        moved = load_settings(config)
        with Store(moved.database) as store:
            report = digest_job.digest(moved, store, now=web_corpus.NOW, dry_run=True)
            assert report.built
            return [(e.key, e.item_count, e.data) for e in store.editions()]

    before = editions(None)
    assert len(before) == 2 and all(count > 0 for _, count, _ in before)
    assert before == editions(postgres_url)
