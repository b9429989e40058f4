"""``trendwatch sources add/import/export/enable``, ``crawl --all`` and ``status`` through
the click CLI (in process, with CliRunner) against servers on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from crawlers.opml import parse_opml
from pipeline.cli import cli
from pipeline.settings import load_settings
from tests_support import REPO

OPML = REPO / "tests" / "fixtures" / "feeds" / "subscriptions.opml"
RSS = "application/rss+xml; charset=utf-8"
CONFIG = """# Mijn trendwatch: handgeschreven, met commentaar dat moet blijven staan.
data_dir = "data"
allow_private_networks = true   # de testsites draaien op 127.0.0.1

[crawl]
per_host_delay = 0

[[sources]]
name = "Bestaand"
url = "https://bestaand.test.invalid/feed.xml"
categories = ["HR"]

[[watchlists]]
name = "werk"
title = "Werk"
query = "werk"
"""
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Werkvloer Nieuws</title><link>https://werkvloer.test/</link>
<language>nl-NL</language>
<item><title>Een bericht</title><link>https://werkvloer.test/1</link><guid>w-1</guid></item>
</channel></rss>"""
PAGE = b"""<!DOCTYPE html><html lang="nl"><head><title>Werkvloer</title>
<link rel="alternate" type="application/rss+xml" title="Nieuws" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="Reacties" href="/reacties.xml">
</head><body><p>Welkom.</p></body></html>"""
BARE = b"<!DOCTYPE html><html><head><title>Geen feed</title></head><body>Hallo</body></html>"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "trendwatch.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"COLUMNS": "250", "NO_COLOR": "1"}
    )


def test_sources_add_discovers_the_feed_and_appends_it(site: HTTPServer, config: Path) -> None:
    site.expect_request("/").respond_with_data(PAGE, content_type="text/html")
    site.expect_request("/feed.xml").respond_with_data(FEED, content_type=RSS)
    site.expect_request("/reacties.xml").respond_with_data(
        FEED.replace(b"Werkvloer Nieuws", b"Reacties"), content_type=RSS
    )
    result = run(config, "sources", "add", site.url_for("/"), "--category", "Nieuws")
    assert result.exit_code == 0, result.output
    feed = site.url_for("/feed.xml")
    assert f'url = "{feed}"' in result.output
    assert site.url_for("/reacties.xml") in result.output  # the other feed, offered
    text = config.read_text("utf-8")
    assert text.startswith(CONFIG)  # the existing text, byte for byte
    assert text[len(CONFIG) :].splitlines()[2:] == [
        "[[sources]]",
        'name = "Werkvloer Nieuws"',
        'type = "feed"',
        f'url = "{feed}"',
        'language = "nl"',
        'categories = ["Nieuws"]',
    ]
    added = load_settings(config).sources[-1]
    assert (added.name, added.url, added.language, added.categories) == (
        "Werkvloer Nieuws",
        feed,
        "nl",
        ("Nieuws",),
    )
    # the same site again, or the feed URL itself, or a name in use: refused, file unchanged
    for args in (
        [site.url_for("/")],
        [feed],
        [site.url_for("/reacties.xml"), "--name", "bestaand"],
    ):
        again = run(config, "sources", "add", *args)
        assert again.exit_code == 2, again.output
        assert "configured already" in again.output or "exists already" in again.output
    assert config.read_text("utf-8") == text


def test_sources_add_without_a_feed_is_bad_usage(site: HTTPServer, config: Path) -> None:
    site.expect_request("/").respond_with_data(BARE, content_type="text/html")
    result = run(config, "sources", "add", site.url_for("/"))
    assert result.exit_code == 2
    assert "no feed found at " + site.url_for("/") in " ".join(result.output.split())
    assert config.read_text("utf-8") == CONFIG


