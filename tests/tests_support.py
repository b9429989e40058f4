"""Importable helpers for tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

# ``TW_TEST_CLOCK_OFFSET_DAYS=365 pytest`` runs the tests with the wall clock a year
# ahead (-30: a month back): time-machine in the test process (conftest) and in the
# ``python`` children started with child_env (tests/clock_offset/sitecustomize.py).
# Unlike libfaketime it leaves the monotonic clock alone, so timed waits still work.
CLOCK_OFFSET_ENV = "TW_TEST_CLOCK_OFFSET_DAYS"
CLOCK_OFFSET_DIR = REPO / "tests" / "clock_offset"


def clock_offset() -> timedelta | None:
    """The wall-clock offset asked for with TW_TEST_CLOCK_OFFSET_DAYS, if any."""
    value = os.environ.get(CLOCK_OFFSET_ENV, "").strip()
    return timedelta(days=float(value)) if value else None


FAKETIME_MONOTONIC_ENV = "FAKETIME_DONT_FAKE_MONOTONIC"


def under_faketime(environ: Mapping[str, str]) -> bool:
    """Whether libfaketime is preloaded: children then need ``CLOCK_OFFSET_DIR`` too
    (its sitecustomize mends ``time.sleep`` there)."""
    return "faketime" in environ.get("LD_PRELOAD", "")


def faketime_moves_monotonic(environ: Mapping[str, str]) -> bool:
    """Whether this process runs under libfaketime with its monotonic clock faked too
    (its default): libfaketime is preloaded and ``FAKETIME_DONT_FAKE_MONOTONIC`` is not
    ``1``. libfaketime 0.9.10 does not wrap ``sem_clockwait``, which Python uses for
    every timed wait (``Event.wait(timeout)``, ``queue.get(timeout=...)``): with the
    monotonic clock moved, such a wait never ends or ends at once. The monotonic clock
    has no date; the wall clock is what ``faketime -f +365d`` is there to move."""
    return under_faketime(environ) and environ.get(FAKETIME_MONOTONIC_ENV) != "1"


def with_clock_offset_dir(pythonpath: str | None) -> str:
    """``pythonpath`` with ``CLOCK_OFFSET_DIR`` first (once), so that Python children
    load its sitecustomize."""
    parts = [p for p in (pythonpath or "").split(os.pathsep) if p]
    return os.pathsep.join(
        [str(CLOCK_OFFSET_DIR), *(p for p in parts if p != str(CLOCK_OFFSET_DIR))]
    )


def travel(offset: timedelta) -> Any:
    """A started time-machine traveller: the wall clock ``offset`` away, ticking."""
    import time_machine

    traveller = time_machine.travel(datetime.now(UTC) + offset, tick=True)
    traveller.start()
    return traveller


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a ``python`` child of a test: this checkout on its import
    path (first, so the child runs this code whatever is installed), and under a clock
    offset the folder whose sitecustomize moves the child's clock too."""
    path = [str(REPO)]
    if clock_offset() is not None or under_faketime(os.environ):
        path.insert(0, str(CLOCK_OFFSET_DIR))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), **extra}


def trendwatch(
    *args: str, cwd: Path, columns: int = 200, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``trendwatch ARGS`` as a user runs it: a child process (``python -m pipeline``,
    see child_env) in ``cwd``, ``columns`` wide, without colour and without
    $TRENDWATCH_CONFIG; its output captured as text, in English unless ``--lang`` or
    the config says otherwise (whatever the locale of the machine running the tests)."""
    env = child_env(COLUMNS=str(columns), NO_COLOR="1", LC_ALL="C.UTF-8")
    env.pop("TRENDWATCH_CONFIG", None)
    env.pop("TRENDWATCH_LANG", None)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
