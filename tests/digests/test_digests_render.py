"""Rendering an edition (e-mail + web version) to HTML and text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digests.model import (
    DigestItem,
    DigestSection,
    Edition,
    Recipient,
    RelatedLink,
    SourceLink,
    TrendItem,
)
from digests.render import render_edition, safe_url

WEB_URL = "https://trends.example.nl/archive/2026/W48/nl-social-media-werk.html"
AMS = ZoneInfo("Europe/Amsterdam")

EditionFactory = Callable[..., Edition]


class TagCollector(HTMLParser):
    """All start tags with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = TagCollector()
    parser.feed(html)
    return parser.tags


def hrefs(html: str) -> list[str]:
    return [a["href"] or "" for tag, a in tags(html) if tag == "a" and "href" in a]


def two_busy_sections(edition: Edition) -> Edition:
    first = replace(edition.sections[0], more=2)  # 3 items + 2 = 5
    second = DigestSection(
        watchlist="thuiswerken",
        title="Thuiswerken",
        items=(edition.sections[0].items[0],),
        more=2,
    )
    return replace(edition, sections=(first, second))


# --- header, intro, sections ---------------------------------------------------------


def test_header_nl(edition: Edition, recipient: Recipient) -> None:
    out = render_edition(edition, recipient)
    for part in (out.html, out.text):
        assert "Trendwatch Werk en Leven" in part
        assert "Week 48 · 23–29 november 2026" in part


def test_header_en(make_edition: EditionFactory) -> None:
    out = render_edition(make_edition(language="en"))
    assert "Week 48 · 23–29 November 2026" in out.html
    assert "Week 48 · 23–29 November 2026" in out.text


def test_header_period_across_years(make_edition: EditionFactory) -> None:
    edition = make_edition(
        period_start=datetime(2026, 12, 28, tzinfo=AMS),
        period_end=datetime(2027, 1, 3, 23, 59, 59, tzinfo=AMS),
        week=53,
    )
    assert "Week 53 · 28 december 2026 – 3 januari 2027" in render_edition(edition).text


def test_intro_counts_per_watchlist(edition: Edition) -> None:
    out = render_edition(two_busy_sections(edition))
    expected = "Deze week: 5 artikelen over Social media op het werk, 3 over Thuiswerken."
    assert expected in out.html
    assert expected in " ".join(out.text.split())


def test_intro_counts_en_and_localised_numbers(make_edition: EditionFactory) -> None:
    edition = two_busy_sections(make_edition(language="en"))
    edition = replace(edition, sections=(replace(edition.sections[0], more=1231),))
    out = render_edition(edition)
    assert "This week: 1,234 articles on Social media op het werk." in out.text
    out_nl = render_edition(replace(edition, language="nl"))
    assert "Deze week: 1.234 artikelen over Social media op het werk." in out_nl.text


def test_intro_when_nothing_at_all(make_edition: EditionFactory) -> None:
    edition = make_edition(sections=(DigestSection(watchlist="x", title="X"),))
    assert "Deze week niets nieuws." in render_edition(edition).text


def test_sections_items_and_meta(edition: Edition) -> None:
    out = render_edition(edition)
    assert re.search(
        r'<a [^>]*href="https://news.example.nl/linkedin-kantoor"[^>]*>'
        r"LinkedIn-gebruik op kantoor verdubbeld</a>",
        out.html,
    )
    assert "NU.nl · 24 nov 2026" in out.html
    assert "Werknemers besteden steeds meer werktijd aan LinkedIn" in out.html
    assert out.html.index("Social media op het werk</h2>") < out.html.index("Thuiswerken</h2>")


def test_item_dates_in_edition_timezone(make_edition: EditionFactory) -> None:
    edition = make_edition()
    item = replace(
        edition.sections[0].items[0], published=datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    )
    edition = replace(edition, sections=(replace(edition.sections[0], items=(item,)),))
    assert "NU.nl · 25 nov 2026" in render_edition(edition).text


def test_quiet_section_line(make_edition: EditionFactory) -> None:
    out = render_edition(make_edition())
    assert out.html.count("Geen nieuws over Thuiswerken deze week.") == 1
    assert out.text.count("Geen nieuws over Thuiswerken deze week.") == 1
    out_en = render_edition(make_edition(language="en"))
    assert "Nothing new on Thuiswerken this week." in out_en.html
    assert "Nothing new on Thuiswerken this week." in out_en.text


def test_matched_reason(make_edition: EditionFactory) -> None:
    assert "Gevonden op: social media, werk" in render_edition(make_edition()).html
    out_en = render_edition(make_edition(language="en"))
    assert "Matched: social media, werk" in out_en.html
    assert "Matched: tiktok" in out_en.text


