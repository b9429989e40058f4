"""spaCy pipelines: one per language, loaded once per process, with our components.

A trained pipeline is used when the config names one that is installed
(``[nlp] models = { nl = "nl_core_news_sm" }``); otherwise ``spacy.blank(lang)`` with
a sentencizer and the lookup lemmatizer from spacy-lookups-data. Our components are
registered factories, so they compose with either:

- ``trendwatch_lemmas`` fills in simplemma lemmas where the pipeline's lemmatizer left
  a word unchanged (the Dutch lookup table misses ``werkgevers``, ``banen``...);
- ``entity_ruler`` (spaCy's own) tags configured gazetteer entities and their aliases,
  with the canonical name as entity id;
- ``trendwatch_names`` tags runs of capitalised words as names (``NAME``) where no
  statistical NER is present, for Dutch and English alike;
- ``trendwatch_keyphrases`` sets ``doc._.keyphrases``: the article's top lemma phrases.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import simplemma
import spacy
from spacy.attrs import (
    ENT_TYPE,
    IS_ALPHA,
    IS_PUNCT,
    IS_QUOTE,
    IS_SPACE,
    IS_STOP,
    IS_TITLE,
    IS_UPPER,
    LEMMA,
    LENGTH,
    LOWER,
    ORTH,
    SENT_START,
)
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, is_package

from pipeline.process.analysis.features import GazetteerEntry, NlpConfig, entity_key
from pipeline.process.watchlists.matching import fold

log = logging.getLogger("trendwatch.nlp")

BLANK_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})
SIMPLEMMA_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})
LOOKUP_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})

if not Doc.has_extension("keyphrases"):
    Doc.set_extension("keyphrases", default=())


# --- components ----------------------------------------------------------------------


def _simplemma(word: str, lang: str) -> str:
    # not cached here: LemmaFiller caches its lemmas, simplemma caches its own
    return simplemma.lemmatize(word, lang=lang).lower()


class _FoldedByHash(dict[int, str]):
    """String hash (spaCy's, the same in every vocab) -> the string's :func:`fold`, for
    the lemma and lower-case attributes read as arrays: a dictionary lookup per token
    instead of a string-store lookup and a cached call."""

    limit = 200_000

    def lookup(self, hashes: list[int], strings) -> list[str]:
        missing = [h for h in dict.fromkeys(hashes) if h not in self]
        if missing:
            if len(self) + len(missing) > self.limit:
                self.clear()
                missing = list(dict.fromkeys(hashes))
            for h in missing:
                self[h] = fold.__wrapped__(strings[h])  # this is the cache
        return list(map(self.__getitem__, hashes))


folded_by_hash = _FoldedByHash()


def lemma_or_lower(lemmas: np.ndarray, lowers: np.ndarray) -> np.ndarray:
    """Per token, the hash of ``strings[lemma] or strings[lower]``: hash 0 is the empty
    string, the only string that is false."""
    return np.where(lemmas != 0, lemmas, lowers)


def _hashes(vocab, words: Iterable[str]) -> frozenset[int]:
    return frozenset(vocab.strings.add(w) for w in words)


@Language.factory("trendwatch_sentences")
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter(nlp)


class SentenceSplitter:
    """spaCy's rule-based ``sentencizer`` (same punctuation, same decisions) on the
    token arrays: a sentence starts at the first token after sentence-final punctuation
    (``.``, ``!``, ``?`` and their kin) that is neither punctuation nor one of those
    characters. spaCy's own component builds a Token object for every token, which cost
    about a tenth of the analysis."""

    def __init__(self, nlp: Language) -> None:
        from spacy.pipeline import Sentencizer

        final = _hashes(nlp.vocab, Sentencizer.default_punct_chars)
        self.final = np.array(sorted(final), dtype=np.uint64)

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if not n:
            return doc
        orth, punct = doc.to_array([ORTH, IS_PUNCT]).T
        final = np.isin(orth, self.final)
        word = (punct == 0) & ~final
        at = np.arange(n)
        # per token: the last final mark and the last word strictly before it
        last_final = np.maximum.accumulate(np.where(final, at, -1))
        last_word = np.maximum.accumulate(np.where(word, at, -1))
        starts = np.zeros(n, dtype=bool)
        starts[1:] = word[1:] & (last_final[:-1] > last_word[:-1])
        starts[0] = True
        values = np.where(starts, 1, -1).astype(np.int64).view(np.uint64)
        doc.from_array([SENT_START], values.reshape(-1, 1))
        return doc


@Language.factory("trendwatch_lemmas", default_config={"lookups": True})
def make_lemmas(nlp: Language, name: str, lookups: bool) -> LemmaFiller:
    return LemmaFiller(nlp.lang, lookups)


class LemmaFiller:
    """Lower-cased lemmas for every word.

    A lemma the pipeline already set (a trained lemmatizer) is kept. Otherwise the
    lookup table of spacy-lookups-data decides (the table spaCy's lookup lemmatizer
    uses, read here once per word form instead of once per token), and where it has no
    entry or leaves the word unchanged, simplemma (nlp-notes: the Dutch table misses
    ``werkgevers``, ``banen``, ``kinderen``...). Works on attribute arrays, so a
    400-word article costs a few dictionary lookups per distinct word.
    """

    def __init__(self, lang: str, lookups: bool = True) -> None:
        self.lang = lang if lang in SIMPLEMMA_LANGS else ""
        self.table = _lookup_table(lang) if lookups and lang in LOOKUP_LANGS else None
        self.cache: dict[tuple[int, int], int] = {}

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        strings = doc.vocab.strings
        arr = doc.to_array([ORTH, LOWER, LEMMA, IS_ALPHA])
        out = arr[:, 2].copy()
        cache = self.cache
        if len(cache) > 200_000:
            cache.clear()
        for i, (orth, low, lem, alpha) in enumerate(arr.tolist()):
            if not alpha:
                continue
            new = cache.get((orth, lem))
            if new is None:
                new = strings.add(self._lemma(strings[orth], strings[low], strings[lem]))
                cache[(orth, lem)] = new
            out[i] = new
        doc.from_array([LEMMA], out.reshape(-1, 1))
        return doc

    def _lemma(self, text: str, low: str, current: str) -> str:
        current = current.lower()
        if (not current or current == low) and self.table is not None:
            current = str(self.table.get(text) or self.table.get(low) or "").lower()
        if self.lang and (not current or current == low):
            current = _simplemma(low, self.lang)
        # the same first-letter guard as the matcher: "AI" must not become "be"
        return current if current[:1] == low[:1] else low


@lru_cache(maxsize=16)
def _lookup_table(lang: str) -> LemmaTable | None:
    from spacy.lookups import load_lookups

    try:
        table = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
    except (ValueError, KeyError):  # no table for this language
        return None
    return LemmaTable(table)


class LemmaTable:
    """A spacy-lookups-data lemma table (word -> lemma) packed into arrays.

    spaCy's ``Table`` is an ordered dictionary of Python objects: the Dutch one takes
    about 70 MB for 213,000 words. Here it takes about 5: the words' hashes, sorted, and
    for each one its lemma's place in one string of all distinct lemmas. :meth:`get`
    answers as ``Table.get`` does, with a binary search instead of a hash lookup, and
    reading it writes to no shared memory page (a dictionary's values have reference
    counts to update), so worker processes keep sharing it with their forkserver.
    """

    __slots__ = ("_hashes", "_lemma", "_starts", "_text")

    def __init__(self, table: Mapping[int, str]) -> None:
        lemmas: dict[str, int] = {}
        which = [lemmas.setdefault(str(v), len(lemmas)) for v in table.values()]
        hashes = np.fromiter(table.keys(), dtype=np.uint64, count=len(table))
        order = np.argsort(hashes)
        self._hashes = hashes[order]
        self._lemma = np.array(which, dtype=np.int32)[order]
        lengths = np.fromiter(map(len, lemmas), dtype=np.int64, count=len(lemmas))
        self._starts = np.concatenate(([0], np.cumsum(lengths)))
        self._text = "".join(lemmas)

    def __len__(self) -> int:
        return len(self._hashes)

    def get(self, key: str | int, default: str | None = None) -> str | None:
        """The lemma of ``key`` (a word, or its hash), else ``default``."""
        h = get_string_id(key)
        i = int(self._hashes.searchsorted(np.uint64(h)))
        if i == len(self._hashes) or int(self._hashes[i]) != h:
            return default
        n = int(self._lemma[i])
        return self._text[int(self._starts[n]) : int(self._starts[n + 1])]


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
_NAME_ATTRS = [
    IS_TITLE,
    IS_UPPER,
    IS_ALPHA,
    IS_STOP,
    SENT_START,
    IS_SPACE,
    IS_QUOTE,
    LOWER,
    LENGTH,
    ORTH,
]
_TI, _UP, _AL, _ST, _SS, _SP, _QU, _LO, _LEN, _OR = range(10)


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
        self.connectors = _hashes(nlp.vocab, _CONNECTORS.get(nlp.lang, ()))
        self.titles = _hashes(nlp.vocab, _TITLES)
        self.not_names = _hashes(nlp.vocab, _NOT_NAMES)

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if not n:
            return doc
        cols = doc.to_array(_NAME_ATTRS).T
        starts = _sentence_starts(cols[_SS], cols[_SP], cols[_QU])
        words = _Words(*(cols[c].tolist() for c in (_TI, _UP, _ST, _LO, _LEN)), starts=starts)
        lower, alpha = words.lower, cols[_AL]
        strings = doc.vocab.strings
        # only title-case or upper-case words can be capitalised
        candidates = np.flatnonzero((cols[_TI] != 0) | (cols[_UP] != 0)).tolist()
        caps = [False] * n
        for i in candidates:
            caps[i] = self._capitalised(strings, cols[_OR], i, bool(alpha[i]), words)
        lowered = set(cols[_LO][(alpha != 0) & (cols[_TI] == 0) & (cols[_UP] == 0)].tolist())
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
                spans.append(Span(doc, a, b, label="NAME"))
        if spans:
            doc.ents = filter_spans(list(doc.ents) + spans)
        return doc

    @staticmethod
    def _capitalised(strings, orth: np.ndarray, i: int, alpha: bool, words: _Words) -> bool:
        text = strings[int(orth[i])] if not alpha or words.length[i] == 1 else ""
        if not alpha and not _WORDLIKE.fullmatch(text):
            return False
        return not text or len(text) > 1 or not words.starts[i]

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


def _ranked_phrases(words: list[str], at: np.ndarray, title_end: int) -> list[str]:
    """The candidate keyphrases, best first: phrases of up to three consecutive content
    words, scored by frequency with a boost for the title and for longer phrases.

    ``words`` are the folded content words in order and ``at`` their token indices: a
    run of content words is a stretch of consecutive indices. A phrase of n words weighs
    1 + 0.5 (n - 1) per occurrence, three times that where it starts in the title. A
    multi-word phrase needs two occurrences or a place in the title. Ties go to the
    alphabetically first phrase.
    """
    next_in_run = np.diff(at) == 1  # word j and word j + 1 are neighbours in the text
    two = np.flatnonzero(next_in_run)
    three = np.flatnonzero(next_in_run[:-1] & next_in_run[1:])
    sizes = (
        (1.0, words),
        (1.5, [f"{words[j]} {words[j + 1]}" for j in two.tolist()]),
        (2.0, [f"{words[j]} {words[j + 1]} {words[j + 2]}" for j in three.tolist()]),
    )
    # how many of each size's phrases start in the title (their starts ascend)
    titled = [int(np.searchsorted(where, title_end)) for where in (at, at[two], at[three])]
    if " " in "\x00".join(words):  # a lemma with a space: sizes are not told by spaces
        return _ranked_phrases_slowly(sizes, titled)
    in_title: Counter[str] = Counter()  # occurrences that start in the title
    for (_, found), n in zip(sizes, titled, strict=True):
        in_title.update(found[:n])
    # the score per occurrence is exact in floating point (multiples of 0.5), so a
    # phrase's score is its weight times its occurrences, the title's counted thrice
    entries = [(-(n + 2 * in_title.get(key, 0)) * 1.0, key) for key, n in Counter(words).items()]
    for weight, found in sizes[1:]:
        entries.extend(
            (-weight * (n + 2 * in_title.get(key, 0)), key)
            for key, n in Counter(found).items()
            if n >= 2 or key in in_title
        )
    entries.sort()
    return [key for _, key in entries]


def _ranked_phrases_slowly(sizes, titled: list[int]) -> list[str]:
    """:func:`_ranked_phrases` where a phrase of one size may equal one of another."""
    counts: Counter[str] = Counter()
    scores: dict[str, float] = {}
    in_title: set[str] = set()
    for (weight, found), n in zip(sizes, titled, strict=True):
        for i, key in enumerate(found):
            counts[key] += 1
            if i < n:
                in_title.add(key)
                scores[key] = scores.get(key, 0.0) + 3.0 * weight
            else:
                scores[key] = scores.get(key, 0.0) + weight
    kept = [
        (-score, key)
        for key, score in scores.items()
        if " " not in key or counts[key] >= 2 or key in in_title
    ]
    return [key for _, key in sorted(kept)]


@Language.factory("trendwatch_keyphrases", default_config={"top": 10})
def make_keyphrases(nlp: Language, name: str, top: int) -> KeyphraseExtractor:
    return KeyphraseExtractor(nlp, top)


_WEAK = (
    "say said tell told add added according also just like make made new year week"
    " zeggen zei zegt volgens jaar week nieuw nieuwe laten gaan komen maken krijgen ermee"
    " daarom echter blijven vooral onder andere".split()
)
_PHRASE_ATTRS = [IS_ALPHA, IS_STOP, LENGTH, ENT_TYPE, LOWER, LEMMA]


class KeyphraseExtractor:
    """The article's top phrases: runs of up to three content words (no stop words,
    numbers, punctuation or names: those are entities), keyed by their folded lemmas,
    scored by frequency with a boost for the title (``doc.user_data["title_end"]``, a
    token index) and for multi-word phrases. A multi-word phrase needs two occurrences
    or a place in the title."""

    def __init__(self, nlp: Language, top: int) -> None:
        self.top = top
        self.weak = np.array(sorted(_hashes(nlp.vocab, _WEAK)), dtype=np.uint64)

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            doc._.keyphrases = ()
            return doc
        title_end = int(doc.user_data.get("title_end", 0))
        rows = doc.to_array(_PHRASE_ATTRS)
        alpha, stop, length, ent, low, lem = rows.T
        content = (alpha != 0) & (stop == 0) & (length > 2) & (ent == 0)
        if self.weak.size:
            content &= ~np.isin(low, self.weak) & ~np.isin(lem, self.weak)
        at = np.flatnonzero(content)  # token index of each content word, in order
        words = folded_by_hash.lookup(lemma_or_lower(lem[at], low[at]).tolist(), doc.vocab.strings)
        chosen: list[str] = []
        for key in _ranked_phrases(words, at, title_end):
            # a phrase inside a chosen longer one adds nothing ("work" in "remote work")
            if any(f" {key} " in f" {c} " for c in chosen):
                continue
            chosen.append(key)
            if len(chosen) == self.top:
                break
        doc._.keyphrases = tuple(chosen)
        return doc


# --- loading -------------------------------------------------------------------------


_PIPELINES: dict[tuple[str, NlpConfig], Language] = {}


def pipeline_for(lang: str, config: NlpConfig) -> Language:
    """The spaCy pipeline for ``lang``, built once per process and config."""
    key = (lang, config)
    if key not in _PIPELINES:
        _PIPELINES[key] = build_pipeline(lang, config)
    return _PIPELINES[key]


def build_pipeline(lang: str, config: NlpConfig) -> Language:
    model = config.model_for(lang)
    if model and is_package(model):
        nlp = spacy.load(model)
        log.info("language %s: trained pipeline %s", lang, model)
    else:
        if model:
            log.warning("language %s: pipeline %r is not installed; using a blank one", lang, model)
        nlp = spacy.blank(lang if lang in BLANK_LANGS else "xx")
        nlp.add_pipe("trendwatch_sentences", name="sentencizer")
    # blank pipelines: the spacy-lookups-data table is read by trendwatch_lemmas itself
    nlp.add_pipe("trendwatch_lemmas", config={"lookups": "lemmatizer" not in nlp.pipe_names})
    ruler = None
    if config.gazetteer:
        ruler_options = {"phrase_matcher_attr": "LOWER", "overwrite_ents": True}
        where = {"before": "ner"} if "ner" in nlp.pipe_names else {}
        ruler = nlp.add_pipe("entity_ruler", config=ruler_options, **where)
    if "ner" not in nlp.pipe_names:
        nlp.add_pipe("trendwatch_names")
    nlp.add_pipe("trendwatch_keyphrases")
    nlp.initialize()
    if ruler is not None:
        ruler.add_patterns(list(_patterns(config.gazetteer)))
    return nlp


def _patterns(entries: Iterable[GazetteerEntry]) -> Iterable[dict]:
    for entry in entries:
        for alias in (entry.name, *entry.aliases):
            yield {"label": entry.label, "pattern": alias, "id": entity_key(entry.name)}


def analyse_docs(lang: str, texts: Sequence[tuple[str, str]], config: NlpConfig) -> list[Doc]:
    """Run ``lang``'s pipeline over ``(title, body)`` pairs, batched with ``nlp.pipe``."""
    nlp = pipeline_for(lang, config)
    docs = []
    for title, body in texts:
        # a full stop after the title makes the body's first word start a sentence
        stop = "" if title.rstrip()[-1:] in (".", "!", "?", ":") else "."
        text = f"{title}{stop}\n\n{body}" if body else title
        doc = nlp.make_doc(text)
        doc.user_data["title_end"] = _title_end(doc, len(title))
        doc.user_data["text"] = text  # doc.text without rebuilding it from the tokens
        docs.append(doc)
    return list(nlp.pipe(docs, batch_size=config.batch_size))


def _title_end(doc: Doc, chars: int) -> int:
    for tok in doc:
        if tok.idx >= chars:
            return tok.i
    return len(doc)
