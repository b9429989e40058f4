"""OPML subscription lists: read what feed readers export, write what they import.

Parsing refuses documents that declare entities (no entity expansion at all, so no
"billion laughs"), and expat never loads external entities or DTDs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.parsers import expat


class OpmlError(ValueError):
    """The bytes are not an OPML document."""


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    xml_url: str
    html_url: str | None = None
    categories: tuple[str, ...] = ()  # folders, outermost first, then `category` values
    language: str | None = None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds in an OPML document, in document order.

    An outline with an ``xmlUrl`` is a feed; other outlines are folders, and a feed's
    folders (outermost first) become its categories, followed by the values of its own
    ``category`` attribute (comma-separated, slashes at either end dropped). Missing
    titles fall back to ``text``, then to the URL. A feed listed twice (in two folders)
    is returned once with both categories.
    """
    root = _parse_xml(data)
    if _local(root.tag).lower() != "opml":
        raise OpmlError(f"not an OPML document: the root element is <{_local(root.tag)}>")
    body = next((c for c in root if _local(c.tag).lower() == "body"), None)
    if body is None:
        raise OpmlError("not an OPML document: no <body>")
    feeds: dict[str, OpmlFeed] = {}
    _walk(body, (), feeds)
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


def _walk(node: ET.Element, path: tuple[str, ...], feeds: dict[str, OpmlFeed]) -> None:
    for outline in node:
        if _local(outline.tag).lower() != "outline":
            continue
        attrs = {k.lower(): (v or "").strip() for k, v in outline.attrib.items()}
        label = attrs.get("title") or attrs.get("text") or ""
        xml_url = attrs.get("xmlurl") or (
            attrs.get("url", "") if attrs.get("type", "").lower() in ("rss", "atom") else ""
        )
        if not xml_url:
            _walk(outline, (*path, label) if label else path, feeds)
            continue
        own = tuple(c.strip().strip("/").strip() for c in attrs.get("category", "").split(","))
        categories = _unique((*path, *(c for c in own if c)))
        known = feeds.get(xml_url)
        if known is not None:
            merged = _unique((*known.categories, *categories))
            feeds[xml_url] = OpmlFeed(
                known.title, known.xml_url, known.html_url, merged, known.language
            )
            continue
        feeds[xml_url] = OpmlFeed(
            title=label or xml_url,
            xml_url=xml_url,
            html_url=attrs.get("htmlurl") or None,
            categories=categories,
            language=attrs.get("language") or None,
        )


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_xml(data: bytes) -> ET.Element:
    """Parse with expat into an ElementTree, refusing any entity declaration."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()

    def refuse(*_: object) -> None:
        raise OpmlError("refused: the document declares entities")

    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = lambda tag, attrs: builder.start(tag, attrs)
    parser.EndElementHandler = lambda tag: builder.end(tag)
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from exc
    root = builder.close()
    if root is None:
        raise OpmlError("not an OPML document: empty")
    return root
