"""Story clustering: a labelled Dutch/English fixture, determinism, state, window, cost."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.process.analysis.analyse import ArticleInput, analyse
from pipeline.process.analysis.features import ArticleFeatures, Entity
from pipeline.process.analysis.nlp import NlpConfig
from pipeline.process.stories import MAX_MERGE_ROUNDS, ClusterConfig, StoryClusterer, bcubed
from tests_support import REPO

FIXTURE = Path(__file__).parents[2] / "fixtures" / "stories" / "articles.jsonl"
T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text("utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def articles(records: list[dict]) -> list[ArticleFeatures]:
    """The fixture's features, in order of publication (the order a crawl sees them)."""
    inputs = [
        ArticleInput(
            r["id"],
            r["title"],
            r["text"],
            language=r["lang"],
            published=datetime.fromisoformat(r["published"]),
        )
        for r in records
    ]
    features = analyse(inputs, NlpConfig())
    return sorted(features, key=lambda f: (f.published, f.id))


def cluster(
    articles: list[ArticleFeatures], config: ClusterConfig | None = None
) -> tuple[dict[int, int], StoryClusterer]:
    """Article id -> final story id (following merges), and the clusterer."""
    clusterer = StoryClusterer(config)
    assigned: dict[int, int] = {}
    moved: dict[int, int] = {}
    for article in articles:
        assignment = clusterer.add(article)
        assigned[article.id] = assignment.story_id
        for old in assignment.merged:
            moved[old] = assignment.story_id
    for article_id, story in assigned.items():
        while story in moved:
            story = moved[story]
        assigned[article_id] = story
    return assigned, clusterer


