"""`trendwatch demo`, end to end as a user runs it (a child process, real files): the
whole job offline on the bundled feeds, twice, then `status`."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from pathlib import Path

from tests_support import trendwatch


def db_count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def sections(text: str) -> dict[str, str]:
    """The sections of a digest's plain text: each heading (a line underlined with "=")
    with the text under it, white space folded (long titles wrap)."""
    lines = text.splitlines()
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line, below in zip(lines, [*lines[1:], ""], strict=True):
        if below and set(below) == {"="}:
            current = found.setdefault(line, [])
        elif not set(line) <= {"="}:
            current.append(line)
    return {heading: " ".join(" ".join(body).split()) for heading, body in found.items()}


# Articles of the last two days (pipeline/demo/articles.toml, dated relative to the
# run) that each subscriber's watchlists (config/demo.toml) match, by section
SOCIAL_MEDIA = ("Ontslag na TikTok-video over klanten: waar ligt de grens op social media?",)
ABSENCE = ("ArboPunt: psychisch verzuim op hoogste niveau in tien jaar",)
DEMO_DIGESTS = {
    "hr-adviseur@demo.trendwatch.invalid": {
        "Social media op het werk": SOCIAL_MEDIA,
        "Verzuim en burn-out": ABSENCE,
        "Lonen, cao's en arbeidsmarkt": ("Lonen & cao's: dit verandert er per 1 juli",),
    },
    "teamleider@demo.trendwatch.invalid": {
        "Thuiswerken en hybride werken": (
            "Kantoor blijft halfleeg: werkgevers zoeken nieuwe balans in hybride werken",
        ),
        "Verzuim en burn-out": ABSENCE,
        "Social media op het werk": SOCIAL_MEDIA,
    },
    "editor@demo.trendwatch.invalid": {
        "Remote and hybrid work": (
            "Return to office mandates meet quiet resistance",
            "Why hybrid work fails without clear team agreements",
        ),
        "AI at work": ("The manager's guide to AI: start with the team, not the tool",),
    },
}


def test_demo_runs_end_to_end_and_again_without_duplicates(tmp_path: Path) -> None:
    first = trendwatch("demo", "demo", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    data = tmp_path / "demo" / "data"
    db = data / "trendwatch.db"
    articles = db_count(db, "SELECT count(*) FROM articles")
    assert articles >= 40
    assert db_count(db, "SELECT count(*) FROM matches") > 0
    outbox = sorted((data / "outbox").glob("*.eml"))
    assert len(outbox) == 3  # one per demo subscriber
    index = data / "archive" / "index.html"
    assert index.is_file()
    assert "Where to look" in first.stdout and str(index.name) in first.stdout
    assert first.stdout.splitlines()[-1] == "trendwatch --config demo/trendwatch.toml serve"

    # every mail is a proper multipart/alternative digest with content this week: one
    # section per watchlist of its subscriber, each with this week's articles that match
    received = {}
    for path in outbox:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert msg.get_content_type() == "multipart/alternative"
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert msg["To"] and msg["Subject"] and msg["Message-ID"]
        assert "http" in text and "<table" in html
        received[msg["To"].addresses[0].addr_spec] = sections(text)
    assert received.keys() == DEMO_DIGESTS.keys()
    for address, expected in DEMO_DIGESTS.items():
        assert received[address].keys() == expected.keys(), address
        for heading, titles in expected.items():
            for title in titles:
                assert f"* {title}" in received[address][heading], (address, heading, title)

    # the archive index links to existing edition pages
    page_links = [p for p in index.read_text("utf-8").split('href="')[1:]]
    targets = [link.split('"', 1)[0] for link in page_links]
    local = [t for t in targets if "://" not in t and not t.startswith("#")]
    assert local and all((index.parent / t).is_file() for t in local)
    edition_pages = [t for t in local if "/W" in t]  # 2026/W48/<audience>.html
    assert (index.parent / "feed.xml").is_file()

    second = trendwatch("demo", "demo", cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert db_count(db, "SELECT count(*) FROM articles") == articles
    assert db_count(db, "SELECT count(*) FROM deliveries") == 3
    assert db_count(db, "SELECT count(*) FROM editions") == len(edition_pages)
    assert sorted((data / "outbox").glob("*.eml")) == outbox
    assert "already delivered" in second.stdout

    status = trendwatch("--config", "demo/trendwatch.toml", "status", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["articles"] == articles
    assert all(s["health"] == "ok" for s in info["sources"])
    assert info["deliveries"] == {"sent": 3}
