"""Blogs without feeds: a polite Scrapy crawl of a site, run in a child process.

Import :func:`crawl_blog` (or :func:`crawl_blog_async`) and :class:`BlogConfig` from
here; this package's ``__init__`` does not import Scrapy, which only ever loads in the
child (``crawlers.blog.child``).
"""

from crawlers.blog.config import BlogConfig
from crawlers.blog.runner import BlogResult, crawl_blog, crawl_blog_async, items_to_entries

__all__ = ["BlogConfig", "BlogResult", "crawl_blog", "crawl_blog_async", "items_to_entries"]
