"""The crawl stage: which sources are due, fetching them through ``crawlers/``, and
recording entries and each source's health in the store.

- ``job``: the fetch loop and the saving (:func:`pipeline.crawl.job.crawl`)
- ``decide``: every fetch-scheduling decision, pure: next poll, back-off, Retry-After,
  301/308 and 410, what is due, spreading overdue sources
- ``ownership``: who owns an article's row when an alert and a feed share its URL

This package imports nothing on its own: the store imports ``decide`` and
``ownership`` (both pure, standard library only), and the crawling stack loads only
with ``job``.
"""
