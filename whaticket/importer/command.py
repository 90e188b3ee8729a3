"""`flask import-whaticket`: the command line of the import."""

from __future__ import annotations

import click
from flask import Flask

from whaticket.importer import Options, run_import
from whaticket.importer.source import as_datetime


def register(app: Flask) -> None:
    """Attach `import-whaticket` to `app.cli`."""

    @app.cli.command("import-whaticket")
    @click.option(
        "--source", "source_url", required=True, help="SQLAlchemy URL of the old database."
    )
    @click.option(
        "--media",
        "media_dir",
        type=click.Path(exists=True, file_okay=False),
        help="The old backend's public folder (media files are copied from it).",
    )
    @click.option(
        "--company-id", "company_ids", type=int, multiple=True, help="Old company id (repeatable)."
    )
    @click.option("--dry-run", is_flag=True, help="Read and check everything; write nothing.")
    @click.option("--since", help="Only rows created or updated after this ISO time (final pass).")
    @click.option("--batch-size", type=click.IntRange(1, 20000), default=1000, show_default=True)
    @click.option(
        "--report", "report_path", type=click.Path(dir_okay=False), help="Save the report as JSON."
    )
    @click.option("--quiet", is_flag=True, help="No progress bar.")
    def import_whaticket(
        source_url: str,
        media_dir: str | None,
        company_ids: tuple[int, ...],
        dry_run: bool,
        since: str | None,
        batch_size: int,
        report_path: str | None,
        quiet: bool,
    ) -> None:
        """Import a Whaticket SaaS database (and its media): safe to run again, resumable."""
        since_at = None
        if since:
            since_at = as_datetime(since)
            if since_at is None:
                raise click.BadParameter("not an ISO time", param_hint="--since")
        report = run_import(
            Options(
                source_url=source_url,
                media_dir=media_dir,
                company_ids=list(company_ids),
                dry_run=dry_run,
                since=since_at,
                batch_size=batch_size,
                quiet=quiet,
            )
        )
        for line in report.lines():
            click.echo(line)
        if report_path:
            report.save(report_path)
            click.echo(f"report saved to {report_path}")
