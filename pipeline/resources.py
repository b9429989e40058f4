"""Files shipped with trendwatch: the example and demo configs from ``config/``.

In a wheel they are packaged under ``pipeline/_config``; in a source checkout they are
read from the repository's ``config/`` folder.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def config_file(name: str) -> Path:
    for folder in (_HERE / "_config", _HERE.parent / "config"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"trendwatch is missing its bundled config/{name}")
