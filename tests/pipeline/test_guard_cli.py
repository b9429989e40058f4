"""What the command line says and returns when the private-network guard refuses a site,
and when a crawl has no success: ``trendwatch`` as a child process, servers on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests_support import REPO

RSS = "application/rss+xml; charset=utf-8"
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Werkvloer</title><link>https://werkvloer.test/</link>
<item><title>Een bericht</title><link>https://werkvloer.test/1</link><guid>w-1</guid></item>
</channel></rss>"""
PAGE = b"""<!DOCTYPE html><html><head><title>Werkvloer</title>
<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>Hoi</body></html>"""


def trendwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("TRENDWATCH_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_config(directory: Path, body: str) -> Path:
    path = directory / "trendwatch.toml"
    path.write_text('data_dir = "data"\n' + body, encoding="utf-8")
    return path


@pytest.fixture
def site() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.no_handler_status_code = 404
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def test_sources_add_of_a_private_address_says_it_was_refused(
    site: HTTPServer, tmp_path: Path
) -> None:
    site.expect_request("/").respond_with_data(PAGE, content_type="text/html")
    site.expect_request("/feed.xml").respond_with_data(FEED, content_type=RSS)
    config = write_config(tmp_path, "")  # allow_private_networks is false by default
    before = config.read_text("utf-8")
    result = trendwatch("--config", str(config), "sources", "add", site.url_for("/"), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert "refused 127.0.0.1 (127.0.0.1): a private or local network address" in said
    assert "allow_private_networks = true" in said
    assert "no feed found" not in said
    assert site.log == []
    assert config.read_text("utf-8") == before
