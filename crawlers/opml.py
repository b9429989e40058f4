"""OPML subscription lists: read what feed readers export, write what they import.

Parsing refuses documents that declare entities (no entity expansion at all, so no
"billion laughs"), and expat never loads external entities or DTDs. It also refuses
elements nested deeper than :data:`MAX_DEPTH`; titles and categories longer than
their bounds (:mod:`crawlers.bounds`) are shortened, and each feed notes what was.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.parsers import expat

from crawlers.bounds import MAX_CATEGORIES, MAX_NAME, MAX_URL, clip

MAX_DEPTH = 50  # elements nested deeper than this (opml, body, outlines) are refused


class OpmlError(ValueError):
    """The bytes are not an OPML document."""


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    xml_url: str
    html_url: str | None = None
    categories: tuple[str, ...] = ()  # folders, outermost first, then `category` values
    language: str | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)  # what was shortened


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds in an OPML document, in document order.

    An outline with an ``xmlUrl`` is a feed; other outlines are folders, and a feed's
    folders (outermost first) become its categories, followed by the values of its own
    ``category`` attribute (comma-separated, slashes at either end dropped). Missing
    titles fall back to ``text``, then to the URL. A feed listed twice (in two folders)
    is returned once with both categories. A title or category longer than
    :data:`~crawlers.bounds.MAX_NAME` is shortened, and the feed's ``notes`` say so; a
    feed keeps at most :data:`~crawlers.bounds.MAX_CATEGORIES` categories, and an
    ``htmlUrl`` longer than :data:`~crawlers.bounds.MAX_URL` is left out.
    """
    root = _parse_xml(data)
    if _local(root.tag).lower() != "opml":
        raise OpmlError(f"not an OPML document: the root element is <{_local(root.tag)}>")
    body = next((c for c in root if _local(c.tag).lower() == "body"), None)
    if body is None:
        raise OpmlError("not an OPML document: no <body>")
    feeds: dict[str, OpmlFeed] = {}
    _walk(body, (), feeds, ())
    return list(feeds.values())


def write_opml(feeds: list[OpmlFeed], title: str = "trendwatch subscriptions") -> bytes:
    """An OPML 2.0 document. A feed's first category becomes its folder; further
    categories go into its ``category`` attribute, so :func:`parse_opml` reads back
    the same feeds."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        parent = body
        if feed.categories:
            name = feed.categories[0]
            if name not in folders:
                folders[name] = ET.SubElement(body, "outline", text=name, title=name)
            parent = folders[name]
        attrs = {"type": "rss", "text": feed.title, "title": feed.title, "xmlUrl": feed.xml_url}
        if feed.html_url:
            attrs["htmlUrl"] = feed.html_url
        if feed.language:
            attrs["language"] = feed.language
        if len(feed.categories) > 1:
            attrs["category"] = ",".join(feed.categories[1:])
        ET.SubElement(parent, "outline", attrs)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _walk(
    node: ET.Element, path: tuple[str, ...], feeds: dict[str, OpmlFeed], above: tuple[str, ...]
) -> None:
    """Collect the feeds under ``node``; ``path`` holds its folders' names and ``above``
    the notes on them (a folder name shortened). Recursion is bounded by MAX_DEPTH."""
    for outline in node:
        if _local(outline.tag).lower() != "outline":
            continue
        attrs = {k.lower(): (v or "").strip() for k, v in outline.attrib.items()}
        label = attrs.get("title") or attrs.get("text") or ""
        xml_url = attrs.get("xmlurl") or (
            attrs.get("url", "") if attrs.get("type", "").lower() in ("rss", "atom") else ""
        )
        notes = list(above)
        if not xml_url:
            label = _bounded(label, "folder name", notes)
            _walk(outline, (*path, label) if label else path, feeds, tuple(notes))
            continue
        known = feeds.get(xml_url)
        if known is None:
            label = _bounded(label, "title", notes)
        values = attrs.get("category", "").split(",", MAX_CATEGORIES)  # at most one too many
        own = tuple(c.strip().strip("/").strip() for c in values[:MAX_CATEGORIES])
        own = tuple(_bounded(c, "category", notes) for c in own if c)
        categories = _unique((*path, *own))
        if known is not None:
            categories = _unique((*known.categories, *categories))
        if len(values) > MAX_CATEGORIES or len(categories) > MAX_CATEGORIES:
            notes.append(f"more than {MAX_CATEGORIES} categories; the first {MAX_CATEGORIES} kept")
            categories = categories[:MAX_CATEGORIES]
        if known is not None:
            feeds[xml_url] = OpmlFeed(
                known.title,
                known.xml_url,
                known.html_url,
                categories,
                known.language,
                _unique((*known.notes, *notes)),
            )
            continue
        html_url = attrs.get("htmlurl") or None
        feeds[xml_url] = OpmlFeed(
            title=label or xml_url,
            xml_url=xml_url,
            html_url=html_url if html_url and len(html_url) <= MAX_URL else None,
            categories=categories,
            language=clip(attrs.get("language", ""), MAX_NAME) or None,
            notes=tuple(notes),
        )


def _bounded(text: str, what: str, notes: list[str]) -> str:
    """``text`` cut to :data:`~crawlers.bounds.MAX_NAME` characters; a note if it was."""
    if len(text) <= MAX_NAME:
        return text
    notes.append(f"{what} of {len(text):,} characters shortened to {MAX_NAME}")
    return clip(text, MAX_NAME)


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_xml(data: bytes) -> ET.Element:
    """Parse with expat into an ElementTree, refusing any entity declaration."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    depth = 0

    def refuse(*_: object) -> None:
        raise OpmlError("refused: the document declares entities")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise OpmlError(
                f"refused: elements nested more than {MAX_DEPTH} deep"
                f" (line {parser.CurrentLineNumber}); a subscription list needs a few levels"
            )
        builder.start(tag, attrs)

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1
        builder.end(tag)

    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from exc
    root = builder.close()
    if root is None:
        raise OpmlError("not an OPML document: empty")
    return root
