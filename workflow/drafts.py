"""An applicant's draft: an application typed in the console and saved before it is submitted.

A draft is not a project: no city sees it, no rule judges it, it changes no state. It belongs to
one user and one cycle (one draft each) and only its owner reads, replaces or removes it; the
engine's portal actions (workflow/engine/portal.py) are the only way to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from workflow.records import Project


@dataclass
class Draft:
    """What an applicant has typed of an application for ``cycle_id`` so far (any part of it)."""

    cycle_id: str
    owner: str
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


class DraftTx(Protocol):
    """Drafts, and the one write of an applicant's edit that moves no state."""

    def get_draft(self, cycle_id: str, owner: str) -> Draft | None: ...
    def put_draft(self, draft: Draft) -> None:
        """Insert the owner's draft for the cycle, or replace the one there."""

    def delete_draft(self, cycle_id: str, owner: str) -> bool:
        """Remove the owner's draft for the cycle; whether there was one."""

    def owner_drafts(self, owner: str) -> list[Draft]: ...
    def save_application(self, project: Project) -> None:
        """Write the project's application, unit and name if its stored version is still
        ``project.version``; bump it (an applicant's edit: the state stays)."""