def test_more_links_to_web_version(edition: Edition, recipient: Recipient) -> None:
    out = render_edition(edition, recipient)
    assert re.search(
        rf'<a [^>]*href="{re.escape(WEB_URL)}#s-social-media-werk"[^>]*>'
        r"\+2 meer in het archief</a>",
        out.html,
    )
    assert f"{WEB_URL}#s-social-media-werk" in out.text.splitlines()
    assert 'id="s-social-media-werk"' in out.html


def test_more_without_base_url_is_plain_text(
    make_edition: EditionFactory, recipient: Recipient
) -> None:
    out = render_edition(make_edition(language="en", base_url=None), recipient)
    assert "+2 more in the archive" in out.html
    assert "/archive/" not in out.html
    assert "/archive/" not in out.text


def test_footer_with_recipient(edition: Edition, recipient: Recipient) -> None:
    out = render_edition(edition, recipient, sender="Trendwatch <digest@trends.example.nl>")
    reason = (
        "Je ontvangt deze mail omdat je je hebt aangemeld voor Trendwatch Werk en Leven "
        "(Social media op het werk en Thuiswerken) met anne.devries@example.nl."
    )
    assert reason in out.html
    assert " ".join(out.text.split()).count(reason) == 1
    assert WEB_URL in hrefs(out.html)
    assert WEB_URL in out.text.splitlines()
    assert "Verzonden door digest@trends.example.nl" in out.html


def test_web_version_has_no_personal_data(edition: Edition, recipient: Recipient) -> None:
    out = render_edition(edition, None, sender="digest@trends.example.nl")
    for part in (out.html, out.text):
        assert recipient.email not in part
        assert "anne" not in part.lower()
        assert "Anne de Vries" not in part
        assert "Je ontvangt" not in part
    assert "Deze editie gaat over: Social media op het werk en Thuiswerken." in out.html
    assert "../../index.html" in hrefs(out.html)


def test_standalone_document_and_mail_friendly_html(edition: Edition) -> None:
    html = render_edition(edition).html
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="nl">' in html
    assert '<meta charset="utf-8">' in html
    names = {tag for tag, _ in tags(html)}
    assert not names & {"script", "img", "link", "iframe", "object"}
    assert "max-width: 600px" in html
    # CSS is inlined; only the @media block may stay in <style>
    assert 'style="' in html
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    assert all(s.strip().startswith("@media") for s in styles)


def test_text_part_lists_every_url_after_its_title(edition: Edition) -> None:
    lines = [line.strip() for line in render_edition(edition).text.splitlines()]
    for item in edition.sections[0].items:
        assert item.url in lines
        assert lines[lines.index(item.url) - 1] == f"* {item.title}"


def test_text_part_is_wrapped_and_not_escaped(make_edition: EditionFactory) -> None:
    edition = make_edition()
    item = replace(
        edition.sections[0].items[1],
        title="Werk & privé: " + "lange titel " * 10,
        teaser="Een teaser " * 20,
    )
    edition = replace(edition, sections=(replace(edition.sections[0], items=(item,)),))
    out = render_edition(edition)
    assert "Werk & privé" in out.text
    assert "Werk &amp; privé" in out.html
    long_lines = [ln for ln in out.text.splitlines() if len(ln) > 72 and "://" not in ln]
    assert long_lines == []


# --- escaping ------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
BAD_URLS = [
    "javascript:alert(1)",
    "  JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
]


def xss_edition(make_edition: EditionFactory) -> Edition:
    published = datetime(2026, 11, 25, 10, 0, tzinfo=AMS)
    items = [
        DigestItem(
            title=SCRIPT,
            url="https://example.com/a?x=1&y=<2>",
            source=IMG,
            published=published,
            teaser=f"{SCRIPT} and {IMG}",
            matched=("<b>bold</b>",),
        ),
        *[
            DigestItem(
                title=f"Bad link {n} {IMG}", url=url, source="S", published=published, teaser=""
            )
            for n, url in enumerate(BAD_URLS)
        ],
    ]
    section = DigestSection(watchlist="xss", title=f"Watch {SCRIPT}", items=tuple(items))
    return make_edition(sections=(section,), title=f"Digest {IMG}")


def assert_no_active_content(html: str) -> None:
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    for tag, attrs in tags(html):
        assert tag not in {"script", "img", "b"}
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
    for href in hrefs(html):
        assert href.startswith(("https://", "http://", "../", "#")), href
    for n in range(len(BAD_URLS)):  # the bad links' titles are shown, unlinked
        assert re.search(rf">Bad link {n} &lt;img", html)
        assert not re.search(rf"<a [^>]*>Bad link {n}", html)


