"""Adding sources to the config file: ``trendwatch sources add``, ``import`` and ``export``
(and the admin's "add a source" page). Watchlists are written by
:mod:`pipeline.settings.edit_watchlists`.

New sources are *appended* to the config file as ``[[sources]]`` tables: the file's
existing text (comments, layout, order) stays byte for byte as it was. The new text is
validated as a whole before it is written, and written atomically, so a failed add
never leaves a broken config behind. Duplicates (the same feed URL, or a name already
taken) are refused.
"""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from crawlers.bounds import MAX_NAME, MAX_URL, clip
from crawlers.discover import FALLBACK_PATHS, find_feeds
from crawlers.feeds import FeedParseError, parse_feed
from crawlers.http import PrivateAddressRefused, fetch, make_client
from crawlers.opml import OpmlFeed, parse_opml, write_opml
from crawlers.urls import canonical_url, is_web_url
from pipeline.crawl.job import http_options
from pipeline.settings.edit_watchlists import write_config_file
from pipeline.settings.model import Settings, Source
from pipeline.settings.validate import validate_settings_data

_LANGUAGE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*$")


class SourceConfigError(Exception):
    """The source cannot be added (no feed found, a duplicate...): bad usage, exit 2."""


@dataclass(frozen=True)
class NewSource:
    """A ``[[sources]]`` table about to be appended."""

    name: str
    url: str
    type: str = "feed"
    language: str | None = None
    categories: tuple[str, ...] = ()
    full_text: bool = False

    def toml(self) -> str:
        lines = ["[[sources]]", f"name = {_toml_string(self.name)}", f'type = "{self.type}"']
        lines.append(f"url = {_toml_string(self.url)}")
        if self.language:
            lines.append(f'language = "{self.language}"')
        if self.categories:
            lines.append(
                "categories = [" + ", ".join(_toml_string(c) for c in self.categories) + "]"
            )
        if self.full_text:
            lines.append("full_text = true")
        return "\n".join(lines) + "\n"


@dataclass
class ImportResult:
    """What an OPML import did: the sources appended, the feeds skipped, the warnings."""

    added: list[NewSource] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (feed URL, why)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (source name, what)


