"""The process job on real SQLite files: tags, matches (also by entity), near duplicates,
stories, trends, import/export, re-processing and a crash half-way."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from articles_support import JUMBO_COPY, JUMBO_EN, JUMBO_NL
from pipeline import jsonl
from pipeline.jsonl import ImportError_, iter_export
from pipeline.process import job as process_job
from pipeline.store import Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

AHOLD_NL = (
    "Ahold Delhaize opent dit jaar twintig nieuwe winkels in België. Het concern uit"
    " Zaandam investeert 45 miljoen euro in de uitbreiding, zei topman Frans Muller. De"
    " winkels komen vooral in Vlaanderen. Ahold Delhaize verwacht 600 nieuwe medewerkers"
    " aan te nemen. De vakbonden zijn positief over de uitbreiding in België."
)
BURNOUT_EN = (
    "Burnout among young employees keeps rising, a survey by the research firm Cedar Insight"
    " shows. Almost one in five workers under thirty reported symptoms of burnout last year."
    " Employers are urged to talk about workload and to offer flexible hours. Cedar Insight"
    " interviewed 4,200 people across twelve sectors for the study."
)


def _line(id_, title, text, source, published, lang=None, url=None) -> str:
    record = {"id": id_, "title": title, "text": text, "source": source, "published": published}
    if lang:
        record["lang"] = lang
    if url:
        record["url"] = url
    return json.dumps(record)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "articles.jsonl",
        [
            _line(
                "a",
                "Jumbo schrapt 300 banen in Veghel",
                JUMBO_NL,
                "nos",
                "2026-11-25T09:00:00Z",
                url="https://nos.example/jumbo",
            ),
            _line(
                "b",
                "Honderden banen weg bij Jumbo",
                JUMBO_COPY,
                "regio",
                "2026-11-25T11:00:00Z",
                url="https://regio.example/jumbo-banen",
            ),
            _line("c", "Jumbo to cut 300 jobs in Veghel", JUMBO_EN, "wire", "2026-11-25T13:00:00Z"),
            _line(
                "d",
                "Ahold Delhaize opent twintig winkels in België",
                AHOLD_NL,
                "nos",
                "2026-11-24T08:00:00Z",
            ),
            _line(
                "e", "Burnout among young workers rises", BURNOUT_EN, "wire", "2026-11-23T10:00:00Z"
            ),
        ],
    )


CONFIG = """
[schedule]
timezone = "Europe/Amsterdam"

[[watchlists]]
name = "jumbo"
title = "Jumbo"
entities = [{ name = "Jumbo", label = "ORG", aliases = ["Jumbo Supermarkten"] }]

[[watchlists]]
name = "banen"
title = "Banen"
query = "banen OR jobs"