def test_xss_in_email_html(make_edition: EditionFactory, recipient: Recipient) -> None:
    out = render_edition(xss_edition(make_edition), recipient)
    assert_no_active_content(out.html)
    assert "https://example.com/a?x=1&y=%3C2%3E" in hrefs(out.html)
    assert SCRIPT in out.text  # plain text is not escaped...
    assert "javascript:" not in out.text.lower()  # ...but bad URLs are left out


def test_xss_in_archive_page(make_edition: EditionFactory, tmp_path: Path) -> None:
    from digests.archive import write_edition_page

    edition = xss_edition(make_edition)
    path = write_edition_page(tmp_path, edition, render_edition(edition).html)
    assert_no_active_content(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/x", "https://example.com/x"),
        ("http://example.com", "http://example.com"),
        (" https://example.com/x ", "https://example.com/x"),
        ('https://example.com/a b?q="é"', "https://example.com/a%20b?q=%22%C3%A9%22"),
        ("//example.com/x", None),
        ("/relative", None),
        ("mailto:a@example.com", None),
        ("https:alert(1)", None),
        ("", None),
        *[(url, None) for url in BAD_URLS],
    ],
)
def test_safe_url(url: str, expected: str | None) -> None:
    assert safe_url(url) == expected


# --- template overrides --------------------------------------------------------------


def test_template_dir_overrides_packaged_templates(edition: Edition, tmp_path: Path) -> None:
    (tmp_path / "_section.html.j2").write_text(
        '<tr><td class="mine">MY SECTION {{ section.title }} {{ "<i>" }}</td></tr>\n',
        encoding="utf-8",
    )
    (tmp_path / "edition.txt.j2").write_text("TEXT {{ heading }}\n", encoding="utf-8")
    out = render_edition(edition, template_dir=tmp_path)
    assert "MY SECTION Social media op het werk &lt;i&gt;" in out.html  # still autoescaped
    assert "MY SECTION Thuiswerken" in out.html
    assert "Week 48 · 23–29 november 2026" in out.html  # packaged edition.html.j2
    assert out.text == "TEXT Week 48 · 23–29 november 2026\n"
    assert "MY SECTION" not in render_edition(edition).html


def test_clean_text_drops_controls_and_bidi_overrides() -> None:
    from digests.render import clean_text

    assert clean_text("Nieuws\u202e gpj.exe\x00\n\t over  werk 👩\u200d💻") == (
        "Nieuws gpj.exe over werk 👩\u200d💻"
    )


# --- stories: also in, read also; lead article ------------------------------------------


def story_edition(make_edition: EditionFactory, **kw: object) -> Edition:
    edition = make_edition(**kw)
    lead = replace(
        edition.sections[0].items[0],
        also_in=(
            SourceLink("NOS", "https://nos.example/linkedin"),
            SourceLink("RTL Nieuws", "https://rtl.example/linkedin?a=1&b=2"),
            SourceLink("Bad <b>", "javascript:alert(1)"),
        ),
        related=(
            RelatedLink("Zo gebruik je LinkedIn slim", "https://trouw.example/slim", "Trouw"),
            RelatedLink("Zonder bron", "https://x.example/zonder"),
        ),
        story_id=7,
        story_size=4,
    )
    section = replace(edition.sections[0], items=(lead, *edition.sections[0].items[1:]))
    return replace(edition, sections=(section, *edition.sections[1:]))


def test_also_in_line_links_other_sources(make_edition: EditionFactory) -> None:
    out = render_edition(story_edition(make_edition))
    assert re.search(
        r'<p class="also"[^>]*>Ook bij: <a [^>]*href="https://nos.example/linkedin"[^>]*>NOS</a>, '
        r'<a [^>]*href="https://rtl.example/linkedin\?a=1&amp;b=2"[^>]*>RTL Nieuws</a>, '
        r"Bad &lt;b&gt;</p>",
        out.html,
    )
    lines = [line.strip() for line in out.text.splitlines()]
    assert "Ook bij:" in lines
    assert "- NOS: https://nos.example/linkedin" in lines
    assert "- RTL Nieuws: https://rtl.example/linkedin?a=1&b=2" in lines
    assert "- Bad <b>" in lines
    assert "javascript" not in out.text
    out_en = render_edition(story_edition(make_edition, language="en"))
    assert "Also in: " in out_en.html
    assert "Also in:" in out_en.text


