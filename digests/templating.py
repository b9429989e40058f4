"""The Jinja environment digests are rendered with, and the plain rendering of an edition.

Templates live in ``digests/templates``; a user ``template_dir`` overrides them file by
file (a user template can still extend a packaged one as ``"digests/<name>"``). The
HTML and XML templates autoescape. :func:`render_context` is the straightforward
rendering of an edition's template context (both parts, CSS inlined), the reference
that :mod:`digests.personalise` must match byte for byte.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from digests.text import TEXT_WIDTH, forget_texts, wrap

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
PACKAGED_PREFIX = "digests"  # {% extends "digests/edition.html.j2" %} from an override
EDITION_HTML = "edition.html.j2"
EDITION_TEXT = "edition.txt.j2"

INLINER = css_inline.CSSInliner(
    keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False
)


@dataclass(frozen=True)
class Rendered:
    """An edition rendered: the HTML part (CSS inlined) and the plain-text part."""

    html: str
    text: str


# --- environment ---------------------------------------------------------------------

# (text, width, indent, first) -> what the ``wrap`` filter returns instead, or None to
# wrap as usual; set while digests.personalise renders an edition's skeleton
WrapHook = Callable[[str, int, str, str | None], str | None]
_WRAP_HOOK: contextvars.ContextVar[WrapHook | None] = contextvars.ContextVar(
    "trendwatch_wrap_hook", default=None
)


@contextlib.contextmanager
def wrap_hook(hook: WrapHook) -> Iterator[None]:
    """While in the block, the templates' ``wrap`` filter asks ``hook`` first."""
    reset = _WRAP_HOOK.set(hook)
    try:
        yield
    finally:
        _WRAP_HOOK.reset(reset)


def _wrap_filter(
    text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None
) -> str:
    """The templates' ``wrap`` filter (see :func:`digests.text.wrap`)."""
    hook = _WRAP_HOOK.get()
    if hook is not None:
        instead = hook(text, width, indent, first)
        if instead is not None:
            return instead
    return wrap(text, width, indent, first)


class _PageEnvironment(Environment):
    """The environment: while a page is rendered by piece (:func:`inline_by_piece`),
    each template it includes is looked up, and its file checked for changes, once for
    the page instead of at every include (an edition includes the article template
    once per article)."""

    def _load_template(self, name: str, globals: Any) -> Any:
        pieces = _PIECES.get()
        if pieces is None or globals:
            return super()._load_template(name, globals)
        key = (id(self), name)
        template = pieces.loaded.get(key)
        if template is None:
            template = pieces.loaded[key] = super()._load_template(name, globals)
        return template


@functools.lru_cache(maxsize=8)
def _environment(template_dir: str | None) -> Environment:
    """User templates first, then the packaged ones (also as ``digests/<name>``)."""
    packaged = FileSystemLoader(PACKAGED_TEMPLATES)
    loaders: list[Any] = [FileSystemLoader(template_dir)] if template_dir else []
    loaders += [packaged, PrefixLoader({PACKAGED_PREFIX: packaged})]
    env = _PageEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            default_for_string=True,
            default=False,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = _wrap_filter
    env.filters["underline"] = lambda text, char="=": char * len(text)
    env.globals["item_markup"] = ItemMarkup(env)
    return env


ITEM_BODY = "_item_body.html.j2"


class ItemMarkup:
    """The templates' ``item_markup(item, s)``: an article's markup (``_item_body``),
    rendered once per item value, strings and template, and kept (a bounded number).

    An edition's e-mail and archive page show the same articles, and so do the
    editions of audiences that share a watchlist, and the editions the size check
    builds one story apart: each article is rendered once. The body template reads
    ``item`` and ``s`` only, so equal items give equal markup."""

    LIMIT = 10_000

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._kept: dict[tuple[Any, ...], tuple[object, Markup]] = {}
        _ITEM_MARKUPS.add(self)

    def __call__(self, item: Any, s: Any) -> Markup:
        pieces = _PIECES.get()
        if pieces is None:
            return self._markup(self._env.get_template(ITEM_BODY), item, s)
        # one page: its template file is checked for changes once, not per article
        if pieces.env is not self._env:
            pieces.env, pieces.template = self._env, self._env.get_template(ITEM_BODY)
        return pieces.token(self._markup(pieces.template, item, s))

    def _markup(self, template: Any, item: Any, s: Any) -> Markup:
        try:
            key = (template, item, id(s))
            hit = self._kept.get(key)
        except TypeError:  # not hashable: not kept
            return Markup(template.render(item=item, s=s))
        if hit is not None and hit[0] is s:
            return hit[1]
        markup = Markup(template.render(item=item, s=s))
        if len(self._kept) >= self.LIMIT:
            self._kept.clear()
        self._kept[key] = (s, markup)
        return markup

    @property
    def kept(self) -> int:
        """How many renderings are kept."""
        return len(self._kept)

    def clear(self) -> None:
        """Forget every kept rendering (a long-running process, after a digest run)."""
        self._kept.clear()


def forget_rendered() -> None:
    """Drop the articles' markup every environment keeps (:class:`ItemMarkup`), and
    their cleaned and wrapped texts (:func:`digests.text.forget_texts`): a digest run
    renders thousands, which a long-running ``trendwatch run`` would
    otherwise hold (tens of MB) until the next run."""
    for markup in list(_ITEM_MARKUPS):
        markup.clear()
    _INLINED.clear()
    forget_texts()


_ITEM_MARKUPS: weakref.WeakSet[ItemMarkup] = weakref.WeakSet()  # every environment's


def environment(template_dir: Path | None = None) -> Environment:
    """The (cached) environment for ``template_dir``'s overrides; None: packaged only."""
    return _environment(str(Path(template_dir).resolve()) if template_dir else None)


