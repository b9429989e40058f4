"""The admin's watchlist editor (part of :mod:`web.routes.admin`): the list, the form
to create or edit a watchlist (name, title, query) with a live preview, and saving.

The preview (``/admin/watchlists/preview``) shows what the query would have matched in
the last 30 days: the count per week, the newest articles with why each matched (the
words as they stand, title or body, a snippet), or the error in the query at its
position; never a 500. htmx asks for it as the query is typed (GET, debounced); without
JavaScript the form's "Preview" button posts the form and gets the whole page. The
matching is :class:`~pipeline.process.watchlists.preview.PreviewIndex`'s over an index
kept in memory (:mod:`web.admin_work`); the explanations are ``CompiledQuery``'s.

Saving (:func:`pipeline.settings.edit_watchlists.save_watchlist`) writes the watchlist
into the config file, text and comments kept, after validating the result as
``trendwatch check`` does; a refusal shows the message and writes nothing. Then a
running ``trendwatch run`` is sent SIGHUP (:mod:`pipeline.schedule.reload`): it reloads
and matches stored articles again; with no run to do it, this process does
(:class:`web.admin_work.Rematcher`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from pipeline.process.watchlists.matching import CompiledQuery, Explanation
from pipeline.process.watchlists.preview import WINDOW, PreviewResult, highlight, weekly_counts
from pipeline.process.watchlists.query import MAX_DEPTH, QuerySyntaxError, parse_query
from pipeline.schedule.reload import ask_run_to_reload
from pipeline.settings import ConfigError, Settings, Watchlist
from pipeline.settings.edit_watchlists import WatchlistChange, WatchlistEditError, save_watchlist
from web.admin_work import Preparing, admin_work
from web.auth import require_admin
from web.csrf import checked_form, csrf_protect
from web.state import app_state, settings_of, store_of, url
from web.templating import render, render_block

TEMPLATE = "admin_watchlist.html.j2"
SHOWN = 20  # matched articles shown with their explanation
MAX_QUERY_CHARS = 1000
HTMX_WAIT = 2.0  # seconds an htmx preview waits for a first index
PAGE_WAIT = 30.0  # ...and a whole page (no JavaScript: no retry)


@dataclass(frozen=True)
class Shown:
    """A matched article as the preview lists it."""

    id: int
    url: str | None
    title: list[tuple[str, bool]]
    source: str
    date: datetime
    why: Explanation
    snippet: list[tuple[str, bool]]


@dataclass(frozen=True)
class QueryError:
    message: str
    position: int  # 1-based
    before: str
    at: str
    after: str


def query_error(query: str, exc: QuerySyntaxError) -> QueryError:
    """Where the query goes wrong, in three pieces for the page to mark."""
    i = max(0, min(exc.position - 1, len(query)))
    return QueryError(exc.message, exc.position, query[:i], query[i : i + 1] or " ", query[i + 1 :])


def _form_values(source: Any) -> dict[str, str]:
    def value(key: str) -> str:
        found = source.get(key)
        return found if isinstance(found, str) else ""

    return {key: value(key) for key in ("name", "title", "query", "editing")}


def _watchlist(settings: Settings, name: str) -> Watchlist | None:
    try:
        return settings.watchlist(name)
    except KeyError:
        return None


def preview_context(request: Request, query: str, editing: str, *, wait: float) -> dict[str, Any]:
    """What the preview block shows for ``query`` (see the module docstring)."""
    params = urlencode({"query": query, "editing": editing})
    context: dict[str, Any] = {
        "query": query,
        "preview_url": url(request, "/admin/watchlists/preview?" + params),
        "error": None,
        "preparing": None,
        "result": None,
    }
    if not query.strip():
        return context
    if len(query) > MAX_QUERY_CHARS:
        exc = QuerySyntaxError(f"longer than {MAX_QUERY_CHARS} characters", MAX_QUERY_CHARS + 1)
        context["error"] = query_error(query, exc)
        return context
    try:
        tree = parse_query(query)
    except QuerySyntaxError as exc:
        context["error"] = query_error(query, exc)
        return context
    settings = settings_of(request)
    store = store_of(request)
    now = app_state(request).clock()
    found = admin_work(request).previews.preview(store, tree, now, wait=wait)
    if isinstance(found, Preparing):
        context["preparing"] = found
        return context
    context["result"] = found
    context["weeks"] = weekly_counts(
        [when for _, when in found.matches], now - WINDOW, now, settings.schedule.timezone
    )
    context["top"] = max([w.count for w in context["weeks"]] + [1])
    context["shown"] = _explained(request, query, found)
    return context


def _explained(request: Request, query: str, found: PreviewResult) -> list[Shown]:
    """The newest matches with why each matched (as the process job would store it)."""
    ids = [article_id for article_id, _ in found.matches[:SHOWN]]
    compiled = CompiledQuery(query)
    shown = []
    for row, doc in admin_work(request).previews.articles(store_of(request), ids):
        why = compiled.match(doc)
        if why is None:  # changed since it was indexed
            continue
        shown.append(
            Shown(
                row.id,
                row.url,
                highlight(row.title, why.terms),
                row.source_name,
                row.date,
                why,
                highlight(why.snippet, why.terms),
            )
        )
    return shown


def _editor(
    request: Request,
    values: dict[str, str],
    *,
    problems: list[str] | None = None,
    field: str = "",
    status: int = 200,
    notice: dict[str, Any] | None = None,
    wait: float = 0.0,
) -> Response:
    settings = settings_of(request)
    editing = values["editing"]
    watchlist = _watchlist(settings, editing) if editing else None
    context = {
        "form": values,
        "editing": editing,
        "watchlist": watchlist,
        "problems": problems or [],
        "field": field,
        "notice": notice,
        "max_depth": MAX_DEPTH,
        **preview_context(request, values["query"], editing, wait=wait),
    }
    return render(request, TEMPLATE, context, status_code=status, noindex=True)


# --- the pages -------------------------------------------------------------------------


def watchlists_page(request: Request) -> Response:
    """Every watchlist, with its matches in the last 30 days."""
    settings = settings_of(request)
    now = app_state(request).clock()
    counts = store_of(request).watchlist_match_counts(now - WINDOW)
    admin_work(request).previews.start(settings.database, now)  # the editor comes next
    context = {"watchlists": settings.watchlists, "counts": counts}
    return render(request, "admin_watchlists.html.j2", context, noindex=True)


def new_page(request: Request) -> Response:
    admin_work(request).previews.start(settings_of(request).database, app_state(request).clock())
    return _editor(request, {"name": "", "title": "", "query": "", "editing": ""})


def edit_page(request: Request) -> Response:
    """The form for one watchlist, with the preview of its query and, after a save,
    what became of it (the run reloaded; stored articles being matched again)."""
    name = request.path_params["name"]
    settings = settings_of(request)
    watchlist = _watchlist(settings, name)
    if watchlist is None:
        raise HTTPException(404)
    notice = None
    if request.query_params.get("saved"):
        store = store_of(request)
        notice = {
            "run": request.query_params.get("run", ""),
            "matched_through": store.watchlist_progress().get(name, 0),
            "processed": store.max_processed_id(),
        }
    values = {
        "name": watchlist.name,
        "title": watchlist.title,
        "query": watchlist.query,
        "editing": watchlist.name,
    }
    return _editor(request, values, notice=notice)


async def preview(request: Request) -> Response:
    """GET from htmx: the preview block. POST (the form's button, no JavaScript): the
    whole page with the form as filled in."""
    if request.method == "POST":
        form = await checked_form(request)
        return await run_in_threadpool(_editor, request, _form_values(form), wait=PAGE_WAIT)
    return await run_in_threadpool(_preview_block, request)


def _preview_block(request: Request) -> Response:
    values = _form_values(request.query_params)
    wait = HTMX_WAIT if request.headers.get("hx-request") else PAGE_WAIT
    if not request.headers.get("hx-request"):
        return _editor(request, values, wait=wait)
    context = preview_context(request, values["query"], values["editing"], wait=wait)
    return render_block(request, TEMPLATE, "preview", context)


@csrf_protect
def save(request: Request) -> Response:
    """Write the watchlist into the config file, or show why not (nothing written)."""
    form: FormData = request.state.form
    values = _form_values(form)
    change = WatchlistChange(
        values["name"].strip(), values["title"], values["query"], values["editing"] or None
    )
    settings = settings_of(request)
    try:
        saved = save_watchlist(settings.path, change)
    except WatchlistEditError as exc:
        status = 409 if exc.conflict else 500 if exc.server else 400
        return _editor(request, values, problems=[exc.message], field=exc.field, status=status)
    except ConfigError as exc:
        problems = [str(p) for p in exc.problems]
        return _editor(request, values, problems=problems, status=400)
    reload = ask_run_to_reload(saved.data_dir)
    if reload.sent:
        outcome = "reloaded"  # the run matches stored articles again
    else:
        outcome = "manual" if reload.pid is not None else "none"
        admin_work(request).rematcher.start(saved)
    target = f"/admin/watchlists/{change.name}/edit?" + urlencode({"saved": 1, "run": outcome})
    return RedirectResponse(url(request, target), status_code=303)


routes: list[BaseRoute] = [
    Route("/admin/watchlists", require_admin(watchlists_page), methods=["GET"]),
    Route("/admin/watchlists", require_admin(save), methods=["POST"]),
    Route("/admin/watchlists/new", require_admin(new_page), methods=["GET"]),
    Route("/admin/watchlists/preview", require_admin(preview), methods=["GET", "POST"]),
    Route("/admin/watchlists/{name}/edit", require_admin(edit_page), methods=["GET"]),
]
