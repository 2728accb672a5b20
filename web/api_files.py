"""The API's attachments: a project's files (the documents its program's form declares) — list,
upload (multipart), download, remove, and the project's export with every file and its hash.
Each call acts as the token's user through the engine, exactly as the console and the command
line do; what the user may not read is "not found"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from web.api import ERRORS, Eng, Id, Me
from web.attachments import export_zip, file_response, read_upload, zip_response
from workflow.attachments import Attachment

router = APIRouter(prefix="/api", tags=["attachments"], responses=ERRORS)

FILE = {"description": "The file's bytes, with the type its content was found to be", "content": {"*/*": {}}}
ZIP = {"description": "application.json, the files, manifest.json and SHA256SUMS", "content": {"application/zip": {}}}


class AttachmentOut(BaseModel):
    """A file attached to a project as one of its documents."""

    id: int
    project_id: int
    document: str = Field(description="The document's id in the program's form (e.g. business_license)")
    file_name: str
    media_type: str = Field(description="The type its content was found to be (not what its name says)")
    size: int = Field(description="In bytes")
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


def _out(a: Attachment) -> AttachmentOut:
    assert a.id is not None  # (read from the store)
    return AttachmentOut(
        id=a.id,
        project_id=a.project_id,
        document=a.document,
        file_name=a.file_name,
        media_type=a.media_type,
        size=a.size,
        sha256=a.sha256,
        uploaded_by=a.uploaded_by,
        uploaded_at=a.uploaded_at.astimezone(UTC),
    )


@router.get("/projects/{project_id}/attachments", summary="A project's attached files")
def list_attachments(project_id: Id, user: Me, engine: Eng) -> list[AttachmentOut]:
    return [_out(a) for a in engine.attachments(user.name, project_id)]


@router.post(
    "/projects/{project_id}/attachments",
    summary="Attach a file as one of the project's documents (checked by its content)",
    status_code=201,
)
async def upload_attachment(
    project_id: Id,
    user: Me,
    engine: Eng,
    document: Annotated[str, Form(max_length=100, description="The document's id in the program's form")],
    file: Annotated[UploadFile, File(description="PDF, JPEG, PNG, DOCX or XLSX, as the document takes")],
    expected_version: Annotated[int | None, Form(ge=0, le=2**31 - 1)] = None,
) -> AttachmentOut:
    name, data = await read_upload(file)
    # the engine's transaction off the event loop, as a plain route's would be
    a = await run_in_threadpool(engine.attach, user.name, project_id, document, name, data, expected_version)
    return _out(a)


@router.get(
    "/projects/{project_id}/attachments/{attachment_id}",
    summary="Download one attached file",
    responses={200: FILE},
    response_class=Response,
)
def download_attachment(project_id: Id, attachment_id: Id, user: Me, engine: Eng) -> Response:
    a, data = engine.attachment_content(user.name, project_id, attachment_id)
    return file_response(a, data)


@router.delete("/projects/{project_id}/attachments/{attachment_id}", summary="Remove an attached file (audited)")
def remove_attachment(project_id: Id, attachment_id: Id, user: Me, engine: Eng) -> AttachmentOut:
    return _out(engine.remove_attachment(user.name, project_id, attachment_id))


@router.get(
    "/projects/{project_id}/export",
    summary="The project's application and every attached file with its sha256, as a zip",
    responses={200: ZIP},
    response_class=Response,
)
def export_project(project_id: Id, user: Me, engine: Eng) -> Response:
    return zip_response(*export_zip(engine, user, project_id))
