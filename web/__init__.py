"""The web application: ``trendwatch serve`` (and ``run`` with ``[web] listen``).

Starlette on uvicorn, jinja2 templates, server-rendered pages that work without
JavaScript, a little htmx (``/static/htmx.min.js``, vendored) where live updates help.
It reads through :class:`pipeline.store.Store` and the settings; only the CLI
(:mod:`pipeline.cli.serve`) imports this package.

The modules::

    app.py          create_app(settings_path): middleware, error pages, ROUTE_MODULES
    state.py        AppState; LiveSettings (reload on change); a Store per thread;
                    settings_of / store_of / url for routes
    routes/         one module per area, each with ``routes`` (see routes/__init__.py)
    templating.py   render / render_block and what every template gets
    i18n.py         the pages' strings (nl, en) and the language of a request
    security.py     security headers (CSP), a 1 MiB body limit, client_address behind
                    trusted proxies, is_local_request
    sessions.py     the signed session cookie (HttpOnly, SameSite=Strict, Secure on https)
    csrf.py         csrf_token / csrf_field, checked_form, @csrf_protect
    auth.py         admin token, is_admin, @require_admin
    ratelimit.py    RateLimiter(limit, window): per key, sliding window, in memory
    admin_work.py   the admin's work beside the requests: the watchlist preview's
                    index of recent articles, matching stored articles again
    charts.py       SVG charts drawn on the server (week_chart): pure, escaped
    endpoint.py     how the decorators call sync and async endpoints
    templates/      base.html.j2 (blocks: title, head, content, scripts), pages
    static/         style.css (the digest's colours and type), htmx.min.js, favicon.svg

How to build a page (the extension points):

- **A route module**: ``web/routes/<area>.py`` with ``routes = [Route(...)]``, listed
  in :data:`web.app.ROUTE_MODULES`. Paths from the root (``/search``); links through
  ``url()`` (templates) / :func:`web.state.url` (code), which add the path of
  ``base_url`` when the site lives below a folder.
- **The store**: a plain ``def`` endpoint runs on Starlette's thread pool; there
  ``store_of(request)`` is that thread's :class:`~pipeline.store.Store` (opened once per
  thread, kept). In an ``async def`` endpoint, use it only inside ``run_in_threadpool``.
  ``settings_of(request)`` is the config now (re-read when the file changes).
- **Templates**: ``render(request, "x.html.j2", {...})``; the template extends
  ``base.html.j2`` and fills ``title``/``head``/``content``/``scripts``; it gets ``t``,
  ``lang``, ``url``, ``csrf_field``, ``is_admin``, ``number``, ``format_day``,
  ``count_noun`` (:mod:`web.templating`). ``render_block`` renders one block for htmx.
  ``noindex=True`` on pages reached by a token. No inline script or style (the CSP).
- **Strings**: both languages in the area's module of :mod:`web.strings` (merged into
  :data:`web.i18n.STRINGS`), keys prefixed by area; the digest's strings are reachable
  too.
- **Forms a cookie authorises**: ``{{ csrf_field() }}`` in the form (or the
  ``X-CSRF-Token`` header from htmx), and ``@csrf_protect`` on the endpoint or
  ``form = await checked_form(request)``. A bad token is a 403 page.
- **Admin pages**: ``Route("/admin/...", require_admin(endpoint))``.
- **Rate limits and the client's address**: ``RateLimiter(limit, window)`` and
  ``client_address(request, settings_of(request).web.trusted_proxies)``.
- **Errors**: raise ``HTTPException(status, detail)``; the page shows
  ``error.<status>.<detail>`` from the strings if there is one, else ``error.<status>``.
"""
