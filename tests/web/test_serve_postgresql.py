"""``trendwatch serve`` on PostgreSQL (``$TRENDWATCH_DATABASE_URL``): a real child
process over HTTP, on a database filled by the real crawl and process jobs. Every
public page answers, and a change another process commits (``trendwatch import`` and
``process``) shows on the very next request of a page the server keeps in its page
cache (PostgreSQL's change counter, :mod:`pipeline.store.changes`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_web_serve import Served, fetch

from pages_support import seeded, story_of
from smtp_support import free_port
from tests_support import child_env
from web_support import SECRET, SECRET_ENV

TITLE = "Gemeenten in Zeeland laten ambtenaren voortaan vaker thuiswerken"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Served, Path, str]]:
    """A served site on a PostgreSQL database of the module's own; (server, config, URL)."""
    from postgres_support import fresh_database, server_url

    with ExitStack() as stack, pytest.MonkeyPatch.context() as env:
        url = stack.enter_context(fresh_database(server_url()))
        env.setenv("TRENDWATCH_DATABASE_URL", url)
        env.setenv(SECRET_ENV, SECRET)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tw-serve-pg-")))
        config = seeded(folder, datetime.now(UTC))
        port = free_port()
        server = Served(config, port, "serve", "--port", str(port))
        try:
            yield server.start(), config, url
        finally:
            server.kill()


def test_every_public_page_answers_from_postgresql(served: tuple[Served, Path, str]) -> None:
    server, config, _ = served
    story = story_of(config, "https://nos.example/jumbo")
    for path in (
        "/",
        "/search?q=banen",
        "/search?q=thuiswerken&lang=nl&order=date",
        f"/stories/{story}",
        "/watchlists",
        "/watchlists/thuiswerken",
        "/watchlists/thuiswerken.atom",
        "/subscribe",
    ):
        # the first search loads the lemmatiser (spaCy and its tables): seconds, and
        # more than fetch's usual 10 on a loaded machine
        status, _, body = fetch(server.base + path, timeout=120 if "q=" in path else 10)
        assert status == 200, (path, body[:500])
        assert "Traceback" not in body
    _, _, found = fetch(server.base + "/search?q=banen")
    assert "Jumbo schrapt 300 <mark>banen</mark>" in found
    assert fetch(server.base + "/stories/123456789")[0] == 404
    assert not (config.parent / "data" / "trendwatch.db").exists()  # nothing on SQLite


def test_a_change_by_another_process_shows_on_the_next_request(
    served: tuple[Served, Path, str], tmp_path: Path
) -> None:
    server, config, url = served
    page = server.base + "/watchlists/thuiswerken"
    first = fetch(page)[2]
    assert fetch(page)[2] == first  # kept: the same page
    assert TITLE not in first
    index = fetch(server.base + "/watchlists")[2]

    article = {
        "id": "zeeland-1",
        "title": TITLE,
        "text": "De Zeeuwse gemeenten laten hun ambtenaren voortaan vaker thuiswerken."
        " Hybride werken blijft, zeggen de werkgevers.",
        "url": "https://pzc.example/thuiswerken-zeeland",
        "published": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": "PZC",
    }
    data = tmp_path / "new.jsonl"
    data.write_text(json.dumps(article) + "\n", encoding="utf-8")
    for args in (("import", "--jsonl", str(data)), ("process",)):  # another process
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "--config", str(config), *args],
            env={**child_env(NO_COLOR="1"), "TRENDWATCH_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr

    assert TITLE in fetch(page)[2]  # the next request, no waiting
    after = fetch(server.base + "/watchlists")[2]
    assert _count(after) == _count(index) + 1


def _count(html: str) -> int:
    """This week's article count of 'thuiswerken' on the watchlists index."""
    row = re.search(r'href="/watchlists/thuiswerken".*?(\d+) artikel', html, re.S)
    assert row, html[-1500:]
    return int(row.group(1))
