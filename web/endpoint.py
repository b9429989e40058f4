"""Endpoints as the decorators of :mod:`web.csrf` and :mod:`web.auth` wrap them.

An endpoint is ``def page(request) -> Response`` (Starlette runs it on its thread pool:
the store and the templates are used there) or ``async def`` (on the event loop: it
must not block). A decorator wraps either into an ``async def`` and calls the original
with :func:`call_endpoint`, so a plain ``def`` still runs on the thread pool.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

Endpoint = Callable[[Request], Response | Awaitable[Response]]
AsyncEndpoint = Callable[[Request], Awaitable[Response]]


def is_async(endpoint: Callable[..., object]) -> bool:
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return inspect.iscoroutinefunction(endpoint)


async def call_endpoint(endpoint: Endpoint, request: Request) -> Response:
    """Run ``endpoint``: awaited if async, on the thread pool if not."""
    if is_async(endpoint):
        result = endpoint(request)
        assert inspect.isawaitable(result)
        return await result
    response = await run_in_threadpool(endpoint, request)
    assert isinstance(response, Response)
    return response
