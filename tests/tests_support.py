"""Importable helpers for tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
