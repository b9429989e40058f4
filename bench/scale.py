"""Benchmark of scaling out: the crawl and process stages with 1, 2 and 4 ``trendwatch
worker`` processes against PostgreSQL, beside the embedded crawl (``pipeline.crawl.job.crawl``,
what ``trendwatch run``'s crawl job and ``trendwatch crawl`` call) on SQLite and on the
same PostgreSQL, all on the same local feeds.

The feeds are those of ``bench/crawl.py`` (``bench/feed_server.py``): ``--feeds``
(default 2,000) of ``--entries`` entries (20), ``--per-host`` feeds a host (4), answered
``--latency`` seconds after the request (0.1). PostgreSQL is the server of
``$TRENDWATCH_TEST_POSTGRES_URL`` (``eval "$(.ci/postgres.sh start)"``); each run gets a
new database in it.

For each number of workers, the workers (``--concurrency`` jobs each, default 4) are
started and idle, then one fetch job per source is deferred (the scheduler's own
``defer_due``) and timed until the queue is empty:

* ``fresh``: every feed fetched, parsed and stored: feeds/min, articles/s;
* ``304``: every source made due again; each job revalidates its feed (304 Not
  Modified to the stored ETag), as most polls of a real source do;
* ``empty``: the same jobs deferred again when no source is due: each job claims,
  reads its source, finds it not due and finishes. Its time per job is the queue's
  overhead per job (claim, locks, finish, one source read), without the fetch.

Each figure is the median of ``--runs`` runs (3). Per phase: wall time, CPU seconds
of the workers (their processes and children) and of PostgreSQL (the postmaster, its
live backends and the reaped ones), per job; the transactions and rows PostgreSQL
committed per job (``pg_stat_database``); the most connections to the database seen
while the workers ran; the load average. Run it under the bench lock from the repository root::

    flock /tmp/tw-bench.lock python bench/scale.py                 # 2,000 feeds, 3 runs
    flock /tmp/tw-bench.lock python bench/scale.py --feeds 10000 --workers 4 \
        --runs 1 --no-embedded --phases fresh                      # one 10,000-feed run

The process stage (``--stages``, both by default) is ``bench/scale_process.py``'s: the
``--articles`` of ``bench/nlp.py`` processed by ``trendwatch process`` on SQLite (what
``trendwatch run``'s process job calls) and by the same numbers of ``trendwatch worker
--queues process``, its medians over ``--runs``.

Only 127.0.0.0/8 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

import psycopg  # noqa: E402

from bench.feed_server import FeedServer  # noqa: E402
from pipeline.crawl import job as crawl_job  # noqa: E402
from pipeline.queue import crawl as queue_crawl  # noqa: E402
from pipeline.queue.app import ensure_schema, make_app  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.store import Store  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
FETCH = queue_crawl.FETCH


def proc_cpu(pid: int, children: bool = True) -> float:
    """CPU seconds of process ``pid`` (with its reaped children's when asked)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def descendants(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid``, its live descendants and every child they reaped."""
    return sum(proc_cpu(p) for p in descendants(pid))


def postmaster_pid() -> int:
    directory = os.environ.get("TRENDWATCH_TEST_POSTGRES_DIR", "")
    with open(Path(directory) / "data" / "postmaster.pid", encoding="ascii") as f:
        return int(f.readline())


@dataclass
class Phase:
    """One timed phase: wall seconds, CPU seconds, PostgreSQL's counts, load."""

    jobs: int
    wall_s: float
    worker_cpu_s: float
    pg_cpu_s: float
    commits: int
    rows: int
    load: float
    articles: int = 0
    connections: int = 0  # the most connections to the database seen (workers' phases)


@dataclass
class Results:
    phases: dict[str, list[Phase]] = field(default_factory=dict)

    def add(self, name: str, phase: Phase) -> None:
        self.phases.setdefault(name, []).append(phase)


def pg_counts(admin_url: str, dbname: str) -> tuple[int, int]:
    """Transactions committed and rows written in ``dbname`` so far."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "select xact_commit, tup_inserted + tup_updated + tup_deleted"
            " from pg_stat_database where datname = %s",
            (dbname,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def new_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def write_config(directory: Path, server: FeedServer, url: str | None) -> Path:
    lines = ['data_dir = "data"', "allow_private_networks = true"]
    if url:
        lines.append(f"database_url = {json.dumps(url)}")
    for title, feed_url in server.urls:
        lines += ["", "[[sources]]", f"name = {json.dumps(title)}", f"url = {json.dumps(feed_url)}"]
    path = directory / "trendwatch.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def defer_all(settings: object, url: str) -> tuple[int, float]:
    """Defer a fetch job per configured source as the scheduler does; (jobs, seconds)."""

    async def go() -> int:
        app = make_app(url)
        async with app.open_async():
            done = await queue_crawl.defer_due(app, settings, datetime.now(UTC))  # type: ignore[arg-type]
        return done.deferred

    started = time.perf_counter()
    jobs = asyncio.run(go())
    return jobs, time.perf_counter() - started


def defer_empty(url: str, names: list[str]) -> float:
    """Defer a fetch job per source with ``deferred_at`` now, no source being due."""

    async def go() -> None:
        from pipeline.queue.decide import source_lock

        app = make_app(url)
        async with app.open_async():
            fetch = app.tasks[FETCH]
            now = datetime.now(UTC).isoformat()
            for name in names:
                job = fetch.configure(lock=f"empty:{name}", queueing_lock=source_lock(name))
                await job.defer_async(name=name, deferred_at=now)

    started = time.perf_counter()
    asyncio.run(go())
    return time.perf_counter() - started


def waiting(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select count(*) from procrastinate_jobs where task_name = %s"
            " and status in ('todo', 'doing')",
            (FETCH,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def connections(url: str) -> int:
    """The connections to the database now, this one left out."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database()"
            " and pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def drain(url: str, timeout: float) -> int:
    """Wait until no fetch job waits or runs; the most connections seen meanwhile."""
    end = time.monotonic() + timeout
    peak = 0
    while waiting(url):
        peak = max(peak, connections(url))
        if time.monotonic() > end:
            raise SystemExit("the queue did not drain in time")
        time.sleep(0.1)
    return peak


def start_workers(config: Path, count: int, concurrency: int, log: Path) -> list[subprocess.Popen]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("TRENDWATCH_DATABASE_URL", None)
    code = "import sys; from pipeline.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", code, "--config", str(config), "worker", "--queues", "crawl"]
    cmd += ["--concurrency", str(concurrency), "--poll", "0.2", "--log-level", "warning"]
    procs = []
    for _ in range(count):
        with open(log, "ab") as out:
            procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=out))
    return procs


