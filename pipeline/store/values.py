"""Values as the store keeps them: times as UTC ISO-8601 text, JSON text, and long
``IN (...)`` lists cut into chunks within SQLite's limit on parameters; and
``typed_row``, which turns a SQL row back into a typed row (a dataclass of
``rows``, ``article_rows`` or ``digest_rows``). Every part uses these; callers use
``iso`` and ``from_iso`` too."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from functools import cache
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

R = TypeVar("R")


def iso(dt: datetime | None) -> str | None:
    """UTC ISO-8601 text that sorts as it should."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# json.dumps with any option makes a new encoder each call; these are made once
_JSON = json.JSONEncoder(ensure_ascii=False)
_JSON_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def json_text(value: object) -> str:
    """JSON as the store keeps it: text as it is, and the keys of a dict sorted
    (``json.dumps(value, ensure_ascii=False, sort_keys=...)``, with encoders made once)."""
    return (_JSON_SORTED if isinstance(value, dict) else _JSON).encode(value)


def json_list(value: object) -> str:
    """``json.dumps(value, ensure_ascii=False)``, with an encoder made once."""
    return _JSON.encode(value)


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[tuple[list[Any], str]]:
    """``values`` in pieces within SQLite's limit on parameters, each with its "?,?,…"."""
    for start in range(0, len(values), size):
        chunk = list(values[start : start + size])
        yield chunk, ",".join("?" * len(chunk))


def typed_row(cls: type[R], row: Mapping[str, Any]) -> R:
    """A typed row (a dataclass) from a SQL row whose columns are named after its fields,
    each value decoded as its field's type says: a ``datetime`` from ISO text, a tuple,
    list or dict from JSON text (NULL or empty text: an empty one; a value that is not
    text is taken as it is), a ``bool`` from 0 or 1; anything else as it is stored."""
    return cls(**{name: decode(row[name]) for name, decode in decoders(cls)})


@cache
def decoders(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """Each field of the typed row ``cls`` with the function that decodes its stored
    value, as :func:`typed_row` does."""
    hints = get_type_hints(cls)
    return tuple((f.name, _decoder(hints[f.name])) for f in fields(cls))


def _decoder(hint: Any) -> Callable[[Any], Any]:
    kinds = {get_origin(t) or t for t in (get_args(hint) if _optional(hint) else (hint,))}
    kinds.discard(type(None))
    if kinds == {datetime}:
        return from_iso
    if kinds == {bool}:
        return bool
    if len(kinds) == 1 and (kind := kinds.pop()) in (tuple, list, dict):
        return lambda value: kind(_json(value) or kind())
    return _as_stored


def _optional(hint: Any) -> bool:
    return get_origin(hint) in (Union, UnionType)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value else value


def _as_stored(value: Any) -> Any:
    return value
