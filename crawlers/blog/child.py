"""Child-process entry point: ``python -m crawlers.blog.child``.

Reads ``{"config": {...}, "allow_private_networks": bool, "time_limit": float|null,
"now": ISO time|null}`` (``now``: the crawl's time) as JSON on stdin, runs the blog
spider once, and writes JSON Lines on stdout:

- ``{"kind": "article", ...}`` for every article page, as soon as it is extracted;
- ``{"kind": "refused", "url", "reason"}`` for every request robots.txt forbade;
- ``{"kind": "error", "url", "error", "status", "start"}`` for failed requests;
- ``{"kind": "done", "pages_seen", "articles", "finish_reason", "stats"}`` last.

The parent takes a missing ``done`` line as a crash. Anything else that writes to
stdout (a library's stray ``print``) is diverted to stderr, so the protocol stream only
carries our lines. One process runs one crawl: that is what lets the parent crawl
again and again although Scrapy's reactor cannot be restarted.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import IO, Any


def main() -> int:
    out = _protocol_stream()
    request = json.load(sys.stdin)

    # Imported late: the stream juggling above must happen before Scrapy logs anything.
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawlers.blog.config import BlogConfig
    from crawlers.blog.spider import BlogSpider, scrapy_settings

    config = BlogConfig.from_dict(request["config"])
    now = datetime.fromisoformat(request["now"]) if request.get("now") else None

    def emit(record: dict[str, Any]) -> None:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()

    closed: dict[str, Any] = {}

    def on_item(item: dict[str, Any], **_: Any) -> None:
        emit({"kind": "article", **item})

    def on_closed(reason: str, **_: Any) -> None:
        closed["reason"] = reason

    process = CrawlerProcess(
        scrapy_settings(
            config,
            allow_private_networks=bool(request.get("allow_private_networks")),
            time_limit=request.get("time_limit"),
        )
    )
    crawler = process.create_crawler(BlogSpider)
    crawler.signals.connect(on_item, signal=signals.item_scraped)
    crawler.signals.connect(on_closed, signal=signals.spider_closed)
    process.crawl(crawler, config=config, emit=emit, now=now)
    process.start()

    spider = crawler.spider
    stats = crawler.stats.get_stats() if crawler.stats else {}
    emit(
        {
            "kind": "done",
            "pages_seen": getattr(spider, "pages_seen", 0),
            "articles": len(getattr(spider, "articles", ())),
            "finish_reason": closed.get("reason"),
            "stats": {k: v for k, v in stats.items() if isinstance(v, int | float | str)},
        }
    )
    out.close()
    return 0


def _protocol_stream() -> IO[str]:
    """A private duplicate of stdout for the protocol; fd 1 and ``sys.stdout`` then
    point at stderr."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


if __name__ == "__main__":
    sys.exit(main())
