"""The pages: home, archive (and the mail's web-version link), placeholders, languages,
the digest's look, the config read again when it changes; and the package's shape."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from digests.model import Recipient
from digests.render import render_edition
from tests_support import REPO
from web import i18n
from web.app import ROUTE_MODULES, message_key
from web_support import app_for, client, edition, write_archive, write_config

BASE_URL = "https://digest.example.org/trendwatch"


def test_home_links_everything_and_no_personal_data(config: Path) -> None:
    with client(app_for(config)) as web:
        page = web.get("/")
    assert page.status_code == 200
    for href in ("/archive/", "/search", "/watchlists", "/subscribe", "/watchlists/thuiswerken"):
        assert f'href="{href}"' in page.text
    assert "Trendwatch Werk" in page.text and "Thuiswerken" in page.text
    assert "lezer@example.org" not in page.text and "Lezer" not in page.text
    assert "<script>" not in page.text and " style=" not in page.text
    assert 'src="/static/htmx.min.js"' in page.text


def test_links_go_below_the_folder_of_base_url(tmp_path: Path) -> None:
    config = write_config(tmp_path, top=f'base_url = "{BASE_URL}"')
    with client(app_for(config)) as web:
        page = web.get("/").text
        moved = web.get("/archive")
    assert 'href="/trendwatch/archive/"' in page
    assert 'href="/trendwatch/static/style.css"' in page
    assert moved.status_code == 308 and moved.headers["location"] == "/trendwatch/archive/"


def test_a_trailing_slash_leads_to_the_page_below_the_folder_of_base_url(
    tmp_path: Path,
) -> None:
    """Behind a proxy that takes the folder off, ``/watchlists/`` must not lead to
    the site's root: the redirect keeps the folder of base_url, and the query."""
    config = write_config(tmp_path, top=f'base_url = "{BASE_URL}"')
    with client(app_for(config)) as web:
        moved = web.get("/watchlists/?x=1", follow_redirects=False)
        search = web.get("/search/", follow_redirects=False)
        posted = web.post("/watchlists/", follow_redirects=False)
        unknown = web.get("/nothing-here/", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/trendwatch/watchlists?x=1"
    assert search.status_code == 308 and search.headers["location"] == "/trendwatch/search"
    assert posted.status_code in (404, 405) and "location" not in posted.headers
    assert unknown.status_code == 404 and "location" not in unknown.headers


# --- the archive ---------------------------------------------------------------------


def test_the_mails_web_version_link_opens_the_edition(tmp_path: Path) -> None:
    """A digest made with a base_url links to its web version; that link, relative to
    base_url (the proxy takes the folder off), is the archive page."""
    config = write_config(tmp_path, top=f'base_url = "{BASE_URL}"')
    made = edition(BASE_URL)
    write_archive(tmp_path / "data" / "archive", [made])
    mail = render_edition(made, recipient=Recipient("lezer@example.org", "Lezer", "nl")).html
    links = re.findall(r'href="([^"]+)"[^>]*>Bekijk deze mail in je browser', mail)
    assert links == [f"{BASE_URL}/archive/2026/W48/nl-thuiswerken.html"]
    path = urlsplit(links[0]).path.removeprefix(urlsplit(BASE_URL).path)
    with client(app_for(config)) as web:
        page = web.get(path)
        index = web.get("/archive/")
        year = web.get("/archive/2026/index.html")
    assert page.status_code == 200, path
    assert page.headers["content-type"].startswith("text/html")
    assert "Thuiswerken blijft populair" in page.text
    assert "lezer@example.org" not in page.text and "Lezer" not in page.text
    assert index.status_code == 200 and "2026/W48/nl-thuiswerken.html" in index.text
    assert year.status_code == 200


def test_the_archive_answers_what_is_not_there(tmp_path: Path, config: Path) -> None:
    with client(app_for(config)) as web:
        empty = web.get("/archive/")
        assert empty.status_code == 404 and "Er zijn nog geen edities." in empty.text
        archive = tmp_path / "data" / "archive"
        write_archive(archive, [edition(None)])
        (archive / ".index.html.tmp").write_text("half", "utf-8")
        (tmp_path / "data" / "private.txt").write_text("secret", "utf-8")
        (archive / "link.html").symlink_to(tmp_path / "data" / "private.txt")
        for path in (
            "/archive/.index.html.tmp",
            "/archive/../private.txt",
            "/archive/%2e%2e/private.txt",
            "/archive/link.html",
            "/archive/2026/W01/none.html",
        ):
            response = web.get(path)
            assert response.status_code == 404, path
            assert "secret" not in response.text
        assert web.get("/archive/2026/").status_code == 200  # a folder: its index


# --- areas, errors, languages --------------------------------------------------


def test_every_area_has_a_route_module() -> None:
    names = {m.__name__.rsplit(".", 1)[-1] for m in ROUTE_MODULES}
    expected = {"home", "archive", "session", "search", "stories", "watchlists", "subscribe"}
    assert names >= expected | {"admin"}
    for module in ROUTE_MODULES:
        assert module.__doc__ and module.routes


def test_error_messages() -> None:
    assert message_key(403, "csrf") == "error.403.csrf"
    assert message_key(404, "Not Found") == "error.404"
    assert message_key(418, "teapot") == "error.400"
    assert message_key(503, "x") == "error.500"


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "subscribers", "expected"),
    [
        ("en", None, "nl", ["nl"], "en"),
        ("xx", None, "en", ["nl"], "en"),
        (None, "en", "nl", ["nl"], "en"),
        (None, None, "de, en;q=0.8, nl;q=0.9", ["en"], "nl"),
        (None, None, "nl-BE;q=0.5, en-US", ["nl"], "en"),
        (None, None, "en;q=0, fr", ["nl", "en", "en"], "en"),
        (None, None, "", ["en", "en", "nl"], "en"),
        (None, None, None, [], "nl"),
    ],
)
def test_pick_language(
    query: str | None, cookie: str | None, accept: str | None, subscribers: list, expected: str
) -> None:
    cookies = {i18n.LANG_COOKIE: cookie} if cookie else {}
    assert i18n.pick_language(query, cookies, accept, subscribers) == expected


