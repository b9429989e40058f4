"""`trendwatch import --jsonl`, `process`, `export --jsonl` and `process --reprocess`
through the command line (click's runner, real SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from jsonl_support import ARTICLES, CONFIG
from pipeline.cli import cli


def _invoke(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def test_import_process_export_round_trip(tmp_path: Path) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    imported = _invoke(config, "import", "--jsonl", str(source))
    assert imported.exit_code == 0, imported.output
    assert "2 new" in imported.output
    assert _invoke(config, "process").exit_code == 0
    out = tmp_path / "out.jsonl"
    exported = _invoke(config, "export", "--jsonl", str(out))
    assert exported.exit_code == 0
    records = {r["import_id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    nl, en = records["nl-1"], records["en-1"]
    assert nl["url"] == "https://nos.example/jumbo"  # tracking parameter dropped
    assert (nl["source"], en["source"]) == ("NOS", "import")
    assert (nl["lang"], en["lang"]) == ("nl", "en")
    assert nl["story_id"] == en["story_id"] is not None
    assert any(e["key"] == "jumbo" for e in nl["entities"]) and nl["keyphrases"]
    assert nl["matches"][0]["watchlist"] == "banen" and nl["matches"][0]["terms"] == ["banen"]
    assert en["matches"][0]["terms"] == ["jobs"]
    assert nl["duplicate_of"] is None and nl["processed"]
    # again: nothing new, and --reprocess gives the same export
    assert (
        "0 new, 0 updated, 2 unchanged" in _invoke(config, "import", "--jsonl", str(source)).output
    )
    again = _invoke(config, "process", "--reprocess")
    assert again.exit_code == 0 and "Processing all 2 articles again" in again.output
    second = tmp_path / "second.jsonl"
    _invoke(config, "export", "--jsonl", str(second))
    assert second.read_text("utf-8") == out.read_text("utf-8")


def test_a_bad_import_file_exits_2_and_names_the_lines(tmp_path: Path) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    source = tmp_path / "bad.jsonl"
    source.write_text(json.dumps(ARTICLES[0]) + "\n[1, 2]\n", encoding="utf-8")
    result = _invoke(config, "import", "--jsonl", str(source))
    assert result.exit_code == 2
    assert f"{source}:2: expected a JSON object" in result.output
    assert "Nothing was imported." in result.output
    missing = _invoke(config, "import", "--jsonl", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "cannot read the file" in missing.output
