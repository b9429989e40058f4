"""The connection on real SQLite files: a new database's pragmas and schema, refusing
foreign and newer databases, ``Store.backup`` while others write, ``trendwatch backup``
as a child process, and the backup written before a schema migration."""

from __future__ import annotations

import itertools
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from pipeline.store import APPLICATION_ID, SCHEMA_VERSION, Store, StoreError
from store_support import NOW, Src, old_database
from tests_support import REPO

STAMP = r"\d{8}-\d{6}"


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def check_copy(path: Path) -> sqlite3.Connection:
    """Open a backup; it must be a complete, self-contained database."""
    assert path.is_file()
    assert not Path(f"{path}-wal").exists()
    conn = read_only(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    return conn


def state_keys(conn: sqlite3.Connection) -> set[str]:
    return {k for (k,) in conn.execute("SELECT key FROM state")}


# --- opening a database ----------------------------------------------------------------


def test_new_database_is_wal_with_foreign_keys_and_current_schema(tmp_path: Path) -> None:
    with Store(tmp_path / "tw.db") as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert store.schema_version == SCHEMA_VERSION
    # reopening does not migrate again or lose anything
    with Store(tmp_path / "tw.db") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert {"sources", "articles", "matches", "editions", "deliveries"} <= set(
            store.db.table_names()
        )


def test_refuses_foreign_and_newer_databases(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a trendwatch database"):
        Store(other)
    newer = tmp_path / "newer.db"
    Store(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="Upgrade trendwatch"):
        Store(newer)


# --- Store.backup while others write ---------------------------------------------------


def test_backup_beside_an_open_write_transaction_has_the_committed_rows_only(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data" / "trendwatch.db"
    with Store(db) as store:
        store.sync_sources([Src("A", "https://a.test/feed"), Src("B", "https://b.test/f")], NOW)
        writer = sqlite3.connect(db, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO state (key, value) VALUES ('uncommitted', 'x')")
            writer.execute("UPDATE sources SET title = 'changed' WHERE name = 'A'")
            # this thread holds the write transaction open: a backup that waited for
            # the writer could never finish (it would fail on the busy timeout)
            first = store.backup(tmp_path / "out" / "first.db")
            assert writer.in_transaction  # done beside it, not after it (WAL)
            writer.execute("COMMIT")
            second = store.backup(tmp_path / "out" / "second.db")
        finally:
            writer.close()
    assert sorted(os.listdir(tmp_path / "out")) == ["first.db", "second.db"]  # no temp files
    with closing(check_copy(first)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT name, title FROM sources ORDER BY name").fetchall() == [
            ("A", None),
            ("B", None),
        ]
        assert state_keys(conn) == set()
    with closing(check_copy(second)) as conn:
        assert conn.execute("SELECT title FROM sources WHERE name = 'A'").fetchone() == ("changed",)
        assert state_keys(conn) == {"uncommitted"}


WRITER = """
import sqlite3, sys, time
from pathlib import Path
db, stop = sys.argv[1], Path(sys.argv[2])
conn = sqlite3.connect(db, timeout=10, isolation_level=None)
batch = 0
deadline = time.monotonic() + 300  # only against an orphaned writer
while not stop.exists() and time.monotonic() < deadline:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO state (key, value) VALUES (?, ?)",
        [(f"b{batch}-{i}", "x" * 2000) for i in range(10)],
    )
    conn.execute("COMMIT")
    batch += 1
    if batch == 1:
        print("ready", flush=True)
print(batch, flush=True)
"""


def committed(db: Path) -> int:
    with closing(read_only(db)) as conn:
        return len(state_keys(conn))


def wait_for_more_than(rows: int, db: Path, child: subprocess.Popen) -> None:
    """Wait until more than ``rows`` are committed in ``db`` while the writer runs; the
    deadline only guards against a hang."""
    deadline = time.monotonic() + 60
    while committed(db) <= rows:
        assert child.poll() is None, "the writer stopped"
        assert time.monotonic() < deadline, "the writer committed nothing for a minute"
        time.sleep(0.01)


def test_backups_while_another_process_writes_are_consistent_snapshots(tmp_path: Path) -> None:
    db = tmp_path / "trendwatch.db"
    stop = tmp_path / "stop"
    with Store(db) as store:
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(stop)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            copies = []
            for n in range(6):
                committed_before = committed(db)
                copy = store.backup(tmp_path / "copies" / f"{n}.db")
                copies.append((committed_before, copy))
                # the writer has committed past this copy before the next one is made
                wait_for_more_than(committed(copy), db, child)
            assert child.poll() is None  # still writing when the last backup was done
        finally:
            stop.touch()
            out, _ = child.communicate(timeout=30)
        assert child.returncode == 0
        batches = int(out.split()[-1])
    counts = []
    for committed_before, path in copies:
        with closing(check_copy(path)) as conn:
            keys = state_keys(conn)
        # whole transactions only, and at least what was committed before it started
        assert len(keys) % 10 == 0 and len(keys) >= committed_before
        for b in {k.split("-")[0] for k in keys}:
            assert {f"{b}-{i}" for i in range(10)} <= keys
        counts.append(len(keys))
    assert all(a < b for a, b in itertools.pairwise(counts))  # each copy a later snapshot
    assert counts[-1] <= batches * 10
    assert sorted(os.listdir(tmp_path / "copies")) == [f"{n}.db" for n in range(6)]


def test_backup_refuses_to_overwrite_the_database_itself(tmp_path: Path) -> None:
    with Store(tmp_path / "tw.db") as store:
        for target in ("tw.db", "tw.db-wal"):
            with pytest.raises(ValueError, match="onto itself"):
                store.backup(tmp_path / target)
        assert store.schema_version == SCHEMA_VERSION


# --- trendwatch backup -------------------------------------------------------------------


def trendwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400", "NO_COLOR": "1"}
    env.pop("TRENDWATCH_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_backup_writes_a_checked_copy(tmp_path: Path) -> None:
    config = tmp_path / "config" / "trendwatch.toml"
    config.parent.mkdir()
    config.write_text('data_dir = "../data"\n', encoding="utf-8")
    data = tmp_path / "data"

    missing = trendwatch("--config", str(config), "backup", cwd=tmp_path)
    assert missing.returncode == 1 and "nothing to back up" in missing.stderr
    assert not (data / "trendwatch.db").exists()

    with Store(data / "trendwatch.db") as store:
        store.sync_sources([Src("A", "https://a.test/feed")], NOW)

    result = trendwatch("--config", str(config), "backup", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    [written] = list((data / "backups").iterdir())
    assert re.fullmatch(rf"trendwatch-{STAMP}\.db", written.name)
    assert str(written) in result.stdout and "integrity check ok" in result.stdout
    with closing(check_copy(written)) as conn:
        assert conn.execute("SELECT name FROM sources").fetchall() == [("A",)]

    explicit = tmp_path / "elsewhere" / "nightly.db"
    again = trendwatch("--config", str(config), "backup", str(explicit), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    check_copy(explicit).close()

    itself = trendwatch("--config", str(config), "backup", "data/trendwatch.db", cwd=tmp_path)
    assert itself.returncode == 2 and "onto itself" in itself.stderr
    with closing(read_only(data / "trendwatch.db")) as conn:
        assert conn.execute("SELECT name FROM sources").fetchall() == [("A",)]


# --- the backup before a migration -------------------------------------------------------


@pytest.mark.parametrize("old", range(1, SCHEMA_VERSION))
def test_an_old_database_is_backed_up_before_it_is_migrated(
    tmp_path: Path, old: int, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "data" / "trendwatch.db"
    path.parent.mkdir()
    old_database(path, old)
    with caplog.at_level(logging.INFO, logger="pipeline.store"), Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [s.name for s in store.sources()] == ["Bron"]
    [backup] = list((tmp_path / "data" / "backups").iterdir())
    assert re.fullmatch(rf"trendwatch-v{old}-before-v{SCHEMA_VERSION}-{STAMP}\.db", backup.name)
    assert str(backup) in caplog.text
    with closing(check_copy(backup)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == old
        assert conn.execute("SELECT name, etag FROM sources").fetchall() == [("Bron", '"e1"')]
        tables = {t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = {c[1] for c in conn.execute("PRAGMA table_info(sources)")}
    assert ("stories" in tables) == (old >= 2)
    assert ("config_url" in columns) == (old >= 3)  # the copy is from before the migration
    assert ("cluster_stories" in tables) == (old >= 4)
    assert ("article_search" in tables) == (old >= 5)
    assert ("subscribers" in tables) == (old >= 6)
    # the store can open the backup, and migrates a copy of it in turn
    restored = tmp_path / "restored" / "trendwatch.db"
    restored.parent.mkdir()
    restored.write_bytes(backup.read_bytes())
    with Store(restored) as store:
        assert [s.name for s in store.sources()] == ["Bron"]
    # opening the migrated database again makes no second backup
    Store(path).close()
    assert len(list((tmp_path / "data" / "backups").iterdir())) == 1


def test_no_backup_of_a_fresh_or_current_database(tmp_path: Path) -> None:
    path = tmp_path / "data" / "trendwatch.db"
    Store(path).close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    assert not (tmp_path / "data" / "backups").exists()


def test_no_migration_without_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "trendwatch.db"
    old_database(path, SCHEMA_VERSION - 1)
    (tmp_path / "backups").write_text("a file where the backup folder should be")
    with pytest.raises(StoreError, match="Nothing was migrated"):
        Store(path)
    with closing(read_only(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1


def test_a_store_dropped_unclosed_by_another_thread_logs_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The web's threads each open a store; one left unclosed is collected by whichever
    thread comes by, and its connection must not be touched there (sqlite3 refuses)."""
    import gc
    import threading

    opened: list[Store] = []
    worker = threading.Thread(target=lambda: opened.append(Store(tmp_path / "tw.db")))
    worker.start()
    worker.join()
    with caplog.at_level(logging.ERROR):
        opened.clear()
        gc.collect()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    with Store(tmp_path / "tw.db") as store:
        store.set_state("k", "v")
        assert store.state("k") == "v"
