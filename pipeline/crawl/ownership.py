"""Who owns an article's row when an alert and a feed bring in the same article.

One article, one row: a Google News alert links to the publisher's page, which the
publisher's own feed also lists, and both links are unwrapped to the same canonical
URL. This is the crawl stage's decision, pure and over plain data; the store's
``save_entries`` looks up the rows stored under an entry's URL, asks :func:`claim`,
and applies the answer:

* an alert's new entry whose URL any other source has stored already is not stored
  again (:attr:`Action.KNOWN`);
* a feed's new entry whose URL only alerts have brought in takes over the alert's row
  (:attr:`Action.TAKE_OVER`): the feed's fuller copy replaces the alert's snippet, and
  the article is processed again;
* anything else is a new row of its own (:attr:`Action.INSERT`).

Only entries that the saving source has not stored before (by identity) are asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """What to do with a source's new entry."""

    INSERT = "insert"  # a row of its own
    KNOWN = "known"  # stored already from another source: store nothing
    TAKE_OVER = "take over"  # the feed's copy replaces an alert's row


@dataclass(frozen=True)
class Holder:
    """A stored article under the same canonical URL, and the kind of its source."""

    article_id: int
    source_id: int
    alert: bool  # brought in by an alert


@dataclass(frozen=True)
class Claim:
    """The answer for one entry; ``article_id`` is the row a TAKE_OVER replaces."""

    action: Action
    article_id: int | None = None


def must_look_up(url: str | None, from_alert: bool, alerts_exist: bool) -> bool:
    """Whether the rows under a new entry's URL matter: only an entry with a link can
    share its article, and only with an alert, so not when no source is an alert."""
    return bool(url) and (from_alert or alerts_exist)


def claim(source_id: int, from_alert: bool, holders: Sequence[Holder]) -> Claim:
    """Who owns a new entry of source ``source_id`` (an alert if ``from_alert``), given
    the ``holders``: the articles stored under its URL (empty when not looked up).

    An alert's entry is KNOWN when another source holds the URL. A feed's entry takes
    over the oldest alert row (the lowest id) when only alerts hold the URL; once a
    feed holds it, no alert row is taken over and the entry gets its own row."""
    if from_alert:
        if any(h.source_id != source_id for h in holders):
            return Claim(Action.KNOWN)
        return Claim(Action.INSERT)
    alerts = [h.article_id for h in holders if h.alert]
    if alerts and all(h.alert for h in holders):
        return Claim(Action.TAKE_OVER, min(alerts))
    return Claim(Action.INSERT)
