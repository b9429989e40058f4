"""What the crawl job records when the private-network guard refuses a full-text page or
a blog's redirect: ``crawl_job.crawl`` against servers on 127.0.0.1, which plays a public site
(the guard's address test is told so) that points into private addresses."""

from __future__ import annotations

import logging
import sys

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from crawlers import netguard
from crawlers.blog import runner
from pipeline.crawl import job as crawl_job
from pipeline.store import Store

RSS = "application/rss+xml; charset=utf-8"
TEASERS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Teasers</title><link>https://example.test/</link>
<item><title>Intern bericht</title><link>http://10.0.0.1/nieuws/intern</link>
<guid>t-1</guid><description>Een korte tekst ... Lees verder</description></item>
</channel></rss>"""
# The blog child, with 127.0.0.1 taken for a public address, as in the parent.
PUBLIC_LOCALHOST_CHILD = """
import crawlers.netguard as netguard
import crawlers.blog.spider as spider
real = netguard.is_public_address
spider.is_public_address = lambda a: a == "127.0.0.1" or real(a)
from crawlers.blog.child import main
raise SystemExit(main())
"""


@pytest.fixture
def public_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    real = netguard.is_public_address
    monkeypatch.setattr(netguard, "is_public_address", lambda a: a == "127.0.0.1" or real(a))
    command = [sys.executable, "-c", PUBLIC_LOCALHOST_CHILD]
    monkeypatch.setattr(runner, "child_command", lambda: command)


def test_a_full_text_page_on_a_private_address_is_recorded_as_refused(
    site: HTTPServer, make_settings, public_localhost: None, caplog: pytest.LogCaptureFixture
) -> None:
    site.expect_request("/teasers.xml").respond_with_data(TEASERS, content_type=RSS)
    settings = make_settings(
        "[crawl]\nper_host_delay = 0\n"
        f'[[sources]]\nname = "Teasers"\nurl = "{site.url_for("/teasers.xml")}"\n'
        "full_text = true\n"
    )
    assert settings.allow_private_networks is False
    with Store(settings.db_path) as store, caplog.at_level(logging.INFO, "trendwatch"):
        [report] = crawl_job.crawl(settings, store)
    assert (report.status, report.new, report.full_text) == ("ok", 1, 0)
    assert report.warning == "full text: 1 of 1 pages not used (private-address: 1)"
    logged = [r.getMessage() for r in caplog.records if "no full text" in r.getMessage()]
    assert len(logged) == 1
    assert "refused 10.0.0.1 (10.0.0.1): a private or local network address" in logged[0]
    assert "robots" not in logged[0]


def test_a_blog_whose_start_page_redirects_to_a_private_address_fails_and_says_why(
    site: HTTPServer, make_settings, public_localhost: None
) -> None:
    site.expect_request("/").respond_with_response(
        Response(status=302, headers={"Location": "http://10.0.0.1/blog/"})
    )
    settings = make_settings(
        f'[[sources]]\nname = "Blog"\ntype = "blog"\nurl = "{site.url_for("/")}"\n'
        "delay = 0\ntimeout = 60\n"
    )
    with Store(settings.db_path) as store:
        [report] = crawl_job.crawl(settings, store)
        [row] = store.sources()
    assert report.status == "error", report
    for said in (report.error, row.last_error):
        assert said and "redirect to http://10.0.0.1/blog/ refused" in said
        assert "refused 10.0.0.1 (10.0.0.1): a private or local network address" in said
    assert [request.path for request, _ in site.log if request.path != "/robots.txt"] == ["/"]
