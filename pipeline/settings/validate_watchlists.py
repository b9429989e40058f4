"""The ``[[watchlists]]`` section, and the ``entities`` lists it shares with ``[nlp]``.

Sources (alerts built from a watchlist) and subscribers refer to watchlists by name;
:class:`WatchlistNames` is what they check those references against.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pipeline.settings import checks
from pipeline.settings.checks import describe
from pipeline.settings.model import EntitySpec, Watchlist
from pipeline.settings.reader import Reader, key_path

WATCHLIST_KEYS = ("name", "title", "query", "entities")
ENTITY_KEYS = ("name", "label", "aliases")


class WatchlistNames(NamedTuple):
    """Watchlist names for reference checks: every name given (valid or not, so that a
    bad watchlist is reported once, not at each reference), and the valid ones in order."""

    given: set[str]
    valid: list[str]

    @property
    def listing(self) -> str:
        """The defined names, for a problem's message."""
        return f"defined: {', '.join(self.valid)}" if self.valid else "no watchlists are defined"


def watchlist_list(
    reader: Reader, data: dict[str, Any]
) -> tuple[tuple[Watchlist, ...], WatchlistNames]:
    """The ``[[watchlists]]``, and their names for the sections that refer to them."""
    tables = reader.tables(data, "watchlists")
    entries = [(path, _watchlist(reader, path, table)) for path, table in tables]
    reader.unique(((path, w.name) for path, w in entries), "name", "name")
    watchlists = tuple(w for _, w in entries)
    given = {t["name"].strip() for _, t in tables if isinstance(t.get("name"), str)}
    valid = list(dict.fromkeys(w.name for w in watchlists if w.name))
    return watchlists, WatchlistNames(given, valid)


def _watchlist(reader: Reader, path: str, table: dict[str, Any]) -> Watchlist:
    reader.known_keys(table, path, WATCHLIST_KEYS)
    entities = entity_list(reader, table, path, strings_allowed=True)
    if "query" not in table and entities:
        query = ""
    else:
        expected = "a query in Google Alerts syntax (or entities = [...])"
        query = reader.required(table, path, "query", checks.query, expected) or ""
    return Watchlist(
        name=reader.required(table, path, "name", checks.slug) or "",
        title=reader.required(table, path, "title", checks.text) or "",
        query=query,
        entities=entities,
    )


def entity_list(
    reader: Reader, table: dict[str, Any], path: str, *, strings_allowed: bool
) -> tuple[EntitySpec, ...]:
    """``entities = ["Name", {name = ..., label = ..., aliases = [...]}, ...]``."""
    key = key_path(path, "entities")
    value = table.get("entities", [])
    if not isinstance(value, list):
        reader.add(key, f"expected an array of entities, got {describe(value)}")
        return ()
    specs = []
    for index, item in enumerate(value):
        item_path = key_path(key, index)
        if isinstance(item, str) and strings_allowed:
            name = reader.checked(item, item_path, checks.text)
            if name:
                specs.append(EntitySpec(name))
        elif isinstance(item, dict):
            reader.known_keys(item, item_path, ENTITY_KEYS)
            name = reader.required(item, item_path, "name", checks.text)
            label = reader.optional(item, item_path, "label", checks.entity_label, "ENTITY")
            aliases = reader.optional(item, item_path, "aliases", checks.text_list, ())
            if name:
                specs.append(EntitySpec(name, label, aliases))
        else:
            what = "a name or a table" if strings_allowed else "a table"
            reader.add(
                item_path, f"expected {what} with name, label and aliases, got {describe(item)}"
            )
    reader.unique(((key_path(key, i), e.name) for i, e in enumerate(specs)), "entity", "name")
    return tuple(specs)
