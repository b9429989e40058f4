"""Benchmark of the digest build job's deferral of delivery jobs: one edition's
``--readers`` delivery jobs deferred one statement per reader (as the build job did
before: :func:`pipeline.queue.digest.defer_delivery` in a loop, the peer) and in bulk
(:func:`pipeline.queue.delivery_jobs.defer_deliveries`), each on a new PostgreSQL
database, in the same run. Two phases each:

* **first:** every reader gets a job (the build job's first run);
* **again:** every reader has a job waiting (the build job's run each minute while the
  digest is due): one by one, every insert is refused by the queueing lock; in bulk,
  one query finds them all.

Printed per run and as medians over ``--runs``: wall seconds, this process's CPU and
PostgreSQL's (its server's process tree), and the load average. Needs the PostgreSQL
server of "Run the tests" (``$TRENDWATCH_TEST_POSTGRES_URL`` and
``$TRENDWATCH_TEST_POSTGRES_DIR``)::

    flock /tmp/tw-bench.lock python bench/delivery_deferral.py --readers 10000

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _BENCH_DIR:
    sys.path[0] = str(_BENCH_DIR.parent)

import procrastinate  # noqa: E402
import psycopg  # noqa: E402

from bench.scale import new_database, postmaster_pid, tree_cpu  # noqa: E402
from pipeline.queue.app import make_app  # noqa: E402
from pipeline.queue.delivery_jobs import defer_deliveries  # noqa: E402
from pipeline.queue.digest import DELIVER, defer_delivery  # noqa: E402
from pipeline.store import Store  # noqa: E402

KEY = "2026-W48/nl-bench"


@dataclass(frozen=True)
class Measured:
    wall_s: float
    client_cpu_s: float
    pg_cpu_s: float
    load: float

    def show(self) -> str:
        return (
            f"{self.wall_s:7.2f} s wall, CPU {self.client_cpu_s:6.2f} s client,"
            f" {self.pg_cpu_s:6.2f} s PostgreSQL; load {self.load:.1f}"
        )


async def one_by_one(app: procrastinate.App, wanted: list[tuple[str, str]]) -> int:
    """The peer: one deferral (one statement) per reader; how many were deferred."""
    return sum([await defer_delivery(app, key, email) for key, email in wanted])


async def bulk(app: procrastinate.App, wanted: list[tuple[str, str]]) -> int:
    return (await defer_deliveries(app, app.tasks[DELIVER], wanted)).deferred


def measure(
    way: Callable[[procrastinate.App, list[tuple[str, str]]], Awaitable[int]], readers: int
) -> tuple[Measured, Measured]:
    """(first, again) of ``way`` on a new database."""
    admin = os.environ["TRENDWATCH_TEST_POSTGRES_URL"]
    url = new_database(admin, f"tw_bench_dd_{secrets.token_hex(4)}")
    wanted = [(KEY, f"reader{i}@example.com") for i in range(readers)]
    try:
        with Store(url):  # the queue's tables
            pass

        async def phases() -> list[Measured]:
            app = make_app(url)
            out = []
            async with app.open_async():
                for expected in (readers, 0):
                    pm = postmaster_pid()
                    pg0, cpu0, t0 = tree_cpu(pm), time.process_time(), time.perf_counter()
                    deferred = await way(app, wanted)
                    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
                    assert deferred == expected, (deferred, expected)
                    out.append(Measured(wall, cpu, tree_cpu(pm) - pg0, os.getloadavg()[0]))
            return out

        first, again = asyncio.run(phases())
        return first, again
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ways", default="one by one,bulk", help="comma-separated")
    args = parser.parse_args(argv)
    if "TRENDWATCH_TEST_POSTGRES_URL" not in os.environ:
        raise SystemExit('needs a PostgreSQL server: eval "$(.ci/postgres.sh start)"')
    ways = {"one by one": one_by_one, "bulk": bulk}
    chosen = [w.strip() for w in args.ways.split(",") if w.strip()]
    results: dict[tuple[str, str], list[Measured]] = {}
    for run in range(1, args.runs + 1):
        print(f"run {run} ({args.readers} readers)", flush=True)
        for name in chosen:
            for phase, m in zip(("first", "again"), measure(ways[name], args.readers), strict=True):
                results.setdefault((name, phase), []).append(m)
                print(f"{name:>10} {phase:>5}: {m.show()}", flush=True)
    print(f"medians of {args.runs} ({args.readers} readers):")
    for (name, phase), ms in results.items():
        print(
            f"{name:>10} {phase:>5}: {statistics.median(m.wall_s for m in ms):7.2f} s wall"
            f" ({', '.join(f'{m.wall_s:.2f}' for m in ms)}), CPU"
            f" {statistics.median(m.client_cpu_s for m in ms):6.2f} s client,"
            f" {statistics.median(m.pg_cpu_s for m in ms):6.2f} s PostgreSQL;"
            f" load {min(m.load for m in ms):.1f}-{max(m.load for m in ms):.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
