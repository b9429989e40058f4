"""The admin pages under Starlette's TestClient: only the admin reaches them, every form
needs its CSRF token, saving a watchlist (and the refusals that write nothing), the
sources' health and adding a source by a site's URL, the subscribers and failed
deliveries; and asking a running `trendwatch run` to reload."""

from __future__ import annotations

import os
import signal
import tomllib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import FrameType

import pytest
from pytest_httpserver import HTTPServer
from starlette.testclient import TestClient

from admin_support import fill_store, form_of, sign_in, write_admin_config
from pipeline.schedule.locks import run_lock
from pipeline.schedule.reload import ReloadRequest, ask_run_to_reload, run_pid
from pipeline.settings import load_settings
from pipeline.store import Store
from pipeline.store.subscribers import Preferences
from web.admin_work import admin_work
from web_support import ADMIN_ENV, ADMIN_TOKEN, LOCAL, NOW, REMOTE, app_for, client

LATER = NOW + timedelta(days=1)

GET_PAGES = [
    "/admin",
    "/admin/watchlists",
    "/admin/watchlists/new",
    "/admin/watchlists/thuiswerken/edit",
    "/admin/watchlists/preview?query=banen",
    "/admin/sources",
    "/admin/subscribers",
]
FORMS = {
    "/admin/watchlists": {"name": "vakbonden", "title": "Vakbonden", "query": "fnv", "editing": ""},
    "/admin/watchlists/preview": {"query": "fnv", "editing": ""},
    "/admin/sources": {"url": "http://127.0.0.1:9/", "name": "", "language": ""},
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    config = write_admin_config(tmp_path)
    fill_store(config)
    return config


@pytest.fixture
def web(config: Path) -> Iterator[TestClient]:
    """The admin: a browser on this machine, no token configured."""
    with client(app_for(config), peer=LOCAL) as admin:
        yield admin


def saved(web: TestClient, form: dict[str, str], page: str = "/admin/watchlists/new"):
    _, token = form_of(web, page)
    return web.post("/admin/watchlists", data={**form, "csrf": token})


def matches(config: Path, watchlist: str) -> int:
    with Store(load_settings(config).database) as store:
        return store.watchlist_match_counts(NOW - timedelta(days=365)).get(watchlist, 0)


# --- who may -------------------------------------------------------------------------


def test_strangers_are_sent_to_sign_in_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADMIN_ENV, ADMIN_TOKEN)
    config = write_admin_config(tmp_path, web=f'[web]\nadmin_token_env = "{ADMIN_ENV}"\n')
    before = config.read_bytes()
    with client(app_for(config), peer=REMOTE) as web:
        for path in GET_PAGES:
            response = web.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/admin/login?next=/admin")
        for path, form in FORMS.items():
            assert web.post(path, data=form).status_code == 403, path
        sign_in(web)
        for path in GET_PAGES:
            response = web.get(path)
            assert response.status_code == 200, path
            assert response.headers["x-robots-tag"] == "noindex"  # personal data
    assert config.read_bytes() == before


def test_without_a_token_only_this_machine_is_admin(config: Path) -> None:
    with client(app_for(config), peer=REMOTE) as web:
        for path in GET_PAGES:
            assert web.get(path).status_code == 403, path


@pytest.mark.parametrize("path", list(FORMS))
def test_every_admin_form_needs_its_csrf_token(web: TestClient, config: Path, path: str) -> None:
    before = config.read_bytes()
    _, token = form_of(web, "/admin/watchlists/new")
    form = FORMS[path]
    assert web.post(path, data=form).status_code == 403
    assert web.post(path, data={**form, "csrf": "forged" + token}).status_code == 403
    foreign = {"Origin": "https://evil.example"}
    assert web.post(path, data={**form, "csrf": token}, headers=foreign).status_code == 403
    assert config.read_bytes() == before


# --- watchlists ------------------------------------------------------------------------


def test_saving_a_new_watchlist_writes_it_and_matches_the_stored_articles(
    web: TestClient, config: Path
) -> None:
    form = {"name": "kantoor", "title": "Kantoor", "query": "office OR kantoor", "editing": ""}
    response = saved(web, form)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/watchlists/kantoor/edit?saved=1&run=none"
    assert load_settings(config).watchlist("kantoor").query == "office OR kantoor"
    assert admin_work(web).rematcher.wait(60)
    assert matches(config, "kantoor") == 1  # "Managers want the office back"
    page = web.get(response.headers["location"] + "&lang=en")
    assert "Saved in the config." in page.text
    assert "No trendwatch run is running" in page.text
    assert 'value="office OR kantoor"' not in page.text  # a textarea, not an input
    assert ">office OR kantoor</textarea>" in page.text
    listing = web.get("/admin/watchlists")
    assert "kantoor" in listing.text


