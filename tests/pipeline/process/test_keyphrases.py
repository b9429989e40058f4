"""``trendwatch_keyphrases``: lemma-based phrases, and the ranking against its definition."""

from __future__ import annotations

from nlp_support import EN_TEXT, NL_TEXT, analysed_doc


def test_keyphrases_are_lemma_based_and_skip_stop_words() -> None:
    doc = analysed_doc("nl", "Kabinet wil thuiswerken stimuleren", NL_TEXT)
    phrases = doc._.keyphrases
    assert phrases[0] == "thuiswerken"
    assert "medewerker" in phrases  # lemma of "medewerkers"
    assert not {"de", "het", "van", "en", "volgens"} & set(phrases)
    assert len(phrases) <= 10


def test_english_keyphrases_prefer_repeated_multiword_phrases() -> None:
    doc = analysed_doc("en", "Bank of England raises rates", EN_TEXT)
    assert "remote work" in doc._.keyphrases
    assert "the" not in doc._.keyphrases


def _ranked_by_runs(words: list[str], at: list[int], title_end: int) -> list[str]:
    """The ranking as specified, run by run: every phrase of one to three neighbouring
    content words weighs 1 + 0.5 (n - 1), thrice in the title; a multi-word phrase
    needs two occurrences or a place in the title; ties by phrase."""
    from collections import Counter

    scores: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    in_title: set[str] = set()
    runs: list[list[int]] = []
    for j in range(len(words)):
        if runs and at[j] == at[runs[-1][-1]] + 1:
            runs[-1].append(j)
        else:
            runs.append([j])
    for run in runs:
        for size in (1, 2, 3):
            for k in range(len(run) - size + 1):
                key = " ".join(words[j] for j in run[k : k + size])
                counts[key] += 1
                titled = at[run[k]] < title_end
                scores[key] += (3.0 if titled else 1.0) * (1.0 + 0.5 * (size - 1))
                if titled:
                    in_title.add(key)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, _ in ranked if " " not in k or counts[k] >= 2 or k in in_title]


def test_keyphrase_ranking_follows_its_definition() -> None:
    import random

    import numpy as np

    from pipeline.process.analysis.components.keyphrases import ranked_phrases

    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(12)]
    for _ in range(300):
        n = rng.randint(1, 40)
        words = [rng.choice(vocabulary) for _ in range(n)]
        at = np.cumsum([rng.choice([1, 1, 1, 2, 5]) for _ in range(n)])
        title_end = rng.choice([0, int(at[min(n - 1, 3)]), int(at[-1]) + 1])
        expected = _ranked_by_runs(words, at.tolist(), title_end)
        assert ranked_phrases(words, at, title_end) == expected
    # a lemma with a space in it ("in house") takes the general path, same definition
    words = ["in house", "team", "in", "house", "team", "in house", "team"]
    at = np.array([0, 1, 2, 3, 4, 6, 7])
    assert ranked_phrases(words, at, 2) == _ranked_by_runs(words, at.tolist(), 2)


def test_the_best_phrases_come_one_at_a_time_in_the_ranked_order() -> None:
    """``best_phrases`` (a heap, read as far as the extractor needs) gives the phrases in
    the order of sorting them all, also when only the first few are taken."""
    import random
    from itertools import islice

    import numpy as np

    from pipeline.process.analysis.components.keyphrases import best_phrases

    rng = random.Random(11)
    vocabulary = [f"w{i}" for i in range(15)] + ["", "één", "e-mail", "2026"]
    for _ in range(300):
        n = rng.randint(0, 60)
        words = [rng.choice(vocabulary) for _ in range(n)]
        at = np.cumsum([rng.choice([1, 1, 1, 2, 5]) for _ in range(n)]).astype(np.intp)
        title_end = rng.choice([0, 3, int(at[-1]) + 1 if n else 0])
        expected = _ranked_by_runs(words, at.tolist(), title_end)
        assert list(best_phrases(words, at, title_end)) == expected
        assert list(islice(best_phrases(words, at, title_end), 5)) == expected[:5]