def workers_ready(url: str, count: int, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute("select count(*) from procrastinate_workers").fetchone()
            if row and row[0] >= count:
                return
        except psycopg.Error:
            pass
        time.sleep(0.2)
    raise SystemExit("the workers did not start")


def stop_workers(procs: list[subprocess.Popen], log: Path) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
    if any(p.returncode not in (0, -15) for p in procs):
        print(log.read_text()[-3000:], file=sys.stderr)


def drained_by_workers(
    config: Path, args: argparse.Namespace, count: int, url: str, db: str, jobs: int
) -> Phase:
    """Start ``count`` workers on the jobs waiting; time them from ready to drained."""
    admin = os.environ["TRENDWATCH_TEST_POSTGRES_URL"]
    log = config.parent / "workers.log"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from procrastinate_workers")
    procs = start_workers(config, count, args.concurrency, log)
    try:
        workers_ready(url, count)
        pids = [p.pid for p in procs]
        pm = postmaster_pid()
        cpu0 = sum(tree_cpu(p) for p in pids)
        pg0 = tree_cpu(pm)
        c0, r0 = pg_counts(admin, db)
        started = time.perf_counter()
        peak = drain(url, args.timeout)
        wall = time.perf_counter() - started
        worker_cpu = sum(tree_cpu(p) for p in pids) - cpu0
    finally:
        stop_workers(procs, log)
    # after the workers are gone: their backends' statistics are flushed on exit, and
    # the postmaster has reaped them (their CPU is in its children's time)
    pg_cpu = tree_cpu(pm) - pg0
    c1, r1 = pg_counts(admin, db)
    phase = Phase(jobs, wall, worker_cpu, pg_cpu, c1 - c0, r1 - r0, os.getloadavg()[0])
    phase.connections = peak
    return phase


def run_workers(server: FeedServer, args: argparse.Namespace, count: int, res: Results) -> None:
    admin = os.environ["TRENDWATCH_TEST_POSTGRES_URL"]
    db = f"tw_scale_{count}"
    url = new_database(admin, db)
    feeds = len(server.urls)
    with tempfile.TemporaryDirectory(prefix="trendwatch-scale-") as tmp:
        config = write_config(Path(tmp), server, url)
        settings = load_settings(config)
        ensure_schema(url)
        jobs, defer_s = defer_all(settings, url)
        if jobs != feeds:
            raise SystemExit(f"{jobs} jobs deferred for {feeds} feeds")
        res.add(f"pg defer {count}w", Phase(feeds, defer_s, 0, 0, 0, 0, os.getloadavg()[0]))
        phase = drained_by_workers(config, args, count, url, db, feeds)
        with Store(url) as store:
            phase.articles = store.article_count()
        if phase.articles != feeds * args.entries:
            raise SystemExit(f"{phase.articles} articles, expected {feeds * args.entries}")
        res.add(f"pg fresh {count}w", phase)
        if "empty" in args.phases:
            defer_empty(url, [title for title, _ in server.urls])
            phase = drained_by_workers(config, args, count, url, db, feeds)
            res.add(f"pg empty {count}w", phase)
        if "304" not in args.phases:
            return
        # every source due again: each fetch sends its ETag and gets 304 Not Modified
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("update sources set next_poll = null")
        jobs, _ = defer_all(settings, url)
        before = server.served()[1]
        phase = drained_by_workers(config, args, count, url, db, jobs)
        if jobs != feeds or server.served()[1] - before != feeds:
            raise SystemExit("revalidation: not one 304 per feed")
        res.add(f"pg 304 {count}w", phase)


def run_embedded(server: FeedServer, args: argparse.Namespace, pg: bool, res: Results) -> None:
    """The embedded crawl (one process) into SQLite, or into a new PostgreSQL database."""
    admin = os.environ["TRENDWATCH_TEST_POSTGRES_URL"]
    url = new_database(admin, "tw_scale_embedded") if pg else None
    with tempfile.TemporaryDirectory(prefix="trendwatch-scale-") as tmp:
        settings = load_settings(write_config(Path(tmp), server, url))
        pm = postmaster_pid()
        c0, r0 = pg_counts(admin, "tw_scale_embedded") if pg else (0, 0)
        with Store(settings.database) as store:
            pg0 = tree_cpu(pm)
            t0 = os.times()
            started = time.perf_counter()
            reports = crawl_job.crawl(settings, store)
            wall = time.perf_counter() - started
            t1 = os.times()
            cpu = (t1.user + t1.system + t1.children_user + t1.children_system) - (
                t0.user + t0.system + t0.children_user + t0.children_system
            )
            if any(r.status != "ok" for r in reports):
                raise SystemExit("embedded crawl: a feed failed")
            articles = store.article_count()
    name = "pg embedded" if pg else "sqlite embedded"
    pg_cpu = tree_cpu(pm) - pg0 if pg else 0.0
    c1, r1 = pg_counts(admin, "tw_scale_embedded") if pg else (0, 0)
    phase = Phase(len(reports), wall, cpu, pg_cpu, c1 - c0, r1 - r0, os.getloadavg()[0], articles)
    res.add(name, phase)


def med(values: list[float]) -> float:
    return statistics.median(values)


def report(res: Results) -> None:
    print(f"\n{'phase':18} {'jobs':>6} {'wall s':>8} {'feeds/min':>10} {'art/s':>8}"
          f" {'ms/job':>7} {'wCPU ms/job':>11} {'pgCPU ms/job':>12} {'tx/job':>6}"
          f" {'rows/job':>8} {'conns':>5} {'load':>5}")  # fmt: skip
    loads = [p.load for phases in res.phases.values() for p in phases]
    for name, phases in res.phases.items():
        jobs = phases[0].jobs
        wall = med([p.wall_s for p in phases])
        print(
            f"{name:18} {jobs:6d} {wall:8.2f} {jobs / wall * 60:10.0f}"
            f" {med([p.articles for p in phases]) / wall:8.0f} {wall / jobs * 1000:7.2f}"
            f" {med([p.worker_cpu_s for p in phases]) / jobs * 1000:11.2f}"
            f" {med([p.pg_cpu_s for p in phases]) / jobs * 1000:12.2f}"
            f" {med([p.commits for p in phases]) / jobs:6.1f}"
            f" {med([p.rows for p in phases]) / jobs:8.1f}"
            f" {max(p.connections for p in phases):5d} {med([p.load for p in phases]):5.2f}"
        )
    runs = max(len(p) for p in res.phases.values())
    print(f"runs: {runs}; medians; load {min(loads):.2f}-{max(loads):.2f}; cores: {os.cpu_count()}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=2000, help="feeds (2000)")
    parser.add_argument("--entries", type=int, default=20, help="entries per feed (20)")
    parser.add_argument("--per-host", type=int, default=4, help="feeds a host (4)")
    parser.add_argument("--latency", type=float, default=0.1, help="server latency, s (0.1)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (1,2,4)")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs a worker runs (4)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians reported (3)")
    parser.add_argument(
        "--phases", default="fresh,empty,304", help="worker phases after fresh (fresh,empty,304)"
    )
    parser.add_argument(
        "--stages",
        default="crawl,process",
        help="crawl (this module's feeds) and/or process (bench/scale_process.py) (crawl,process)",
    )
    parser.add_argument(
        "--articles", type=int, default=2000, help="articles of the process stage (2000)"
    )
    parser.add_argument("--batch", type=int, default=100, help="articles per analysis job (100)")
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded crawls")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a phase may take")
    parser.add_argument("--json", type=Path, help="also write the runs' phases to this file")
    parser.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        help="report the medians over the runs of these --json files (separate invocations,"
        " so that no one of them holds the bench lock long), and run nothing",
    )
    return parser.parse_args(argv)


