"""``trendwatch_names``: runs of capitalised words as ``NAME`` entities, for Dutch and
English alike, where the pipeline has no statistical NER."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.process.analysis.components.hashes import hashes
from pipeline.process.analysis.components.lexical import lexical

_CONNECTORS = {
    "nl": ("van", "de", "der", "den", "het", "ter", "te", "voor", "'t"),
    "en": ("of", "the", "for", "de", "van", "von"),
}
_NOT_NAMES = (
    "januari februari maart april mei juni juli augustus september oktober november december"
    " maandag dinsdag woensdag donderdag vrijdag zaterdag zondag"
    " january february march april may june july august september october november december"
    " monday tuesday wednesday thursday friday saturday sunday".split()
)
_TITLES = (
    "minister premier staatssecretaris burgemeester wethouder directeur voorzitter"
    " topman topvrouw koning koningin prins prinses dhr mevrouw meneer"
    " president governor chancellor chairman chairwoman ceo cfo mr mrs ms dr prof"
    " professor king queen prince princess sir lord judge senator".split()
)
_WORDLIKE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


class _Words(NamedTuple):
    """Per-token attributes the name detector reads, one list per attribute."""

    title: list[int]
    upper: list[int]
    stop: list[int]
    lower: list[int]  # hash of the lower-case form
    length: list[int]
    starts: list[bool]  # sentence starts (see _sentence_starts)


@Language.factory("trendwatch_names")
def make_names(nlp: Language, name: str) -> NameDetector:
    return NameDetector(nlp)


class NameDetector:
    """Tags runs of capitalised words as ``NAME`` entities.

    Works without a tagger, for Dutch and English: a run may hold lower-case connectors
    inside (``Karin van der Berg``, ``Bank of England``). Leading words that are stop
    words, titles (``Minister``, ``CEO``) or words the document also writes in lower
    case are trimmed (``Volgens FNV`` → ``FNV``, ``The Bank of England`` → ``Bank of
    England``). A single capitalised word at the start of a sentence is a name only if
    the document also capitalises it mid-sentence, or it is an acronym. Existing
    entities (trained NER, gazetteer) win where spans overlap.
    """

    def __init__(self, nlp: Language) -> None:
        self.connectors = hashes(nlp.vocab, _CONNECTORS.get(nlp.lang, ()))
        self.titles = hashes(nlp.vocab, _TITLES)
        self.not_names = hashes(nlp.vocab, _NOT_NAMES)
        self.label = nlp.vocab.strings.add("NAME")  # Span takes the hash as it is

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if not n:
            return doc
        lex = lexical(doc)
        starts = _sentence_starts(doc.to_array(SENT_START), lex.space, lex.quote)
        words = _Words(
            *(c.tolist() for c in (lex.title, lex.upper, lex.stop, lex.lower, lex.length)),
            starts=starts,
        )
        lower, alpha = words.lower, lex.alpha
        strings = doc.vocab.strings
        # only title-case or upper-case words can be capitalised
        cased = (lex.title != 0) | (lex.upper != 0)
        candidates = np.flatnonzero(cased).tolist()
        caps = _capitalised(strings, lex.orth, cased, alpha != 0, lex.length, starts)
        lowered = set(lex.lower[(alpha != 0) & ~cased].tolist())
        mid_caps = {lower[i] for i in candidates if caps[i] and not starts[i]}
        spans: list[Span] = []
        j = 0
        for i in candidates:
            if i < j or not caps[i]:  # inside the previous run, or not capitalised
                continue
            j = i + 1
            while j < n:
                if caps[j]:
                    j += 1
                    continue
                k = j
                while k < n and lower[k] in self.connectors:
                    k += 1
                if k > j and k < n and caps[k]:
                    j = k + 1
                else:
                    break
            a, b = self._trim(words, i, j, lowered)
            if b > a and self._is_name(words, a, b, lowered, mid_caps):
                spans.append(Span(doc, a, b, label=self.label))
        if spans:
            existing = doc.ents
            if existing:  # where spans overlap, the longer wins; the loser's tokens: "O"
                doc.ents = filter_spans(list(existing) + spans)
            else:
                # no entity to drop, so the tokens outside the names can stay unset
                # instead of being set "O" one by one (both read as outside an entity:
                # doc.ents comes out the same), at a quarter of the cost. The runs are
                # apart and in order (each starts after the previous one's end), so
                # filter_spans would keep them all, as they are
                doc.set_ents(spans, default="unmodified")
        return doc

    def _trim(self, words: _Words, i: int, j: int, lowered: set[int]) -> tuple[int, int]:
        title, upper, stop, lower, starts = (
            words.title,
            words.upper,
            words.stop,
            words.lower,
            words.starts,
        )
        # a capitalised stop word mid-sentence belongs to the name ("in Den Haag")
        while i < j:
            is_lower = not title[i] and not upper[i]
            if (
                (stop[i] and (starts[i] or is_lower))
                or lower[i] in self.titles
                or is_lower
                or (lower[i] in lowered and not upper[i])
            ):
                i += 1
            else:
                break
        while j > i and lower[j - 1] in self.connectors:
            j -= 1
        return i, j

    def _is_name(
        self, words: _Words, a: int, b: int, lowered: set[int], mid_caps: set[int]
    ) -> bool:
        low = words.lower[a]
        if b - a > 1:
            return True
        if low in self.not_names or words.stop[a] or words.length[a] < 2:
            return False
        if words.upper[a]:
            return True  # acronyms: FNV, SZW, CBS
        if words.starts[a]:
            return low in mid_caps and low not in lowered
        return low not in lowered


def _capitalised(
    strings,
    orth: np.ndarray,
    cased: np.ndarray,
    alpha: np.ndarray,
    length: np.ndarray,
    starts: list[bool],
) -> list[bool]:
    """Per token, whether it counts as a capitalised word: title or upper case
    (``cased``) and either a word of two letters or more, a single capital letter that
    does not start a sentence (an initial: ``J. Smith``), or a token that is not all
    letters but looks like a word (``KPN's``, ``Jean-Luc``; a single character of that
    kind too, mid-sentence only)."""
    at_start = np.array(starts, dtype=bool)
    caps = cased & alpha & ((length > 1) | ~at_start)
    for i in np.flatnonzero(cased & ~alpha).tolist():  # the few that are not all letters
        text = strings[int(orth[i])]
        caps[i] = bool(_WORDLIKE.fullmatch(text)) and (len(text) > 1 or not starts[i])
    return caps.tolist()


def _sentence_starts(sent_start: np.ndarray, space: np.ndarray, quote: np.ndarray) -> list[bool]:
    """Sentence starts as the sentencizer marks them, plus the first word after a line
    break or an opening quote at a sentence start (titles, list items)."""
    starts = sent_start == 1
    starts[0] = True
    starts[1:] |= space[:-1] != 0
    # after a quote that starts a sentence; in order, so that a run of quotes carries it
    for i in (np.flatnonzero(quote[:-1]) + 1).tolist():
        if not starts[i] and starts[i - 1]:
            starts[i] = True
    return starts.tolist()
