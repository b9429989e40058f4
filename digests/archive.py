"""Write the web archive: one page per edition and an index, as static files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from digests.fsutil import atomic_write_text
from digests.model import ArchiveEntry, Edition
from digests.render import render_index


def edition_page_path(archive_root: Path, edition: Edition) -> Path:
    """``archive_root / edition.archive_path``, refusing paths that leave the root."""
    root = Path(archive_root).resolve()
    path = (root / edition.archive_path).resolve()
    if not path.is_relative_to(root) or path == root:
        raise ValueError(f"archive path escapes the archive root: {edition.archive_path!r}")
    return path


def write_edition_page(archive_root: Path, edition: Edition, html: str) -> Path:
    """Write the edition's web version (``render_edition(edition).html``); return its path."""
    path = edition_page_path(archive_root, edition)
    atomic_write_text(path, html)
    return path


def write_index(
    archive_root: Path,
    entries: Sequence[ArchiveEntry],
    *,
    title: str,
    language: str = "nl",
    template_dir: Path | None = None,
    timezone: str | None = None,
) -> Path:
    """Write ``archive_root/index.html``: editions newest first, relative links."""
    html = render_index(
        entries, title=title, language=language, template_dir=template_dir, timezone=timezone
    )
    path = Path(archive_root) / "index.html"
    atomic_write_text(path, html)
    return path
