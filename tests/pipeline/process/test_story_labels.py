"""A story's label: its most telling names, then its keyphrases, without repeats."""

from __future__ import annotations

import random

from pipeline.process.stories.keys import ENTITIES
from pipeline.process.stories.labels import label
from pipeline.process.stories.model import OpenStory


def _plain_label(story: OpenStory, idf, size: int) -> tuple[str, ...]:
    """The label by sorting every name and phrase (what label computes)."""
    names = sorted(story.names.items(), key=lambda kv: (-kv[1][0] * idf(ENTITIES, kv[0]), kv[0]))
    out = [text for _, (_, text) in names[:size]]
    seen = {key for key, _ in names[:size]}
    for phrase, _ in sorted(story.phrases.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(out) < size and phrase not in seen:
            out.append(phrase)
            seen.add(phrase)
    return tuple(out)


def test_names_by_count_and_rarity_then_phrases() -> None:
    story = OpenStory(1, None, None, size=3)
    story.names = {"fnv": (2, "FNV"), "jumbo": (3, "Jumbo"), "veghel": (1, "Veghel")}
    story.phrases = {"banen": 4, "jumbo": 5, "cao": 4}
    rare = {"fnv": 3.0, "jumbo": 1.0, "veghel": 1.0}
    assert label(story, lambda space, key: rare[key], 2) == ("FNV", "Jumbo")
    # a phrase that is a name already is passed over; ties by the phrase
    assert label(story, lambda space, key: rare[key], 5) == (
        "FNV",
        "Jumbo",
        "Veghel",
        "banen",
        "cao",
    )
    story.names = {}
    assert label(story, lambda space, key: 1.0, 2) == ("jumbo", "banen")


def test_the_label_equals_the_first_of_a_full_sort_on_random_stories() -> None:
    rng = random.Random(5)
    words = [f"w{i}" for i in range(40)]
    for _ in range(2000):
        story = OpenStory(1, None, None, size=1)
        story.names = {
            w: (rng.randint(1, 4), w.upper()) for w in rng.sample(words, rng.randint(0, 12))
        }
        story.phrases = {w: rng.randint(1, 4) for w in rng.sample(words, rng.randint(0, 12))}
        weights = {w: rng.choice([1.0, 1.5, 2.0]) for w in words}

        def idf(space: str, key: str, weights: dict[str, float] = weights) -> float:
            return weights[key]

        size = rng.randint(1, 6)
        assert label(story, idf, size) == _plain_label(story, idf, size)
