"""One article's analysis as stored between the two halves of processing when they run
apart (the work queue: analysis batch jobs in parallel, then the sequential job): JSON
that reads back to an equal :class:`~pipeline.process.batch.Analysed`, and the
fingerprint of the article as it was analysed (a result of an article that changed
since is stale). Pure: no store, no spaCy.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pipeline.process.analysis.features import ArticleFeatures, ArticleInput, Entity
from pipeline.process.batch import Analysed, analysed

VERSION = 1


def fingerprint(article: ArticleInput) -> str:
    """What identifies the input of an analysis: a digest of every field it reads."""
    fields = [
        article.id,
        article.title,
        article.text,
        article.url,
        article.html,
        article.language,
        article.published.isoformat() if article.published else None,
        article.source,
    ]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(result: Analysed) -> str:
    """``result`` as JSON text (sets as sorted lists; dict orders kept; the matches as
    watchlist -> why, the features without their text, which :func:`decode` makes
    again)."""
    f = result.features
    data: dict[str, Any] = {
        "v": VERSION,
        "id": f.id,
        "lang": f.lang,
        "published": f.published.isoformat() if f.published else None,
        "terms": f.terms,
        "entities": [[e.text, e.key, e.label] for e in f.entities],
        "keyphrases": list(f.keyphrases),
        "numbers": sorted(f.numbers),
        "links": sorted(f.links),
        "source": f.source,
        "minhash": result.minhash.hex(),
        "matches": {
            watchlist: {"terms": json.loads(terms), "location": location, "snippet": snippet}
            for _, watchlist, terms, location, snippet in result.matches
        },
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> Analysed:
    """The :class:`Analysed` that :func:`encode` wrote; ValueError for another format."""
    data = json.loads(text)
    if data.get("v") != VERSION:
        raise ValueError(f"stored analysis of an unknown version: {data.get('v')!r}")
    published = data["published"]
    features = ArticleFeatures(
        id=int(data["id"]),
        lang=data["lang"],
        published=datetime.fromisoformat(published) if published else None,
        terms={str(k): int(v) for k, v in data["terms"].items()},
        entities=tuple(Entity(text, key, label) for text, key, label in data["entities"]),
        keyphrases=tuple(data["keyphrases"]),
        numbers=frozenset(data["numbers"]),
        links=frozenset(data["links"]),
        source=data["source"],
    )
    return analysed(features, bytes.fromhex(data["minhash"]), data["matches"])
