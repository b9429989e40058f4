"""One edition, many recipients: the shared (cached) rendering must give exactly what
rendering every recipient in full gives, escape personal values as before and respect
template_dir overrides."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from digests import personalise
from digests.model import Edition, Recipient, RelatedLink, SourceLink, TrendItem
from digests.personalise import EditionRenderer
from digests.render import render_edition
from digests.templating import Rendered, environment, render_context
from digests.text import safe_url
from digests.views import edition_context

EditionFactory = Callable[..., Edition]
SENDER = "Trendwatch <digest@trends.example.nl>"
NASTY = "<b>\"&'"


def direct(
    edition: Edition,
    recipient: Recipient | None,
    *,
    template_dir: Path | None = None,
    sender: str = SENDER,
) -> Rendered:
    """The reference: both templates rendered with the full context, CSS inlined."""
    context = edition_context(edition, recipient, sender=sender)
    return render_context(environment(template_dir), context)


def rich_edition(make_edition: EditionFactory, **kw: object) -> Edition:
    """The test edition with also-in, related links and trends (every partial in use)."""
    edition = make_edition(
        trends=(
            TrendItem("thuiswerken", 12, ratio=3.24),
            TrendItem("Rutte <script>", 4, kind="entity", new=True, watchlist="thuiswerken"),
        ),
        **kw,
    )
    first = edition.sections[0]
    item = replace(
        first.items[0],
        also_in=(SourceLink("NOS", "https://nos.example/a?x=1&y=2"),),
        related=(RelatedLink("Eerder: <i>beleid</i>", "https://hr.example.org/r", "HR"),),
    )
    section = replace(first, items=(item, *first.items[1:]))
    return replace(edition, sections=(section, *edition.sections[1:]))


def recipients() -> list[Recipient | None]:
    base = Recipient(
        email="anne.devries@example.nl",
        name="Anne de Vries",
        language="nl",
        watchlists=("social-media-werk", "thuiswerken"),
    )
    links = {
        "manage_url": "https://trends.example.nl/manage/YW5uZQ.mac1",
        "unsubscribe_url": "https://trends.example.nl/unsubscribe/YW5uZQ.mac2",
        "unsubscribe_mailto": "unsubscribe@trends.example.nl",
    }
    return [
        None,  # the web version
        base,  # no links at all
        replace(base, **links),
        replace(base, email="b@example.nl", name="B", watchlists=("thuiswerken",), **links),
        # a long address: the text part's footer wraps differently
        replace(base, email="a.very.long.address.indeed+digest@mail.example.nl", **links),
        # mailto only: the "also by e-mail" line
        replace(base, **{**links, "manage_url": None, "unsubscribe_url": None}),
        replace(base, **{**links, "unsubscribe_mailto": "o'brien&co@example.nl"}),
        replace(
            base,
            **{**links, "unsubscribe_url": None, "unsubscribe_mailto": "o'brien&co@example.nl"},
        ),
        # markup and quotes in every personal value
        replace(
            base,
            email=f"{NASTY}@example.nl",
            name=NASTY,
            watchlists=("social-media-werk", NASTY),
            manage_url=f"https://trends.example.nl/manage/{NASTY}?a=1&b=2",
            unsubscribe_url='https://trends.example.nl/u?x="><script>alert(1)</script>',
        ),
        replace(
            base,
            email="nbsp\xa0and&amp;\U0001f600\u05d0@example.nl",
            manage_url="https://x.example/&lt;",
        ),
        # unsafe links are dropped, as in the full rendering
        replace(base, manage_url="javascript:alert(1)", unsubscribe_url="data:x"),
        # a control character: rendered in full (the parser would change it)
        replace(base, **{**links, "unsubscribe_url": None, "unsubscribe_mailto": "a\x01b@x.nl"}),
        base,  # again, after the others
    ]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_same_bytes_as_the_full_rendering(make_edition: EditionFactory, language: str) -> None:
    edition = rich_edition(make_edition, language=language)
    for recipient in recipients():
        cached = render_edition(edition, recipient, sender=SENDER)
        assert cached == direct(edition, recipient), recipient
        assert cached == render_edition(edition, recipient, sender=SENDER)  # and again


def test_the_shared_rendering_is_used(make_edition: EditionFactory) -> None:
    """Guards the test above: the token route really runs for the packaged templates."""
    edition = rich_edition(make_edition)
    renderer = EditionRenderer(edition, sender=SENDER)
    assert renderer._tokens
    for recipient in recipients():
        assert renderer.render(recipient) == direct(edition, recipient)
    skeletons = list(renderer._skeletons.values())
    assert len(skeletons) >= 3  # one per combination of links present
    assert all(s is not None for s in skeletons)


def test_renderer_api_matches_render_edition(make_edition: EditionFactory) -> None:
    edition = rich_edition(make_edition)
    renderer = EditionRenderer(edition, sender=SENDER)
    for recipient in recipients():
        assert renderer.render(recipient) == render_edition(edition, recipient, sender=SENDER)
        assert renderer.context(recipient) == edition_context(edition, recipient, sender=SENDER)


def test_sender_is_part_of_the_cache_key(make_edition: EditionFactory) -> None:
    edition = make_edition()
    recipient = recipients()[2]
    a = render_edition(edition, recipient, sender="a@one.example")
    b = render_edition(edition, recipient, sender="b@two.example")
    assert "Verzonden door a@one.example" in a.text
    assert "Verzonden door b@two.example" in b.text
    assert b == direct(edition, recipient, sender="b@two.example")


def test_an_equal_but_new_edition_is_not_served_from_the_cache(
    make_edition: EditionFactory,
) -> None:
    edition = make_edition()
    recipient = recipients()[2]
    render_edition(edition, recipient)
    changed = replace(edition, title="Ander blad")
    out = render_edition(changed, recipient)
    assert "Ander blad" in out.html
    assert out == direct(changed, recipient, sender="")


# --- escaping of the personal values -------------------------------------------------


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [v or "" for k, v in attrs if k == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    return collector


def test_markup_in_personal_values_is_escaped(make_edition: EditionFactory) -> None:
    edition = make_edition()
    recipient = recipients()[8]  # NASTY everywhere
    out = render_edition(edition, recipient, sender=SENDER)
    footer = out.html[out.html.index('class="footer') :]
    # text: shown as written, never as markup
    assert "<b>" not in out.html
    assert "<script>" not in out.html
    assert "&lt;b&gt;\"&amp;'@example.nl" in footer
    assert f"{NASTY}@example.nl" in "".join(parsed(out.html).text)
    # attribute values: percent-encoded by safe_url, "&" escaped, the quotes hold
    links = parsed(out.html).hrefs
    manage = safe_url(recipient.manage_url)
    unsubscribe = safe_url(recipient.unsubscribe_url)
    assert manage in links
    assert unsubscribe in links
    assert '"' not in manage + unsubscribe
    assert f'href="{manage.replace("&", "&amp;")}"' in footer
    # the plain text is not escaped
    assert f"{NASTY}@example.nl" in " ".join(out.text.split())
    assert out == direct(edition, recipient)


def test_mailto_text_is_escaped(make_edition: EditionFactory) -> None:
    edition = make_edition()
    recipient = recipients()[7]  # o'brien&co, no unsubscribe URL
    out = render_edition(edition, recipient, sender=SENDER)
    assert "Afmelden kan ook met een mail aan o'brien&amp;co@example.nl." in out.html
    assert "mailto:o%27brien%26co@example.nl?subject=unsubscribe" in parsed(out.html).hrefs
    assert "o'brien&co@example.nl." in out.text
    assert out == direct(edition, recipient)


def test_escape_functions() -> None:
    """The two escapes (text node, quoted attribute) css_inline's serialiser uses; the
    renderer checks once that the installed css_inline still writes values this way."""
    assert personalise._escape_html_text(NASTY) == "&lt;b&gt;\"&amp;'"
    assert personalise._escape_html_attr(NASTY) == "<b>&quot;&amp;'"
    assert personalise._escape_html_text("a\xa0b") == "a&nbsp;b"
    assert personalise._escapes_match_inliner()


def test_xss_values_in_the_footer_are_inert(make_edition: EditionFactory) -> None:
    edition = make_edition()
    recipient = replace(
        recipients()[2],
        email="<script>alert(1)</script>@x.nl",
        watchlists=("<img src=x onerror=alert(1)>",),
    )
    out = render_edition(edition, recipient)
    assert "<script" not in out.html.lower()
    assert "<img" not in out.html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@x.nl" in out.html
    assert out == direct(edition, recipient, sender="")


# --- template_dir ----------------------------------------------------------------------


def test_template_dir_is_part_of_the_cache_key(
    make_edition: EditionFactory, tmp_path: Path
) -> None:
    (tmp_path / "_section.html.j2").write_text(
        '<tr><td class="mine">MY SECTION {{ section.title }}</td></tr>\n', encoding="utf-8"
    )
    edition = make_edition()
    recipient = recipients()[2]
    packaged = render_edition(edition, recipient)
    mine = render_edition(edition, recipient, template_dir=tmp_path)
    assert "MY SECTION" not in packaged.html
    assert "MY SECTION Social media op het werk" in mine.html
    assert mine == direct(edition, recipient, template_dir=tmp_path, sender="")
    assert render_edition(edition, recipient) == packaged
    # an override of a template the edition uses: every recipient rendered in full
    assert not EditionRenderer(edition, template_dir=tmp_path)._tokens


def test_override_of_other_templates_keeps_the_shared_rendering(
    make_edition: EditionFactory, tmp_path: Path
) -> None:
    (tmp_path / "index.html.j2").write_text("INDEX\n", encoding="utf-8")
    edition = rich_edition(make_edition)
    renderer = EditionRenderer(edition, template_dir=tmp_path, sender=SENDER)
    assert renderer._tokens
    for recipient in recipients():
        assert renderer.render(recipient) == direct(edition, recipient, template_dir=tmp_path)


def test_override_using_personal_values_freely(
    make_edition: EditionFactory, tmp_path: Path
) -> None:
    """An override may show the recipient's name, or change a personal value with a
    filter: it is rendered in full per recipient, escaped by autoescape as always."""
    (tmp_path / "edition.html.j2").write_text(
        '{% extends "digests/edition.html.j2" %}\n'
        "{% block intro %}<tr><td>Hallo {{ recipient.name if recipient else '' }}"
        ' <a href="https://x.example/{{ (recipient.name if recipient else "") | urlencode }}"'
        ' title="{{ reason | upper }}">x</a></td></tr>{% endblock %}\n',
        encoding="utf-8",
    )
    (tmp_path / "edition.txt.j2").write_text(
        "{{ reason | upper | wrap }}\n{{ recipient.name if recipient else '-' }}\n",
        encoding="utf-8",
    )
    edition = make_edition()
    for recipient in recipients():
        out = render_edition(edition, recipient, template_dir=tmp_path, sender=SENDER)
        assert out == direct(edition, recipient, template_dir=tmp_path)
    out = render_edition(edition, recipients()[8], template_dir=tmp_path)
    assert "Hallo &lt;b&gt;\"&amp;'" in out.html
    # in a quoted attribute the serialiser leaves < > as they are; the quote is escaped
    assert re.search(r'title="[^"]*<B>&quot;&amp;\'@EXAMPLE.NL', out.html)
    assert out.text.splitlines()[-1] == NASTY
