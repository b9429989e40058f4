"""What the store writes of one processed article that depends on the article alone, as
text: its features as ``article_features`` keeps them (JSON) with the ``lemmas`` column
of its search row (:class:`~pipeline.store.rows.FeatureText`), and its watchlist matches
as ``matches`` rows (:data:`~pipeline.store.rows.MatchRow`).

The process stage makes them where it analyses the article, in a worker process, so
that the one process that stores every batch (and clusters it) does not encode them;
``save_processed`` makes an article's :class:`FeatureText` itself when it comes
without. Either way the same text is stored. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.store.rows import FeatureText, MatchRow, ProcessedArticle
from pipeline.store.search import lemma_text
from pipeline.store.values import json_list, json_text


def feature_text(
    entities: list[dict[str, str]],
    keyphrases: list[str],
    terms: dict[str, int],
    numbers: list[str],
    links: list[str],
) -> FeatureText:
    """The features of a :class:`ProcessedArticle` (given as its fields) as the store
    writes them."""
    return FeatureText(
        json_text(entities),
        json_text(keyphrases),
        json_text(terms),
        json_text(numbers),
        json_text(links),
        lemma_text(terms),
    )


def text_of(article: ProcessedArticle) -> FeatureText:
    """``article.text``, else made from its features."""
    if article.text is not None:
        return article.text
    a = article
    return feature_text(a.entities, a.keyphrases, a.terms, a.numbers, a.links)


def match_row(article_id: int, watchlist: str, why: Mapping[str, Any]) -> MatchRow:
    """A match and its explanation (``terms``, ``location``, ``snippet``, as
    ``Explanation.as_dict`` gives them) as a row of ``matches``."""
    return (
        article_id,
        watchlist,
        json_list(why.get("terms", [])),
        why.get("location", ""),
        why.get("snippet", ""),
    )
