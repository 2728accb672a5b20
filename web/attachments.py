"""The console's 证明材料: a project's declared documents and their files on its page (the
partial ``_attachments.html``), an upload form per document for those who may attach, the
download of one file, its removal, and the export of a project (its application and every file,
with their sha256) as one zip. Every read and write is the engine's, as the signed-in user; the
API's routes (web/api_files.py) share the responses made here."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from i18n import Joined, Msg
from web import views
from web.auth import Me, Posted, session_of
from web.downloads import content_disposition
from web.ids import Id
from web.pages import done, engine_of
from workflow.attachments import Attachment, missing_documents
from workflow.errors import InvalidInput
from workflow.files import KINDS, MAX_DOCUMENT_MB, MB, size_words
from workflow.form import Document
from workflow.program import Program
from workflow.records import Project, User

router = APIRouter(include_in_schema=False)

# the most a request may upload: no document of any program takes more (workflow/form.py)
MAX_UPLOAD = MAX_DOCUMENT_MB * MB


@dataclass
class DocumentRow:
    """One declared document as the page shows it: its words, the files attached as it."""

    document: Document
    types: Any  # the kinds of file it takes, in the reader's words
    accept: str  # the file chooser's hint (the server judges the content, whatever the name)
    files: list[Attachment] = field(default_factory=list)


@dataclass
class AttachmentsView:
    """The 证明材料 section of a project page."""

    rows: list[DocumentRow]
    may_attach: bool
    missing: list[Document]
    local: Any
    size: Any = size_words


def attachments_view(engine: Any, user: User, project: Project, program: Program) -> AttachmentsView | None:
    """What the section shows to ``user`` (None: the program's form declares no documents)."""
    form = program.form
    if form is None or not form.documents:
        return None
    assert project.id is not None  # (read from the store)
    found, may_attach = engine.attachments_and_may_attach(user.name, project.id)
    rows = []
    for d in form.documents:
        kinds = [KINDS[t] for t in d.types]
        rows.append(
            DocumentRow(
                d,
                Joined([k.words() for k in kinds], ", "),
                ",".join(sorted({k.suffix for k in kinds} | ({".jpeg"} if "jpeg" in d.types else set()))),
                [a for a in found if a.document == d.id],
            )
        )
    return AttachmentsView(
        rows=rows,
        may_attach=may_attach,
        missing=missing_documents(program, found),
        local=lambda t: views.local_time(t, program),
    )


def _section(request: Request, project: Project, program: Program) -> AttachmentsView | None:
    """The section of the page being rendered, for its signed-in reader (the partial calls it)."""
    me = session_of(request)
    if me is None:
        return None
    return attachments_view(engine_of(request), me.user, project, program)


def file_response(attachment: Attachment, data: bytes) -> Response:
    """The file's bytes with the type its content was found to be, to be saved (never shown as a
    page: a file is downloaded, so nothing uploaded runs in the console's origin)."""
    return Response(
        content=data,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": content_disposition(attachment.file_name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def export_zip(engine: Any, user: User, project_id: int) -> tuple[str, bytes]:
    """A project's export, as the user may read it: ``application.json`` (the project and its
    application), each attached file under ``files/`` and ``manifest.json`` naming each with its
    document, size and sha256 (also in ``SHA256SUMS``, for ``sha256sum -c``)."""
    project, _, _ = engine.project(user.name, project_id)
    files = engine.attachment_contents(user.name, project_id)
    out = io.BytesIO()
    manifest = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        shown = {k: v for k, v in asdict(project).items() if k not in ("record",)}
        z.writestr("application.json", json.dumps(shown, ensure_ascii=False, indent=2, default=str))
        sums = []
        for a, data in files:
            path = f"files/{a.id}-{a.document}-{a.file_name}"
            z.writestr(path, data)
            manifest.append({**asdict(a), "path": path, "uploaded_at": a.uploaded_at.isoformat()})
            sums.append(f"{a.sha256}  {path}")
        z.writestr("manifest.json", json.dumps({"attachments": manifest}, ensure_ascii=False, indent=2, default=str))
        z.writestr("SHA256SUMS", "\n".join(sums) + ("\n" if sums else ""))
    return f"project-{project_id}.zip", out.getvalue()


def zip_response(name: str, data: bytes) -> Response:
    return Response(
        content=data, media_type="application/zip", headers={"Content-Disposition": content_disposition(name)}
    )


async def read_upload(upload: Any) -> tuple[str, bytes]:
    """An uploaded file's name and bytes (InvalidInput: no file chosen, or one larger than any
    document takes, refused before it is read into memory)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput(Msg("file"), [Msg("choose a file to upload")])
    if upload.size is not None and upload.size > MAX_UPLOAD:
        raise InvalidInput(
            Msg("file"),
            [
                Msg(
                    "{name} is {size}; a document may be at most {limit}",
                    name=upload.filename,
                    size=size_words(upload.size),
                    limit=size_words(MAX_UPLOAD),
                )
            ],
        )
    return upload.filename, await upload.read()


async def posted_file(request: Request, form: Posted) -> tuple[str, bytes]:
    """The file of a posted form (its CSRF token checked first, by Posted)."""
    return await read_upload((await request.form()).get("file"))


PostedFile = Annotated[tuple[str, bytes], Depends(posted_file)]


# ------------------------------------------------------------------------------------------ routes
@router.post("/projects/{project_id}/attachments")
def upload(request: Request, me: Me, form: Posted, upload: PostedFile, project_id: Id) -> Response:
    """Attach the posted file as the posted document; back to the page's 证明材料."""
    name, data = upload
    engine = engine_of(request)
    document = form.get("document", "")
    version = form.get("expected_version", "")
    a = engine.attach(
        me.user.name, project_id, document, name, data, expected_version=int(version) if version.isdecimal() else None
    )
    said = Msg("{name} uploaded ({size})", name=a.file_name, size=size_words(a.size))
    return done(request, me, said, to=f"/projects/{project_id}#attachments")


@router.get("/projects/{project_id}/attachments/{attachment_id}")
def download(request: Request, me: Me, project_id: Id, attachment_id: Id) -> Response:
    """One attached file, to be saved under its name."""
    a, data = engine_of(request).attachment_content(me.user.name, project_id, attachment_id)
    return file_response(a, data)


@router.post("/projects/{project_id}/attachments/{attachment_id}/remove")
def remove(request: Request, me: Me, form: Posted, project_id: Id, attachment_id: Id) -> Response:
    """Remove one attached file (kept in the history); back to the page's 证明材料."""
    a = engine_of(request).remove_attachment(me.user.name, project_id, attachment_id)
    return done(request, me, Msg("{name} removed", name=a.file_name), to=f"/projects/{project_id}#attachments")


@router.get("/projects/{project_id}/export")
def export(request: Request, me: Me, project_id: Id) -> Response:
    """The project's application and every attached file, with their hashes, as one zip."""
    return zip_response(*export_zip(engine_of(request), me.user, project_id))


def install(app: FastAPI) -> None:
    """The pages' routes, and the project page's section (the partial asks ``attachments_section``)."""
    app.include_router(router)
    app.state.templates.env.globals["attachments_section"] = _section
