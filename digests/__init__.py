"""Digests: turn prepared digest data into e-mail and archive pages, and deliver them.

This package knows jinja2, e-mail, SMTP and files. It never queries the database and
never imports ``pipeline``: ``pipeline`` hands it plain data from :mod:`digests.model`.
"""
