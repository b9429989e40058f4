"""The clusterer's state as data: what :meth:`StoryClusterer.dump` and
:meth:`StoryClusterer.dump_stored` write and :meth:`StoryClusterer.load` and
:meth:`StoryClusterer.from_stored` read back.

Two forms of the same content. The JSON-able dict of :meth:`StoryClusterer.dump` (which
earlier versions of trendwatch stored as JSON text): a header (version, next id, clock,
document frequencies) with the open stories inline. And what the pipeline stores after
every batch: the header as MessagePack with ``"stories": "rows"``, and one MessagePack
row per open story, of which only the stories changed, created or gone since the last
store are written (:class:`StoredState`). The index is derived, not stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from srsly import msgpack

from pipeline.process.stories import split
from pipeline.process.stories.model import OpenStory, Representative
from pipeline.process.stories.similarity import Frequencies
from pipeline.process.stories.vectors import DIGITS

STATE_VERSION = 1
SCALE = 10**DIGITS  # a member's weights are stored as whole millionths (see _dump_member)


@dataclass(frozen=True)
class StoredState:
    """What :meth:`StoryClusterer.dump_stored` hands to the store: the header, the
    story rows to write (id -> packed story) and the ids of the rows to delete."""

    header: bytes
    changed: dict[int, bytes]
    removed: list[int]


def dump_header(
    next_id: int,
    clock: datetime | None,
    prev_time: datetime | None,
    frequencies: Frequencies,
    copy: bool = True,
) -> dict[str, Any]:
    """The state without its stories; the document frequencies as copies, or without
    ``copy`` the clusterer's own tables (for a header packed at once: copying the
    hundred thousand counts cost about a tenth of packing them)."""
    df = {space: dict(c) for space, c in frequencies.df.items()} if copy else frequencies.df
    return {
        "version": STATE_VERSION,
        "next_id": next_id,
        "clock": iso(clock),
        "prev_time": iso(prev_time),
        "docs": dict(frequencies.docs) if copy else frequencies.docs,
        "df": df,
    }


def load_header(
    state: Mapping[str, Any], frequencies: Frequencies
) -> tuple[int, datetime | None, datetime | None]:
    """``(next_id, clock, prev_time)`` of a state, whose document frequencies are read
    into ``frequencies``; ValueError for a state of another version."""
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported story state version: {state.get('version')!r}")
    next_id = int(state["next_id"])
    clock = _parse(state["clock"])
    prev_time = _parse(state["prev_time"])
    frequencies.docs = {k: int(v) for k, v in state["docs"].items()}
    frequencies.df = {space: dict(counts) for space, counts in state["df"].items()}
    return next_id, clock, prev_time


def pack(
    header: dict[str, Any], stories: Mapping[int, OpenStory], unsaved: set[int], saved: set[int]
) -> StoredState:
    """The rows to store: the header, the open stories among ``unsaved`` (packed as
    :func:`dump_story` packs, from the pieces :mod:`.rows` keeps; the bytes are not kept
    after: a story is in ``unsaved`` again only when it changed) and
    the ``saved`` stories no longer open. MessagePack, about six times faster than JSON
    for the floats of the story vectors."""
    from pipeline.process.stories import rows  # (which packs this module's format)

    packer = msgpack.Packer(use_bin_type=True)  # one per call: making one costs more
    changed = {}
    for sid in sorted(unsaved):
        story = stories.get(sid)
        if story is None:  # created and merged away or closed since: nothing to keep
            continue
        changed[sid] = rows.pack_story(story, packer)
    removed = sorted(saved - stories.keys())
    packed_header = packer.pack({**header, "stories": "rows"})
    return StoredState(packed_header, changed, removed)


def unpack(header: bytes, rows: Iterable[bytes]) -> tuple[dict[str, Any], list[bytes]]:
    """The state of :func:`pack`'s header and rows, with its stories inline, and the rows
    (in the order of the state's stories)."""
    state = msgpack.unpackb(header, raw=False)
    if state.pop("stories", None) != "rows":
        raise ValueError("story state: expected a header with its stories in rows")
    packed = list(rows)
    state["stories"] = [msgpack.unpackb(row, raw=False) for row in packed]
    return state, packed


def dump_story(story: OpenStory) -> dict[str, Any]:
    rep = story.rep
    assert rep is not None
    out = {
        "id": story.id,
        "first": iso(story.first),
        "last": iso(story.last),
        "size": story.size,
        "langs": story.langs,
        "sums": story.sums,
        "names": {key: list(value) for key, value in story.names.items()},
        "phrases": story.phrases,
        # a one-article story's representative vectors are its sums: not stored twice
        "rep": {
            "id": rep.id,
            "lang": rep.lang,
            "vectors": None if rep.vectors == story.sums else rep.vectors,
        },
    }
    if story.size > 1 and story.members is not None:  # (a one-article story is its member)
        # the members' keys, each stored once (sorted: one table whatever order the
        # members' vectors hold their keys in)
        keys = sorted({key for m in story.members for vec in m.sums.values() for key in vec})
        table = {key: position for position, key in enumerate(keys)}
        out["members"] = split.dump_members(story, lambda m: _dump_member(m, table))
        out["member_keys"] = keys
    return out


def _dump_member(member: OpenStory, table: dict[str, int]) -> dict[str, Any]:
    """A member: an article's one-article story (its representative's vectors are its
    sums, so the representative is just the article's id and language). Its weights
    are stored per space as two lists (``"weights"``): the positions of its keys in the
    story's ``"member_keys"`` (``table``: key -> position), since the members of a story
    share many keys, and the weights, rounded to
    :data:`.vectors.DIGITS` places, as whole millionths: an integer packs in 3 or 5
    bytes where a float takes 9, and dividing it again gives back the very same float
    (the one nearest to the decimal).

    The keys are listed in the vector's own order, not sorted, so that a member reads
    back as it was, keys in the same order: the sums of a story rebuilt from its
    members (regrouping, splits) then list their keys as they would have without the
    reload, and the state a run stores after a reload is byte for byte the state of a
    run that was never stopped (as the work queue's sequential jobs reload it, one job
    after the other)."""
    rep = member.rep
    assert rep is not None
    weights = {}
    for space, vec in member.sums.items():
        weights[space] = [[table[k] for k in vec], [round(w * SCALE) for w in vec.values()]]
    return {
        "first": iso(member.first),
        "last": iso(member.last),
        "langs": member.langs,
        "weights": weights,
        "names": {key: list(value) for key, value in member.names.items()},
        "phrases": member.phrases,
        "rep": {"id": rep.id, "lang": rep.lang},
    }


def load_story(raw: Mapping[str, Any]) -> OpenStory:
    sums = {space: dict(vec) for space, vec in raw["sums"].items()}
    rep = raw["rep"]
    vectors = {s: dict(v) for s, v in (rep["vectors"] or sums).items()}
    story = OpenStory(
        id=int(raw["id"]),
        first=_parse(raw["first"]),
        last=_parse(raw["last"]),
        size=int(raw["size"]),
        langs=dict(raw["langs"]),
        sums=sums,
        names={k: (v[0], v[1]) for k, v in raw["names"].items()},
        phrases=dict(raw["phrases"]),
        rep=Representative(int(rep["id"]), rep["lang"], vectors),
    )
    if story.size == 1:
        story.members = [_as_member(story)]
    elif "members" in raw:
        keys = raw.get("member_keys", [])
        story.members = split.load_members(raw, lambda m: _load_member(m, keys))
    else:  # stored before members were kept, or past split.MAX_MEMBERS
        story.members = None
    return story


def _load_member(raw: Mapping[str, Any], keys: Sequence[str]) -> OpenStory:
    """A member as :func:`_dump_member` wrote it, ``keys`` being the story's
    ``"member_keys"`` (or, with its weights as floats by key in ``"sums"``, as the
    version before did)."""
    if "weights" in raw:
        sums = {
            space: {keys[k]: w / SCALE for k, w in zip(*pair, strict=True)}
            for space, pair in raw["weights"].items()
        }
    else:
        sums = {space: dict(vec) for space, vec in raw["sums"].items()}
    rep = raw["rep"]
    return OpenStory(
        0,
        _parse(raw["first"]),
        _parse(raw["last"]),
        size=1,
        langs=dict(raw["langs"]),
        sums=sums,
        names={k: (v[0], v[1]) for k, v in raw["names"].items()},
        phrases=dict(raw["phrases"]),
        rep=Representative(int(rep["id"]), rep["lang"], sums),
        members=None,
    )


def _as_member(story: OpenStory) -> OpenStory:
    """The one-article story of a story's only article."""
    return OpenStory(
        0,
        story.first,
        story.last,
        size=1,
        langs=dict(story.langs),
        sums=dict(story.sums),
        names=dict(story.names),
        phrases=dict(story.phrases),
        rep=story.rep,
        members=None,
    )


def iso(when: datetime | None) -> str | None:
    """A time as the state stores it (ISO 8601), None as None."""
    return when.isoformat() if when is not None else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
