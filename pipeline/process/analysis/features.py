"""The NLP stage's plain, picklable data: what goes in (ArticleInput, NlpConfig) and
what comes out of one article (ArticleFeatures).

``pipeline.process.analysis.analyse`` fills these in (language, spaCy, lemmas, entities,
keyphrases); dedup, story clustering and trends read them. Nothing here imports spaCy, so the main
process of ``trendwatch process`` does not load it when worker processes do the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipeline.process.watchlists.matching import fold


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


@dataclass(frozen=True)
class ArticleInput:
    id: int
    title: str
    text: str
    url: str | None = None
    html: str = ""  # sanitised content HTML, for the links it holds
    language: str | None = None  # the source's language, a hint
    published: datetime | None = None
    source: str = ""


@dataclass(frozen=True)
class GazetteerEntry:
    """A configured entity: canonical name, label and aliases."""

    name: str
    label: str = "ENTITY"
    aliases: tuple[str, ...] = ()


def entity_key(text: str) -> str:
    """Comparable form of an entity name: folded, single-spaced, without a trailing
    possessive (``KPN’s`` → ``kpn``)."""
    words = [fold(w) for w in text.split()]
    if words and words[-1].endswith("'s"):
        words[-1] = words[-1][:-2]
    return " ".join(w for w in words if w)


@dataclass(frozen=True)
class NlpConfig:
    models: tuple[tuple[str, str], ...] = ()  # (lang, installed pipeline name)
    gazetteer: tuple[GazetteerEntry, ...] = ()
    batch_size: int = 64

    def model_for(self, lang: str) -> str | None:
        return dict(self.models).get(lang)