def test_the_language_chosen_sticks(config: Path) -> None:
    with client(app_for(config)) as web:
        assert '<html lang="nl">' in web.get("/").text
        chosen = web.get("/?lang=en")
        assert '<html lang="en">' in chosen.text
        assert "lang=en" in chosen.headers["set-cookie"]
        assert '<html lang="en">' in web.get("/").text


def test_both_languages_have_every_string() -> None:
    assert i18n.STRINGS["nl"].keys() == i18n.STRINGS["en"].keys()
    assert i18n.t("en", "week", week=48) == "Week 48"  # the digest's strings too


def test_the_pages_use_the_digests_colours_and_type() -> None:
    style = (REPO / "web" / "static" / "style.css").read_text("utf-8").lower()
    digest = (REPO / "digests" / "templates" / "_edition.css.j2").read_text("utf-8").lower()
    tokens = ("#f2f0eb", "#c8102e", "#1a1a1a", "#6b6b6b", "#5c5c5c", "georgia", "arial")
    for token in tokens:
        assert token in digest and token in style, token


# --- the config, read again when it changes -------------------------------------------


def test_a_changed_config_is_read_again_and_a_broken_one_ignored(
    tmp_path: Path, config: Path
) -> None:
    with client(app_for(config)) as web:
        assert "Trendwatch Werk" in web.get("/").text
        text = config.read_text("utf-8")
        config.write_text(text.replace("Trendwatch Werk", "Nieuwe titel"), "utf-8")
        os.utime(config, ns=(1, 10**18))  # a new mtime, whatever the file system's grain
        assert "Nieuwe titel" in web.get("/").text
        config.write_text(text.replace('query = "thuiswerken"', "query = 3"), "utf-8")
        os.utime(config, ns=(1, 2 * 10**18))
        assert "Nieuwe titel" in web.get("/").text  # the last good config


# --- the package's shape --------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_only_the_cli_imports_web() -> None:
    importers = [
        path.relative_to(REPO).as_posix()
        for package in ("crawlers", "digests", "pipeline")
        for path in sorted((REPO / package).rglob("*.py"))
        if any(name.split(".")[0] == "web" for name in _imports(path))
    ]
    assert importers == ["pipeline/cli/serve.py"]


def test_web_modules_are_documented_and_small() -> None:
    for path in sorted((REPO / "web").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        assert ast.get_docstring(tree), path
        assert len(path.read_text("utf-8").splitlines()) < 500, path
    assert not any("crawlers" in _imports(p) for p in (REPO / "web").rglob("*.py"))
