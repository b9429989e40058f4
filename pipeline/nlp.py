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
from collections.abc import Iterable, Sequence
from functools import lru_cache

import simplemma
import spacy
from spacy.attrs import (
    ENT_TYPE,
    IS_ALPHA,
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
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, is_package

from pipeline.features import GazetteerEntry, NlpConfig, entity_key
from pipeline.matching import fold

log = logging.getLogger("trendwatch.nlp")

BLANK_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})
SIMPLEMMA_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})
LOOKUP_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})

if not Doc.has_extension("keyphrases"):
    Doc.set_extension("keyphrases", default=())


# --- components ----------------------------------------------------------------------


@lru_cache(maxsize=100_000)
def _simplemma(word: str, lang: str) -> str:
    return simplemma.lemmatize(word, lang=lang).lower()


@lru_cache(maxsize=100_000)
def _folded(text: str) -> str:
    return fold(text)


def _hashes(vocab, words: Iterable[str]) -> frozenset[int]:
    return frozenset(vocab.strings.add(w) for w in words)


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
def _lookup_table(lang: str):
    from spacy.lookups import load_lookups

    try:
        return load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
    except (ValueError, KeyError):  # no table for this language
        return None


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
_NAME_ATTRS = [IS_TITLE, IS_UPPER, IS_ALPHA, IS_STOP, SENT_START, IS_SPACE, IS_QUOTE, LOWER]
_TI, _UP, _AL, _ST, _SS, _SP, _QU, _LO = range(8)


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
        rows = doc.to_array(_NAME_ATTRS).tolist()
        starts = _sentence_starts(rows)
        caps = [self._capitalised(doc, i, r, starts[i]) for i, r in enumerate(rows)]
        lowered = {r[_LO] for r in rows if r[_AL] and not r[_TI] and not r[_UP]}
        mid_caps = {r[_LO] for i, r in enumerate(rows) if caps[i] and not starts[i]}
        spans: list[Span] = []
        i = 0
        while i < n:
            if not caps[i]:
                i += 1
                continue
            j = i + 1
            while j < n:
                if caps[j]:
                    j += 1
                    continue
                k = j
                while k < n and rows[k][_LO] in self.connectors:
                    k += 1
                if k > j and k < n and caps[k]:
                    j = k + 1
                else:
                    break
            a, b = self._trim(rows, starts, i, j, lowered)
            if b > a and self._is_name(doc, rows, starts, a, b, lowered, mid_caps):
                spans.append(Span(doc, a, b, label="NAME"))
            i = j
        if spans:
            doc.ents = filter_spans(list(doc.ents) + spans)
        return doc

    @staticmethod
    def _capitalised(doc: Doc, i: int, row: list[int], starts: bool) -> bool:
        if not (row[_TI] or row[_UP]):
            return False
        text = doc[i].text if not row[_AL] or len(doc[i]) == 1 else ""
        if not row[_AL] and not _WORDLIKE.fullmatch(text):
            return False
        return not text or len(text) > 1 or not starts

    def _trim(
        self, rows: list[list[int]], starts: list[bool], i: int, j: int, lowered: set[int]
    ) -> tuple[int, int]:
        # a capitalised stop word mid-sentence belongs to the name ("in Den Haag")
        while i < j:
            r = rows[i]
            is_lower = not r[_TI] and not r[_UP]
            if (
                (r[_ST] and (starts[i] or is_lower))
                or r[_LO] in self.titles
                or is_lower
                or (r[_LO] in lowered and not r[_UP])
            ):
                i += 1
            else:
                break
        while j > i and rows[j - 1][_LO] in self.connectors:
            j -= 1
        return i, j

    def _is_name(
        self,
        doc: Doc,
        rows: list[list[int]],
        starts: list[bool],
        a: int,
        b: int,
        lowered: set[int],
        mid_caps: set[int],
    ) -> bool:
        first = rows[a]
        low = first[_LO]
        if b - a > 1:
            return True
        if low in self.not_names or first[_ST] or len(doc[a]) < 2:
            return False
        if first[_UP]:
            return True  # acronyms: FNV, SZW, CBS
        if starts[a]:
            return low in mid_caps and low not in lowered
        return low not in lowered


def _sentence_starts(rows: list[list[int]]) -> list[bool]:
    """Sentence starts as the sentencizer marks them, plus the first word after a line
    break or an opening quote at a sentence start (titles, list items)."""
    out: list[bool] = []
    for i, r in enumerate(rows):
        start = i == 0 or r[_SS] == 1
        if not start and i > 0:
            before = rows[i - 1]
            start = bool(before[_SP]) or bool(before[_QU] and out[i - 1])
        out.append(start)
    return out


def _count_phrases(
    run: list[str],
    titled_upto: int,
    scores: Counter[str],
    counts: Counter[str],
    in_title: set[str],
) -> None:
    for size in (1, 2, 3):
        weight = 1.0 + 0.5 * (size - 1)
        for k in range(len(run) - size + 1):
            key = run[k] if size == 1 else " ".join(run[k : k + size])
            counts[key] += 1
            if k < titled_upto:
                in_title.add(key)
                scores[key] += 3.0 * weight
            else:
                scores[key] += weight


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
        self.weak = _hashes(nlp.vocab, _WEAK)

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            doc._.keyphrases = ()
            return doc
        title_end = int(doc.user_data.get("title_end", 0))
        strings = doc.vocab.strings
        scores: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        in_title: set[str] = set()
        run: list[str] = []
        titled_upto = 0  # how many words of the current run lie in the title
        weak = self.weak
        rows = doc.to_array(_PHRASE_ATTRS).tolist()
        for i, (alpha, stop, length, ent, low, lem) in enumerate([*rows, [0] * 6]):
            content = alpha and not stop and length > 2 and not ent
            if content and low not in weak and lem not in weak:
                run.append(_folded(strings[lem] or strings[low]))
                if i < title_end:
                    titled_upto = len(run)
                continue
            if run:
                _count_phrases(run, titled_upto, scores, counts, in_title)
            run = []
            titled_upto = 0
        ranked = [
            key
            for key, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
            if " " not in key or counts[key] >= 2 or key in in_title
        ]
        chosen: list[str] = []
        for key in ranked:
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
        nlp.add_pipe("sentencizer")
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
        doc = nlp.make_doc(f"{title}{stop}\n\n{body}" if body else title)
        doc.user_data["title_end"] = _title_end(doc, len(title))
        docs.append(doc)
    return list(nlp.pipe(docs, batch_size=config.batch_size))


def _title_end(doc: Doc, chars: int) -> int:
    for tok in doc:
        if tok.idx >= chars:
            return tok.i
    return len(doc)
