"""What the NLP stage extracts from one article: plain, picklable data.

``pipeline.analysis`` fills these in (language, spaCy, lemmas, entities, keyphrases);
dedup, story clustering and trends read them. Nothing here does any work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Entity:
    text: str  # as it stands in the article ("Ministerie van SZW")
    key: str  # normalised for comparison: folded, single spaces ("ministerie van szw")
    label: str  # "PERSON", "ORG", "GPE", "NAME" (rule-based name detector), ...


@dataclass(frozen=True)
class ArticleFeatures:
    """The features of one article that the later stages compare."""

    id: int
    lang: str  # "nl", "en", other ISO 639-1 codes, or "und" when unknown
    published: datetime | None  # publication date, else first seen (UTC, aware)
    # lemma -> count of content words (folded lemmas, stop words and numbers left out)
    terms: dict[str, int] = field(default_factory=dict)
    entities: tuple[Entity, ...] = ()
    keyphrases: tuple[str, ...] = ()  # best first, lemma-based, folded
    numbers: frozenset[str] = frozenset()  # normalised numbers: "7,1" -> "7.1", "2.000" -> "2000"
    links: frozenset[str] = frozenset()  # canonical URLs the article is or links to
    source: str = ""  # source name, for "also in" and preferred-source rules
