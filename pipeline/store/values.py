"""Values as the store keeps them: times as UTC ISO-8601 text, JSON text, and long
``IN (...)`` lists cut into chunks within SQLite's limit on parameters. Every part uses
these; callers use ``iso`` and ``from_iso`` too."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any


def iso(dt: datetime | None) -> str | None:
    """UTC ISO-8601 text that sorts as it should."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def json_text(value: object) -> str:
    """JSON as the store keeps it: text as it is, and the keys of a dict sorted."""
    return json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[tuple[list[Any], str]]:
    """``values`` in pieces within SQLite's limit on parameters, each with its "?,?,…"."""
    for start in range(0, len(values), size):
        chunk = list(values[start : start + size])
        yield chunk, ",".join("?" * len(chunk))
