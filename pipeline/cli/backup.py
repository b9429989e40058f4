"""``trendwatch backup``: a checked copy of the database, safe while ``run`` writes:
SQLite's online backup, or a ``pg_dump`` of PostgreSQL (:mod:`pipeline.store.dump`)."""

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
)
from pipeline.cli.i18n import decimal, t
from pipeline.settings import Settings
from pipeline.store import DumpToolMissing, StoreError, backup_file_name
from pipeline.store.dump import DUMP_SUFFIX


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False, default=None)
@click.pass_obj
def backup(obj: Context, path: Path | None) -> None:
    """Copy the database safely, also while `trendwatch run` is writing to it.

    PATH is a file or an existing folder (default: DATA_DIR/backups/, as
    trendwatch-YYYYMMDD-HHMMSS.db in UTC). The copy is checked with PRAGMA
    integrity_check before it gets its name; an existing file at PATH is replaced only
    then. On PostgreSQL it is a pg_dump custom-format dump (trendwatch-...-HHMMSS.dump),
    read back with pg_restore --list before it gets its name; restore it with
    pg_restore.
    """

    def body() -> int:
        settings = obj.settings()
        if not isinstance(settings.database, Path):
            return _dump(settings, path)
        if not settings.db_path.is_file():
            errors.print(t("backup.no_database", path=settings.db_path), markup=False)
            return Exit.FAILURE
        target = _target(settings, path, backup_file_name(datetime.now(UTC)))
        with open_store(settings) as store:
            try:
                written = store.backup(target)
            except ValueError as exc:
                errors.print(t("backup.not", error=exc), markup=False)
                return Exit.USAGE
            except (OSError, StoreError) as exc:
                errors.print(t("backup.failed", target=target, error=exc), markup=False)
                return Exit.FAILURE
            version = store.schema_version
        size = written.stat().st_size / 1_000_000
        console.print(
            t(
                "backup.done",
                database=settings.db_path,
                file=written,
                size=decimal(size),
                version=version,
            ),
            markup=False,
            soft_wrap=True,
        )
        return Exit.OK

    run_body(body)


def _target(settings: Settings, path: Path | None, name: str) -> Path:
    if path is None:
        return settings.data_dir / "backups" / name
    return path / name if path.is_dir() else path


def _dump(settings: Settings, path: Path | None) -> int:
    """``trendwatch backup`` on PostgreSQL: pg_dump into a 0600 file."""
    target = _target(settings, path, backup_file_name(datetime.now(UTC), suffix=DUMP_SUFFIX))
    with open_store(settings) as store:
        try:
            written = store.dump_to(target)
        except DumpToolMissing as exc:
            errors.print(t("backup.not", error=f"{exc}."), markup=False, soft_wrap=True)
            return Exit.USAGE
        except (OSError, StoreError) as exc:
            errors.print(t("backup.failed", target=target, error=exc), markup=False, soft_wrap=True)
            return Exit.FAILURE
        version = store.schema_version
        location = store.location
    size = written.stat().st_size / 1_000_000
    console.print(
        t(
            "backup.dumped",
            database=location,
            file=written,
            size=decimal(size),
            version=version,
        ),
        markup=False,
        soft_wrap=True,
    )
    return Exit.OK
