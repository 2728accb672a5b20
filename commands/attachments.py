"""`evalflow project attach | attachments | attachment`: the files of a project's declared
documents (营业执照, certificates): attach one (checked by its content), list them, save one."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from commands.common import ID, cfg, expect_version_option, handled, json_option, local, out
from i18n import Msg
from workflow.errors import InvalidInput, os_reason
from workflow.files import size_words


@click.command("attach")
@click.argument("project_id", type=ID)
@click.argument("document")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@expect_version_option
@handled
def project_attach(project_id: int, document: str, file: Path, expected_version: int | None) -> None:
    """Attach FILE to a project as its DOCUMENT (an id of the program's form, e.g. business_license)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(Msg("file"), [Msg("{file} cannot be read: {why}", file=file, why=os_reason(exc))]) from None
    a = cfg().engine().attach(cfg().user, project_id, document, file.name, data, expected_version=expected_version)
    said = Msg(
        "Attached {name} to project {project} as {document} ({size}, sha256 {sha256}); file {id}",
        name=a.file_name,
        project=a.project_id,
        document=a.document,
        size=size_words(a.size),
        sha256=a.sha256,
        id=a.id,
    )
    click.echo(said.render())


@click.command("attachments")
@json_option
@click.argument("project_id", type=ID)
@handled
def project_attachments(project_id: int) -> None:
    """The files attached to a project, oldest first."""
    found = cfg().engine().attachments(cfg().user, project_id)

    def text() -> None:
        if not found:
            click.echo(Msg("No files are attached to project {project}.", project=project_id).render())
        for a in found:
            line = Msg(
                "file {id} {document} {name} ({media_type}, {size}) by {by} {at} sha256 {sha256}",
                id=f"{a.id:<4}",
                document=a.document,
                name=a.file_name,
                media_type=a.media_type,
                size=size_words(a.size),
                by=a.uploaded_by,
                at=local(a.uploaded_at),
                sha256=a.sha256,
            )
            click.echo(line.render())

    out([asdict(a) for a in found], text)


@click.command("attachment")
@click.argument("project_id", type=ID)
@click.argument("attachment_id", type=ID)
@click.option("--out", "dest", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Where to save it.")
@handled
def project_attachment(project_id: int, attachment_id: int, dest: Path) -> None:
    """Save one attached file of a project to --out."""
    a, data = cfg().engine().attachment_content(cfg().user, project_id, attachment_id)
    dest.write_bytes(data)
    click.echo(Msg("Saved {name} ({size}) to {dest}", name=a.file_name, size=size_words(a.size), dest=dest).render())


def register(group: click.Group) -> None:
    """Add the attachment commands to ``evalflow project``."""
    for command in (project_attach, project_attachments, project_attachment):
        group.add_command(command)
