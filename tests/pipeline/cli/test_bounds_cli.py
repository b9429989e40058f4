"""Input that once hung the command line or ended in a traceback, run as a user runs it:
each command a child process, on real files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests_support import trendwatch as run_trendwatch

CONFIG = """data_dir = "data"

[[watchlists]]
name = "werk"
title = "Werk"
query = "werk"
"""


def trendwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``trendwatch --config trendwatch.toml ARGS`` in ``cwd``, as a child process; the
    long timeout guards against a hang only: the assertions are about behaviour."""
    return run_trendwatch("--config", "trendwatch.toml", *args, cwd=cwd, timeout=300)


def project(tmp_path: Path, text: str = CONFIG) -> Path:
    (tmp_path / "trendwatch.toml").write_text(text, encoding="utf-8")
    return tmp_path


# --------------------------------------------------------------------------- OPML


def test_sources_import_of_outlines_nested_100000_deep_is_refused(tmp_path: Path) -> None:
    folder = project(tmp_path)
    deep = b'<outline text="f">' * 100_000 + b"</outline>" * 100_000
    (folder / "deep.opml").write_bytes(b'<opml version="2.0"><body>' + deep + b"</body></opml>")
    done = trendwatch("sources", "import", "deep.opml", cwd=folder)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "Cannot import deep.opml: refused: elements nested more than 50 deep" in done.stderr
    assert (folder / "trendwatch.toml").read_text("utf-8") == CONFIG


