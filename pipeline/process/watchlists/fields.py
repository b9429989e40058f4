"""Text prepared for watchlist matching: the words of a title or a body, their folded
forms and lemmas, where the words the queries look up stand, and where each word is in
the text (for the explanation quoting it).

Pure functions and caches. Words are compared ignoring case and diacritics, and
lemma-aware (simplemma, in the article's language): ``medewerker`` and ``medewerkers``
share a lemma. :mod:`.matching` matches queries against the :class:`Field` s made here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping
from functools import lru_cache
from itertools import accumulate, compress, islice

import simplemma

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
# every ASCII character that is not a word character (``\\w``: letters, digits, "_")
_ASCII_SPACES = str.maketrans(
    {chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}
)
_span = re.Match.span  # a word's (start, end), mapped over matches in C
LEMMA_LANGS = frozenset({"nl", "en", "de", "fr"})


def lower(word: str) -> str:
    """Lower case with one kind of apostrophe (``KPN’s`` → ``kpn's``), accents kept."""
    return word.casefold().replace("’", "'")


@lru_cache(maxsize=100_000)
def fold(word: str) -> str:
    """Case- and diacritics-insensitive form: ``Één`` → ``een``."""
    if word.isascii():  # nothing to decompose, no apostrophe to unify
        return word.casefold()
    decomposed = unicodedata.normalize("NFKD", lower(word))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=100_000)
def lemma(word: str, lang: str) -> str:
    """The word's lemma in ``lang``, or the word itself.

    A lemma that does not start with the word's first letter is refused: suppletive
    forms are rare in watchlists, while a short word or acronym mistaken for one
    (English ``AI`` → ``be``) would make ``AI`` match every ``is`` and ``was``.
    """
    return _lemma(word, lang, fold)


def _lemma(word: str, lang: str, folding: Callable[[str], str] = fold.__wrapped__) -> str:
    """:func:`lemma`, by default without filling the cache of :func:`fold`."""
    folded = folding(word)
    if lang not in LEMMA_LANGS:
        return folded
    # lemmatise with accents on: the dictionaries know "technologieën", not "technologieen"
    found = folding(simplemma.lemmatize(lower(word), lang=lang))
    return found if found[:1] == folded[:1] else folded


_KEY_CACHE_SIZE = 100_000


