"""`trendwatch status` as a reader sees it: plain English counts, and a table that
reads well in an 80-column terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.cli import plural
from tests_support import REPO


def trendwatch(*args: str, cwd: Path, columns: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": str(columns), "NO_COLOR": "1"}
    env.pop("TRENDWATCH_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plural_in_english() -> None:
    assert plural(0, "subscriber") == "0 subscribers"
    assert plural(1, "subscriber") == "1 subscriber"
    assert plural(2, "subscriber") == "2 subscribers"
    assert plural(1, "story", "stories") == "1 story"
    assert plural(3, "story", "stories") == "3 stories"
    assert plural(1, "match", "matches") == "1 match"


AUDIENCES = """
from = "Trendwatch <digest@example.nl>"
[[watchlists]]
name = "werk"
title = "Werk"
query = "werk"
[[subscribers]]
email = "anne@example.nl"
name = "Anne"
language = "nl"
watchlists = ["werk"]
[[subscribers]]
email = "john@example.com"
name = "John"
language = "en"
watchlists = ["werk"]
[[subscribers]]
email = "jane@example.com"
name = "Jane"
language = "en"
watchlists = ["werk"]
"""


def test_status_counts_subscribers_in_singular_and_plural(make_settings, tmp_path: Path) -> None:
    settings = make_settings(AUDIENCES)
    result = trendwatch("--config", str(settings.path), "status", cwd=tmp_path, columns=200)
    assert result.returncode == 0, result.stderr
    lines = {x.split(":")[0]: x for x in result.stdout.splitlines() if "Next digest" in x}
    assert lines["Next digest nl-werk"].endswith("(1 subscriber)")
    assert lines["Next digest en-werk"].endswith("(2 subscribers)")
    assert "0 articles; this week 0 new articles, 0 matches and 0 stories." in result.stdout
