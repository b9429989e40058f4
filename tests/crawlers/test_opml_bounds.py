"""OPML input that once hung or crashed: deep nesting, huge titles, endless categories."""

from __future__ import annotations

import pytest

from crawlers.opml import OpmlError, OpmlFeed, parse_opml


def nested(folders: int) -> bytes:
    """``folders`` folder outlines, one inside the other, around one feed."""
    return (
        b'<opml version="2.0"><body>'
        + b'<outline text="f">' * folders
        + b'<outline text="Feed" xmlUrl="https://x.test/feed"/>'
        + b"</outline>" * folders
        + b"</body></opml>"
    )


def test_outlines_nested_100000_deep_are_refused() -> None:
    with pytest.raises(OpmlError, match="refused: elements nested more than 50 deep"):
        parse_opml(nested(100_000))


def test_fifty_elements_deep_is_the_limit() -> None:
    # opml, body, 47 folders and the feed: 50 elements deep
    (feed,) = parse_opml(nested(47))
    assert feed.categories == ("f",)  # the same folder name 47 times: one category
    with pytest.raises(OpmlError, match="nested more than 50 deep"):
        parse_opml(nested(48))


def test_a_huge_title_is_shortened_with_a_note() -> None:
    data = (
        b'<opml version="2.0"><body><outline text="'
        + b"x" * 4_000_000
        + b'" xmlUrl="https://x.test/feed"/></body></opml>'
    )
    (feed,) = parse_opml(data)
    assert feed.title == "x" * 199 + "…"
    assert feed.notes == ("title of 4,000,000 characters shortened to 200",)


def test_folder_and_category_names_are_shortened() -> None:
    folder, category = "F" * 250, "c" * 201
    data = (
        f'<opml version="2.0"><body><outline text="{folder}">'
        f'<outline text="Feed" xmlUrl="https://x.test/feed" category="{category},ok"/>'
        "</outline></body></opml>"
    ).encode()
    (feed,) = parse_opml(data)
    assert feed.categories == ("F" * 199 + "…", "c" * 199 + "…", "ok")
    assert feed.notes == (
        "folder name of 250 characters shortened to 200",
        "category of 201 characters shortened to 200",
    )


def test_at_most_100_categories_are_kept() -> None:
    values = ",".join(f"c{i}" for i in range(150))
    data = (
        '<opml version="2.0"><body>'
        f'<outline text="Feed" xmlUrl="https://x.test/feed" category="{values}"/>'
        "</body></opml>"
    ).encode()
    (feed,) = parse_opml(data)
    assert feed.categories == tuple(f"c{i}" for i in range(100))
    assert feed.notes == ("more than 100 categories; the first 100 kept",)


def test_an_over_long_html_url_is_left_out() -> None:
    long_url = "https://x.test/" + "p" * 2034  # 2049 characters
    data = (
        '<opml version="2.0"><body>'
        f'<outline text="Feed" xmlUrl="https://x.test/feed" htmlUrl="{long_url}"/>'
        "</body></opml>"
    ).encode()
    assert parse_opml(data) == [OpmlFeed("Feed", "https://x.test/feed")]
