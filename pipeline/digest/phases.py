"""Where a digest run's time goes: wall-clock and CPU seconds per phase (building the
editions, the archive, and per message rendering, the MIME message, the deliveries
table and the transport), kept in the run's report for the benchmark and the log.

CPU time is the process's (``time.process_time``): on a shared machine it varies far
less than the wall time, which includes waiting for the CPU and for the mail server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Phases:
    """Seconds per phase, wall-clock and CPU, summed over the run."""

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timing(self, name: str) -> Iterator[None]:
        """Add the time the ``with`` block takes to phase ``name``."""
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - wall, time.process_time() - cpu)

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall[name] = self.wall.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu

    def summary(self) -> str:
        """``build 1.2 s (CPU 1.0), archive ...`` in the order the phases came."""
        return ", ".join(
            f"{name} {self.wall[name]:.1f} s (CPU {self.cpu[name]:.1f})" for name in self.wall
        )
