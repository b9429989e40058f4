"""How similar an article is to a story, or a story to another.

A weighted mean of up to four comparisons (terms, names, numbers, links: the spaces of
:mod:`~pipeline.process.stories.keys`), each the average over all member pairs of a
cosine between TF-IDF vectors. Summing the members' unit vectors per story makes that
average one dot product (average linkage, as in the batch baseline, without keeping the
members). The mean leaves out what one side lacks (terms across languages, numbers in an
article without any; links unless one is shared), and fades with the time between the
two (``half_life``).

Inverse document frequencies are learnt as articles arrive (:class:`Frequencies`), so
common words and names weigh little.
"""

from __future__ import annotations

import math
from datetime import timedelta

from pipeline.process.stories.keys import CONCEPTS, ENTITIES, LINKS, NUMBERS, SHARED_SPACES
from pipeline.process.stories.model import ClusterConfig, OpenStory
from pipeline.process.stories.vectors import Vector, dot, prune, tf, top, unit

LEXICON_CAP = "x-cap"  # in weights_of: the lexicon's bonus relative to the evidence


class Frequencies:
    """Document frequencies per feature space, and the article vectors weighted by them.

    ``docs``: language -> articles seen; ``df``: space -> key -> articles with the key.
    Both are part of the clusterer's stored state.
    """

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.docs: dict[str, int] = {}  # language -> articles seen
        self.df: dict[str, dict[str, int]] = {}  # space -> key -> articles with it

    def count(self, raw: dict[str, dict[str, float]], lang: str) -> None:
        """Update document counts first, so an article's own keys count (as in batch IDF)."""
        self.docs[lang] = self.docs.get(lang, 0) + 1
        for space, keys in raw.items():
            counts = self.df.setdefault(space, {})
            get = counts.get
            for key in keys:
                counts[key] = get(key, 0) + 1
            if len(counts) > self.config.max_df_keys:
                self.df[space] = prune(counts, self.config.max_df_keys)

    def idf(self, space: str, key: str) -> float:
        return math.log(self._idf_total(space) / (1 + self.df.get(space, {}).get(key, 0))) + 1.0

    def _idf_total(self, space: str) -> int:
        """The numerator of :meth:`idf`: one more than the articles the space counts (a
        space per language, ``t:nl`` or ``x:nl``, counts that language's)."""
        return 1 + (self.docs.get(space[2:], 0) if space[1:2] == ":" else sum(self.docs.values()))

    def vectorise(self, raw: dict[str, dict[str, float]]) -> dict[str, Vector]:
        """Unit TF-IDF vectors per space (from :func:`~pipeline.process.stories.keys.raw_keys`),
        terms cut to ``doc_terms``."""
        out: dict[str, Vector] = {}
        binary = self.config.binary_tf
        log = math.log
        for space, counts in raw.items():
            # tf(c, binary) * idf(space, k), inlined: this runs for every key of every article
            total = self._idf_total(space)
            df = self.df.get(space, {}).get
            vec = {
                k: ((c if c < 1.0 else 1.0) if binary else tf(c, binary))
                * (log(total / (1 + df(k, 0))) + 1.0)
                for k, c in counts.items()
                if c > 0
            }
            if space.startswith("t:"):
                vec = top(vec, self.config.doc_terms)
            vec = unit(vec)
            if vec:
                out[space] = vec
        return out


def weights_of(config: ClusterConfig) -> dict[str, float]:
    """The weight of each comparison in the mean (``"t"``: terms of any language;
    ``"x"``: the lexicon's concepts, a bonus outside the mean, see :func:`similarity`)."""
    return {
        "t": config.term_weight,
        ENTITIES: config.entity_weight,
        NUMBERS: config.number_weight,
        LINKS: config.link_weight,
        CONCEPTS: config.lexicon_weight,
        LEXICON_CAP: config.lexicon_cap,
    }


def similarity(
    a: OpenStory, b: OpenStory, weights: dict[str, float], half_life: timedelta | None
) -> float:
    """Weighted mean of the average-link cosines of the spaces both stories have,
    faded by the time between them.

    A space only one side has is left out rather than counted as zero: a Dutch and an
    English article have no terms in common by construction, and an article without
    numbers says nothing about numbers. Links only count when some are shared: every
    article links to itself, so "no shared link" is the normal case, not evidence.

    The lexicon's concepts, compared only between members of different languages
    (``"x"``), are not a term of the mean but a bonus on top of it, of at most what the
    names, numbers and links share: shared domain words alone (two strikes at two bus
    companies) never make two stories alike, and a true pair whose names and numbers
    meet only in part is lifted.
    """
    found = _similarity(a, b, weights, half_life, None)
    assert found is not None  # (only a lower limit can leave it out)
    return found


