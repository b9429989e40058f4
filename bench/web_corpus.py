"""The web benchmark's data (``bench/web.py``): generated Dutch and English articles,
stored through the store's own writes, and an archive of editions.

``generate`` writes articles from real words in several forms (``woning``/``woningen``,
``company``/``companies``), names, and a 20,000-word tail of pseudo-words per language,
grouped into events (a story each) over :data:`WEEKS` weeks. ``store_articles`` stores
them in date order, as a crawl would (so ids follow time), with ``save_entries`` and
then ``save_processed`` (the method the process stage stores a batch with, which also
writes the search index), with the terms the NLP stage would give these words (their
lemmas from :func:`pipeline.search.lemmas.lemmas_of`); or through the real ``process``
job. ``write_archive`` writes an edition per week and language with the digests' own
archive functions.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawlers.entries import Entry
from digests.archive import archive_entry, write_edition_page, write_indexes
from digests.model import DigestItem, DigestSection, Edition
from digests.render import render_edition
from pipeline.search.lemmas import lemmas_of
from pipeline.settings import Settings
from pipeline.store import ProcessedArticle, Store, StoryRow, match_row

SEED = 20261130
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WEEKS = 26
SOURCES = 20  # per language
SECRET_ENV = "TW_BENCH_SECRET"
BATCH = 1000

# real words in several forms: the lemma column must find the one through the other
WORDS = {
    "nl": "woning woningen huis huizen huur huren baan banen werknemer werknemers"
    " werkgever werkgevers school scholen kind kinderen stad steden gemeente gemeenten"
    " bedrijf bedrijven prijs prijzen plan plannen zorg energie rente hypotheek"
    " hypotheken vakbond vakbonden staking stakingen loon lonen pensioen pensioenen"
    " minister ministers onderzoek onderzoeken klimaat warmtepomp warmtepompen nieuw"
    " nieuwe groot grote stijgt stijgen daalt dalen bouwt bouwen betaalt betalen",
    "en": "house houses housing rent rents job jobs worker workers employer employers"
    " school schools child children city cities council councils company companies"
    " price prices plan plans care energy rate mortgage mortgages union unions strike"
    " strikes wage wages pension pensions minister ministers study studies climate"
    " heat pump pumps new large rises rise falls fall builds build pays pay",
}
GLUE = {
    "nl": "de het een van in op met voor dat is zijn wordt naar bij om ook niet maar en".split(),
    "en": "the a of in on with for that is are was to at also not but and by from".split(),
}
SYLLABLES = "ka lo mi ne ro sa te vi du ber gen hof dam wijk ton ley ford ham ville".split()
WATCHLISTS = ("wonen", "werk", "onderwijs", "zorg", "energie", "klimaat", "pensioen", "bouw")


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _zipf(rng: random.Random, words: list[str]) -> str:
    return words[int(len(words) ** rng.random()) - 1]  # a few frequent, a long tail


@dataclass
class Article:
    n: int
    lang: str
    title: str
    text: str
    source: str
    published: datetime
    event: int
    watchlist: str
    words: list[str]


def generate(count: int, rng: random.Random) -> list[Article]:
    tails = {
        lang: sorted({"".join(rng.choice(SYLLABLES) for _ in range(3)) for _ in range(20_000)})
        for lang in ("nl", "en")
    }
    words = {lang: text.split() for lang, text in WORDS.items()}
    articles: list[Article] = []
    event = 0
    while len(articles) < count:
        event += 1
        lang = "nl" if event % 2 else "en"
        topic = rng.sample(words[lang], 5)
        names = [_name(rng, 3) for _ in range(2)]
        day = NOW - timedelta(days=rng.uniform(0, WEEKS * 7))
        for _ in range(min(rng.randint(1, 8), count - len(articles))):
            body: list[str] = []
            for _ in range(rng.randint(60, 200)):
                roll = rng.random()
                pool = (
                    GLUE[lang]
                    if roll < 0.35
                    else topic
                    if roll < 0.55
                    else names
                    if roll < 0.6
                    else words[lang]
                    if roll < 0.7
                    else None
                )
                body.append(rng.choice(pool) if pool else _zipf(rng, tails[lang]))
            title = [*rng.sample(topic, 3), names[0], *rng.sample(tails[lang], 2)]
            n = len(articles)
            articles.append(
                Article(
                    n=n,
                    lang=lang,
                    title=" ".join(title).capitalize(),
                    text=" ".join(body).capitalize() + ".",
                    source=f"{lang}-bron-{rng.randrange(SOURCES):02d}",
                    published=day + timedelta(hours=rng.uniform(0, 30)),
                    event=event,
                    watchlist=WATCHLISTS[event % len(WATCHLISTS)],
                    words=title + body,
                )
            )
    return articles


def terms_of(article: Article) -> dict[str, int]:
    """The content words' lemmas and counts, as the NLP stage keeps them (top 200)."""
    counts: Counter[str] = Counter()
    glue = set(GLUE[article.lang])
    for word in article.words:
        if word.lower() not in glue and len(word) > 1 and word.isalpha():
            counts.update(lemmas_of(word, article.lang))
    return dict(counts.most_common(200))


