"""The analysis's cache of packed arrays (datacache): the packed lemma tables come back
from it equal to a fresh build, without building, and a broken or unwritable cache only
means building again."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.process.analysis import datacache
from pipeline.process.analysis.components.lemmas import LemmaTable, lookup_table


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(datacache.CACHE_ENV, str(tmp_path / "cache"))
    lookup_table.cache_clear()
    yield tmp_path / "cache"
    lookup_table.cache_clear()


def _counting(arrays: dict[str, np.ndarray], calls: list[int]):
    def build() -> dict[str, np.ndarray]:
        calls.append(1)
        return arrays

    return build


def test_arrays_are_built_once_then_read_back_equal(cache) -> None:
    arrays = {"a": np.arange(5, dtype=np.uint64), "b": np.array([1.5, -2.0])}
    calls: list[int] = []
    first = datacache.cached_arrays("thing", "numpy", _counting(arrays, calls))
    second = datacache.cached_arrays("thing", "numpy", _counting(arrays, calls))
    assert calls == [1]  # the second came from the file
    assert second.keys() == arrays.keys()
    for key, value in arrays.items():
        assert np.array_equal(first[key], value) and np.array_equal(second[key], value)
        assert second[key].dtype == value.dtype
    (entry,) = cache.iterdir()
    assert entry.name.startswith("thing-numpy-") and entry.name.endswith(".npz")
    assert (cache.stat().st_mode & 0o777) == 0o700


def test_a_broken_entry_is_built_again_and_replaced(cache) -> None:
    arrays = {"a": np.arange(3)}
    calls: list[int] = []
    datacache.cached_arrays("thing", "numpy", _counting(arrays, calls))
    entry = datacache.entry_path("thing", "numpy")
    entry.write_bytes(b"PK\x03\x04 not a zip file")
    again = datacache.cached_arrays("thing", "numpy", _counting(arrays, calls))
    assert calls == [1, 1] and np.array_equal(again["a"], arrays["a"])
    assert datacache.cached_arrays("thing", "numpy", _counting(arrays, calls))["a"].size == 3
    assert calls == [1, 1]  # rewritten: read back this time


def test_an_unwritable_cache_still_gives_the_arrays(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(datacache.CACHE_ENV, str(blocker / "cache"))
    calls: list[int] = []
    for _ in range(2):
        got = datacache.cached_arrays("thing", "numpy", _counting({"a": np.ones(2)}, calls))
        assert np.array_equal(got["a"], np.ones(2))
    assert calls == [1, 1]


def test_an_entry_belongs_to_the_installed_version(cache, monkeypatch) -> None:
    first = datacache.entry_path("thing", "numpy")
    monkeypatch.setattr(datacache, "version", lambda package: "0.0.1")
    assert datacache.entry_path("thing", "numpy") != first
    assert "0.0.1" in datacache.entry_path("thing", "numpy").name


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_lemma_table_from_the_cache_equals_a_fresh_pack(cache, lang: str) -> None:
    from spacy.lookups import load_lookups

    fresh = LemmaTable(load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup"))
    built = lookup_table(lang)  # packed and written
    lookup_table.cache_clear()
    cached = lookup_table(lang)  # read back
    assert datacache.entry_path(f"lemma-lookup-{lang}", "spacy-lookups-data").exists()
    for table in (built, cached):
        assert table is not None and len(table) == len(fresh)
        for key, value in fresh.arrays().items():
            assert np.array_equal(table.arrays()[key], value)
    word = {"nl": "medewerkers", "en": "managers"}[lang]
    assert cached.get(word) == fresh.get(word) != word
    # lemmas beyond ASCII survive the round trip as characters, not bytes
    assert cached._text == fresh._text and any(ord(c) > 127 for c in fresh._text)