# --- the plain rendering -------------------------------------------------------------


def tidy_text(text: str) -> str:
    """The text part tidied: no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def render_context(env: Environment, context: dict[str, Any]) -> Rendered:
    """The straightforward rendering: both templates with ``context``, CSS inlined."""
    text = env.get_template(EDITION_TEXT).render(context)
    return Rendered(html=render_html(env, context), text=tidy_text(text))


def render_html(env: Environment, context: dict[str, Any], *, by_piece: bool = False) -> str:
    """The HTML part alone (CSS inlined), as :func:`render_context` makes it; with
    ``by_piece`` through :func:`inline_by_piece` (the same bytes)."""
    template = env.get_template(EDITION_HTML)
    if by_piece:
        return inline_by_piece(lambda: template.render(context))
    return INLINER.inline(template.render(context))


# --- inlining each article once --------------------------------------------------------

# The articles of an edition's page are most of its bytes, and the same article markup
# is in the edition's e-mail, its archive page and the e-mails the size check measures.
# With the packaged templates (whose CSS has single-class selectors only, so an
# element's inlined style depends on its own class attribute alone) the page is
# inlined with each article as a token, and each article's markup is inlined once, in
# a table cell as on the page, and kept.
_PIECE = re.compile("\ue002(\\d+)\ue003")
_CUT = re.compile("\ue004(\\d+|end)\ue005")
_CELL, _CELL_END = "<table><tbody><tr><td>", "</td></tr></tbody></table>"
PIECE_INLINER = css_inline.CSSInliner(
    keep_style_tags=False, keep_at_rules=False, load_remote_stylesheets=False
)
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_RULE = re.compile(r"([^{}]*)\{")
_CLASS = re.compile(r"\.[A-Za-z_][A-Za-z0-9_-]*")
_INLINED: dict[str, dict[str, str]] = {}  # page CSS -> article markup -> inlined
_INLINED_LIMIT = 20_000


class _Pieces:
    """A page's article markups while it is rendered, each left in it as a token."""

    def __init__(self) -> None:
        self.markups: list[str] = []
        self.env: Environment | None = None
        self.template: Any = None
        self.loaded: dict[tuple[int, str], Any] = {}  # (environment, name): the page's

    def token(self, markup: str) -> Markup:
        self.markups.append(markup)
        return Markup(f"\ue002{len(self.markups) - 1}\ue003")


_PIECES: contextvars.ContextVar[_Pieces | None] = contextvars.ContextVar(
    "trendwatch_pieces", default=None
)


def inline_by_piece(render: Callable[[], str]) -> str:
    """``INLINER.inline(render())`` byte for byte, for a page of the packaged edition
    templates (the caller checks): the page inlined with a token per article, each
    article inlined once (kept for the run: :func:`forget_rendered`). Whenever that
    cannot be shown to give the same bytes (the page's CSS is not single classes, a
    token did not come through), the whole page is inlined instead."""
    pieces = _Pieces()
    reset = _PIECES.set(pieces)
    try:
        html = render()
    finally:
        _PIECES.reset(reset)
    markups = pieces.markups

    def whole() -> str:  # the page as rendered without tokens
        return INLINER.inline(_PIECE.sub(lambda m: markups[int(m.group(1))], html))

    css = "".join(_STYLE.findall(html))
    if not markups or not _single_classes(css):
        return whole()
    inlined = _inlined(markups, css)
    if inlined is None:
        return whole()
    found: list[int] = []

    def put(match: re.Match[str]) -> str:
        found.append(int(match.group(1)))
        return inlined[markups[found[-1]]]

    page = _PIECE.sub(put, INLINER.inline(html))
    return page if sorted(found) == list(range(len(markups))) else whole()


def _inlined(markups: list[str], css: str) -> dict[str, str] | None:
    """Each markup inlined (with ``css``) as in a table cell; None if they could not
    be told apart again."""
    kept = _INLINED.setdefault(css, {})
    new = [m for m in dict.fromkeys(markups) if m not in kept]
    fresh: dict[str, str] = {}
    if new:
        cuts = "".join(f"\ue004{n}\ue005{m}" for n, m in enumerate(new))
        out = PIECE_INLINER.inline_fragment(f"{_CELL}{cuts}\ue004end\ue005{_CELL_END}", css)
        if not (out.startswith(_CELL) and out.endswith(_CELL_END)):
            return None
        parts = _CUT.split(out[len(_CELL) : -len(_CELL_END)])
        # "", "0", piece, "1", piece, ..., "end", ""
        labels = parts[1::2]
        if parts[0] or parts[-1] or labels != [*map(str, range(len(new))), "end"]:
            return None
        fresh = dict(zip(new, parts[2::2], strict=False))
    # (taken before the kept ones may be dropped below)
    found = {m: fresh[m] if m in fresh else kept[m] for m in markups}
    if fresh:
        if sum(len(k) for k in _INLINED.values()) + len(fresh) > _INLINED_LIMIT:
            _INLINED.clear()
            kept = _INLINED.setdefault(css, {})
        kept.update(fresh)
    return found


@functools.lru_cache(maxsize=16)
def _single_classes(css: str) -> bool:
    """Whether every rule of ``css`` has single-class selectors only (``.name``, in
    ``@media`` blocks too), and no other at-rule: then an element's inlined style
    depends on its own classes alone."""
    if "/*" in css or "\\" in css or css.count("{") != css.count("}"):
        return False
    for prelude in _RULE.findall(css):
        prelude = prelude.strip()
        if prelude.startswith("@media"):
            continue
        if not all(_CLASS.fullmatch(part.strip()) for part in prelude.split(",")):
            return False
    return True
