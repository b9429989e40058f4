"""An article's text as the set dedup compares: case-folded words without diacritics or
punctuation (:func:`words`), and their word ``k``-shingles (:func:`shingles`), or the
shingles' 32-bit hashes (:func:`shingle_hashes`) that a signature is made of."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import numpy.typing as npt

SHINGLE_SIZE = 4

_WORD = re.compile(r"[^\W_]+")
# Combining marks left by NFKD in Latin, Greek and Cyrillic text (the Combining Diacritical
# Marks blocks). A regex over these blocks is several times faster than testing every
# character with unicodedata.combining(), and covers the languages we lemmatise.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# ASCII text: ``[^\W_]`` is exactly the ASCII letters and digits, so mapping every other
# ASCII character to a space and splitting finds the same words as the regex, in C
_ASCII_SPACES = str.maketrans(
    {chr(c): " " for c in range(128) if not (chr(c).isascii() and chr(c).isalnum())}
)
_MULTIPLIER = np.uint64(0x9E37_79B9_7F4A_7C15)  # odd: the polynomial shingle hash stays mixing
_SHIFT = np.uint64(32)


def words(text: str) -> list[str]:
    """The words of ``text``: case-folded, diacritics removed, punctuation dropped.

    ``"Één café’s"`` → ``["een", "cafe", "s"]``. Numbers are words too: they tell a
    Tuesday's market report from a Monday's.
    """
    folded = text.casefold()
    if folded.isascii():  # the same words as the regex below, a few times faster
        return folded.translate(_ASCII_SPACES).split()
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return _WORD.findall(folded)


def shingles(text: str, k: int = SHINGLE_SIZE) -> set[str]:
    """The word ``k``-shingles of ``text``, each as its words joined by one space.

    A text of fewer than ``k`` words gives one shingle of all its words, so a title-only
    article still equals its exact copy; a text without words gives the empty set.
    A signature (:mod:`.signatures`) hashes these same shingles, without building the
    strings (:func:`shingle_hashes`).
    """
    found = words(text)
    if len(found) <= k:
        return {" ".join(found)} if found else set()
    return {" ".join(found[i : i + k]) for i in range(len(found) - k + 1)}


def _word_hash(word: str) -> int:
    """A stable 64-bit hash of one word (``hash()`` differs per process; BLAKE2 does not)."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


class _WordHashes(dict[str, int]):
    """Word -> :func:`_word_hash`, remembered: news vocabulary is repetitive, so most
    words of an article are known, and a plain dictionary lookup per word (mapped over
    the words in C) costs a fraction of a cached call. Forgotten all at once when full."""

    limit = 1 << 16

    def __missing__(self, word: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        found = self[word] = _word_hash(word)
        return found


_word_hashes = _WordHashes()


class _LowerWordHashes(_WordHashes):
    """ASCII word in any case -> :func:`_word_hash` of its lower case (its casefold),
    remembered apart from :data:`_word_hashes` (whose words are casefolded already)."""

    def __missing__(self, word: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        found = self[word] = _word_hash(word.lower())
        return found


_lower_word_hashes = _LowerWordHashes()


def shingle_hashes(text: str, k: int) -> list[int]:
    """32-bit hashes of the word ``k``-shingles of ``text`` (the sets of :func:`shingles`),
    as Python ints (:func:`shingle_hash_array` gives them as an array)."""
    return shingle_hash_array(text, k).tolist()


def shingle_hash_array(text: str, k: int) -> npt.NDArray[np.uint32]:
    """:func:`shingle_hashes` as an array.

    Each word is hashed once, and a shingle's hash is a polynomial in its words' hashes
    (modulo 2**64, top 32 bits kept), computed for all shingles at once with numpy. This
    is several times faster than hashing every shingle's string, which matters at 200
    articles a second. A signature mixes the values again before permuting them.
    """
    found = words(text)
    hashes = np.fromiter(map(_word_hashes.__getitem__, found), dtype=np.uint64, count=len(found))
    return _combined(hashes, k)


def ascii_shingle_hash_array(runs: list[str], k: int) -> npt.NDArray[np.uint32]:
    """:func:`shingle_hash_array` of an ASCII text given as its runs of ASCII letters and
    digits, in any case (its :func:`words` before lower-casing, which such a text's
    words are): a caller that split the text already does not split it again."""
    found = map(_lower_word_hashes.__getitem__, runs)
    hashes = np.fromiter(found, dtype=np.uint64, count=len(runs))
    return _combined(hashes, k)


def _combined(hashes: npt.NDArray[np.uint64], k: int) -> npt.NDArray[np.uint32]:
    """The shingle hashes of the words whose hashes are ``hashes``."""
    if not hashes.size:
        return np.empty(0, dtype=np.uint32)
    width = min(k, hashes.size)
    count = hashes.size - width + 1
    combined = hashes[:count].copy()
    for offset in range(1, width):
        combined *= _MULTIPLIER  # array arithmetic wraps around silently, as intended
        combined += hashes[offset : offset + count]
    return (combined >> _SHIFT).astype(np.uint32)
