"""The demo's digests show a story's reports in the other language: the English
edition lists the Dutch report of Brinkhorst's four-day week under "Also in", and the
Dutch editions list the English one under "Ook bij", in the text and the HTML part
(``trendwatch demo`` as a child process, see ``conftest.py``)."""

from __future__ import annotations

import html
import re
from email.message import EmailMessage

import pytest

EN_TITLE = "Dutch installer Brinkhorst moves all 640 staff to a four-day week"
NL_TITLE = "Installatiebedrijf Brinkhorst voert vierdaagse werkweek in voor alle 640 medewerkers"
AI_STUDY = "Back-office chatbots save employees an hour a day, study finds, but trust lags"
EN_SITE = "https://workplacewire.demo.trendwatch.invalid/news/"
NL_SITE = "https://werkenleven.demo.trendwatch.invalid/nieuws/"


def text_entry(text: str, title: str) -> str:
    """The text part's entry of the story shown in full under ``title``: from its
    title to the next entry, whitespace collapsed."""
    flat = " ".join(text.split())
    start = flat.index(f"* {title}")
    end = flat.find("* ", start + 2)
    return flat[start : end if end != -1 else None]


def html_also_in(part: str, title: str) -> list[tuple[str, str]]:
    """(source, link) of the "also in" paragraph of the item titled ``title``."""
    start = part.index(f">{html.escape(title)}<")
    end = part.find('<table class="item"', start)
    also = re.search(
        r'<p class="also"[^>]*>(.*?)</p>', part[start : end if end != -1 else None], re.S
    )
    if also is None:
        return []
    return [
        (html.unescape(name), href)
        for href, name in re.findall(
            r'<a class="also-link" href="([^"]+)"[^>]*>([^<]+)</a>', also[1]
        )
    ]


@pytest.mark.parametrize(
    ("reader", "title", "label", "source", "site"),
    [
        ("editor@", EN_TITLE, "Also in:", "Werk & Leven Vandaag", NL_SITE),
        ("hr-adviseur@", NL_TITLE, "Ook bij:", "The Workplace Wire", EN_SITE),
        ("teamleider@", NL_TITLE, "Ook bij:", "The Workplace Wire", EN_SITE),
    ],
)
def test_a_story_lists_its_reports_in_the_other_language(
    demo_mails: dict[str, EmailMessage],
    reader: str,
    title: str,
    label: str,
    source: str,
    site: str,
) -> None:
    mail = next(m for to, m in demo_mails.items() if to.startswith(reader))
    entry = text_entry(mail.get_body(("plain",)).get_content(), title)
    also = entry[entry.index(label) :]
    assert f"- {source}: {site}" in also
    assert (source, site) in [
        (s, h[: len(site)]) for s, h in html_also_in(mail.get_body(("html",)).get_content(), title)
    ]


def test_two_stories_on_one_theme_are_not_each_others_reports(
    demo_mails: dict[str, EmailMessage],
) -> None:
    """The English study of AI assistants and the Dutch advice on AI policy share only
    the theme ("AI", "HR"): neither lists the other under "Also in"."""
    mail = next(m for to, m in demo_mails.items() if to.startswith("editor@"))
    entry = text_entry(mail.get_body(("plain",)).get_content(), AI_STUDY)
    assert "Also in:" not in entry.partition("Read also:")[0]  # related, not the same story
    assert "HR Kompas" not in [
        s for s, _ in html_also_in(mail.get_body(("html",)).get_content(), AI_STUDY)
    ]
