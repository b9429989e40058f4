"""A story that belongs to several sections: in full in the first, a one-line
reference ("ook onder ..." / "also under ...") in later ones, in the HTML (linked to the
full story's anchor) and in the text part, in the e-mail and on the archive page."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from digests.model import DigestSection, Edition, Recipient, StoryRef
from digests.render import make_subject, render_edition

EditionFactory = Callable[..., Edition]
LINKEDIN = "LinkedIn-gebruik op kantoor verdubbeld"  # the first item of the test edition
TEASER = "Werknemers besteden steeds meer werktijd aan LinkedIn, blijkt uit onderzoek."


def with_reference(edition: Edition) -> Edition:
    """The LinkedIn story, shown in full under "Social media op het werk", belongs to
    "Verzuim en burn-out" too, which also has one story of its own."""
    social = edition.sections[0]
    linkedin = replace(social.items[0], anchor="story-7")
    own = replace(social.items[2], title="Werkstress onder jongeren neemt toe", url="")
    verzuim = DigestSection(
        watchlist="verzuim-burnout",
        title="Verzuim en burn-out",
        items=(own,),
        references=(StoryRef(title=LINKEDIN, watchlist="social-media-werk", anchor="story-7"),),
    )
    return replace(
        edition,
        sections=(
            replace(
                social,
                items=(linkedin, *social.items[1:]),
                more=0,
                more_items=(),
                more_references=(),
            ),
            verzuim,
        ),
    )


class Parts(HTMLParser):
    """The ids in a page, and per section (a td with an id "s-...") its items' titles
    and its reference lines as (text, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.sections: dict[str, dict[str, list]] = {}
        self._section: str | None = None
        self._in: str | None = None  # "title" or "ref"
        self._text: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "td" and (a.get("id") or "").startswith("s-"):
            self._section = a["id"]
            self.sections[self._section or ""] = {"titles": [], "refs": []}
        classes = (a.get("class") or "").split()
        if tag == "h3" and "item-title" in classes:
            self._in, self._text = "title", []
        if tag == "p" and "ref" in classes:
            self._in, self._text, self._href = "ref", [], None
        if tag == "a" and self._in == "ref":
            self._href = a.get("href")

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._in and tag in ("h3", "p") and self._section:
            text = " ".join("".join(self._text).split())
            if self._in == "title":
                self.sections[self._section]["titles"].append(text)
            else:
                self.sections[self._section]["refs"].append((text, self._href))
            self._in = None


def parts(html: str) -> Parts:
    parser = Parts()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("web", [False, True], ids=["e-mail", "archive page"])
def test_html_shows_the_story_once_and_links_the_reference_to_it(
    make_edition: EditionFactory, recipient: Recipient, web: bool
) -> None:
    edition = with_reference(make_edition())
    html = render_edition(edition, None if web else recipient).html
    page = parts(html)
    assert page.sections["s-social-media-werk"]["titles"][0] == LINKEDIN
    assert page.sections["s-social-media-werk"]["refs"] == []
    assert page.sections["s-verzuim-burnout"]["titles"] == ["Werkstress onder jongeren neemt toe"]
    assert page.sections["s-verzuim-burnout"]["refs"] == [
        (f"↑ {LINKEDIN} · ook onder Social media op het werk", "#story-7")
    ]
    assert page.ids.count("story-7") == 1  # the full story carries the anchor
    assert html.count(TEASER) == 1
    # the intro counts the reference for its section
    assert "3 artikelen over Social media op het werk, 2 over Verzuim en burn-out" in html


def test_text_shows_the_story_once_and_the_reference_in_one_entry(
    make_edition: EditionFactory, recipient: Recipient
) -> None:
    text = render_edition(with_reference(make_edition()), recipient).text
    verzuim = text[text.index("Verzuim en burn-out\n===") :]
    assert " ".join(text.split()).count(TEASER) == 1
    assert text.count(f"* {LINKEDIN}\n") == 1  # in full: title, then its link on a line
    entries = re.findall(r"^\* (.*(?:\n  .*)*)", verzuim, flags=re.MULTILINE)
    assert [" ".join(e.split()) for e in entries] == [
        "Werkstress onder jongeren neemt toe HR Praktijk · 28 nov 2026",
        f"{LINKEDIN} (ook onder Social media op het werk)",
    ]


def test_english_reference(make_edition: EditionFactory) -> None:
    edition = with_reference(make_edition(language="en"))
    edition = replace(
        edition,
        sections=(
            replace(edition.sections[0], title="Social media at work"),
            replace(edition.sections[1], title="Absence and burnout"),
        ),
    )
    rendered = render_edition(edition)
    assert f"{LINKEDIN} (also under Social media at work)" in " ".join(rendered.text.split())
    assert "· also under Social media at work</span>" in rendered.html
    # four stories: the LinkedIn story belongs to both sections and counts once
    assert [s.count for s in edition.sections] == [3, 2]
    assert make_subject(edition).endswith(": 4 articles")
