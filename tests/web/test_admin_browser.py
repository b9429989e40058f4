"""The watchlist editor end to end: a real `trendwatch run` and a real `trendwatch serve`
(child processes) on one config, the admin in headless Chromium (Debian's, driven by
Playwright). The live preview follows the query as it is typed (its error at its
position, then the matches); saving writes the config (comments kept, `trendwatch check`
accepts it), and the running `run` picks the change up without a restart: it reloads
(SIGHUP from serve) and matches the stored articles again."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from admin_support import fill_store, write_admin_config
from browser_support import watched_tab
from smtp_support import free_port
from tests_support import child_env, trendwatch
from web_support import ADMIN_ENV, ADMIN_TOKEN


class Child:
    """A ``trendwatch ...`` child process with its standard error in a file."""

    def __init__(self, config: Path, name: str, *args: str) -> None:
        self.errors = config.parent / f"{name}.stderr"
        with self.errors.open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "--config", str(config), *args],
                cwd=config.parent,
                env={**child_env(NO_COLOR="1"), ADMIN_ENV: ADMIN_TOKEN},
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None:
                pytest.fail(f"exited {self.process.returncode} before {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"never got to {what}:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.errors.read_text("utf-8")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.kill()


def matched(db: Path, watchlist: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT a.title FROM matches m JOIN articles a ON a.id = m.article_id"
            " WHERE m.watchlist = ? ORDER BY a.id",
            [watchlist],
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def test_the_editor_previews_saves_and_the_running_run_picks_it_up(
    tmp_path: Path, browser: Any, children: list[Child]
) -> None:
    config = write_admin_config(tmp_path, web=f'[web]\nadmin_token_env = "{ADMIN_ENV}"\n')
    fill_store(config, now=datetime.now(UTC))  # dated as the children's clocks say
    db = tmp_path / "data" / "trendwatch.db"
    run_log = tmp_path / "run.log"
    run = Child(config, "run", "run", "--log-file", str(run_log))
    children.append(run)
    run.wait_for(lambda: run_log.exists() and "run: started" in run_log.read_text(), "run")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = Child(config, "serve", "serve", "--port", str(port))
    children.append(serve)
    serve.wait_for(lambda: answers(base + "/"), "serving")

    with watched_tab(browser, "en-GB") as (page, problems):
        page.goto(base + "/admin/login?next=/admin/watchlists/new")
        page.fill("#token", ADMIN_TOKEN)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/admin/watchlists/new")
        page.fill("#name", "kantoor")
        page.fill("#title", "Kantoor")
        # a mistake as it is typed: the error at its position, no page load
        page.fill("#query", 'office "OR')
        error = page.wait_for_selector("#preview .error", timeout=30_000)
        assert "Error in the query at position 8: unbalanced quote" in error.inner_text()
        assert page.inner_text("#preview .query-error mark") == '"'
        # corrected: what it would have matched, and why
        page.fill("#query", "office OR kantoor")
        page.wait_for_selector("#preview .matches li", timeout=30_000)
        preview = page.inner_text("#preview")
        assert "1 article found (5 searched)" in preview
        assert "Managers want the office back" in preview and "words: office" in preview
        assert page.inner_text("#preview .snippet mark") == "office"
        assert page.url == base + "/admin/watchlists/new"  # all of it without a page load
        page.click("#editor button:not(.secondary)")
        page.wait_for_url(base + "/admin/watchlists/kantoor/edit?saved=1&run=reloaded")
        notice = page.inner_text(".notice")
        assert "Saved in the config." in notice
        assert "The running trendwatch run reads the config again" in notice
    assert problems == []

    # the config keeps its text and comments, and `trendwatch check` accepts it
    text = config.read_text("utf-8")
    for comment in (
        "# Trendwatch for the HR desk. Keep this comment.",
        "# the oldest one",
        "# literal: keep the quotes",
    ):
        assert comment in text
    assert 'name = "kantoor"\ntitle = "Kantoor"\nquery = "office OR kantoor"' in text
    checked = trendwatch("--config", str(config), "check", cwd=tmp_path)
    assert checked.returncode == 0 and "3 watchlists" in checked.stdout, checked.stderr

    # the running run reloaded and matched the stored articles again, without a restart
    run.wait_for(lambda: "watchlist 'kantoor': matched again" in run_log.read_text(), "rematch")
    assert "config: reloaded" in run_log.read_text()
    assert matched(db, "kantoor") == ["Managers want the office back"]
    assert run.stop() == 0 and serve.stop() == 0
    assert "Traceback" not in serve.log() + run.log()
