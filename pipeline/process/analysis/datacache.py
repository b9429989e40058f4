"""Arrays the analysis derives from installed packages, kept on disk between runs.

Packing spacy-lookups-data's Dutch and English lemma tables into arrays
(:class:`~.components.lemmas.LemmaTable`) takes about a second of CPU, paid by the fork
server of every ``trendwatch process`` run before any worker can start. The packed
arrays are saved once, uncompressed (numpy's ``.npz``, no pickle), and later runs load
them in milliseconds.

An entry's name holds the package and version it was derived from and :data:`FORMAT`,
so an upgrade builds a new one. A missing or unreadable entry is built again and
written anew (atomically: a reader sees the old file or the new one, never half of
one); a directory that cannot be written only means the arrays are built every run.

The directory: ``$TRENDWATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/trendwatch``, else
``~/.cache/trendwatch``; created readable by its owner only.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

log = logging.getLogger("trendwatch.nlp")

CACHE_ENV = "TRENDWATCH_CACHE_DIR"
FORMAT = 1  # raise when what an entry holds changes for the same package version


def cache_dir() -> Path:
    """Where the entries live (see the module's docstring)."""
    if chosen := os.environ.get(CACHE_ENV):
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "trendwatch"


def entry_path(name: str, package: str) -> Path:
    """The file of entry ``name``, derived from the installed ``package``."""
    try:
        installed = version(package)
    except PackageNotFoundError:
        installed = "unknown"
    return cache_dir() / f"{name}-{package}-{installed}-f{FORMAT}.npz"


def cached_arrays(
    name: str, package: str, build: Callable[[], Mapping[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The arrays ``build`` makes, from the cache when an entry for ``name`` and the
    installed ``package`` is there; otherwise built, stored for the next run, and
    returned."""
    path = entry_path(name, package)
    found = _read(path)
    if found is not None:
        return found
    built = {key: np.asarray(value) for key, value in build().items()}
    _write(path, built)
    return built


def _read(path: Path) -> dict[str, np.ndarray] | None:
    try:
        # opened here: np.load leaves a file it opened open when it is not a zip file
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("cache entry %s is unreadable (%s); building it again", path, exc)
        return None


def _write(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.debug("cache entry %s not written (%s); built again next run", path, exc)
