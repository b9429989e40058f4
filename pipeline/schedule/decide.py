"""Pure scheduling decisions for ``trendwatch run``: no I/O and no clock reads.

Every function takes the current instant as an argument (a UTC-aware
``datetime``) and returns UTC-aware instants, so the scheduler's choices can be
tested with fixed clocks:

* :func:`slot_in_week`, :func:`last_slot`, :func:`next_slot` and
  :func:`edition_week` place the weekly digest in the subscriber's time zone,
  including the weeks daylight saving time starts or ends;
* :func:`digest_due` decides whether the latest digest slot should be sent now,
  was already handled, or came due too long ago (the process was down);
* :func:`next_wakeup` bounds how long the scheduler sleeps.

Spreading overdue source polls after a restart is a fetch-scheduling decision:
:func:`pipeline.crawl.decide.spread_overdue`, with every other one.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "Decision",
    "DigestDue",
    "DigestTime",
    "digest_due",
    "edition_week",
    "last_slot",
    "next_slot",
    "next_wakeup",
    "slot_in_week",
]

UTC = datetime.UTC
_ONE_WEEK = datetime.timedelta(weeks=1)

Week = tuple[int, int]  # ISO (year, week)


@dataclass(frozen=True)
class DigestTime:
    """When a weekly digest goes out: a weekday and a wall-clock time in a time zone."""

    weekday: int  # 0 = Monday
    at: datetime.time  # local wall-clock time, without tzinfo
    timezone: str  # IANA name

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise TypeError(f"weekday must be an int from 0 to 6, got {self.weekday!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be from 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if not isinstance(self.at, datetime.time) or self.at.tzinfo is not None:
            raise ValueError(f"at must be a time without tzinfo, got {self.at!r}")
        ZoneInfo(self.timezone)  # raises for an unknown name


def _require_aware(now: datetime.datetime, name: str = "now") -> None:
    """Raise ValueError unless ``now`` is a timezone-aware datetime."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {now.isoformat()}")


def _shift_week(week: Week, weeks: int) -> Week:
    """The ISO week ``weeks`` weeks after (or before, if negative) ``week``."""
    monday = datetime.date.fromisocalendar(week[0], week[1], 1)
    year, number, _ = (monday + datetime.timedelta(weeks=weeks)).isocalendar()
    return year, number


def _local_to_utc(local: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """The UTC instant of the naive wall-clock time ``local`` in ``zone``.

    Uses ``fold=0`` (PEP 495): an ambiguous time (clocks going back) is its first
    occurrence, and a time that does not exist (clocks going forward) is read
    with the offset from before the change, i.e. moved forward by the gap
    (02:30 in a 02:00 -> 03:00 gap becomes 03:30).
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def slot_in_week(year: int, week: int, when: DigestTime) -> datetime.datetime:
    """The UTC instant of the digest of ISO week (``year``, ``week``) in ``when.timezone``.

    A local time that does not exist (spring forward) is moved forward by the gap;
    an ambiguous one (fall back) is its first occurrence. ValueError for a week
    that does not exist (e.g. week 53 of a 52-week year).
    """
    day = datetime.date.fromisocalendar(year, week, when.weekday + 1)
    local = datetime.datetime.combine(day, when.at.replace(fold=0))
    return _local_to_utc(local, ZoneInfo(when.timezone))


def _local_week(now: datetime.datetime, timezone: str) -> Week:
    """The ISO week that ``now`` falls in, in ``timezone``."""
    year, week, _ = now.astimezone(ZoneInfo(timezone)).isocalendar()
    return year, week


def _slots_around(now: datetime.datetime, when: DigestTime) -> list[tuple[datetime.datetime, Week]]:
    """``(slot, week)`` for the weeks around ``now``, oldest first.

    Two weeks either side is more than enough: a slot lies in its own local week
    except when a clock change moves it a little past the week's end.
    """
    here = _local_week(now, when.timezone)
    weeks = [_shift_week(here, offset) for offset in (-2, -1, 0, 1, 2)]
    return [(slot_in_week(year, number, when), (year, number)) for year, number in weeks]


def _last(now: datetime.datetime, when: DigestTime) -> tuple[datetime.datetime, Week]:
    """The latest slot at or before ``now`` and the ISO week it was scheduled for."""
    _require_aware(now)
    return max(item for item in _slots_around(now, when) if item[0] <= now)


def last_slot(now: datetime.datetime, when: DigestTime) -> datetime.datetime:
    """The latest digest slot at or before ``now`` (UTC-aware), as a UTC instant."""
    return _last(now, when)[0]


def next_slot(now: datetime.datetime, when: DigestTime) -> datetime.datetime:
    """The earliest digest slot strictly after ``now`` (UTC-aware), as a UTC instant."""
    _require_aware(now)
    return min(slot for slot, _ in _slots_around(now, when) if slot > now)


def edition_week(slot: datetime.datetime, timezone: str) -> tuple[int, int]:
    """The ISO (year, week) of the instant ``slot`` in ``timezone``."""
    _require_aware(slot, "slot")
    return _local_week(slot, timezone)


class Decision(StrEnum):
    """What to do about the latest digest slot."""

    SEND = "send"  # due, within the grace period: send it now
    LATE = "late"  # came due too long ago (we were down): skip it and log
    DONE = "done"  # this week's digest was already handled


@dataclass(frozen=True)
class DigestDue:
    """The decision about one digest slot."""

    decision: Decision
    slot: datetime.datetime  # the slot the decision is about: last_slot(now)
    week: tuple[int, int]  # its ISO (year, week) in the digest's time zone


def digest_due(
    now: datetime.datetime,
    when: DigestTime,
    grace: datetime.timedelta,
    done: Callable[[tuple[int, int]], bool],
) -> DigestDue:
    """Decide about the latest digest slot at or before ``now``.

    ``done(week)`` tells whether that week's digest was already handled (the
    caller asks the store). DONE if it was; else SEND if ``now - slot <= grace``;
    else LATE: it came due while the scheduler was down, too long ago to send.

    ``week`` is the ISO week the slot was scheduled for, which is
    ``edition_week(slot, when.timezone)`` unless a clock change pushed the slot
    past the end of its week.
    """
    slot, week = _last(now, when)
    if done(week):
        decision = Decision.DONE
    elif now - slot <= grace:
        decision = Decision.SEND
    else:
        decision = Decision.LATE
    return DigestDue(decision, slot, week)


def next_wakeup(
    candidates: Iterable[datetime.datetime | None],
    now: datetime.datetime,
    *,
    floor: datetime.timedelta,
    ceiling: datetime.timedelta,
) -> datetime.datetime:
    """When the scheduler should wake up next.

    The earliest candidate (None ignored), but not before ``now + floor`` and not
    after ``now + ceiling``; ``now + ceiling`` when there is no candidate.
    ValueError if ``floor > ceiling``.
    """
    if floor > ceiling:
        raise ValueError(f"floor ({floor}) must not exceed ceiling ({ceiling})")
    latest = now + ceiling
    earliest = min((c for c in candidates if c is not None), default=latest)
    return max(now + floor, min(earliest, latest))
