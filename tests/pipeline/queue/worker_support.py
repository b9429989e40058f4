"""``trendwatch worker`` children for the queue's tests: started on a config, their
log kept, waited for, stopped by SIGTERM or killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests_support import child_env


class Worker:
    """One ``trendwatch worker`` child process and its log file."""

    def __init__(
        self,
        config: Path,
        log: Path,
        database_url: str,
        *extra: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.log = log
        env = child_env(NO_COLOR="1", TRENDWATCH_DATABASE_URL=database_url, **(env or {}))
        env.pop("TRENDWATCH_CONFIG", None)
        with log.with_suffix(".stderr").open("w") as err:
            self.child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pipeline",
                    "--config",
                    str(config),
                    "worker",
                    "--log-file",
                    str(log),
                    *extra,
                ],
                cwd=config.parent,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def text(self) -> str:
        paths = (self.log, self.log.with_suffix(".stderr"))
        parts = [p.read_text("utf-8") if p.exists() else "" for p in paths]
        return "\n".join(parts) if all(p for p in parts) else "".join(parts)

    def check_alive(self, what: str) -> None:
        if self.child.poll() is not None:
            pytest.fail(f"worker exited {self.child.returncode} before {what}:\n{self.text()}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, and its exit status once it stopped."""
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)
        try:
            return self.child.wait(timeout)
        except subprocess.TimeoutExpired:
            self.child.kill()
            pytest.fail(f"worker did not stop within {timeout} s of SIGTERM:\n{self.text()}")

    def kill(self) -> None:
        """``kill -9``: no time to finish anything."""
        self.child.kill()
        self.child.wait(10)


def wait_until(ready: Callable[[], bool], what: str, workers: list[Worker], timeout: float = 90):
    """Poll ``ready`` until true; fail (with the workers' logs) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not ready():
        for w in workers:
            w.check_alive(what)
        if time.monotonic() > deadline:
            logs = "\n---\n".join(w.text()[-3000:] for w in workers)
            pytest.fail(f"never got to {what} within {timeout} s:\n{logs}")
        time.sleep(0.1)