def test_opml_import_export_round_trip(tmp_path: Path, config: Path) -> None:
    imported = run(config, "sources", "import", str(OPML))
    assert imported.exit_code == 0, imported.output
    assert "Imported 4 sources" in imported.output
    assert config.read_text("utf-8").startswith(CONFIG)
    settings = load_settings(config)
    cats = {s.url: s.categories for s in settings.sources}
    assert cats["https://hrnieuws.test.invalid/feed"] == ("HR", "Tech")
    assert cats["https://zorgwerk.test.invalid/rss.xml"] == ("HR", "Nederland")
    assert cats["https://untitled.test.invalid/atom.xml"] == ("Tech", "Work/Remote", "Leadership")
    assert cats["https://top.test.invalid/index.xml"] == ()
    assert {s.name for s in settings.sources} >= {"Bestaand", "HR Nieuws", "Zorgwerk"}
    assert settings.sources[1].language == "nl"

    out = tmp_path / "export.opml"
    exported = run(config, "sources", "export", "--output", str(out))
    assert exported.exit_code == 0, exported.output
    feeds = parse_opml(out.read_bytes())
    assert {(f.xml_url, f.categories) for f in feeds} == set(cats.items())
    assert {f.title for f in feeds} == {s.name for s in settings.sources}

    # importing the export again adds nothing
    before = config.read_text("utf-8")
    again = run(config, "sources", "import", str(out))
    assert again.exit_code == 0, again.output
    assert "Imported 0 sources" in again.output and "skipped 5" in again.output
    assert config.read_text("utf-8") == before

    # and into an empty config it brings back the same sources
    fresh = tmp_path / "fresh" / "trendwatch.toml"
    fresh.parent.mkdir()
    fresh.write_text('data_dir = "data"\n', encoding="utf-8")
    assert run(fresh, "sources", "import", str(out)).exit_code == 0
    copied = load_settings(fresh).sources
    assert {(s.name, s.url, s.categories) for s in copied} == {
        (s.name, s.url, s.categories) for s in settings.sources
    }
    # on standard output too
    stdout = run(config, "sources", "export")
    assert stdout.exit_code == 0 and stdout.output.startswith("<?xml")


def test_bad_opml_is_bad_usage(tmp_path: Path, config: Path) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_text("<html><body>no</body></html>", encoding="utf-8")
    result = run(config, "sources", "import", str(bad))
    assert result.exit_code == 2 and "not an OPML document" in result.output
    assert config.read_text("utf-8") == CONFIG


@pytest.mark.both_databases
def test_crawl_all_status_and_enable(
    site: HTTPServer, config: Path, configured_database: str
) -> None:
    site.expect_request("/feed.xml").respond_with_data(FEED, content_type=RSS)
    site.expect_request("/gone.xml").respond_with_data("weg", status=410)
    config.write_text(
        CONFIG.replace("https://bestaand.test.invalid/feed.xml", site.url_for("/feed.xml"))
        + f'[[sources]]\nname = "Weg"\nurl = "{site.url_for("/gone.xml")}"\n',
        encoding="utf-8",
    )
    first = run(config, "crawl")
    assert first.exit_code == 0, first.output
    assert "gone (410), disabled" in first.output
    assert "2 sources, 1 new article, 1 failed (1 gone (410) and disabled)." in first.output
    second = run(config, "crawl")
    assert second.exit_code == 0 and "No source is due" in second.output
    forced = run(config, "crawl", "--all")
    assert forced.exit_code == 0 and "1 source, 0 new articles, 0 failed." in forced.output
    assert run(config, "crawl", "--source", "Onbekend").exit_code == 2

    table = run(config, "status")
    assert table.exit_code == 0, table.output
    for text in ("  gone  ", "410 Gone on", "next poll"):
        assert text in table.output, text
    data = json.loads(run(config, "status", "--json").output)
    gone = next(s for s in data["sources"] if s["name"] == "Weg")
    assert gone["health"] == "gone, disabled" and gone["disabled_reason"].startswith("410 Gone")
    assert gone["next_poll"] is None and gone["consecutive_errors"] == 1
    ok = next(s for s in data["sources"] if s["name"] == "Bestaand")
    assert ok["health"] == "ok" and ok["poll_interval"] and ok["type"] == "feed"

    enabled = run(config, "sources", "enable", "Weg")
    assert enabled.exit_code == 0, enabled.output
    assert "Weg" in run(config, "crawl").output
    assert run(config, "sources", "enable", "Onbekend").exit_code == 2