def test_editing_a_query_matches_the_stored_articles_again(web: TestClient, config: Path) -> None:
    form = {"name": "banen", "title": "Banen", "query": "managers", "editing": "banen"}
    response = saved(web, form, "/admin/watchlists/banen/edit")
    assert response.status_code == 303
    assert admin_work(web).rematcher.wait(60)
    assert matches(config, "banen") == 1
    data = tomllib.loads(config.read_text("utf-8"))
    assert data["watchlists"][1] == {
        "name": "banen",
        "title": "Banen",
        "query": "managers",
        "entities": ["Jumbo"],
    }


def test_an_invalid_query_is_refused_with_its_message_and_nothing_is_written(
    web: TestClient, config: Path
) -> None:
    before = config.read_bytes()
    form = {"name": "vakbonden", "title": "Vakbonden", "query": 'fnv "cnv', "editing": ""}
    response = saved(web, form)
    assert response.status_code == 400
    assert "unbalanced quote at position 5" in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="vakbonden"' in response.text and ">fnv &#34;cnv</textarea>" in response.text
    assert config.read_bytes() == before


def test_a_duplicate_name_is_refused_and_nothing_is_written(web: TestClient, config: Path) -> None:
    before = config.read_bytes()
    form = {"name": "thuiswerken", "title": "Nog eens", "query": "thuis", "editing": ""}
    response = saved(web, form)
    assert response.status_code == 409
    assert "a watchlist named &#39;thuiswerken&#39; exists already" in response.text
    assert config.read_bytes() == before


