"""Benchmark of the process stage scaled out: ``trendwatch worker --queues process``
with 1 and 2 workers on PostgreSQL (analysis in parallel batch jobs, dedup and stories
one job at a time) against one ``trendwatch process`` on SQLite (with ``[nlp]
n_process`` 1 and 2), on the same articles.

The articles are those of ``bench/nlp.py`` (``--articles``, default 2,000; about 400
words, half Dutch, half English, events reported by several sources, 5 % syndicated
copies), with its 50 watchlists. Each case gets a fresh database (SQLite file, or a new
database in the server of ``$TRENDWATCH_TEST_POSTGRES_URL``: ``eval "$(.ci/postgres.sh
start)"``), the articles imported by ``trendwatch import`` first. Timed end to end,
spaCy's loading included: the ``trendwatch process`` command, and the workers from
their start to every article processed with no process job left. Per case: articles/s,
CPU seconds of the command or the workers (processes and children) and of PostgreSQL,
and what processing decided (stories, duplicates, matches), which must be the same in
every case. Run it under the bench lock from the repository root::

    flock /tmp/tw-bench.lock python bench/scale_process.py --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

import psycopg  # noqa: E402

from bench import nlp  # noqa: E402
from bench.scale import new_database, postmaster_pid, stop_workers, tree_cpu  # noqa: E402

CLI = [sys.executable, "-c", "import sys; from pipeline.cli import main; sys.exit(main())"]


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("TRENDWATCH_DATABASE_URL", None)
    return env


def prepare(directory: Path, source: Path, n_process: int, url: str | None) -> Path:
    """A config (bench/nlp.py's 50 watchlists) in ``directory``, the articles imported."""
    directory.mkdir()
    config = nlp.write_config(directory)
    text = config.read_text().replace("{n_process}", str(n_process))
    if url:
        text = text.replace(
            'data_dir = "data"', f'data_dir = "data"\ndatabase_url = {json.dumps(url)}'
        )
    config.write_text(text)
    command = [*CLI, "--config", str(config), "import", "--jsonl", str(source)]
    subprocess.run(command, check=True, capture_output=True, env=_env())
    return config


DECIDED = (
    "SELECT (SELECT count(*) FROM stories), (SELECT count(*) FROM articles WHERE"
    " story_id IS NOT NULL), (SELECT count(*) FROM articles WHERE duplicate_of IS"
    " NOT NULL), (SELECT count(*) FROM matches)"
)


def decided(location: str | Path) -> tuple[int, ...]:
    """(stories, articles in a story, duplicates, matches) of a processed database."""
    if isinstance(location, Path):
        with sqlite3.connect(location) as conn:
            row = conn.execute(DECIDED).fetchone()
    else:
        with psycopg.connect(location) as pg:
            row = pg.execute(DECIDED).fetchone()
    assert row is not None
    return tuple(int(v) for v in row)


def alone(directory: Path, source: Path, n_process: int) -> dict:
    config = prepare(directory, source, n_process, None)
    before = os.times()
    start = time.perf_counter()
    child = subprocess.Popen(
        [*CLI, "--config", str(config), "process"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    child.wait()
    seconds = time.perf_counter() - start
    after = os.times()
    assert child.returncode == 0
    return {
        "seconds": seconds,
        "cpu": after.children_user
        + after.children_system
        - before.children_user
        - before.children_system,
        "decided": decided(directory / "data" / "trendwatch.db"),
    }


def left(url: str) -> int:
    """Articles not processed yet, and process jobs waiting or running."""
    with psycopg.connect(url) as pg:
        row = pg.execute(
            "SELECT (SELECT count(*) FROM articles WHERE processed_at IS NULL),"
            " (SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'process'"
            " AND status IN ('todo', 'doing'))"
        ).fetchone()
    assert row is not None
    return int(row[0]) + int(row[1])


def with_workers(directory: Path, source: Path, count: int, batch: int, admin: str) -> dict:
    url = new_database(admin, f"tw_scale_process_{count}")
    config = prepare(directory, source, 1, url)
    log = directory / "workers.log"
    command = [*CLI, "--config", str(config), "worker", "--queues", "process"]
    command += ["--batch", str(batch), "--poll", "0.2", "--log-level", "warning"]
    pg = postmaster_pid()
    pg_before = tree_cpu(pg)
    start = time.perf_counter()
    with open(log, "ab") as out:
        procs = [
            subprocess.Popen(command, env=_env(), stdout=out, stderr=out) for _ in range(count)
        ]
    try:
        time.sleep(2)
        while left(url):
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a worker stopped:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        cpu = sum(tree_cpu(p.pid) for p in procs)
        pg_cpu = tree_cpu(pg) - pg_before
    finally:
        stop_workers(procs, log)
    return {"seconds": seconds, "cpu": cpu, "pg_cpu": pg_cpu, "decided": decided(url)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="articles (2000)")
    parser.add_argument("--workers", default="1,2", help="worker counts (1,2)")
    parser.add_argument("--batch", type=int, default=100, help="articles per analysis job")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians reported (3)")
    args = parser.parse_args(argv)
    admin = os.environ.get("TRENDWATCH_TEST_POSTGRES_URL")
    if not admin:
        raise SystemExit('no PostgreSQL: eval "$(.ci/postgres.sh start)" first')
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "articles.jsonl"
        lines = (json.dumps(a) + "\n" for a in nlp.generate(args.articles))
        source.write_text("".join(lines), encoding="utf-8")
        for run in range(args.runs):
            cases = {
                "process, n_process 1": lambda d: alone(d, source, 1),
                "process, n_process 2": lambda d: alone(d, source, 2),
            }
            for count in (int(c) for c in args.workers.split(",")):
                cases[f"{count} worker(s)"] = lambda d, c=count: with_workers(
                    d, source, c, args.batch, admin
                )
            for n, (name, case) in enumerate(cases.items()):
                result = case(Path(tmp) / f"r{run}c{n}")
                result["load"] = os.getloadavg()[0]
                results.setdefault(name, []).append(result)
                print(
                    f"run {run + 1} {name}: {args.articles / result['seconds']:.1f} articles/s,"
                    f" {result['seconds']:.1f} s, CPU {result['cpu']:.1f} s"
                    f" (PostgreSQL {result.get('pg_cpu', 0):.1f} s), decided {result['decided']},"
                    f" load {result['load']:.1f}",
                    flush=True,
                )
    print(f"\n{args.articles} articles; medians of {args.runs}:")
    for name, runs in results.items():
        rates = [args.articles / r["seconds"] for r in runs]
        cpu = statistics.median(r["cpu"] for r in runs) / args.articles * 1000
        pg_cpu = statistics.median(r.get("pg_cpu", 0) for r in runs) / args.articles * 1000
        print(
            f"{name:22} {statistics.median(rates):7.1f} articles/s"
            f" ({', '.join(f'{r:.1f}' for r in rates)}); CPU {cpu:.2f} ms/article,"
            f" PostgreSQL {pg_cpu:.2f} ms/article"
        )
    same = {r["decided"] for runs in results.values() for r in runs}
    print(f"the same decisions in every case: {len(same) == 1} {sorted(same)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
