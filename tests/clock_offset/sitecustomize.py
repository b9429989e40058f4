"""Moves the wall clock of a ``python`` child of the tests, like the test process's.

Python imports ``sitecustomize`` at start-up from its path; ``tests_support.child_env``
puts this folder first on a child's PYTHONPATH when ``TW_TEST_CLOCK_OFFSET_DAYS`` is
set (see ``tests_support.clock_offset``). time-machine moves ``time.time`` and
``datetime.now`` only: monotonic clocks, which timed waits use, keep going as they are.
"""

from __future__ import annotations

import os

_value = os.environ.get("TW_TEST_CLOCK_OFFSET_DAYS", "").strip()
if _value:
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(days=float(_value)), tick=True).start()
