"""The reader of parsed TOML tables: checked values out, every problem collected.

:class:`Reader` pulls a key's value out of a table, runs a check of
:mod:`pipeline.settings.checks` on it and, when the check fails, records a
:class:`ConfigProblem` under the key's path (``sources[2].url``) and goes on, so
that one load reports every problem at once. It also refuses text longer than its
bound (:data:`TEXT_LIMITS`, from :mod:`crawlers.bounds`) before any check runs, and
names unknown keys with a "did you mean" hint. It reads no file (that is
:mod:`pipeline.settings.load`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from crawlers.bounds import MAX_NAME, MAX_PATH, MAX_QUERY, MAX_TITLE, MAX_URL, clip
from pipeline.settings.checks import Invalid, describe, quote
from pipeline.settings.model import ConfigProblem

T = TypeVar("T")
D = TypeVar("D")

# The length bound of a text value, by its key (the last name in its key path); every
# other text value (names, labels, e-mail addresses, host names, ...) has MAX_NAME.
TEXT_LIMITS = {
    **dict.fromkeys(("url", "base_url", "sitemap", "endpoint", "database_url"), MAX_URL),
    **dict.fromkeys(("query", "allow", "deny"), MAX_QUERY),
    **dict.fromkeys(("title", "digest_title", "from", "user_agent"), MAX_TITLE),
    **dict.fromkeys(("email", "unsubscribe_mailto"), MAX_TITLE),
    **dict.fromkeys(("data_dir", "template_dir"), MAX_PATH),
}
# Keys people plausibly write instead of the real one.
KEY_HINTS = {"sender": "from", "tz": "timezone", "time_zone": "timezone"}
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


def key_path(prefix: str, key: str | int) -> str:
    """``prefix.key`` or ``prefix[key]``; odd keys are quoted."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    bare = len(key) <= MAX_NAME and _BARE_KEY_RE.fullmatch(key)
    shown = key if bare else f'"{clip(key, MAX_NAME)}"'
    return f"{prefix}.{shown}" if prefix else shown


class Reader:
    """Collects problems while pulling checked values out of TOML tables."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[ConfigProblem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(self.file, key, message))

    def known_keys(self, table: dict[str, Any], prefix: str, allowed: Sequence[str]) -> None:
        """Report every key of ``table`` not in ``allowed``."""
        for key in table:
            if key not in allowed:
                self.add(key_path(prefix, key), unknown_key_message(key, allowed))

    def required(
        self,
        table: dict[str, Any],
        prefix: str,
        key: str,
        check: Callable[[object], T],
        expected: str = "",
    ) -> T | None:
        """The checked value of a required key; None (and a problem) if bad."""
        if key not in table:
            hint = f"; expected {expected}" if expected else ""
            self.add(key_path(prefix, key), "missing required key" + hint)
            return None
        return self.checked(table[key], key_path(prefix, key), check)

    def optional(
        self, table: dict[str, Any], prefix: str, key: str, check: Callable[[object], T], default: D
    ) -> T | D:
        """The checked value of an optional key; ``default`` if absent or bad."""
        if key not in table:
            return default
        value = self.checked(table[key], key_path(prefix, key), check)
        return default if value is None else value

    def checked(self, value: object, key: str, check: Callable[[object], T]) -> T | None:
        """``check(value)``, or None with the problem recorded under ``key`` (a text
        value longer than its bound is not checked further)."""
        if not self.within_bounds(value, key):
            return None
        try:
            return check(value)
        except Invalid as exc:
            self.add(key, str(exc))
            return None

    def within_bounds(self, value: object, key: str) -> bool:
        """Whether ``value`` (a string, or the strings in an array or table) is within
        the length bound of ``key``; a problem for each string that is not."""
        limit = TEXT_LIMITS.get(_last_name(key), MAX_NAME)
        if isinstance(value, list):
            items: Iterable[tuple[str, object]] = (
                (key_path(key, i), v) for i, v in enumerate(value)
            )
        elif isinstance(value, dict):
            items = ((key_path(key, k), v) for k, v in value.items())
        else:
            items = ((key, value),)
        fits = True
        for where, item in items:
            if isinstance(item, str) and len(item) > limit:
                self.add(where, f"expected at most {limit:,} characters, got {len(item):,}")
                fits = False
        return fits

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any] | None:
        """An optional sub-table: empty when absent, None (and a problem) if not a table."""
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.add(key, f"expected a table ([{key}] section), got {describe(value)}")
            return None
        return value

    def tables(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        """An optional array of tables as ``(key path, table)`` pairs."""
        value = data.get(key, [])
        if not isinstance(value, list):
            self.add(
                key, f"expected an array of tables ([[{key}]] sections), got {describe(value)}"
            )
            return []
        items = []
        for index, item in enumerate(value):
            path = key_path(key, index)
            if isinstance(item, dict):
                items.append((path, item))
            else:
                self.add(path, f"expected a table, got {describe(item)}")
        return items

    def unique(self, entries: Iterable[tuple[str, str | None]], what: str, field: str = "") -> None:
        """Report case-insensitive repeats among ``(item path, value)`` pairs.

        A repeat is reported at ``item path.field`` and names the first item.
        """
        seen: dict[str, str] = {}
        for path, value in entries:
            if not value:
                continue
            first = seen.setdefault(value.casefold(), path)
            if first != path:
                key = key_path(path, field) if field else path
                self.add(key, f"duplicate {what} {quote(value)} (also {first})")


def _last_name(key: str) -> str:
    """The last name in a key path: ``sources[2].allow[0]`` → ``allow``."""
    return key.rsplit(".", 1)[-1].split("[", 1)[0]


def unknown_key_message(key: str, allowed: Sequence[str]) -> str:
    message = f"unknown key; expected one of: {', '.join(allowed)}"
    hint = KEY_HINTS.get(key)
    if hint not in allowed and len(key) <= MAX_NAME:
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = close[0] if close else None
    return message + (f"; did you mean '{hint}'?" if hint else "")
