"""Keeping a digest's HTML part under the size at which mail programs clip it.

Gmail clips an HTML part over about 102 KB and hides the rest behind "View entire
message", footer and unsubscribe link included. An edition whose e-mail would be over
:data:`MAIL_HTML_LIMIT` shows fewer stories in full: the quota of its fullest section
(the last of those, on a tie) goes down by one, and the edition is built again, until
the e-mail fits. The stories that leave the e-mail stay in the edition (its web version
shows every story) and the section's "+N more" line links to them there, as it does
for the stories the ordinary quota leaves out.

:func:`fit_edition` is the decision; building and measuring are the caller's (the
digest job builds from the store and measures the rendered HTML part).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from digests.model import Edition
from pipeline.digest.editions import SECTION_QUOTA

# bytes of the HTML part (UTF-8); Gmail clips one over about 102 KB
MAIL_HTML_LIMIT = 100_000
# what readers of one edition may differ by (address, signed links): the edition is
# measured for one of them and must fit with this much to spare
PERSONAL_MARGIN = 1_000


def fit_edition(
    build: Callable[[Mapping[str, int]], Edition],
    html_size: Callable[[Edition], int],
    watchlists: Sequence[str],
    *,
    limit: int | None = None,
    quota: int = SECTION_QUOTA,
) -> Edition:
    """The edition ``build`` makes with per-watchlist quotas, the quotas lowered until
    ``html_size`` of it is at most ``limit`` (default: :data:`MAIL_HTML_LIMIT` less
    :data:`PERSONAL_MARGIN`), or no story is left in full."""
    if limit is None:
        limit = MAIL_HTML_LIMIT - PERSONAL_MARGIN
    quotas = dict.fromkeys(watchlists, quota)
    edition = build(quotas)
    while html_size(edition) > limit:
        lowered = lower_quota(edition, quotas)
        if lowered is None:
            break  # nothing left to take out: headings, trends and footer only
        quotas = lowered
        edition = build(quotas)
    return edition


def lower_quota(edition: Edition, quotas: Mapping[str, int]) -> dict[str, int] | None:
    """The quotas with one story fewer in the section that shows the most in full (the
    last such section: the reader's first watchlists keep theirs longest); None when
    no section shows a story in full."""
    fullest = None
    for section in edition.sections:
        if section.items and (fullest is None or len(section.items) >= len(fullest.items)):
            fullest = section
    if fullest is None:
        return None
    return {**quotas, fullest.watchlist: len(fullest.items) - 1}
