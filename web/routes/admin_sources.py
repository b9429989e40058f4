"""The admin's sources page (part of :mod:`web.routes.admin`): the health of every source
as ``trendwatch status`` shows it (:func:`pipeline.status.status_data`: health, last
success, last error, next poll, notes), and adding a source by a site's URL with feed
discovery, as ``trendwatch sources add`` does (:func:`pipeline.settings.edit.add_source`:
it fetches the site, so the crawling stack is imported by that route only, when it is
first used). A source added is appended to the config file, its text kept; a running
``trendwatch run`` is sent SIGHUP to pick it up.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from pipeline.schedule.reload import ask_run_to_reload
from pipeline.settings import ConfigError
from pipeline.settings.edit_watchlists import not_writable
from pipeline.status import status_data
from web import i18n
from web.auth import require_admin
from web.csrf import csrf_protect
from web.state import app_state, settings_of, store_of, url
from web.templating import language, render

LANGUAGE = re.compile(r"[a-z]{2}")


def _page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> Response:
    settings = settings_of(request)
    store = store_of(request)
    now = app_state(request).clock()
    store.sync_sources(settings.sources, now)  # a source just added shows up
    data = status_data(settings, store, now)
    query = request.query_params
    context: dict[str, Any] = {
        "sources": data["sources"],
        "scheduler": data["scheduler"],
        "next_crawl": data["next_crawl"],
        "form": form or {"url": "", "name": "", "language": ""},
        "problems": problems or [],
        "added": query.get("added", "") if status == 200 else "",
        "others": query.getlist("others") if status == 200 else [],
        "run": query.get("run", ""),
    }
    return render(request, "admin_sources.html.j2", context, status_code=status, noindex=True)


def sources_page(request: Request) -> Response:
    return _page(request)


@csrf_protect
def add(request: Request) -> Response:
    """Find the site's feed and append it to the config, or say why not."""
    form: FormData = request.state.form
    values = {key: str(form.get(key) or "").strip() for key in ("url", "name", "language")}
    if values["language"] and not LANGUAGE.fullmatch(values["language"]):
        problem = i18n.t(language(request), "admin.sources.bad_language")
        return _page(request, form=values, problems=[problem], status=400)
    from pipeline.settings.edit import SourceConfigError, add_source  # loads the crawler

    settings = settings_of(request)
    try:
        new, found = add_source(
            settings,
            values["url"],
            name=values["name"] or None,
            language=values["language"] or None,
        )
    except SourceConfigError as exc:
        return _page(request, form=values, problems=[str(exc)], status=400)
    except ConfigError as exc:
        return _page(request, form=values, problems=[str(p) for p in exc.problems], status=400)
    except OSError as exc:  # the config file or its folder is not writable
        problem = not_writable(settings.path, exc)
        return _page(request, form=values, problems=[problem], status=500)
    reload = ask_run_to_reload(settings.data_dir)
    outcome = "reloaded" if reload.sent else "manual" if reload.pid is not None else "none"
    params = urlencode({"added": new.name, "run": outcome, "others": found.others}, doseq=True)
    return RedirectResponse(url(request, "/admin/sources?" + params), status_code=303)


routes: list[BaseRoute] = [
    Route("/admin/sources", require_admin(sources_page), methods=["GET"]),
    Route("/admin/sources", require_admin(add), methods=["POST"]),
]
