"""Language of an article: detected from its text, with the source's language as hint.

Long texts go to py3langid (97 languages), through :class:`_Identifier`: its model and
its answers, with the byte scan done by numpy instead of a Python loop. Headlines and
other short texts fool it (nlp-notes: 80 % on headlines), so below ``SHORT_WORDS`` words
a stop-word vote between Dutch and English decides, then the source's language. Short,
empty or mixed texts never raise.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from itertools import islice

import numpy as np
import numpy.typing as npt
import py3langid.langid as _langid

_WORD = re.compile(r"[a-zà-ÿ]+")
_STOP = {
    "nl": frozenset(
        "de het een en van in is dat op te zijn met voor niet aan er om ook als bij door"
        " naar maar dan nog wel uit over wordt worden werd hun zij wij ze we meer die dit"
        " deze heeft hebben kan kunnen moet moeten geen al veel".split()
    ),
    "en": frozenset(
        "the a an and of in is that on to are with for not at there also as by from"
        " but then still out over be been was were their they we more this these has"
        " have can could must no all many which who will would".split()
    ),
}


def guess_language(text: str, fallback: str | None = None, min_votes: int = 3) -> str | None:
    """'nl' or 'en' when the text clearly is one of them, else ``fallback``."""
    words = _WORD.findall(text.lower()[:5000])
    votes = {lang: sum(w in stop for w in words) for lang, stop in _STOP.items()}
    best = max(votes, key=lambda k: votes[k])
    others = [v for k, v in votes.items() if k != best]
    if votes[best] < min_votes or votes[best] <= max(others, default=0):
        return fallback
    return best


UNDETERMINED = "und"
SHORT_WORDS = 12
MIN_PROBABILITY = 0.6
# The characters py3langid reads (it walks them byte by byte: its cost grows with them).
# 800 gave the same language as 1,500 on every text we have labels for: the 772 ECB+ dev
# documents (English), the 198 Dutch and English articles of tests/fixtures/stories and
# dedup, and the 4,000 articles of bench/nlp.py (600 already changed one); it takes
# about 0.48 instead of 0.69 ms an article.
DETECT_CHARS = 800


class _Identifier(_langid.LanguageIdentifier):
    """py3langid's identifier, vectorised: the same scores, bit for bit, in a third of
    the time.

    - **The byte scan.** py3langid finds its byte n-gram features with an Aho-Corasick
      automaton, walked one byte at a time in Python (``visit_counts``). The automaton's
      state after a byte is the longest suffix of the bytes read so far that is a prefix
      of a feature, never longer than the longest feature (``depth`` bytes). So the state
      at every position is also the state reached from the start state by the ``depth``
      bytes that end there: ``depth`` steps of numpy over all positions at once. The
      features are counted in the order of their first occurrence, as
      ``visit_counts``'s Counter holds them, so the scores are the same sums in the same
      order.
    - **The scores.** The model's weights are half floats, which numpy converts to
      floats in software, element by element, inside the product (about a fifth of a
      detection). Here the features' rows are converted by a table of all 65,536 half
      floats (exact: every half float is a float), and the product is the float product
      numpy computed after its own conversion. A process meets few of the model's
      100,000 features (about 5,000 in the bench's Dutch and English articles), so each
      feature's row is converted once and kept (:class:`_FloatRows`).

    A test compares the answers with py3langid's own on thousands of texts.
    """

    __slots__ = ("_depth", "_float_rows", "_halves", "_moves", "_outputs", "_rows")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._moves = np.frombuffer(self.tk_nextmove, dtype=self.tk_nextmove.typecode)
        self._rows = np.array(self._rowbase, dtype=np.int64)
        self._outputs = np.array(self.tk_output, dtype=np.int64)
        self._depth = _max_depth(self._moves, self._rows)
        self._halves = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
        self._float_rows: _FloatRows | None = None

    def _raw_score(self, text: bytes) -> npt.NDArray[np.float32]:
        features, counts = self._features(text)
        if not features.size or self.nb_ptc.dtype != np.float16:
            return super()._raw_score(text)  # no features, or a model of another kind
        rows = self._float_rows
        if rows is None or rows.weights is not self.nb_ptc:  # set_languages swaps them
            rows = self._float_rows = _FloatRows(self.nb_ptc, self._halves)
        return np.log1p(counts) @ rows.get(features) + self.nb_pc

    def _features(self, text: bytes) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """The features the automaton outputs over ``text`` and how often each, in the
        order of their first occurrence (``visit_counts``'s keys and values)."""
        data = np.frombuffer(text, dtype=np.uint8)
        n = data.size
        state = np.zeros(n, dtype=np.int64)
        moves, rows = self._moves, self._rows
        for back in range(min(self._depth, n) - 1, -1, -1):
            # the state at position i after reading byte i - back (positions before the
            # text's start stay in the start state)
            state[back:] = moves[rows[state[back:]] + data[: n - back]]
        found = self._outputs[state]
        found = found[found >= 0]
        if not found.size:
            return found.astype(np.intp), found.astype(np.float32)
        # distinct features: sorted, each with its first position and its count; then in
        # first-occurrence order. One plain sort of (feature, position) pairs packed in
        # an integer (a stable argsort of the features costs a third more)
        n = found.size
        shift = n.bit_length()
        packed = np.sort((found << shift) | np.arange(n))
        ranked = packed >> shift
        starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
        counts = np.diff(np.append(starts, n))
        by_first = np.argsort(packed[starts] & ((1 << shift) - 1))
        return ranked[starts][by_first].astype(np.intp), counts[by_first].astype(np.float32)


class _FloatRows:
    """The half-float weights' rows (a row per feature, a column per language) as floats,
    each converted the first time a text has its feature and kept: :meth:`get` answers
    with the same floats as converting the features' rows at once, found by the
    features' places in the kept rows (arrays, no Python per feature). Forgotten all at
    once when ``limit`` rows are kept. One thread at a time (a lock)."""

    limit = 32_768  # rows: 18 MB for py3langid's 142 languages

    def __init__(self, weights: np.ndarray, halves: npt.NDArray[np.float32]) -> None:
        self.weights = weights
        self._halves = halves
        self._at = np.full(weights.shape[0], -1, dtype=np.intp)  # feature -> kept row
        self._kept = np.empty((1024, weights.shape[1]), dtype=np.float32)
        self._size = 0
        self._lock = threading.Lock()

    def get(self, features: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        """The float rows of ``features`` (distinct), in their order."""
        with self._lock:
            at = self._at[features]
            new = features[at < 0]
            if new.size:
                self._keep(features if self._size + new.size > self.limit else new)
                at = self._at[features]
            return self._kept.take(at, axis=0)

    def _keep(self, features: npt.NDArray[np.intp]) -> None:
        if self._size + features.size > self.limit:
            self._at[:] = -1
            self._size = 0
        start, end = self._size, self._size + features.size
        if end > len(self._kept):
            grown = np.empty((max(2 * len(self._kept), end), self._kept.shape[1]), np.float32)
            grown[:start] = self._kept[:start]
            self._kept = grown
        self._kept[start:end] = self._halves.take(self.weights.view(np.uint16)[features])
        self._at[features] = np.arange(start, end)
        self._size = end


def _max_depth(moves: npt.NDArray[np.integer], rows: npt.NDArray[np.int64]) -> int:
    """The automaton's deepest state: the fewest bytes that reach it from the start state
    (a breadth-first walk over the table's rows, which states share), the length of the
    longest feature."""
    table = moves.reshape(-1, 256)
    seen = np.zeros(rows.size, dtype=bool)
    seen[0] = True
    frontier = np.zeros(1, dtype=np.int64)
    depth = 0
    while True:
        reached = np.zeros(rows.size, dtype=bool)
        reached[table[np.unique(rows[frontier] >> 8)]] = True
        frontier = np.flatnonzero(reached & ~seen)
        if not frontier.size:
            return depth
        seen[frontier] = True
        depth += 1


@cache
def _identifier() -> _langid.LanguageIdentifier:
    return _Identifier.from_modelpath(_langid.MODEL_DIR / _langid.MODEL_FILE, norm_probs=True)


def detect_language(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of ``text``'s language, ``hint`` when the text cannot tell, else
    ``"und"``. Dutch and English are favoured where the text is short."""
    # fewer than SHORT_WORDS words in the first 5,000 characters: counted up to there only
    words = islice(_WORD.finditer(text.lower()[:5000]), SHORT_WORDS)
    if sum(1 for _ in words) < SHORT_WORDS:
        return guess_language(text, fallback=hint, min_votes=2) or hint or UNDETERMINED
    # the first DETECT_CHARS characters decide: as accurate on articles, a fraction of the time
    lang, probability = _identifier().classify(text[:DETECT_CHARS])
    if probability >= MIN_PROBABILITY:
        return str(lang)
    return guess_language(text, fallback=hint) or hint or str(lang)
