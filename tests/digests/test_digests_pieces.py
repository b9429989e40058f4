"""Inlining each article of an edition's page once (``templating.inline_by_piece``):
the mail and the archive page are byte for byte what inlining the whole page gives,
for every kind of article text, and the shortcut really runs (the articles are kept)
unless the page's CSS could make an element's style depend on more than its classes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from test_digests_personalise import SENDER, recipients, rich_edition

from digests import templating
from digests.model import DigestItem, Edition, RelatedLink, SourceLink
from digests.personalise import EditionRenderer
from digests.templating import (
    EDITION_HTML,
    INLINER,
    environment,
    forget_rendered,
    inline_by_piece,
)
from digests.views import edition_context

EditionFactory = Callable[..., Edition]

# article text the HTML parser and serialiser treat in their own ways
ODD = [
    "Tom & Jerry <3 \"quotes\" 'single'",
    "nbsp\xa0here &amp; &lt;b&gt; entities",
    "emoji \U0001f600 and RTL \u05d0\u05d1",
    "a </td></tr></table> in text",
    "<!-- not a comment --> <script>alert(1)</script>",
    "tabs\tand  double  spaces",
]


def odd_edition(make_edition: EditionFactory) -> Edition:
    """The test edition with odd text in every field an article shows."""
    edition = rich_edition(make_edition)
    first = edition.sections[0]
    odd = tuple(
        DigestItem(
            title=text,
            url=f'https://example.org/a?x={n}&y=<{n}>"',
            source=text[:12],
            published=first.items[0].published,
            teaser=text * 3,
            matched=(text[:8], "werk"),
            also_in=(SourceLink(text[:10], "https://nos.example/a?x=1&y=2"),),
            related=(RelatedLink(text, f"https://hr.example.org/r{n}", text[:5]),),
        )
        for n, text in enumerate(ODD)
    )
    section = replace(first, items=odd + first.items, more_items=first.more_items + odd[:2])
    return replace(edition, sections=(section, *edition.sections[1:]))


def whole(edition: Edition, recipient: object = None, sender: str = SENDER) -> str:
    """The reference: the whole page rendered and inlined at once."""
    context = edition_context(edition, recipient, sender=sender)  # type: ignore[arg-type]
    return INLINER.inline(environment(None).get_template(EDITION_HTML).render(context))


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("odd", [False, True])
def test_mail_and_archive_page_are_the_whole_page_inlined(
    make_edition: EditionFactory, language: str, odd: bool
) -> None:
    forget_rendered()
    edition = rich_edition(make_edition, language=language)
    if odd:
        edition = odd_edition(lambda **kw: make_edition(language=language, **kw))
    renderer = EditionRenderer(edition, sender=SENDER)
    assert renderer._by_piece
    for recipient in recipients():
        assert renderer.render(recipient).html == whole(edition, recipient), recipient
    web = EditionRenderer(edition).web_html()
    assert web == whole(edition, sender="") == renderer.archive_html()
    assert renderer.web_html() == whole(edition) == renderer.render(None).html
    # the articles were inlined on their own and kept, once each
    assert sum(len(kept) for kept in templating._INLINED.values()) >= len(edition.sections[0].items)
    forget_rendered()
    assert not templating._INLINED


def test_a_page_whose_css_is_not_single_classes_is_inlined_whole(
    make_edition: EditionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a selector that looks at more than an element's classes, the articles are
    not inlined on their own: the page is inlined whole, with the same bytes."""
    forget_rendered()
    edition = rich_edition(make_edition)
    page = environment(None).get_template(EDITION_HTML)
    context = edition_context(edition, None, sender=SENDER)
    html = page.render(context).replace("</style>", "td .meta { color: #123456; }\n</style>")
    monkeypatch.setattr(type(page), "render", lambda self, *a, **k: html, raising=True)
    out = inline_by_piece(lambda: page.render(context))
    assert out == INLINER.inline(html)
    assert "#123456" in out
    assert not templating._INLINED


@pytest.mark.parametrize(
    ("css", "single"),
    [
        (".a { color: red; } .b, .c-d { margin: 0; }", True),
        ("@media only screen and (max-width: 620px) { .a { padding: 0 !important; } }", True),
        ("td .a { color: red; }", False),
        (".a.b { color: red; }", False),
        ("p { color: red; }", False),
        (".a > .b { color: red; }", False),
        (".a:first-child { color: red; }", False),
        ("@font-face { font-family: x; } .a { color: red; }", False),
        ("/* .a */ .b { color: red; }", False),
        ("@import url(x.css); .a { color: red; }", False),
    ],
)
def test_which_css_counts_as_single_classes(css: str, single: bool) -> None:
    assert templating._single_classes(css) is single


def test_the_packaged_css_is_single_classes() -> None:
    """The packaged edition CSS keeps to what lets each article be inlined once."""
    css = (templating.PACKAGED_TEMPLATES / "_edition.css.j2").read_text(encoding="utf-8")
    assert templating._single_classes(css)


def test_a_page_checks_each_template_file_once(
    make_edition: EditionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendered by piece, a page looks each template it includes up once (its file
    checked for changes once), not once per article and section; the next page
    checks again."""
    import os.path

    edition = odd_edition(make_edition)
    EditionRenderer(edition).web_html()  # every template loaded
    checked: list[str] = []
    real = os.path.getmtime

    def getmtime(path: str) -> float:
        checked.append(str(path))
        return real(path)

    monkeypatch.setattr(os.path, "getmtime", getmtime)
    for _ in range(2):
        renderer = EditionRenderer(edition)  # (which checks the templates it will use)
        before = len(checked)
        renderer.web_html()
        page = checked[before:]
        assert page and len(page) == len(set(page))  # each file once a page
        assert any(p.endswith("_item.html.j2") for p in page)
    assert edition.item_count > 5


def test_articles_kept_past_the_limit_are_dropped_and_the_page_still_whole(
    make_edition: EditionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the kept articles would pass the limit they are dropped, and the page
    being rendered still gets every article, the new ones and those it found kept."""
    forget_rendered()
    edition = odd_edition(make_edition)
    renderer = EditionRenderer(edition, sender=SENDER)
    reader = recipients()[2]
    assert renderer.render(reader).html == whole(edition, reader)  # the mail's kept
    monkeypatch.setattr(templating, "_INLINED_LIMIT", 3)
    assert renderer.archive_html() == whole(edition, sender="")  # more than 3 new
    assert 0 < sum(len(kept) for kept in templating._INLINED.values()) <= edition.item_count
    forget_rendered()
