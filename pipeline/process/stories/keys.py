"""What an article brings to the comparison: its keys per feature space, with counts.

Spaces are ``t:<lang>`` (terms: content lemmas, per language, because Dutch and English
lemmas do not overlap), ``e`` (names, language-neutral, plus the single words of
multi-word names, so that "Reid" meets "Tara Reid"), ``n`` (numbers), ``l`` (links)
and ``x:<lang>`` (concepts of the bilingual lexicon, per language: they are only
compared between members of different languages, where terms cannot be).
:mod:`~pipeline.process.stories.similarity` weighs these counts into TF-IDF vectors.

This is where two articles in different languages are made to share keys:

- numbers arrive normalised from the analysis (:mod:`pipeline.process.analysis.numbers`:
  ``1.200`` / ``1,200``, ``€ 3,5 miljoen`` / ``€3.5m``, ``4,1 procent`` / ``4.1%``);
- names are taken in their common form (:class:`~.lexicon.NameForms`): a leading
  article or descriptive word dropped (``de FNV``, ``Dutch union FNV``: ``fnv``), the
  other-language forms of places and public bodies mapped to one key (``Luik`` /
  ``Liège``, ``ministerie van Sociale Zaken`` / ``Ministry of Social Affairs``), and
  known names inside a longer one added. Aliases from the gazetteer and the watchlists'
  entities arrive already as their canonical key (the entity ruler's id);
- terms are mapped through the bilingual lexicon (:class:`~.lexicon.Lexicon`:
  ``staking`` / ``strike``, ``ontslag`` / ``layoff``) into concepts; an acronym that
  the lexicon lists (``AI``, ``HR``, ``CAO``: written as names, but words of the
  domain) is not a name: shared, it would join two stories on the theme alone.
"""

from __future__ import annotations

from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.stories.lexicon import CONNECTORS, Lexicon, NameForms

# Feature spaces. Term and concept spaces are per language ("t:en", "x:nl"); the
# others are shared.
ENTITIES, NUMBERS, LINKS = "e", "n", "l"
SHARED_SPACES = (ENTITIES, NUMBERS, LINKS)
CONCEPTS = "x"  # the prefix of the concept spaces: "x:<lang>"


def raw_keys(
    article: ArticleFeatures,
    entity_parts: float,
    skip_padded: bool,
    names: NameForms | None = None,
    lexicon: Lexicon | None = None,
) -> dict[str, dict[str, float]]:
    """Counts per space; entity words of multi-word names count ``entity_parts`` each.
    ``names``: the name forms to compare names by (None: the keys as they are);
    ``lexicon``: the lexicon for the concept space (None: no concepts)."""
    out: dict[str, dict[str, float]] = {}
    if article.terms:
        out[f"t:{article.lang}"] = {k: float(c) for k, c in article.terms.items() if c > 0}
        if lexicon is not None:
            concepts = lexicon.concepts(article.terms, article.lang)
            if concepts:
                out[f"{CONCEPTS}:{article.lang}"] = concepts
    keys = [
        entity.key
        for entity in article.entities
        if lexicon is None
        or not _acronym_of_the_domain(entity.text, entity.key, article.lang, lexicon)
    ]
    found = name_counts(keys, entity_parts, names)
    if found:
        out[ENTITIES] = found
    # sets are sorted: their order would change with the interpreter's string hashing
    numbers = sorted(n for n in article.numbers if not (skip_padded and _padded(n)))
    if numbers:
        out[NUMBERS] = dict.fromkeys(numbers, 1.0)
    if article.links:
        out[LINKS] = dict.fromkeys(sorted(article.links), 1.0)
    return out


def name_counts(keys: list[str], entity_parts: float, names: NameForms | None) -> dict[str, float]:
    """Name keys with counts: each entity key (in its common form when ``names`` is
    given) counts 1, as do known names inside it; the single words of multi-word names
    count ``entity_parts`` unless they are names themselves (connectors such as ``van``
    or ``of`` are not words of a name)."""
    whole: dict[str, float] = {}
    parts: list[str] = []
    for key in keys:
        name = names.canonical(key) if names is not None else key
        whole[name] = whole.get(name, 0.0) + 1.0
        if names is not None:
            for inner in names.inside(name):
                whole.setdefault(inner, 1.0)
        words = name.split()
        if len(words) > 1:
            parts.extend(w for w in words if names is None or w not in CONNECTORS)
    if entity_parts > 0:
        for part in parts:
            if len(part) > 2 and part not in whole:
                whole[part] = entity_parts
    return whole


def _acronym_of_the_domain(text: str, key: str, lang: str, lexicon: Lexicon) -> bool:
    """``AI``, ``HR``, ``CAO``: an acronym that the lexicon lists as a word of the domain
    (only acronyms: ``Bush`` or ``Court`` stay names whatever a dictionary lists)."""
    return text.isupper() and " " not in key and lexicon.lists(key, lang)


def _padded(number: str) -> bool:
    return len(number) > 1 and number[0] == "0" and number[1].isdigit()
