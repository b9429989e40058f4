"""PostgreSQL for the tests: the server that ``.ci/postgres.sh`` starts, found through
``$TRENDWATCH_TEST_POSTGRES_URL``, and a fresh empty database per test on it.

Without that variable the tests that need PostgreSQL are skipped, saying how to start
one; in CI (``$CI`` set, as ``.ci/run`` does) its absence is a failure instead."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

POSTGRES_URL_ENV = "TRENDWATCH_TEST_POSTGRES_URL"
NO_SERVER = (
    f"PostgreSQL tests need ${POSTGRES_URL_ENV}: start a throw-away server with"
    ' `eval "$(.ci/postgres.sh start)"` (README, "Run the tests")'
)


def in_ci(environ: Mapping[str, str]) -> bool:
    """True where a missing PostgreSQL is a failure, not a skip (``CI`` set, not 0/false)."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def server_url(environ: Mapping[str, str] = os.environ) -> str:
    """The test server's URL; skips the test without one (fails it in CI)."""
    url = environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        if in_ci(environ):
            pytest.fail(f"{NO_SERVER}; in CI it must be set", pytrace=False)
        pytest.skip(NO_SERVER)
    return url


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new empty database on the server at ``url``, dropped afterwards; yields its URL."""
    import psycopg

    name = f"tw_test_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
