"""The admin pages (``/admin``...): watchlists edited with a live preview, sources,
subscribers. Every endpoint is wrapped in :func:`web.auth.require_admin`, and every
form carries ``csrf_field()`` and is checked with :mod:`web.csrf`.

Placeholder: answers 404 "not yet" (to the admin; others are sent to sign in). The
developers of the admin parts of the web issue replace this module (keep ``routes``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.auth import require_admin
from web.routes import not_yet

routes: list[BaseRoute] = [Route("/admin", require_admin(not_yet), name="admin")]
