"""Attachments: the files a project's application carries — the documents its program's form
declares (营业执照, 高新技术企业证书…) — attached, read and removed through the engine's door.

Attaching checks, in the action's one transaction: the project is there for the user (else "not
found", as for the project itself) → the program's ``attach`` permission (the applicant of the
project, its city's administrator) → the project still awaits its first decision → the file by
its content (workflow/files.py) → then the attachment's row, its audit entry (sha256, name, size,
document) and the content, stored once by its sha256 in the blob store. A refusal stores
nothing: no row, no blob. Reading follows the project's own visibility.

These methods are mixed into :class:`workflow.engine.Engine`; they use its action context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from i18n import Msg
from policies.base import Rejection, name_rule
from policies.permissions import permission_problem
from workflow.common import ActionContext, EngineCore, actor_of, state_of
from workflow.errors import ConcurrentChange, InvalidInput, NotFound, NotPermitted, StoreUnavailable
from workflow.files import MB, check_file, safe_name
from workflow.form import Document
from workflow.log import get_logger
from workflow.ports import StoreTx
from workflow.program import Program
from workflow.records import Project

log = get_logger("evalflow.attachments")

name_rule("attach_state", "可上传证明材料的状态")

ATTACH = "attach"  # the action's id in a program's [permissions]


@dataclass
class Attachment:
    """A file attached to a project as one of its form's documents (its content is the blob of
    its sha256)."""

    id: int | None
    project_id: int
    document: str
    file_name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    removed_at: datetime | None = None
    removed_by: str | None = None


@dataclass
class Blob:
    """A file's content as the database's ``blobs`` table keeps it (store/blobs.py TableBlobs)."""

    sha256: str
    size: int
    data: bytes


class AttachmentTx(Protocol):
    """What a transaction reads and writes of attachments and blobs (store/attachments.py)."""

    def insert_attachment(self, attachment: Attachment) -> None: ...
    def attachments_of(self, project_id: int, removed: bool = False) -> list[Attachment]:
        """A project's attachments, oldest first (with ``removed``: the removed ones too)."""

    def get_attachment(self, attachment_id: int) -> Attachment | None: ...
    def mark_attachment_removed(self, attachment_id: int, at: datetime, by: str) -> int:
        """Mark an attachment removed; the number of rows changed (0: already removed)."""

    def put_blob(self, sha256: str, data: bytes) -> bool:
        """Store ``data`` as the blob ``sha256`` unless it is there; True if it was added."""

    def get_blob(self, sha256: str) -> bytes | None: ...


class BlobStore(Protocol):
    """Where file contents are kept, by sha256: a folder beside a SQLite database, the database's
    ``blobs`` table, an S3-compatible bucket (store/blobs.py). ``tx`` is the action's transaction
    (the table keeps a blob in it; the others write beside it)."""

    def put(self, tx: StoreTx, sha256: str, data: bytes) -> bool:
        """Keep ``data`` under ``sha256`` unless it is kept already; True if it was added."""

    def get(self, tx: StoreTx, sha256: str) -> bytes | None:
        """The content kept under ``sha256`` (None: none)."""


def _rows(act: ActionContext) -> AttachmentTx:
    # the store's transaction keeps attachments too (store/sql.py composes AttachmentRows into Tx)
    return cast(AttachmentTx, act.tx)


def attach_states(program: Program) -> tuple[str, ...]:
    """The states in which a project's documents may be attached: the one its submission
    creates (it awaits the first decision), as the program's intake stage declares it."""
    stage_id = program.stage_of_action.get("submit")
    if stage_id is None:
        return ()
    states = program.stage(stage_id).kind.states
    return tuple(states[:1])


