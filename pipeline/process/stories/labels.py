"""What a story shows: its label (most telling names, then keyphrases), its
representative article, and the read-only :class:`~pipeline.process.stories.model.Story`
summary the pipeline stores."""

from __future__ import annotations

import heapq
from collections.abc import Callable

from pipeline.process.stories.keys import ENTITIES
from pipeline.process.stories.model import OpenStory, Representative, Story

Similarity = Callable[[OpenStory, OpenStory], float]
Idf = Callable[[str, str], float]  # (space, key) -> inverse document frequency


def summary(story: OpenStory, idf: Idf, label_size: int) -> Story:
    """The summary of an open story."""
    assert story.rep is not None
    return Story(
        id=story.id,
        label=label(story, idf, label_size),
        representative=story.rep.id,
        size=story.size,
        first=story.first,
        last=story.last,
        langs=tuple(sorted(story.langs, key=lambda k: (-story.langs[k], k))),
    )


def label(story: OpenStory, idf: Idf, size: int) -> tuple[str, ...]:
    """Most telling names (count × IDF), then keyphrases, without repeats."""

    def name_score(item: tuple[str, tuple[int, str]]) -> tuple[float, str]:
        key, (count, _text) = item
        return (-count * idf(ENTITIES, key), key)

    # the first ``size`` in the order of the full sort (keys and phrases are unique, so
    # no ties remain): a story keeps dozens of names and phrases, a label shows three
    out: list[str] = []
    seen: set[str] = set()
    for key, (_count, text) in heapq.nsmallest(size, story.names.items(), key=name_score):
        out.append(text)
        seen.add(key)
    # size - len(out) phrases are taken, passing over at most len(out) that are a
    # name's key: the first ``size`` phrases are enough
    phrases = heapq.nsmallest(size, story.phrases.items(), key=lambda kv: (-kv[1], kv[0]))
    for phrase, _ in phrases:
        if len(out) >= size:
            break
        if phrase not in seen:
            out.append(phrase)
            seen.add(phrase)
    return tuple(out)


def better_representative(
    story: OpenStory,
    a: Representative | None,
    b: Representative | None,
    similarity: Similarity,
) -> Representative | None:
    """Of two representatives, the one closer to the story now; ties: lower id."""
    if a is None or b is None:
        return a or b
    score_a = similarity(_as_story(a), story)
    score_b = similarity(_as_story(b), story)
    if score_b > score_a or (score_b == score_a and b.id < a.id):
        return b
    return a


def _as_story(rep: Representative) -> OpenStory:
    return OpenStory(0, None, None, size=1, langs={rep.lang: 1}, sums=rep.vectors)
