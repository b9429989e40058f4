"""What trendwatch writes that holds personal data or a token is readable by its owner
only (0600), and so is a data folder it creates (0700), under the usual umask 0o022;
the public archive stays 0644. Real files, and the CLI as a child process."""

from __future__ import annotations

import base64
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store import Store
from tests_support import REPO

UMASK = 0o022
ADDRESS = "sanne@example.nl"
ADDRESS_B64 = base64.urlsafe_b64encode(ADDRESS.encode()).decode().rstrip("=")
CONFIG = f"""data_dir = "data"
base_url = "https://digest.example.org"
[[watchlists]]
name = "banen"
title = "Banen"
query = "banen"
[[subscribers]]
email = "{ADDRESS}"
language = "nl"
watchlists = ["banen"]
send_empty = true
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def trendwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("TRENDWATCH_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        umask=UMASK,
    )


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(UMASK)
    try:
        yield
    finally:
        os.umask(old)


def test_new_database_its_wal_and_shm_and_data_folder_are_private(
    tmp_path: Path, umask: None
) -> None:
    data = tmp_path / "data"
    with Store(data / "trendwatch.db"):
        # the migrations have written through the WAL; SQLite keeps both files while open
        wal, shm = data / "trendwatch.db-wal", data / "trendwatch.db-shm"
        assert wal.exists() and shm.exists()
        assert (mode(wal), mode(shm)) == (0o600, 0o600)
        assert mode(data / "trendwatch.db") == 0o600
    assert mode(data) == 0o700


def test_an_existing_folder_keeps_its_mode_and_backups_are_private(
    tmp_path: Path, umask: None
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    with Store(mine / "trendwatch.db") as store:
        copy = store.backup(mine / "backups" / "copy.db")
    assert mode(mine) == 0o755  # the user's folder: not ours to change
    assert mode(mine / "trendwatch.db") == 0o600
    assert (mode(mine / "backups"), mode(copy)) == (0o700, 0o600)
    assert sorted(p.name for p in (mine / "backups").iterdir()) == ["copy.db"]


def test_preview_digest_and_secret_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "trendwatch.toml").write_text(CONFIG, encoding="utf-8")
    data = tmp_path / "data"

    # the first command creates the data folder and the database
    preview = trendwatch(
        "--config", "trendwatch.toml", "digest", "--preview", ADDRESS, cwd=tmp_path
    )
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert mode(data) == 0o700
    assert mode(data / "trendwatch.db") == 0o600
    assert mode(data / "secret.key") == 0o600
    files = sorted((data / "preview").iterdir())
    assert [p.suffix for p in files] == [".html", ".txt"]
    assert mode(data / "preview") == 0o700
    assert [mode(p) for p in files] == [0o600, 0o600]
    text = files[1].read_text("utf-8")
    assert "https://digest.example.org/unsubscribe/v2." in text
    assert ADDRESS_B64 not in text

    sent = trendwatch("--config", "trendwatch.toml", "digest", cwd=tmp_path)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    mails = list((data / "outbox").iterdir())
    assert len(mails) == 1
    assert (mode(data / "outbox"), mode(mails[0])) == (0o700, 0o600)
    assert ADDRESS_B64 not in mails[0].read_text("utf-8")
    # the archive is public: no address or token in it, and readable as before
    archive = [p for p in (data / "archive").rglob("*")]
    assert any(p.suffix == ".html" for p in archive)
    for p in archive:
        assert mode(p) == (0o755 if p.is_dir() else 0o644), p
        if p.is_file():
            body = p.read_text("utf-8")
            assert ADDRESS not in body and "/unsubscribe/" not in body, p


def test_demo_writes_private_files(tmp_path: Path) -> None:
    demo = trendwatch("demo", "demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    data = tmp_path / "demo" / "data"
    assert mode(data) == 0o700
    assert (mode(data / "trendwatch.db"), mode(data / "secret.key")) == (0o600, 0o600)
    mails = list((data / "outbox").glob("*.eml"))
    assert len(mails) == 3
    assert mode(data / "outbox") == 0o700 and {mode(p) for p in mails} == {0o600}
    assert mode(data / "archive" / "index.html") == 0o644


def test_run_log_file_is_private_also_after_rotation(tmp_path: Path, umask: None) -> None:
    from pipeline.cli.logs import configure_logging

    log_file = tmp_path / "logs" / "run.log"
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(log_file, "info")
        logging.getLogger("trendwatch.digest").info("delivery 2026-W48/nl -> %s: sent", ADDRESS)
        assert ADDRESS in log_file.read_text("utf-8")
        assert (mode(log_file.parent), mode(log_file)) == (0o700, 0o600)
        log_file.rename(log_file.with_suffix(".log.1"))  # logrotate moves it away
        logging.getLogger("trendwatch.digest").info("delivery 2026-W49/nl -> %s: sent", ADDRESS)
        assert "2026-W49" in log_file.read_text("utf-8")
        assert mode(log_file) == 0o600
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_init_writes_a_private_config_and_force_keeps_the_mode(tmp_path: Path) -> None:
    first = trendwatch("init", "site", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    config = tmp_path / "site" / "config" / "trendwatch.toml"
    assert mode(config) == 0o600 and "[[subscribers]]" in config.read_text("utf-8")
    config.chmod(0o640)  # the owner's choice, e.g. for a service group
    again = trendwatch("init", "site", "--force", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert mode(config) == 0o640


def test_sources_import_keeps_the_config_mode(tmp_path: Path) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    config.chmod(0o640)  # the owner's choice (the rewrite goes through a 0600 temporary file)
    opml = REPO / "tests" / "fixtures" / "feeds" / "subscriptions.opml"
    result = trendwatch("--config", "trendwatch.toml", "sources", "import", str(opml), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[[sources]]" in config.read_text("utf-8")
    assert mode(config) == 0o640


def test_locks_and_secret_create_a_private_data_folder(tmp_path: Path, umask: None) -> None:
    from pipeline.digest import delivery
    from pipeline.digest import secret as digest_secret
    from pipeline.schedule import locks
    from pipeline.settings import load_settings

    def settings(data_dir: str):
        path = tmp_path / f"{data_dir}.toml"
        path.write_text(CONFIG.replace('"data"', f'"{data_dir}"', 1), encoding="utf-8")
        return load_settings(path)

    with locks.run_lock(tmp_path / "run-data"):  # `trendwatch run` takes it first
        pass
    assert mode(tmp_path / "run-data") == 0o700
    locked = settings("lock-data")
    with delivery.delivery_lock(locked) as mine:
        assert mine
    assert mode(locked.data_dir) == 0o700
    keyed = settings("key-data")
    digest_secret.token_secret(keyed)
    assert (mode(keyed.data_dir), mode(keyed.data_dir / "secret.key")) == (0o700, 0o600)
