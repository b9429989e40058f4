"""Rendering pages: the jinja2 environment of ``web/templates`` and what every template gets.

``render(request, "page.html.j2", {...})`` returns an HTMLResponse. Every template gets,
besides its own context:

- ``lang`` (``nl``/``en``, :func:`web.i18n.pick_language`) and ``t(key, **values)``;
- ``number``, ``format_day``, ``count_noun`` (:mod:`digests.i18n`, in ``lang``);
- ``url("/archive/")``: a link on this site (:func:`web.state.url`);
- ``csrf_field()``: the hidden input for a form the cookie authorises (:mod:`web.csrf`);
- ``is_admin()``, ``signed_in`` (an admin session: the page offers to sign out),
  ``site_title`` (``digest_title``), ``path`` (the request's path);
- ``noindex`` (a ``<meta name="robots">``: pass ``noindex=True`` for token pages).

Templates extend ``base.html.j2`` and fill its blocks: ``title``, ``head`` (extra
``<link>``/``<meta>``), ``content``, ``scripts`` (extra ``<script src>``: never inline,
the CSP refuses it). htmx is loaded on every page, configured by a ``<meta>`` (no
inline style, no eval). :func:`render_block` renders one block of a template, for htmx
to swap in (as jinja2-fragments does). The digests' templates are reachable as
``digests/<name>`` (e.g. to reuse a macro). Autoescaping is on; only text that has been
through the sanitizer may be marked safe.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from digests import i18n as digest_i18n
from digests.templating import PACKAGED_TEMPLATES as DIGEST_TEMPLATES
from web import i18n
from web.auth import is_admin
from web.csrf import csrf_field
from web.sessions import session_of
from web.state import settings_of, url

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE_AGE = 365 * 24 * 3600


@functools.cache
def environment() -> Environment:
    """The web pages' environment (autoescaping, undefined names are errors). The
    templates are the package's own: they are not looked at again once loaded (a
    check of each file's time on every page cost a tenth of a story page)."""
    return Environment(
        auto_reload=False,
        loader=ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES),
                PrefixLoader({"digests": FileSystemLoader(DIGEST_TEMPLATES)}),
            ]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language(request: Request) -> str:
    """The request's language (cached on the request)."""
    cached = getattr(request.state, "lang", None)
    if cached is None:
        settings = settings_of(request)
        cached = i18n.pick_language(
            request.query_params.get("lang"),
            request.cookies,
            request.headers.get("accept-language"),
            [s.language for s in settings.subscribers],
        )
        request.state.lang = cached
    return str(cached)


def page_context(request: Request, *, noindex: bool = False) -> dict[str, Any]:
    """What every template gets (see the module docstring)."""
    lang = language(request)
    return {
        "request": request,
        "lang": lang,
        "t": functools.partial(i18n.t, lang),
        "number": lambda value: digest_i18n.number(value, lang),
        "format_day": lambda moment: digest_i18n.format_day(moment, lang),
        "count_noun": lambda count, key="article": digest_i18n.count_noun(lang, count, key),
        "url": functools.partial(url, request),
        "csrf_field": functools.partial(csrf_field, request),
        "is_admin": functools.partial(is_admin, request),
        "signed_in": bool(session_of(request).admin),
        "site_title": settings_of(request).digest_title,
        "path": request.url.path,
        "noindex": noindex,
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    noindex: bool = False,
) -> HTMLResponse:
    """The template ``name`` as a page."""
    full = {**page_context(request, noindex=noindex), **(context or {})}
    html = environment().get_template(name).render(full)
    return _response(request, html, status_code, headers, noindex)


def render_block(
    request: Request,
    name: str,
    block: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Only ``block`` of the template ``name`` (an htmx partial)."""
    template = environment().get_template(name)
    full = {**page_context(request), **(context or {})}
    html = "".join(template.blocks[block](template.new_context(full)))
    return _response(request, html, status_code, headers, noindex=False)


def _response(
    request: Request,
    html: str,
    status_code: int,
    headers: dict[str, str] | None,
    noindex: bool,
) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if noindex:
        response.headers["X-Robots-Tag"] = "noindex"
    chosen = i18n.supported(request.query_params.get("lang"))
    if chosen and request.cookies.get(i18n.LANG_COOKIE) != chosen:
        secure = (settings_of(request).base_url or "").startswith("https://")
        response.set_cookie(
            i18n.LANG_COOKIE,
            chosen,
            max_age=LANG_COOKIE_AGE,
            path="/",
            secure=secure,
            samesite="lax",
        )
    return response
