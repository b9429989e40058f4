"""Stories (``/stories/{id}``): every article of a story as a timeline.

Placeholder: answers 404 "not yet". The developer of the "Stories" part of the web
issue replaces this module (keep ``routes``).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.routes import not_yet

routes: list[BaseRoute] = [Route("/stories/{story_id:int}", not_yet, name="story")]