def test_a_config_the_service_may_not_write_is_said_so_and_left_alone(
    web: TestClient, config: Path, site: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as under systemd, where /etc/trendwatch is root's and the service only reads it
    def refused(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("digests.fsutil.os.replace", refused)  # the one atomic write
    before = config.read_bytes()
    form = {"name": "vakbonden", "title": "Vakbonden", "query": "fnv", "editing": ""}
    response = saved(web, form)
    assert response.status_code == 500
    assert "(Permission denied): the file and its folder must be writable" in response.text
    site.expect_request("/").respond_with_data(PAGE, content_type="text/html")
    site.expect_request("/feed.xml").respond_with_data(FEED, content_type="application/rss+xml")
    _, token = form_of(web, "/admin/sources")
    added = web.post("/admin/sources", data={"url": site.url_for("/"), "csrf": token})
    assert added.status_code == 500 and "must be writable" in added.text
    assert config.read_bytes() == before
    assert sorted(p.name for p in config.parent.iterdir()) == ["data", "trendwatch.toml"]


def test_an_unknown_watchlist_has_no_edit_page(web: TestClient) -> None:
    assert web.get("/admin/watchlists/onbekend/edit").status_code == 404


# --- sources ---------------------------------------------------------------------------

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Werkvloer Nieuws</title><link>https://werkvloer.test/</link>
<language>nl-NL</language>
<item><title>Een bericht</title><link>https://werkvloer.test/1</link><guid>w-1</guid></item>
</channel></rss>"""
PAGE = b"""<!DOCTYPE html><html><head><title>Werkvloer</title>
<link rel="alternate" type="application/rss+xml" title="Nieuws" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="Reacties" href="/reacties.xml">
</head><body>Welkom.</body></html>"""


def test_the_sources_page_shows_each_sources_health(web: TestClient) -> None:
    page = web.get("/admin/sources?lang=en")
    assert page.status_code == 200
    for name in ("HR Nieuws", "Work News", "Later"):
        assert name in page.text
    assert page.text.count("never fetched") == 3
    assert "No trendwatch run is running." in page.text


def test_a_source_is_added_by_its_sites_url(
    web: TestClient, config: Path, site: HTTPServer
) -> None:
    site.expect_request("/").respond_with_data(PAGE, content_type="text/html")
    site.expect_request("/feed.xml").respond_with_data(FEED, content_type="application/rss+xml")
    reacties = FEED.replace(b"Werkvloer Nieuws", b"Reacties")
    site.expect_request("/reacties.xml").respond_with_data(reacties, content_type="text/xml")
    before = config.read_text("utf-8")
    _, token = form_of(web, "/admin/sources")
    form = {"url": site.url_for("/"), "name": "", "language": "", "csrf": token}
    response = web.post("/admin/sources", data=form)
    assert response.status_code == 303, response.text
    after = config.read_text("utf-8")
    assert after.startswith(before)  # appended, the text before kept as it was
    added = load_settings(config).sources[-1]
    assert (added.name, added.url, added.language) == (
        "Werkvloer Nieuws",
        site.url_for("/feed.xml"),
        "nl",
    )
    page = web.get(response.headers["location"] + "&lang=en")
    assert "Added: Werkvloer Nieuws." in page.text
    assert site.url_for("/reacties.xml") in page.text  # the other feed it offers
    assert "Werkvloer Nieuws" in page.text.split("<tbody>")[1]  # in the table


def test_a_site_without_a_feed_is_refused_and_nothing_is_written(
    web: TestClient, config: Path, site: HTTPServer
) -> None:
    site.expect_request("/").respond_with_data(b"<html><body>Hallo</body></html>")
    before = config.read_bytes()
    _, token = form_of(web, "/admin/sources")
    for form, message in (
        ({"url": site.url_for("/"), "language": ""}, "no feed found at "),
        ({"url": "ftp://example.org/", "language": ""}, "expected an absolute http(s) URL"),
        ({"url": site.url_for("/"), "language": "dutch"}, "two-letter code"),
    ):
        response = web.post("/admin/sources?lang=en", data={**form, "csrf": token})
        assert response.status_code == 400
        assert message in response.text and "Not added" in response.text
    assert config.read_bytes() == before


# --- subscribers -----------------------------------------------------------------------


def test_the_subscribers_page_shows_who_gets_what_and_failed_deliveries(
    web: TestClient, config: Path
) -> None:
    with Store(load_settings(config).database) as store:
        edition = store.add_edition(
            {
                "key": "2026-W48/nl-all",
                "slug": "nl-all",
                "title": "Trendwatch Werk",
                "language": "nl",
                "period_start": "2026-11-23T00:00:00+00:00",
                "period_end": "2026-11-30T00:00:00+00:00",
                "year": 2026,
                "week": 48,
                "watchlists": "[]",
                "item_count": 0,
                "archive_path": "2026/W48/nl-all.html",
                "data": "{}",
                "built_at": NOW.isoformat(),
            }
        )
        ok = store.ensure_delivery(edition, "anne@example.org", NOW)
        store.finish_delivery(ok.id, "sent", NOW)
        bad = store.ensure_delivery(edition, "bert@example.org", NOW)
        store.claim_delivery(bad.id, "smtp", "<m@x>")
        store.finish_delivery(bad.id, "failed", NOW, error="550 5.1.1 <b>no such user</b>")
        # a reader who signed up on the site and confirmed, and a config reader who left
        wanted = Preferences("Carla", "nl", ("thuiswerken",))
        store.add_subscribe_request(
            "carla@example.org", wanted, consent="ja", nonce=7, now=NOW, expires=LATER
        )
        assert store.confirm_request(7, NOW) is not None
        left = Preferences("Bert", "nl", ("banen",))
        assert store.unsubscribe("bert@example.org", version=0, now=LATER, preferences=left)
    page = web.get("/admin/subscribers?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "anne@example.org" in text and "Thuiswerken, Banen" in text
    assert "Monday 07:00" in text and "Europe/Amsterdam" in text
    assert "1 sent, 0 failed, 0 waiting" in text and "last on 30 Nov 2026" in text
    failed = text.split("Failed deliveries")[1]
    assert "bert@example.org" in failed and "2026-W48/nl-all" in failed
    assert "failed after 1 attempts" in failed
    assert "550 5.1.1 &lt;b&gt;no such user&lt;/b&gt;" in failed  # escaped
    site = text.split("Signed up on the site")[1].split("Unsubscribed")[0]
    assert "carla@example.org" in site and "Thuiswerken" in site and "30 Nov 2026" in site
    gone = text.split("Unsubscribed")[1].split("Failed deliveries")[0]
    assert "bert@example.org" in gone and "1 Dec 2026" in gone


def test_the_overview_counts(web: TestClient) -> None:
    page = web.get("/admin?lang=en")
    assert "2 topics" in page.text and "3 sources, 0 of them with problems" in page.text
    assert "1 subscribers; 0 failed deliveries." in page.text


# --- asking the run to reload ------------------------------------------------------------


def test_nobody_is_asked_to_reload_when_no_run_holds_the_data_folder(tmp_path: Path) -> None:
    assert run_pid(tmp_path) is None
    assert ask_run_to_reload(tmp_path) == ReloadRequest(None, False)
    with run_lock(tmp_path):
        pass  # held and let go: the file stays, naming nobody
    assert run_pid(tmp_path) is None


def test_the_run_holding_the_data_folder_gets_sighup(tmp_path: Path) -> None:
    got: list[int] = []

    def on_hup(signum: int, frame: FrameType | None) -> None:
        got.append(signum)

    proc = tmp_path / "proc"
    (proc / str(os.getpid())).mkdir(parents=True)
    previous = signal.signal(signal.SIGHUP, on_hup)
    try:
        with run_lock(tmp_path / "data"):
            assert run_pid(tmp_path / "data") == os.getpid()
            # a process that is not trendwatch (another PID namespace) is left alone
            (proc / str(os.getpid()) / "cmdline").write_bytes(b"nginx\0-g\0")
            request = ask_run_to_reload(tmp_path / "data", proc=proc)
            assert request.pid == os.getpid() and not request.sent and got == []
            cmdline = b"/usr/bin/python3\0-m\0pipeline\0--config\0t.toml\0run\0"
            (proc / str(os.getpid()) / "cmdline").write_bytes(cmdline)
            assert ask_run_to_reload(tmp_path / "data", proc=proc) == ReloadRequest(
                os.getpid(), True
            )
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert got == [signal.SIGHUP]
