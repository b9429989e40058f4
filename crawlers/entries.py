"""Entries: what a crawler hands to the pipeline, and how an entry gets its identity."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from crawlers.bounds import MAX_CATEGORIES, MAX_ID, MAX_NAME, MAX_TITLE, MAX_URL, clip

# An identity is made of a guid and a link; a longer one (only from values over their
# bounds) is replaced by a hash of itself, which is as stable from crawl to crawl.
MAX_IDENTITY = 16 + MAX_ID + MAX_URL


@dataclass(frozen=True)
class Entry:
    """One article as a source delivered it, normalised.

    ``identity`` is stable across crawls: ``guid``, else ``guid`` + link when the guid
    repeats within one feed, else the canonical link, else a hash of title and content.
    """

    identity: str
    title: str
    url: str | None = None  # canonical link (tracking parameters and fragment dropped)
    guid: str | None = None
    summary: str = ""  # plain text
    content: str = ""  # sanitised HTML
    text: str = ""  # plain text of the content (or of the summary when there is no content)
    author: str | None = None
    published: datetime | None = None  # timezone-aware UTC, None when the feed gives none
    language: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:32]


def assign_identities(
    raw: list[tuple[str | None, str | None, str, str]],
) -> list[str]:
    """Identities for a feed's entries, given (guid, canonical link, title, text) each.

    Mirrors the best readers: a guid that occurs once is the identity; a guid shared by
    entries with different links is combined with the link; without a guid the link is
    used; without both, a hash of title and text. An exact repeat (same guid, same
    link) gets the same identity as the first: :func:`unique_by_identity` drops it.
    """
    links: dict[str, set[str | None]] = {}
    for guid, link, _, _ in raw:
        if guid:
            links.setdefault(guid, set()).add(link)
    out: list[str] = []
    for guid, link, title, text in raw:
        if guid and len(links[guid]) == 1:
            out.append(f"guid:{guid}")
        elif guid and link:
            out.append(f"guid+link:{guid} {link}")
        elif link:
            out.append(f"link:{link}")
        else:
            out.append(f"hash:{content_hash(title, text)}")
    return out


def unique_by_identity(entries: list[Entry]) -> list[Entry]:
    """The entries with the first of each identity kept (feeds list newest first)."""
    seen: set[str] = set()
    out: list[Entry] = []
    for entry in entries:
        if entry.identity not in seen:
            seen.add(entry.identity)
            out.append(entry)
    return out


def bounded(entries: list[Entry]) -> tuple[list[Entry], str | None]:
    """The entries with every value within its bound (:mod:`crawlers.bounds`), and a
    note for the source's warning saying what was cut, or None if nothing was.

    Title, author, categories and guid are shortened; a link longer than MAX_URL is
    dropped (a cut URL leads elsewhere); an identity longer than MAX_IDENTITY becomes
    ``sha256:`` and its hash. Text bodies are bounded by the fetch's byte cap.
    """
    out: list[Entry] = []
    cut: set[str] = set()
    count = 0
    for entry in entries:
        changes: dict[str, Any] = {}
        if len(entry.title) > MAX_TITLE:
            changes["title"] = clip(entry.title, MAX_TITLE)
        if entry.author and len(entry.author) > MAX_NAME:
            changes["author"] = clip(entry.author, MAX_NAME)
        categories = entry.categories[:MAX_CATEGORIES]
        if categories != entry.categories or any(len(c) > MAX_NAME for c in categories):
            changes["categories"] = tuple(clip(c, MAX_NAME) for c in categories)
        if entry.guid and len(entry.guid) > MAX_ID:
            changes["guid"] = clip(entry.guid, MAX_ID, "")
        if entry.url and len(entry.url) > MAX_URL:
            changes["url"] = None
        if len(entry.identity) > MAX_IDENTITY:
            changes["identity"] = "sha256:" + hashlib.sha256(entry.identity.encode()).hexdigest()
        if changes:
            count += 1
            cut.update(changes)
            entry = replace(entry, **changes)
        out.append(entry)
    if not count:
        return out, None
    what = ", ".join(
        {"url": "link dropped", "identity": "identity hashed"}.get(key, f"{key} shortened")
        for key in ("title", "author", "categories", "guid", "url", "identity")
        if key in cut
    )
    return out, f"{count} entr{'y' if count == 1 else 'ies'} with over-long values ({what})"