# --- the config file ---------------------------------------------------------------


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL must be escaped too)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def append_sources(settings: Settings, sources: list[NewSource], comment: str) -> None:
    """Append ``sources`` to the config file after a ``# comment`` line, keeping the
    existing text as it is; the result is validated before it replaces the file."""
    if not sources:
        return
    path = settings.path
    raw = path.read_bytes()
    block = "\n# " + comment + "\n" + "\n".join(s.toml() for s in sources)
    if raw and not raw.endswith(b"\n"):
        block = "\n" + block
    text = raw + block.encode("utf-8")
    try:
        data = tomllib.loads(text.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError, UnicodeDecodeError, ...
        raise SourceConfigError(
            f"{path} would not be valid TOML with the new [[sources]] appended ({exc});"
            " nothing was written"
        ) from None
    # a problem in the result raises ConfigError, naming the file and key
    validate_settings_data(data, str(path), path.parent, path=path)
    write_config_file(path, text)


def _key(url: str) -> str:
    """What makes two feed URLs the same: the canonical form, without a trailing slash."""
    return canonical_url(url).rstrip("/")


def _configured(settings: Settings) -> dict[str, Source]:
    return {_key(s.url): s for s in settings.sources if s.url}


def _names(settings: Settings) -> set[str]:
    return {s.name.casefold() for s in settings.sources}


def _language(value: str | None) -> str | None:
    """The 2-letter code of "nl", "nl-NL" or "en_GB"; anything else: None."""
    m = _LANGUAGE.match((value or "").strip())
    return m.group(1).lower() if m else None


def _unique_name(title: str, url: str, taken: set[str]) -> str:
    """A name not in ``taken``, of at most MAX_NAME characters: the title, else with the
    host added, else with a number too."""
    host = clip(urlsplit(url).hostname or "feed", MAX_NAME // 2)
    base = " ".join(title.split()) or host

    def named(suffix: str) -> str:
        return clip(base, MAX_NAME - len(suffix)) + suffix

    for candidate in (named(""), named(f" ({host})")):
        if candidate.casefold() not in taken:
            return candidate
    n = 2
    while named(f" ({host}) {n}").casefold() in taken:
        n += 1
    return named(f" ({host}) {n}")


def today() -> str:
    """Today's date (UTC) for the comment above appended sources."""
    return datetime.now(UTC).date().isoformat()


# --- sources add -------------------------------------------------------------------


@dataclass(frozen=True)
class Discovered:
    """The feeds a site offers, and what the first one says of itself."""

    feed_url: str  # the feed chosen
    others: tuple[str, ...]  # further feeds the site offers
    title: str
    language: str | None


def discover(settings: Settings, url: str) -> Discovered:
    """The feeds a site offers (verified by fetching and parsing each), and the first
    one's title and language. SourceConfigError when there is none, or when the
    private-network guard refuses the site."""
    return asyncio.run(_discover(settings, url))


async def _discover(settings: Settings, url: str) -> Discovered:
    async with make_client(http_options(settings)) as client:
        try:
            found = await find_feeds(client, url)
        except PrivateAddressRefused as exc:
            raise SourceConfigError(str(exc)) from None
        if not found:
            tried = ", ".join(FALLBACK_PATHS)
            raise SourceConfigError(
                f"no feed found at {url}: the page links to no RSS, Atom or JSON feed"
                f' (<link rel="alternate">), and none of {tried} answers with one.'
                ' For a site without a feed, add a [[sources]] table with type = "blog".'
            )
        result = await fetch(client, found[0])
    title, language = "", None
    if result.content is not None:
        try:
            parsed = parse_feed(result.content, result.url, content_type=result.content_type)
        except FeedParseError:
            pass
        else:
            title, language = parsed.title, _language(parsed.language)
    return Discovered(found[0], tuple(found[1:]), title, language)


def add_source(
    settings: Settings,
    url: str,
    *,
    name: str | None = None,
    language: str | None = None,
    categories: Iterable[str] = (),
    full_text: bool = False,
) -> tuple[NewSource, Discovered]:
    """Find the feed of the site at ``url`` and append it to the config."""
    if not is_web_url(url):
        raise SourceConfigError(f"expected an absolute http(s) URL, got {url!r}")
    configured = _configured(settings)
    if _key(url) in configured:
        raise SourceConfigError(_already(configured[_key(url)], url))
    if name is not None and name.strip().casefold() in _names(settings):
        raise SourceConfigError(f"a source named {name.strip()!r} exists already")
    found = discover(settings, url)
    if _key(found.feed_url) in configured:
        raise SourceConfigError(_already(configured[_key(found.feed_url)], found.feed_url))
    if name is None:
        title = found.title or (urlsplit(found.feed_url).hostname or "feed")
        name = _unique_name(title, found.feed_url, _names(settings))
    new = NewSource(
        name=name.strip(),
        url=found.feed_url,
        language=language or found.language,
        categories=tuple(c.strip() for c in categories if c.strip()),
        full_text=full_text,
    )
    append_sources(settings, [new], f"added by `trendwatch sources add {url}` on {today()}")
    return new, found


def _already(source: Source, url: str) -> str:
    where = f"{source.key} " if source.key else ""
    return f"{url} is configured already: {where}{source.name!r}"


# --- OPML --------------------------------------------------------------------------


def import_opml(settings: Settings, data: bytes, label: str) -> ImportResult:
    """Append every feed of an OPML document that is not configured yet, with its
    folders and categories as ``categories``. Raises crawlers.opml.OpmlError."""
    feeds = parse_opml(data)
    configured = _configured(settings)
    taken = _names(settings)
    result = ImportResult()
    for feed in feeds:
        url = feed.xml_url.strip()
        if len(url) > MAX_URL:
            result.skipped.append((clip(url, 80), f"URL longer than {MAX_URL:,} characters"))
            continue
        if not is_web_url(url):
            result.skipped.append((url, "not an http(s) URL"))
            continue
        if _key(url) in configured:
            result.skipped.append((url, f"configured already as {configured[_key(url)].name!r}"))
            continue
        name = _unique_name(feed.title, url, taken)
        taken.add(name.casefold())
        new = NewSource(
            name=name, url=url, language=_language(feed.language), categories=feed.categories
        )
        configured[_key(url)] = Source(name, "feed", url)
        result.added.append(new)
        result.warnings.extend((name, note) for note in feed.notes)
    append_sources(settings, result.added, f"imported from {label} on {today()}")
    return result


def export_opml(settings: Settings) -> tuple[bytes, list[Source]]:
    """OPML 2.0 of the feed and alert sources (categories kept), and the sources left
    out (blogs have no feed to subscribe to)."""
    feeds = [s for s in settings.sources if s.type in ("feed", "alert") and s.url]
    left_out = [s for s in settings.sources if s not in feeds]
    doc = write_opml(
        [OpmlFeed(s.name, s.url, None, s.categories, s.language) for s in feeds],
        title=f"{settings.digest_title}: sources",
    )
    return doc, left_out
