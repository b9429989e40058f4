"""Real headless Chromium for the browser tests: Debian's ``chromium`` driven by
Playwright (no browser download). ``TRENDWATCH_CHROMIUM`` points at another binary.

The ``browser`` fixture (``tests/conftest.py``) launches one per test module;
:func:`watched_tab` opens a tab that records what should never happen in a page."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests_support import FAKETIME_MONOTONIC_ENV, under_faketime

CHROMIUM = Path(os.environ.get("TRENDWATCH_CHROMIUM", "/usr/bin/chromium"))


def browser_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Chromium's environment: the test process's, except that under libfaketime its
    monotonic clock moves with the wall clock, as libfaketime does by default (the test
    process leaves its own alone, see ``tests/conftest.py``: Chromium does not load a
    page with a real monotonic clock and a moved wall clock under libfaketime 0.9.10)."""
    env = dict(environ)
    if under_faketime(env):
        env.pop(FAKETIME_MONOTONIC_ENV, None)
    return env


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, closed afterwards; a clear failure when there is none."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests use Debian's Chromium: "
            "install it with `apt-get install chromium` (.ci/run does), or point "
            "TRENDWATCH_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "The browser tests need Playwright's Python package: pip install playwright "
            "(no browser download is needed).",
            pytrace=False,
        )
    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, env=browser_env(os.environ)
        )
        try:
            yield instance
        finally:
            instance.close()


@contextmanager
def watched_tab(browser: Any, locale: str = "nl-NL") -> Iterator[tuple[Any, list[str]]]:
    """A tab in a fresh context (``locale`` sets Accept-Language) and the list it fills
    with console errors and warnings, page errors and dialogs (dismissed)."""
    context = browser.new_context(locale=locale)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    try:
        yield tab, problems
    finally:
        context.close()
