"""Benchmark of the admin's watchlist preview: what a query would match in the last 30
days, as the editor asks for it while the query is typed (issue target: under 300 ms).

A fresh store holds ``--days`` days (default 30) of ``--per-day`` articles a day
(default 300; about 400 words each, half Dutch, half English, from bench/nlp.py's
generator), stored and marked processed. Then, in this process:

* the preview index is built as the web process builds it (``PreviewIndexes``, in its
  thread; reading the store included): seconds, and articles/s;
* ``--queries`` varied queries (words, OR, phrases, exclusions, intitle:, site:, lang:)
  go through the whole endpoint, ``GET /admin/watchlists/preview`` as htmx sends it
  (Starlette's TestClient, in process: routing, matching, the 20 newest explained,
  the template), and through ``PreviewIndex.match`` alone: median, 95th percentile
  and maximum of each;
* the peak resident memory of the process, and what the index added to it.

Run from the repository root::

    python bench/admin_preview.py
    python bench/admin_preview.py --per-day 600 --queries 200
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlp import EN_WORDS, NL_WORDS, generate

from crawlers.entries import Entry
from pipeline.process.watchlists.preview import WINDOW
from pipeline.process.watchlists.query import parse_query
from pipeline.settings import load_settings
from pipeline.store import Store

CONFIG = """data_dir = "data"
secret_env = "TW_BENCH_SECRET"
[[sources]]
name = "nl"
url = "https://nl.example/feed"
language = "nl"
[[sources]]
name = "en"
url = "https://en.example/feed"
language = "en"
[[watchlists]]
name = "werk"
title = "Werk"
query = "werk"
"""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_store(folder: Path, days: int, per_day: int, now: datetime) -> Path:
    config = folder / "trendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(config)
    count = days * per_day
    articles = generate(count)
    with Store(settings.db_path) as store:
        store.sync_sources(settings.sources, now - timedelta(days=days + 1))
        ids = {s.name: s.id for s in store.sources()}
        for start in range(0, count, 1000):
            by_source: dict[str, list[Entry]] = {"nl": [], "en": []}
            for i in range(start, min(start + 1000, count)):
                a = articles[i]
                lang = "nl" if "/nl/" in a["url"] else "en"
                when = now - timedelta(seconds=(i + 0.5) * days * 86400 / count)
                by_source[lang].append(
                    Entry(
                        identity=f"a{i}",
                        title=a["title"],
                        url=a["url"],
                        text=a["text"],
                        published=when,
                        language=lang,
                    )
                )
            for name, entries in by_source.items():
                store.save_entries(ids[name], entries, now)
        todo = [a.id for a in store.articles_to_process(count + 1)]
        store.save_matches([], processed_ids=todo, now=now)
    return config


def queries(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    words = NL_WORDS + EN_WORDS
    forms = [
        lambda: rng.choice(words),
        lambda: f"{rng.choice(words)} OR {rng.choice(words)}",
        lambda: f"{rng.choice(words)} {rng.choice(words)}",
        lambda: f'"{rng.choice(NL_WORDS)} {rng.choice(NL_WORDS)}" OR {rng.choice(words)}',
        lambda: f"{rng.choice(words)} -{rng.choice(words)}",
        lambda: f"intitle:{rng.choice(words)} OR {rng.choice(words)}",
        lambda: f"({rng.choice(words)} OR {rng.choice(words)}) -{rng.choice(words)}",
        lambda: f"site:news{rng.randrange(40)}.example {rng.choice(words)}",
        lambda: f"lang:en {rng.choice(EN_WORDS)} OR lang:nl {rng.choice(NL_WORDS)}",
    ]
    return [forms[i % len(forms)]() for i in range(n)]


def show(name: str, values: list[float]) -> None:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * len(values)) - 1)]
    print(
        f"  {name:<28} median {statistics.median(values) * 1000:6.1f} ms"
        f"   p95 {p95 * 1000:6.1f} ms   max {values[-1] * 1000:6.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)
    os.environ.setdefault("TW_BENCH_SECRET", "bench-secret-0123456789abcdef")

    from starlette.testclient import TestClient

    from web.admin_work import admin_work
    from web.app import create_app

    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        config = make_store(Path(tmp), args.days, args.per_day, now)
        count = args.days * args.per_day
        took = time.perf_counter() - started
        print(f"store: {count:,} articles over {args.days} days ({took:.0f} s)")
        app = create_app(config, clock=lambda: now)
        with TestClient(app, client=("127.0.0.1", 50000), base_url="http://127.0.0.1") as web:
            before = rss_mb()
            started = time.perf_counter()
            web.get("/admin/watchlists")  # starts the build, as opening the editor does
            work = admin_work(web)
            db = load_settings(config).db_path
            assert work.previews.wait(db, 3600)
            built = time.perf_counter() - started
            print(
                f"index: {count:,} articles in {built:.1f} s ({count / built:,.0f} articles/s),"
                f" +{rss_mb() - before:.0f} MB"
            )
            asked = queries(args.queries)
            page, alone, found = [], [], []
            for query in asked:
                started = time.perf_counter()
                response = web.get(
                    "/admin/watchlists/preview",
                    params={"query": query, "editing": ""},
                    headers={"HX-Request": "true"},
                )
                page.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
            held = work.previews._of(db)
            assert held.index is not None
            for query in asked:
                tree = parse_query(query)
                started = time.perf_counter()
                result = held.index.match(tree, now - WINDOW, now + timedelta(seconds=1))
                alone.append(time.perf_counter() - started)
                found.append(len(result.matches))
        print(f"{len(asked)} queries, matching {statistics.median(found):,.0f} articles (median):")
        show("GET /admin/watchlists/preview", page)
        show("PreviewIndex.match alone", alone)
        print(f"peak memory of this process: {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
