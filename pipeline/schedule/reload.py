"""Asking a running ``trendwatch run`` to read its config again: SIGHUP to the process
that holds the data folder's run lock (:func:`pipeline.schedule.locks.run_lock`).

Why a signal and not ``run --watch-config``: it works with ``run`` as it is started by
default, takes effect at once (no polling) and is what the admin already does by hand
(``systemctl reload``). The pid is only trusted while the lock is held (the kernel
drops an flock with its process, so a stale file names nobody), and, where ``/proc``
shows it, only when that process runs trendwatch: a pid from another PID namespace
(a container sharing the data folder) is never signalled by mistake. When the signal
cannot be sent (another user's process), the caller says so and the admin reloads by
hand.
"""

from __future__ import annotations

import fcntl
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from pipeline.schedule.locks import RUN_LOCK

PROC = Path("/proc")


@dataclass(frozen=True)
class ReloadRequest:
    """What became of the request: ``pid`` is the run that holds the data folder
    (None: no run does), ``sent`` whether it got SIGHUP, ``problem`` why not."""

    pid: int | None
    sent: bool
    problem: str = ""


def run_pid(data_dir: Path) -> int | None:
    """The pid of the ``trendwatch run`` holding ``data_dir`` now (None: nobody)."""
    try:
        with open(data_dir / RUN_LOCK) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _pid_of(handle.read())
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return None
    return None


def _pid_of(text: str) -> int | None:
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "pid" and value.strip().isdigit():
            return int(value)
    return None


def _runs_trendwatch(pid: int, proc: Path) -> bool:
    """Whether ``pid`` is a trendwatch process (True where /proc cannot tell)."""
    if not proc.is_dir():
        return True
    try:
        command = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False  # /proc exists but knows no such process here
    return b"pipeline" in command or b"trendwatch" in command


def ask_run_to_reload(data_dir: Path, *, proc: Path = PROC) -> ReloadRequest:
    """SIGHUP to the ``trendwatch run`` of ``data_dir``, if one runs."""
    pid = run_pid(data_dir)
    if pid is None:
        return ReloadRequest(None, False)
    if not _runs_trendwatch(pid, proc):
        return ReloadRequest(pid, False, "the process holding the run lock is not trendwatch")
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return ReloadRequest(None, False)  # it stopped meanwhile
    except PermissionError:
        return ReloadRequest(pid, False, "not allowed to signal it (another user's process)")
    return ReloadRequest(pid, True)
