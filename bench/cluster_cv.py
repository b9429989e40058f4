"""Cross-validation of the story clusterer's tuning over the topics of a gold set.

The topics (``--topic-field``, default ``topic``: the ECB+ development topics 1-35) are
dealt round-robin into ``--folds`` folds, in order of topic. For each fold, every
configuration of the grid (``--grid name=v1,v2``, repeatable; the product of all) is
scored on the other folds' articles, the best is chosen (by the mean B-cubed F1 over
file order and ``--shuffles`` shuffled orders: a configuration that only works in one
order is not chosen) and scored on the fold's own articles, which it never saw. It
prints per fold the chosen configuration and its scores on the held-out topics, then
their mean and spread (and those of the defaults, as ``--set`` gives them, on the same
folds), and how often each configuration was chosen (``--fold N``: only fold N, so
the folds can run one at a time)::

    python bench/cluster_cv.py ../shared/data/ecbplus-dev/docs.jsonl --folds 5 \\
        --grid threshold=0.14,0.16,0.18 --grid merge_threshold=0.16,0.18,0.2

Features are extracted once, as ``bench/cluster_eval.py --direct`` does (ECB+ has no
dates, so time plays no part). Never give it topics beyond 35 of ECB+: those are the
held-out topics.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cluster_eval as ce

from pipeline.process.stories import ClusterConfig, bcubed

MAX_TOPIC = 35  # ECB+ topics beyond this are held out


@dataclasses.dataclass(frozen=True)
class Scores:
    """F1 in file order and in shuffled orders (mean, lowest)."""

    file: float
    shuffled: tuple[float, ...]

    @property
    def mean(self) -> float:
        """The mean over all orders, file order included: what the choice is made on."""
        return statistics.fmean((self.file, *self.shuffled))


def folds_of(topics: list[Any], k: int) -> list[set[Any]]:
    """The topics dealt round-robin into ``k`` folds, in sorted order."""
    ordered = sorted(set(topics), key=ce._natural)
    return [set(ordered[i::k]) for i in range(k)]


def grid_of(specs: list[str]) -> list[dict[str, Any]]:
    """The product of ``name=v1,v2`` specs as ClusterConfig overrides."""
    axes = []
    for spec in specs:
        name, _, values = spec.partition("=")
        axes.append([(name, json.loads(v)) for v in values.split(",")])
    return [dict(choice) for choice in itertools.product(*axes)] or [{}]


def evaluate(
    features: list, gold: list[Any], positions: list[int], config: ClusterConfig, shuffles: int
) -> Scores:
    """Scores of ``config`` on the articles at ``positions`` (in file order, then shuffled)."""
    labels = {p: gold[p] for p in positions}

    def f1(order: list[int]) -> float:
        return bcubed(ce.cluster_directly(features, order, config), labels)[2]

    count = [{}] * len(positions)
    orders = [ce.order_of(count, "id", "shuffle", s) for s in range(1, shuffles + 1)]
    shuffled = tuple(f1([positions[i] for i in order]) for order in orders)
    return Scores(f1(positions), shuffled)


def read_gold(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[Any], list]:
    """The gold records, their topics and their features (extracted once); SystemExit
    for a set with ECB+ topics beyond 35 unless ``--allow-any-topic``."""
    records = ce.read_jsonl(Path(args.gold))
    topics = [r.get(args.topic_field) for r in records]
    beyond = [t for t in topics if isinstance(t, int) and t > MAX_TOPIC]
    if beyond and not args.allow_any_topic:
        raise SystemExit(f"topics beyond {MAX_TOPIC} are held out: {sorted(set(beyond))}")
    docs = [ce.doc_of(i, r, args.lang_field, not args.ignore_dates) for i, r in enumerate(records)]
    return records, topics, ce.extractor("auto")[1](docs)


def add_gold_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of :func:`read_gold`, and ``--set``."""
    parser.add_argument("gold", metavar="GOLD.jsonl")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--gold-field", default="subtopic")
    parser.add_argument("--topic-field", default="topic")
    parser.add_argument("--lang-field", default="lang")
    parser.add_argument("--ignore-dates", action="store_true")
    parser.add_argument("--allow-any-topic", action="store_true", help="for other gold sets")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    records, topics, features = read_gold(args)
    gold = [r[args.gold_field] for r in records]
    grid = grid_of(args.grid)
    base = ce.config_from(args.set)
    chosen: list[str] = []
    tests: list[Scores] = []
    defaults: list[Scores] = []
    for n, fold in enumerate(folds_of(topics, args.folds), 1):
        if args.fold and n not in args.fold:
            continue
        train = [i for i, t in enumerate(topics) if t not in fold]
        test = [i for i, t in enumerate(topics) if t in fold]
        scored = [
            (evaluate(features, gold, train, dataclasses.replace(base, **o), args.shuffles), o)
            for o in grid
        ]
        best, overrides = max(scored, key=lambda so: (so[0].mean, -grid.index(so[1])))
        config = dataclasses.replace(base, **overrides)
        result = evaluate(features, gold, test, config, args.shuffles)
        tests.append(result)
        plain = evaluate(features, gold, test, base, args.shuffles)
        defaults.append(plain)
        chosen.append(json.dumps(overrides, sort_keys=True))
        print(
            f"fold {n}: topics {sorted(fold, key=ce._natural)}; chosen {chosen[-1]}"
            f" (train {best.mean:.4f}); held out: {_orders(result)};"
            f" the defaults (--set) on it: {_orders(plain)}",
            flush=True,
        )
    for name, scores in (("chosen", tests), ("defaults", defaults)):
        files = [s.file for s in scores]
        line = f"held-out F1 of the {name}: file order mean {statistics.fmean(files):.4f}"
        line += f" (sd {_sd(files):.4f})"
        shuffled = [statistics.fmean(s.shuffled) for s in scores if s.shuffled]
        if shuffled:
            line += f", shuffled mean {statistics.fmean(shuffled):.4f} (sd {_sd(shuffled):.4f})"
        print(line)
    for config, times in Counter(chosen).most_common():
        print(f"chosen {times}x: {config}")
    return 0


def _orders(scores: Scores) -> str:
    """File order and shuffled orders' F1, as printed."""
    text = f"file {scores.file:.4f}"
    if scores.shuffled:
        text += f", shuffled mean {statistics.fmean(scores.shuffled):.4f}"
        text += f" lowest {min(scores.shuffled):.4f}"
    return text


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_gold_arguments(parser)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--shuffles", type=int, default=2, help="shuffled orders per score")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2")
    parser.add_argument(
        "--fold", type=int, action="append", default=[], help="only this fold (repeatable)"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
