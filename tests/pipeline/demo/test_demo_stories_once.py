"""The demo's digests show each story in full once: in the first section it belongs
to, and in later sections as a one-line reference to it (``trendwatch demo`` as a
child process, see ``conftest.py``, then its mails and archive pages are read)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

JONGE = "Jonge werknemers vaker uitgevallen door stress en burn-out"
CAO = "Cao-overleg bij Regiobus Gelderland vastgelopen"


def sections(text: str) -> dict[str, list[str]]:
    """The text part's sections: title -> its entries ("* ..." with their indented
    continuation lines, whitespace collapsed)."""
    out: dict[str, list[str]] = {}
    lines = text.splitlines()
    current: list[str] | None = None
    for n, line in enumerate(lines):
        if n + 1 < len(lines) and lines[n + 1] and set(lines[n + 1]) == {"="} and line:
            current = out.setdefault(line, [])
        elif line.startswith("-" * 40):
            current = None
        elif current is not None and line.startswith("* "):
            current.append(line[2:])
        elif current is not None and current and line.startswith("  "):
            current[-1] += "\n" + line.strip()
    return out


def full_titles(entries: list[str]) -> list[str]:
    """The entries shown in full (a title and its link), by title."""
    titles = []
    for entry in entries:
        head, _, rest = entry.partition("\nhttp")
        if rest:
            titles.append(" ".join(head.split()))
    return titles


def test_the_demo_shows_each_story_once_and_refers_to_it_later(
    demo_data: Path, demo_mails: dict[str, EmailMessage]
) -> None:
    data, mails = demo_data, demo_mails
    assert len(mails) == 3
    for msg in mails.values():  # no story in full twice in any edition
        titles = [
            t
            for entries in sections(msg.get_body(("plain",)).get_content()).values()
            for t in full_titles(entries)
        ]
        assert len(titles) == len(set(titles)), titles

    adviser = next(m for to, m in mails.items() if to.startswith("hr-adviseur@"))
    text = sections(adviser.get_body(("plain",)).get_content())
    social = "Social media op het werk"
    verzuim = "Verzuim en burn-out"
    lonen = "Lonen, cao's en arbeidsmarkt"
    assert list(text) == [social, verzuim, lonen]
    assert JONGE in full_titles(text[social])
    assert JONGE not in full_titles(text[verzuim])
    assert f"{JONGE} (ook onder {social})" in [" ".join(e.split()) for e in text[verzuim]]
    assert CAO in full_titles(text[verzuim]) and CAO not in full_titles(text[lonen])
    assert f"{CAO} (ook onder {verzuim})" in [" ".join(e.split()) for e in text[lonen]]

    # the HTML mail and the archive page: a link to the full story's anchor
    page = next((data / "archive").glob("*/W*/nl-social-media-werk_verzuim-burnout_cao-lonen.html"))
    for html in (adviser.get_body(("html",)).get_content(), page.read_text("utf-8")):
        for title, where in ((JONGE, social), (CAO, verzuim)):
            [(anchor,)] = [
                (m.group(1),)
                for m in re.finditer(r'<a class="ref-link" href="#([^"]+)"[^>]*>([^<]*)</a>', html)
                if m.group(2) == title
            ]
            assert html.count(f'id="{anchor}"') == 1
            assert f"· ook onder {where}</span>" in html
