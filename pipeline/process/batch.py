"""The process stage, article by article: analyse, match, mark duplicates, cluster.

Two halves. :func:`analyse_articles` is pure and parallel: language, spaCy features,
MinHash signature and watchlist matches for a batch of articles, in worker processes
when ``[nlp] n_process`` asks for them, or in the work queue's batch jobs
(:mod:`pipeline.process.staged`); an article whose analysis raises is
:class:`Failed` (:func:`analyse_or_fail`). :class:`Processor` is sequential and stateful:
near-duplicate decisions and story assignment depend on arrival order, so they run in
the main process, in article id order, and each batch is stored in one transaction
together with the clusterer's state: a crash part-way redoes the batch from the same
state, and re-processing everything gives the same stories.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from pipeline.process import dedup
from pipeline.process.analysis.features import (
    ArticleFeatures,
    ArticleInput,
    GazetteerEntry,
    NlpConfig,
    entity_key,
)
from pipeline.process.stories import ClusterConfig, StoredState, Story, StoryClusterer
from pipeline.process.watchlists.matching import (
    CompiledQuery,
    Explanation,
    MatchDoc,
    snippet_around,
)
from pipeline.settings import Settings
from pipeline.store import (
    ArticleInfo,
    ArticleToProcess,
    FeatureText,
    MatchRow,
    ProcessedArticle,
    Store,
    StoryRow,
    feature_text,
    match_row,
)

if TYPE_CHECKING:
    from pipeline.process.trend_job import Trends

log = logging.getLogger("trendwatch.process")

STATE_KEY = "stories"


# --- configuration handed to workers (picklable, hashable) ---------------------------


@dataclass(frozen=True)
class WatchlistSpec:
    name: str
    query: str
    entity_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkerConfig:
    nlp: NlpConfig
    watchlists: tuple[WatchlistSpec, ...]


def worker_config(settings: Settings) -> WorkerConfig:
    """What the analysis needs from the settings: pipelines, gazetteer, watchlists."""
    gazetteer: dict[str, GazetteerEntry] = {}
    for spec in settings.nlp.entities:
        gazetteer[entity_key(spec.name)] = GazetteerEntry(spec.name, spec.label, spec.aliases)
    for w in settings.watchlists:
        for spec in w.entities:
            key = entity_key(spec.name)
            known = gazetteer.get(key)
            aliases = tuple(dict.fromkeys((*(known.aliases if known else ()), *spec.aliases)))
            label = spec.label if spec.label != "ENTITY" or not known else known.label
            gazetteer[key] = GazetteerEntry(spec.name, label, aliases)
    nlp = NlpConfig(
        models=settings.nlp.models,
        gazetteer=tuple(gazetteer[k] for k in sorted(gazetteer)),
        batch_size=settings.nlp.batch_size,
    )
    watchlists = tuple(
        WatchlistSpec(w.name, w.query, tuple(entity_key(e.name) for e in w.entities))
        for w in settings.watchlists
    )
    return WorkerConfig(nlp, watchlists)


# --- the pure, parallel half ---------------------------------------------------------


@dataclass(frozen=True)
class Analysed:
    """One article's analysis: its features and MinHash signature for the sequential
    half, and what the store writes of it that depends on the article alone, made where
    it was analysed (a worker process), not in the one process that stores every batch
    (:mod:`pipeline.store.prepared`): a row of ``matches`` for each watchlist that
    matched, and the features as text. Made by :func:`analysed`."""

    features: ArticleFeatures
    minhash: bytes
    matches: tuple[MatchRow, ...]
    text: FeatureText


def analysed(features: ArticleFeatures, minhash: bytes, matches: Mapping[str, dict]) -> Analysed:
    """The :class:`Analysed` of an article; ``matches``: watchlist -> why
    (``Explanation.as_dict``), for the watchlists that matched."""
    rows = tuple(match_row(features.id, name, why) for name, why in matches.items())
    return Analysed(features, minhash, rows, feature_text(*_stored_features(features)))


def article_input(row: ArticleToProcess) -> ArticleInput:
    """An article row from the store as the analysis takes it."""
    return ArticleInput(
        id=row.id,
        title=row.title,
        text=row.text or row.summary or "",
        url=row.url,
        html=row.content or "",
        language=row.language or row.source_language,
        published=row.published or row.fetched,
        source=row.source_name,
    )


@cache
def _queries(watchlists: tuple[WatchlistSpec, ...]) -> tuple[CompiledQuery | None, ...]:
    return tuple(CompiledQuery(w.query) if w.query.strip() else None for w in watchlists)


@cache
def _lookup_keys(watchlists: tuple[WatchlistSpec, ...], lang: str) -> frozenset[str]:
    """Every key the watchlists' queries look up in an article in ``lang``: the matcher
    indexes only those (the entity rule reads the text, not the index)."""
    return frozenset().union(*(q.lookup_keys(lang) for q in _queries(watchlists) if q))


def analyse_articles(articles: Sequence[ArticleInput], config: WorkerConfig) -> list[Analysed]:
    from pipeline.process.analysis.analyse import analyse  # spaCy loads where the analysis runs

    features = analyse(articles, config.nlp)
    queries = _queries(config.watchlists)
    # the keys per language, looked up once per batch: the cached call hashes all the
    # watchlists' specs each time (about 5 us)
    keys: dict[str, frozenset[str]] = {}

    def wanted(lang: str) -> frozenset[str]:
        found = keys.get(lang)
        if found is None:
            found = keys[lang] = _lookup_keys(config.watchlists, lang)
        return found

    out = []
    for article, feats in zip(articles, features, strict=True):
        doc = MatchDoc.build(article.title, article.text, article.url, feats.lang, wanted)
        matches = {}  # only the hits: less to send back from a worker process
        for w, q in zip(config.watchlists, queries, strict=True):
            why = match_watchlist(q, w, doc, feats)
            if why is not None:
                matches[w.name] = why
        signature = _signature(article.title, article.text, doc)
        out.append(analysed(feats, dedup.signature_to_bytes(signature), matches))
    return out


def _signature(title: str, body: str, doc: MatchDoc) -> dedup.Signature:
    """``dedup.signature(f"{title}\\n{body}")``; of a title and body in plain ASCII
    without ``_``, from the words matching split them into (their runs of ASCII letters
    and digits, as dedup splits them: the same words, before lower-casing)."""
    if _alnum_runs(title) and _alnum_runs(body):
        return dedup.ascii_signature(doc.title.words + doc.body.words)
    return dedup.signature(f"{title}\n{body}")


def _alnum_runs(text: str) -> bool:
    """Whether the words matching takes from ``text`` are its runs of ASCII letters and
    digits: ASCII without an apostrophe (the words are then its runs of ASCII word
    characters) and without ``_`` (the one word character that dedup splits at)."""
    return text.isascii() and "'" not in text and "_" not in text


@dataclass(frozen=True)
class Failed:
    """An article whose analysis raised: it is marked (with ``error``) and processed
    without features, so it neither stops the articles after it nor goes unseen."""

    id: int
    error: str


def analyse_or_fail(
    articles: Sequence[ArticleInput], config: WorkerConfig
) -> list[Analysed | Failed]:
    """:func:`analyse_articles`, in input order; when the batch raises, each article
    alone, and the one that raises again is :class:`Failed` instead."""
    try:
        return list(analyse_articles(articles, config))
    except Exception:
        if not articles:
            raise
        log.warning("analysis of a batch of %d failed; one article at a time", len(articles))
    out: list[Analysed | Failed] = []
    for article in articles:
        try:
            out.extend(analyse_articles([article], config))
        except Exception as exc:
            log.exception("analysis of article %d failed; marked and left out", article.id)
            out.append(Failed(article.id, f"{type(exc).__name__}: {exc}"[:1000]))
    return out


def match_watchlist(
    query: CompiledQuery | None, watchlist: WatchlistSpec, doc: MatchDoc, feats: ArticleFeatures
) -> dict | None:
    """The watchlist's verdict on one article: its query, or one of its entities as
    tagged in the article, with the reason why (matched words as they stand)."""
    why = query.match(doc) if query else None
    if not watchlist.entity_keys:
        return why.as_dict() if why else None
    wanted = set(watchlist.entity_keys)
    hits = [e for e in feats.entities if e.key in wanted]
    if not hits:
        return why.as_dict() if why else None
    entity_why = _entity_explanation(doc, [e.text for e in hits])
    if why is None:
        return entity_why.as_dict()
    terms = list(dict.fromkeys([*why.terms, *entity_why.terms]))
    return Explanation(terms, why.location, why.snippet).as_dict()


def _entity_explanation(doc: MatchDoc, names: list[str]) -> Explanation:
    title, body = doc.title.text, doc.body.text
    where = []
    snippet = ""
    for name in names:
        in_title = name.casefold() in title.casefold()
        at = body.casefold().find(name.casefold())
        if in_title and "title" not in where:
            where.append("title")
        if at >= 0:
            if "body" not in where:
                where.append("body")
            if not snippet:
                snippet = snippet_around(body, at, at + len(name))
    location = "+".join(sorted(where, key=["title", "body"].index)) or "body"
    return Explanation(list(dict.fromkeys(names)), location, snippet or title)


# What the forkserver imports once, before it forks any worker: the analysis's data
# (warmup), this module (each task names analyse_or_fail, whose unpickling imports it)
# and the main script when it is run by path (a bench, a test runner), which every
# worker would otherwise run again as it starts (``python -m pipeline`` is not re-run).
FORKSERVER_PRELOAD = ["__main__", "pipeline.process.batch", "pipeline.process.analysis.warmup"]


class Analyser:
    """Runs :func:`analyse_articles` in the main process or in worker processes."""

    def __init__(self, config: WorkerConfig, n_process: int = 1) -> None:
        self.config = config
        self.n_process = n_process
        self._pool: Executor | None = None

    def __enter__(self) -> Analyser:
        if self.n_process > 1:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(FORKSERVER_PRELOAD)
            self._pool = ProcessPoolExecutor(
                self.n_process, mp_context=context, initializer=_worker_start
            )
        return self

    def start(self) -> None:
        """Start the worker processes now (they start with the first batch otherwise),
        each building its spaCy pipelines as its first task (:func:`warm_up`): they
        load while this process does what comes before the first batch (matching
        stored articles for new watchlists, loading the clusterer's state)."""
        if self._pool:
            for _ in range(self.n_process):
                self._pool.submit(warm_up, self.config)

    def __exit__(self, *exc: object) -> None:
        if self._pool:
            self._pool.shutdown(cancel_futures=True)

    def trends(
        self, store: Store, weeks: list[str], tz: str, watchlists: list[str]
    ) -> dict[str, Trends]:
        """The trends of ``weeks`` (consecutive), by week, computed in the worker
        processes, each on its own connection to ``store``'s database and a run of the
        weeks (the end of a run is otherwise one process's work, the workers idle); in
        this process, on ``store``, without workers or with one week."""
        from pipeline.process.trend_job import trends_from, weeks_trends

        groups = _runs(weeks, self.n_process if self._pool else 1)
        if len(groups) < 2:
            return weeks_trends(store, weeks, tz, watchlists)
        assert self._pool is not None
        database = str(store.database)
        futures = [self._pool.submit(trends_from, database, g, tz, watchlists) for g in groups]
        return {week: found for f in futures for week, found in f.result().items()}

    def __call__(self, articles: Sequence[ArticleInput]) -> list[Analysed | Failed]:
        return self.submit(articles).result()

    def submit(self, articles: Sequence[ArticleInput]) -> Pending:
        """Start analysing ``articles``; ``.result()`` waits for them, in input order."""
        if not self._pool or len(articles) < 2 * self.n_process:
            return Pending(lambda: analyse_or_fail(articles, self.config))
        size = -(-len(articles) // (self.n_process * 2))
        futures = [
            self._pool.submit(analyse_or_fail, articles[i : i + size], self.config)
            for i in range(0, len(articles), size)
        ]
        return Pending(lambda: [a for f in futures for a in f.result()])


def _runs(weeks: list[str], parts: int) -> list[list[str]]:
    """``weeks`` in at most ``parts`` consecutive runs, the earlier ones no shorter
    (each run reads its weeks and the four before them: consecutive weeks share them)."""
    parts = max(1, min(parts, len(weeks)))
    size, extra = divmod(len(weeks), parts)
    out, at = [], 0
    for i in range(parts):
        n = size + (i < extra)
        out.append(weeks[at : at + n])
        at += n
    return [run for run in out if run]


WARM_LANGUAGES = ("nl", "en")  # the pipelines a worker builds before its first batch


def warm_up(config: WorkerConfig) -> tuple[str, ...]:
    """A worker's first task: build the spaCy pipelines of the languages most articles
    are in (:data:`WARM_LANGUAGES`; others are built when an article needs them); the
    languages built. A failure is left to the first batch, which reports it."""
    from pipeline.process.analysis.nlp import pipeline_for

    built = []
    for lang in WARM_LANGUAGES:
        try:
            pipeline_for(lang, config.nlp)
        except Exception:
            continue
        built.append(lang)
    return tuple(built)


WORKER_NICENESS = 5


def _worker_start() -> None:
    """Each analysis worker, as it starts: a lower CPU priority than the process that
    feeds it, so that the sequential half (dedup, clustering, storing) never waits for
    a core while the workers run ahead of it; and Ctrl-C in a terminal, which reaches
    the whole process group, is left to the main process, which stops between batches.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(WORKER_NICENESS)


class Pending:
    """Analysis results to come: computed in workers, or on demand in this process."""

    def __init__(self, compute: Callable[[], list[Analysed | Failed]]) -> None:
        self._compute = compute

    def result(self) -> list[Analysed | Failed]:
        return self._compute()


# --- the sequential, stateful half ---------------------------------------------------


@dataclass
class BatchResult:
    processed: list[ProcessedArticle] = field(default_factory=list)
    stories: list[StoryRow] = field(default_factory=list)
    repoint: list[tuple[int, int]] = field(default_factory=list)  # (old canonical, new)
    merges: list[tuple[int, int]] = field(default_factory=list)  # (merged story, into)
    # (article, story) for the articles a split moved, in order, after the merges
    moves: list[tuple[int, int]] = field(default_factory=list)
    duplicates: int = 0
    new_stories: int = 0


class Processor:
    """Near-duplicates and stories, one article at a time in id order."""

    def __init__(self, settings: Settings, store: Store, now: datetime) -> None:
        window = settings.nlp.story_window
        state = store.state(STATE_KEY)
        config = ClusterConfig(window=window)
        self.clusterer = (
            StoryClusterer.from_stored(state, store.cluster_stories(), config)
            if state
            else StoryClusterer(config)
        )
        self.preferred = frozenset(s.name for s in settings.sources if s.preferred)
        self.index = dedup.NearDuplicateIndex()
        self.known: dict[int, dedup.Candidate] = {}
        rows = store.dedup_candidates(now - max(window, timedelta(days=7)) * 2)
        for row in rows:
            self._remember(row)
            self.index.add(row.id, dedup.signature_from_bytes(row.minhash))
        # the canonical copies those point at, even when they are older than the window
        canonicals = {r.duplicate_of for r in rows} - set(self.known) - {None}
        for info in store.article_infos(canonicals):
            self._remember(info)

    def _remember(self, row: ArticleInfo) -> None:
        self.known[row.id] = dedup.Candidate(
            row.id,
            row.date,
            row.source_name,
            row.source_name in self.preferred,
            row.duplicate_of,
        )

    def run(self, analysed: Iterable[Analysed], already_clustered: set[int]) -> BatchResult:
        result = BatchResult()
        touched: dict[int, Story] = {}
        assigned: dict[int, int] = {}  # article id -> story id, for this batch
        done: list[tuple[Analysed, int | None]] = []  # stored once merges are known
        for a in sorted(analysed, key=lambda x: x.features.id):
            f = a.features
            duplicate_of = self._dedup(f, a.minhash, result)
            if f.id not in already_clustered:
                assignment = self.clusterer.add(f)
                assigned[f.id] = assignment.story_id
                result.new_stories += assignment.is_new
                for old in assignment.merged:  # two fragments of one story became one
                    result.merges.append((old, assignment.story_id))
                    touched.pop(old, None)
                    for article_id, story_id in assigned.items():
                        if story_id == old:
                            assigned[article_id] = assignment.story_id
                    result.moves = [
                        (a, assignment.story_id if s == old else s) for a, s in result.moves
                    ]
                for article_id, story_id in assignment.moved:  # a story split in two
                    result.moves.append((article_id, story_id))
                    if article_id in assigned:
                        assigned[article_id] = story_id
                for story_id in {assignment.story_id, *(s for _, s in assignment.moved)}:
                    summary = self.clusterer.story(story_id)
                    if summary is not None:  # a summary now: the story may close later on
                        touched[story_id] = summary
            done.append((a, duplicate_of))
        result.processed = [
            _processed(a, duplicate_of, assigned.get(a.features.id)) for a, duplicate_of in done
        ]
        for story_id in sorted(touched):
            story = self.clusterer.story(story_id) or touched[story_id]
            result.stories.append(
                StoryRow(
                    story.id,
                    ", ".join(story.label),
                    story.representative,
                    story.first,
                    story.last,
                    story.size,
                )
            )
        return result

    def _dedup(self, f: ArticleFeatures, minhash: bytes, result: BatchResult) -> int | None:
        """Record the article in the near-duplicate index and return the canonical
        article it duplicates; an article that should lead its group instead (preferred
        source, earlier) takes over, and the group is pointed at it (``repoint``)."""
        signature = dedup.signature_from_bytes(minhash)
        new = dedup.Candidate(f.id, f.published, f.source, f.source in self.preferred)
        decision = dedup.duplicate_of(new, signature, self.index, self.known.__getitem__)
        self.index.add(f.id, signature)
        self.known[f.id] = replace(new, duplicate_of=decision.duplicate_of)
        if decision.replaces is not None:
            old = decision.replaces
            result.repoint.append((old, f.id))
            for id_, known in self.known.items():
                if id_ == old or known.duplicate_of == old:
                    self.known[id_] = replace(known, duplicate_of=f.id)
        if decision.duplicate_of is not None or decision.replaces is not None:
            result.duplicates += 1
        return decision.duplicate_of

    def state(self) -> StoredState:
        """The clusterer's state to store with the batch; call :meth:`stored` once it
        is stored."""
        return self.clusterer.dump_stored()

    def stored(self) -> None:
        self.clusterer.mark_stored()


def _stored_features(
    f: ArticleFeatures,
) -> tuple[list[dict[str, str]], list[str], dict[str, int], list[str], list[str]]:
    """The features as the store takes them: entities, keyphrases, terms, numbers and
    links of a :class:`ProcessedArticle`."""
    entities = [{"text": e.text, "key": e.key, "label": e.label} for e in f.entities]
    return entities, list(f.keyphrases), f.terms, sorted(f.numbers), sorted(f.links)


def _processed(a: Analysed, duplicate_of: int | None, story_id: int | None) -> ProcessedArticle:
    f = a.features
    entities, keyphrases, terms, numbers, links = _stored_features(f)
    return ProcessedArticle(
        id=f.id,
        language=f.lang,
        entities=entities,
        keyphrases=keyphrases,
        terms=terms,
        numbers=numbers,
        links=links,
        minhash=a.minhash,
        duplicate_of=duplicate_of,
        story_id=story_id,
        text=a.text,
    )
