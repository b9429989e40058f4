"""Benchmark of ``trendwatch migrate-db``: moving a processed SQLite database of
``--articles`` articles (default 20,000) into an empty PostgreSQL database.

The database (``bench/web_corpus.py``): Dutch and English articles from 40 sources in
stories of one to eight, each event matched by a watchlist, stored through the store's
own writes (``save_entries``, ``save_processed``: features, matches, stories, the
search index); ``--nlp`` runs the real ``process`` job over them instead (about 200
articles/s; it also leaves the clusterer's state). Built once per ``--workdir``.

Each run moves it into a fresh database on the server at
``$TRENDWATCH_TEST_POSTGRES_URL`` (``.ci/postgres.sh start``) with the code of
``migrate-db`` (one transaction, ``COPY`` in batches, counts verified) and reports:

* ``migrate-db``: seconds and rows per second (every table and the search index);
* the peer, measured in the same run: the same rows through ``executemany`` INSERTs
  in one transaction (as the tests' ``copy_into`` helper does; what a straightforward
  port would do), on a fresh database too;
* the floor of the source side: reading every row of every table from SQLite alone.

Medians of ``--runs`` runs. Run from the repository root, under the shared lock::

    flock /tmp/tw-bench.lock python bench/migrate_db.py --workdir /tmp/tw-migrate
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from pipeline.settings import load_settings  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.store.connection import StoreBase  # noqa: E402
from pipeline.store.move import LINKS, SEARCH, TABLES, move_database, open_target  # noqa: E402


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new empty database on the server at ``url``, dropped afterwards; its URL."""
    import psycopg

    name = f"tw_bench_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def executemany_copy(source: Store, target: Store) -> None:
    """The peer: every table's rows as INSERTs (executemany), the articles' links after
    the stories, the state's values and the search rows likewise, in one transaction."""
    with target.transaction():
        for table in TABLES:
            if table == "state":
                for key, value in source._x("SELECT key, value FROM state").fetchall():
                    target.set_state(key, value)
                continue
            rows = source._rows(f"SELECT * FROM {table}")
            if not rows:
                continue
            names = list(rows[0])
            links = LINKS.get(table, ())
            target._many(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [tuple(None if n in links else r[n] for n in names) for r in rows],
            )
        target._many(
            "UPDATE articles SET story_id = ?, duplicate_of = ? WHERE id = ?",
            source._x("SELECT story_id, duplicate_of, id FROM articles").fetchall(),
        )
        target._many(
            f"INSERT INTO {SEARCH} (id, title, text, lemmas, tags, language)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            source._x(
                f"SELECT s.rowid, s.title, s.text, s.lemmas, s.tags, f.language FROM {SEARCH} s"
                " JOIN article_features f ON f.article_id = s.rowid"
            ).fetchall(),
        )


def build(workdir: Path, articles: int, nlp: bool) -> Path:
    """The SQLite database to move (kept in ``workdir`` for the next run)."""
    import web_corpus

    db = workdir / "data" / "trendwatch.db"
    if db.is_file():
        return db
    workdir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(web_corpus.write_config(workdir, nlp))
    started = time.perf_counter()
    corpus = web_corpus.generate(articles, random.Random(web_corpus.SEED))
    web_corpus.store_articles(settings, corpus, nlp)
    print(f"built {db} in {time.perf_counter() - started:.0f} s", flush=True)
    return db


def read_all(db: Path) -> tuple[float, int]:
    """Seconds to read every row of every moved table from SQLite; the rows."""
    with StoreBase(db) as source:
        started = time.perf_counter()
        rows = sum(len(source._x(f"SELECT * FROM {t}").fetchall()) for t in (*TABLES, SEARCH))
        return time.perf_counter() - started, rows


def one_move(db: Path, url: str, spent: dict[str, float]) -> tuple[float, int]:
    """One move into a fresh database: its seconds and rows; ``spent`` gets the seconds
    per table (the time up to each of its progress steps; the rest is "verify")."""
    last = [0.0]

    def step(table: str, rows: int) -> None:
        now = time.perf_counter()
        spent[table] = spent.get(table, 0.0) + now - last[0]
        last[0] = now

    with fresh_database(url) as target_url, StoreBase(db) as source:
        with open_target(target_url) as target:
            started = last[0] = time.perf_counter()
            counts = move_database(source, target, progress=step)
            seconds = time.perf_counter() - started
            spent["verify, sequences, commit"] = (
                spent.get("verify, sequences, commit", 0.0) + time.perf_counter() - last[0]
            )
        assert all(c.ok for c in counts)
        return seconds, sum(c.target for c in counts)


def one_peer(db: Path, url: str) -> float:
    with fresh_database(url) as target_url, Store(db) as source, Store(target_url) as target:
        started = time.perf_counter()
        executemany_copy(source, target)
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nlp", action="store_true", help="run the real process job")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tw-migrate-bench"))
    parser.add_argument("--build-only", action="store_true", help="build the data and stop")
    args = parser.parse_args(argv)
    url = os.environ.get("TRENDWATCH_TEST_POSTGRES_URL")
    if not url:
        print('set $TRENDWATCH_TEST_POSTGRES_URL (eval "$(.ci/postgres.sh start)")')
        return 2
    db = build(args.workdir, args.articles, args.nlp)
    if args.build_only:
        return 0
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    moves, peers, reads = [], [], []
    spent: dict[str, float] = {}
    rows = 0
    for run in range(args.runs):
        seconds, rows = one_move(db, url, spent)
        moves.append(seconds)
        peers.append(one_peer(db, url))
        reads.append(read_all(db)[0])
        print(
            f"run {run + 1}: migrate-db {moves[-1]:.2f} s, executemany peer {peers[-1]:.2f} s,"
            f" SQLite read alone {reads[-1]:.2f} s",
            flush=True,
        )
    move, peer, read = (statistics.median(x) for x in (moves, peers, reads))
    print(f"rows moved: {rows:,} (every table and the search index)")
    print(f"migrate-db (median of {args.runs}): {move:.2f} s, {rows / move:,.0f} rows/s")
    print(f"peer, executemany INSERTs: {peer:.2f} s ({peer / move:.1f}x migrate-db's time)")
    print(f"floor, reading SQLite alone: {read:.2f} s")
    total = sum(spent.values())
    print(
        "where migrate-db's time goes (all runs): "
        + ", ".join(
            f"{table} {100 * t / total:.0f}%" for table, t in spent.items() if t / total >= 0.02
        )
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
