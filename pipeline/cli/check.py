"""``trendwatch check``: validate the configuration."""

from __future__ import annotations

import click

from pipeline.cli.common import Context, Exit, console, plural, run_body


@click.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Validate the configuration and report every problem at once."""

    def body() -> int:
        s = obj.settings()
        console.print(
            f"{s.path}: OK — {plural(len(s.sources), 'source')},"
            f" {plural(len(s.watchlists), 'watchlist')},"
            f" {plural(len(s.subscribers), 'subscriber')}; data in {s.data_dir}"
        )
        return Exit.OK

    run_body(body)