[[watchlists]]
name = "burnout"
title = "Burn-out"
query = "burnout"
"""


def _run(settings, corpus: Path, now: datetime = NOW) -> list[dict]:
    with Store(settings.db_path) as store:
        jsonl.import_jsonl(store, corpus, now=now)
        process_job.process(settings, store, now=now)
        return list(iter_export(store.export_rows()))


def _by_import_id(records: list[dict]) -> dict[str, dict]:
    return {r["import_id"]: r for r in records}


def test_duplicates_stories_and_entity_matches(make_settings, corpus: Path) -> None:
    settings = make_settings(CONFIG)
    out = _by_import_id(_run(settings, corpus))
    a, b, c, d, e = (out[k] for k in "abcde")
    # the syndicated copy with a new headline points at the earlier original
    assert b["duplicate_of"] == a["id"] and a["duplicate_of"] is None
    assert c["duplicate_of"] is None and d["duplicate_of"] is None
    # the Dutch and English reports of the same event form one story; others their own
    assert a["story_id"] == b["story_id"] == c["story_id"]
    assert len({a["story_id"], d["story_id"], e["story_id"]}) == 3
    # languages, entities, keyphrases
    assert (a["lang"], c["lang"], e["lang"]) == ("nl", "en", "en")
    assert {"jumbo", "veghel"} <= {x["key"] for x in a["entities"]}
    assert any(x["label"] == "ORG" and x["key"] == "jumbo" for x in c["entities"])
    assert "baan" in a["keyphrases"] or "banen" in a["keyphrases"]
    # the entity watchlist matched through the tags, with the words as they stand
    jumbo = {
        r["import_id"] for r in out.values() for m in r["matches"] if m["watchlist"] == "jumbo"
    }
    assert jumbo == {"a", "b", "c"}
    why = next(m for m in c["matches"] if m["watchlist"] == "jumbo")
    assert why["terms"] == ["Jumbo"] and why["location"] == "title+body"
    assert "Jumbo" in why["snippet"]
    # the query watchlist matched lemma-aware in both languages
    banen = {
        r["import_id"] for r in out.values() for m in r["matches"] if m["watchlist"] == "banen"
    }
    assert banen == {"a", "b", "c"}


def test_preferred_source_copy_becomes_canonical(make_settings, corpus: Path) -> None:
    settings = make_settings(
        CONFIG
        + '\n[[sources]]\nname = "regio"\nurl = "https://regio.example/feed"\npreferred = true\n'
    )
    out = _by_import_id(_run(settings, corpus))
    assert out["b"]["duplicate_of"] is None
    assert out["a"]["duplicate_of"] == out["b"]["id"]


def test_earlier_copy_arriving_later_takes_over(make_settings, tmp_path: Path) -> None:
    settings = make_settings(CONFIG)
    late = _write(
        tmp_path / "late.jsonl",
        [
            _line(
                "copy", "Honderden banen weg bij Jumbo", JUMBO_COPY, "regio", "2026-11-25T11:00:00Z"
            ),
        ],
    )
    early = _write(
        tmp_path / "early.jsonl",
        [
            _line("orig", "Jumbo schrapt 300 banen", JUMBO_NL, "nos", "2026-11-25T09:00:00Z"),
        ],
    )
    _run(settings, late)
    out = _by_import_id(_run(settings, early))
    assert out["orig"]["duplicate_of"] is None
    assert out["copy"]["duplicate_of"] == out["orig"]["id"]


def test_different_articles_on_the_same_topic_are_not_duplicates(make_settings, tmp_path) -> None:
    settings = make_settings(CONFIG)
    other = JUMBO_EN.replace("300", "120").replace("Veghel", "Utrecht")
    path = _write(
        tmp_path / "two.jsonl",
        [
            _line("x", "Jumbo to cut 300 jobs", JUMBO_EN, "wire", "2026-11-25T09:00:00Z"),
            _line(
                "y",
                "Jumbo staff protest",
                BURNOUT_EN + " " + other[:120],
                "wire",
                "2026-11-25T10:00:00Z",
            ),
        ],
    )
    out = _by_import_id(_run(settings, path))
    assert out["y"]["duplicate_of"] is None


def test_reprocessing_everything_gives_the_same_result(make_settings, corpus: Path) -> None:
    settings = make_settings(CONFIG)
    first = _run(settings, corpus)
    with Store(settings.db_path) as store:
        store.reset_processing()
        assert store.unprocessed_count() == 5
        process_job.process(settings, store, now=NOW)
        second = list(iter_export(store.export_rows()))
    assert first == second


def test_a_crash_half_way_leaves_a_consistent_store(make_settings, corpus, monkeypatch) -> None:
    settings = make_settings(CONFIG)
    expected = _run(settings, corpus)  # an uninterrupted run, for reference
    for leftover in settings.db_path.parent.glob("trendwatch.db*"):
        leftover.unlink()
    monkeypatch.setattr(process_job, "PROCESS_BATCH", 2)
    calls = {"n": 0}
    original = Store.save_processed

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "save_processed", flaky)
    with Store(settings.db_path) as store:
        jsonl.import_jsonl(store, corpus, now=NOW)
        with pytest.raises(RuntimeError):
            process_job.process(settings, store, now=NOW)
        # the first batch is stored whole, nothing of the second
        assert store.unprocessed_count() == 3
        assert store.story_count() >= 1
    with Store(settings.db_path) as store:
        process_job.process(settings, store, now=NOW)
        after = list(iter_export(store.export_rows()))
    assert after == expected


def test_stories_are_stored_a_row_each_and_a_json_state_of_an_earlier_version_continues(
    make_settings, corpus: Path, monkeypatch
) -> None:
    """Two runs of process, the second over more articles. Between them, the state is
    either left as this version stores it (a header and a row per open story) or
    turned into what trendwatch 0.1 left (JSON, stories inline, no rows): the result
    must be the same."""
    from pipeline.process.stories import StoryClusterer

    monkeypatch.setattr(process_job, "PROCESS_BATCH", 2)
    settings = make_settings(CONFIG)
    lines = sorted(corpus.read_text("utf-8").splitlines(), key=_published)
    first = _write(corpus.with_name("first.jsonl"), lines[:2])
    results = []
    for legacy in (False, True):
        for leftover in settings.db_path.parent.glob("trendwatch.db*"):
            leftover.unlink()
        with Store(settings.db_path) as store:
            jsonl.import_jsonl(store, first, now=NOW)
            process_job.process(settings, store, now=NOW)
            rows = store.cluster_stories()
            clusterer = StoryClusterer.from_stored(store.state("stories"), rows)
            assert len(rows) == len(clusterer.stories()) >= 1
            if legacy:
                store.set_state("stories", json.dumps(clusterer.dump(), sort_keys=True))
                store.db.execute("DELETE FROM cluster_stories")
                store.db.conn.commit()
        results.append(_run(settings, corpus))
        with Store(settings.db_path) as store:
            assert isinstance(store.state("stories"), bytes)  # a header; stories in rows
            rows = store.cluster_stories()
            clusterer = StoryClusterer.from_stored(store.state("stories"), rows)
            assert len(rows) == len(clusterer.stories()) >= 3
    assert results[0] == results[1]
    assert len({r["story_id"] for r in results[0]}) >= 3


def _published(line: str) -> str:
    return json.loads(line)["published"]


def test_a_new_entity_watchlist_matches_stored_articles(make_settings, corpus: Path) -> None:
    settings = make_settings(CONFIG)
    _run(settings, corpus)
    more = make_settings(
        CONFIG
        + '\n[[watchlists]]\nname = "ahold"\ntitle = "Ahold"\nentities = ["Ahold Delhaize"]\n'
    )
    with Store(more.db_path) as store:
        report = process_job.process(more, store, now=NOW)
        out = _by_import_id(list(iter_export(store.export_rows())))
    assert report.rematched == ("ahold",)
    ahold = {k for k, r in out.items() if any(m["watchlist"] == "ahold" for m in r["matches"])}
    assert ahold == {"d"}


def _weekly(path: Path, start: datetime, weeks: int, article) -> Path:
    """A JSONL file of 8 Dutch articles a week from ``start`` (a Monday), from three
    sources: ``article(week, i)`` gives each one's title and text."""
    lines = []
    for week in range(weeks):
        for i in range(8):
            day = start + timedelta(weeks=week, days=i % 5, hours=i)
            title, text = article(week, i)
            lines.append(_line(f"{week}-{i}", title, text, f"bron{i % 3}", day.isoformat(), "nl"))
    return _write(path, lines)


