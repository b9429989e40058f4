"""Freezing an edition in the store: the :class:`digests.model.Edition` as JSON text and
back. The store keeps an edition exactly as it was built, so a re-run delivers what was
built; fields added to the model since an edition was stored take their defaults.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from digests.model import Edition


def edition_to_json(edition: Edition) -> str:
    """The edition as the store freezes it: ``dataclasses.asdict`` as JSON, sorted keys."""
    return json.dumps(
        _encoder(Edition)(edition), default=_default, ensure_ascii=False, sort_keys=True
    )


@cache
def _encoder(tp: Any) -> Callable[[Any], Any]:
    """:func:`_plain` for a value of type ``tp`` (made once per type from its hints, so
    a value's type is not asked again and again): the same result, faster. A value
    whose type the hints do not say exactly goes to :func:`_plain`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        others = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(others) == 1 and others[0] in (str, int, float, bool, datetime):
            return _as_it_is
        return _plain
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _encoder(args[0])
            if item is _as_it_is:
                return list
            return lambda value: [item(v) for v in value]
        return _plain
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        fields = tuple((f.name, _encoder(hints[f.name])) for f in dataclasses.fields(tp))

        def encode(value: Any) -> Any:
            if type(value) is not tp:  # a subclass: its own fields
                return _plain(value)
            return {name: field(getattr(value, name)) for name, field in fields}

        return encode
    if tp in (str, int, float, bool, datetime):
        return _as_it_is
    return _plain


def _plain(value: Any) -> Any:
    """What ``dataclasses.asdict`` makes of the edition (as JSON writes it), without
    its deep copies: dataclasses as dicts, tuples as lists, the rest as it is."""
    names = _field_names(type(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@cache
def _field_names(tp: type) -> tuple[str, ...] | None:
    if not dataclasses.is_dataclass(tp):
        return None
    return tuple(f.name for f in dataclasses.fields(tp))


def edition_from_json(text: str) -> Edition:
    """The frozen edition; fields added since it was stored take their defaults."""
    return _decoder(Edition)(json.loads(text))


@cache
def _decoder(tp: Any) -> Callable[[Any], Any]:
    """How a JSON value of type ``tp`` becomes the value (made once per type): a
    dataclass from its dict (keys it does not know are left out), a tuple from a list,
    a ``datetime`` from ISO text, a ``float`` from an int; the rest as it is."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        others = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = _decoder(others[0]) if len(others) == 1 else None

        def optional(value: Any) -> Any:
            if value is None:
                return None
            if inner is None:
                raise ValueError(f"cannot decode {tp}")
            return inner(value)

        return optional
    if origin is tuple:
        item = _decoder(typing.get_args(tp)[0])
        return lambda value: tuple(map(item, value))
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        fields = {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(tp)}
        return lambda value: tp(**{k: fields[k](v) for k, v in value.items() if k in fields})
    if tp is datetime:
        return datetime.fromisoformat
    if tp is float:
        return lambda value: float(value) if isinstance(value, int) else value
    return _as_it_is


def _as_it_is(value: Any) -> Any:
    return value


@cache
def _hints(tp: type) -> dict[str, Any]:
    return typing.get_type_hints(tp)


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value))
