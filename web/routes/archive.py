"""The archive (``/archive/...``): the static archive folder (``settings.archive_dir``),
served as it is written by ``trendwatch digest`` / ``archive`` / ``run``.

The same pages as the published folder: ``index.html``, ``<year>/index.html``,
``<year>/W<week>/<slug>.html`` (each edition's web version: the mail's "view in your
browser" link is ``<base_url>/archive/<year>/W<week>/<slug>.html``, see
:func:`digests.views.web_url`), ``watchlists/<name>.html`` and ``feed.xml``. They hold
no personal data. Their links are relative, so they work under ``/archive/`` as they do
from disk.

The pages are self-contained (inline ``<style>``, no script), so they get the stricter
:data:`web.security.ARCHIVE_CSP` instead of the site's. Files and folders whose name
starts with a dot (an atomic write's temporary file) are not served; nor is anything
outside the folder (symbolic links out of it included: Starlette's StaticFiles).
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from web.security import ARCHIVE_CSP
from web.state import settings_of, url

PREFIX = "/archive"
EMPTY = "archive_empty"


class ArchiveFiles:
    """An ASGI app serving the archive folder of the settings now."""

    def __init__(self) -> None:
        self._files: dict[Path, StaticFiles] = {}

    def _static(self, folder: Path) -> StaticFiles:
        files = self._files.get(folder)
        if files is None:
            files = self._files[folder] = StaticFiles(directory=folder, html=True, check_dir=False)
        return files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if any(part.startswith(".") for part in path.split("/")):
            raise HTTPException(404)
        folder = settings_of(HTTPConnection(scope)).archive_dir
        if not folder.is_dir():  # nothing built yet
            raise HTTPException(404, EMPTY)

        async def send_with_csp(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = ARCHIVE_CSP
            await send(message)

        await self._static(folder)(scope, receive, send_with_csp)


def to_index(request: Request) -> Response:
    """``/archive`` -> ``/archive/`` (a relative Location: right behind any proxy)."""
    return RedirectResponse(url(request, PREFIX + "/"), status_code=308)


routes: list[BaseRoute] = [
    Route(PREFIX, to_index, name="archive_root"),
    Mount(PREFIX, app=ArchiveFiles(), name="archive"),
]
