"""``trendwatch sources add|import|export|enable``: edit the config's sources (a site's
feed, an OPML file), export them as OPML, re-enable a source.

The work is pipeline.settings.edit's, which loads the crawling stack (``add`` fetches
the site): the subcommands import it in their body only, never at import time.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from pipeline.cli.common import Context, Exit, console, errors, open_store, run_body
from pipeline.cli.i18n import count, t


@click.group()
def sources() -> None:
    """Add sources to the config (site URL or OPML), export them as OPML, re-enable one."""


@sources.command("add")
@click.argument("url")
@click.option("--name", default=None, help="The source's name (default: the feed's title).")
@click.option("--language", default=None, help="2-letter language code, such as nl or en.")
@click.option("--category", "categories", multiple=True, help="A category (repeatable).")
@click.option("--full-text", is_flag=True, help="Fetch article pages for teaser-only entries.")
@click.pass_obj
def sources_add(
    obj: Context,
    url: str,
    name: str | None,
    language: str | None,
    categories: tuple[str, ...],
    full_text: bool,
) -> None:
    """Find the feed of the site at URL and append it to the config as a source."""

    def body() -> int:
        from pipeline.settings.edit import SourceConfigError, add_source

        settings = obj.settings()
        if language is not None and not re.fullmatch(r"[a-z]{2}", language):
            errors.print(t("sources.bad_language", value=repr(language)))
            return Exit.USAGE
        try:
            new, found = add_source(
                settings,
                url,
                name=name,
                language=language,
                categories=categories,
                full_text=full_text,
            )
        except SourceConfigError as exc:
            errors.print(t("sources.not_added", error=exc), markup=False)
            return Exit.USAGE
        console.print(t("sources.added_to", path=settings.path), markup=False)
        console.print(new.toml(), markup=False, end="")
        if found.others:
            console.print(t("sources.more_feeds"))
            for other in found.others:
                console.print(f"  {other}", markup=False)
        return Exit.OK

    run_body(body)


@sources.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
def sources_import(obj: Context, path: Path) -> None:
    """Append every feed of an OPML file to the config (categories kept, duplicates skipped)."""

    def body() -> int:
        from crawlers.opml import OpmlError
        from pipeline.settings.edit import import_opml

        settings = obj.settings()
        try:
            result = import_opml(settings, path.read_bytes(), path.name)
        except OpmlError as exc:
            errors.print(t("sources.cannot_import", path=path, error=exc), markup=False)
            return Exit.USAGE
        for new in result.added:
            cats = f" [{', '.join(new.categories)}]" if new.categories else ""
            console.print(
                t("sources.added", name=new.name, url=new.url, categories=cats), markup=False
            )
        for url, why in result.skipped:
            console.print(t("sources.skipped", url=url, why=why), markup=False)
        for name, what in result.warnings:
            errors.print(t("sources.warning", name=name, what=what), markup=False)
        console.print(
            t(
                "sources.imported",
                sources=count(len(result.added), "source"),
                path=path,
                config=settings.path,
                skipped=len(result.skipped),
            ),
            markup=False,
        )
        return Exit.OK

    run_body(body)


@sources.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    default=None,
    help="Where to write the OPML (default: standard output).",
)
@click.pass_obj
def sources_export(obj: Context, output: Path | None) -> None:
    """Write the feed and alert sources as OPML 2.0, with their categories."""

    def body() -> int:
        from pipeline.settings.edit import export_opml

        settings = obj.settings()
        doc, left_out = export_opml(settings)
        if output is None or str(output) == "-":
            sys.stdout.buffer.write(doc)
            sys.stdout.flush()
        else:
            tmp = output.with_name(output.name + ".part")
            tmp.write_bytes(doc)
            tmp.replace(output)
            exported = count(len(settings.sources) - len(left_out), "source")
            errors.print(t("sources.exported", sources=exported, path=output))
        if left_out:
            names = ", ".join(s.name for s in left_out)
            errors.print(t("sources.left_out", names=names), markup=False)
        return Exit.OK

    run_body(body)


@sources.command("enable")
@click.argument("name")
@click.pass_obj
def sources_enable(obj: Context, name: str) -> None:
    """Poll a source again that was disabled after 410 Gone (or is rate limited)."""

    def body() -> int:
        settings = obj.settings()
        if name not in {s.name for s in settings.sources}:
            errors.print(t("sources.no_such", name=repr(name), path=settings.path), markup=False)
            return Exit.USAGE
        with open_store(settings) as store:
            store.sync_sources(settings.sources, datetime.now(UTC))
            store.enable_source(name)
        console.print(t("sources.enabled", name=repr(name)), markup=False)
        return Exit.OK

    run_body(body)