class _KeyCache(dict[str, tuple[str, str]]):
    """A word as it stands -> (folded form, lemma) in one language: a plain dictionary
    lookup per token (an ``lru_cache`` on (word, lang) costs several times more). The
    caches of :func:`fold` and :func:`lemma` are left alone: each worker process would
    otherwise hold every word of the articles three times over."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def __missing__(self, word: str) -> tuple[str, str]:
        if len(self) >= _KEY_CACHE_SIZE:
            self.clear()
        found = self[word] = (fold.__wrapped__(word), _lemma(lower(word), self.lang))
        return found


_KEY_CACHES: dict[str, _KeyCache] = {}


def _key_cache(lang: str) -> _KeyCache:
    cache = _KEY_CACHES.get(lang)
    if cache is None:
        cache = _KEY_CACHES[lang] = _KeyCache(lang)
    return cache


class Field:
    """One field (title or body) prepared for matching.

    ``words[i]`` is the i-th word as it stands and ``key_of[words[i]]`` its (folded
    form, lemma) (all of them: :attr:`keys`); ``positions`` maps a folded form or lemma
    to the ascending positions of the words that have it: a term is looked up, not
    searched for, so matching 50 watchlists costs little more than matching one. Where a
    word stands in the text (:meth:`span`) is only worked out when a match is explained.
    """

    __slots__ = (
        "_found",
        "_keys",
        "_lengths",
        "_quoted",
        "_snippets",
        "_spans",
        "_starts",
        "key_of",
        "positions",
        "text",
        "words",
    )

    def __init__(
        self,
        text: str,
        words: list[str],
        key_of: Mapping[str, tuple[str, str]],
        positions: dict[str, list[int]],
    ) -> None:
        self.text = text
        self.words = words
        self.key_of = key_of
        self.positions = positions
        self._keys: list[tuple[str, str]] | None = None
        # (first word, last word) -> the words as they stand, and the snippet around them
        self._quoted: dict[tuple[int, int], str] = {}
        self._snippets: dict[tuple[int, int], str] = {}
        self._spans: list[tuple[int, int]] = []
        self._found: Iterator[re.Match[str]] | None = None
        self._starts: list[int] | None = None  # plain ASCII text: every word's start
        self._lengths: list[int] = []  # and length

    @property
    def keys(self) -> list[tuple[str, str]]:
        """The (folded form, lemma) of every word, in order."""
        if self._keys is None:
            self._keys = list(map(self.key_of.__getitem__, self.words))
        return self._keys

    def quote(self, first: int, last: int) -> str:
        """The words ``first`` to ``last`` as they stand in :attr:`text` (worked out
        once per field: many watchlists quote the same words of an article). One word
        is :attr:`words`' own: a word is the text of its place (no place to work out)."""
        if first == last:
            return self.words[first]
        found = self._quoted.get((first, last))
        if found is None:
            found = self._quoted[first, last] = self.text[self.span(first)[0] : self.span(last)[1]]
        return found

    def snippet(self, first: int, last: int) -> str:
        """:func:`snippet_around` the words ``first`` to ``last`` (once per field)."""
        found = self._snippets.get((first, last))
        if found is None:
            start, end = self.span(first)[0], self.span(last)[1]
            found = self._snippets[first, last] = snippet_around(self.text, start, end)
        return found

    def span(self, i: int) -> tuple[int, int]:
        """(start, end) of the i-th word in :attr:`text`. Plain ASCII text (no
        apostrophe) has all its words' places worked out at once, in C; other text has
        its words found up to the i-th only: an explanation mostly quotes words near the
        start of a body."""
        starts = self._starts
        if starts is None and not self._spans and _plain_ascii(self.text):
            starts, self._lengths = self._starts, _ = _ascii_word_places(self.text)
        if starts is not None:
            start = starts[i]
            return start, start + self._lengths[i]
        spans = self._spans
        if i >= len(spans):
            if self._found is None:
                self._found = _WORD.finditer(self.text)
            spans.extend(map(_span, islice(self._found, i + 1 - len(spans))))
        return spans[i]


def _plain_ascii(text: str) -> bool:
    """Whether ``text``'s words are its runs of ASCII word characters (no apostrophe to
    join words over), so that splitting finds the same words as the regex."""
    return text.isascii() and "'" not in text


_NUMPY_FROM = 1000  # characters: numpy's fixed cost pays off from about here


def _ascii_word_places(text: str) -> tuple[list[int], list[int]]:
    """The start and the length of every word of a :func:`_plain_ascii` text, as the
    regex finds them. The text is split at every character that is not a word character
    (each piece then starts one character after the previous one ends; the empty ones,
    between two such characters, are not words); or, for a long text, its runs of word
    characters are found at once by numpy (loaded where matching runs at scale: in the
    analysis workers)."""
    spaced = text.translate(_ASCII_SPACES)
    if len(spaced) < _NUMPY_FROM:
        lengths = list(map(len, spaced.split(" ")))
        starts = accumulate(map((1).__add__, lengths), initial=0)
        return list(compress(starts, lengths)), list(compress(lengths, lengths))
    import numpy as np

    # a space each side: a word's start (or end) is where the flag changes, at the place
    # it has in the text (np.diff with prepend and append costs twice as much)
    word = np.frombuffer(f" {spaced} ".encode("ascii"), dtype=np.uint8) != 32
    edges = np.flatnonzero(word[1:] != word[:-1])
    starts = edges[0::2]
    return starts.tolist(), (edges[1::2] - starts).tolist()


