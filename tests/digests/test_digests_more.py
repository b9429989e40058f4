"""The stories a section's quota leaves out of the e-mail: "+N meer in het archief" in
the mail (HTML and text), linked to the section on the edition's archive page, which
shows them; and an edition stored before they were kept, which has nothing to link to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser

from digests.model import DigestSection, Edition, Recipient, StoryRef
from digests.render import render_edition, web_url

EditionFactory = Callable[..., Edition]
WEB_URL = "https://trends.example.nl/archive/2026/W48/nl-social-media-werk.html"
SHOWN = [  # the test edition's top 3 of "Social media op het werk"
    "LinkedIn-gebruik op kantoor verdubbeld",
    "Mag je baas je TikTok volgen?",
    "Social-mediabeleid: vijf tips voor HR",
]
LEFT_OUT = ["Ontslag na kritische tweet over werkgever", "Steeds meer vacatures via Instagram"]


class Page(HTMLParser):
    """Per section (a td with an id "s-..."): its items' titles, its reference lines as
    (text, href) and its "more" line as (text, href); and every id and link."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.sections: dict[str, dict[str, list]] = {}
        self._section = ""
        self._in: str | None = None  # "titles", "refs" or "more"
        self._text: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            if self._in:
                self._href = a["href"]
        if tag == "td" and a.get("id", "").startswith("s-"):
            self._section = a["id"]
            self.sections[self._section] = {"titles": [], "refs": [], "more": []}
        classes = a.get("class", "").split()
        for cls, part in (("item-title", "titles"), ("ref", "refs"), ("more", "more")):
            if cls in classes and tag in ("h3", "p"):
                self._in, self._text, self._href = part, [], None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._in and tag in ("h3", "p"):
            text = " ".join("".join(self._text).split())
            part = self.sections[self._section][self._in]
            part.append(text if self._in == "titles" else (text, self._href))
            self._in = None


def page(html: str) -> Page:
    parser = Page()
    parser.feed(html)
    return parser


def test_the_mail_shows_the_quota_and_links_the_rest_to_the_section_on_the_archive_page(
    edition: Edition, recipient: Recipient
) -> None:
    mail = render_edition(edition, recipient)
    social = page(mail.html).sections["s-social-media-werk"]
    assert social["titles"] == SHOWN
    [(text, href)] = social["more"]
    assert text == "+2 meer in het archief"
    # the edition's archive page (its web version), at the section
    assert web_url(edition) == WEB_URL
    assert href == f"{WEB_URL}#s-social-media-werk"
    for title in LEFT_OUT:
        assert title not in mail.html and title not in mail.text
    # the text part: the same line and link
    lines = mail.text.splitlines()
    assert lines[lines.index("+2 meer in het archief:") + 1] == href

    archive = page(render_edition(edition).html)
    assert archive.ids.count("s-social-media-werk") == 1  # the link's target
    assert archive.sections["s-social-media-werk"]["titles"] == SHOWN + LEFT_OUT
    assert archive.sections["s-social-media-werk"]["more"] == []  # everything is shown
    assert not any(link.startswith(WEB_URL) for link in archive.links)  # no link to itself


def test_the_archive_page_in_english_shows_everything_without_more(
    make_edition: EditionFactory,
) -> None:
    edition = make_edition(language="en")
    web = render_edition(edition)
    assert "more in the archive" not in web.html and "more in the archive" not in web.text
    for title in LEFT_OUT:
        assert title in web.html
        assert f"* {title}" in web.text


def test_without_base_url_the_mail_names_the_archive_without_a_link(
    make_edition: EditionFactory, recipient: Recipient
) -> None:
    mail = render_edition(make_edition(base_url=None), recipient)
    assert page(mail.html).sections["s-social-media-werk"]["more"] == [
        ("+2 meer in het archief", None)
    ]
    assert "+2 meer in het archief\n" in mail.text  # no ":" and no link under it


def old_edition(edition: Edition) -> Edition:
    """The test edition as the previous code stored it: the top stories and the count
    of the rest, not the rest itself."""
    social = replace(edition.sections[0], more_items=())
    return replace(edition, sections=(social, *edition.sections[1:]))


def test_an_old_edition_promises_no_link_to_stories_it_does_not_hold(
    edition: Edition, recipient: Recipient
) -> None:
    old = old_edition(edition)
    assert old.sections[0].more == 2 and old.sections[0].more_missing == 2
    mail = render_edition(old, recipient)
    web = render_edition(old)
    for rendered in (mail, web):
        social = page(rendered.html).sections["s-social-media-werk"]
        assert social["titles"] == SHOWN
        assert social["more"] == [("+2 meer deze week", None)]  # said, linked nowhere
        assert "in het archief" not in rendered.html and "in het archief" not in rendered.text
        assert "#s-social-media-werk" not in rendered.html
        assert "#s-social-media-werk" not in rendered.text
    assert "+2 meer deze week\n" in mail.text
    # the mail still links to its web version in the footer, as before
    assert WEB_URL in page(mail.html).links
    en = render_edition(replace(old, language="en"), recipient)
    assert "+2 more this week" in en.html and "in the archive" not in en.html


def test_the_archive_page_says_how_many_an_edition_lacks_when_it_holds_some(
    edition: Edition,
) -> None:
    partly = replace(
        edition,
        sections=(replace(edition.sections[0], more=3), *edition.sections[1:]),
    )
    archive = page(render_edition(partly).html).sections["s-social-media-werk"]
    assert archive["titles"] == SHOWN + LEFT_OUT
    assert archive["more"] == [("+1 meer deze week", None)]


def test_on_the_archive_page_a_left_out_story_refers_down_to_where_it_is_in_full(
    edition: Edition, recipient: Recipient
) -> None:
    """Left out of the first section's top, the story is in full in a later section's
    top: the first section's archive part refers down to it; the mail does not."""
    social, _ = edition.sections
    later = replace(social.more_items[0], anchor="story-9")
    first = replace(
        social,
        more_items=social.more_items[1:],
        more_references=(StoryRef(later.title, "thuiswerken", "story-9"),),
    )
    second = DigestSection(watchlist="thuiswerken", title="Thuiswerken", items=(later,))
    edition = replace(edition, sections=(first, second))
    archive = page(render_edition(edition).html)
    assert archive.sections["s-social-media-werk"]["titles"] == [*SHOWN, LEFT_OUT[1]]
    assert archive.sections["s-social-media-werk"]["refs"] == [
        (f"↓ {LEFT_OUT[0]} · ook onder Thuiswerken", "#story-9")
    ]
    assert archive.ids.count("story-9") == 1
    assert archive.sections["s-thuiswerken"]["titles"] == [LEFT_OUT[0]]
    mail = page(render_edition(edition, recipient).html)
    assert mail.sections["s-social-media-werk"]["refs"] == []
    assert mail.sections["s-social-media-werk"]["more"] == [
        ("+2 meer in het archief", f"{WEB_URL}#s-social-media-werk")
    ]
