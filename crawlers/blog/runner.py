"""Run one blog crawl in a child process and turn what it found into entries.

Scrapy's Twisted reactor cannot be restarted within a process, and the scheduler
crawls every blog source again and again in one long-running process. So each crawl
gets a fresh ``python -m crawlers.blog.child``: the config goes in as JSON on stdin,
articles come back as JSON Lines on stdout. The child is killed when the time is up,
and a crash is an error in the result, never an exception or a hang in the parent.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawlers.blog.config import BlogConfig
from crawlers.entries import Entry, assign_identities
from crawlers.sanitize import html_to_text, plain_line, sanitize_html
from crawlers.urls import canonical_url, is_web_url

# Past this share of the time limit the child stops crawling by itself (Scrapy's
# CLOSESPIDER_TIMEOUT) so it can still report; the kill is the backstop.
SOFT_LIMIT_SHARE = 0.8
STARTUP_ALLOWANCE = 3.0  # seconds: Python, Scrapy and trafilatura imports in the child
_STDERR_TAIL = 2000


@dataclass(frozen=True)
class BlogResult:
    """The outcome of one blog crawl.

    ``entries`` holds every article, even when the crawl failed part-way. ``fatal`` is
    set when the crawl as a whole failed (the start page could not be fetched, the
    child crashed or was killed at the time limit); it is also the first of
    ``errors``, which lists every failure (a page's HTTP 404, a refused redirect...).
    ``robots_refused`` lists the URLs that robots.txt kept us from requesting.
    """

    entries: list[Entry] = field(default_factory=list)
    pages_seen: int = 0  # HTML pages downloaded (robots.txt and sitemaps not counted)
    articles: int = 0  # pages recognised as articles
    errors: list[str] = field(default_factory=list)
    robots_refused: list[str] = field(default_factory=list)
    fatal: str | None = None
    timed_out: bool = False
    finish_reason: str | None = None  # Scrapy's, e.g. "finished", "closespider_timeout"
    duration: float = 0.0  # seconds, child start-up included

    @property
    def ok(self) -> bool:
        return self.fatal is None


def child_command() -> list[str]:
    return [sys.executable, "-m", "crawlers.blog.child"]


def crawl_blog(
    config: BlogConfig,
    *,
    timeout: float,
    allow_private_networks: bool,
    command: Sequence[str] | None = None,
    now: datetime | None = None,
) -> BlogResult:
    """Crawl one blog in a child process; blocks for at most about ``timeout`` seconds.

    ``now`` is the time of the crawl: no page date after its day is believed (default:
    the child's today). ``command`` replaces the child command line (tests use it to
    simulate a crash or a hang; it could also run the child under another interpreter).
    """
    started = time.monotonic()
    payload = _payload(config, timeout, allow_private_networks, now)
    try:
        proc = subprocess.Popen(
            list(command or child_command()),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(),
        )
    except OSError as exc:
        return BlogResult(fatal=f"could not start the crawler process: {exc}", errors=[str(exc)])
    timed_out = False
    try:
        out, err = proc.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        out, err = proc.communicate()
    except BaseException:  # KeyboardInterrupt, SystemExit: never leave the child behind
        proc.kill()
        proc.wait()
        raise
    return _result(
        config, out, err, proc.returncode, timed_out, timeout, time.monotonic() - started
    )


async def crawl_blog_async(
    config: BlogConfig,
    *,
    timeout: float,
    allow_private_networks: bool,
    command: Sequence[str] | None = None,
    now: datetime | None = None,
) -> BlogResult:
    """:func:`crawl_blog` for an event loop: the child runs while the loop does other
    work, and is killed when ``timeout`` passes or the calling task is cancelled."""
    started = time.monotonic()
    payload = _payload(config, timeout, allow_private_networks, now)
    argv = list(command or child_command())
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_child_env(),
        )
    except OSError as exc:
        return BlogResult(fatal=f"could not start the crawler process: {exc}", errors=[str(exc)])
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []

    async def drain(stream: asyncio.StreamReader, into: list[bytes]) -> None:
        while chunk := await stream.read(65536):
            into.append(chunk)

    async def run() -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        try:
            proc.stdin.write(payload)
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child died at once; its exit status tells
        proc.stdin.close()
        await asyncio.gather(drain(proc.stdout, out_chunks), drain(proc.stderr, err_chunks))
        await proc.wait()

    timed_out = False
    try:
        await asyncio.wait_for(run(), timeout)
    except TimeoutError:
        timed_out = True
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return _result(
        config,
        b"".join(out_chunks),
        b"".join(err_chunks),
        proc.returncode,
        timed_out,
        timeout,
        time.monotonic() - started,
    )


def _payload(
    config: BlogConfig, timeout: float, allow_private_networks: bool, now: datetime | None
) -> bytes:
    soft = timeout * SOFT_LIMIT_SHARE - STARTUP_ALLOWANCE
    return json.dumps(
        {
            "config": config.to_dict(),
            "allow_private_networks": allow_private_networks,
            "time_limit": round(soft, 1) if soft >= 1 else None,
            "now": now.isoformat() if now is not None else None,
        }
    ).encode()


def _child_env() -> dict[str, str]:
    """The parent's environment, with this checkout first on the child's import path
    (the parent may run from any directory, or from a source tree not installed)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _result(
    config: BlogConfig,
    out: bytes,
    err: bytes,
    returncode: int | None,
    timed_out: bool,
    timeout: float,
    duration: float,
) -> BlogResult:
    items: list[dict[str, Any]] = []
    errors: list[str] = []
    refused: list[str] = []
    done: dict[str, Any] | None = None
    fatal: str | None = None
    for line in out.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line from a killed child
        if not isinstance(record, dict):
            continue
        kind = record.get("kind")
        if kind == "article":
            items.append(record)
        elif kind == "refused":
            refused.append(str(record.get("url")))
        elif kind == "error":
            message = f"{record.get('url')}: {record.get('error')}"
            errors.append(message)
            if record.get("start") and fatal is None:
                fatal = f"start page failed: {message}"
        elif kind == "done":
            done = record
    entries = items_to_entries(items, language=config.language)
    if timed_out:
        fatal = f"timed out after {timeout:g} s; crawler process killed"
    elif done is None:
        tail = err.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
        last = tail.splitlines()[-1] if tail else "no output"
        fatal = f"crawler process failed (exit status {returncode}): {last}"
    elif done.get("finish_reason") == "closespider_timeout":
        errors.append(f"stopped at the time limit after {done.get('pages_seen', 0)} pages")
    if fatal and fatal not in errors:
        errors.insert(0, fatal)
    return BlogResult(
        entries=entries,
        pages_seen=int((done or {}).get("pages_seen", 0)),
        articles=len(items),
        errors=errors,
        robots_refused=list(dict.fromkeys(refused)),
        fatal=fatal,
        timed_out=timed_out or (done or {}).get("finish_reason") == "closespider_timeout",
        finish_reason=(done or {}).get("finish_reason"),
        duration=duration,
    )


def items_to_entries(items: list[dict[str, Any]], *, language: str | None = None) -> list[Entry]:
    """Spider items as :class:`Entry` objects, by the same rules as feed entries: the
    identity is the canonical link (a blog page has no guid), the HTML is sanitised
    here once more, the text is derived from it. ``language`` (the source's configured
    language) wins over what the page declared. Duplicates (one article reached under
    two URLs with the same canonical link) are dropped."""
    prepared: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        url = canonical_url(str(item.get("url") or item.get("fetched_url") or ""))
        if not is_web_url(url) or url in seen:
            continue
        seen.add(url)
        content = sanitize_html(str(item.get("content") or ""))
        text = html_to_text(content) or str(item.get("text") or "")
        description = " ".join(str(item.get("description") or "").split())
        prepared.append(
            {
                "url": url,
                "title": plain_line(str(item.get("title") or "")) or url,
                "content": content,
                "text": text,
                "summary": description or _lead(text),
                "author": (plain_line(str(item.get("author") or "")) or None),
                "published": _aware(item.get("published")),
                "language": language or item.get("language") or None,
                "categories": tuple(str(c) for c in item.get("categories") or () if c),
            }
        )
    identities = assign_identities([(None, p["url"], p["title"], p["text"]) for p in prepared])
    return [Entry(identity=i, **p) for i, p in zip(identities, prepared, strict=True)]


def _lead(text: str, words: int = 60) -> str:
    """The first paragraph, cut at ``words`` words: the teaser a feed would carry."""
    first = text.split("\n\n", 1)[0].split()
    return " ".join(first[:words]) + (" …" if len(first) > words else "")


def _aware(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
