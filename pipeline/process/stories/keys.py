"""What an article brings to the comparison: its keys per feature space, with counts.

Spaces are ``t:<lang>`` (terms: content lemmas, per language, because Dutch and English
lemmas do not overlap), ``e`` (names, language-neutral, plus the single words of
multi-word names, so that "Reid" meets "Tara Reid"), ``n`` (numbers) and ``l`` (links).
:mod:`~pipeline.process.stories.similarity` weighs these counts into TF-IDF vectors.

This is where two articles in different languages can be made to share keys: number
and name normalisation, or terms mapped through a bilingual lexicon into a shared space,
belong in :func:`raw_keys` (or in a module it calls), before anything is weighted or
indexed. A new shared space is added to :data:`SHARED_SPACES` and given a weight in
:class:`~pipeline.process.stories.model.ClusterConfig`.
"""

from __future__ import annotations

from pipeline.process.analysis.features import ArticleFeatures

# Feature spaces. Term spaces are per language ("t:en", "t:nl"); the others are shared.
ENTITIES, NUMBERS, LINKS = "e", "n", "l"
SHARED_SPACES = (ENTITIES, NUMBERS, LINKS)


def raw_keys(
    article: ArticleFeatures, entity_parts: float, skip_padded: bool
) -> dict[str, dict[str, float]]:
    """Counts per space; entity words of multi-word names count ``entity_parts`` each."""
    out: dict[str, dict[str, float]] = {}
    if article.terms:
        out[f"t:{article.lang}"] = {k: float(c) for k, c in article.terms.items() if c > 0}
    names: dict[str, float] = {}
    for entity in article.entities:
        names[entity.key] = names.get(entity.key, 0.0) + 1.0
    if entity_parts > 0:
        for entity in article.entities:
            parts = entity.key.split()
            if len(parts) > 1:
                for part in parts:
                    if len(part) > 2 and part not in names:
                        names[part] = entity_parts
    if names:
        out[ENTITIES] = names
    # sets are sorted: their order would change with the interpreter's string hashing
    numbers = sorted(n for n in article.numbers if not (skip_padded and _padded(n)))
    if numbers:
        out[NUMBERS] = dict.fromkeys(numbers, 1.0)
    if article.links:
        out[LINKS] = dict.fromkeys(sorted(article.links), 1.0)
    return out


def _padded(number: str) -> bool:
    return len(number) > 1 and number[0] == "0" and number[1].isdigit()
