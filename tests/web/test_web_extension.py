"""The extension points other pages build on, used as a route module would: store_of on
the thread pool, @require_admin on an async endpoint, @csrf_protect on a plain one,
render_block, the body limit."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from web.auth import require_admin
from web.csrf import csrf_field, csrf_protect
from web.state import store_of
from web.templating import render_block
from web_support import LOCAL, app_for, client


def test_store_admin_and_fragments_as_a_route_module_uses_them(config: Path) -> None:
    threads: list[str] = []
    stores: list[int] = []

    def count(request: Request) -> Response:  # a plain def: on the thread pool
        threads.append(threading.current_thread().name)
        stores.append(id(store_of(request)))
        return PlainTextResponse(str(store_of(request).article_count()))

    @require_admin
    async def secret(request: Request) -> Response:
        return PlainTextResponse("admin only")

    def fragment(request: Request) -> Response:
        return render_block(request, "error.html.j2", "content", {"status": 0, "message": "x"})

    app = app_for(config)
    app.router.routes.extend(
        [Route("/count", count), Route("/secret", secret), Route("/fragment", fragment)]
    )
    with client(app) as web:
        assert [web.get("/count").text for _ in range(3)] == ["0", "0", "0"]
        assert threading.main_thread().name not in threads
        assert len(set(stores)) == len(set(threads))  # one store per thread, kept
        assert web.get("/secret").status_code == 403
        part = web.get("/fragment")
        assert part.status_code == 200 and "<html" not in part.text and "<h1>" in part.text
    with client(app, peer=LOCAL) as local:
        assert local.get("/secret").text == "admin only"


def test_csrf_protect_lets_only_a_form_with_the_token_through(config: Path) -> None:
    @csrf_protect
    def save(request: Request) -> Response:
        return PlainTextResponse(f"saved {request.state.form['name']}")

    def form(request: Request) -> Response:
        return PlainTextResponse(str(csrf_field(request)))

    app = app_for(config)
    app.router.routes.extend([Route("/save", save, methods=["POST"]), Route("/form", form)])
    with client(app) as web:
        assert web.post("/save", data={"name": "x"}).status_code == 403
        field = web.get("/form").text
        token = re.search(r'<input type="hidden" name="csrf" value="([^"]+)">', field)
        assert token, field
        assert web.post("/save", data={"name": "x", "csrf": token[1]}).text == "saved x"
        assert web.post("/save", data={"name": "x"}).status_code == 403


def test_bodies_over_a_mebibyte_are_refused(config: Path) -> None:
    async def echo(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    app = app_for(config)
    app.router.routes.append(Route("/echo", echo, methods=["POST"]))

    def chunks() -> Iterator[bytes]:  # no Content-Length
        for _ in range(20):
            yield b"x" * 100_000

    with client(app) as web:
        assert web.post("/echo", content=b"x" * 1000).text == "1000"
        big = web.post("/echo", content=b"x" * (1024 * 1024 + 1))
        assert big.status_code == 413 and "te groot" in big.text
        assert web.post("/echo", content=chunks()).status_code == 413
