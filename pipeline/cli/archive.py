"""``trendwatch archive``: rewrite the archive pages from the store."""

from __future__ import annotations

import click

from pipeline.cli.common import Context, Exit, console, open_store, run_body
from pipeline.cli.i18n import count, t
from pipeline.digest import archive as archive_job


@click.command()
@click.pass_obj
def archive(obj: Context) -> None:
    """Rewrite every archive page and the archive index from the store."""

    def body() -> int:
        settings = obj.settings()
        with open_store(settings) as store:
            pages = archive_job.rebuild_archive(settings, store)
        index = settings.archive_dir / "index.html"
        console.print(t("archive.wrote", files=count(len(pages), "file"), index=index))
        return Exit.OK

    run_body(body)