HOT = [
    "Steeds meer bedrijven proberen de vierdaagse werkweek uit.",
    "De vierdaagse werkweek is volgens onderzoekers geen hype.",
    "Vakbonden willen de vierdaagse werkweek in de cao.",
    "Een proef met de vierdaagse werkweek bij gemeenten loopt goed.",
    "Jonge werknemers vragen vaker naar de vierdaagse werkweek.",
    "Ook in de zorg wordt de vierdaagse werkweek besproken.",
]
QUIET = [
    "Kantoorplanten zorgen voor een betere sfeer.",
    "Een nieuwe koffieautomaat blijkt populair op de afdeling.",
    "De kantine gaat na de verbouwing weer open.",
    "Fietsen naar het werk wordt beloond met een bonus.",
    "Het parkeerterrein krijgt laadpalen voor elektrische auto's.",
    "De bedrijfsbibliotheek leent nu ook e-boeken uit.",
    "Medewerkers organiseren een sponsorloop voor het goede doel.",
    "De lift op de derde verdieping is eindelijk gerepareerd.",
]


def test_trends_are_stored_per_week(make_settings, tmp_path: Path) -> None:
    settings = make_settings(CONFIG)
    start = datetime(2026, 10, 26, 10, tzinfo=UTC)  # Monday of week 44

    def article(week: int, i: int) -> tuple[str, str]:
        if week == 4 and i < 6:  # the hot topic of the last week
            return f"Vierdaagse werkweek in regio {i}", (
                f"{HOT[i % len(HOT)]} Werkgevers in regio {i} zien de vierdaagse werkweek"
                f" als manier om personeel te binden; {10 + i} bedrijven doen mee."
            )
        quiet = QUIET[(week + i) % len(QUIET)]
        return f"Kantoornieuws {week}-{i}", f"{quiet} Het gaat om kantoor nummer {week}{i}."

    path = _weekly(tmp_path / "weeks.jsonl", start, 5, article)
    now = start + timedelta(weeks=4, days=5)
    _run(settings, path, now=now)
    with Store(settings.db_path) as store:
        trends = store.trends("2026-W48", "*")
        earlier = store.trends("2026-W46", "*")
    rising = [t for t in trends if t["kind"] == "term"]
    week_terms = [t for t in rising if "werkweek" in t["term"]]
    assert week_terms, rising
    top = week_terms[0]
    assert top["count"] == 6 and top["new"] and top["score"] > 6.63
    assert top["baseline"] == 0 and top["baseline_docs"] > 0
    assert all(t["score"] >= 6.63 for t in rising)
    assert not any("werkweek" in t["term"] for t in earlier)