def write_config(folder: Path, nlp: bool) -> Path:
    lines = [
        'data_dir = "data"',
        'digest_title = "Trendwatch Bench"',
        f'secret_env = "{SECRET_ENV}"',
    ]
    for name in WATCHLISTS:
        lines += [
            "[[watchlists]]",
            f'name = "{name}"',
            f'title = "{name.title()}"',
            f'query = "{name}"',
        ]
    if nlp:
        lines += ["[nlp]", "n_process = 2"]
    path = folder / "trendwatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def store_articles(settings: Settings, articles: list[Article], nlp: bool) -> None:
    """Everything through the store's writes (or the real process job with ``nlp``)."""
    with Store(settings.db_path) as store:
        store.sync_watchlists(settings.watchlists)
        sources = {
            name: store.ensure_source(name, "import", f"import:{name}", NOW)
            for name in sorted({a.source for a in articles})
        }
        by_date = sorted(articles, key=lambda a: a.published)
        for start in range(0, len(by_date), BATCH):  # as they come in: ids follow time
            by_source: dict[str, list[Article]] = {}
            for a in by_date[start : start + BATCH]:
                by_source.setdefault(a.source, []).append(a)
            for name, group in by_source.items():
                entries = [
                    Entry(
                        identity=f"bench:{a.n}",
                        title=a.title,
                        url=f"https://{name}.example/{a.n}",
                        text=a.text,
                        summary=a.text[:200],
                        published=a.published,
                        language=a.lang,
                    )
                    for a in group
                ]
                store.save_entries(sources[name], entries, NOW)
        ids = {
            int(identity.split(":")[1]): article_id
            for article_id, identity in store.db.execute("SELECT id, identity FROM articles")
        }
        if nlp:
            from pipeline.process import job as process_job

            process_job.process(settings, store, now=NOW)
            return
        events: dict[int, list[Article]] = {}
        for a in articles:
            events.setdefault(a.event, []).append(a)
        stories = {
            e: StoryRow(
                e,
                " ".join(g[0].title.split()[:3]),
                ids[g[0].n],
                min(x.published for x in g),
                max(x.published for x in g),
                len(g),
            )
            for e, g in events.items()
        }
        for start in range(0, len(by_date), BATCH):
            batch = by_date[start : start + BATCH]
            store.save_processed(
                [
                    ProcessedArticle(
                        ids[a.n], a.lang, [], [], terms_of(a), [], [], None, None, a.event
                    )
                    for a in batch
                ],
                matches=[match_row(ids[a.n], a.watchlist, {"terms": [a.watchlist]}) for a in batch],
                progress={},
                stories=[stories[e] for e in dict.fromkeys(a.event for a in batch)],
                state={},
                now=NOW,
            )


def write_archive(settings: Settings, articles: list[Article]) -> list[str]:
    """An edition per week and language, as ``trendwatch digest`` writes them."""
    editions = []
    for week in range(WEEKS):
        end = NOW - timedelta(weeks=week)
        start = end - timedelta(days=7)
        for lang in ("nl", "en"):
            chosen = [a for a in articles if a.lang == lang and start <= a.published < end][:40]
            sections = tuple(
                DigestSection(
                    watchlist=w,
                    title=w.title(),
                    items=tuple(
                        DigestItem(
                            a.title,
                            f"https://{a.source}.example/{a.n}",
                            a.source,
                            a.published,
                            a.text[:200],
                        )
                        for a in chosen
                        if a.watchlist == w
                    )[:8],
                )
                for w in WATCHLISTS
            )
            iso = end.isocalendar()
            editions.append(
                Edition(
                    key=f"{iso.year}-W{iso.week:02d}/{lang}-all",
                    slug=f"{lang}-all",
                    title="Trendwatch Bench",
                    language=lang,
                    timezone="Europe/Amsterdam",
                    period_start=start,
                    period_end=end,
                    year=iso.year,
                    week=iso.week,
                    sections=tuple(s for s in sections if s.items),
                    built_at=end,
                )
            )
    for edition in editions:
        write_edition_page(settings.archive_dir, edition, render_edition(edition).html)
    write_indexes(
        settings.archive_dir, [archive_entry(e) for e in editions], title="Trendwatch Bench"
    )
    return [f"/archive/{e.archive_path}" for e in editions]
