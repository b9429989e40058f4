"""How much the story clustering depends on the order articles arrive in.

Extracts features once (as ``bench/cluster_eval.py --direct`` does), then clusters the
gold set in file order and in ``--shuffles`` shuffled orders (seeds 1..N, the orders of
``cluster_eval.py --order shuffle``), for the configuration (``--set``) and, in the same
run on the same features and orders, for each peer configuration (``--peer
'name=value,name=value'``, repeatable; ``--peer ''`` is the defaults). Per configuration
it prints B-cubed F1 (precision, recall) in file order, every shuffled order's F1, their
mean and lowest, the spread (file order minus the mean, and minus the lowest) and the
clustering time per article (the median over the orders)::

    python bench/cluster_orders.py ../shared/data/ecbplus-dev/docs.jsonl \\
        --peer split_threshold=none

Never give it ECB+ topics beyond 35: those are held out (``--allow-any-topic`` for
other gold sets).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cluster_cv as cv
import cluster_eval as ce

from pipeline.process.stories import ClusterConfig, bcubed


def scores(
    features: list, gold: dict[int, str], orders: list[list[int]], config: ClusterConfig
) -> tuple[list[tuple[float, float, float]], list[float]]:
    """(precision, recall, F1) per order, and milliseconds per article per order."""
    results, times = [], []
    for order in orders:
        started = time.perf_counter()
        stories = ce.cluster_directly(features, order, config)
        times.append((time.perf_counter() - started) / max(len(order), 1) * 1000)
        results.append(bcubed(stories, {p: gold[p] for p in order}))
    return results, times


def lines(name: str, results: list[tuple[float, float, float]], times: list[float]) -> list[str]:
    """The printed report of one configuration (the first result is file order)."""
    (p, r, f), shuffled = results[0], [s[2] for s in results[1:]]
    out = [f"{name}: file order F1 {f:.4f} (P {p:.4f}, R {r:.4f})"]
    if shuffled:
        mean, low = statistics.fmean(shuffled), min(shuffled)
        out.append("  shuffled " + " ".join(f"{x:.4f}" for x in shuffled))
        out.append(
            f"  shuffled mean {mean:.4f}, lowest {low:.4f};"
            f" file minus mean {f - mean:+.4f}, file minus lowest {f - low:+.4f}"
        )
    out.append(f"  clustering {statistics.median(times):.2f} ms per article (median)")
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    records, _topics, features = cv.read_gold(args)
    print(f"features of {len(records)} articles ({time.perf_counter() - started:.1f} s)")
    gold = {i: r[args.gold_field] for i, r in enumerate(records)}
    orders = [list(range(len(records)))]
    orders += [ce.order_of(records, "id", "shuffle", s) for s in range(1, args.shuffles + 1)]
    configs = [("config" + _named(args.set), args.set)]
    configs += [("peer" + _named(_split(p)), args.set + _split(p)) for p in args.peer]
    for label, settings in configs:
        results, times = scores(features, gold, orders, ce.config_from(settings))
        print("\n".join(lines(label, results, times)), flush=True)
    return 0


def _split(peer: str) -> list[str]:
    return [s for s in peer.split(",") if s]


def _named(settings: list[str]) -> str:
    return f" ({', '.join(settings)})" if settings else " (defaults)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cv.add_gold_arguments(parser)
    parser.add_argument("--shuffles", type=int, default=5)
    parser.add_argument("--peer", action="append", default=[], metavar="NAME=VALUE,...")
    return parser


if __name__ == "__main__":
    sys.exit(main())
