"""Writing a watchlist into the config file (pipeline.settings.edit_watchlists): every
byte but the watchlist's own stays as it was (comments, quoting, order, tables out of
order), `trendwatch check` accepts the result, a refusal writes nothing, and the file
keeps its mode."""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from pathlib import Path

import pytest

from admin_support import write_admin_config
from pipeline.settings import ConfigError, load_settings
from pipeline.settings.edit_watchlists import (
    WatchlistChange,
    WatchlistEditError,
    edited_text,
    save_watchlist,
    sections,
)
from tests_support import trendwatch


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines taken out and put in."""
    out, into = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            out.append(line[2:])
        elif line.startswith("+ "):
            into.append(line[2:])
    return out, into


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_admin_config(tmp_path)


# --- editing keeps the text ----------------------------------------------------------


def test_an_edit_changes_only_the_watchlists_values(config: Path) -> None:
    before = config.read_text("utf-8")
    change = WatchlistChange(
        "thuiswerken", "Thuis werken", 'thuiswerken OR "remote work"', "thuiswerken"
    )
    settings = save_watchlist(config, change)
    after = config.read_text("utf-8")
    out, into = changed_lines(before, after)
    assert out == [
        'title = "Thuiswerken"',
        "query = 'thuiswerken OR \"hybride werken\"'   # literal: keep the quotes",
    ]
    # the literal string stays literal, the comment after it stays
    assert into == [
        'title = "Thuis werken"',
        "query = 'thuiswerken OR \"remote work\"'   # literal: keep the quotes",
    ]
    assert settings.watchlist("thuiswerken").query == 'thuiswerken OR "remote work"'
    assert "# the oldest one" in after and "# a sources add appended this one later" in after


def test_a_new_watchlist_goes_after_the_last_one_and_nothing_else_moves(config: Path) -> None:
    before = config.read_text("utf-8")
    save_watchlist(config, WatchlistChange("vakbonden", 'Vakbonden "nu"', 'fnv OR "cnv vakmensen"'))
    after = config.read_text("utf-8")
    block = (
        '\n\n[[watchlists]]\nname = "vakbonden"\ntitle = "Vakbonden \\"nu\\""\n'
        'query = "fnv OR \\"cnv vakmensen\\""'
    )
    assert block in after and after.replace(block, "", 1) == before
    # between the last watchlist and the comment that belongs to the subscribers
    assert after.index('name = "vakbonden"') < after.index("# --- subscribers ---")
    assert after.index('entities = ["Jumbo"]') < after.index('name = "vakbonden"')
    # the source appended at the very end (out of order) is still there, still last
    assert after.rstrip().endswith('url = "http://127.0.0.1:9/later.xml"')
    settings = load_settings(config)
    assert [w.name for w in settings.watchlists] == ["thuiswerken", "banen", "vakbonden"]
    assert [s.name for s in settings.sources] == ["HR Nieuws", "Work News", "Later"]


def test_trendwatch_check_accepts_the_saved_file(config: Path) -> None:
    save_watchlist(config, WatchlistChange("vakbonden", "Vakbonden", "fnv OR cnv"))
    save_watchlist(
        config, WatchlistChange("banen", "Banen en ontslag", "banen OR ontslag", "banen")
    )
    checked = trendwatch("--config", str(config), "check", cwd=config.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "3 watchlists" in checked.stdout


def test_the_file_keeps_its_mode(config: Path) -> None:
    os.chmod(config, 0o640)
    save_watchlist(config, WatchlistChange("vakbonden", "Vakbonden", "fnv"))
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert not list(config.parent.glob("*.tmp"))  # no temporary file left behind


def test_crlf_and_a_byte_order_mark_are_kept(tmp_path: Path) -> None:
    config = write_admin_config(tmp_path)
    text = config.read_text("utf-8").replace("\n", "\r\n")
    config.write_bytes(b"\xef\xbb\xbf" + text.encode())
    save_watchlist(config, WatchlistChange("vakbonden", "Vakbonden", "fnv"))
    save_watchlist(config, WatchlistChange("banen", "Banen!", "banen", "banen"))
    raw = config.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line still ends in CRLF
    assert load_settings(config).watchlist("vakbonden").title == "Vakbonden"


def test_an_entities_only_watchlist_can_lose_its_query(config: Path) -> None:
    save_watchlist(config, WatchlistChange("banen", "Banen", "", "banen"))
    data = tomllib.loads(config.read_text("utf-8"))
    assert data["watchlists"][1] == {"name": "banen", "title": "Banen", "entities": ["Jumbo"]}
    assert load_settings(config).watchlist("banen").query == ""


def test_a_file_without_watchlists_gets_the_table_at_its_end(tmp_path: Path) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text('data_dir = "data"  # here\n[schedule]\ntimezone = "UTC"', "utf-8")
    save_watchlist(config, WatchlistChange("vakbonden", "Vakbonden", "fnv"))
    assert config.read_text("utf-8") == (
        'data_dir = "data"  # here\n[schedule]\ntimezone = "UTC"\n\n'
        '[[watchlists]]\nname = "vakbonden"\ntitle = "Vakbonden"\nquery = "fnv"\n'
    )


def test_a_new_watchlist_comes_after_the_last_ones_sub_tables() -> None:
    text = (
        '[[watchlists]]\nname = "a"\ntitle = "A"\n'
        '[[watchlists.entities]]\nname = "Jumbo"\n\n# next\n[web]\n'
    )
    result = edited_text(text, WatchlistChange("b", "B", "b"))
    assert result == (
        '[[watchlists]]\nname = "a"\ntitle = "A"\n'
        '[[watchlists.entities]]\nname = "Jumbo"\n\n'
        '[[watchlists]]\nname = "b"\ntitle = "B"\nquery = "b"\n\n# next\n[web]\n'
    )


# --- the lexer -------------------------------------------------------------------------


def test_sections_are_found_outside_strings_and_arrays() -> None:
    text = (
        'title = """\n[[watchlists]]\nnot a table"""\n'
        "names = [\n  [1, 2],\n  'a]',\n]\n"
        '[[watchlists]]  # a comment with [brackets]\nname = "x#y"\n'
        "query = '''\n[web]'''\n"
        '["quoted.key"]\n'
    )
    found = sections(text)
    assert [s.header for s in found] == ["", "[[watchlists]]", '["quoted.key"]']
    assert [s.key for s in found] == [("", False), ("watchlists", True), ("quoted.key", False)]
    assert text[found[1].start : found[1].end].endswith("[web]'''\n")
    assert "".join(text[s.start : s.end] for s in found) == text


# --- refusals write nothing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (WatchlistChange("thuiswerken", "Dubbel", "x"), "name", "exists already"),
        (
            WatchlistChange("vakbonden", "Vakbonden", 'fnv "cnv'),
            "query",
            "unbalanced quote at position 5",
        ),
        (WatchlistChange("vakbonden", "Vakbonden", "fnv OR"), "query", "needs a term on its right"),
        (WatchlistChange("vakbonden", "Vakbonden", "(" * 60 + "a" + ")" * 60), "query", "nested"),
        (WatchlistChange("Vak Bonden", "Vakbonden", "fnv"), "name", "lowercase letters"),
        (WatchlistChange("vakbonden", " ", "fnv"), "title", "empty"),
        (WatchlistChange("vakbonden", "Vakbonden", "  "), "query", "needs a query"),
        (WatchlistChange("thuiswerken", "T", "", "thuiswerken"), "", ""),
        (WatchlistChange("weg", "Weg", "x", "weg"), "name", "no watchlist named"),
        (WatchlistChange("anders", "T", "x", "thuiswerken"), "name", "cannot be changed"),
    ],
)
def test_a_refused_save_writes_nothing(
    config: Path, change: WatchlistChange, field: str, message: str
) -> None:
    before = config.read_bytes()
    stamp = config.stat().st_mtime_ns
    with pytest.raises((WatchlistEditError, ConfigError)) as caught:
        save_watchlist(config, change)
    if isinstance(caught.value, WatchlistEditError):
        assert caught.value.field == field and message in caught.value.message
    else:  # a watchlist without query or entities: `trendwatch check` refuses it
        assert any("watchlists[0].query" in str(p) for p in caught.value.problems)
    assert config.read_bytes() == before and config.stat().st_mtime_ns == stamp


def test_a_file_that_would_not_validate_is_not_written(config: Path) -> None:
    # the file is broken by hand meanwhile (a subscriber of an unknown watchlist)
    text = config.read_text("utf-8").replace('"banen"]', '"onbekend"]')
    config.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as caught:
        save_watchlist(config, WatchlistChange("vakbonden", "Vakbonden", "fnv"))
    assert "onbekend" in str(caught.value)
    assert config.read_text("utf-8") == text


def test_inline_watchlists_are_left_to_the_admin() -> None:
    text = 'watchlists = [{name = "a", title = "A", query = "a"}]\n'
    with pytest.raises(WatchlistEditError, match="by hand"):
        edited_text(text, WatchlistChange("a", "B", "b", "a"))
