"""``trendwatch backup`` on PostgreSQL: a pg_dump custom-format dump, 0600, named as
SQLite's backups are, that pg_restore brings back into a fresh database with every row;
a clear refusal (status 2) naming the tool when pg_dump is missing or older than the
server; the password never on a command line nor in what is printed."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from jsonl_support import ARTICLES, CONFIG
from pipeline.cli import cli
from pipeline.store.dump import (
    dump_tool_problem,
    libpq_target,
    server_major,
    tool_major,
)
from postgres_support import fresh_database, server_url

NAME = re.compile(r"trendwatch-\d{8}-\d{6}\.dump")


def _invoke(config: Path, *args: str, url: str) -> Result:
    runner = CliRunner(env={"TRENDWATCH_DATABASE_URL": url})
    return runner.invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


@pytest.fixture
def filled(tmp_path: Path, postgres_url: str) -> tuple[Path, str]:
    """A config and a PostgreSQL database with the import's articles, processed."""
    config = tmp_path / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    for args in (("import", "--jsonl", str(source)), ("process",)):
        assert _invoke(config, *args, url=postgres_url).exit_code == 0
    return config, postgres_url


def _fake_tool(folder: Path, name: str, version: str, log: Path | None = None) -> None:
    """A ``name`` on PATH that answers ``--version`` with ``version`` and otherwise
    runs the real tool (after writing its arguments to ``log``)."""
    real = shutil.which(name)
    folder.mkdir(exist_ok=True)
    script = folder / name
    record = f'printf "%s\\n" "$*" >> "{log}"\n' if log else ""
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "{version}"; exit 0; fi\n'
        f'{record}exec "{real}" "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)


def test_the_dump_restores_into_a_fresh_database_with_every_row(
    filled: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, url = filled
    secret = url.replace("postgres@", "postgres:s3cr3t-pw@")  # trust: any password works
    calls = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    for tool in ("pg_dump", "pg_restore"):
        version = subprocess.run([shutil.which(tool), "--version"], capture_output=True, text=True)
        _fake_tool(bin_dir, tool, version.stdout.strip(), calls)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    result = _invoke(config, "backup", url=secret)
    assert result.exit_code == 0, result.output
    assert "s3cr3t-pw" not in result.output
    assert "postgres:***@" in result.output
    dumps = list((tmp_path / "data" / "backups").iterdir())
    assert len(dumps) == 1 and NAME.fullmatch(dumps[0].name)  # nothing half-written left
    assert stat.S_IMODE(dumps[0].stat().st_mode) == 0o600
    assert "s3cr3t-pw" not in calls.read_text()  # in PGPASSWORD only, never in argv

    with fresh_database(server_url()) as restored:
        done = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={restored}", str(dumps[0])],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        out = tmp_path / "out.jsonl"
        before = tmp_path / "before.jsonl"
        assert _invoke(config, "export", "--jsonl", str(before), url=url).exit_code == 0
        assert _invoke(config, "export", "--jsonl", str(out), url=restored).exit_code == 0
        assert out.read_text("utf-8") == before.read_text("utf-8")
        assert len(out.read_text("utf-8").splitlines()) == len(ARTICLES)
        found = _invoke(config, "status", "--json", url=restored)
        assert json.loads(found.output)["articles"] == len(ARTICLES)


def test_a_path_folder_gets_the_default_name(filled: tuple[Path, str], tmp_path: Path) -> None:
    config, url = filled
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert _invoke(config, "backup", str(folder), url=url).exit_code == 0
    assert [NAME.fullmatch(p.name) is not None for p in folder.iterdir()] == [True]


def test_a_missing_pg_dump_is_named(
    filled: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, url = filled
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = _invoke(config, "backup", url=url)
    assert result.exit_code == 2
    assert "pg_dump is not installed" in result.output
    assert "postgresql-client" in result.output
    assert not (tmp_path / "data" / "backups").exists() or not any(
        (tmp_path / "data" / "backups").iterdir()
    )


def test_an_older_pg_dump_than_the_server_is_refused(
    filled: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, url = filled
    _fake_tool(tmp_path / "bin", "pg_dump", "pg_dump (PostgreSQL) 9.6.24")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = _invoke(config, "backup", url=url)
    assert result.exit_code == 2
    assert "pg_dump is version 9, older than the PostgreSQL server" in result.output


# --- the pure parts ------------------------------------------------------------------


def test_the_password_goes_to_the_environment_not_the_url() -> None:
    target = libpq_target("postgresql://tw:p%40ss@db.example:5433/news?sslmode=require")
    assert target.url == "postgresql://tw@db.example:5433/news?sslmode=require"
    assert target.env == {"PGPASSWORD": "p@ss"}
    query = libpq_target("postgresql://db.example/news?password=x&application_name=tw")
    assert query.url == "postgresql://db.example/news?application_name=tw"
    assert query.env == {"PGPASSWORD": "x"}
    assert libpq_target("postgresql://tw@[::1]:5432/news") == type(target)(
        "postgresql://tw@[::1]:5432/news", {}
    )


def test_versions() -> None:
    assert tool_major("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == 15
    assert tool_major("pg_dump (PostgreSQL) 9.6.24") == 9
    assert tool_major("something else") is None
    assert server_major(150018) == 15 and server_major(90624) == 9
    assert dump_tool_problem("pg_dump", "pg_dump (PostgreSQL) 16.1", 15) is None
    assert dump_tool_problem("pg_dump", "pg_dump (PostgreSQL) 15.0", 15) is None
    older = dump_tool_problem("pg_dump", "pg_dump (PostgreSQL) 14.9", 15)
    assert older is not None and "version 14, older than the PostgreSQL server (15)" in older
    missing = dump_tool_problem("pg_restore", None, 15)
    assert missing is not None and missing.startswith("pg_restore is not installed")