def test_trends_of_several_weeks_at_once_equal_each_week_on_its_own(
    make_settings, tmp_path: Path
) -> None:
    """One update reads and counts the weeks once for all the weeks it updates; every
    week's trends are those it gets on its own (each scope, each kind, in order)."""
    from pipeline.process.trend_job import TaggedWeeks

    settings = make_settings(CONFIG)
    start = datetime(2026, 10, 19, 10, tzinfo=UTC)  # Monday of week 43

    def article(week: int, i: int) -> tuple[str, str]:
        text = HOT[(week + i) % len(HOT)] if (week + i) % 3 else QUIET[i % len(QUIET)]
        return f"Nieuws {week}-{i}", text

    now = start + timedelta(weeks=5, days=4)
    _run(settings, _weekly(tmp_path / "weeks.jsonl", start, 6, article), now=now)
    weeks = [f"2026-W{n}" for n in range(44, 49)]
    names = [w.name for w in settings.watchlists]
    with Store(settings.db_path) as store:
        together = TaggedWeeks(store, weeks, settings.schedule.timezone, names)
        for week in weeks:
            alone = TaggedWeeks(store, [week], settings.schedule.timezone, names).trends(week)
            assert together.trends(week) == alone
            assert [(scope, trends) for scope, trends in alone if scope == "*"] == [
                ("*", store.trends(week, "*"))
            ]
        assert any(store.trends(week, "*") for week in weeks[:-1])


def test_import_rejects_a_bad_file_and_stores_nothing(make_settings, tmp_path: Path) -> None:
    settings = make_settings(CONFIG)
    path = tmp_path / "bad.jsonl"
    path.write_text(
        _line("ok", "Goed", "Tekst", "x", "2026-11-25T09:00:00Z")
        + "\n{not json\n"
        + json.dumps({"id": "2", "title": "Geen tekst"})
        + "\n"
        + json.dumps({"id": "3", "title": "t", "text": "x", "published": "gisteren"})
        + "\n"
        + json.dumps({"id": "4", "title": "t", "text": "x", "url": "ftp://x"})
        + "\n"
        + _line("ok", "Goed", "Tekst", "x", "2026-11-25T09:00:00Z")
        + "\n",
        encoding="utf-8",
    )
    with Store(settings.db_path) as store, pytest.raises(ImportError_) as info:
        jsonl.import_jsonl(store, path, now=NOW)
    lines = [line for line, _ in info.value.problems]
    assert lines == [2, 3, 4, 5, 6]
    message = str(info.value)
    assert f"{path}:3: missing text" in message
    assert "published: expected an ISO 8601 date" in message
    assert "url: expected an absolute http(s) URL" in message
    assert "repeats line 1" in message
    with Store(settings.db_path) as store:
        assert store.article_count() == 0


def test_import_twice_adds_nothing(make_settings, corpus: Path) -> None:
    settings = make_settings(CONFIG)
    with Store(settings.db_path) as store:
        first = jsonl.import_jsonl(store, corpus, now=NOW)
        second = jsonl.import_jsonl(store, corpus, now=NOW)
        assert (first.new, second.new, second.unchanged) == (5, 0, 5)
        assert store.article_count() == 5