def word_keys(text: str, lang: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The words of ``text`` and the (folded form, lemma) of each, as matching compares
    them (also what the watchlist editor's preview indexes)."""
    words = _words(text)
    return words, list(map(_key_cache(lang).__getitem__, words))


def _words(text: str) -> list[str]:
    # plain ASCII: no apostrophe to join words over, so the words are the runs of ASCII
    # word characters, as the regex finds them, split apart in C
    return text.translate(_ASCII_SPACES).split() if _plain_ascii(text) else _WORD.findall(text)


def analyse(text: str, lang: str, wanted: Collection[str] | None = None) -> Field:
    """``text`` prepared for matching. With ``wanted`` (the keys the queries look up:
    :meth:`CompiledQuery.lookup_keys`), :attr:`Field.positions` holds only those keys;
    the queries find exactly what they would find in the full table."""
    words = _words(text)
    cache = _key_cache(lang)
    if isinstance(wanted, frozenset):
        return Field(text, words, cache, _word_positions(words, lang, wanted))
    if wanted is not None:
        field = Field(text, words, cache, {})
        field.positions = _wanted_positions(field.keys, wanted)
        return field
    # the positions of each distinct word, then under its folded form and its lemma
    by_word: dict[str, list[int]] = {}
    for i, word in enumerate(words):
        found = by_word.get(word)
        if found is None:
            by_word[word] = [i]
        else:
            found.append(i)
    positions: dict[str, list[int]] = {}
    merged: set[str] = set()  # keys of several distinct words: their positions need sorting
    for word, where in by_word.items():
        folded, lem = cache[word]
        for key in (folded, lem) if lem != folded else (folded,):
            have = positions.get(key)
            if have is None:
                positions[key] = where
            else:
                positions[key] = have + where
                merged.add(key)
    for key in merged:
        positions[key].sort()
    return Field(text, words, cache, positions)


def _wanted_positions(keys: list[tuple[str, str]], wanted: Collection[str]) -> dict[str, list[int]]:
    """The ascending positions of the words whose folded form or lemma is in ``wanted``,
    under that key (for any collection of keys; :func:`_word_positions` remembers them
    per word for the queries' own frozen sets)."""
    return _positions_of([_wanted_of(folded, lem, wanted) for folded, lem in keys])


def _wanted_of(folded: str, lem: str, wanted: Collection[str]) -> tuple[str, ...]:
    """A word's keys (folded form, then lemma when it differs) that are in ``wanted``."""
    keys = (folded,) if lem == folded else (folded, lem)
    return tuple(k for k in keys if k in wanted)


def _positions_of(hits: list[tuple[str, ...]]) -> dict[str, list[int]]:
    """Each key of ``hits`` (per word, its wanted keys) -> the ascending positions of the
    words that have it; only the words with a key are visited."""
    positions: dict[str, list[int]] = {}
    for i in compress(range(len(hits)), hits):
        for key in hits[i]:
            have = positions.get(key)
            if have is None:
                positions[key] = [i]
            else:
                have.append(i)
    return positions


class _WantedKeys(dict[str, tuple[str, ...]]):
    """A word as it stands -> its keys (folded form, then lemma when it differs) that
    are in one set of wanted keys: most words have none, an empty tuple."""

    def __init__(self, lang: str, wanted: frozenset[str]) -> None:
        super().__init__()
        self.keys_of = _key_cache(lang)
        self.wanted = wanted

    def __missing__(self, word: str) -> tuple[str, ...]:
        if len(self) >= _KEY_CACHE_SIZE:
            self.clear()
        found = self[word] = _wanted_of(*self.keys_of[word], self.wanted)
        return found


_WANTED_KEYS: dict[tuple[str, frozenset[str]], _WantedKeys] = {}


def _word_positions(words: list[str], lang: str, wanted: frozenset[str]) -> dict[str, list[int]]:
    """:func:`_wanted_positions` from the words: their wanted keys are remembered per
    word, so a word is looked up once (in C)."""
    cache = _WANTED_KEYS.get((lang, wanted))
    if cache is None:
        if len(_WANTED_KEYS) >= 16:  # configs come and go (the editor's previews)
            _WANTED_KEYS.clear()
        cache = _WANTED_KEYS[lang, wanted] = _WantedKeys(lang, wanted)
    return _positions_of(list(map(cache.__getitem__, words)))


def snippet_around(text: str, start: int, end: int, width: int = 90) -> str:
    """About ``width`` characters either side of text[start:end], cut at word edges."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left)
        left = space + 1 if 0 <= space < start else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space > end else right
    piece = " ".join(text[left:right].split())
    return ("… " if left > 0 else "") + piece + (" …" if right < len(text) else "")
