"""``trendwatch migrate-db --to postgresql://...``: move the configured SQLite database
into an empty PostgreSQL database (pipeline.store.move), with a progress bar, and
print the rows of every table on both sides.

Exit status: 0 moved and verified; 1 the copy failed (nothing kept in the target); 2
a bad URL, an unreachable or non-empty target, or a config that already names
PostgreSQL. A URL's password is never printed.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from pipeline.cli.common import Context, Exit, console, errors, progress_bar, run_body
from pipeline.cli.i18n import count, t
from pipeline.settings.checks import Invalid
from pipeline.settings.database import database_url, shown_url
from pipeline.store.connection import StoreBase
from pipeline.store.move import (
    MoveError,
    TableCount,
    TargetNotEmpty,
    TargetUnreachable,
    move_database,
    open_target,
    safe_message,
    source_counts,
)


@click.command("migrate-db")
@click.option(
    "--to",
    "url",
    required=True,
    metavar="URL",
    help="The empty PostgreSQL database to move into: postgresql://user[:password]@host/name.",
)
@click.pass_obj
def migrate_db(obj: Context, url: str) -> None:
    """Copy the SQLite database into an empty PostgreSQL database and verify it.

    Every table moves with its ids (articles, analysis, matches, stories and the
    clusterer's state, sources, editions, deliveries, subscribers and their token
    versions); the search index is rebuilt for PostgreSQL. All in one transaction: on
    any failure the target stays empty. The SQLite file is only read. Afterwards set
    database_url (or $TRENDWATCH_DATABASE_URL) to the URL.
    """

    def body() -> int:
        settings = obj.settings()
        try:
            target_url = database_url(url)
        except Invalid as exc:
            errors.print(t("migrate.bad_url", error=exc), markup=False, soft_wrap=True)
            return Exit.USAGE
        shown = shown_url(target_url)
        if not target_url.startswith("postgresql://"):
            errors.print(t("migrate.not_postgres", url=shown), markup=False)
            return Exit.USAGE
        if not isinstance(settings.database, Path):
            errors.print(t("migrate.already"), markup=False, soft_wrap=True)
            return Exit.USAGE
        if not settings.db_path.is_file():
            errors.print(t("migrate.no_database", path=settings.db_path), markup=False)
            return Exit.FAILURE
        return _move(StoreBase(settings.db_path), target_url, shown)

    run_body(body)


def _move(source: StoreBase, url: str, shown: str) -> int:
    with source:
        try:
            target = open_target(url)
        except TargetUnreachable as exc:
            errors.print(t("migrate.not_moved", error=exc), markup=False, soft_wrap=True)
            return Exit.USAGE
        with target:
            source._x("BEGIN")
            try:
                total = sum(source_counts(source).values())
            finally:
                source._x("ROLLBACK")
            console.print(
                t("migrate.moving", source=source.location, target=shown, rows=count(total, "row")),
                markup=False,
                soft_wrap=True,
            )
            try:
                with progress_bar(t("migrate.progress")) as progress:
                    task = progress.add_task("", total=total)
                    counts = move_database(
                        source,
                        target,
                        progress=lambda table, n: progress.update(
                            task, advance=n, description=table
                        ),
                    )
            except TargetNotEmpty as exc:
                errors.print(t("migrate.not_moved", error=exc), markup=False, soft_wrap=True)
                return Exit.USAGE
            except MoveError as exc:
                errors.print(t("migrate.not_moved", error=exc), markup=False, soft_wrap=True)
                return Exit.FAILURE
            except Exception as exc:  # a row the target rejects, a lost connection
                errors.print(
                    t("migrate.left_empty", error=safe_message(exc, url)),
                    markup=False,
                    soft_wrap=True,
                )
                return Exit.FAILURE
    _print_counts(counts)
    console.print(
        t("migrate.done", url=shown, source=source.location),
        markup=False,
        soft_wrap=True,
    )
    return Exit.OK


def _print_counts(counts: list[TableCount]) -> None:
    table = Table(t("migrate.col.table"), "SQLite", "PostgreSQL", "", title=t("migrate.title"))
    for c in counts:
        ok = "ok" if c.ok else t("migrate.different")
        table.add_row(c.table, str(c.source), str(c.target), ok)
    console.print(table)
