"""Tests for pipeline.schedule.decide: digest slots (DST weeks, year ends), due decisions,
wake-ups.

Every clock is fixed; nothing here reads the time or touches the network.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.schedule.decide import (
    Decision,
    DigestDue,
    DigestTime,
    digest_due,
    edition_week,
    last_slot,
    next_slot,
    next_wakeup,
    slot_in_week,
)

AMS = "Europe/Amsterdam"
NYC = "America/New_York"
MON_0700 = DigestTime(0, time(7, 0), AMS)
SUN_0230 = DigestTime(6, time(2, 30), AMS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --------------------------------------------------------------------------- slots


def test_slot_in_a_normal_winter_and_summer_week() -> None:
    # ISO 2026-W10 starts Monday 2 March (CET, +01:00); W25 Monday 15 June (CEST, +02:00).
    assert slot_in_week(2026, 10, MON_0700) == utc(2026, 3, 2, 6, 0)
    assert slot_in_week(2026, 25, MON_0700) == utc(2026, 6, 15, 5, 0)
    friday = DigestTime(4, time(16, 30), AMS)
    assert slot_in_week(2026, 10, friday) == utc(2026, 3, 6, 15, 30)
    assert slot_in_week(2026, 10, MON_0700).tzinfo is UTC


def test_spring_forward_gap_moves_the_slot_forward_by_the_gap() -> None:
    # Sunday 29 March 2026: 02:00 CET -> 03:00 CEST; 02:30 does not exist -> 03:30 CEST.
    slot = slot_in_week(2026, 13, SUN_0230)
    assert slot == utc(2026, 3, 29, 1, 30)
    assert slot.astimezone(ZoneInfo(AMS)).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)
    # The weeks either side are ordinary: 02:30 CET, then 02:30 CEST.
    assert slot_in_week(2026, 12, SUN_0230) == utc(2026, 3, 22, 1, 30)
    assert slot_in_week(2026, 14, SUN_0230) == utc(2026, 4, 5, 0, 30)


def test_fall_back_ambiguous_time_is_the_first_occurrence() -> None:
    # Sunday 25 October 2026: 03:00 CEST -> 02:00 CET; 02:30 happens twice, first in CEST.
    assert slot_in_week(2026, 43, SUN_0230) == utc(2026, 10, 25, 0, 30)
    # Even if the configured time carries fold=1, the first occurrence is used.
    folded = DigestTime(6, time(2, 30, fold=1), AMS)
    assert slot_in_week(2026, 43, folded) == utc(2026, 10, 25, 0, 30)
    assert slot_in_week(2026, 42, SUN_0230) == utc(2026, 10, 18, 0, 30)
    assert slot_in_week(2026, 44, SUN_0230) == utc(2026, 11, 1, 1, 30)


def test_monday_after_each_clock_change() -> None:
    assert slot_in_week(2026, 13, MON_0700) == utc(2026, 3, 23, 6, 0)  # still CET
    assert slot_in_week(2026, 14, MON_0700) == utc(2026, 3, 30, 5, 0)  # CEST from 29 March
    assert slot_in_week(2026, 43, MON_0700) == utc(2026, 10, 19, 5, 0)  # still CEST
    assert slot_in_week(2026, 44, MON_0700) == utc(2026, 10, 26, 6, 0)  # CET from 25 October


def test_last_and_next_slot_around_spring_forward() -> None:
    slot = utc(2026, 3, 29, 1, 30)
    before = slot - timedelta(microseconds=1)
    assert last_slot(before, SUN_0230) == utc(2026, 3, 22, 1, 30)
    assert next_slot(before, SUN_0230) == slot
    assert last_slot(slot, SUN_0230) == slot  # a slot is "at or before" itself
    assert next_slot(slot, SUN_0230) == utc(2026, 4, 5, 0, 30)  # strictly after
    # Monday 07:00 the day after: 05:00 UTC; just before it the last slot is a week earlier.
    monday = utc(2026, 3, 30, 5, 0)
    assert next_slot(utc(2026, 3, 29, 12, 0), MON_0700) == monday
    assert last_slot(monday - timedelta(seconds=1), MON_0700) == utc(2026, 3, 23, 6, 0)
    assert last_slot(monday, MON_0700) == monday


def test_last_and_next_slot_around_fall_back() -> None:
    first = utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    second = utc(2026, 10, 25, 1, 30)  # 02:30 CET, the repeat: not a slot
    assert last_slot(first, SUN_0230) == first
    assert last_slot(second, SUN_0230) == first
    assert next_slot(first, SUN_0230) == utc(2026, 11, 1, 1, 30)
    assert next_slot(second, SUN_0230) == utc(2026, 11, 1, 1, 30)
    assert next_slot(first - timedelta(microseconds=1), SUN_0230) == first
    monday = utc(2026, 10, 26, 6, 0)
    assert next_slot(second, MON_0700) == monday
    assert last_slot(monday - timedelta(microseconds=1), MON_0700) == utc(2026, 10, 19, 5, 0)


def test_new_york_and_amsterdam_when_us_and_eu_dst_differ() -> None:
    # US summer time starts Sunday 8 March 2026, EU's on 29 March: three weeks where
    # New York is 5 hours behind Amsterdam instead of 6. In the autumn, 25 October to
    # 1 November.
    ny = DigestTime(0, time(7, 0), NYC)
    cases = [
        (10, utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 6, 0)),  # EST / CET: 6 hours
        (11, utc(2026, 3, 9, 11, 0), utc(2026, 3, 9, 6, 0)),  # EDT / CET: 5 hours
        (13, utc(2026, 3, 23, 11, 0), utc(2026, 3, 23, 6, 0)),
        (14, utc(2026, 3, 30, 11, 0), utc(2026, 3, 30, 5, 0)),  # EDT / CEST: 6 hours
        (44, utc(2026, 10, 26, 11, 0), utc(2026, 10, 26, 6, 0)),  # EDT / CET: 5 hours
        (45, utc(2026, 11, 2, 12, 0), utc(2026, 11, 2, 6, 0)),  # EST / CET: 6 hours
    ]
    for week, new_york, amsterdam in cases:
        assert slot_in_week(2026, week, ny) == new_york, week
        assert slot_in_week(2026, week, MON_0700) == amsterdam, week


def test_local_week_decides_for_a_subscriber_west_of_utc() -> None:
    # Monday 9 March 03:00 UTC is still Sunday 8 March 23:00 in New York (week 10).
    ny = DigestTime(0, time(7, 0), NYC)
    now = utc(2026, 3, 9, 3, 0)
    assert edition_week(now, NYC) == (2026, 10)
    assert edition_week(now, AMS) == (2026, 11)
    assert last_slot(now, ny) == utc(2026, 3, 2, 12, 0)
    assert next_slot(now, ny) == utc(2026, 3, 9, 11, 0)
    assert last_slot(now, MON_0700) == utc(2026, 3, 2, 6, 0)
    assert next_slot(now, MON_0700) == utc(2026, 3, 9, 6, 0)


def test_year_boundary_and_week_53() -> None:
    # 2026 has an ISO week 53: Monday 28 December 2026 to Sunday 3 January 2027.
    slot = slot_in_week(2026, 53, MON_0700)
    assert slot == utc(2026, 12, 28, 6, 0)
    assert edition_week(slot, AMS) == (2026, 53)
    sunday = DigestTime(6, time(7, 0), AMS)
    assert slot_in_week(2026, 53, sunday) == utc(2027, 1, 3, 6, 0)
    assert edition_week(utc(2027, 1, 3, 6, 0), AMS) == (2026, 53)
    new_year = utc(2027, 1, 1, 12, 0)
    assert last_slot(new_year, MON_0700) == slot
    assert next_slot(new_year, MON_0700) == utc(2027, 1, 4, 6, 0)
    assert edition_week(utc(2027, 1, 4, 6, 0), AMS) == (2027, 1)
    # Week 1 of 2026 starts in 2025.
    assert slot_in_week(2026, 1, MON_0700) == utc(2025, 12, 29, 6, 0)
    assert edition_week(utc(2025, 12, 29, 6, 0), AMS) == (2026, 1)
    with pytest.raises(ValueError):
        slot_in_week(2025, 53, MON_0700)  # 2025 has 52 weeks


def test_year_boundary_west_of_utc() -> None:
    # Monday 4 January 2027 03:00 UTC is Sunday 3 January 22:00 in New York: week 53.
    ny = DigestTime(0, time(7, 0), NYC)
    now = utc(2027, 1, 4, 3, 0)
    assert edition_week(now, NYC) == (2026, 53)
    due = digest_due(now, ny, timedelta(days=7), lambda week: False)
    assert due == DigestDue(Decision.SEND, utc(2026, 12, 28, 12, 0), (2026, 53))
    assert next_slot(now, ny) == utc(2027, 1, 4, 12, 0)


@pytest.mark.parametrize("zone", [AMS, NYC, "Asia/Kolkata", "Australia/Sydney"])
@pytest.mark.parametrize("at", [time(0, 0), time(2, 30), time(23, 59)])
def test_slots_are_consistent_all_year(zone: str, at: time) -> None:
    for weekday in (0, 6):
        when = DigestTime(weekday, at, zone)
        weeks = [(2026, w) for w in range(1, 54)] + [(2027, 1)]
        slots = [slot_in_week(year, week, when) for year, week in weeks]
        assert slots == sorted(slots)
        for (year, week), slot, following in zip(weeks, slots, slots[1:], strict=False):
            assert edition_week(slot, zone) == (year, week)
            assert last_slot(slot, when) == slot
            assert last_slot(following - timedelta(microseconds=1), when) == slot
            assert next_slot(slot, when) == following
            assert next_slot(slot - timedelta(microseconds=1), when) == slot


def test_naive_now_and_bad_digest_time_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        last_slot(datetime(2026, 3, 2, 6, 0), MON_0700)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_slot(datetime(2026, 3, 2, 6, 0), MON_0700)
    with pytest.raises(ValueError):
        DigestTime(7, time(7, 0), AMS)
    with pytest.raises(ValueError):
        DigestTime(0, time(7, 0, tzinfo=UTC), AMS)
    with pytest.raises(KeyError):  # ZoneInfoNotFoundError
        DigestTime(0, time(7, 0), "Mars/Olympus")


def test_now_in_another_offset_is_the_same_instant() -> None:
    now = datetime(2026, 3, 2, 7, 0, tzinfo=ZoneInfo(AMS))  # the slot, written locally
    assert last_slot(now, MON_0700) == utc(2026, 3, 2, 6, 0)


# --------------------------------------------------------------------------- digest_due


SLOT = utc(2026, 3, 2, 6, 0)  # Monday 07:00 CET, week 2026-W10
GRACE = timedelta(hours=24)


def never(week: tuple[int, int]) -> bool:
    return False


def test_send_within_grace() -> None:
    for age in (timedelta(0), timedelta(hours=1), timedelta(hours=23, minutes=59)):
        due = digest_due(SLOT + age, MON_0700, GRACE, never)
        assert due == DigestDue(Decision.SEND, SLOT, (2026, 10))


def test_exactly_at_the_grace_edge() -> None:
    assert digest_due(SLOT + GRACE, MON_0700, GRACE, never).decision is Decision.SEND
    late = digest_due(SLOT + GRACE + timedelta(microseconds=1), MON_0700, GRACE, never)
    assert late == DigestDue(Decision.LATE, SLOT, (2026, 10))


def test_late_beyond_grace_and_zero_grace() -> None:
    due = digest_due(SLOT + timedelta(days=3), MON_0700, GRACE, never)
    assert (due.decision, due.slot, due.week) == (Decision.LATE, SLOT, (2026, 10))
    assert digest_due(SLOT, MON_0700, timedelta(0), never).decision is Decision.SEND
    assert digest_due(SLOT + timedelta(seconds=1), MON_0700, timedelta(0), never).decision == "late"


def test_done_wins_and_is_asked_about_the_slots_week() -> None:
    asked: list[tuple[int, int]] = []

    def done(week: tuple[int, int]) -> bool:
        asked.append(week)
        return week == (2026, 10)

    assert digest_due(SLOT + timedelta(hours=1), MON_0700, GRACE, done).decision is Decision.DONE
    assert digest_due(SLOT + timedelta(days=5), MON_0700, GRACE, done).decision is Decision.DONE
    # Just before this week's slot the decision is about last week's (not done, too old).
    early = digest_due(SLOT - timedelta(seconds=1), MON_0700, GRACE, done)
    assert early == DigestDue(Decision.LATE, utc(2026, 2, 23, 6, 0), (2026, 9))
    assert asked == [(2026, 10), (2026, 10), (2026, 9)]


def test_due_in_dst_weeks() -> None:
    due = digest_due(utc(2026, 3, 29, 1, 45), SUN_0230, GRACE, never)
    assert due == DigestDue(Decision.SEND, utc(2026, 3, 29, 1, 30), (2026, 13))
    # The repeated 02:30 in October is not a second slot: still the same week's decision.
    due = digest_due(utc(2026, 10, 25, 1, 30), SUN_0230, GRACE, lambda week: week == (2026, 43))
    assert due == DigestDue(Decision.DONE, utc(2026, 10, 25, 0, 30), (2026, 43))


def test_decision_is_a_string_enum() -> None:
    assert [d.value for d in Decision] == ["send", "late", "done"]
    assert Decision.SEND == "send" and str(Decision.LATE) == "late"


NOW = utc(2026, 3, 4, 12, 0)


# --------------------------------------------------------------------------- next_wakeup


FLOOR = timedelta(seconds=1)
CEILING = timedelta(minutes=5)


def test_next_wakeup_earliest_candidate() -> None:
    candidates = [NOW + timedelta(minutes=3), None, NOW + timedelta(minutes=2)]
    assert next_wakeup(candidates, NOW, floor=FLOOR, ceiling=CEILING) == NOW + timedelta(minutes=2)
    generator = (NOW + timedelta(seconds=s) for s in (40, 30))
    assert next_wakeup(generator, NOW, floor=FLOOR, ceiling=CEILING) == NOW + timedelta(seconds=30)


def test_next_wakeup_floor_and_ceiling() -> None:
    past = [NOW - timedelta(hours=1), NOW + timedelta(minutes=1)]
    assert next_wakeup(past, NOW, floor=FLOOR, ceiling=CEILING) == NOW + FLOOR
    assert next_wakeup([NOW], NOW, floor=FLOOR, ceiling=CEILING) == NOW + FLOOR
    later = [NOW + timedelta(hours=2)]
    assert next_wakeup(later, NOW, floor=FLOOR, ceiling=CEILING) == NOW + CEILING
    assert next_wakeup([NOW + CEILING], NOW, floor=FLOOR, ceiling=CEILING) == NOW + CEILING
    assert next_wakeup([], NOW, floor=FLOOR, ceiling=CEILING) == NOW + CEILING
    assert next_wakeup([None, None], NOW, floor=FLOOR, ceiling=CEILING) == NOW + CEILING
    assert next_wakeup([NOW], NOW, floor=timedelta(0), ceiling=CEILING) == NOW
    with pytest.raises(ValueError):
        next_wakeup([], NOW, floor=CEILING, ceiling=FLOOR)
