"""Crawlers: turn sources into entries.

Knows HTTP, feeds and HTML; knows nothing of SQLite, spaCy or e-mail. Functions take
explicit inputs (a source URL, fetch state, a client) and return plain data.
"""
