"""What trendwatch writes that holds personal data or a token is readable by its owner
only (0600), and so is a data folder it creates (0700), under the usual umask 0o022;
the public archive stays 0644. Real files, and the CLI as a child process."""

from __future__ import annotations

import base64
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
