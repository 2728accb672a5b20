"""`evalflow report`: the official list, the score matrix, per-city statistics and funding, as files."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import cfg, handled, progress
from i18n import Joined, Msg


@click.command()
@click.option("--cycle", "cycle_id")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "md"]), default="xlsx", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Header language.")
@click.option("--out", type=click.Path(path_type=Path), help="File (xlsx, md) or folder (csv); default report-CYCLE.")
@handled
def report(cycle_id: str | None, fmt: str, lang: str, out: Path | None) -> None:
    """Write the official list, the score matrix, per-city statistics and the parties' funding (lead)."""
    from sheets.report import counts_status_sheets, write

    # (read as it is written: the report's rows come a page at a time from one read transaction)
    with cfg().engine().report(cfg().user, cycle_id, counts_status_sheets) as data:
        out = out or Path(f"report-{data.cycle.id}" + ("" if fmt == "csv" else f".{fmt}"))
        writing = Msg("writing the report of {count} projects", count=data.count).render()
        with progress(data.count, writing) as update:
            written = write(data, fmt, lang, out, update)
    click.echo(Msg("Wrote {files}", files=Joined([str(p) for p in written], ", ")).render())