def test_read_also_list(make_edition: EditionFactory) -> None:
    out = render_edition(story_edition(make_edition))
    assert ">Lees ook</p>" in out.html
    assert re.search(
        r'<a [^>]*href="https://trouw.example/slim"[^>]*>Zo gebruik je LinkedIn slim</a> '
        r"<span[^>]*>· Trouw</span>",
        out.html,
    )
    assert re.search(r'href="https://x.example/zonder"[^>]*>Zonder bron</a></p>', out.html)
    lines = [line.strip() for line in out.text.splitlines()]
    i = lines.index("Lees ook:")
    assert lines[i + 1 : i + 5] == [
        "- Zo gebruik je LinkedIn slim (Trouw)",
        "https://trouw.example/slim",
        "- Zonder bron",
        "https://x.example/zonder",
    ]
    assert "Read also" in render_edition(story_edition(make_edition, language="en")).html


def test_lead_article_is_marked(edition: Edition, recipient: Recipient) -> None:
    h3 = [
        a.get("class") or ""
        for tag, a in tags(render_edition(edition, recipient).html)
        if tag == "h3"
    ]
    assert ["item-lead" in c for c in h3] == [True, False, False]
    # the archive page shows the two the quota left out too; the lead is the same
    h3 = [a.get("class") or "" for tag, a in tags(render_edition(edition).html) if tag == "h3"]
    assert ["item-lead" in c for c in h3] == [True, False, False, False, False]


# --- trends ----------------------------------------------------------------------------


def trend_edition(make_edition: EditionFactory, **kw: object) -> Edition:
    return make_edition(
        trends=(
            TrendItem("thuiswerken", 12, ratio=3.24),
            TrendItem("Rutte <script>", 4, kind="entity", new=True, watchlist="thuiswerken"),
            TrendItem("cao", 1234, ratio=2.0, watchlist="onbekend"),
        ),
        **kw,
    )


def test_rising_this_week_nl(make_edition: EditionFactory) -> None:
    out = render_edition(trend_edition(make_edition))
    assert "Stijgend deze week</h2>" in out.html
    assert re.search(
        r">thuiswerken</strong> 12 artikelen, 3,2× zo vaak als gewoonlijk</p>", out.html
    )
    assert re.search(
        r">Rutte &lt;script&gt;</strong> 4 artikelen <span[^>]*>nieuw</span> "
        r"<span[^>]*>· in Thuiswerken</span>",
        out.html,
    )
    assert ">cao</strong> 1.234 artikelen, 2× zo vaak als gewoonlijk" in out.html
    lines = [line.strip() for line in out.text.splitlines()]
    assert "Stijgend deze week" in lines
    assert "* thuiswerken: 12 artikelen, 3,2× zo vaak als gewoonlijk" in lines
    assert "* Rutte <script>: 4 artikelen (nieuw) · in Thuiswerken" in lines
    assert "* cao: 1.234 artikelen, 2× zo vaak als gewoonlijk · in onbekend" in lines
    # after the watchlist sections, before the footer
    assert out.html.index("Thuiswerken</h2>") < out.html.index("Stijgend deze week")
    assert out.html.index("Stijgend deze week") < out.html.index("Deze editie gaat over")


def test_rising_this_week_en(make_edition: EditionFactory) -> None:
    out = render_edition(trend_edition(make_edition, language="en"))
    assert "Rising this week</h2>" in out.html
    assert ">thuiswerken</strong> 12 articles, 3.2× usual</p>" in out.html
    assert "* cao: 1,234 articles, 2× usual · in onbekend" in out.text
    assert "* Rutte <script>: 4 articles (new) · in Thuiswerken" in out.text


def test_no_rising_section_without_trends(edition: Edition) -> None:
    out = render_edition(edition)
    assert "Stijgend" not in out.html
    assert "Stijgend" not in out.text


@pytest.mark.parametrize("ratio", [None, 0.0, -1.0, float("inf"), float("nan")])
def test_trend_without_a_usable_ratio_shows_the_count(
    make_edition: EditionFactory, ratio: float | None
) -> None:
    out = render_edition(make_edition(trends=(TrendItem("x", 3, ratio=ratio),)))
    assert "* x: 3 artikelen" in out.text.splitlines()


# --- personal footer -------------------------------------------------------------------

MANAGE = "https://trends.example.nl/manage/YW5uZQ.mac1"
UNSUB = "https://trends.example.nl/unsubscribe/YW5uZQ.mac2"