def similarity_from(
    a: OpenStory,
    b: OpenStory,
    weights: dict[str, float],
    half_life: timedelta | None,
    limit: float,
) -> float | None:
    """:func:`similarity`, the very same float, or None when it is certainly below
    ``limit``: the names', numbers' and links' cosines are computed first (short
    vectors), and when even the terms' cosines at their Cauchy-Schwarz bound (the
    product of the vectors' lengths) and the lexicon's bonus at its cap could not lift
    the mean to ``limit``, the long term and concept vectors are never compared. Exact:
    every float of the bound is at least the one it stands for, and the arithmetic
    after it is the same (rounding never reverses an order)."""
    return _similarity(a, b, weights, half_life, limit)


# the terms' bound is raised by this much, far beyond the rounding of the lengths, the
# products and the sums (each off by a few units in the last place at most)
_SLACK = 1.0 + 1e-9
_TINY = 1e-300


def _similarity(
    a: OpenStory,
    b: OpenStory,
    weights: dict[str, float],
    half_life: timedelta | None,
    limit: float | None,
) -> float | None:
    """:func:`similarity` (``limit`` None) or :func:`similarity_from`: :func:`components`
    and the mean over them in one pass, without the dict between them: the same floats,
    summed in the same order (terms, names, numbers, links; tests compare it with the
    plain form). This runs for every comparison."""
    a_sums, b_sums = a.sums, b.sums
    a_langs, b_langs = a.langs, b.langs
    pairs = a.size * b.size
    shared: list[tuple[float, float]] = []  # (weight, weight * cosine) of names, numbers, links
    for space in SHARED_SPACES:
        va = a_sums.get(space)
        if va:
            vb = b_sums.get(space)
            if vb:
                value = dot(va, vb) / pairs
                if value or space != LINKS:  # links only count when some are shared
                    weight = weights[space]
                    shared.append((weight, weight * value))
    evidence = 0.0  # what names, numbers and links share, which the lexicon may at most double
    for _, value in shared:
        evidence += value
    fade = decay(a, b, half_life)
    one_language = len(a_langs) == 1 and a_langs.keys() == b_langs.keys()
    if limit is not None:
        # the bound: terms at |A| |B| per language, the lexicon's bonus at its cap
        product = 0.0
        count = 0
        for lang in a_langs if one_language else sorted(a_langs.keys() & b_langs.keys()):
            space = _TERMS.get(lang) or f"t:{lang}"
            if space in a_sums and space in b_sums:
                product += length(a, space) * length(b, space)
                count += a_langs[lang] * b_langs[lang]
        terms = product / count * _SLACK + _TINY if count else None
        bonus = 0.0 if one_language else weights[LEXICON_CAP] * evidence
        if _mean(terms, shared, bonus, weights, fade) < limit:
            return None
    concepts = 0.0
    if one_language:
        [(lang, n)] = a_langs.items()
        space = _TERMS.get(lang) or f"t:{lang}"
        terms = None
        if space in a_sums and space in b_sums:
            terms = dot(a_sums[space], b_sums[space]) / (n * b_langs[lang])
    else:
        terms, concepts = _across(a, b)
    bonus = min(weights[CONCEPTS] * concepts, weights[LEXICON_CAP] * evidence) if concepts else 0.0
    return _mean(terms, shared, bonus, weights, fade)


def _mean(
    terms: float | None,
    shared: list[tuple[float, float]],
    bonus: float,
    weights: dict[str, float],
    fade: float,
) -> float:
    """The weighted mean of the cosines (terms first, then ``shared``), the lexicon's
    ``bonus`` on top (when there is one), faded."""
    norm = total = 0.0
    if terms is not None:
        weight = weights["t"]
        norm += weight
        total += weight * terms
    for weight, value in shared:
        norm += weight
        total += value
    if norm == 0.0:
        return 0.0
    if bonus:
        total += bonus
    return total / norm * fade


