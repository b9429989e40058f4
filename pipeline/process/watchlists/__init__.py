"""Watchlists: the Google Alerts query grammar (``query``) and matching articles against
compiled queries with the explanation of why (``matching``)."""
