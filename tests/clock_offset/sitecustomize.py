"""Moves the wall clock of a ``python`` child of the tests, like the test process's;
under libfaketime, mends ``time.sleep``.

Python imports ``sitecustomize`` at start-up from its path; ``tests_support.child_env``
puts this folder first on a child's PYTHONPATH when ``TW_TEST_CLOCK_OFFSET_DAYS`` is
set (see ``tests_support.clock_offset``). time-machine moves ``time.time`` and
``datetime.now`` only: monotonic clocks, which timed waits use, keep going as they are.

Under ``faketime -f +365d pytest`` the tests run with libfaketime's monotonic clock left
alone (``tests/conftest.py`` starts pytest again with ``FAKETIME_DONT_FAKE_MONOTONIC=1``
and this folder on the path). libfaketime 0.9.10 then still turns the absolute monotonic
deadline of ``clock_nanosleep``, which ``time.sleep`` uses, into an invalid one (EINVAL):
``time.sleep`` here waits in ``select`` instead, a relative timeout it leaves alone.
"""

from __future__ import annotations

import os
import select
import time

_value = os.environ.get("TW_TEST_CLOCK_OFFSET_DAYS", "").strip()
if _value:
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(days=float(_value)), tick=True).start()


def _sleep(seconds: float) -> None:
    """``time.sleep`` through ``select`` (retried after signals with the time left)."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


if "faketime" in os.environ.get("LD_PRELOAD", "") and (
    os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1"
):
    time.sleep = _sleep
