"""Fixtures of the process tests: the labelled Dutch/English story fixture."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.process.analysis.analyse import ArticleInput, analyse
from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.analysis.nlp import NlpConfig

STORIES = Path(__file__).parents[2] / "fixtures" / "stories" / "articles.jsonl"


@pytest.fixture(scope="session")
def story_records() -> list[dict]:
    """The labelled articles of ``tests/fixtures/stories/`` (each with its gold story)."""
    return [json.loads(line) for line in STORIES.read_text("utf-8").splitlines() if line]


@pytest.fixture(scope="session")
def story_articles(story_records: list[dict]) -> list[ArticleFeatures]:
    """The fixture's features, in order of publication (the order a crawl sees them)."""
    inputs = [
        ArticleInput(
            r["id"],
            r["title"],
            r["text"],
            language=r["lang"],
            published=datetime.fromisoformat(r["published"]),
        )
        for r in story_records
    ]
    features = analyse(inputs, NlpConfig())
    return sorted(features, key=lambda f: (f.published, f.id))