def save(res: Results, path: Path) -> None:
    data = {name: [asdict(p) for p in phases] for name, phases in res.phases.items()}
    path.write_text(json.dumps(data, indent=1), "utf-8")


def combined(paths: list[Path]) -> Results:
    res = Results()
    for path in paths:
        for name, phases in json.loads(path.read_text("utf-8")).items():
            for p in phases:
                res.add(name, Phase(**p))
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.combine:
        report(combined(args.combine))
        return 0
    if not os.environ.get("TRENDWATCH_TEST_POSTGRES_URL"):
        raise SystemExit('no PostgreSQL: eval "$(.ci/postgres.sh start)" first')
    stages = set(args.stages.split(","))
    if unknown := stages - {"crawl", "process"}:
        raise SystemExit(f"--stages: unknown {', '.join(sorted(unknown))}; crawl, process")
    if "crawl" in stages:
        crawl_stage(args)
    if "process" in stages:
        from bench import scale_process  # it imports this module's helpers

        print(f"\nprocess stage, {args.articles} articles", flush=True)
        options = {"--articles": args.articles, "--workers": args.workers}
        options |= {"--batch": args.batch, "--runs": args.runs}
        scale_process.main([str(v) for pair in options.items() for v in pair])
    return 0


def crawl_stage(args: argparse.Namespace) -> None:
    """The crawl stage: the embedded crawls, then the workers, ``--runs`` times."""
    hosts = max(1, -(-args.feeds // args.per_host)) if args.per_host else 1
    server = FeedServer(args.feeds, args.entries, hosts, 300, args.latency)
    res = Results()
    print(f"{args.feeds} feeds on {hosts} hosts, load {os.getloadavg()[0]:.2f}", flush=True)
    try:
        for _ in range(args.runs):
            if not args.no_embedded:
                run_embedded(server, args, False, res)
                run_embedded(server, args, True, res)
            if args.json:
                save(res, args.json)
            for count in [int(n) for n in args.workers.split(",")]:
                run_workers(server, args, count, res)
                print(f"  {count} workers done, load {os.getloadavg()[0]:.2f}", flush=True)
                if args.json:  # what is done so far, should a timeout end the run
                    save(res, args.json)
    finally:
        server.stop()
    report(res)
    if args.json:
        save(res, args.json)


if __name__ == "__main__":
    sys.exit(main())
