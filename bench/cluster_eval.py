"""Score a story clustering against gold labels: B-cubed precision, recall and F1.

Two ways to get a clustering to score:

* from the pipeline: import the labelled articles, run ``trendwatch process``, export
  with ``trendwatch export --jsonl`` and score the export against the gold file::

      python bench/cluster_eval.py --make-import GOLD.jsonl IMPORT.jsonl
      trendwatch import IMPORT.jsonl && trendwatch process && trendwatch export --jsonl OUT.jsonl
      python bench/cluster_eval.py OUT.jsonl GOLD.jsonl

  Predicted and gold records are matched by an id field: ``--pred-id-field`` (default
  ``auto``: the export's ``import_id`` when its records carry one, else ``id``) and
  ``--gold-id-field`` (default ``doc_id``). A predicted article without a ``story_id`` is a
  story of its own.

* directly, without the pipeline: ``--direct GOLD.jsonl`` extracts features from each
  document's ``text`` (``pipeline.process.analysis.analyse`` when it can be imported,
  else a small regex stand-in) and feeds them to
  :class:`pipeline.process.stories.StoryClusterer` one at a time, in file order
  (``--order file``), sorted by id (``--order id``) or shuffled with a seed
  (``--order shuffle --seed N``, ``--repeat K`` for K shuffles and their mean).
  ``--set name=value`` overrides a :class:`pipeline.process.stories.ClusterConfig`
  field. ECB+ documents carry no dates, so there is no time decay: this is the hardest
  setting, where only words, names and numbers separate two events of the same kind. Records with a
  ``title`` field are taken as title and text as they are (no headline line in the
  text), and records with ``published`` pass it on, so time decay and the story window
  work as in the pipeline (``--ignore-dates``: not).

The gold file is JSON Lines with an id field and a label field (``--gold-field``,
default ``subtopic``), such as the ECB+ development topics. Scores are printed with the
number of articles scored, predicted stories and gold stories. When the gold records
carry a language (``--lang-field``, default ``lang``), two more lines follow: how many
same-story pairs of a Dutch and an English article (``--lang-pair nl,en``) are in one
predicted story, and how many pairs of different gold stories share a predicted story
(with the number of article pairs of different stories put together); ``--details``
lists them. The bilingual development set is scored with::

    python bench/cluster_eval.py --gold-id-field id --gold-field story \
        --make-import tests/fixtures/stories/bilingual.jsonl import.jsonl
    trendwatch import --jsonl import.jsonl && trendwatch process
    trendwatch export --jsonl out.jsonl
    python bench/cluster_eval.py --gold-id-field id --gold-field story \
        out.jsonl tests/fixtures/stories/bilingual.jsonl
    python bench/cluster_eval.py --gold-id-field id --gold-field story \
        --direct tests/fixtures/stories/bilingual.jsonl

(``tests/fixtures/stories/README.md`` has the set and its figures.)

Measured on the ECB+ development topics (772 documents, 66 gold stories) with the default
ClusterConfig and ``pipeline.process.analysis.analyse`` features: file order P 0.951,
R 0.933, F1 0.942 (83 stories); five shuffles (seeds 1-5) mean F1 0.921, lowest 0.917
(``bench/cluster_orders.py`` prints both with peer configurations in the same run; the
README has the figures and their history). The batch TF-IDF average-linkage baseline of
the README scores 0.86-0.87.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.process.analysis.features import ArticleFeatures, Entity
from pipeline.process.stories import ClusterConfig, StoryClusterer, bcubed

_URL_LINE = re.compile(r"\s*https?://\S+\s*")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# --- scoring -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Report:
    precision: float
    recall: float
    f1: float
    articles: int
    predicted_stories: int
    gold_stories: int
    unmatched: int  # predicted records without a gold label

    def lines(self) -> list[str]:
        return [
            f"B-cubed precision {self.precision:.4f}",
            f"B-cubed recall    {self.recall:.4f}",
            f"B-cubed F1        {self.f1:.4f}",
            f"articles {self.articles}, predicted stories {self.predicted_stories},"
            f" gold stories {self.gold_stories}"
            + (f", {self.unmatched} predicted articles not in gold" if self.unmatched else ""),
        ]


def report(predicted: dict[Any, Any], gold: dict[Any, Any]) -> Report:
    """B-cubed scores over the items both mappings (item -> label) have."""
    common = [item for item in predicted if item in gold]
    p, r, f = bcubed(predicted, gold)
    return Report(
        precision=p,
        recall=r,
        f1=f,
        articles=len(common),
        predicted_stories=len({predicted[i] for i in common}),
        gold_stories=len({gold[i] for i in common}),
        unmatched=len(predicted) - len(common),
    )


def predicted_labels(records: Iterable[dict[str, Any]], id_field: str) -> dict[Any, Any]:
    """id -> story id; an article without a story is a story of its own."""
    out: dict[Any, Any] = {}
    for record in records:
        key = str(record[id_field])
        story = record.get("story_id")
        out[key] = ("story", story) if story is not None else ("alone", key)
    return out


def gold_labels(records: Iterable[dict[str, Any]], id_field: str, field: str) -> dict[Any, Any]:
    return {str(r[id_field]): r[field] for r in records}


def pick_pred_id_field(records: Sequence[dict[str, Any]], wanted: str) -> str:
    if wanted != "auto":
        return wanted
    has_import = records and all(r.get("import_id") is not None for r in records)
    return "import_id" if has_import else "id"


@dataclasses.dataclass(frozen=True)
class PairReport:
    """Joins across languages within a gold story, and joins of different gold stories."""

    langs: tuple[str, str]
    cross_joined: int  # same-story (langs[0], langs[1]) article pairs in one predicted story
    cross_total: int
    story_pairs_joined: int  # pairs of gold stories that share a predicted story
    story_pairs_total: int
    article_pairs_joined: int  # article pairs of different gold stories in one predicted story
    article_pairs_total: int
    joined: tuple[tuple[Any, Any, tuple[str, ...]], ...]  # (story, story, shared articles)
    missed: tuple[tuple[Any, int, int, tuple[str, ...]], ...]  # story, joined, total, where

    def lines(self) -> list[str]:
        a, b = self.langs
        return [
            f"same-story {a}–{b} pairs joined: {self.cross_joined} of {self.cross_total}"
            f" ({_share(self.cross_joined, self.cross_total)})",
            f"pairs of different stories joined: {self.story_pairs_joined} of"
            f" {self.story_pairs_total} story pairs"
            f" ({_share(self.story_pairs_joined, self.story_pairs_total)});"
            f" {self.article_pairs_joined} of {self.article_pairs_total} article pairs",
        ]

    def details(self) -> list[str]:
        a, b = self.langs
        out = [f"different stories joined ({len(self.joined)}):"]
        out += [f"  {s} + {t}: articles {', '.join(ids)}" for s, t, ids in self.joined]
        out.append(f"stories with {a}–{b} pairs apart ({len(self.missed)}):")
        out += [
            f"  {story}: {joined} of {total} joined; predicted {'; '.join(where)}"
            for story, joined, total, where in self.missed
        ]
        return out


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "-"


def pair_report(
    predicted: dict[Any, Any],
    gold: dict[Any, Any],
    langs: dict[Any, str],
    pair: tuple[str, str],
) -> PairReport:
    """Cross-language recall and different-story joins over the items all three have."""
    items = sorted((i for i in predicted if i in gold and i in langs), key=_natural)
    members: dict[Any, list[Any]] = defaultdict(list)  # predicted story -> items
    for item in items:
        members[predicted[item]].append(item)
    shared: dict[tuple[Any, Any], list[str]] = defaultdict(list)
    for its in members.values():
        for x, y in combinations(its, 2):
            if gold[x] != gold[y]:
                key = tuple(sorted((gold[x], gold[y]), key=str))
                shared[key] += [str(x), str(y)]
    article_joins = sum(len(ids) // 2 for ids in shared.values())
    gold_sizes = Counter(gold[i] for i in items)
    same_gold_pairs = sum(n * (n - 1) // 2 for n in gold_sizes.values())
    joined = tuple(
        (s, t, tuple(sorted(set(ids), key=_natural))) for (s, t), ids in sorted(shared.items())
    )
    cross_joined = cross_total = 0
    missed = []
    for story in sorted(gold_sizes, key=str):
        its = [i for i in items if gold[i] == story]
        first = [i for i in its if langs[i] == pair[0]]
        second = [i for i in its if langs[i] == pair[1]]
        together = sum(predicted[x] == predicted[y] for x in first for y in second)
        total = len(first) * len(second)
        cross_joined += together
        cross_total += total
        if together < total:
            groups: dict[Any, list[str]] = {}  # predicted story -> this story's articles
            for i in its:
                groups.setdefault(predicted[i], []).append(f"{i}/{langs[i]}")
            where = tuple(f"{_short(label)}: {', '.join(ids)}" for label, ids in groups.items())
            missed.append((story, together, total, where))
    return PairReport(
        langs=pair,
        cross_joined=cross_joined,
        cross_total=cross_total,
        story_pairs_joined=len(shared),
        story_pairs_total=len(gold_sizes) * (len(gold_sizes) - 1) // 2,
        article_pairs_joined=article_joins,
        article_pairs_total=len(items) * (len(items) - 1) // 2 - same_gold_pairs,
        joined=joined,
        missed=tuple(missed),
    )


def _short(label: Any) -> str:
    """A predicted story label as printed: the story id, or 'alone'."""
    if isinstance(label, tuple):
        return f"story {label[1]}" if label[0] == "story" else "alone"
    return f"story {label}"


def _natural(value: Any) -> tuple[int, Any]:
    """Sort key: numbers by value, before other strings."""
    text = str(value)
    return (0, int(text)) if text.isdigit() else (1, text)


def gold_langs(records: Iterable[dict[str, Any]], id_field: str, field: str) -> dict[Any, str]:
    """id -> language, for the gold records that carry one."""
    return {str(r[id_field]): r[field] for r in records if r.get(field)}


# --- direct mode: features and the clusterer, no pipeline -----------------------------------


def split_document(text: str) -> tuple[str | None, str, str]:
    """(url, title, body) of an ECB+-style text: an optional bare URL line, a headline."""
    lines = [line for line in text.splitlines() if line.strip()]
    url = None
    if lines and _URL_LINE.fullmatch(lines[0]):
        url = lines.pop(0).strip()
    title = lines[0] if lines else ""
    return url, title, "\n".join(lines[1:])


@dataclasses.dataclass(frozen=True)
class Doc:
    """A gold document as the extractors take it."""

    id: int
    text: str
    lang: str
    title: str | None = None  # None: the text's first line is the headline (ECB+)
    published: datetime | None = None

    def parts(self) -> tuple[str | None, str, str]:
        """(url, title, body)."""
        if self.title is None:
            return split_document(self.text)
        return None, self.title, self.text


def doc_of(position: int, record: dict[str, Any], lang_field: str, dates: bool = True) -> Doc:
    published = None
    if dates and record.get("published"):
        published = datetime.fromisoformat(str(record["published"]).replace("Z", "+00:00"))
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
    return Doc(
        position,
        record["text"],
        record.get(lang_field) or "en",
        record.get("title"),
        published,
    )


def extractor(kind: str) -> tuple[str, Callable[[list[Doc]], list]]:
    """A function from documents to ArticleFeatures, and its name."""
    if kind in ("auto", "analysis"):
        try:
            from pipeline.process.analysis.analyse import ArticleInput, analyse
            from pipeline.process.analysis.nlp import NlpConfig
        except ImportError:
            if kind == "analysis":
                raise
        else:

            def run(docs: list[Doc]) -> list[ArticleFeatures]:
                inputs = []
                for doc in docs:
                    url, title, body = doc.parts()
                    inputs.append(
                        ArticleInput(
                            doc.id,
                            title,
                            body,
                            url=url,
                            language=doc.lang,
                            published=doc.published,
                        )
                    )
                return analyse(inputs, NlpConfig())

            return "pipeline.process.analysis.analyse", run
    return "regex stand-in", lambda docs: [standin_features(doc) for doc in docs]


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d[\d.,]*\d|\d")
_NUMBER = re.compile(r"\d[\d.,]*\d|\d")
_SENTENCE_END = re.compile(r"[.!?:]\s*$")
_STOP = frozenset(
    "the a an and or of in on at to for from by with as is are was were be been has have had"
    " it its this that these those he she they we you i his her their our not but also said"
    " says will would can could after before over about into than more most who which what"
    " de het een en of in op aan te voor van met als is zijn was waren wordt werd heeft hebben"
    " dat die dit deze hij zij ze we niet maar ook zei door bij naar om uit over dan meer".split()
)
try:  # spaCy's lists are longer; the short one above is for when spaCy is missing too
    from spacy.lang.en.stop_words import STOP_WORDS as _EN
    from spacy.lang.nl.stop_words import STOP_WORDS as _NL

    _STOP = _STOP | {w.lower() for w in _EN | _NL}
except ImportError:
    pass


def standin_features(doc: Doc) -> ArticleFeatures:
    """Rough features without spaCy: folded lemmas, capitalised runs as names, numbers.

    Only for when ``pipeline.process.analysis.analyse`` cannot be imported; it scores
    lower than the real extractor, mainly because its names are noisier.
    """
    from pipeline.process.watchlists.matching import fold, lemma

    lang = doc.lang
    url, title, body = doc.parts()
    terms: Counter[str] = Counter()
    numbers: set[str] = set()
    names: dict[str, Entity] = {}
    for line in (title, *body.splitlines()):
        run: list[str] = []
        start = True
        previous_end = 0
        for match in _WORD.finditer(line):
            word = match.group(0)
            start = start or bool(_SENTENCE_END.search(line[previous_end : match.start()]))
            previous_end = match.end()
            if word[0].isdigit():
                number = word.replace(",", "").rstrip(".")
                if len(number) > 1:
                    numbers.add(number)
            elif fold(word) not in _STOP and len(word) > 1:
                terms[lemma(word, lang)] += 1
            if word[0].isupper() and not start:
                run.append(word)
            else:
                _add_name(names, run, fold)
                run = []
            start = False
        _add_name(names, run, fold)
    return ArticleFeatures(
        id=doc.id,
        lang=lang,
        published=doc.published,
        terms=dict(terms),
        entities=tuple(names.values()),
        keyphrases=tuple(term for term, _ in terms.most_common(5)),
        numbers=frozenset(numbers),
        links=frozenset([url] if url else []),
    )


def _add_name(names: dict[str, Entity], run: list[str], fold: Callable[[str], str]) -> None:
    key = " ".join(fold(word) for word in run)
    if len(key) > 1 and key not in names and key not in _STOP:
        names[key] = Entity(" ".join(run), key, "NAME")


def order_of(records: list[dict[str, Any]], id_field: str, order: str, seed: int) -> list[int]:
    positions = list(range(len(records)))
    if order == "id":
        positions.sort(key=lambda i: _natural(records[i][id_field]))
    elif order == "shuffle":
        random.Random(seed).shuffle(positions)
    return positions


def cluster_directly(
    features: list[ArticleFeatures], order: list[int], config: ClusterConfig
) -> dict[int, int]:
    """Position -> final story id, following the merges and splits the clusterer
    reports (as the pipeline does: merges first, then the articles a split moved)."""
    clusterer = StoryClusterer(config)
    story_of: dict[int, int] = {}  # article id -> story id
    position_of = {features[p].id: p for p in order}
    for position in order:
        assignment = clusterer.add(features[position])
        story_of[features[position].id] = assignment.story_id
        if assignment.merged:
            gone = set(assignment.merged)
            for article, story in story_of.items():
                if story in gone:
                    story_of[article] = assignment.story_id
        for article, story in assignment.moved:
            story_of[article] = story
    return {position_of[article]: story for article, story in story_of.items()}


def config_from(settings: Sequence[str]) -> ClusterConfig:
    """ClusterConfig with ``name=value`` overrides (numbers, true/false, none;
    ``half_life`` in days)."""
    config = ClusterConfig()
    fields = {f.name: f for f in dataclasses.fields(ClusterConfig)}
    changes: dict[str, Any] = {}
    for setting in settings:
        name, _, raw = setting.partition("=")
        if name not in fields or name == "window":
            raise SystemExit(f"--set: unknown or unsupported setting {name!r}")
        word = {"true": "true", "false": "false", "none": "null"}.get(raw.lower(), raw)
        value = json.loads(word)
        if name == "half_life" and value is not None:
            value = timedelta(days=value)  # in days: half_life=3
        changes[name] = value
    return dataclasses.replace(config, **changes)


# --- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.make_import:
        return make_import(Path(args.make_import[0]), Path(args.make_import[1]), args)
    if args.direct:
        return direct(Path(args.direct), args)
    if len(args.files) != 2:
        _parser().error("give PREDICTED.jsonl and GOLD.jsonl, or --direct GOLD.jsonl")
    predicted = read_jsonl(Path(args.files[0]))
    gold = read_jsonl(Path(args.files[1]))
    pred_id = pick_pred_id_field(predicted, args.pred_id_field)
    result = report(
        predicted_labels(predicted, pred_id),
        gold_labels(gold, args.gold_id_field, args.gold_field),
    )
    print(f"predicted matched by {pred_id!r}, gold by {args.gold_id_field!r}")
    print("\n".join(result.lines()))
    langs = gold_langs(gold, args.gold_id_field, args.lang_field)
    if langs:
        print_pairs(
            predicted_labels(predicted, pred_id),
            gold_labels(gold, args.gold_id_field, args.gold_field),
            langs,
            args,
        )
    return 0 if result.articles else 1


def print_pairs(
    predicted: dict[Any, Any],
    gold: dict[Any, Any],
    langs: dict[Any, str],
    args: argparse.Namespace,
) -> None:
    pairs = pair_report(predicted, gold, langs, lang_pair(args.lang_pair))
    print("\n".join(pairs.lines()))
    if args.details:
        print("\n".join(pairs.details()))


def lang_pair(text: str) -> tuple[str, str]:
    first, _, second = text.partition(",")
    if not first.strip() or not second.strip():
        raise SystemExit(f"--lang-pair: expected two language codes such as nl,en, got {text!r}")
    return first.strip(), second.strip()


def direct(path: Path, args: argparse.Namespace) -> int:
    records = read_jsonl(path)
    config = config_from(args.set)
    name, extract = extractor(args.extractor)
    started = time.perf_counter()
    docs = [doc_of(i, r, args.lang_field, not args.ignore_dates) for i, r in enumerate(records)]
    features = extract(docs)
    print(f"extractor: {name} ({time.perf_counter() - started:.1f} s)")
    gold = {i: r[args.gold_field] for i, r in enumerate(records)}
    ids = {i: r.get(args.gold_id_field, i) for i, r in enumerate(records)}
    langs = {ids[i]: r[args.lang_field] for i, r in enumerate(records) if r.get(args.lang_field)}
    seeds = range(args.seed, args.seed + args.repeat) if args.order == "shuffle" else [0]
    f1s = []
    for seed in seeds:
        order = order_of(records, args.gold_id_field, args.order, seed)
        started = time.perf_counter()
        stories = cluster_directly(features, order, config)
        per_article = (time.perf_counter() - started) / max(len(records), 1) * 1000
        result = report(stories, gold)
        f1s.append(result.f1)
        print(f"order: {args.order}" + (f" (seed {seed})" if args.order == "shuffle" else ""))
        print(f"clustering {per_article:.2f} ms per article")
        print("\n".join(result.lines()))
        if langs:
            print_pairs(
                {ids[i]: story for i, story in stories.items()},
                {ids[i]: label for i, label in gold.items()},
                langs,
                args,
            )
    if len(f1s) > 1:
        print(f"mean F1 over {len(f1s)} orders {sum(f1s) / len(f1s):.4f}, lowest {min(f1s):.4f}")
    return 0


def make_import(gold_path: Path, out_path: Path, args: argparse.Namespace) -> int:
    """Gold documents as ``trendwatch import`` JSON Lines: id, title, text, url when the
    text starts with one, lang, published when the gold has it, and the gold label (which
    the import ignores; it is there to read the file by). All articles come from one
    source, so the import stores them, and ``process`` sees them, in file order."""
    with out_path.open("w", encoding="utf-8") as out:
        for position, record in enumerate(read_jsonl(gold_path)):
            url, title, body = doc_of(position, record, args.lang_field, dates=False).parts()
            line = {"id": record[args.gold_id_field], "title": title, "text": body or title}
            if url:
                line["url"] = url
            line["lang"] = record.get(args.lang_field) or "en"
            if record.get("published"):
                line["published"] = record["published"]
            if args.gold_field in record:
                line[args.gold_field] = record[args.gold_field]
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", metavar="PREDICTED.jsonl GOLD.jsonl")
    parser.add_argument("--gold-field", default="subtopic")
    parser.add_argument("--gold-id-field", default="doc_id")
    parser.add_argument("--pred-id-field", default="auto")
    parser.add_argument("--direct", metavar="GOLD.jsonl")
    parser.add_argument("--order", choices=("file", "id", "shuffle"), default="file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="shuffles from --seed on")
    parser.add_argument("--extractor", choices=("auto", "analysis", "standin"), default="auto")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--make-import", nargs=2, metavar=("GOLD.jsonl", "IMPORT.jsonl"))
    parser.add_argument("--lang-field", default="lang", help="the gold records' language")
    parser.add_argument("--lang-pair", default="nl,en", metavar="A,B")
    parser.add_argument(
        "--details", action="store_true", help="list joined stories and split pairs"
    )
    parser.add_argument(
        "--ignore-dates", action="store_true", help="--direct: do not pass published"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