def test_import_stores_the_files_order_when_sources_take_turns(
    make_settings, tmp_path: Path
) -> None:
    """A file written oldest first with its sources line by line in turn (an export of
    several feeds) reaches ``process`` in that order, not source by source: the story
    clusterer sees the news in time order, as a crawl delivers it."""
    settings = make_settings(CONFIG)
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    lines = [
        _line(f"n{i}", f"Bericht {i}", "Tekst.", source, (start + timedelta(hours=i)).isoformat())
        for i, source in enumerate(["zeta", "alpha", "zeta", "midden", "alpha", "zeta"])
    ]
    path = _write(tmp_path / "turns.jsonl", lines)
    with Store(settings.db_path) as store:
        report = jsonl.import_jsonl(store, path, now=NOW)
        order = [(r.title, r.source_name) for r in store.articles_to_process(100)]
    assert order == [
        ("Bericht 0", "zeta"),
        ("Bericht 1", "alpha"),
        ("Bericht 2", "zeta"),
        ("Bericht 3", "midden"),
        ("Bericht 4", "alpha"),
        ("Bericht 5", "zeta"),
    ]
    assert (report.articles, report.new, report.sources) == (6, 6, ("alpha", "midden", "zeta"))


def test_an_import_that_fails_part_way_stores_nothing(
    make_settings, corpus: Path, monkeypatch
) -> None:
    """One transaction for the whole file: a failure after some sources were stored
    (here the disk, on the third save) leaves the database as it was."""
    settings = make_settings(CONFIG)
    saves = []
    real = Store.save_entries

    def failing(self, source_id, entries, now):
        saves.append(source_id)
        if len(saves) == 3:
            raise OSError("disk full")
        return real(self, source_id, entries, now)

    monkeypatch.setattr(Store, "save_entries", failing)
    with Store(settings.db_path) as store, pytest.raises(OSError):
        jsonl.import_jsonl(store, corpus, now=NOW)
    monkeypatch.undo()
    with Store(settings.db_path) as store:
        assert store.article_count() == 0
        assert jsonl.import_jsonl(store, corpus, now=NOW).new == 5


def test_worker_processes_give_the_same_result(make_settings, corpus: Path, monkeypatch) -> None:
    """[nlp] n_process = 2 analyses in worker processes; the stored result is the same."""
    monkeypatch.setattr(process_job, "PROCESS_BATCH", 4)  # several batches, analysed ahead
    inline = _run(make_settings(CONFIG), corpus)
    for leftover in make_settings(CONFIG).db_path.parent.glob("trendwatch.db*"):
        leftover.unlink()
    parallel = _run(make_settings(CONFIG + "\n[nlp]\nn_process = 2\n"), corpus)
    assert parallel == inline


@pytest.mark.both_databases
def test_worker_processes_compute_the_weeks_trends_as_this_process_does(
    make_settings, tmp_path: Path, database: str | Path
) -> None:
    """With worker processes the trends of the weeks a run changed are computed in the
    workers, a run of weeks each, on their own connections (to SQLite or PostgreSQL):
    the same trends as this process computes."""
    start = datetime(2026, 10, 19, 10, tzinfo=UTC)  # Monday of week 43

    def article(week: int, i: int) -> tuple[str, str]:
        return f"Nieuws {week}-{i}", HOT[(week + i) % len(HOT)] if i % 3 else QUIET[i]

    corpus = _weekly(tmp_path / "weeks.jsonl", start, 6, article)
    now = start + timedelta(weeks=5, days=4)
    weeks = [f"2026-W{n}" for n in range(44, 49)]
    stored = []
    runs = [(CONFIG, tmp_path / "inline.db"), (CONFIG + "\n[nlp]\nn_process = 2\n", database)]
    for config, where in runs:
        settings = make_settings(config)
        with Store(where) as store:
            jsonl.import_jsonl(store, corpus, now=now)
            report = process_job.process(settings, store, now=now)
            assert report.trend_weeks == tuple(weeks)
            names = ["*", *(w.name for w in settings.watchlists)]
            stored.append({(w, n): store.trends(w, n) for w in weeks for n in names})
    assert stored[0] == stored[1]
    assert any(stored[0].values())


def test_weeks_split_into_consecutive_runs_for_the_workers() -> None:
    from pipeline.process.batch import _runs

    weeks = ["W44", "W45", "W46", "W47", "W48"]
    assert _runs(weeks, 2) == [["W44", "W45", "W46"], ["W47", "W48"]]
    assert _runs(weeks, 1) == [weeks]
    assert _runs(weeks[:1], 2) == [["W44"]]
    assert _runs(weeks, 9) == [[w] for w in weeks]
    assert _runs([], 2) == []


