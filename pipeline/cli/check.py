"""``trendwatch check``: validate the configuration."""

from __future__ import annotations

import click

from pipeline.cli.common import Context, Exit, console, run_body
from pipeline.cli.i18n import count, t


@click.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Validate the configuration and report every problem at once."""

    def body() -> int:
        s = obj.settings()
        console.print(
            t(
                "check.ok",
                path=s.path,
                sources=count(len(s.sources), "source"),
                watchlists=count(len(s.watchlists), "watchlist"),
                subscribers=count(len(s.subscribers), "subscriber"),
                data_dir=s.data_dir,
            )
        )
        return Exit.OK

    run_body(body)