def personal(recipient: Recipient, **kw: str | None) -> Recipient:
    values: dict[str, str | None] = {
        "manage_url": MANAGE,
        "unsubscribe_url": UNSUB,
        "unsubscribe_mailto": "unsubscribe@trends.example.nl",
    }
    values.update(kw)
    return replace(recipient, **values)


def test_footer_manage_and_unsubscribe_links(edition: Edition, recipient: Recipient) -> None:
    out = render_edition(edition, personal(recipient), sender="digest@trends.example.nl")
    assert re.search(
        rf'<a [^>]*href="{re.escape(MANAGE)}"[^>]*>Je abonnement beheren</a>', out.html
    )
    assert re.search(rf'<a [^>]*href="{re.escape(UNSUB)}"[^>]*>Afmelden</a>', out.html)
    assert WEB_URL in hrefs(out.html)
    lines = out.text.splitlines()
    for label, url in [
        ("Je abonnement beheren:", MANAGE),
        ("Afmelden:", UNSUB),
        ("Bekijk deze mail in je browser:", WEB_URL),
    ]:
        assert lines[lines.index(url) - 1] == label
    assert "Verzonden door digest@trends.example.nl" in lines
    out_en = render_edition(
        make_en(edition), personal(recipient), sender="digest@trends.example.nl"
    )
    assert ">Manage your subscription</a>" in out_en.html
    assert ">Unsubscribe</a>" in out_en.html
    assert "Unsubscribe:" in out_en.text.splitlines()
    assert (
        "You are receiving this e-mail because you signed up for Trendwatch Werk en Leven "
        "(Social media op het werk and Thuiswerken) with anne.devries@example.nl."
    ) in out_en.html


def make_en(edition: Edition) -> Edition:
    return replace(edition, language="en")


def test_footer_mailto_only(edition: Edition, recipient: Recipient) -> None:
    out = render_edition(edition, personal(recipient, unsubscribe_url=None, manage_url=None))
    assert "mailto:unsubscribe@trends.example.nl?subject=unsubscribe" in hrefs(out.html)
    text = "Afmelden kan ook met een mail aan unsubscribe@trends.example.nl."
    assert text in out.html
    assert text in " ".join(out.text.split())


def test_unsafe_personal_links_are_dropped(edition: Edition, recipient: Recipient) -> None:
    out = render_edition(
        edition,
        personal(recipient, manage_url="javascript:alert(1)", unsubscribe_url="data:x"),
    )
    assert "javascript" not in out.html + out.text
    assert "data:x" not in out.html + out.text
    assert "Je abonnement beheren" not in out.html


def test_web_version_never_has_personal_links(edition: Edition, recipient: Recipient) -> None:
    """The archive page is rendered without a recipient: nothing personal can leak."""
    web = render_edition(edition, None, sender="digest@trends.example.nl")
    for part in (web.html, web.text):
        assert "/manage/" not in part
        assert "/unsubscribe/" not in part
        assert "Afmelden" not in part
        assert "mailto:" not in part
    assert "Content-Security-Policy" in web.html
    mail = render_edition(edition, personal(recipient))
    assert "Content-Security-Policy" not in mail.html


# --- template_dir: partial overrides and extending the packaged templates ---------------


def test_override_one_partial_keeps_the_others(
    make_edition: EditionFactory, tmp_path: Path
) -> None:
    (tmp_path / "_item.html.j2").write_text(
        '<p class="my-item">{{ item.title }}{% if item.lead %} (LEAD){% endif %}</p>\n',
        encoding="utf-8",
    )
    edition = trend_edition(make_edition)
    out = render_edition(edition, template_dir=tmp_path)
    assert "LinkedIn-gebruik op kantoor verdubbeld (LEAD)" in out.html
    assert "Mag je baas je TikTok volgen?</p>" in out.html
    assert "Social media op het werk</h2>" in out.html  # packaged _section.html.j2
    assert "Rutte &lt;script&gt;" in out.html  # packaged _trends.html.j2, still escaped
    assert "<script" not in out.html
    assert out.text == render_edition(edition).text  # packaged text template


def test_override_can_extend_the_packaged_template(edition: Edition, tmp_path: Path) -> None:
    (tmp_path / "edition.html.j2").write_text(
        '{% extends "digests/edition.html.j2" %}\n'
        '{% block intro %}<tr><td class="mine">{{ "<b>" }} {{ intro }}</td></tr>{% endblock %}\n',
        encoding="utf-8",
    )
    out = render_edition(edition, template_dir=tmp_path)
    assert "&lt;b&gt; Deze week: 5 artikelen over Social media op het werk." in out.html
    assert "Social media op het werk</h2>" in out.html
    assert "intro-text" not in out.html
