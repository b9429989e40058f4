"""Writing a watchlist into the config file (the web's watchlist editor), keeping the
file's text and comments as they are.

tomlkit keeps a TOML document's text when it reads and writes it, but only for tables
in order: a file whose ``[[sources]]`` were appended at the end by ``trendwatch sources
add`` would come out reordered. So the file is first cut into its sections (one per
table header, :func:`sections`, a small lexer that knows strings and arrays), and only
the one section that changes goes through tomlkit: the ``[[watchlists]]`` table being
edited (its ``title`` and ``query`` set, its comments and other keys kept), or a new
table, rendered by tomlkit, inserted after the last watchlist. Every other byte stays.

Before anything is written the new text must (1) read back as exactly the old data
with only that change, and (2) validate as ``trendwatch check`` validates it; then it
replaces the file atomically with the file's mode kept (:func:`write_config_file`).
Anything refused raises :class:`WatchlistEditError` (or ConfigError) and writes
nothing. Saves are serialised within the process.
"""

from __future__ import annotations

import copy
import stat
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from digests.fsutil import atomic_write_bytes
from pipeline.settings import checks
from pipeline.settings.checks import Invalid
from pipeline.settings.model import Settings
from pipeline.settings.validate import validate_settings_data

_BOM = b"\xef\xbb\xbf"
_save_lock = threading.Lock()