def test_sources_import_shortens_a_huge_title_and_status_stays_quick(tmp_path: Path) -> None:
    folder = project(tmp_path)
    long_url = "https://x.test/" + "p" * 3000
    (folder / "big.opml").write_text(
        '<opml version="2.0"><body>'
        f'<outline text="{"x" * 4_000_000}" xmlUrl="https://big.test/feed"/>'
        f'<outline text="{"x" * 4_000_000}" xmlUrl="https://two.test/feed"/>'
        f'<outline text="Lang" xmlUrl="{long_url}"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    done = trendwatch("sources", "import", "big.opml", cwd=folder)
    assert done.returncode == 0, done.stderr
    out, err = done.stdout.replace("\n", ""), done.stderr.replace("\n", "")  # rich wraps
    name = "x" * 199 + "…"
    assert f"  added {name}: https://big.test/feed" in out
    # the same title again: the host makes it unique, and it still fits in 200 characters
    assert f"  added {'x' * 188}… (two.test): https://two.test/feed" in out
    assert f"  skipped {long_url[:79]}…: URL longer than 2,048 characters" in out
    assert f"warning: {name}: title of 4,000,000 characters shortened to 200" in err
    assert f'name = "{name}"' in (folder / "trendwatch.toml").read_text("utf-8")
    assert len((folder / "trendwatch.toml").read_bytes()) < 2000
    # the config it wrote is valid, and status shows the source without wrapping megabytes
    assert trendwatch("check", cwd=folder).returncode == 0
    status = trendwatch("status", cwd=folder)
    assert status.returncode == 0, status.stderr
    assert len(status.stdout) < 20_000


# --------------------------------------------------------------------------- the config


def test_check_refuses_a_4_mb_source_name_with_file_key_and_limit(tmp_path: Path) -> None:
    folder = project(
        tmp_path,
        CONFIG + f'[[sources]]\nname = "{"x" * 4_000_000}"\nurl = "https://x.test/feed"\n',
    )
    for command in ("check", "status"):
        done = trendwatch(command, cwd=folder)
        assert done.returncode == 2, done.stderr
        assert (
            "trendwatch.toml: sources[0].name: expected at most 200 characters, got 4,000,000"
            in done.stderr
        )
        assert len(done.stderr) < 1000


def test_check_refuses_an_infinite_timeout(tmp_path: Path) -> None:
    folder = project(tmp_path, CONFIG + "[crawl]\ntimeout = inf\n")
    done = trendwatch("check", cwd=folder)
    assert done.returncode == 2
    assert (
        "trendwatch.toml: crawl.timeout: expected a number of seconds from 0.1 to 600,"
        " got number inf" in done.stderr
    )


def test_check_of_arrays_nested_500_deep_is_a_config_error(tmp_path: Path) -> None:
    folder = project(tmp_path, CONFIG + "x = " + "[" * 500 + "]" * 500 + "\n")
    done = trendwatch("check", cwd=folder)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "trendwatch.toml: invalid TOML: arrays or inline tables nested too deeply" in done.stderr


# --------------------------------------------------------------------------- JSON Lines


def test_import_jsonl_reports_every_bad_line_instead_of_a_traceback(tmp_path: Path) -> None:
    folder = project(tmp_path)
    lines = [
        b'{"id": 1, "title": "Goed", "text": "Een goed artikel."}',
        b'{"id":2,"title":"\xff","text":"b"}',  # \xff: not UTF-8, the 18th byte
        b'{"id": ' + b"9" * 5000 + b', "title": "a", "text": "b"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "' + b"i" * 2049 + b'", "title": "a", "text": "b"}',
        b'{"id": 6, "title": "a", "text": "b", "source": "' + b"s" * 201 + b'"}',
        b'{"id": 7, "title": "a", "text": "b", "url": "https://x.test/' + b"u" * 2034 + b'"}',
    ]
    (folder / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    done = trendwatch("import", "--jsonl", "in.jsonl", cwd=folder)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "Cannot import (6 problems):",
        "in.jsonl:2: not UTF-8 text (byte 0xff at column 18)",
        "in.jsonl:3: not valid JSON (a number of more than 4300 digits)",
        "in.jsonl:4: not valid JSON (arrays or objects nested too deeply)",
        "in.jsonl:5: id: expected at most 2,048 characters, got 2,049",
        "in.jsonl:6: source: expected at most 200 characters, got 201",
        "in.jsonl:7: url: expected at most 2,048 characters, got 2,049",
        "Nothing was imported.",
    ]


def test_import_jsonl_shortens_a_long_title(tmp_path: Path) -> None:
    folder = project(tmp_path)
    line = json.dumps({"id": "t", "title": "t" * 600, "text": "Tekst."})
    (folder / "in.jsonl").write_text(line + "\n", encoding="utf-8")
    assert trendwatch("import", "--jsonl", "in.jsonl", cwd=folder).returncode == 0
    assert trendwatch("export", "--jsonl", "out.jsonl", cwd=folder).returncode == 0
    (record,) = map(json.loads, (folder / "out.jsonl").read_text("utf-8").splitlines())
    assert record["title"] == "t" * 499 + "…"


# --------------------------------------------------------------------------- secret.key


@pytest.mark.parametrize("content", [b"", b"abc\n"])
def test_a_short_secret_key_says_what_is_wrong_and_how_to_fix_it(
    tmp_path: Path, content: bytes
) -> None:
    folder = project(
        tmp_path,
        'base_url = "https://digest.example.org"\n'
        + CONFIG
        + '[[subscribers]]\nemail = "a@example.org"\nwatchlists = ["werk"]\nsend_empty = true\n',
    )
    key = folder / "data" / "secret.key"
    key.parent.mkdir()
    key.write_bytes(content)
    done = trendwatch("digest", cwd=folder)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    size = len(content.strip())
    said = (
        f"{key}: the link secret is {size} bytes; it needs at least 16. Delete the file to have"
        " a new one made (links in mails already sent stop working), or set secret_env in"
        f" {folder / 'trendwatch.toml'} to the name of an environment variable holding a secret"
        " of at least 16 characters."
    )
    # the console wraps the message where it likes (long paths too): compare it unwrapped
    assert "".join(said.split()) in "".join(done.stderr.split())
    assert list((folder / "data").glob("outbox/*.eml")) == []
    # doing what it says works: a new secret is made and the digest goes out
    key.unlink()
    again = trendwatch("digest", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert len(key.read_bytes().strip()) == 64
    assert len(list((folder / "data" / "outbox").glob("*.eml"))) == 1


# --------------------------------------------------------------------------- feeds


def test_crawl_cuts_what_a_feed_brings_in_to_the_bounds(
    tmp_path: Path, threaded_server: HTTPServer
) -> None:
    feed = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{'F' * 1000}</title><link>https://feed.test/</link>"
        f"<item><title>{'T' * 100_000}</title><link>https://feed.test/1</link>"
        f"<guid isPermaLink='false'>{'g' * 100_000}</guid>"
        f"<author>{'a' * 100_000}</author><description>Tekst.</description></item>"
        "</channel></rss>"
    )
    threaded_server.expect_request("/feed.xml").respond_with_data(
        feed, content_type="application/rss+xml; charset=utf-8"
    )
    folder = project(
        tmp_path,
        "allow_private_networks = true\n"
        + CONFIG
        + f'[[sources]]\nname = "Feed"\nurl = "{threaded_server.url_for("/feed.xml")}"\n',
    )
    done = trendwatch("crawl", cwd=folder)
    assert done.returncode == 0, done.stderr
    note = (
        "1 entry with over-long values (title shortened, author shortened, guid shortened,"
        " identity hashed)"
    )
    assert note in done.stderr.replace("\n", "")
    conn = sqlite3.connect(folder / "data" / "trendwatch.db")
    try:
        title, guid, author = conn.execute("SELECT title, guid, author FROM articles").fetchone()
        (source_title,) = conn.execute("SELECT title FROM sources").fetchone()
    finally:
        conn.close()
    assert (title, guid, author) == ("T" * 499 + "…", "g" * 2048, "a" * 199 + "…")
    assert source_title == "F" * 499 + "…"


def test_sources_add_names_a_feed_with_a_huge_title_within_the_bound(
    tmp_path: Path, threaded_server: HTTPServer
) -> None:
    feed = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{'T' * 100_000}</title><link>https://feed.test/</link>"
        "<item><title>Een</title><link>https://feed.test/1</link></item></channel></rss>"
    )
    threaded_server.expect_request("/add.xml").respond_with_data(
        feed, content_type="application/rss+xml; charset=utf-8"
    )
    folder = project(tmp_path, "allow_private_networks = true\n" + CONFIG)
    done = trendwatch("sources", "add", threaded_server.url_for("/add.xml"), cwd=folder)
    assert done.returncode == 0, done.stderr
    assert f'name = "{"T" * 199}…"' in (folder / "trendwatch.toml").read_text("utf-8")
