"""The one sanitizer: what feed HTML may keep, and hostile nesting that must not hang it."""

from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest

from crawlers.sanitize import MAX_DEPTH, flatten_deep, html_to_text, plain_line, sanitize_html

VOID = frozenset({"br", "img", "hr"})


class _Depth(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = self.deepest = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            self.depth -= 1


def deepest(fragment: str) -> int:
    parser = _Depth()
    parser.feed(fragment)
    return parser.deepest


def test_scripts_handlers_and_tracking_pixels_are_removed() -> None:
    dirty = (
        '<p onclick="steal()">Hallo <script>alert(1)</script><b>wereld</b></p>'
        '<a href="javascript:alert(1)">x</a><a href="https://example.org/a">link</a>'
        '<img src="https://t.example/p.gif" width="1" height="1"><iframe src="https://x"></iframe>'
    )
    clean = sanitize_html(dirty)
    assert "script" not in clean and "onclick" not in clean and "iframe" not in clean
    assert "javascript:" not in clean and "t.example" not in clean
    assert "<b>wereld</b>" in clean
    assert 'href="https://example.org/a"' in clean and "noopener" in clean


def test_nesting_up_to_the_limit_is_kept_as_it_is() -> None:
    doc = "<div>" * MAX_DEPTH + "tekst" + "</div>" * MAX_DEPTH
    assert flatten_deep(doc) == doc
    assert sanitize_html(doc).count("<div>") == MAX_DEPTH


def test_one_level_more_is_flattened_and_its_text_kept() -> None:
    doc = "<div>" * (MAX_DEPTH + 1) + "tekst" + "</div>" * (MAX_DEPTH + 1)
    flat = flatten_deep(doc)
    assert flat == "<div>" * MAX_DEPTH + "tekst" + "</div>" * MAX_DEPTH
    assert sanitize_html(doc) == flat


def test_siblings_with_optional_end_tags_are_not_nesting() -> None:
    # 300 paragraphs and list items without end tags are siblings: none is dropped
    doc = "<ul>" + "<li>punt" * 300 + "</ul>" + "<p>alinea" * 300
    assert flatten_deep(doc) == doc
    assert sanitize_html(doc).count("<li>") == 300


@pytest.mark.parametrize(
    "opening",
    ["<div>", "<dl><dd>", "<ul><li>", "<b><div>", "<table><tr><td>", "<blockquote>"],
)
def test_hostile_nesting_is_bounded_and_loses_no_text(opening: str) -> None:
    # 200,000 levels: the HTML parser's scope checks are quadratic in the depth (20,000
    # nested <ul><li> took four seconds); flattened, the depth is bounded
    doc = opening * 200_000 + "kern<script>alert(1)</script><img src=x onerror=alert(1)>"
    clean = sanitize_html(doc)
    assert deepest(clean) <= 4 * MAX_DEPTH  # a nested table is four elements a level
    assert "kern" in clean
    assert "script" not in clean and "onerror" not in clean
    assert html_to_text(doc) == "kern"
    assert plain_line(opening * 50_000 + "Titel") == "Titel"


def test_a_fragment_with_few_tags_is_left_as_it_is() -> None:
    fragment = "<div>" * MAX_DEPTH + "x"  # as many start tags as the limit: none dropped
    assert flatten_deep(fragment) is fragment


def test_plain_line_of_plain_text_is_what_the_parser_makes_of_it() -> None:
    """Text without tags, character references, NUL, a byte order mark or lone
    surrogates is not parsed at all; seeded random strings of awkward characters give
    what the HTML parser gives (or the same error)."""
    rng = random.Random(16)
    alphabet = list("ab é\"'>=/;:-\t\n\r\x0b\x0c\xa0\u2028\u3000\x01\x7f\x85\ufeff\ufffe😀\u200b")
    alphabet += ["\x00", "&", "<", "&amp;", "<b>", "\ud800"]

    def parsed(text: str) -> str:
        try:
            return " ".join(html_to_text(text).split())
        except UnicodeError as exc:
            return repr(exc)

    def fast(text: str) -> str:
        try:
            return plain_line(text)
        except UnicodeError as exc:
            return repr(exc)

    samples = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5000)
    ]
    assert [s for s in samples if fast(s) != parsed(s)] == []
    assert plain_line("  Cao  werk\u00a0en\tleven ") == "Cao werk en leven"
    assert plain_line("A &amp; B <i>nu</i>") == "A & B nu"