def length(story: OpenStory, space: str) -> float:
    """The Euclidean length of a story's vector in ``space``, remembered with the story
    until the vector is replaced (the clusterer replaces a story's vectors, never
    changes them)."""
    vec = story.sums[space]
    known = story.lengths.get(space)
    if known is not None and known[0] is vec:
        return known[1]
    value = math.hypot(*vec.values())  # within an ulp or so: far inside the bound's slack
    story.lengths[space] = (vec, value)
    return value


def _across(a: OpenStory, b: OpenStory) -> tuple[float | None, float]:
    """The terms' and the concepts' cosines of two stories not both in one language
    (None and 0.0 when they have none to compare; see :func:`components`)."""
    a_sums, b_sums, a_langs, b_langs = a.sums, b.sums, a.langs, b.langs
    product = pairs = 0.0
    for lang in sorted(a_langs.keys() & b_langs.keys()):
        space = _TERMS.get(lang) or f"t:{lang}"
        if space in a_sums and space in b_sums:
            product += dot(a_sums[space], b_sums[space])
            pairs += a_langs[lang] * b_langs[lang]
    products = [
        dot(a_sums[sa], b_sums[sb])
        for la in sorted(a_langs)
        if (sa := _CONCEPT_SPACES.get(la) or f"{CONCEPTS}:{la}") in a_sums
        for lb in sorted(b_langs)
        if la != lb and (sb := _CONCEPT_SPACES.get(lb) or f"{CONCEPTS}:{lb}") in b_sums
    ]
    cross = math.fsum(products)
    return (product / pairs if pairs else None), (cross / (a.size * b.size) if cross else 0.0)


def decay(a: OpenStory, b: OpenStory, half_life: timedelta | None) -> float:
    """How much similarity is left after the time between two stories."""
    if half_life is None:
        return 1.0
    return 0.5 ** (gap(a, b) / half_life)


def components(a: OpenStory, b: OpenStory) -> dict[str, float]:
    """Average-link cosine per space, for the spaces both stories have.

    With unit member vectors, the mean cosine over all member pairs equals the dot product
    of the two sums divided by the number of pairs. Terms only pair members of the same
    language, concepts (``"x"``) only members of different languages.
    """
    out: dict[str, float] = {}
    a_sums, b_sums = a.sums, b.sums
    if len(a.langs) == 1 and a.langs.keys() == b.langs.keys():
        # one language on both sides (most comparisons): terms, and no concepts, which
        # only pair members of different languages
        [(lang, n)] = a.langs.items()
        space = _TERMS.get(lang) or f"t:{lang}"
        if space in a_sums and space in b_sums:
            out["t"] = dot(a_sums[space], b_sums[space]) / (n * b.langs[lang])
        _shared(a, b, out)
        return out
    product = pairs = 0.0
    for lang in sorted(set(a.langs) & set(b.langs)):
        space = f"t:{lang}"
        if space in a.sums and space in b.sums:
            product += dot(a.sums[space], b.sums[space])
            pairs += a.langs[lang] * b.langs[lang]
    if pairs:
        out["t"] = product / pairs
    products = [
        dot(a.sums[f"{CONCEPTS}:{la}"], b.sums[f"{CONCEPTS}:{lb}"])
        for la in sorted(a.langs)
        for lb in sorted(b.langs)
        if la != lb and f"{CONCEPTS}:{la}" in a.sums and f"{CONCEPTS}:{lb}" in b.sums
    ]
    cross = math.fsum(products)
    if cross:
        # averaged over all member pairs: pairs in one language add nothing here
        out[CONCEPTS] = cross / (a.size * b.size)
    _shared(a, b, out)
    return out


_LANGS = ("nl", "en", "de", "fr", "es", "it", "und")  # space names made once for these
_TERMS = {lang: f"t:{lang}" for lang in _LANGS}
_CONCEPT_SPACES = {lang: f"{CONCEPTS}:{lang}" for lang in _LANGS}


def _shared(a: OpenStory, b: OpenStory, out: dict[str, float]) -> None:
    """The names', numbers' and links' cosines, into ``out`` (see :func:`components`)."""
    a_sums, b_sums = a.sums, b.sums
    for space in SHARED_SPACES:
        if a_sums.get(space) and b_sums.get(space):
            out[space] = dot(a_sums[space], b_sums[space]) / (a.size * b.size)


def gap(a: OpenStory, b: OpenStory) -> timedelta:
    """Time between two stories' spans (zero when they overlap or a date is unknown)."""
    if a.first is None or a.last is None or b.first is None or b.last is None:
        return timedelta(0)
    return max(timedelta(0), b.first - a.last, a.first - b.last)
