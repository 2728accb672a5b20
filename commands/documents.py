"""`evalflow document`: the documents a cycle's results go out as, DOCX or PDF, from the program's
templates: the notice, the official list, a decision letter, a certificate, or all at once as a zip."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import ID, cfg, handled, progress
from i18n import Joined, Msg

FORMAT = click.Choice(["pdf", "docx"])


@click.group()
def document() -> None:
    """The documents of a cycle's published results (公示, 正式名单, 评审结果通知书, 命名授牌证书):
    DOCX from the program's Word templates (restyle them in Word or WPS), or PDF."""


def _write(kind: str, fmt: str, cycle_id: str | None, project_id: int | None, out: Path | None) -> None:
    from sheets.documents import file_name, render

    engine = cfg().engine()
    outcome = engine.outcome(cfg().user, cycle_id)
    project = outcome.of(project_id) if project_id is not None else None
    data = render(kind, fmt, outcome, project)
    out = out or Path(file_name(kind, fmt, outcome, project))
    out.write_bytes(data)
    click.echo(Msg("Wrote {file} ({size} KB)", file=str(out), size=max(1, len(data) // 1024)).render())


_OUT = click.option(
    "--out", type=click.Path(path_type=Path), help="The file to write (default: the cycle and the document's name)."
)
_CYCLE = click.option("--cycle", "cycle_id")
_FMT = click.option("--format", "fmt", type=FORMAT, default="pdf", show_default=True)


@document.command("notice")
@_CYCLE
@_FMT
@_OUT
@handled
def notice(cycle_id: str | None, fmt: str, out: Path | None) -> None:
    """The public notice (公示) of the published list: its projects by category, the notice's period."""
    _write("notice", fmt, cycle_id, None, out)


@document.command("list")
@_CYCLE
@_FMT
@_OUT
@handled
def official_list(cycle_id: str | None, fmt: str, out: Path | None) -> None:
    """The official list (正式名单): the named projects by category, as published."""
    _write("list", fmt, cycle_id, None, out)


@document.command("letter")
@click.argument("project_id", type=ID)
@_FMT
@_OUT
@handled
def letter(project_id: int, fmt: str, out: Path | None) -> None:
    """PROJECT's decision letter (评审结果通知书): its result, rank and score (the lead, its city's
    administrator, its applicant)."""
    _write("letter", fmt, _cycle_of(project_id), project_id, out)


@document.command("certificate")
@click.argument("project_id", type=ID)
@_FMT
@_OUT
@handled
def certificate(project_id: int, fmt: str, out: Path | None) -> None:
    """A named PROJECT's certificate (命名授牌证书)."""
    _write("certificate", fmt, _cycle_of(project_id), project_id, out)


@document.command("all")
@_CYCLE
@click.option("--format", "fmts", type=FORMAT, multiple=True, help="pdf, docx, or both (given twice); default both.")
@click.option("--out", type=click.Path(path_type=Path), help="The zip to write (default: CYCLE-documents.zip).")
@handled
def every_document(cycle_id: str | None, fmts: tuple[str, ...], out: Path | None) -> None:
    """Every document of the cycle at once, as a zip: the notice, the list, each project's letter
    and each named project's certificate (the lead; a city's administrator, their city's)."""
    from sheets.documents import bundle, documents_of

    outcome = cfg().engine().outcome_for_all(cfg().user, cycle_id)
    formats = tuple(dict.fromkeys(fmts)) or ("pdf", "docx")
    total = len(documents_of(outcome)) * len(formats)
    label = Msg("making {count} documents", count=total).render()
    with progress(total, label) as update:
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            update(done)

        data, count = bundle(outcome, formats, step)
    out = out or Path(f"{outcome.cycle.id}-documents.zip")
    out.write_bytes(data)
    said = Msg(
        "Wrote {file}: {count} documents ({size} KB)", file=str(out), count=count, size=max(1, len(data) // 1024)
    )
    click.echo(said.render())


def _cycle_of(project_id: int) -> str:
    """The cycle of a project the user may read (NotFound otherwise)."""
    return cfg().engine().project(cfg().user, project_id)[0].cycle_id


@click.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--fingerprint", help="The signing key's fingerprint the office published, to check the bundle's against."
)
@handled
def verify(bundle: Path, fingerprint: str | None) -> None:
    """Check a published list's BUNDLE (from `evalflow list bundle`, the console or the API) with
    no database: its list is the one published, under the checkpoint the office's key signed. Any
    changed byte fails (exit 11)."""
    from workflow.errors import TrailBroken
    from workflow.publication import verify_bundle

    found = verify_bundle(bundle.read_bytes(), fingerprint)
    for held in found.held:
        click.echo("✓ " + held.render())
    if not found.ok:
        raise TrailBroken(Msg("the bundle does not hold: {problems}", problems=Joined(found.problems, "; ")))
    doc = found.document
    if fingerprint is None:
        said = Msg(
            "Signed by the key of fingerprint {key}: compare it with the fingerprint the office publishes"
            " (or give it with --fingerprint)",
            key=found.fingerprint,
        )
        click.echo(said.render())
    said = Msg(
        "Bundle holds: list version {version} of cycle {cycle} ({program}), {count} projects named, published {at}",
        version=doc.get("version"),
        cycle=doc.get("cycle"),
        program=doc.get("program_name"),
        count=len(doc.get("entries") or []),
        at=doc.get("published_at"),
    )
    click.echo(said.render())
