"""The process job when the clusterer splits a story in two: the articles it moves are
stored in their new story, also those stored by earlier batches."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import jsonl
from pipeline.jsonl import iter_export
from pipeline.process import batch as process_batch
from pipeline.process import job as process_job
from pipeline.process.stories import ClusterConfig
from pipeline.store import Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

ELAZIG = (
    "A strong earthquake of magnitude 6.8 struck Elazig province in eastern Turkey on"
    " {day}, collapsing buildings in Sivrice. Rescue teams searched the rubble of the"
    " mosque and the school through the night, the Turkish disaster agency AFAD said."
)
PALU = (
    "A powerful earthquake of magnitude 7.5 struck Palu on the island of Sulawesi in"
    " Indonesia on {day}, and a tsunami hit the beach. Rescue teams searched collapsed"
    " buildings through the night, the Indonesian disaster agency BNPB said."
)
DAYS = ["Friday", "Saturday", "Sunday", "Monday"]


@pytest.fixture
def quakes(tmp_path: Path) -> Path:
    """Eight reports of two earthquakes, the two alternating."""
    lines = []
    for n, day in enumerate(DAYS):
        for place, text in (("elazig", ELAZIG), ("palu", PALU)):
            lines.append(
                {
                    "id": f"{place}-{n}",
                    "title": f"Earthquake in {place.title()}, report {n + 1}",
                    "text": text.format(day=day),
                    "source": f"wire{n}",
                    "published": f"2026-11-2{n}T{10 + len(lines)}:00:00Z",
                    "lang": "en",
                }
            )
    path = tmp_path / "quakes.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_articles_a_split_moves_are_stored_in_their_new_story(
    make_settings, quakes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a clusterer that lets the first reports of the two quakes mix, in small batches
    eager = ClusterConfig(threshold=0.02, pair_threshold=0.02, merge_threshold=None, probe_keys=100)
    monkeypatch.setattr(
        process_batch, "ClusterConfig", lambda window: dataclasses.replace(eager, window=window)
    )
    monkeypatch.setattr(process_job, "PROCESS_BATCH", 3)
    settings = make_settings("")
    with Store(settings.db_path) as store:
        jsonl.import_jsonl(store, quakes, now=NOW)
        process_job.process(settings, store, now=NOW)
        out = list(iter_export(store.export_rows()))
        sizes = dict(store.db.conn.execute("SELECT id, size FROM stories").fetchall())
    groups: dict[int, set[str]] = defaultdict(set)
    for record in out:
        groups[record["story_id"]].add(record["import_id"].split("-")[0])
    assert sorted(map(sorted, groups.values())) == [["elazig"], ["palu"]]
    assert {story: sizes[story] for story in groups} == {s: 4 for s in groups}
