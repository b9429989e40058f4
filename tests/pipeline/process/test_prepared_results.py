"""What an analysis hands back ready for the store (``Analysed.matches`` as ``matches``
rows, ``Analysed.text``: the features as text, made in the worker process): the store
would have written the same from the processed article itself; and an analysis stored
for the work queue keeps its format (a result stored by an earlier version is read, and
one stored now is the same text), its rows and text made again as it is read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from pipeline import jsonl
from pipeline.process.batch import (
    Analysed,
    Processor,
    analyse_or_fail,
    article_input,
    worker_config,
)
from pipeline.process.stored_analysis import decode, encode
from pipeline.settings import load_settings
from pipeline.store import Store, feature_text
from pipeline.store.prepared import text_of
from tests.pipeline.queue import process_corpus

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_the_text_made_in_the_worker_is_what_the_store_would_make(tmp_path: Path) -> None:
    process_corpus.write(tmp_path)
    settings = load_settings(tmp_path / "trendwatch.toml")
    with Store(tmp_path / "t.db") as store:
        jsonl.import_jsonl(store, tmp_path / "in.jsonl", now=NOW)
        rows = store.articles_to_process(100)
        results = analyse_or_fail([article_input(r) for r in rows], worker_config(settings))
        analysed = [r for r in results if isinstance(r, Analysed)]
        batch = Processor(settings, store, NOW).run(analysed, set())
    assert len(batch.processed) == len(rows) > 20
    for article, result in zip(batch.processed, analysed, strict=True):
        assert article.text == result.text
        assert text_of(replace(article, text=None)) == result.text
    # the corpus has entities, numbers and links to encode, and matches
    assert any(len(r.features.entities) > 1 for r in analysed)
    assert any(r.features.numbers for r in analysed)
    assert any(r.features.links for r in analysed)
    assert sum(len(r.matches) for r in analysed) > 10


STORED = (
    '{"v":1,"id":7,"lang":"nl","published":"2026-11-26T09:00:00+00:00",'
    '"terms":{"woning":2,"aanbod":1},"entities":[["Zoë Ærø","zoe aero","PERSON"]],'
    '"keyphrases":["woning"],"numbers":["300"],"links":["https://x.test/7"],'
    '"source":"NOS","minhash":"00ff","matches":{"wonen":{"terms":["woningen","Woning"],'
    '"location":"title+body","snippet":"… woningen …"},"w2":{"terms":[],"location":"body",'
    '"snippet":""}}}'
)


def test_an_analysis_stored_for_the_queue_keeps_its_format() -> None:
    result = decode(STORED)
    assert result.matches == (
        (7, "wonen", '["woningen", "Woning"]', "title+body", "… woningen …"),
        (7, "w2", "[]", "body", ""),
    )
    entities = [{"text": "Zoë Ærø", "key": "zoe aero", "label": "PERSON"}]
    terms = {"woning": 2, "aanbod": 1}
    assert result.text == feature_text(entities, ["woning"], terms, ["300"], ["https://x.test/7"])
    assert encode(result) == STORED
