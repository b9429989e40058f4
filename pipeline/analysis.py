"""From stored article text to ArticleFeatures: language, spaCy, lemmas, entities,
keyphrases, numbers and links. Pure with respect to I/O: text in, plain data out, so
it runs the same in the main process or in a worker process."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from spacy.attrs import IS_ALPHA, IS_PUNCT, IS_SPACE, IS_STOP, LEMMA, LENGTH, LOWER
from spacy.tokens import Doc

from crawlers.urls import canonical_url
from pipeline.features import ArticleFeatures, ArticleInput, Entity
from pipeline.language import detect_language
from pipeline.matching import fold
from pipeline.nlp import NlpConfig, analyse_docs, entity_key

MAX_TERMS = 200  # the terms kept per article: enough for TF-IDF, bounded for storage
MAX_ENTITIES = 40
_HREF = re.compile(r"""href\s*=\s*["']([^"'<>\s]+)["']""", re.IGNORECASE)
_DIGITS = re.compile(r"\d")


def analyse(articles: Sequence[ArticleInput], config: NlpConfig) -> list[ArticleFeatures]:
    """Features of each article, in input order. Articles are grouped per detected
    language so each language's pipeline runs batched."""
    langs = [detect_language(f"{a.title}. {a.text}", a.language) for a in articles]
    out: list[ArticleFeatures | None] = [None] * len(articles)
    for lang in sorted(set(langs)):
        idx = [i for i, la in enumerate(langs) if la == lang]
        docs = analyse_docs(
            lang if lang != "und" else "xx",
            [(articles[i].title, articles[i].text) for i in idx],
            config,
        )
        for i, doc in zip(idx, docs, strict=True):
            out[i] = features_from_doc(articles[i], lang, doc)
    return [f for f in out if f is not None]


_FEATURE_ATTRS = [IS_ALPHA, IS_STOP, IS_PUNCT, IS_SPACE, LENGTH, LEMMA, LOWER]


def features_from_doc(article: ArticleInput, lang: str, doc: Doc) -> ArticleFeatures:
    terms: Counter[str] = Counter()
    numbers: set[str] = set()
    strings = doc.vocab.strings
    rows = doc.to_array(_FEATURE_ATTRS).tolist() if len(doc) else []
    for i, (alpha, stop, punct, space, length, lem, low) in enumerate(rows):
        if alpha:
            if not stop and length > 1:
                terms[fold(strings[lem] or strings[low])] += 1
        elif not punct and not space:
            text = doc[i].text
            if _DIGITS.search(text):
                number = normalise_number(text, lang)
                if number:
                    numbers.add(number)
    return ArticleFeatures(
        id=article.id,
        lang=lang,
        published=article.published,
        terms=dict(sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS]),
        entities=_entities(doc),
        keyphrases=tuple(doc._.keyphrases),
        numbers=frozenset(numbers),
        links=frozenset(_links(article)),
        source=article.source,
    )


def _entities(doc: Doc) -> tuple[Entity, ...]:
    seen: dict[str, Entity] = {}
    for ent in doc.ents:
        text = ent.text.strip()
        key = ent.ent_id_ or entity_key(text)
        if key and key not in seen:
            seen[key] = Entity(text=text, key=key, label=ent.label_)
        if len(seen) >= MAX_ENTITIES:
            break
    return tuple(seen.values())


def _links(article: ArticleInput) -> set[str]:
    links = set()
    if article.url:
        links.add(canonical_url(article.url))
    for href in _HREF.findall(article.html or ""):
        if href.startswith(("http://", "https://")):
            try:
                links.add(canonical_url(href))
            except ValueError:
                continue
    return links


def normalise_number(text: str, lang: str) -> str | None:
    """One spelling per number: Dutch ``2.000`` and English ``2,000`` are ``2000``;
    Dutch ``7,1`` and English ``7.1`` are ``7.1``. Single digits say too little to
    tell events apart and are dropped."""
    raw = text.strip().rstrip("%").lstrip("€$£")
    if not raw or not raw[0].isdigit():
        return None
    thousands, decimal = (".", ",") if lang == "nl" else (",", ".")
    grouped = rf"\d{{1,3}}({re.escape(thousands)}\d{{3}})+({re.escape(decimal)}\d+)?"
    if re.fullmatch(grouped, raw):
        raw = raw.replace(thousands, "")
    raw = raw.replace(decimal, ".")
    if not re.fullmatch(r"\d+(\.\d+)?", raw):
        return None
    if "." in raw:
        raw = raw.rstrip("0").rstrip(".")
    return raw if len(raw) > 1 else None
