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
# Nesting deeper than this is flattened before parsing: the HTML parser's scope checks
# make deeply nested blocks quadratic (20,000 nested <div> took a second, <ul><li> four;
# a 15 MiB feed could have held a crawl for hours). No article nests this deep.
MAX_DEPTH = 100
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip
# elements whose content is raw text: never dropped, or their text would come loose
_RAW_TEXT = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
     "noscript", "plaintext", "template"}
)  # fmt: skip
# end tags that may be left out: a run of these is a run of siblings, not a nesting
_OPTIONAL_END = frozenset(
    {"p", "li", "dt", "dd", "td", "th", "tr", "thead", "tbody", "tfoot", "option",
     "optgroup", "rb", "rt", "rp", "rtc", "colgroup", "caption"}
)  # fmt: skip
_BLANK_LINES = re.compile(r"\n\s*\n+")
# what makes the text an HTML parser finds differ from the string itself: tags, character
# references, NUL and a byte order mark (dropped), lone surrogates (refused)
_MARKUP = re.compile(r"[<&\x00\ufeff\ud800-\udfff]")


def flatten_deep(fragment: str, max_depth: int = MAX_DEPTH) -> str:
    """``fragment`` with the start tags that would nest deeper than ``max_depth`` left
    out, and as many end tags after them; their text stays. Only removes tags, so what
    the sanitizer makes of the result is as safe as of the input."""
    if fragment.count("<") <= max_depth:  # too few tags to nest that deep: nothing to do
        return fragment
    depth = excess = 0
    out: list[str] = []
    last = 0
    for match in _TAG.finditer(fragment):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID or name in _OPTIONAL_END or name in _RAW_TEXT or self_closing:
            continue
        drop = False
        if not closing:
            if depth >= max_depth:
                excess += 1
                drop = True
            else:
                depth += 1
        elif excess:
            excess -= 1
            drop = True
        elif depth:
            depth -= 1
        if drop:
            out.append(fragment[last : match.start()])
            last = match.end()
    if not out:
        return fragment
    out.append(fragment[last:])
    return "".join(out)


def sanitize_html(fragment: str) -> str:
    """Allowlist-clean HTML from a feed: no scripts, frames, handlers, styles,
    ``javascript:``/``data:`` URLs or 1x1 tracking pixels; links get ``rel=noopener``."""
    if not fragment:
        return ""
    fragment = flatten_deep(_TRACKING_PIXEL.sub("", fragment))
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
    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n\n", flatten_deep(fragment))
    text = html.unescape(nh3.clean(marked, tags=set(), clean_content_tags={"script", "style"}))
    text = _SPACE.sub(" ", text)
    lines = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip()


def plain_line(fragment: str) -> str:
    """A single line of plain text (for titles): tags dropped, whitespace collapsed."""
    if not _MARKUP.search(fragment):  # plain text already (most titles): no parse needed
        return " ".join(fragment.split())
    return " ".join(html_to_text(fragment).split())
