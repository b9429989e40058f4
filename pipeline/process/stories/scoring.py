"""B-cubed scoring of a clustering against gold labels (``bench/cluster_eval.py`` and the
tests score the clusterer with it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def bcubed(predicted: Mapping[Any, Any], gold: Mapping[Any, Any]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering against gold labels.

    Both map item -> cluster label; only items present in both are scored. For each item,
    precision is the share of its predicted cluster that shares its gold label, recall the
    share of its gold cluster that shares its predicted cluster; both are averaged over
    items (Bagga and Baldwin 1998), and F1 is their harmonic mean.
    """
    items = [i for i in predicted if i in gold]
    if not items:
        return 0.0, 0.0, 0.0
    pred_sizes = _sizes(predicted[i] for i in items)
    gold_sizes = _sizes(gold[i] for i in items)
    both = _sizes((predicted[i], gold[i]) for i in items)
    precision = sum(both[(predicted[i], gold[i])] / pred_sizes[predicted[i]] for i in items)
    recall = sum(both[(predicted[i], gold[i])] / gold_sizes[gold[i]] for i in items)
    precision /= len(items)
    recall /= len(items)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _sizes(labels: Iterable[Any]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for label in labels:
        out[label] = out.get(label, 0) + 1
    return out
