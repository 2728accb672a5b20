"""The engine: the one door through which every state change passes.

Each action runs in one database transaction and one action context (context.py: the acting
user, the cycle, its program, the instant): check permission → run every guard (the stage window
and the program's policies), collecting *all* rejections (guards.py) → fire the trigger on the
program's one machine → save with a version check → seal the audit entry (door.py). A refusal
raises :class:`RuleRefused`, is logged, and leaves the database unchanged.

The actions are grouped by concern — the cycle (cycles.py), projects (projects.py), scoring
(scoring.py), the list (lists.py), reads (reads.py), appeals and overrides, the audit trail,
accounts — and :class:`Engine` composes them.
"""

from __future__ import annotations

from workflow.accounts import AccountActions
from workflow.appeals import AppealActions
from workflow.attachments import AttachmentActions
from workflow.engine.cycles import AdvanceResult, CycleActions
from workflow.engine.documents import PublicReads
from workflow.engine.door import MOVE_CHUNK
from workflow.engine.lists import ListActions
from workflow.engine.projects import ImportResult
from workflow.engine.reads import Reads
from workflow.engine.report import ReportData
from workflow.inputs import checked_inputs
from workflow.trail import TrailActions

__all__ = ["MOVE_CHUNK", "AdvanceResult", "Engine", "ImportResult", "ReportData"]


@checked_inputs
class Engine(
    CycleActions, ListActions, Reads, AppealActions, TrailActions, AccountActions, AttachmentActions, PublicReads
):
    """Runs programs' cycles on a store, with an injected clock."""
