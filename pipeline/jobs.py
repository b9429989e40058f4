"""The jobs: the list of entry points the CLI and the scheduler call.

Each job lives in its stage: crawl in ``pipeline.crawl.job``, process in
``pipeline.process.job``, import in ``pipeline.jsonl``, digest and preview in
``pipeline.digest.job`` (delivery in ``pipeline.digest.delivery``, its retry policy in
``pipeline.digest.retry``), the archive in ``pipeline.digest.archive`` and the link
secret in ``pipeline.digest.secret``. A manual run and a scheduled run call the same
functions, so they behave alike. Each job is idempotent: running it again does no harm.
"""

from __future__ import annotations

from typing import Any

from pipeline.digest.archive import rebuild_archive, write_archive_index, write_page
from pipeline.digest.delivery import delivery_lock
from pipeline.digest.job import DigestReport, digest, digest_audiences, preview
from pipeline.digest.retry import retry_after
from pipeline.digest.secret import recipient as _recipient
from pipeline.digest.secret import token_secret
from pipeline.jsonl import ImportReport, import_jsonl
from pipeline.process.job import ProcessReport, process

# and, through __getattr__ below: SourceReport, crawl, crawl_async, next_poll_after
__all__ = [
    "DigestReport",
    "ImportReport",
    "ProcessReport",
    "_recipient",
    "delivery_lock",
    "digest",
    "digest_audiences",
    "import_jsonl",
    "preview",
    "process",
    "rebuild_archive",
    "retry_after",
    "token_secret",
    "write_archive_index",
    "write_page",
]

# The crawl job is imported on first use: commands that do not crawl (check, status,
# digest, archive) never load the crawling stack (httpx, feedparser, trafilatura, Scrapy).
_CRAWL_NAMES = frozenset({"SourceReport", "crawl", "crawl_async", "next_poll_after"})


def __getattr__(name: str) -> Any:
    if name in _CRAWL_NAMES:
        from pipeline.crawl import job as crawl_job

        return getattr(crawl_job, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
