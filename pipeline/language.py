"""Language of an article: the source's configured language, else a guess from text.

A small stop-word vote between Dutch and English; short or mixed texts fall back to
the source's language or the default, and never raise.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zà-ÿ]+")
_STOP = {
    "nl": frozenset(
        "de het een en van in is dat op te zijn met voor niet aan er om ook als bij door"
        " naar maar dan nog wel uit over wordt worden werd hun zij wij ze we meer die dit"
        " deze heeft hebben kan kunnen moet moeten geen al veel".split()
    ),
    "en": frozenset(
        "the a an and of in is that on to are with for not at there also as by from"
        " but then still out over be been was were their they we more this these has"
        " have can could must no all many which who will would".split()
    ),
}


def guess_language(text: str, fallback: str | None = None, min_votes: int = 3) -> str | None:
    """'nl' or 'en' when the text clearly is one of them, else ``fallback``."""
    words = _WORD.findall(text.lower()[:5000])
    votes = {lang: sum(w in stop for w in words) for lang, stop in _STOP.items()}
    best = max(votes, key=lambda k: votes[k])
    others = [v for k, v in votes.items() if k != best]
    if votes[best] < min_votes or votes[best] <= max(others, default=0):
        return fallback
    return best
