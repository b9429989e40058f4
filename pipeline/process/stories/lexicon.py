"""The bilingual data behind the cross-lingual keys: a lexicon of the domain's
news-carrying words (:class:`Lexicon`) and the other-language forms of names
(:class:`NameForms`), both kept as package data in ``stories/data/`` with their source
stated in the files' headers.

- ``lexicon.tsv``: concept, Dutch words, English words (``staking|staken|werkonderbreking``
  / ``strike|walkout|stoppage``). :meth:`Lexicon.concepts` turns an article's term counts
  into concept counts, the same for both languages; a Dutch compound counts by its last
  part when that is a listed word of five letters or more (``treinstaking``: strike).
- ``names.tsv``: a name's key and its other forms (``antwerpen`` / ``antwerp|anvers``,
  ``szw`` / ``ministerie van sociale zaken|ministry of social affairs``).
  :meth:`NameForms.canonical` gives one key for every form, after dropping a leading
  article or descriptive word (``de FNV``, ``Dutch union FNV``, ``the Hague``);
  :meth:`NameForms.inside` finds known names inside a longer one (``Marieke Vos van
  Sociale Zaken``).

Reading the files is the only I/O (:func:`load_lexicon`, :func:`load_names`, each once
per process and path); the rest is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

BUILTIN = "builtin"  # the lexicon or name table shipped in stories/data/
SEEN_WORDS = 200_000  # words whose concept Lexicon.concepts remembers, per language
MIN_HEAD = 5  # the shortest last part of a Dutch compound that counts as its meaning

# Leading words a name drops before it is compared: articles, and words that describe
# rather than name ("de vakbond FNV", "Dutch union FNV", "the Netherlands Labour
# Authority"). A name is never cut to nothing: its last word stays.
LEADING = frozenset(
    "de het 't the een a an"
    " dutch belgian flemish walloon german french netherlands"
    " nederlandse belgische vlaamse waalse duitse franse"
    " vakbond vakbonden bond union unions".split()
)
# Words inside a name that are not names themselves ("Karin van der Berg": not "van").
CONNECTORS = frozenset("van der den de het ter te voor the of and for von des del la le".split())


def strip_leading(key: str) -> str:
    """An entity key without its leading articles and descriptive words."""
    words = key.split()
    start = 0
    while start < len(words) - 1 and words[start] in LEADING:
        start += 1
    return " ".join(words[start:]) if start else key


@dataclass(frozen=True)
class NameForms:
    """Names with their other forms; see the module docstring."""

    forms: Mapping[str, str]  # a form (stripped) -> the name's key
    longest: int = 1  # words in the longest form

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, Iterable[str]]]) -> NameForms:
        """From ``(key, forms)`` rows; a key is a form of itself."""
        forms: dict[str, str] = {}
        for key, others in rows:
            for form in (key, *others):
                forms.setdefault(strip_leading(form), key)
        longest = max((len(f.split()) for f in forms), default=1)
        return cls(forms, longest)

    def canonical(self, key: str) -> str:
        """The key of the name ``key`` (an entity key) is a form of, else ``key`` without
        its leading articles and descriptive words."""
        stripped = strip_leading(key)
        return self.forms.get(stripped, stripped)

    def inside(self, key: str) -> list[str]:
        """Keys of the known names of two words or more written inside a longer name,
        longest first, never overlapping (``marieke vos van sociale zaken``: ``szw``).
        One-word names are not looked for: ``Nederland`` inside ``Bouwend Nederland``
        is part of a company's name, not the country."""
        words = key.split()
        found: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 1, -1):
                if size == len(words):
                    continue  # the whole name: see canonical
                name = self.forms.get(" ".join(words[i : i + size]))
                if name is not None:
                    found.append(name)
                    i += size
                    break
            else:
                i += 1
        return found


@dataclass(frozen=True)
class Lexicon:
    """Concepts per word and language; see the module docstring."""

    words: Mapping[str, Mapping[str, str]]  # lang -> word -> concept
    compounds: frozenset[str] = frozenset({"nl"})  # languages whose compounds count by head
    _heads: dict[tuple[str, str], str | None] = field(default_factory=dict, compare=False)
    # lang -> word -> concept or None: what concepts() has looked up, for every word
    _seen: dict[str, dict[str, str | None]] = field(default_factory=dict, compare=False)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, Mapping[str, Iterable[str]]]]) -> Lexicon:
        """From ``(concept, {lang: words})`` rows; a word listed twice keeps its first
        concept."""
        words: dict[str, dict[str, str]] = {}
        for concept, by_lang in rows:
            for lang, listed in by_lang.items():
                table = words.setdefault(lang, {})
                for word in listed:
                    table.setdefault(word, concept)
        return cls(words)

    def concept(self, word: str, lang: str) -> str | None:
        """The concept of a word (a folded lemma) in ``lang``, if any."""
        table = self.words.get(lang)
        if not table:
            return None
        found = table.get(word)
        if found is not None or lang not in self.compounds or len(word) <= MIN_HEAD:
            return found
        cached = self._heads.get((lang, word), ...)
        if cached is not ...:
            return cached
        head = None
        for start in range(1, len(word) - MIN_HEAD + 1):
            head = table.get(word[start:])
            if head is not None:
                break
        if len(self._heads) < 200_000:
            self._heads[(lang, word)] = head
        return head

    def lists(self, word: str, lang: str) -> bool:
        """Whether ``word`` is itself a word of the lexicon in ``lang`` (not only the
        last part of a compound)."""
        table = self.words.get(lang)
        return table is not None and word in table

    def concepts(self, terms: Mapping[str, float], lang: str) -> dict[str, float]:
        """Concept counts of an article's term counts (a concept counts once per word).

        The concept of each word is remembered (up to ``SEEN_WORDS`` words a language,
        then forgotten all at once): an article's words are mostly words seen before."""
        seen = self._seen.get(lang)
        if seen is None or len(seen) > SEEN_WORDS:
            seen = self._seen[lang] = {}
        out: dict[str, float] = {}
        for word, count in terms.items():
            try:
                concept = seen[word]
            except KeyError:
                concept = seen[word] = self.concept(word, lang)
            if concept is not None and count > 0:
                out[concept] = out.get(concept, 0.0) + count
        return out


def _data_text(name: str) -> str:
    return resources.files("pipeline.process.stories").joinpath("data", name).read_text("utf-8")


def _rows(text: str) -> list[list[str]]:
    return [
        line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]


@lru_cache(maxsize=8)
def load_lexicon(source: str = BUILTIN) -> Lexicon:
    """The lexicon shipped in ``stories/data/lexicon.tsv`` (``builtin``), or one in the
    same format at the path ``source``."""
    text = _data_text("lexicon.tsv") if source == BUILTIN else Path(source).read_text("utf-8")
    return Lexicon.from_rows(
        (row[0], {"nl": row[1].split("|"), "en": row[2].split("|")})
        for row in _rows(text)
        if len(row) == 3
    )


@lru_cache(maxsize=8)
def load_names(source: str = BUILTIN) -> NameForms:
    """The name forms shipped in ``stories/data/names.tsv`` (``builtin``), or a table in
    the same format at the path ``source``."""
    text = _data_text("names.tsv") if source == BUILTIN else Path(source).read_text("utf-8")
    return NameForms.from_rows((row[0], row[1].split("|")) for row in _rows(text) if len(row) == 2)