def test_workers_run_at_a_lower_priority_and_leave_ctrl_c_to_the_main_process() -> None:
    import os
    import signal

    from pipeline.process.analysis.nlp import NlpConfig
    from pipeline.process.batch import WORKER_NICENESS, Analyser, WorkerConfig

    with Analyser(WorkerConfig(NlpConfig(), ()), n_process=2) as analyser:
        assert analyser._pool is not None
        niceness = analyser._pool.submit(os.nice, 0).result()
        on_sigint = analyser._pool.submit(signal.getsignal, signal.SIGINT).result()
    assert niceness == min(19, os.nice(0) + WORKER_NICENESS)
    assert on_sigint == signal.SIG_IGN


def test_the_workers_start_before_the_first_batch_only_when_there_is_work(
    make_settings, corpus: Path, monkeypatch
) -> None:
    """With worker processes, a run that has articles to analyse starts them (and their
    spaCy pipelines) before it matches stored articles again and loads the clusterer's
    state; a run with nothing to analyse starts none."""
    from pipeline.process import batch

    events: list[str] = []
    monkeypatch.setattr(batch.Analyser, "start", lambda self: events.append("start"))
    real_rematch = process_job._rematch
    monkeypatch.setattr(
        process_job, "_rematch", lambda *a: (events.append("rematch"), real_rematch(*a))[1]
    )
    settings = make_settings(CONFIG + "\n[nlp]\nn_process = 2\n")
    with Store(settings.db_path) as store:
        process_job.process(settings, store, now=NOW)
        assert events == ["rematch"]
        events.clear()
        jsonl.import_jsonl(store, corpus, now=NOW)
        report = process_job.process(settings, store, now=NOW)
    assert events == ["start", "rematch"]
    assert report.articles == 5


def test_a_worker_warms_up_by_building_the_dutch_and_english_pipelines(monkeypatch) -> None:
    from pipeline.process.analysis import nlp
    from pipeline.process.analysis.nlp import NlpConfig
    from pipeline.process.batch import WorkerConfig, warm_up

    config = WorkerConfig(NlpConfig(batch_size=7), ())
    assert warm_up(config) == ("nl", "en")
    assert nlp.pipeline_for("nl", config.nlp) is nlp.pipeline_for("nl", config.nlp)
    assert {("nl", config.nlp), ("en", config.nlp)} <= set(nlp._PIPELINES)

    def broken(lang, config):
        raise OSError(f"model for {lang} is damaged")

    # a pipeline that cannot be built is left to the first batch, which reports it
    monkeypatch.setattr(nlp, "pipeline_for", broken)
    assert warm_up(WorkerConfig(NlpConfig(batch_size=8), ())) == ()


def test_the_run_keeps_its_state_out_of_full_collections_and_thaws_it_after(
    make_settings, corpus: Path, monkeypatch
) -> None:
    """After each batch is stored, what the run holds (the clusterer's state) is kept out
    of the garbage collector's full passes (``gc.freeze``); when the run ends everything
    is under the collector again (``trendwatch run`` lives on), objects a caller froze
    itself stay frozen, and the result is the same either way."""
    import gc

    monkeypatch.setattr(process_job, "PROCESS_BATCH", 2)  # three batches
    already = gc.get_freeze_count()  # (what other code in this process froze)
    gc.unfreeze()
    try:
        settings = make_settings(CONFIG)
        seen: list[int] = []
        with Store(settings.db_path) as store:
            jsonl.import_jsonl(store, corpus, now=NOW)
            process_job.process(
                settings, store, now=NOW, on_batch=lambda n: seen.append(gc.get_freeze_count())
            )
            first = list(iter_export(store.export_rows()))
        assert len(seen) == 3 and all(count > 0 for count in seen)
        assert gc.get_freeze_count() == 0
        for leftover in settings.db_path.parent.glob("trendwatch.db*"):
            leftover.unlink()
        gc.freeze()
        frozen = gc.get_freeze_count()
        again = _run(make_settings(CONFIG), corpus)
        assert 0 < gc.get_freeze_count() <= frozen  # the caller's left frozen, none added
    finally:
        gc.unfreeze()
        if already:
            gc.freeze()
    assert again == first
