"""What the command line says and returns when the private-network guard refuses a site,
and when a crawl has no success: ``trendwatch`` as a child process, servers on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer

from tests_support import trendwatch

RSS = "application/rss+xml; charset=utf-8"
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Werkvloer</title><link>https://werkvloer.test/</link>
<item><title>Een bericht</title><link>https://werkvloer.test/1</link><guid>w-1</guid></item>
</channel></rss>"""
PAGE = b"""<!DOCTYPE html><html><head><title>Werkvloer</title>
<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>Hoi</body></html>"""


def write_config(directory: Path, body: str) -> Path:
    path = directory / "trendwatch.toml"
    path.write_text('data_dir = "data"\n' + body, encoding="utf-8")
    return path


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


def test_crawl_exits_1_when_no_source_succeeded(site: HTTPServer, tmp_path: Path) -> None:
    site.expect_request("/broken.xml").respond_with_data("kapot", status=500)
    site.expect_request("/feed.xml").respond_with_data("weg", status=404)
    config = write_config(
        tmp_path,
        "allow_private_networks = true\n[crawl]\nper_host_delay = 0\n"
        f'[[sources]]\nname = "Kapot"\nurl = "{site.url_for("/broken.xml")}"\n'
        f'[[sources]]\nname = "Werkvloer"\nurl = "{site.url_for("/feed.xml")}"\n',
    )
    failed = trendwatch("--config", str(config), "crawl", cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "2 sources, 0 new articles, 2 failed; no source succeeded." in failed.stdout

    # one success among the failures: exit 0
    site.clear()
    site.expect_request("/broken.xml").respond_with_data("kapot", status=500)
    site.expect_request("/feed.xml").respond_with_data(
        FEED, content_type=RSS, headers={"ETag": '"v1"'}
    )
    mixed = trendwatch("--config", str(config), "crawl", "--all", cwd=tmp_path)
    assert mixed.returncode == 0, mixed.stdout + mixed.stderr
    assert "2 sources, 1 new article, 1 failed." in mixed.stdout

    # a 304 Not Modified is a success too
    site.clear()
    site.expect_request("/broken.xml").respond_with_data("kapot", status=500)
    site.expect_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    unchanged = trendwatch("--config", str(config), "crawl", "--all", cwd=tmp_path)
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert "not modified" in unchanged.stdout
    assert "2 sources, 0 new articles, 1 failed." in unchanged.stdout

    # only the failing source: exit 1
    alone = trendwatch("--config", str(config), "crawl", "--source", "Kapot", cwd=tmp_path)
    assert alone.returncode == 1, alone.stdout + alone.stderr
    assert "1 source, 0 new articles, 1 failed; no source succeeded." in alone.stdout
