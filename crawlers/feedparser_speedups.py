"""Faster paths through feedparser that give the same results (see bench/crawl.py).

Parsing is most of a fresh crawl's CPU time, and most of parsing is feedparser's own
bookkeeping, not expat. Two of its habits cost a third of it on a 20-entry feed:

* On every element, feedparser resolves the element's base URI against its parent's
  (``make_safe_absolute_uri(base, base)``, two ``urljoin`` calls and a regex): a feed of
  200 elements asks the same question 200 times. Both functions are pure functions of
  their strings, so their answers are remembered (a bounded LRU cache).
* ``FeedParserDict.get`` and ``[]`` (80,000 calls a feed set) go through a chain of
  special keys (``category``, ``enclosures``, ``license``, ``updated``, the legacy
  ``keymap`` names) before looking the key up. A key that is none of those is looked
  up directly, which is exactly what the chain ends with; special keys take the chain.
* Each text element's parameters (type, language, base) are deep-copied; a dict of
  strings and numbers is copied key by key instead, as ``copy.deepcopy`` would.
* Every parse asks ``xml.sax`` for feedparser's preferred parser, ``drv_libxml2``, before
  expat; where that module is not installed, the failed import searched ``sys.path``
  anew for every feed. It is asked for only where it is installed (the parser chosen
  stays the same: expat).

:func:`install` swaps them in (``crawlers.feeds`` calls it on import) and
:func:`uninstall` restores feedparser's own, which the tests use to compare results.
Only the ``feedparser`` package is changed; a copy vendored by another library is not.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import types
from collections.abc import Callable
from typing import Any

import feedparser
import feedparser.api
import feedparser.mixin
from feedparser.util import FeedParserDict

URI_CACHE = 4096  # (base, relative) pairs remembered

_ORIGINAL: dict[str, Any] = {
    "copy": feedparser.mixin.copy,
    "make_safe_absolute_uri": feedparser.mixin.make_safe_absolute_uri,
    "_urljoin": feedparser.mixin._urljoin,
    "__getitem__": FeedParserDict.__getitem__,
    "get": FeedParserDict.get,
    "__contains__": FeedParserDict.__contains__,
    "PREFERRED_XML_PARSERS": feedparser.api.PREFERRED_XML_PARSERS,
}
# keys FeedParserDict treats specially; any other key is a plain dict key
_SPECIAL = frozenset(
    {"category", "enclosures", "license", "updated", "updated_parsed", *FeedParserDict.keymap}
)
_dict_getitem = dict.__getitem__
_dict_get = dict.get
_dict_contains = dict.__contains__


def _getitem(self: FeedParserDict, key: Any) -> Any:
    if key in _SPECIAL:
        return _ORIGINAL["__getitem__"](self, key)
    return _dict_getitem(self, key)


def _get(self: FeedParserDict, key: Any, default: Any = None) -> Any:
    if key in _SPECIAL:
        return _ORIGINAL["get"](self, key, default)
    return _dict_get(self, key, default)


def _contains(self: FeedParserDict, key: Any) -> bool:
    if key in _SPECIAL:
        return bool(_ORIGINAL["__contains__"](self, key))
    return _dict_contains(self, key)


_SCALARS = frozenset({str, int, float, bool, bytes, type(None)})


def _deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """``copy.deepcopy``, without its machinery for a FeedParserDict of scalars."""
    if (
        type(value) is FeedParserDict
        and not value.__dict__
        and all(type(v) in _SCALARS and type(k) is str for k, v in value.items())
    ):
        copied = FeedParserDict()
        for key, item in value.items():
            copied[key] = item  # through __setitem__, as deepcopy's reconstruction does
        return copied
    return copy.deepcopy(value, memo)


_COPY = types.SimpleNamespace(deepcopy=_deepcopy)  # feedparser.mixin uses copy.deepcopy only


def _cached(function: Callable[..., str]) -> Callable[..., str]:
    return functools.lru_cache(maxsize=URI_CACHE)(function)


# the feedparser releases whose internals these paths were checked against; on any other
# release feedparser's own functions stay (slower, never wrong)
TESTED_RELEASES = ("6.0.",)


def install() -> bool:
    """Use the faster paths (idempotent) if this feedparser is one they were checked
    against; whether they are in use."""
    if installed():
        return True
    if not str(getattr(feedparser, "__version__", "")).startswith(TESTED_RELEASES):
        return False
    feedparser.mixin.make_safe_absolute_uri = _cached(_ORIGINAL["make_safe_absolute_uri"])
    feedparser.mixin._urljoin = _cached(_ORIGINAL["_urljoin"])
    feedparser.mixin.copy = _COPY  # type: ignore[assignment]
    FeedParserDict.__getitem__ = _getitem  # type: ignore[method-assign]
    FeedParserDict.get = _get  # type: ignore[method-assign, assignment]
    FeedParserDict.__contains__ = _contains  # type: ignore[method-assign, assignment]
    feedparser.api.PREFERRED_XML_PARSERS = [
        name for name in _ORIGINAL["PREFERRED_XML_PARSERS"] if _installed_module(name)
    ]
    return True


def _installed_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def uninstall() -> None:
    """Restore feedparser's own functions."""
    feedparser.mixin.make_safe_absolute_uri = _ORIGINAL["make_safe_absolute_uri"]
    feedparser.mixin._urljoin = _ORIGINAL["_urljoin"]
    feedparser.mixin.copy = _ORIGINAL["copy"]
    FeedParserDict.__getitem__ = _ORIGINAL["__getitem__"]  # type: ignore[method-assign]
    FeedParserDict.get = _ORIGINAL["get"]  # type: ignore[method-assign]
    FeedParserDict.__contains__ = _ORIGINAL["__contains__"]  # type: ignore[method-assign]
    feedparser.api.PREFERRED_XML_PARSERS = _ORIGINAL["PREFERRED_XML_PARSERS"]


def installed() -> bool:
    """Whether the faster paths are in use."""
    return FeedParserDict.get is _get
