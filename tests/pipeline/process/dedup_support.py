"""Helpers of the dedup tests: the fixture articles of ``tests/fixtures/dedup/``, their
signatures, and an index of them."""

from __future__ import annotations

from pathlib import Path

from pipeline.process.dedup import NearDuplicateIndex, Signature, signature

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dedup"


def text(name: str) -> str:
    """A fixture article as the pipeline would pass it: headline, blank line, body."""
    return (FIXTURES / f"{name}.txt").read_text("utf-8")


def sig(name: str) -> Signature:
    """The signature of a fixture article."""
    return signature(text(name))


def index_of(*names: str) -> NearDuplicateIndex:
    """An index of fixture articles, with ids 1, 2... in the order given."""
    index = NearDuplicateIndex()
    for article_id, name in enumerate(names, start=1):
        index.add(article_id, sig(name))
    return index
