"""``trendwatch import --jsonl`` and ``trendwatch export --jsonl``: articles in and out
as JSON Lines (the format is pipeline.jsonl's)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline import jsonl
from pipeline.cli.common import Context, Exit, console, errors, open_store, run_body
from pipeline.cli.i18n import count, t
from pipeline.jsonl import ImportError_, iter_export, write_jsonl


@click.command("import")
@click.option(
    "--jsonl",
    "path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON Lines file: id, title, text, url, published, optional lang and source.",
)
@click.pass_obj
def import_cmd(obj: Context, path: Path) -> None:
    """Load articles from a JSON Lines file (run `trendwatch process` next)."""

    def body() -> int:
        settings = obj.settings()
        with open_store(settings) as store:
            try:
                report = jsonl.import_jsonl(store, path)
            except ImportError_ as exc:
                problems = count(len(exc.problems), "problem")
                errors.print(f"[bold red]{t('jsonl.cannot_import')}[/] ({problems}):")
                errors.print(str(exc), markup=False, soft_wrap=True)
                errors.print(t("jsonl.nothing"))
                return Exit.USAGE
        console.print(
            t(
                "jsonl.read",
                articles=count(report.articles, "article"),
                new=report.new,
                updated=report.updated,
                unchanged=report.unchanged,
                sources=", ".join(report.sources) or "-",
            )
        )
        return Exit.OK

    run_body(body)


@click.command("export")
@click.option(
    "--jsonl",
    "path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Where to write the JSON Lines ('-' for standard output).",
)
@click.pass_obj
def export_cmd(obj: Context, path: Path) -> None:
    """Write every article with language, entities, keyphrases, matches, story id."""

    def body() -> int:
        settings = obj.settings()
        with open_store(settings) as store:
            rows = iter_export(store.export_rows())
            if str(path) == "-":
                written = write_jsonl(rows, sys.stdout)
            else:
                tmp = path.with_name(path.name + ".part")
                with tmp.open("w", encoding="utf-8") as out:
                    written = write_jsonl(rows, out)
                tmp.replace(path)
        errors.print(t("jsonl.exported", articles=count(written, "article"), path=path))
        return Exit.OK

    run_body(body)
