"""JSON Lines import and export of articles, and the import job.

Import: one object per line with ``id``, ``title``, ``text``, ``url``, ``published``
and optional ``lang`` and ``source``. The whole file is checked before anything is
stored, and every problem names the line and the field; nothing in a line (bad UTF-8,
deep nesting, a number of thousands of digits, an over-long id, source or URL) ends in
a traceback. A title longer than MAX_TITLE is shortened. Export: every article with its
language, entities, keyphrases, watchlist matches with their reasons, duplicate-of and
story id, so clustering can be scored against labelled data (bench/cluster_eval.py).
``import_jsonl`` is the job ``trendwatch import`` runs: it stores the checked articles
under their sources, as the crawl stores a feed's entries.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from crawlers.bounds import MAX_ID, MAX_NAME, MAX_TITLE, MAX_URL, clip
from crawlers.entries import Entry
from crawlers.sanitize import plain_line
from crawlers.urls import canonical_url
from pipeline.store import ExportedArticle, Store

log = logging.getLogger("trendwatch")

IMPORT_PREFIX = "import:"
DEFAULT_SOURCE = "import"
REQUIRED = ("id", "title", "text")


class ImportError_(ValueError):
    """The file cannot be imported; ``problems`` are ``(line, message)`` pairs."""

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        self.path = path
        self.problems = problems
        shown = "\n".join(f"{path}:{line}: {message}" for line, message in problems[:20])
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(shown + more)


@dataclass(frozen=True)
class ImportedArticle:
    source: str
    entry: Entry


def read_jsonl(path: Path) -> list[ImportedArticle]:
    """Parse and check every line; raise ImportError_ listing all problems."""
    problems: list[tuple[int, str]] = []
    articles: list[ImportedArticle] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        handle: IO[bytes] = path.open("rb")
    except OSError as exc:
        raise ImportError_(str(path), [(0, f"cannot read the file: {exc.strerror}")]) from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
                problems.append((number, f"not UTF-8 text ({bad})"))
                continue
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append((number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
                continue
            except ValueError:  # int() refuses a number of more digits than this
                digits = sys.get_int_max_str_digits()
                problems.append((number, f"not valid JSON (a number of more than {digits} digits)"))
                continue
            except RecursionError:
                problems.append((number, "not valid JSON (arrays or objects nested too deeply)"))
                continue
            try:
                article = _article(data)
            except ValueError as exc:
                problems.append((number, str(exc)))
                continue
            key = (article.source, article.entry.identity)
            if key in seen:
                problems.append((number, f"id {data['id']!r} repeats line {seen[key]}"))
                continue
            seen[key] = number
            articles.append(article)
    if problems:
        raise ImportError_(str(path), problems)
    return articles


def _article(data: Any) -> ImportedArticle:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with id, title and text")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}; expected id, title, text (url, ...)")
    if not isinstance(data["id"], str | int) or isinstance(data["id"], bool):
        raise ValueError("id: expected a string or a whole number")
    _bounded("id", str(data["id"]), MAX_ID)
    for key in ("title", "text"):
        if not isinstance(data[key], str):
            raise ValueError(f"{key}: expected a string")
    if not data["title"].strip() and not data["text"].strip():
        raise ValueError("title and text are both empty")
    url = _optional_str(data, "url")
    if url:
        _bounded("url", url, MAX_URL)
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url: expected an absolute http(s) URL, got {_shown(url)}")
        url = canonical_url(url)
    lang = _optional_str(data, "lang")
    if lang is not None and not (len(lang) in (2, 3) and lang.isalpha() and lang.islower()):
        raise ValueError(f"lang: expected a language code such as 'nl' or 'en', got {_shown(lang)}")
    source = _optional_str(data, "source") or DEFAULT_SOURCE
    _bounded("source", source, MAX_NAME)
    text = data["text"].strip()
    title = plain_line(data["title"]) or plain_line(text.split("\n", 1)[0])[:200]
    title = clip(title, MAX_TITLE)
    entry = Entry(
        identity=f"{IMPORT_PREFIX}{data['id']}",
        title=title,
        url=url,
        guid=str(data["id"]),
        summary="",
        content="",
        text=text,
        published=_published(data.get("published")),
        language=lang,
    )
    return ImportedArticle(source, entry)


def _bounded(key: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValueError(f"{key}: expected at most {limit:,} characters, got {len(value):,}")


def _shown(value: str) -> str:
    """``repr`` of a value for a message, shortened when long."""
    return repr(clip(value, 60))


def _optional_str(data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string")
    return value.strip() or None


def _published(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("published: expected an ISO 8601 date such as 2026-11-23T09:30:00Z")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            "published: expected an ISO 8601 date such as 2026-11-23T09:30:00Z,"
            f" got {_shown(value)}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- the import job ------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    articles: int
    new: int
    updated: int
    unchanged: int
    sources: tuple[str, ...]


def import_jsonl(store: Store, path: Path, *, now: datetime | None = None) -> ImportReport:
    """Store the articles of a JSON Lines file (checked whole before anything is
    stored) under their ``source`` (default "import"); importing again adds nothing.

    The articles are stored in the file's order, in one transaction: ``process`` takes
    them in the order they were stored, so a file written oldest first (as an export
    is) reaches the story clusterer in time order, as a crawl delivers articles, even
    when its sources take turns line by line."""
    now = now or datetime.now(UTC)
    articles = read_jsonl(path)
    counts: dict[str, list[int]] = {}  # source -> [new, updated, unchanged]
    with store.transaction():
        ids = {
            name: store.ensure_source(name, "import", f"import:{name}", now)
            for name in sorted({a.source for a in articles})
        }
        for name, run in groupby(articles, key=attrgetter("source")):
            saved = store.save_entries(ids[name], [a.entry for a in run], now)
            tally = counts.setdefault(name, [0, 0, 0])
            tally[0] += saved.new
            tally[1] += saved.updated
            tally[2] += saved.unchanged
    for name, (new, updated, _) in sorted(counts.items()):
        log.info("import %r: %d new, %d updated from %s", name, new, updated, path)
    new, updated, unchanged = (sum(c[i] for c in counts.values()) for i in range(3))
    return ImportReport(len(articles), new, updated, unchanged, tuple(sorted(counts)))


# --- export ----------------------------------------------------------------------------


def export_record(row: ExportedArticle) -> dict[str, Any]:
    """One exported line, from a row of ``Store.export_rows``."""
    identity = row.identity or ""
    matches = [m for m in row.matches if m]
    return {
        "id": row.id,
        "import_id": identity[len(IMPORT_PREFIX) :] if identity.startswith(IMPORT_PREFIX) else None,
        "source": row.source_name,
        "url": row.url,
        "title": row.title,
        "published": row.published,
        "fetched": row.fetched,
        "lang": row.detected_language or row.language,
        "entities": list(row.entities),
        "keyphrases": list(row.keyphrases),
        "matches": sorted(matches, key=lambda m: m["watchlist"]),
        "duplicate_of": row.duplicate_of,
        "story_id": row.story_id,
        "processed": row.processed_at is not None,
    }


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def iter_export(rows: Iterable[ExportedArticle]) -> Iterator[dict[str, Any]]:
    return (export_record(r) for r in rows)