class AttachmentActions(EngineCore):
    """Attaching, listing, reading and removing the files of a project's documents."""

    def _blobs(self) -> BlobStore:
        blobs = getattr(self.store, "blobs", None)
        if blobs is None:
            raise StoreUnavailable(Msg("This store keeps no files"))
        return cast(BlobStore, blobs)

    def _readable_project(self, act: ActionContext, project_id: int) -> Project:
        project = self._project(act.tx, project_id)
        if not self.visible(act.user, project, act.cycle, act.program):
            raise NotFound("project", project_id)
        return project

    def _attach_problem(self, act: ActionContext, project: Project) -> tuple[str | Msg | None, list[Rejection]]:
        """Why the acting user may not attach files to ``project`` (the program's permission, an
        applicant's own project), and the rules that refuse it now (its state)."""
        program, user = act.program, act.user
        why: str | Msg | None = permission_problem(
            ATTACH, program.permissions.get(ATTACH), actor_of(user), project.city
        )
        if why is None and user.role == "applicant" and project.applicant != user.name:
            why = Msg("{name} is not the applicant of project {id}", name=user.name, id=project.id)
        rejections = []
        if project.state not in attach_states(program):
            late = Msg(
                "project {id} is '{state}'; documents are attached only while it awaits its first decision",
                id=project.id,
                state=state_of(program, project.state),
            )
            rejections.append(Rejection("attach_state", late))
        return why, rejections

    def _check_attach(self, act: ActionContext, project: Project, verb: Msg) -> None:
        why, rejections = self._attach_problem(act, project)
        subject = Msg("project {id}", id=project.id)
        if why:
            log.info("not_permitted", action=ATTACH, actor=act.user.name, project=project.id)
            raise NotPermitted(verb, subject, why)
        if rejections:
            raise self._refuse(verb, subject, rejections, state_of(act.program, project.state))

    def attachments_and_may_attach(self, acting: str | None, project_id: int) -> tuple[list[Attachment], bool]:
        """The files attached to a project the user may read, oldest first, and whether the user
        may attach (and remove) files of it now: what the console's section shows, in one read."""
        with self._acting(acting, write=False, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            project = self._readable_project(act, project_id)
            why, rejections = self._attach_problem(act, project)
            return _rows(act).attachments_of(project_id), not why and not rejections

    def attach(
        self,
        acting: str | None,
        project_id: int,
        document: str,
        filename: str,
        data: bytes,
        expected_version: int | None = None,
    ) -> Attachment:
        """Attach ``data`` (uploaded as ``filename``) to a project as its ``document``."""
        with self._acting(acting, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            project = self._readable_project(act, project_id)
            program, user = act.program, act.user
            subject = Msg("project {id}", id=project.id)
            verb = Msg("attach a document to")
            self._check_attach(act, project, verb)
            if expected_version is not None and expected_version != project.version:
                raise ConcurrentChange(subject, expected_version, project.version)
            declared = _document(program, document)
            name = safe_name(filename)
            checked = check_file(name, data, declared.types, declared.max_mb * MB, declared.words())
            assert project.id is not None  # (read from the store)
            attachment = Attachment(
                id=None,
                project_id=project.id,
                document=declared.id,
                file_name=name,
                media_type=checked.kind.media_type,
                size=checked.size,
                sha256=checked.sha256,
                uploaded_by=user.name,
                uploaded_at=act.now,
            )
            _rows(act).insert_attachment(attachment)
            act.log(
                "project",
                project.id,
                ATTACH,
                attachment=attachment.id,
                document=declared.id,
                file_name=name,
                size=checked.size,
                sha256=checked.sha256,
                media_type=checked.kind.media_type,
            )
            # the content last: a refusal above stores nothing, and a blob is named by its content,
            # so one written here by a transaction that then fails is only a spare copy
            added = self._blobs().put(act.tx, checked.sha256, data)
        log.info("attached", project=project_id, document=document, sha256=checked.sha256, new_blob=added)
        return attachment

    def attachments(self, acting: str | None, project_id: int) -> list[Attachment]:
        """The files attached to a project the user may read, oldest first."""
        with self._acting(acting, write=False, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            self._readable_project(act, project_id)
            return _rows(act).attachments_of(project_id)

    def attachment_content(self, acting: str | None, project_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
        """One attachment of a project the user may read, with its content."""
        with self._acting(acting, write=False, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            self._readable_project(act, project_id)
            found = _rows(act).get_attachment(attachment_id)
            if found is None or found.project_id != project_id or found.removed_at is not None:
                raise NotFound("file", attachment_id)
            return found, self._content(act, found)

    def attachment_contents(self, acting: str | None, project_id: int) -> list[tuple[Attachment, bytes]]:
        """Every file attached to a project the user may read, oldest first, with its content:
        one read for a project's export, however many files it has."""
        with self._acting(acting, write=False, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            self._readable_project(act, project_id)
            return [(a, self._content(act, a)) for a in _rows(act).attachments_of(project_id)]

    def _content(self, act: ActionContext, attachment: Attachment) -> bytes:
        data = self._blobs().get(act.tx, attachment.sha256)
        if data is None:
            raise StoreUnavailable(Msg("The content of file {id} is missing from the file store", id=attachment.id))
        return data

    def remove_attachment(
        self, acting: str | None, project_id: int, attachment_id: int, reason: str = ""
    ) -> Attachment:
        """Remove an attachment (kept, marked removed; its content stays), by whoever may attach
        documents to the project now; audited."""
        with self._acting(acting, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            project = self._readable_project(act, project_id)
            user = act.user
            found = _rows(act).get_attachment(attachment_id)
            if found is None or found.project_id != project_id or found.removed_at is not None:
                raise NotFound("file", attachment_id)
            self._check_attach(act, project, Msg("remove a document of"))
            _rows(act).mark_attachment_removed(attachment_id, act.now, user.name)
            found.removed_at, found.removed_by = act.now, user.name
            act.log(
                "project",
                project.id,
                "remove_attachment",
                reason=reason,
                attachment=attachment_id,
                document=found.document,
                file_name=found.file_name,
                sha256=found.sha256,
            )
            return found


def _document(program: Program, document: str) -> Document:
    form = program.form
    declared = form.document(document) if form is not None else None
    if declared is None or form is None:
        known = ", ".join(d.id for d in form.documents) if form is not None else ""
        raise InvalidInput(
            Msg("document"),
            [
                Msg(
                    "program {program} declares no document {document} (its documents: {known})",
                    program=program.id,
                    document=repr(document),
                    known=known or "—",
                )
            ],
        )
    return declared


def missing_documents(program: Program, attached: Sequence[Attachment]) -> list[Document]:
    """The required documents of the program's form with no file attached."""
    have = {a.document for a in attached if a.removed_at is None}
    form = program.form
    return [d for d in (form.documents if form is not None else ()) if d.required and d.id not in have]
