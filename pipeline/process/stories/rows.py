"""A story's stored row (see :func:`.state.pack`) built from pieces kept between
batches: the very bytes of ``packer.pack(state.dump_story(story))``, at a fraction of
the cost.

After every batch each story that changed is written again, members and all, though
its members did not change: a member is the one-article story an article came in as,
never changed once made. What a member's dump holds is all fixed but the positions of
its keys in the story's ``"member_keys"``, which move as the story takes in members
with new keys. So each member keeps its packed dump in pieces (:class:`MemberPieces`)
between which only the positions are packed anew, and each story keeps its members'
sorted keys (:class:`MemberKeys`), extended with the keys of the members added since
instead of gathered and sorted again. MessagePack is written front to back, a map or
an array as a header and then its items, so pieces packed apart and joined are the
bytes of packing the whole at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from pipeline.process.stories.model import OpenStory, Representative
from pipeline.process.stories.state import SCALE, iso
from pipeline.process.stories.vectors import Vector

Positions = Callable[[dict[str, int]], Sequence[int]]


@dataclass(frozen=True)
class MemberPieces:
    """A member's packed dump cut where its key positions go: ``spaces`` holds, per
    feature space of its weights, the bytes that come before the space's positions and
    what reads the positions of the space's keys, in the vector's order, from a table
    (key -> position); ``end`` the bytes after the last positions."""

    spaces: tuple[tuple[bytes, Positions], ...]
    end: bytes


@dataclass
class MemberKeys:
    """The sorted keys of the first ``count`` members of the list ``members`` (the
    story's own: a story's members are only ever appended to; a new list is a new
    story's) and the position of each (``table``)."""

    members: list[OpenStory]
    count: int
    keys: list[str]
    table: dict[str, int]


def pack_story(story: OpenStory, packer: Any) -> bytes:
    """``packer.pack(state.dump_story(story))`` (``packer``: a MessagePack packer that
    resets after each call, as :func:`.state.pack` makes it), from the pieces cached
    on the story and its members. Tuples pack as lists do: a name's ``(count, text)``
    is packed as it is."""
    rep = story.rep
    assert rep is not None
    pack = packer.pack
    members = story.members if story.size > 1 else None
    parts = [
        packer.pack_map_header(9 if members is None else 11),
        pack("id"),
        pack(story.id),
        pack("first"),
        pack(iso(story.first)),
        pack("last"),
        pack(iso(story.last)),
        pack("size"),
        pack(story.size),
        pack("langs"),
        pack(story.langs),
        pack("sums"),
        pack(story.sums),
        pack("names"),
        pack(story.names),
        pack("phrases"),
        pack(story.phrases),
        pack("rep"),
        _pack_rep(rep, story, packer),
    ]
    if members is not None:
        keys = member_keys(story, members)
        table = keys.table
        parts += (pack("members"), packer.pack_array_header(len(members)))
        for member in members:
            pieces = member.pieces
            if pieces is None:
                pieces = member.pieces = member_pieces(member, packer)
            for before, positions in pieces.spaces:
                parts += (before, pack(positions(table)))
            parts.append(pieces.end)
        parts += (pack("member_keys"), pack(keys.keys))
    return b"".join(parts)


def _pack_rep(rep: Representative, story: OpenStory, packer: Any) -> bytes:
    """The story's representative, its vectors left out (None) when they are the
    story's sums, else packed once for all the stories it stands for."""
    if rep.vectors == story.sums:
        return packer.pack({"id": rep.id, "lang": rep.lang, "vectors": None})
    if rep.packed is None:
        rep.packed = packer.pack({"id": rep.id, "lang": rep.lang, "vectors": rep.vectors})
    return rep.packed


def member_keys(story: OpenStory, members: list[OpenStory]) -> MemberKeys:
    """The sorted keys of ``members`` (the story's), kept on the story and extended
    with those of the members added since it was last asked."""
    cached = story.member_keys
    if cached is None or cached.members is not members or cached.count > len(members):
        cached = story.member_keys = MemberKeys(members, 0, [], {})
    if cached.count < len(members):
        table = cached.table
        new = {k for m in members[cached.count :] for vec in m.sums.values() for k in vec}
        new.difference_update(table)
        if new:
            # the old keys are one sorted run, which the sort takes as it is
            cached.keys = sorted([*cached.keys, *new])
            cached.table = dict(zip(cached.keys, range(len(cached.keys)), strict=True))
        cached.count = len(members)
    return cached


def member_pieces(member: OpenStory, packer: Any) -> MemberPieces:
    """The pieces of ``state._dump_member(member, table)``'s packed bytes that do not
    depend on ``table``, in the same order of fields."""
    rep = member.rep
    assert rep is not None
    pack = packer.pack
    current = [
        packer.pack_map_header(7),
        pack("first"),
        pack(iso(member.first)),
        pack("last"),
        pack(iso(member.last)),
        pack("langs"),
        pack(member.langs),
        pack("weights"),
        packer.pack_map_header(len(member.sums)),
    ]
    spaces = []
    for space, vec in member.sums.items():
        current += (pack(space), packer.pack_array_header(2))
        spaces.append((b"".join(current), _positions(vec)))
        current = [pack([round(w * SCALE) for w in vec.values()])]
    current += (
        pack("names"),
        pack(member.names),
        pack("phrases"),
        pack(member.phrases),
        pack("rep"),
        pack({"id": rep.id, "lang": rep.lang}),
    )
    return MemberPieces(tuple(spaces), b"".join(current))


def _positions(vec: Vector) -> Positions:
    """The positions of ``vec``'s keys in a table, as a sequence (packed as a list
    is): an itemgetter, which looks them all up in C."""
    if len(vec) > 1:
        return itemgetter(*vec)
    return lambda table: [table[k] for k in vec]
