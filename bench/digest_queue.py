"""Benchmark of the digest queue: ``trendwatch worker --queues digest`` processes
against the digest job in one process, on the same PostgreSQL data, in the same run.

The store is bench/digest.py's (``--articles`` generated articles imported and
processed against 50 watchlists, kept as a SQLite snapshot in ``--workdir``), copied
into a new PostgreSQL database for each measurement with the product's mover
(``migrate-db``'s :func:`pipeline.store.move.move_database`). The config has
``--subscribers`` readers in ``--audiences`` audiences and ``[smtp]`` pointing at
bench/smtp_servers.py's lean sink (a child process), its digest due on Friday 27
November 2026 00:00 UTC, the week the articles end.

* **one process** (the peer): ``digest_job.digest(due=True)`` as ``trendwatch digest
  --due`` runs it, as of one minute after the digest's moment: builds the editions,
  writes the archive, records and sends every delivery. Its CPU (this process) and
  PostgreSQL's.
* **workers** (``--workers``, default 1 and 2): that many ``trendwatch worker --queues
  digest --concurrency C --sends S`` started and registered first; then the periodic
  task's work is done once as of the same moment (:func:`defer_due_editions`: one build
  job per due audience) and the clock runs until every delivery is sent and no digest
  job is left. The workers' CPU (their process trees) and PostgreSQL's.

Printed per run and as medians over ``--runs``: messages per second, CPU ms per message
(client side and PostgreSQL), and the load average. Needs the PostgreSQL server of
"Run the tests" (``$TRENDWATCH_TEST_POSTGRES_URL`` and ``$TRENDWATCH_TEST_POSTGRES_DIR``).

    flock /tmp/tw-bench.lock python bench/digest_queue.py --workdir /tmp/tw-dq

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

_BENCH_DIR = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _BENCH_DIR:
    sys.path[0] = str(_BENCH_DIR.parent)

import psycopg  # noqa: E402

from bench.digest import NOW, SNAPSHOT, config_text, ensure_store  # noqa: E402
from bench.scale import (  # noqa: E402
    new_database,
    postmaster_pid,
    stop_workers,
    tree_cpu,
    workers_ready,
)
from bench.smtp_servers import Server  # noqa: E402
from pipeline.digest import job as digest_job  # noqa: E402
from pipeline.queue.app import make_app  # noqa: E402
from pipeline.queue.digest import defer_due_editions  # noqa: E402
from pipeline.settings import Settings, load_settings  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.store.connection import StoreBase  # noqa: E402
from pipeline.store.move import move_database, open_target  # noqa: E402

ROOT = _BENCH_DIR.parent
AT = NOW + timedelta(minutes=1)  # the digest (Friday 00:00 UTC) came due a minute ago
SCHEDULE = '\n[schedule]\ntimezone = "UTC"\ndigest = "fri 00:00"\n'


@dataclass
class Measured:
    messages: int
    wall_s: float
    client_cpu_s: float
    pg_cpu_s: float
    load: float

    @property
    def rate(self) -> float:
        return self.messages / self.wall_s

    def per_message_ms(self, cpu: float) -> float:
        return 1000 * cpu / max(1, self.messages)


def folder(workdir: Path, name: str, args: argparse.Namespace, port: int) -> tuple[Settings, str]:
    """A data folder whose config names a new PostgreSQL database holding the
    processed store; (settings, the database's URL)."""
    admin = os.environ["TRENDWATCH_TEST_POSTGRES_URL"]
    url = new_database(admin, f"tw_bench_dq_{secrets.token_hex(4)}")
    directory = workdir / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    text = config_text(directory, args.subscribers, args.audiences, port=port)
    text = f"database_url = {json.dumps(url)}\n" + text + SCHEDULE
    (directory / "trendwatch.toml").write_text(text, encoding="utf-8")
    with StoreBase(workdir / SNAPSHOT) as source, open_target(url) as target:
        move_database(source, target)
    with Store(url):  # the queue's tables, as a worker would make them
        pass
    return load_settings(directory / "trendwatch.toml"), url


def drop(url: str) -> None:
    admin = os.environ["TRENDWATCH_TEST_POSTGRES_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def one_process(workdir: Path, args: argparse.Namespace, port: int) -> Measured:
    settings, url = folder(workdir, "one", args, port)
    try:
        pm = postmaster_pid()
        pg0, cpu0, t0 = tree_cpu(pm), time.process_time(), time.perf_counter()
        with Store(url) as store:
            report = digest_job.digest(settings, store, now=AT, due=True)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        assert report.ok and report.sent, (report.failed[:3], len(report.sent))
        return Measured(len(report.sent), wall, cpu, tree_cpu(pm) - pg0, os.getloadavg()[0])
    finally:
        drop(url)


def queue_left(url: str) -> tuple[int, int]:
    """(deliveries sent, digest jobs waiting or running)."""
    with psycopg.connect(url, autocommit=True) as conn:
        sent = conn.execute("select count(*) from deliveries where status = 'sent'").fetchone()
        busy = conn.execute(
            "select count(*) from procrastinate_jobs where queue_name = 'digest'"
            " and status in ('todo', 'doing')"
        ).fetchone()
    assert sent is not None and busy is not None
    return int(sent[0]), int(busy[0])


def by_workers(
    workdir: Path, args: argparse.Namespace, port: int, count: int, expected: int
) -> Measured:
    settings, url = folder(workdir, f"workers{count}", args, port)
    log = workdir / f"workers{count}.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("TRENDWATCH_DATABASE_URL", None)
    code = "import sys; from pipeline.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", code, "--config", str(settings.path), "worker"]
    cmd += ["--queues", "digest", "--concurrency", str(args.concurrency)]
    cmd += ["--sends", str(args.sends), "--poll", "0.2", "--log-level", "warning"]
    with open(log, "ab") as out:
        procs = [subprocess.Popen(cmd, env=env, stdout=out, stderr=out) for _ in range(count)]
    try:
        workers_ready(url, count)
        time.sleep(1.0)  # their start-up (the periodic task's first, late tick) is over
        pm, pids = postmaster_pid(), [p.pid for p in procs]
        pg0, cpu0, t0 = tree_cpu(pm), sum(tree_cpu(p) for p in pids), time.perf_counter()

        async def defer() -> None:
            app = make_app(url)
            async with app.open_async():
                await defer_due_editions(app, settings, AT)

        asyncio.run(defer())
        end = time.monotonic() + args.timeout
        while queue_left(url) != (expected, 0):
            if time.monotonic() > end or any(p.poll() is not None for p in procs):
                print(log.read_text()[-3000:], file=sys.stderr)
                raise SystemExit(f"the workers did not send {expected} in time: {queue_left(url)}")
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        cpu = sum(tree_cpu(p) for p in pids) - cpu0
        return Measured(expected, wall, cpu, tree_cpu(pm) - pg0, os.getloadavg()[0])
    finally:
        stop_workers(procs, log)
        drop(url)


def show(name: str, m: Measured) -> str:
    return (
        f"{name:>12}: {m.messages} messages in {m.wall_s:6.1f} s = {m.rate:6.1f}/s;"
        f" CPU per message {m.per_message_ms(m.client_cpu_s):5.1f} ms client,"
        f" {m.per_message_ms(m.pg_cpu_s):5.1f} ms PostgreSQL; load {m.load:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=4000)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--audiences", type=int, default=100)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--sends", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    if "TRENDWATCH_TEST_POSTGRES_URL" not in os.environ:
        raise SystemExit('needs a PostgreSQL server: eval "$(.ci/postgres.sh start)"')
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tw-digest-queue-"))
    workdir.mkdir(parents=True, exist_ok=True)
    info = ensure_store(workdir, args.articles)
    print(f"store: {info['articles']} articles, {info['matches']} matches", flush=True)
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    results: dict[str, list[Measured]] = {}
    with Server() as sink:
        for run in range(1, args.runs + 1):
            peer = one_process(workdir, args, sink.port)
            results.setdefault("one process", []).append(peer)
            print(f"run {run}\n{show('one process', peer)}", flush=True)
            for count in counts:
                name = f"{count} worker{'s' if count > 1 else ''}"
                m = by_workers(workdir, args, sink.port, count, peer.messages)
                results.setdefault(name, []).append(m)
                print(show(name, m), flush=True)
    print(f"medians of {args.runs} (concurrency {args.concurrency}, sends {args.sends}):")
    for name, ms in results.items():
        print(
            f"{name:>12}: {statistics.median(m.rate for m in ms):6.1f} messages/s"
            f" ({', '.join(f'{m.rate:.1f}' for m in ms)}); CPU per message"
            f" {statistics.median(m.per_message_ms(m.client_cpu_s) for m in ms):5.1f} ms client,"
            f" {statistics.median(m.per_message_ms(m.pg_cpu_s) for m in ms):5.1f} ms PostgreSQL;"
            f" load {min(m.load for m in ms):.1f}-{max(m.load for m in ms):.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
