"""The model stays plain data: an Edition survives asdict -> JSON -> dataclasses."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any

from digests.model import (
    ArchiveEntry,
    DigestItem,
    DigestSection,
    Edition,
    RelatedLink,
    SectionCount,
    SourceLink,
    TrendItem,
)

EditionFactory = Callable[..., Edition]


def _decode(tp: Any, value: Any) -> Any:
    """Rebuild a value of type ``tp`` from its JSON form (generic, no per-field code)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner, value)
    if origin is tuple:
        inner = typing.get_args(tp)[0]
        return tuple(_decode(inner, v) for v in value)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(tp)})
    if tp is datetime:
        return datetime.fromisoformat(value)
    assert tp in (str, int, float, bool), tp  # nothing else may appear in the model
    return value


def _round_trip(obj: Any) -> Any:
    text = json.dumps(dataclasses.asdict(obj), default=lambda v: v.isoformat())
    return _decode(type(obj), json.loads(text))


def full_edition(make_edition: EditionFactory) -> Edition:
    edition = make_edition()
    lead = dataclasses.replace(
        edition.sections[0].items[0],
        also_in=(SourceLink("NOS", "https://nos.example/a"), SourceLink("RTL", "https://rtl/b")),
        related=(RelatedLink("Meer", "https://x.example/r", "Trouw"), RelatedLink("Nog", "u")),
        story_id=42,
        story_size=3,
    )
    first = dataclasses.replace(edition.sections[0], items=(lead, *edition.sections[0].items[1:]))
    return dataclasses.replace(
        edition,
        sections=(first, *edition.sections[1:]),
        trends=(
            TrendItem("thuiswerken", 12, ratio=3.2),
            TrendItem("Rutte", 4, kind="entity", new=True, watchlist="thuiswerken"),
        ),
    )


def test_edition_json_round_trip(make_edition: EditionFactory) -> None:
    edition = full_edition(make_edition)
    assert _round_trip(edition) == edition
    assert _round_trip(make_edition()) == make_edition()
    assert _round_trip(make_edition(built_at=None, base_url=None)).built_at is None


def test_archive_entry_json_round_trip(make_edition: EditionFactory) -> None:
    from digests.archive import archive_entry

    entry = archive_entry(full_edition(make_edition))
    assert entry.sections == (
        SectionCount("social-media-werk", "Social media op het werk", 5),
        SectionCount("thuiswerken", "Thuiswerken", 0),
    )
    assert isinstance(entry, ArchiveEntry)
    assert _round_trip(entry) == entry


def test_defaults_keep_old_json_readable() -> None:
    """Fields added later all have defaults: data written before them still loads."""
    for cls in (DigestItem, DigestSection, Edition, TrendItem):
        required = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        assert not {"also_in", "related", "story_id", "story_size", "trends"} & set(required)


def test_quiet_and_count(edition: Edition) -> None:
    busy, quiet = edition.sections
    assert (busy.count, busy.quiet) == (5, False)
    assert (quiet.count, quiet.quiet) == (0, True)
    assert DigestSection("x", "X", more=1).quiet is False
    assert edition.item_count == 5
