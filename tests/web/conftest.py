"""Fixtures of the web tests: the instance secret in the environment, a config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from web_support import ADMIN_ENV, SECRET, SECRET_ENV, write_config


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv(ADMIN_ENV, raising=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)
