"""Spreading sources: overdue ones after a restart (pipeline.crawl.decide.jitter and
spread_overdue, with a fixed clock; moved here from the scheduler's tests), and one
host's sources within a crawl (spread_hosts)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.crawl.decide import jitter, spread_hosts, spread_overdue, spread_width

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def test_jitter_is_deterministic_and_uses_sha256() -> None:
    window = timedelta(hours=1)
    assert jitter("Werk en Leven", window) == jitter("Werk en Leven", window)
    # Pinned: the same in every process (hash() would be salted per process).
    assert jitter("Werk en Leven", window) == timedelta(minutes=24, seconds=3, microseconds=982387)
    digest = hashlib.sha256(b"HR Praktijk").digest()
    expected = int.from_bytes(digest, "big") % 3_600_000_000
    assert jitter("HR Praktijk", window) == timedelta(microseconds=expected)


def test_jitter_within_window_and_spread() -> None:
    window = timedelta(minutes=10)
    offsets = [jitter(f"source-{i}", window) for i in range(200)]
    assert all(timedelta(0) <= offset < window for offset in offsets)
    assert len(set(offsets)) == 200
    # Spread over the window, not bunched: every minute of the ten gets some.
    assert {offset // timedelta(minutes=1) for offset in offsets} == set(range(10))
    tiny = timedelta(microseconds=1)
    assert jitter("x", tiny) == timedelta(0)
    assert jitter("x", timedelta(seconds=2)) < timedelta(seconds=2)


@pytest.mark.parametrize("window", [timedelta(0), timedelta(seconds=-5)])
def test_jitter_without_window_is_zero(window: timedelta) -> None:
    assert jitter("Werk en Leven", window) == timedelta(0)


def test_spread_overdue_moves_only_overdue_sources() -> None:
    window = timedelta(minutes=15)
    polls = {
        "future": NOW + timedelta(seconds=1),
        "far-future": NOW + timedelta(days=2),
        "overdue": NOW - timedelta(days=3),
        "exactly-now": NOW,
        "never": None,
    }
    spread = spread_overdue(polls, NOW, window)
    assert set(spread) == {"overdue", "exactly-now", "never"}
    for name, when in spread.items():
        assert when == NOW + jitter(name, window)
        assert NOW <= when < NOW + window
    assert len(set(spread.values())) == 3
    assert spread_overdue({}, NOW, window) == {}
    assert spread_overdue({"future": NOW + timedelta(hours=1)}, NOW, window) == {}


def test_spread_overdue_without_window_polls_now() -> None:
    polls = {"a": NOW - timedelta(hours=1), "b": None, "c": NOW + timedelta(minutes=1)}
    assert spread_overdue(polls, NOW, timedelta(0)) == {"a": NOW, "b": NOW}
    assert spread_overdue(polls, NOW, timedelta(seconds=-1)) == {"a": NOW, "b": NOW}


# --- the order of a crawl: one host's sources apart (decide.spread_hosts) ---------------


def test_one_hosts_sources_are_width_apart_in_listed_order() -> None:
    hosts = ["a"] * 4 + ["b"] * 3 + ["c", "d"]
    assert spread_hosts(hosts, 2) == [0, 4, 1, 5, 2, 6, 3, 7, 8]
    # with room for every host, each takes its turn; within a host the order is kept
    assert spread_hosts(hosts, 10) == [0, 4, 7, 8, 1, 5, 2, 6, 3]


def test_spread_keeps_every_source_once() -> None:
    hosts = [f"h{i % 7}" for i in range(100)] + ["solo"]
    for width in (0, 1, 3, 32, 500):
        order = spread_hosts(hosts, width)
        assert sorted(order) == list(range(len(hosts)))
        for host in set(hosts):  # each host's sources in their listed order
            mine = [i for i in order if hosts[i] == host]
            assert mine == sorted(mine)


def test_spread_gap_between_a_hosts_sources() -> None:
    # 250 hosts of 4 sources each, listed host by host: every host's next source comes
    # 31 others later (32 hosts take turns), never right after its last one
    hosts = [f"h{i}" for i in range(250) for _ in range(4)]
    order = spread_hosts(hosts, 32)
    position = {index: place for place, index in enumerate(order)}
    gaps = {
        position[i + 1] - position[i] for i in range(len(hosts) - 1) if hosts[i] == hosts[i + 1]
    }
    assert min(gaps) >= 2 and max(gaps) <= 33
    assert spread_hosts([], 32) == []
    assert spread_hosts(["a", "a", "a"], 32) == [0, 1, 2]  # one host: nothing to spread


def test_a_fixed_per_host_delay_spreads_a_hosts_sources_over_every_host() -> None:
    hosts = [f"h{i % 250}" for i in range(1000)]
    assert spread_width(64, 0.0, hosts) == 64  # the adaptive delay: one wave apart
    assert spread_width(64, 1.0, hosts) == 250  # a fixed second: as far as can be
    assert spread_width(64, 1.0, ["a", "b"]) == 64
    assert spread_width(0, 0.0, []) == 1
    order = spread_hosts(hosts, spread_width(64, 1.0, hosts))
    first = order.index(0)  # h0's first source
    assert order.index(250) - first == 250  # its next one, after every other host's
