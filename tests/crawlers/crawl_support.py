"""Helpers for crawler tests: run async work with a crawl client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from crawlers.http import CrawlClient, HttpOptions, make_client

T = TypeVar("T")


def run_with_client(work: Callable[[CrawlClient], Awaitable[T]], **options: Any) -> T:
    """Run ``work(client)`` in a fresh event loop with a client on these options
    (private networks allowed unless said otherwise: every test server is local)."""
    options.setdefault("allow_private_networks", True)

    async def main() -> T:
        async with make_client(HttpOptions(**options)) as client:
            return await work(client)

    return asyncio.run(main())
