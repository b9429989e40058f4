"""Which database the store uses: ``database_url`` in the config or
``$TRENDWATCH_DATABASE_URL``; problems name the file, the key and what is expected, and
never show a password; a config holding one must be private."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.settings import ConfigError, load_settings
from pipeline.settings.database import shown_url
from settings_support import load, only, write

SECRET_URL = "postgresql://tw:s3cr3t-pw@db.example.org:5433/trendwatch"


@pytest.fixture(autouse=True)
def _no_env_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRENDWATCH_DATABASE_URL", raising=False)


def test_without_a_url_the_store_is_the_sqlite_file_under_data_dir(tmp_path: Path) -> None:
    settings = load(tmp_path, 'data_dir = "data"\n')
    assert settings.database_url is None
    assert settings.database == settings.db_path == (tmp_path / "data" / "trendwatch.db")


def test_a_sqlite_url_names_the_file_relative_to_the_config(tmp_path: Path) -> None:
    settings = load(tmp_path, 'database_url = "sqlite:///db/tw.db"\n')
    assert settings.db_path == (tmp_path / "db" / "tw.db").resolve()
    assert settings.database == settings.db_path
    absolute = load(tmp_path, f'database_url = "sqlite:///{tmp_path}/abs.db"\n')
    assert absolute.db_path == tmp_path / "abs.db"


def test_a_postgresql_url_is_what_the_store_opens(tmp_path: Path) -> None:
    url = "postgresql://trendwatch@db.example.org/trendwatch"
    assert load(tmp_path, f'database_url = "{url}"\n').database == url
    legacy = load(tmp_path, 'database_url = "postgres://db.example.org/tw"\n')
    assert legacy.database == "postgresql://db.example.org/tw"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"mysql://db/tw"', "(scheme sqlite or postgresql)"),
        ('"sqlite://"', "'sqlite:///' and a file path"),
        ('"postgresql://db.example.org"', "with a host and a database name"),
        ('"postgresql://db.example.org:99999/tw"', "a bad host or port"),
        ("42", "got integer 42"),
        ('""', "expected a database URL such as"),
    ],
)
def test_a_bad_url_is_a_problem_naming_the_key(tmp_path: Path, value: str, expected: str) -> None:
    problem = only(tmp_path, f"database_url = {value}\n")
    assert problem.key == "database_url"
    assert expected in problem.message


def test_a_problem_never_shows_the_password(tmp_path: Path) -> None:
    problem = only(tmp_path, 'database_url = "postgresql://tw:s3cr3t-pw@db.example.org"\n')
    assert "s3cr3t-pw" not in str(problem)
    assert "'postgresql://tw:***@db.example.org'" in problem.message


def test_a_url_longer_than_a_url_may_be_is_refused(tmp_path: Path) -> None:
    problem = only(tmp_path, f'database_url = "postgresql://h/{"x" * 3000}"\n')
    assert problem.key == "database_url"
    assert problem.message.startswith("expected at most 2,048 characters")


def test_a_config_holding_a_password_must_be_private(tmp_path: Path) -> None:
    path = write(tmp_path, f'database_url = "{SECRET_URL}"\n')
    path.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    [problem] = info.value.problems
    assert (problem.file, problem.key) == (str(path), "database_url")
    assert "mode 0644" in problem.message and "chmod 600" in problem.message
    assert "s3cr3t-pw" not in str(info.value)
    path.chmod(0o600)
    assert load_settings(path).database == SECRET_URL
    path.write_text('database_url = "postgresql://tw@db.example.org/tw"\n', encoding="utf-8")
    path.chmod(0o644)  # no password: nothing secret in it
    assert load_settings(path).database == "postgresql://tw@db.example.org/tw"


def test_the_environment_variable_wins_and_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///file.db"\n')
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", SECRET_URL)
    settings = load_settings(path)
    assert settings.database == SECRET_URL
    assert "s3cr3t-pw" not in repr(settings)
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", "ftp://tw:s3cr3t-pw@x/y")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    [problem] = info.value.problems
    assert problem.file == "$TRENDWATCH_DATABASE_URL"
    assert "scheme sqlite or postgresql" in problem.message
    assert "s3cr3t-pw" not in str(info.value)


def test_a_bad_url_stops_a_command_with_status_2(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "oracle://tw:s3cr3t-pw@db/tw"\n')
    path.chmod(0o600)
    result = CliRunner().invoke(cli, ["--config", str(path), "check"])
    assert result.exit_code == 2
    assert "database_url" in result.output and "s3cr3t-pw" not in result.output


def test_shown_url_masks_only_the_password() -> None:
    assert shown_url(SECRET_URL) == "postgresql://tw:***@db.example.org:5433/trendwatch"
    assert shown_url("postgresql://tw@db/tw") == "postgresql://tw@db/tw"
    assert shown_url("sqlite:///data/tw.db") == "sqlite:///data/tw.db"
