"""The one HTML sanitizer: feed HTML is cleaned here, once, before it is stored."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn",
        "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small",
        "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
        "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "time": {"datetime"},
}
_TRACKING_PIXEL = re.compile(
    r"<img\b[^>]*\b(?:width\s*=\s*[\"']?[01]\b[^>]*\bheight\s*=\s*[\"']?[01]\b"
    r"|height\s*=\s*[\"']?[01]\b[^>]*\bwidth\s*=\s*[\"']?[01]\b)[^>]*>",
    re.IGNORECASE,
)
_BLOCK_END = re.compile(
    r"</(?:p|div|li|h[1-6]|blockquote|pre|tr|table|ul|ol|dl|figure)>|<br\s*/?>", re.I
)
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def sanitize_html(fragment: str) -> str:
    """Allowlist-clean HTML from a feed: no scripts, frames, handlers, styles,
    ``javascript:``/``data:`` URLs or 1x1 tracking pixels; links get ``rel=noopener``."""
    if not fragment:
        return ""
    fragment = _TRACKING_PIXEL.sub("", fragment)
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, paragraphs kept
    as blank-line-separated blocks."""
    if not fragment:
        return ""
    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n\n", fragment)
    text = html.unescape(nh3.clean(marked, tags=set(), clean_content_tags={"script", "style"}))
    text = _SPACE.sub(" ", text)
    lines = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip()


def plain_line(fragment: str) -> str:
    """A single line of plain text (for titles): tags dropped, whitespace collapsed."""
    return " ".join(html_to_text(fragment).split())
