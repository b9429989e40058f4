"""The PostgreSQL the tests use: each test gets a database of its own, empty, and it is
gone afterwards; without a server the tests skip, but in CI they fail."""

from __future__ import annotations

import psycopg
import pytest

from postgres_support import fresh_database, in_ci, server_url


def test_each_test_gets_an_empty_database_that_is_dropped_after(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)
    server = postgres_url.rpartition("/")[0] + "/postgres"
    with fresh_database(server) as url:
        name = url.rpartition("/")[2]
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE t (x INTEGER)")
    with psycopg.connect(server) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
        assert left.fetchone() == (0,)


def test_without_a_server_the_tests_skip_and_say_how_to_start_one() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"\.ci/postgres\.sh start"):
        server_url({})


def test_in_ci_a_missing_server_is_a_failure() -> None:
    assert in_ci({"CI": "1"}) and in_ci({"CI": "true"})
    assert not in_ci({}) and not in_ci({"CI": "0"})
    with pytest.raises(pytest.fail.Exception, match="in CI it must be set"):
        server_url({"CI": "1"})
