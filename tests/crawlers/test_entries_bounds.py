"""Every value a feed brings in has a length bound: crawlers.entries.bounded."""

from __future__ import annotations

import hashlib

from crawlers.entries import MAX_IDENTITY, Entry, bounded


def test_values_within_their_bounds_are_left_alone() -> None:
    entry = Entry(
        identity="guid:" + "g" * 2048,
        title="t" * 500,
        url="https://x.test/" + "u" * 2033,  # 2,048 characters
        guid="g" * 2048,
        author="a" * 200,
        categories=tuple(f"c{i}" for i in range(100)),
    )
    assert bounded([entry]) == ([entry], None)


def test_each_over_long_value_is_cut_and_the_note_says_what() -> None:
    identity = "guid+link:" + "g" * 3000 + " https://x.test/" + "u" * 2100
    assert len(identity) > MAX_IDENTITY
    entry = Entry(
        identity=identity,
        title="t" * 600,
        url="https://x.test/" + "u" * 2100,
        guid="g" * 3000,
        author="a" * 250,
        categories=("kort", "c" * 300, *(f"c{i}" for i in range(200))),
    )
    short = Entry(identity="link:https://y.test/", title="Kort", author="b" * 201)
    (first, second), note = bounded([entry, short])
    assert first.title == "t" * 499 + "…"
    assert first.author == "a" * 199 + "…"
    assert first.categories == ("kort", "c" * 199 + "…", *(f"c{i}" for i in range(98)))
    assert first.guid == "g" * 2048  # cut, without a mark: it is an identifier
    assert first.url is None  # a cut URL would lead elsewhere
    assert first.identity == "sha256:" + hashlib.sha256(identity.encode()).hexdigest()
    assert second == Entry(identity="link:https://y.test/", title="Kort", author="b" * 199 + "…")
    assert note == (
        "2 entries with over-long values (title shortened, author shortened,"
        " categories shortened, guid shortened, link dropped, identity hashed)"
    )
