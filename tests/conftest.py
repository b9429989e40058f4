"""Shared test helpers: fixture files and small config writers."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

from browser_support import chromium
from smtp_support import Recorder, free_port
from tests_support import (
    FAKETIME_MONOTONIC_ENV,
    clock_offset,
    faketime_moves_monotonic,
    travel,
    with_clock_offset_dir,
)

FIXTURES = Path(__file__).parent / "fixtures"
_TRAVELLER = pytest.StashKey[Any]()


def pytest_configure(config: pytest.Config) -> None:
    if faketime_moves_monotonic(os.environ):
        # Under `faketime -f +365d pytest`: start again with only the wall clock moved
        # (libfaketime reads this when it loads, so it takes a new process; the
        # children inherit it), and with clock_offset/sitecustomize.py, which mends
        # time.sleep under it. Output capture is suspended here, so the new process
        # writes to the terminal as this one would.
        env = {
            **os.environ,
            FAKETIME_MONOTONIC_ENV: "1",
            "PYTHONPATH": with_clock_offset_dir(os.environ.get("PYTHONPATH")),
        }
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    # The command line speaks the machine's language (its locale, $TRENDWATCH_LANG);
    # the tests read its English output whatever the machine, and the tests of the
    # Dutch output, or of the choice itself, say what they want.
    os.environ["TRENDWATCH_LANG"] = "en"
    # The analysis keeps packed lemma tables between runs (datacache): a directory of
    # this session's own, inherited by the processes it starts, so no test reads what
    # another session or the user's own runs left there.
    if "TRENDWATCH_CACHE_DIR" not in os.environ:
        cache = tempfile.mkdtemp(prefix="tw-test-cache-")
        os.environ["TRENDWATCH_CACHE_DIR"] = cache
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
    offset = clock_offset()
    if offset is not None:  # TW_TEST_CLOCK_OFFSET_DAYS: see tests_support
        config.stash[_TRAVELLER] = travel(offset)
        # children that keep this process's PYTHONPATH (the blog spider's) move too
        os.environ["PYTHONPATH"] = with_clock_offset_dir(os.environ.get("PYTHONPATH"))


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    offset = clock_offset()
    return None if offset is None else f"wall clock moved by {offset} (time-machine)"


@pytest.fixture
def fixture_bytes():
    def read(*parts: str) -> bytes:
        return FIXTURES.joinpath(*parts).read_bytes()

    return read


def write_config(directory: Path, body: str) -> Path:
    """Write a trendwatch.toml into ``directory`` and return its path."""
    path = directory / "trendwatch.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def make_settings(tmp_path: Path):
    """Build validated Settings from TOML text, with data_dir inside tmp_path."""
    from pipeline.settings import load_settings

    def make(body: str):
        return load_settings(write_config(tmp_path, 'data_dir = "data"\n' + body))

    return make


@pytest.fixture
def smtpd() -> Iterator[tuple[Recorder, int]]:
    """A real SMTP server on 127.0.0.1: (recorder of what arrived, port)."""
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def threaded_server() -> Iterator[HTTPServer]:
    """A server that answers requests concurrently (slow handlers block nobody)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per test module (see ``browser_support``)."""
    with chromium() as instance:
        yield instance


@pytest.fixture
def site() -> Iterator[HTTPServer]:
    """A web site on 127.0.0.1 (pytest-httpserver) that answers 404 to what it was not
    told about, as a real site does."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.no_handler_status_code = 404
    try:
        yield server
    finally:
        server.clear()
        server.stop()


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that asks for ``backend`` (or ``database``) runs against SQLite and, in a
    module marked ``pytestmark = pytest.mark.both_databases`` (its part of the store is
    ported), against PostgreSQL too: ``[sqlite]``/``[postgresql]`` in its id."""
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("backend", BACKENDS if both else BACKENDS[:1])


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str | Path:
    """What ``Store`` opens: a new SQLite file, or a new PostgreSQL database's URL."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_path / "tw.db"


@pytest.fixture
def configured_database(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The test's backend, for tests that load settings and open ``settings.database``:
    on PostgreSQL, ``$TRENDWATCH_DATABASE_URL`` names a fresh database (the settings
    loaded in the test point there); on SQLite, nothing changes."""
    if backend == "postgresql":
        monkeypatch.setenv("TRENDWATCH_DATABASE_URL", request.getfixturevalue("postgres_url"))
    else:
        monkeypatch.delenv("TRENDWATCH_DATABASE_URL", raising=False)
    return backend


@pytest.fixture(scope="module")
def module_postgres() -> Iterator[Callable[[], str]]:
    """The URL of one PostgreSQL database for a whole module, made on first call and
    dropped after the module (for modules that fill a database once)."""
    from postgres_support import fresh_database, server_url

    with ExitStack() as stack:
        made: list[str] = []

        def url() -> str:
            if not made:
                made.append(stack.enter_context(fresh_database(server_url())))
            return made[0]

        yield url


@pytest.fixture
def module_database(
    backend: str, module_postgres: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """As ``configured_database``, but on PostgreSQL the module's one database
    (``module_postgres``), so a module can fill it once for all its tests."""
    if backend == "postgresql":
        monkeypatch.setenv("TRENDWATCH_DATABASE_URL", module_postgres())
    else:
        monkeypatch.delenv("TRENDWATCH_DATABASE_URL", raising=False)
    return backend


@pytest.fixture(scope="module")
def filled_by_backend() -> dict[str, Any]:
    """What ``fill_once`` made in this module, by backend."""
    return {}


@pytest.fixture
def fill_once(
    module_database: str, filled_by_backend: dict[str, Any]
) -> Callable[[Callable[[], Any]], Any]:
    """``fill_once(fill)``: ``fill()`` on the first call in the module on this test's
    database (``module_database``), what it returned on the later ones."""

    def once(fill: Callable[[], Any]) -> Any:
        if module_database not in filled_by_backend:
            filled_by_backend[module_database] = fill()
        return filled_by_backend[module_database]

    return once


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database for this test, dropped after it
    (skipped without ``$TRENDWATCH_TEST_POSTGRES_URL``; a failure in CI)."""
    from postgres_support import fresh_database, server_url

    with fresh_database(server_url()) as url:
        yield url
