"""The lexical attributes of a doc's tokens, read once and shared by the components.

``Doc.to_array`` costs about 12 µs per attribute for a 400-word article, and every
component and the feature extraction read several of the same ones (the word form, its
lower case, length and flags). Those come from the token's lexeme, so no component
changes them: :func:`lexical` reads them once per doc and keeps them in
``doc.user_data``. Token attributes that components set (``LEMMA``, ``SENT_START``,
``ENT_TYPE``) are still read where they are needed, after whoever sets them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from spacy.attrs import (
    IS_ALPHA,
    IS_PUNCT,
    IS_QUOTE,
    IS_SPACE,
    IS_STOP,
    IS_TITLE,
    IS_UPPER,
    LENGTH,
    LOWER,
    ORTH,
)
from spacy.tokens import Doc

_ATTRS = [ORTH, LOWER, LENGTH, IS_ALPHA, IS_STOP, IS_PUNCT, IS_SPACE, IS_TITLE, IS_UPPER, IS_QUOTE]
_KEY = "trendwatch_lexical"


class Lexical(NamedTuple):
    """One array per attribute, a value per token (``to_array``'s uint64 values)."""

    orth: np.ndarray  # hash of the word form
    lower: np.ndarray  # hash of its lower case
    length: np.ndarray  # in characters
    alpha: np.ndarray  # flags: non-zero where true
    stop: np.ndarray
    punct: np.ndarray
    space: np.ndarray
    title: np.ndarray
    upper: np.ndarray
    quote: np.ndarray


def lexical(doc: Doc) -> Lexical:
    """The lexical attributes of ``doc``'s tokens, read on the first call and kept with
    the doc (read again if its tokens changed in number: a retokenised doc)."""
    found = doc.user_data.get(_KEY)
    if found is None or len(found.orth) != len(doc):
        found = doc.user_data[_KEY] = Lexical(*doc.to_array(_ATTRS).T)
    return found


def forget(doc: Doc) -> None:
    """Drop what :func:`lexical` keeps with ``doc`` (once nothing more reads it)."""
    doc.user_data.pop(_KEY, None)
