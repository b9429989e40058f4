"""``trendwatch_sentences``: sentences split as spaCy's own ``sentencizer`` splits them."""

from __future__ import annotations

import pytest

from nlp_support import EN_TEXT, NL_TEXT, PLAIN
from pipeline.process.analysis.nlp import build_pipeline


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_sentences_are_split_as_spacys_sentencizer_splits_them(lang: str) -> None:
    import spacy

    texts = [
        NL_TEXT,
        EN_TEXT,
        'Really?! "Yes." he said... and then: no. Ok',
        "A.B. Smith went to the U.S. today. OK.",
        "“Quote.” Next one. ) (x) . . y",
        "...",
        "Geen punt aan het eind",
        "Wat nu？ Verder。 Klaar！",
        "",
    ]
    theirs = spacy.blank(lang)
    theirs.add_pipe("sentencizer")
    ours = build_pipeline(lang, PLAIN)
    assert ours.get_pipe("sentencizer").__class__.__name__ == "SentenceSplitter"
    for text in texts:
        expected = [t.is_sent_start for t in theirs(text)]
        assert [t.is_sent_start for t in ours(text)] == expected, text
    assert len(list(ours(NL_TEXT).sents)) == 4


def test_member_is_isin_for_hash_tables() -> None:
    import numpy as np

    from pipeline.process.analysis.components.hashes import member

    rng = np.random.default_rng(5)
    table = np.unique(rng.integers(0, 2**64 - 1, 40, dtype=np.uint64, endpoint=True))
    values = np.concatenate(
        [
            rng.choice(table, 300),
            rng.integers(0, 2**64 - 1, 300, dtype=np.uint64, endpoint=True),
            np.array([0, 2**64 - 1, table[0], table[-1]], dtype=np.uint64),
        ]
    )
    rng.shuffle(values)
    assert member(values, table).tolist() == np.isin(values, table).tolist()
    assert member(table, table).all()
    assert not member(np.array([], dtype=np.uint64), table).size


def test_folded_by_hash_gives_each_strings_fold_also_when_its_cache_is_full() -> None:
    import spacy

    from pipeline.process.analysis.components.hashes import _FoldedByHash
    from pipeline.process.watchlists.matching import fold

    strings = spacy.blank("nl").vocab.strings
    words = ["Één", "café", "Werkgevers", "één", "CAFÉ", "ÉÉN", "werkgevers"]
    hashes = [strings.add(w) for w in words]
    table = _FoldedByHash()
    table.limit = 4  # the second half of the calls overflow it
    for batch in (hashes[:3], hashes, hashes[2:], hashes[::-1], hashes * 2):
        assert table.lookup(batch, strings) == [fold(strings[h]) for h in batch]
