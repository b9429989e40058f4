"""A/B of the workers' analysis between two source trees, interleaved, in CPU time.

On a shared machine the load moves from minute to minute, and timing a component on
docs made ahead of it misleads: in the worker, the tokenizer has just touched the
lexemes the components read (a table that was a third cheaper in isolation came out
even in place). So this runs ``batch.analyse_articles`` as a worker does (64-article
batches of ``bench/nlp.py``'s articles and watchlists) in two child processes, one per
tree, that take turns on the same chunks of articles, and sums each child's CPU time
(``time.process_time``) per chunk. Printed: CPU µs per article of each tree, and in how
many chunks B was the cheaper. Each child first analyses ``--warm`` articles (pipelines
built, caches filled, as in a worker some way into a run); ``--warmup`` imports
``pipeline.process.analysis.warmup`` first, as the fork server does.

Run from the repository root, with a tree of the other code checked out elsewhere::

    git worktree add /tmp/tw-main main   # or: git archive main | tar -x -C /tmp/tw-main
    python bench/ab_workers.py /tmp/tw-main . --articles 4096 --warm 3000
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

CHUNK = 256  # articles per turn


def _inputs(path: Path, count: int) -> None:
    """Write the bench's first ``count`` articles (as the analysis takes them) and the
    worker config of its watchlists to ``path``, pickled."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.nlp import generate, write_config
    from pipeline.process.analysis.features import ArticleInput
    from pipeline.process.batch import worker_config
    from pipeline.settings import load_settings

    config = write_config(path.parent)
    config.write_text(config.read_text("utf-8").replace("{n_process}", "2"), "utf-8")
    inputs = [
        ArticleInput(
            id=int(a["id"]),
            title=a["title"],
            text=a["text"],
            url=a["url"],
            published=datetime.fromisoformat(a["published"]),
            source=a["source"],
        )
        for a in generate(count)
    ]
    path.write_bytes(pickle.dumps((inputs, worker_config(load_settings(config)))))


def _child(path: Path, warmup: bool) -> None:
    """Read ``start count`` lines; analyse those articles in 64-article batches; print
    the CPU seconds it took."""
    sys.path.insert(0, os.getcwd())  # the tree's code, before bench/ (bench/pipeline.py)
    if warmup:
        import pipeline.process.analysis.warmup  # noqa: F401 - as the fork server does
    from pipeline.process.batch import analyse_articles

    inputs, config = pickle.loads(path.read_bytes())
    print("ready", flush=True)
    for line in sys.stdin:
        start, count = map(int, line.split())
        began = time.process_time()
        for i in range(start, start + count, 64):
            analyse_articles(inputs[i : min(i + 64, start + count)], config)
        print(f"{time.process_time() - began:.6f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path, help="tree A (e.g. main)")
    parser.add_argument("b", type=Path, help="tree B (e.g. this branch)")
    parser.add_argument("--articles", type=int, default=4096, help="measured articles")
    parser.add_argument("--warm", type=int, default=3000, help="articles before measuring")
    parser.add_argument("--warmup", action="store_true", help="import the fork server's warmup")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.warmup)
        return 0
    work = Path(tempfile.mkdtemp(prefix="twab-"))
    data = work / "inputs.pickle"
    _inputs(data, args.warm + args.articles)
    children = []
    for tree in (args.a.resolve(), args.b.resolve()):
        command = [sys.executable, str(Path(__file__).resolve()), ".", ".", "--child", str(data)]
        child = subprocess.Popen(
            command + (["--warmup"] if args.warmup else []),
            cwd=tree,
            env=dict(os.environ, PYTHONPATH=str(tree)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        children.append(child)

    def turn(k: int, start: int, count: int) -> float:
        child = children[k]
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(f"{start} {count}\n")
        child.stdin.flush()
        return float(child.stdout.readline())

    for k in (0, 1):
        turn(k, 0, args.warm)
    spent, b_cheaper, chunks = [0.0, 0.0], 0, 0
    for start in range(args.warm, args.warm + args.articles, CHUNK):
        count = min(CHUNK, args.warm + args.articles - start)
        took = [0.0, 0.0]
        for k in (0, 1) if chunks % 2 else (1, 0):  # alternate who goes first
            took[k] = turn(k, start, count)
        spent = [spent[0] + took[0], spent[1] + took[1]]
        b_cheaper += took[1] < took[0]
        chunks += 1
    for child in children:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    a, b = (s / args.articles * 1e6 for s in spent)
    print(f"A {args.a}: {a:.0f} us/article; B {args.b}: {b:.0f} us/article (B - A: {b - a:+.0f});")
    print(f"B the cheaper in {b_cheaper} of {chunks} chunks of {CHUNK} articles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
