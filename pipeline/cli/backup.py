"""``trendwatch backup``: a checked copy of the database, safe while ``run`` writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from pipeline.cli.common import (
    Context,
    Exit,
    console,
    errors,
    open_store,
    run_body,
    sqlite_only,
)
from pipeline.store import StoreError, backup_file_name


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False, default=None)
@click.pass_obj
def backup(obj: Context, path: Path | None) -> None:
    """Copy the database safely, also while `trendwatch run` is writing to it.

    PATH is a file or an existing folder (default: DATA_DIR/backups/, as
    trendwatch-YYYYMMDD-HHMMSS.db in UTC). The copy is checked with PRAGMA
    integrity_check before it gets its name; an existing file at PATH is replaced only
    then.
    """

    def body() -> int:
        settings = obj.settings()
        sqlite_only(settings, "backup")  # PostgreSQL has pg_dump
        if not settings.db_path.is_file():
            errors.print(f"No database at {settings.db_path}; nothing to back up.", markup=False)
            return Exit.FAILURE
        name = backup_file_name(datetime.now(UTC))
        if path is None:
            target = settings.data_dir / "backups" / name
        elif path.is_dir():
            target = path / name
        else:
            target = path
        with open_store(settings) as store:
            try:
                written = store.backup(target)
            except ValueError as exc:
                errors.print(f"Not backed up: {exc}", markup=False)
                return Exit.USAGE
            except (OSError, StoreError) as exc:
                errors.print(f"Backup to {target} failed: {exc}", markup=False)
                return Exit.FAILURE
            version = store.schema_version
        size = written.stat().st_size / 1_000_000
        console.print(
            f"Backed up {settings.db_path} to {written} ({size:.1f} MB, schema version"
            f" {version}, integrity check ok).",
            markup=False,
            soft_wrap=True,
        )
        return Exit.OK

    run_body(body)