class WatchlistEditError(Exception):
    """The watchlist was not saved: nothing was written. ``field`` names the form field
    at fault (``name``, ``title``, ``query``) or is ``""``; ``conflict``: the name is
    taken (or the watchlist to edit is gone); ``server``: the file could not be written."""

    def __init__(
        self, message: str, field: str = "", *, conflict: bool = False, server: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict
        self.server = server  # the file could not be written: not the change's fault


@dataclass(frozen=True)
class WatchlistChange:
    """A watchlist to write: ``editing`` names the one to change (None: a new one)."""

    name: str
    title: str
    query: str
    editing: str | None = None


# --- the file's sections ---------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """Part of a TOML text: a table header line and what follows it up to the next
    header (the root section has no header). ``code_end`` is where its last key or
    value ends: after it come only blank lines and comments (often the next table's)."""

    start: int
    end: int
    header: str
    code_end: int

    @property
    def key(self) -> tuple[str, bool]:
        """The header's first key, and whether the header is ``[[...]]``."""
        if not self.header:
            return "", False
        parsed = tomllib.loads(self.header + "\n")
        first = next(iter(parsed))
        return first, self.header.startswith("[[") and isinstance(parsed[first], list)


def _skip_string(text: str, i: int) -> int:
    """The offset just after the string that starts at ``text[i]``."""
    quote = text[i]
    n = len(text)
    if text.startswith(quote * 3, i):
        j = i + 3
        while j < n:
            if quote == '"' and text[j] == "\\":
                j += 2
            elif text.startswith(quote * 3, j):
                j += 3
                extra = 0
                while j < n and text[j] == quote and extra < 2:  # """a"""" ends in a quote
                    j += 1
                    extra += 1
                return j
            else:
                j += 1
        return n
    j = i + 1
    while j < n and text[j] != quote and text[j] != "\n":
        j += 2 if quote == '"' and text[j] == "\\" else 1
    return j + 1


def sections(text: str) -> list[Section]:
    """The sections of a valid TOML text, in the order they stand."""
    found: list[Section] = []
    start, header, code_end = 0, "", 0
    i, n, depth, line_start, at_start = 0, len(text), 0, 0, True
    while i < n:
        c = text[i]
        if c == "\n":
            i += 1
            line_start, at_start = i, True
            continue
        if c in " \t\r":
            i += 1
            continue
        if at_start and depth == 0 and c == "[":
            found.append(Section(start, line_start, header, code_end))
            j = i
            while j < n and text[j] not in "#\n":
                j = _skip_string(text, j) if text[j] in "\"'" else j + 1
            start, header = line_start, text[i:j].rstrip()
            code_end = i + len(header)
            i, at_start = j, False
            continue
        at_start = False
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "\"'":
            i = _skip_string(text, i)
        else:
            depth += (c in "[{") - (c in "]}")
            i += 1
        code_end = i
    found.append(Section(start, n, header, code_end))
    return found


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end + 1


# --- the change, as text ---------------------------------------------------------------


def _checked(change: WatchlistChange) -> WatchlistChange:
    """The change with its values checked as the config's checks do."""
    try:
        name = checks.slug(change.name)
    except Invalid as exc:
        raise WatchlistEditError(str(exc), "name") from None
    try:
        title = checks.text(change.title)
    except Invalid as exc:
        raise WatchlistEditError(str(exc), "title") from None
    query = change.query.replace("\r\n", "\n").strip()
    if not query and change.editing is None:
        raise WatchlistEditError("a new watchlist needs a query", "query")
    if query:
        try:
            query = checks.query(query)
        except Invalid as exc:
            raise WatchlistEditError(str(exc), "query") from None
    return WatchlistChange(name, title, query, change.editing)


def edited_text(text: str, change: WatchlistChange) -> str:
    """``text`` with the watchlist written in (pure); WatchlistEditError when it cannot
    be done while keeping the rest of the text."""
    data = tomllib.loads(text)
    current = data.get("watchlists", [])
    if not isinstance(current, list):
        raise WatchlistEditError("watchlists in the config file is not a list of tables")
    names = [w.get("name") for w in current if isinstance(w, dict)]
    newline = "\r\n" if "\r\n" in text else "\n"
    parts = sections(text)
    tables = [s for s in parts if s.key == ("watchlists", True)]
    expected = copy.deepcopy(data)
    if change.editing is None:
        if change.name in names:
            raise WatchlistEditError(
                f"a watchlist named {change.name!r} exists already", "name", conflict=True
            )
        result = _inserted(text, parts, change, newline)
        entry = {"name": change.name, "title": change.title}
        if change.query:
            entry["query"] = change.query
        expected.setdefault("watchlists", []).append(entry)
    else:
        if change.name != change.editing:
            raise WatchlistEditError("a watchlist's name cannot be changed here", "name")
        if change.editing not in names:
            raise WatchlistEditError(
                f"there is no watchlist named {change.editing!r}", "name", conflict=True
            )
        if len(tables) != len(current):
            raise WatchlistEditError(
                "the watchlists are not written as [[watchlists]] tables; edit the file by hand"
            )
        index = names.index(change.editing)
        result = _edited_table(text, tables[index], change)
        entry = expected["watchlists"][index]
        entry["title"] = change.title
        if change.query:
            entry["query"] = change.query
        else:
            entry.pop("query", None)
    if tomllib.loads(result) != expected:
        raise WatchlistEditError("the config file could not be edited safely; edit it by hand")
    return result


def _edited_table(text: str, table: Section, change: WatchlistChange) -> str:
    """The ``[[watchlists]]`` table of ``table`` edited by tomlkit, the rest as it was."""
    code_end = _line_end(text, table.code_end)
    own = text[table.start : code_end]
    doc = tomlkit.parse(own)
    if tomlkit.dumps(doc) != own:
        raise WatchlistEditError("its table could not be edited safely; edit the file by hand")
    item = doc["watchlists"][0]
    item["title"] = change.title
    if change.query:
        item["query"] = change.query
    elif "query" in item:
        del item["query"]
    return text[: table.start] + tomlkit.dumps(doc) + text[code_end:]


def _inserted(text: str, parts: list[Section], change: WatchlistChange, newline: str) -> str:
    """A new ``[[watchlists]]`` table after the last watchlist (its sub-tables too), or
    at the end of the file when there is none."""
    lines = [
        "[[watchlists]]",
        f"name = {tomlkit.string(change.name).as_string()}",
        f"title = {tomlkit.string(change.title).as_string()}",
    ]
    if change.query:
        lines.append(f"query = {tomlkit.string(change.query).as_string()}")
    block = newline.join(lines)
    related = [s for s in parts if s.key[0] == "watchlists"]
    if related:
        at = text.find("\n", related[-1].code_end)
        at = len(text) if at < 0 else at
        if at > 0 and text[at - 1] == "\r":
            at -= 1
        return text[:at] + newline + newline + block + text[at:]
    ending = "" if not text or text.endswith("\n") else newline
    return text + ending + newline + block + newline


# --- the file ------------------------------------------------------------------------


def write_config_file(path: Path, data: bytes) -> None:
    """Replace the file at ``path`` with ``data`` atomically (a temporary file beside
    it, flushed, renamed over it), with the file's mode kept."""
    atomic_write_bytes(path, data, mode=stat.S_IMODE(path.stat().st_mode))


def save_watchlist(path: Path, change: WatchlistChange) -> Settings:
    """Write ``change`` into the config file at ``path`` (see the module docstring);
    the settings the file now holds. WatchlistEditError or ConfigError (the problems
    ``trendwatch check`` would report) when refused: then nothing was written."""
    change = _checked(change)
    with _save_lock:
        raw = path.read_bytes()
        bom = _BOM if raw.startswith(_BOM) else b""
        text = raw[len(bom) :].decode("utf-8")
        result = edited_text(text, change)
        data: dict[str, Any] = tomllib.loads(result)
        settings = validate_settings_data(data, str(path), path.parent, path=path)
        try:
            write_config_file(path, bom + result.encode("utf-8"))
        except OSError as exc:
            raise WatchlistEditError(not_writable(path, exc), server=True) from None
    return settings


def not_writable(path: Path, exc: OSError) -> str:
    """Why the config could not be written, and what to do about it."""
    return (
        f"cannot write {path} ({exc.strerror or exc}): the file and its folder must be"
        " writable by the user trendwatch runs as to edit the config from the web"
    )
