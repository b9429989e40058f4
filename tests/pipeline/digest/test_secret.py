"""The link secret kept in the data folder: made once, whole, also when processes race."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

from pipeline.digest.secret import token_secret
from pipeline.settings import load_settings

CONFIG = 'from = "Trendwatch <digest@example.nl>"\ndata_dir = "data"\n'


def _read_secret(config: str, barrier, results) -> None:  # in a child process
    settings = load_settings(Path(config))
    barrier.wait()
    try:
        results.put(token_secret(settings).decode())
    except Exception as exc:  # reported to the test, which fails on it
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_starting_at_once_share_one_whole_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for round_ in range(10):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        config = folder / "trendwatch.toml"
        config.write_text(CONFIG, "utf-8")
        barrier, results = context.Barrier(4), context.Queue()
        children = [
            context.Process(target=_read_secret, args=(str(config), barrier, results))
            for _ in range(4)
        ]
        for child in children:
            child.start()
        seen = {results.get(timeout=60) for _ in children}
        for child in children:
            child.join(60)
        assert len(seen) == 1, seen  # one secret, no error, no half-written file
        [secret] = seen
        assert len(secret) == 64 and int(secret, 16) >= 0
        data = folder / "data"
        assert sorted(p.name for p in data.iterdir()) == ["secret.key"]  # no temp left
        assert stat.S_IMODE(os.stat(data / "secret.key").st_mode) == 0o600
