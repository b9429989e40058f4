"""How alike two stories are: the one-pass similarity equals the plain mean of the
components, and the bounded form (similarity_from) is the very same float or certainly
below its limit; the clusterer decides alike with and without the bound."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.stories import ClusterConfig, StoryClusterer, clusterer
from pipeline.process.stories.keys import CONCEPTS, LINKS, SHARED_SPACES
from pipeline.process.stories.model import OpenStory
from pipeline.process.stories.similarity import (
    LEXICON_CAP,
    components,
    decay,
    similarity,
    similarity_from,
    weights_of,
)
from story_support import T0, cluster, scattered

WEIGHTS = weights_of(ClusterConfig())
HALF_LIFE = ClusterConfig().half_life


def plain(a: OpenStory, b: OpenStory, weights: dict[str, float], half_life: timedelta | None):
    """The similarity as the mean over :func:`components`, written out plainly."""
    found = components(a, b)
    if not found.get(LINKS):
        found.pop(LINKS, None)
    concepts = found.pop(CONCEPTS, 0.0)
    norm = sum(weights[space] for space in found)
    if norm == 0.0:
        return 0.0
    total = sum(weights[space] * value for space, value in found.items())
    if concepts:
        evidence = sum(weights[s] * v for s, v in found.items() if s in SHARED_SPACES)
        total += min(weights[CONCEPTS] * concepts, weights[LEXICON_CAP] * evidence)
    return total / norm * decay(a, b, half_life)


def _vector(rng: random.Random, prefix: str, vocabulary: int, size: int) -> dict[str, float]:
    keys = rng.sample(range(vocabulary), min(size, vocabulary))
    return {f"{prefix}{k}": round(rng.uniform(1e-6, 3.0), 6) for k in keys}


def random_story(rng: random.Random, id_: int) -> OpenStory:
    """A story of one or two languages with term, concept, name, number and link
    vectors drawn from small vocabularies (so that they share keys), or without some."""
    langs = {lang: rng.randint(1, 4) for lang in rng.sample(["nl", "en", "de"], rng.randint(1, 2))}
    sums = {}
    for lang in langs:
        if rng.random() < 0.9:
            sums[f"t:{lang}"] = _vector(rng, "w", 60, rng.randint(1, 40))
        if rng.random() < 0.6:
            sums[f"{CONCEPTS}:{lang}"] = _vector(rng, "c", 12, rng.randint(1, 6))
    for space, vocabulary in (("e", 20), ("n", 15), ("l", 8)):
        if rng.random() < 0.7:
            sums[space] = _vector(rng, space, vocabulary, rng.randint(1, 6))
    first = T0 + timedelta(hours=rng.randint(0, 300)) if rng.random() < 0.9 else None
    last = first + timedelta(hours=rng.randint(0, 100)) if first else None
    return OpenStory(id_, first, last, size=sum(langs.values()), langs=langs, sums=sums)


def story_pairs(seed: int, count: int) -> list[tuple[OpenStory, OpenStory]]:
    rng = random.Random(seed)
    return [(random_story(rng, 2 * i + 1), random_story(rng, 2 * i + 2)) for i in range(count)]


def test_similarity_is_the_plain_mean_of_the_components() -> None:
    weights = [WEIGHTS, weights_of(ClusterConfig(lexicon_weight=2.0, lexicon_cap=0.3))]
    for a, b in story_pairs(1, 3000):
        for w in weights:
            for half_life in (HALF_LIFE, None):
                assert similarity(a, b, w, half_life) == plain(a, b, w, half_life)
                assert similarity(b, a, w, half_life) == plain(b, a, w, half_life)


def test_similarity_from_is_the_similarity_or_certainly_below_its_limit() -> None:
    left_out = 0
    for a, b in story_pairs(2, 3000):
        exact = similarity(a, b, WEIGHTS, HALF_LIFE)
        for limit in (0.0, exact, exact * 0.5, exact * 1.5, exact + 1e-12, 0.1, 0.2, 0.5):
            found = similarity_from(a, b, WEIGHTS, HALF_LIFE, limit)
            if found is None:
                assert exact < limit
                left_out += 1
            else:
                assert found == exact
        # a limit at the similarity itself never leaves it out
        assert similarity_from(a, b, WEIGHTS, HALF_LIFE, exact) == exact
    assert left_out > 3000  # the bound does leave comparisons out


def test_similarity_from_uses_a_length_only_while_the_vector_stays() -> None:
    a = OpenStory(1, None, None, size=1, langs={"en": 1}, sums={"t:en": {"x": 1.0}})
    b = OpenStory(2, None, None, size=2, langs={"en": 2}, sums={"t:en": {"x": 1.0, "y": 1.0}})
    assert similarity_from(a, b, WEIGHTS, HALF_LIFE, 0.9) is None  # at most 2 ** 0.5 / 2
    b.sums = {"t:en": {"x": 2.0}}  # replaced: its length (now 2) is measured again
    assert similarity_from(a, b, WEIGHTS, HALF_LIFE, 0.9) == 1.0


def _bilingual(n: int, seed: int) -> list[ArticleFeatures]:
    """Articles of a few events in two languages that share names and numbers."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        event = rng.randrange(12)
        lang = rng.choice(["nl", "en"])
        words = [f"{lang}{event}w{k}" for k in range(12)] + [f"{lang}common{k}" for k in range(8)]
        terms = {w: rng.randint(1, 2) for w in rng.sample(words, 9)}
        out.append(
            ArticleFeatures(
                i + 1,
                lang,
                T0 + timedelta(hours=event * 20 + rng.random() * 30),
                terms=terms,
                numbers=frozenset({str(100 + event), str(rng.randrange(300, 320))}),
                links=frozenset({f"https://x.example/{event}"} if rng.random() < 0.3 else ()),
            )
        )
    return out


@pytest.mark.parametrize("which", ["fixture", "scattered", "bilingual"])
def test_the_clusterer_decides_alike_without_the_bound(
    which: str, story_articles: list[ArticleFeatures], monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = {
        "fixture": lambda: story_articles,
        "scattered": lambda: scattered(600, seed=7),
        "bilingual": lambda: _bilingual(500, seed=3),
    }[which]()
    bounded, fast = cluster(stream)
    assignments = _assignments(stream)
    with monkeypatch.context() as patch:

        def in_full(a, b, weights, half_life, limit):  # type: ignore[no-untyped-def]
            return similarity(a, b, weights, half_life)

        patch.setattr(clusterer, "similarity_from", in_full)
        full, reference = cluster(stream)
        assert _assignments(stream) == assignments
    assert bounded == full
    assert fast.dump() == reference.dump()
    assert fast.bounded > 0 and reference.bounded == 0
    assert fast.comparisons + fast.bounded == reference.comparisons


def _assignments(stream: list[ArticleFeatures]) -> list[object]:
    one = StoryClusterer()
    return [one.add(article) for article in stream]
