"""`trendwatch init`: a starter config that checks (a child process, real files)."""

from __future__ import annotations

from pathlib import Path

from tests_support import trendwatch


def test_init_writes_a_config_that_checks(tmp_path: Path) -> None:
    assert trendwatch("init", "site", cwd=tmp_path).returncode == 0
    config = tmp_path / "site" / "config" / "trendwatch.toml"
    assert config.is_file()
    checked = trendwatch("--config", str(config), "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stdout
    again = trendwatch("init", "site", cwd=tmp_path)
    assert again.returncode == 2  # never overwrites without --force