def by_story(records: list[dict]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r in records:
        out.setdefault(r["story"], []).append(r["id"])
    return out


def article(
    id_: int,
    when: datetime | None,
    terms: dict[str, int],
    names: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    lang: str = "en",
) -> ArticleFeatures:
    entities = tuple(Entity(n, n.lower(), "NAME") for n in names)
    return ArticleFeatures(
        id_, lang, when, terms=terms, entities=entities, numbers=frozenset(numbers)
    )


# --- the labelled fixture ------------------------------------------------------------------


def test_fixture_clusters_like_the_gold_labels(
    records: list[dict], articles: list[ArticleFeatures]
) -> None:
    stories, _ = cluster(articles)
    gold = {r["id"]: r["story"] for r in records}
    precision, recall, f1 = bcubed(stories, gold)
    assert f1 >= 0.95, (precision, recall)
    assert len(set(stories.values())) == len(set(gold.values()))


def test_every_gold_story_lands_in_one_story(
    records: list[dict], articles: list[ArticleFeatures]
) -> None:
    stories, _ = cluster(articles)
    for name, ids in by_story(records).items():
        assert len({stories[i] for i in ids}) == 1, name


def test_dutch_and_english_reports_of_one_event_share_a_story(
    records: list[dict], articles: list[ArticleFeatures]
) -> None:
    stories, _ = cluster(articles)
    langs = {r["id"]: r["lang"] for r in records}
    for name in ("layoffs-philips", "quake-turkey", "layoffs-ing", "schiphol-strike"):
        ids = by_story(records)[name]
        assert {langs[i] for i in ids} == {"nl", "en"}
        assert len({stories[i] for i in ids}) == 1, name


def test_two_events_of_the_same_kind_stay_apart(
    records: list[dict], articles: list[ArticleFeatures]
) -> None:
    stories, _ = cluster(articles)
    groups = by_story(records)
    for one, other in (("quake-turkey", "quake-indonesia"), ("layoffs-philips", "layoffs-ing")):
        assert {stories[i] for i in groups[one]}.isdisjoint({stories[i] for i in groups[other]})


def test_stories_have_a_label_and_a_representative_member(
    records: list[dict], articles: list[ArticleFeatures]
) -> None:
    stories, clusterer = cluster(articles)
    philips = stories[by_story(records)["layoffs-philips"][0]]
    summary = clusterer.story(philips)
    assert summary is not None
    assert "Philips" in summary.label
    assert 1 <= len(summary.label) <= 3
    assert stories[summary.representative] == philips
    assert summary.size == 4
    assert summary.langs == ("en", "nl")
    assert [s.id for s in clusterer.stories()] == sorted(set(stories.values()))


# --- determinism and state ------------------------------------------------------------------


def test_the_same_articles_in_the_same_order_give_the_same_stories(
    articles: list[ArticleFeatures],
) -> None:
    first, one = cluster(articles)
    second, two = cluster(articles)
    assert first == second
    assert json.dumps(one.dump(), sort_keys=True) == json.dumps(two.dump(), sort_keys=True)
    assert one.stories() == two.stories()


# Random overlapping articles whose numbers and links are sets of strings: their order,
# and with it any order-dependent float sum, changes with the interpreter's hash seed.
SYNTHETIC_RUN = """
import json, random
from datetime import UTC, datetime, timedelta
from pipeline.process.analysis.features import ArticleFeatures, Entity
from pipeline.process.stories import StoryClusterer
rng = random.Random(5)
words = [f"w{i}" for i in range(60)]
clusterer = StoryClusterer()
out = []
for i in range(150):
    topic = rng.randrange(12)
    terms = {w: rng.randint(1, 3) for w in rng.sample(words[topic * 4 : topic * 4 + 12], 6)}
    names = tuple(Entity(f"N{n}", f"n{n}", "NAME") for n in {topic, rng.randrange(30)})
    numbers = frozenset(str(100 + topic * 7 + rng.randrange(3)) for _ in range(4))
    links = frozenset(f"https://example.org/{topic}/{rng.randrange(4)}" for _ in range(3))
    when = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i)
    a = clusterer.add(ArticleFeatures(i, "en", when, terms, names, (), numbers, links))
    out.append([a.story_id, a.is_new, a.similarity, list(a.merged)])
print(json.dumps([out, clusterer.dump()], sort_keys=True))
"""


def test_results_do_not_depend_on_the_interpreters_hash_seed() -> None:
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            [sys.executable, "-c", SYNTHETIC_RUN],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    runs = json.loads(outputs.pop())[0]
    assert len({story for story, *_ in runs}) > 3  # the run does cluster something


def test_a_reloaded_state_continues_exactly_like_an_uninterrupted_run(
    articles: list[ArticleFeatures],
) -> None:
    whole = StoryClusterer()
    expected = [whole.add(a) for a in articles]
    for cut in (1, len(articles) // 2, len(articles) - 3):
        before = StoryClusterer()
        got = [before.add(a) for a in articles[:cut]]
        state = json.loads(json.dumps(before.dump()))  # as the pipeline stores it
        after = StoryClusterer.load(state)
        got += [after.add(a) for a in articles[cut:]]
        assert got == expected
        assert after.dump() == whole.dump()
        assert after.stories() == whole.stories()


def test_a_state_of_another_version_is_refused() -> None:
    state = StoryClusterer().dump()
    state["version"] = 99
    with pytest.raises(ValueError, match="version"):
        StoryClusterer.load(state)


def test_new_story_ids_continue_after_a_reload() -> None:
    clusterer = StoryClusterer()
    first = clusterer.add(article(1, T0, {"alpha": 1, "beta": 1}, ("Alpha Corp",)))
    reloaded = StoryClusterer.load(clusterer.dump())
    second = reloaded.add(article(2, T0, {"gamma": 1, "delta": 1}, ("Gamma Inc",)))
    assert (first.story_id, second.story_id) == (1, 2)
    assert second.is_new


# --- time ----------------------------------------------------------------------------------


def test_the_same_subject_ten_days_later_starts_a_new_story(
    records: list[dict], articles: list[ArticleFeatures]
) -> None:
    stories, clusterer = cluster(articles)
    philips = next(a for a in articles if a.id == by_story(records)["layoffs-philips"][0])
    last = max(a.published for a in articles if a.published)
    soon = dataclasses.replace(philips, id=101, published=philips.published + timedelta(days=2))
    assert clusterer.add(soon).story_id == stories[philips.id]
    later = dataclasses.replace(philips, id=102, published=last + timedelta(days=10))
    assignment = clusterer.add(later)
    assert assignment.is_new
    assert assignment.story_id not in stories.values()
    # everything older than the window was closed on the way
    assert [s.id for s in clusterer.stories()] == [assignment.story_id]


def test_close_before_returns_the_final_summaries_of_old_stories(
    articles: list[ArticleFeatures],
) -> None:
    stories, clusterer = cluster(articles)
    cutoff = datetime(2026, 11, 4, tzinfo=UTC)
    closed = clusterer.close_before(cutoff)
    assert closed and all(s.last is not None and s.last < cutoff for s in closed)
    assert [s.id for s in closed] == sorted(s.id for s in closed)
    still_open = {s.id for s in clusterer.stories()}
    assert still_open.isdisjoint(s.id for s in closed)
    assert still_open | {s.id for s in closed} == set(stories.values())
    assert clusterer.close_before(cutoff) == []


def test_similarity_fades_with_the_time_between_articles() -> None:
    text = {"strike": 2, "airport": 1, "union": 1}
    near, far = StoryClusterer(), StoryClusterer()
    for clusterer in (near, far):
        clusterer.add(article(1, T0, text, ("Schiphol", "FNV")))
    close = near.add(article(2, T0 + timedelta(hours=2), text, ("Schiphol", "FNV")))
    apart = far.add(article(2, T0 + timedelta(days=5), text, ("Schiphol", "FNV")))
    assert close.similarity > apart.similarity > 0


def test_articles_without_a_date_arrive_at_the_previous_articles_time() -> None:
    clusterer = StoryClusterer()
    clusterer.add(article(1, T0, {"strike": 1, "airport": 1}, ("Schiphol",)))
    undated = clusterer.add(article(2, None, {"strike": 1, "airport": 1}, ("Schiphol",)))
    assert not undated.is_new
    assert undated.similarity == pytest.approx(1.0)
    story = clusterer.story(undated.story_id)
    assert story is not None and story.first == story.last == T0


# --- merging -------------------------------------------------------------------------------


def test_an_article_that_bridges_two_stories_merges_them() -> None:
    config = ClusterConfig(threshold=0.3, merge_threshold=0.3)
    clusterer = StoryClusterer(config)
    one = clusterer.add(article(1, T0, {"alpha": 1, "beta": 1}, ("Alpha Corp",)))
    two = clusterer.add(article(2, T0, {"gamma": 1, "delta": 1}, ("Gamma Inc",)))
    both = {"alpha": 1, "beta": 1, "gamma": 1, "delta": 1}
    bridge = clusterer.add(article(3, T0, both, ("Alpha Corp", "Gamma Inc")))
    assert one.story_id != two.story_id
    assert bridge.story_id == one.story_id  # the older id survives
    assert bridge.merged == (two.story_id,)
    assert [s.id for s in clusterer.stories()] == [one.story_id]
    assert clusterer.story(two.story_id) is None


def test_without_a_merge_threshold_stories_never_merge() -> None:
    clusterer = StoryClusterer(ClusterConfig(threshold=0.3, merge_threshold=None))
    clusterer.add(article(1, T0, {"alpha": 1, "beta": 1}, ("Alpha Corp",)))
    clusterer.add(article(2, T0, {"gamma": 1, "delta": 1}, ("Gamma Inc",)))
    both = {"alpha": 1, "beta": 1, "gamma": 1, "delta": 1}
    bridge = clusterer.add(article(3, T0, both, ("Alpha Corp", "Gamma Inc")))
    assert bridge.merged == ()
    assert len(clusterer.stories()) == 2


# --- cost ----------------------------------------------------------------------------------


def unrelated(i: int, when: datetime) -> ArticleFeatures:
    """An article sharing nothing but the word "news" with the others."""
    return article(
        i, when, {"news": 1, f"topic{i}": 2, f"place{i}": 1}, (f"Person{i} Name{i}",), (f"{i}00",)
    )


def test_an_article_is_compared_only_with_stories_that_share_a_key() -> None:
    clusterer = StoryClusterer()
    # one lookup to join, up to MAX_MERGE_ROUNDS more to merge, each of max_candidates
    budget = (1 + MAX_MERGE_ROUNDS) * clusterer.config.max_candidates
    for i in range(1, 401):
        before = clusterer.comparisons
        clusterer.add(unrelated(i, T0))
        assert clusterer.comparisons - before <= budget  # never all 400 open stories
    assert len(clusterer.stories()) == 400
    before = clusterer.comparisons
    assignment = clusterer.add(article(999, T0, {"earthquake": 2, "tsunami": 1}, ("Palu",)))
    assert assignment.is_new and assignment.similarity == 0.0
    assert clusterer.comparisons == before  # nothing shared: nothing compared


def test_keys_shared_by_too_many_stories_are_not_scanned() -> None:
    clusterer = StoryClusterer(ClusterConfig(max_posting=50))
    for i in range(1, 201):
        clusterer.add(unrelated(i, T0))
    scanned = clusterer.postings_scanned
    clusterer.add(article(999, T0, {"news": 1}, ()))
    assert clusterer.postings_scanned == scanned  # "news" is in 200 stories: skipped


def test_closed_stories_leave_the_index() -> None:
    clusterer = StoryClusterer()
    for i in range(1, 51):
        clusterer.add(unrelated(i, T0 + timedelta(days=i)))
    # a week's worth of daily stories stays open, older ones were closed
    assert len(clusterer.stories()) == 8
    assert len(clusterer.dump()["stories"]) == 8


def test_document_frequencies_stay_bounded() -> None:
    clusterer = StoryClusterer(ClusterConfig(max_df_keys=100))
    for i in range(1, 301):
        clusterer.add(unrelated(i, T0))
    assert all(len(counts) <= 100 for counts in clusterer.df.values())
    assert clusterer.df["t:en"]["news"] == 300  # frequent keys survive pruning


# --- B-cubed -------------------------------------------------------------------------------


def test_bcubed_of_a_perfect_clustering_is_one() -> None:
    gold = {"a": 1, "b": 1, "c": 2}
    assert bcubed({"a": "x", "b": "x", "c": "y"}, gold) == (1.0, 1.0, 1.0)


def test_bcubed_of_one_big_cluster() -> None:
    # precision per item: a 2/3, b 2/3, c 1/3; recall 1 for all
    p, r, f = bcubed({"a": 0, "b": 0, "c": 0}, {"a": 1, "b": 1, "c": 2})
    assert (p, r) == (pytest.approx(5 / 9), 1.0)
    assert f == pytest.approx(2 * (5 / 9) / (5 / 9 + 1))


def test_bcubed_of_all_singletons() -> None:
    # recall per item: a 1/2, b 1/2, c 1
    p, r, f = bcubed({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 1, "c": 2})
    assert (p, r, f) == (1.0, pytest.approx(2 / 3), pytest.approx(0.8))


def test_bcubed_textbook_example() -> None:
    # predicted {1,2,3,4} {5,6}; gold {1,2,3} {4,5,6}
    predicted = {1: "A", 2: "A", 3: "A", 4: "A", 5: "B", 6: "B"}
    gold = {1: "x", 2: "x", 3: "x", 4: "y", 5: "y", 6: "y"}
    p, r, _ = bcubed(predicted, gold)
    assert p == pytest.approx((3 * 3 / 4 + 1 / 4 + 2 * 1) / 6)
    assert r == pytest.approx((3 * 1 + 1 / 3 + 2 * 2 / 3) / 6)


def test_bcubed_scores_only_items_with_a_gold_label() -> None:
    assert bcubed({"a": 1, "b": 1, "z": 1}, {"a": 1, "b": 1}) == (1.0, 1.0, 1.0)
    assert bcubed({"z": 1}, {"a": 1}) == (0.0, 0.0, 0.0)


# --- the index's time buckets and the stored state ------------------------------------------


def scattered(n: int, seed: int) -> list[ArticleFeatures]:
    """Overlapping articles on a few dozen events spread over three months, in shuffled
    order (an import or a backfill): stories stay open all over the calendar."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(200)]
    out = []
    for i in range(n):
        event = rng.randrange(40)
        terms = {w: rng.randint(1, 3) for w in rng.sample(words[event * 4 : event * 4 + 16], 8)}
        names = tuple({f"Event{event} Person", f"Place{rng.randrange(60)}"})
        day = T0 + timedelta(days=event * 2 + rng.random() * 6)
        numbers = (str(1000 + event), str(rng.randrange(5000, 9000)))
        out.append(article(i + 1, day, terms, names, numbers, lang=rng.choice(["en", "nl"])))
    rng.shuffle(out)
    return out


def test_out_of_order_articles_find_the_same_candidates_as_a_scan_of_every_story(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = scattered(600, seed=11)
    bucketed, ours = cluster(stream)
    # the reference: every story in the one bucket that every lookup scans
    monkeypatch.setattr(StoryClusterer, "_bucket", lambda self, story: None)
    scanned, reference = cluster(stream)
    assert bucketed == scanned
    assert ours.dump() == reference.dump()
    assert ours.comparisons == reference.comparisons
    assert len(set(bucketed.values())) > 20  # it does cluster, and keeps events apart
    assert ours.postings_scanned == reference.postings_scanned


def test_out_of_order_lookups_skip_stories_far_away_in_time() -> None:
    clusterer = StoryClusterer()
    # a year of daily stories, newest first: the clock stays at the newest, so all stay open
    for i in range(1, 366):
        clusterer.add(unrelated(i, T0 + timedelta(days=366 - i)))
    assert len(clusterer.stories()) == 365
    probe = clusterer._singleton(unrelated(999, T0), T0, {})
    assert 0 < len(clusterer._near_buckets(probe)) < 10  # a few weeks of buckets, not 52


class FakeStore:
    """The header and the story rows as ``Store.save_processed`` keeps them."""

    def __init__(self) -> None:
        self.header: bytes | str = b""
        self.rows: dict[int, bytes] = {}
        self.written = 0  # story rows written, over all saves

    def save(self, clusterer: StoryClusterer) -> None:
        state = clusterer.dump_stored()
        self.header = state.header
        for sid in state.removed:
            del self.rows[sid]
        self.rows.update(state.changed)
        self.written += len(state.changed)
        clusterer.mark_stored()

    def load(self, config: ClusterConfig | None = None) -> StoryClusterer:
        return StoryClusterer.from_stored(
            self.header, [self.rows[i] for i in sorted(self.rows)], config
        )


def test_the_stored_state_holds_the_whole_dump_after_every_article(
    articles: list[ArticleFeatures],
) -> None:
    """A save writes only the story rows that changed, and deletes those of stories that
    closed or merged away: after joins, merges, new representatives, closings and a
    reload, the stored rows must still read back as the full state."""
    for stream, config in (
        (articles, ClusterConfig()),
        (scattered(300, seed=3), ClusterConfig(threshold=0.3, merge_threshold=0.3)),
    ):
        clusterer, store = StoryClusterer(config), FakeStore()
        for i, a in enumerate(stream):
            clusterer.add(a)
            if i % 3 == 0:  # batches of a few articles, as the pipeline stores them
                store.save(clusterer)
                assert sorted(store.rows) == [s.id for s in clusterer.stories()]
                assert store.load(config).dump() == clusterer.dump()
            if i == len(stream) // 2:
                store.save(clusterer)
                clusterer = store.load(config)
        clusterer.close_before(max(a.published for a in stream if a.published))
        store.save(clusterer)
        assert store.load(config).dump() == clusterer.dump()
        # far fewer rows written than a whole state per save would have taken
        assert store.written < len(stream) * 2


def test_a_state_stored_as_json_by_an_earlier_version_still_loads(
    articles: list[ArticleFeatures],
) -> None:
    whole = StoryClusterer()
    expected = [whole.add(a) for a in articles]
    cut = len(articles) // 2
    before = StoryClusterer()
    for a in articles[:cut]:
        before.add(a)
    after = StoryClusterer.from_stored(json.dumps(before.dump(), sort_keys=True))
    store = FakeStore()
    store.save(after)  # the first save writes every story in rows
    assert sorted(store.rows) == [s.id for s in before.stories()]
    after = store.load()
    assert [after.add(a) for a in articles[cut:]] == expected[cut:]
    assert after.dump() == whole.dump()


def test_skipping_the_merge_search_for_new_stories_changes_nothing(
    articles: list[ArticleFeatures], monkeypatch: pytest.MonkeyPatch
) -> None:
    for stream in (articles, scattered(600, seed=5)):
        fast, fast_clusterer = cluster(stream)
        with monkeypatch.context() as patch:
            patch.setattr(StoryClusterer, "_may_merge", lambda self, story, probe, new: True)
            full, full_clusterer = cluster(stream)
        assert fast == full
        assert fast_clusterer.dump() == full_clusterer.dump()
        assert fast_clusterer.comparisons < full_clusterer.comparisons
