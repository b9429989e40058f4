"""The web process of ``trendwatch run``: with ``[web] listen`` set, ``run`` serves the
web application in a child process (``python -m pipeline --config <file> serve``),
logging where ``run`` logs, started again when it ends unexpectedly (after a pause
that doubles up to :data:`MAX_PAUSE`), and stopped when ``run`` stops.

Imports neither :mod:`web` nor uvicorn: the child does.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.settings import Settings

log = logging.getLogger("trendwatch.run")

STOP_WAIT = 10.0  # seconds the web process gets to finish after SIGTERM
FIRST_PAUSE = 1.0  # seconds before the first restart; doubled after each quick end
MAX_PAUSE = 60.0
STEADY = 60.0  # a child that ran this long before it ended starts the pauses afresh


def web_command(config: Path, log_file: Path | None = None, level: str = "info") -> list[str]:
    """The command ``run`` starts: this Python, this trendwatch, the same config; the
    log to ``run``'s file when it has one."""
    command = [sys.executable, "-m", "pipeline", "--config", str(config), "serve"]
    command += ["--parent", str(os.getpid()), "--log-level", level]
    if log_file is not None:
        command += ["--log-file", str(log_file)]
    return command


def next_pause(pause: float, ran_for: float) -> float:
    """The pause before the restart after this one: doubled after a quick end, back to
    :data:`FIRST_PAUSE` after a child that ran steadily (pure)."""
    if ran_for >= STEADY:
        return FIRST_PAUSE
    return min(MAX_PAUSE, pause * 2)


class WebChild:
    """The child process and the thread that starts it again when it ends on its own."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.process = self._start()
        self.restarts = 0
        self.watcher = threading.Thread(target=self._watch, name="web-child", daemon=True)
        self.watcher.start()

    def _start(self) -> subprocess.Popen[bytes]:
        root = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, path) if p)}
        return subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL)

    def _watch(self) -> None:
        pause = FIRST_PAUSE
        while not self.stopping.is_set():
            started = time.monotonic()
            status = self.process.wait()
            if self.stopping.is_set():
                return
            ran_for = time.monotonic() - started
            log.error(
                "web: exited with status %s after %.0f s; starting it again in %.0f s",
                status,
                ran_for,
                pause,
            )
            if self.stopping.wait(pause):
                return
            with self.lock:
                if self.stopping.is_set():
                    return
                self.process = self._start()
                self.restarts += 1
            log.info("web: started again (pid %d)", self.process.pid)
            pause = next_pause(pause, ran_for)

    def stop(self) -> int:
        """Stop the child for good: SIGTERM, :data:`STOP_WAIT` seconds, then SIGKILL."""
        with self.lock:
            self.stopping.set()
        status = stop_process(self.process)
        self.watcher.join(STOP_WAIT)
        return status


@contextmanager
def web_process(
    settings: Settings, log_file: Path | None = None, level: str = "info"
) -> Iterator[WebChild | None]:
    """While in the block, ``trendwatch serve`` runs in a child process when
    ``[web] listen`` is set (None otherwise), started again if it ends on its own; on
    leaving, it gets SIGTERM and :data:`STOP_WAIT` seconds, then SIGKILL."""
    if settings.web.listen is None:
        yield None
        return
    child = WebChild(web_command(settings.path, log_file, level))
    log.info("web: serving on %s (pid %d)", settings.web.listen, child.process.pid)
    try:
        yield child
    finally:
        child.stop()


def stop_process(child: subprocess.Popen[bytes]) -> int:
    """SIGTERM, :data:`STOP_WAIT` seconds, then SIGKILL; the child's exit status."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            log.warning("web: did not stop within %.0f s; killed", STOP_WAIT)
            child.kill()
            child.wait()
    if child.returncode not in (0, -signal.SIGTERM):
        log.warning("web: exited with status %s", child.returncode)
    else:
        log.info("web: stopped")
    return child.returncode
