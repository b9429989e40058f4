"""``trendwatch digest``: build this week's editions and deliver them, or preview one
subscriber's next edition."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import Context, Exit, console, errors, open_store, run_body
from pipeline.cli.i18n import t
from pipeline.digest import job as digest_job
from pipeline.settings import Settings


@click.command()
@click.option("--dry-run", is_flag=True, help="Render and write the archive; send nothing.")
@click.option(
    "--preview",
    "preview",
    metavar="SUBSCRIBER",
    help="Write the HTML and text of this subscriber's next edition; record and send nothing.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for --preview files (default: DATA_DIR/preview).",
)
@click.option(
    "--due",
    is_flag=True,
    help="Only digests whose weekday and hour have come (within [schedule] digest_grace)"
    " and were not sent yet: for cron.",
)
@click.pass_obj
def digest(
    obj: Context, dry_run: bool, preview: str | None, out_dir: Path | None, due: bool
) -> None:
    """Build this week's edition for each subscriber and deliver it (once).

    Deliveries waiting for a retry after a temporary failure are tried at once (with
    --due they wait for their back-off)."""

    def body() -> int:
        settings = obj.settings()
        if preview:
            with open_store(settings) as store:
                try:
                    html, text = digest_job.preview(
                        settings, store, preview, out_dir or settings.data_dir / "preview"
                    )
                except KeyError as exc:
                    errors.print(f"[bold red]{t('digest.cannot_preview')}[/] {exc.args[0]}")
                    return Exit.USAGE
            console.print(f"{t('digest.preview')}\n  {html}\n  {text}")
            return Exit.OK
        with open_store(settings) as store:
            # by hand, what waits for a retry is tried now; --due (cron) keeps the back-off
            report = digest_job.digest(settings, store, dry_run=dry_run, due=due, retry_now=not due)
        if due and not report.editions and not report.sent:
            console.print(t("digest.none_due"))
        _print_digest(settings, report, dry_run)
        return Exit.OK if report.ok else Exit.FAILURE

    run_body(body)


def _print_digest(settings: Settings, report: digest_job.DigestReport, dry_run: bool) -> None:
    for key in report.editions:
        state = "built" if key in report.built else "existing"
        console.print(t(f"digest.edition.{state}", key=key))
    if dry_run:
        console.print(t("digest.dry_run"))
    for line in report.sent:
        console.print(t("digest.sent", line=line))
    for line in report.skipped:
        console.print(t("digest.skipped", line=line))
    for line in report.failed_before:
        console.print(t("digest.failed_before", line=line), markup=False, highlight=False)
    for line in report.empty:
        console.print(t("digest.empty", line=line))
    for line in report.deferred:
        console.print(t("digest.deferred", line=line))
    for key in report.late:
        console.print(t("digest.late", key=key))
    if report.busy:
        console.print(t("digest.busy"))
    for line in report.failed:
        errors.print(f"  [red]{t('digest.failed')}[/] {line}")
    if report.outbox and report.sent:
        console.print(t("digest.outbox", path=report.outbox))
    console.print(t("digest.archive", path=settings.archive_dir / "index.html"))
