"""The commands on PostgreSQL (``$TRENDWATCH_DATABASE_URL``): import, process and export
give what they give on SQLite (the times of import aside); ``status`` names the database without its
password, as does the message about a database that cannot be reached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from jsonl_support import ARTICLES as BOTH
from jsonl_support import CONFIG
from pipeline.cli import cli

ARTICLES = [
    *BOTH,
    {
        "id": "nl-2",
        "title": "Jumbo schrapt 300 banen",
        "text": BOTH[0]["text"],
        "url": "https://regio.example/jumbo",
        "published": "2026-11-24T10:00:00Z",
        "source": "Regio",
    },
]


def _invoke(config: Path, *args: str, url: str | None = None) -> Result:
    env = {"TRENDWATCH_DATABASE_URL": url} if url else {}
    return CliRunner(env=env).invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def _round_trip(folder: Path, url: str | None) -> str:
    folder.mkdir()
    config = folder / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    for args in (("import", "--jsonl", str(source)), ("process",), ("process", "--reprocess")):
        result = _invoke(config, *args, url=url)
        assert result.exit_code == 0, result.output
    out = folder / "out.jsonl"
    assert _invoke(config, "export", "--jsonl", str(out), url=url).exit_code == 0
    return out.read_text("utf-8")


def _without_fetched(records: list[dict]) -> list[dict]:
    assert all(r["fetched"] for r in records)
    return [{k: v for k, v in r.items() if k != "fetched"} for r in records]


def test_import_process_and_export_give_on_postgresql_what_they_give_on_sqlite(
    tmp_path: Path, postgres_url: str
) -> None:
    on_sqlite = _round_trip(tmp_path / "sqlite", None)
    on_postgresql = _round_trip(tmp_path / "postgresql", postgres_url)
    records = [json.loads(line) for line in on_postgresql.splitlines()]
    # the same but for when each was imported (the wall clock of each run)
    assert _without_fetched(records) == _without_fetched(
        [json.loads(line) for line in on_sqlite.splitlines()]
    )
    nl, en = records[0], records[1]
    assert nl["story_id"] == en["story_id"] is not None  # one story across languages
    assert [m["watchlist"] for r in records for m in r["matches"]] == ["banen"] * 3
    assert not (tmp_path / "postgresql" / "data" / "trendwatch.db").exists()


def test_status_names_the_database_without_its_password(tmp_path: Path, postgres_url: str) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    secret = postgres_url.replace("postgres@", "postgres:s3cr3t-pw@")  # trust: any password
    for args in (("status",), ("status", "--json")):
        result = _invoke(config, *args, url=secret)
        assert result.exit_code == 0, result.output
        assert "s3cr3t-pw" not in result.output
    shown = json.loads(result.output)["database"]
    assert shown == secret.replace("s3cr3t-pw", "***")


@pytest.mark.parametrize("command", [("status",), ("run",), ("backup",)])
def test_an_unreachable_database_is_named_without_its_password(
    tmp_path: Path, command: tuple[str]
) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = _invoke(config, *command, url="postgresql://tw:s3cr3t-pw@db.invalid/tw")
    assert result.exit_code == 1
    assert "cannot connect to postgresql://tw:***@db.invalid/tw" in result.output
    assert "s3cr3t-pw" not in result.output
