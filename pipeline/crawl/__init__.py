"""The crawl stage: which sources are due, fetching them through ``crawlers/``, and
recording entries and each source's health in the store."""
