"""One edition, many recipients: render the edition once, then put each reader's
personal values in.

A recipient's e-mail differs from the next one's only in the footer (the values named
in :data:`digests.views.PERSONAL`). So the edition is rendered (and its CSS inlined)
once per "shape" (which personal values are set) with a unique placeholder token for
each personal value; per recipient the tokens are replaced by the values, escaped as
the inliner's HTML serialiser would have written them (text or attribute value). Only
for the packaged edition templates: with an override of any template the edition uses,
every recipient is rendered in full (the edition-level views are still shared). The
result is byte-identical to the full rendering, :func:`digests.templating.render_context`
(tests/digests/test_digests_personalise.py).
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateNotFound
from jinja2 import meta as jinja_meta
from markupsafe import escape as markupsafe_escape

from digests.model import Edition, Recipient
from digests.templating import (
    EDITION_HTML,
    EDITION_TEXT,
    INLINER,
    ITEM_BODY,
    PACKAGED_TEMPLATES,
    Rendered,
    environment,
    inline_by_piece,
    render_context,
    render_html,
    tidy_text,
    wrap_hook,
)
from digests.text import wrap
from digests.views import (
    PERSONAL_ATTR,
    PERSONAL_TEXT,
    edition_views,
    personal_values,
    sent_by_line,
    template_context,
)

_MARK, _END = "\ue000", "\ue001"  # private use: clean_text drops these from feed text
# Characters a personal value must not contain for the token route: controls (the HTML
# parser drops or rewrites some, the text part's line handling others), line separators,
# surrogates, private use (the tokens) and non-characters. Such a recipient is rendered
# in full.
_NOT_SUBSTITUTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(p << 16 | 0xFFFE)}{chr(p << 16 | 0xFFFF)}" for p in range(1, 17))
    + "\U000f0000-\U0010ffff]"
)
# Inside these elements text is written unescaped: no personal text may go there.
_RAW_TEXT_ELEMENTS = ("style", "script", "xmp", "iframe", "noembed", "noframes", "noscript")


def _escape_html_text(value: str) -> str:
    """``value`` as css_inline (html5ever's serialiser) writes it in a text node."""
    return (
        value.replace("&", "&amp;")
        .replace("\xa0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _escape_html_attr(value: str) -> str:
    """``value`` as css_inline (html5ever's serialiser) writes it in a quoted attribute."""
    return value.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")


_ESCAPE: dict[str, Callable[[str], str]] = {
    "text": _escape_html_text,
    "attr": _escape_html_attr,
    "raw": str,
}


@functools.cache
def _escapes_match_inliner() -> bool:
    """Whether the inliner serialises text and attribute values as the two functions
    above do (checked once, so a css_inline upgrade cannot silently change the output:
    the token route is then simply not used)."""
    probe = "<b>\"&'\xa0 &lt;é€ ><"
    escaped = str(markupsafe_escape(probe))
    page = (
        '<!DOCTYPE html><html><head><title>t</title></head><body><p class="x">'
        f'{escaped}</p><a href="{escaped}">x</a></body></html>'
    )
    out = INLINER.inline(page)
    return (
        f'<p class="x">{_escape_html_text(probe)}</p>' in out
        and f'<a href="{_escape_html_attr(probe)}">' in out
    )


@functools.lru_cache(maxsize=32)
def _packaged_template_info(filename: str) -> tuple[tuple[str | None, ...], frozenset[str]]:
    """(templates it includes/extends/imports, variables it reads) of a packaged file."""
    source = Path(filename).read_text(encoding="utf-8")
    ast = environment(None).parse(source)
    refs = tuple(jinja_meta.find_referenced_templates(ast))
    return refs, frozenset(jinja_meta.find_undeclared_variables(ast))


def _uses_packaged_edition_templates(env: Environment) -> bool:
    """True when every template the edition is rendered with is a packaged one (no
    override in template_dir) and none reads ``recipient`` itself."""
    if not _escapes_match_inliner():
        return False
    seen: set[str] = set()
    todo = [EDITION_HTML, EDITION_TEXT]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            template = env.get_template(name)
        except TemplateNotFound:
            return False
        if template.filename is None or _folder_of(template.filename) != _PACKAGED:
            return False
        refs, names = _packaged_template_info(template.filename)
        if None in refs or "recipient" in names:
            return False
        todo.extend(ref for ref in refs if ref is not None)
    return True


_PACKAGED = PACKAGED_TEMPLATES.resolve()


def _packaged_item_body(env: Environment) -> bool:
    """Whether the articles' markup template is the packaged one (not overridden)."""
    try:
        template = env.get_template(ITEM_BODY)
    except TemplateNotFound:
        return False
    return template.filename is not None and _folder_of(template.filename) == _PACKAGED


@functools.lru_cache(maxsize=64)
def _folder_of(filename: str) -> Path:
    """The resolved folder of a template file (asked for every edition's renderer)."""
    return Path(filename).resolve().parent


class _Deferred:
    """While a skeleton is rendered: ``wrap`` calls on text that holds a token, kept to
    be done per recipient (the wrapping depends on the value's length)."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.wraps: list[tuple[str, int, str, str | None]] = []

    def __call__(self, text: str, width: int, indent: str, first: str | None) -> str | None:
        """The ``wrap`` filter's hook (see :func:`digests.templating.wrap_hook`): a token
        for ``text`` if it holds one, else None (wrapped as usual)."""
        if not isinstance(text, str) or _MARK not in text:
            return None
        self.wraps.append((text, width, indent, first))
        return f"{_MARK}{self.nonce}:wrap{len(self.wraps) - 1}{_END}"


_Segments = tuple[str | tuple[str, str], ...]  # literal text or (field, escaping)


class _Skeleton:
    """An edition rendered with tokens for the personal values; ``fill`` makes one
    recipient's :class:`Rendered` from it."""

    def __init__(
        self,
        html: _Segments,
        text: _Segments,
        wraps: tuple[tuple[_Segments, int, str, str | None], ...],
    ) -> None:
        self._html = html
        self._text = text
        self._wraps = wraps

    @classmethod
    def build(
        cls, nonce: str, html: str, text: str, deferred: _Deferred, fields: set[str]
    ) -> _Skeleton | None:
        """None if a token is where it cannot be filled in exactly (then the edition's
        recipients are rendered in full)."""
        token = re.compile(rf"{_MARK}{re.escape(nonce)}:(\w+){_END}")
        wrap_fields = {f"wrap{n}" for n in range(len(deferred.wraps))}

        def split(source: str, kind: Callable[[str, int, int], str | None]) -> _Segments | None:
            segments: list[str | tuple[str, str]] = []
            pos = 0
            for match in token.finditer(source):
                escaping = kind(match.group(1), match.start(), match.end())
                if escaping is None:
                    return None
                segments += [source[pos : match.start()], (match.group(1), escaping)]
                pos = match.end()
            segments.append(source[pos:])
            literals = (s for s in segments if isinstance(s, str))
            if any(_MARK in s or _END in s for s in literals):
                return None  # a token was changed (a filter touched it)
            return tuple(s for s in segments if s != "")

        def in_html(field: str, start: int, end: int) -> str | None:
            if field in PERSONAL_ATTR and field in fields:
                # the whole value of a double-quoted attribute, inside a start tag
                inside_tag = html.rfind("<", 0, start) > html.rfind(">", 0, start)
                whole = html.endswith('="', 0, start) and html.startswith('"', end)
                return "attr" if inside_tag and whole else None
            if field in PERSONAL_TEXT and field in fields:
                in_text = html.rfind(">", 0, start) > html.rfind("<", 0, start)
                lower = html[:start].lower()
                raw = any(
                    lower.rfind(f"<{name}") > lower.rfind(f"</{name}")
                    for name in _RAW_TEXT_ELEMENTS
                )
                comment = lower.rfind("<!--") > lower.rfind("-->")
                return "text" if in_text and not raw and not comment else None
            return None

        def in_text(field: str, start: int, end: int) -> str | None:
            return "raw" if field in fields or field in wrap_fields else None

        def in_wrap(field: str, start: int, end: int) -> str | None:
            return "raw" if field in fields else None

        html_segments = split(html, in_html)
        text_segments = split(text, in_text)
        wraps = []
        for source, width, indent, first in deferred.wraps:
            segments = split(source, in_wrap)
            if segments is None:
                return None
            wraps.append((segments, width, indent, first))
        if html_segments is None or text_segments is None:
            return None
        return cls(html_segments, text_segments, tuple(wraps))

    def fill(self, values: dict[str, str | None]) -> Rendered:
        """One recipient's rendering; ``values``: its personal values (see
        :func:`digests.views.personal_values`)."""
        html = _join(self._html, values, _ESCAPE)
        if self._wraps:
            values = dict(values)
            for n, (segments, width, indent, first) in enumerate(self._wraps):
                values[f"wrap{n}"] = wrap(_join(segments, values, _ESCAPE), width, indent, first)
        return Rendered(html=html, text=tidy_text(_join(self._text, values, _ESCAPE)))


def _join(
    segments: _Segments,
    values: dict[str, str | None],
    escape: dict[str, Callable[[str], str]],
) -> str:
    parts = []
    for segment in segments:
        if isinstance(segment, str):
            parts.append(segment)
        else:
            field, escaping = segment
            parts.append(escape[escaping](values[field] or ""))
    return "".join(parts)


class EditionRenderer:
    """Renders one edition for many recipients; what does not depend on the recipient
    is done once. ``render(recipient)`` returns exactly what
    :func:`digests.render.render_edition` would (``recipient`` None: the web version)::

        renderer = EditionRenderer(edition, template_dir=template_dir, sender=sender)
        for recipient in recipients:
            rendered = renderer.render(recipient)

    It keeps the edition's rendered skeleton: use one per edition (and drop it after).
    """

    def __init__(
        self, edition: Edition, *, template_dir: Path | None = None, sender: str = ""
    ) -> None:
        self.edition = edition
        self.sender = sender
        self._env = environment(template_dir)
        self._views = edition_views(edition)
        self._sent_by = sent_by_line(self._views.lang, sender)
        self._tokens = _uses_packaged_edition_templates(self._env)
        # every template packaged: each article is inlined once (templating.inline_by_piece)
        self._by_piece = self._tokens and _packaged_item_body(self._env)
        self._web: Rendered | None = None
        self._web_html: str | None = None
        self._skeletons: dict[tuple[Any, ...], _Skeleton | None] = {}
        self._lock = threading.Lock()

    def context(self, recipient: Recipient | None) -> dict[str, Any]:
        """The template context for ``recipient`` (see :func:`digests.views.edition_context`)."""
        return template_context(
            self._views, recipient, self._sent_by, personal_values(self._views, recipient)
        )

    def render(self, recipient: Recipient | None = None) -> Rendered:
        if recipient is None:  # nothing personal: the same for every call
            if self._web is None:
                self._web = render_context(self._env, self.context(None))
                self._web_html = self._web.html
            return self._web
        personal = personal_values(self._views, recipient)
        if self._tokens and not any(v and _NOT_SUBSTITUTABLE.search(v) for v in personal.values()):
            skeleton = self._skeleton(personal)
            if skeleton is not None:
                return skeleton.fill(personal)
        return render_context(
            self._env, template_context(self._views, recipient, self._sent_by, personal)
        )

    def web_html(self) -> str:
        """The web version's HTML (``render(None).html``) without its text part."""
        if self._web_html is None:
            self._web_html = render_html(self._env, self.context(None), by_piece=self._by_piece)
        return self._web_html

    def archive_html(self) -> str:
        """The web version's HTML as the archive page has it: as :meth:`web_html` for a
        renderer made without a sender (no "sent by" line), whatever this one's sender."""
        if not self.sender:
            return self.web_html()
        context = template_context(self._views, None, None, personal_values(self._views, None))
        return render_html(self._env, context, by_piece=self._by_piece)

    def skeletons(self) -> dict[tuple[Any, ...], Any]:
        """The skeletons rendered so far (picklable), for :meth:`adopt` by a renderer
        of an equal edition in another process."""
        with self._lock:
            return dict(self._skeletons)

    def adopt(self, skeletons: dict[tuple[Any, ...], Any]) -> None:
        """Take the skeletons another renderer of an equal edition (same templates and
        sender) rendered (:meth:`skeletons`) instead of rendering them again."""
        with self._lock:
            for shape, skeleton in skeletons.items():
                self._skeletons.setdefault(shape, skeleton)

    def _skeleton(self, personal: dict[str, str | None]) -> _Skeleton | None:
        # which values are set (and the unset ones' values) decides the markup
        shape = tuple((k, v if not v else True) for k, v in personal.items())
        with self._lock:
            if shape in self._skeletons:
                return self._skeletons[shape]
        nonce = secrets.token_hex(8)
        tokens = {k: f"{_MARK}{nonce}:{k}{_END}" if v else v for k, v in personal.items()}
        context = template_context(self._views, _NOBODY, self._sent_by, tokens)
        deferred = _Deferred(nonce)
        with wrap_hook(deferred):
            page = self._env.get_template(EDITION_HTML)
            if self._by_piece:
                html = inline_by_piece(lambda: page.render(context))
            else:
                html = INLINER.inline(page.render(context))
            text = self._env.get_template(EDITION_TEXT).render(context)
        fields = {k for k, v in personal.items() if v}
        skeleton = _Skeleton.build(nonce, html, text, deferred, fields)
        with self._lock:
            self._skeletons[shape] = skeleton
        return skeleton


_NOBODY = Recipient(email="", name="", language="")  # the skeleton's (unused) recipient
