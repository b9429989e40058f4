"""A real ``trendwatch serve`` child process on 127.0.0.1, fetched over HTTP and opened in
headless Chromium (Debian's, driven by Playwright), stopped with SIGTERM; and
``trendwatch run`` serving the same application when ``[web] listen`` is set."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import watched_tab
from smtp_support import free_port
from tests_support import child_env
from web.security import ARCHIVE_CSP, CSP
from web_support import ADMIN_ENV, ADMIN_TOKEN, edition, write_archive, write_config

EDITION = "/archive/2026/W48/nl-thuiswerken.html"


def fetch(url: str, timeout: float = 10) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def wait_until(ready: Callable[[], bool], child: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        if child.poll() is not None:
            pytest.fail(f"exited {child.returncode} before {what}: {child.args}")
        if time.monotonic() > deadline:
            pytest.fail(f"never got to {what}")
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        fetch(url)
    except OSError:
        return False
    return True


class Served:
    """A ``trendwatch ... serve`` child and where it listens."""

    def __init__(self, config: Path, port: int, *args: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.errors = config.parent / "serve.stderr"
        with self.errors.open("w") as err:
            self.child = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "--config", str(config), *args],
                env={**child_env(NO_COLOR="1"), ADMIN_ENV: ADMIN_TOKEN},
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def start(self) -> Served:
        wait_until(lambda: answers(self.base + "/"), self.child, "serving")
        return self

    def stop(self) -> int:
        self.child.send_signal(signal.SIGTERM)
        return self.child.wait(timeout=30)

    def kill(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    config = write_config(tmp_path, web=f'[web]\nadmin_token_env = "{ADMIN_ENV}"\n')
    write_archive(tmp_path / "data" / "archive", [edition(None)])
    port = free_port()
    server = Served(config, port, "serve", "--port", str(port))
    try:
        yield server.start()
    finally:
        server.kill()


def test_serve_answers_over_http_and_stops_cleanly_on_sigterm(served: Served) -> None:
    status, headers, body = fetch(served.base + "/")
    assert status == 200 and "Trendwatch Werk" in body
    assert headers["content-security-policy"] == CSP
    assert headers["x-frame-options"] == "DENY" and "server" not in {h.lower() for h in headers}
    status, headers, body = fetch(served.base + EDITION)
    assert status == 200 and "Thuiswerken blijft populair" in body
    assert headers["content-security-policy"] == ARCHIVE_CSP
    assert fetch(served.base + "/search")[0] == 200
    assert served.stop() == 0
    log = served.errors.read_text("utf-8")
    assert "Application shutdown complete" in log and "Traceback" not in log


# --- in the browser ------------------------------------------------------------------


def test_pages_open_in_chromium_without_console_errors(browser: Any, served: Served) -> None:
    with watched_tab(browser, "en-US") as (page, problems):
        for path in ("/", "/?lang=en", "/archive/", EDITION, "/admin/login?next=/"):
            response = page.goto(served.base + path, wait_until="load")
            assert response is not None and response.status == 200, path
        assert page.evaluate("() => typeof window.htmx") == "object"  # loaded, no eval needed
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(242, 240, 235)"  # the stylesheet applied: the digest's colour
        # sign in as admin in the browser: the form, its CSRF token and the cookie work
        page.fill("#token", ADMIN_TOKEN)
        page.click("button[type=submit]")
        page.wait_for_url(served.base + "/")
        assert page.locator("nav a", has_text="Admin").count() == 1  # English: the cookie
        cookie = next(c for c in page.context.cookies() if c["name"] == "tw_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.click("button.link")  # sign out
        page.wait_for_url(served.base + "/")
        assert page.locator("nav a", has_text="Admin").count() == 0
    assert problems == []


# --- trendwatch run with [web] listen -------------------------------------------------


def test_run_serves_the_web_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, web=f'[web]\nlisten = "127.0.0.1:{port}"\n')
    base = f"http://127.0.0.1:{port}"
    run = Served(config, port, "run", "--log-file", str(tmp_path / "run.log"))
    try:
        wait_until(lambda: answers(base + "/"), run.child, "the web pages")
        assert fetch(base + "/")[0] == 200
        assert run.stop() == 0
        assert not answers(base + "/")  # the web process went with it
    finally:
        run.kill()
    log = (tmp_path / "run.log").read_text("utf-8")
    assert f"web: serving on 127.0.0.1:{port}" in log and "web: stopped" in log


def test_the_web_process_logs_into_runs_log_file_and_is_started_again_when_it_dies(
    tmp_path: Path,
) -> None:
    """``run --log-file`` puts the web process's lines in the same file; a web process
    that dies (here: SIGKILL) is started again and answers, and SIGTERM stops both."""
    port = free_port()
    config = write_config(tmp_path, web=f'[web]\nlisten = "127.0.0.1:{port}"\n')
    base = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "logs" / "run.log"
    run = Served(config, port, "run", "--log-file", str(log_file))
    try:
        wait_until(lambda: answers(base + "/"), run.child, "the web pages")
        wait_until(
            lambda: "Application startup complete" in log_file.read_text(),
            run.child,
            "the web process's log line",
        )
        first = web_pid(log_file)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: "web: started again" in log_file.read_text(), run.child, "a restart")
        wait_until(lambda: answers(base + "/"), run.child, "the web pages again")
        assert fetch(base + "/")[0] == 200
        assert web_pid(log_file) != first
        assert run.stop() == 0
        assert not answers(base + "/")
    finally:
        run.kill()
    log = log_file.read_text("utf-8")
    assert f"web: exited with status -{int(signal.SIGKILL)}" in log
    assert log.count("Application startup complete") == 2  # uvicorn's line, both times
    assert "Traceback" not in log and "web: stopped" in log
    assert run.errors.read_text("utf-8") == ""  # nothing went around the file


def web_pid(log_file: Path) -> int:
    """The pid of the newest web process, from run's log."""
    found = re.findall(r"web: (?:serving on \S+|started again) \(pid (\d+)\)", log_file.read_text())
    return int(found[-1])
