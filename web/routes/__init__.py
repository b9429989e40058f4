"""The pages, one module per area; each exposes ``routes: list[BaseRoute]``.

::

    home        /                          what there is (web.routes.home)
    archive     /archive/...               the static archive folder, as published
    session     /admin/login, /admin/logout  the admin's sign-in (web.auth)
    search      /search                    full-text search over the articles
    stories     /stories/{id}              a story's articles as a timeline
    watchlists  /watchlists, /watchlists/{name}, /watchlists/{name}.atom
                                           weekly chart, rising terms, stories, feed
    subscribe   /subscribe, /confirm/{token}, /unsubscribe/{token}, /manage/{token}
    admin       /admin, /admin/watchlists..., /admin/sources, /admin/subscribers
                                           admin only (with admin_watchlists, admin_sources)

To add an area: write ``web/routes/<area>.py`` with a module docstring and
``routes = [Route("/path", endpoint, methods=[...]), ...]``, and add the module to
:data:`web.app.ROUTE_MODULES`. A placeholder module is replaced by its real one; keep
its ``routes`` name. Paths are absolute from the site's root (``/search``); links in
templates go through ``url()`` (the site may live below a folder of ``base_url``).

What an endpoint has (see :mod:`web` for the whole list): ``render`` /
``render_block`` (:mod:`web.templating`), ``settings_of`` / ``store_of`` / ``url``
(:mod:`web.state`), ``csrf_protect`` / ``checked_form`` (:mod:`web.csrf`),
``require_admin`` (:mod:`web.auth`), ``client_address`` (:mod:`web.security`),
and ``RateLimiter`` (:mod:`web.ratelimit`).
"""
