"""The API of uploads and the scorer's queue: a city's application workbook (a dry run giving every
row's verdict, or the import, all or nothing), a scorer's score sheet (a check, or the record,
all or nothing) and the projects left to score. A file is sent as ``multipart/form-data`` and
read as the command line reads it; it is deleted when the call ends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from i18n import Msg, rendered
from web import queue, views
from web.api import ERRORS, Eng, Me
from web.uploads import (
    SCORE_SUFFIXES,
    SUFFIXES,
    SheetCheck,
    box_of,
    check_applications,
    check_scores,
    may_import,
    read_file,
    refuse_role,
    row_words,
)
from workflow.records import Cycle, User

router = APIRouter(prefix="/api", tags=["uploads"], responses=ERRORS)


class RowOut(BaseModel):
    row: str = Field(description="Where the application is in the file (e.g. the form's sheet, row 5)")
    unit: str
    project: str
    verdict: str = Field(
        description="new (would be imported), same (already imported), refused, fine (no problem of its own)"
    )
    problems: list[str] = Field(default_factory=list)
    project_id: int | None = None


class ImportOut(BaseModel):
    dry_run: bool
    count: int
    new: int
    same: int
    refused: int
    rows: list[RowOut] = Field(default_factory=list, description="Every row's verdict (a dry run)")
    created: list[int] = Field(default_factory=list, description="The projects created (an import)")


class SheetRowOut(BaseModel):
    row: str
    project_id: int
    project: str
    scores: dict[str, int | None]
    bands: dict[str, str | None]
    total: int


class SheetOut(BaseModel):
    recorded: bool
    city: str | None
    count: int
    skipped: int
    rows: list[SheetRowOut] = Field(default_factory=list)


class QueueItem(BaseModel):
    id: int
    city: str
    unit: str
    project: str


class QueueOut(BaseModel):
    cycle: str
    scoring: bool = Field(description="Whether the cycle is in its scoring stage")
    city: str | None = Field(description="Whose queue; null: the lead's count for every party")
    left: int
    total: int
    projects: list[QueueItem] = Field(
        default_factory=list, description="The first 200 left, by id (each one scored leaves them)"
    )
    parties: dict[str, int] = Field(default_factory=dict, description="The lead's: each party's projects left")


Upload = Annotated[UploadFile, File(description="The file: XLSX, CSV or JSON (a score sheet: XLSX or CSV)")]


@router.post(
    "/cycles/{cycle_id}/applications/import",
    summary="Import a city's application workbook (dry run first: every row's verdict)",
)
async def import_applications(
    cycle_id: str, request: Request, user: Me, engine: Eng, file: Upload, dry_run: Annotated[bool, Form()] = True
) -> ImportOut:
    cycle = engine.get_cycle(cycle_id)
    if not may_import(user, engine.program_of(cycle)):
        raise refuse_role(user, Msg("applications"))
    box = box_of(request)
    up = await box.save(file, "applications", cycle.id, f"api:{user.name}", user.name, SUFFIXES)
    try:  # (the engine's work off the event loop: a large file takes seconds)
        return await run_in_threadpool(_import, engine, user, cycle, up.path, dry_run)
    finally:
        box.drop(up.id)


def _import(engine: Any, user: User, cycle: Cycle, path: Path, dry_run: bool) -> ImportOut:
    """A dry run's verdicts, or the import's projects (the engine's work, in a worker thread)."""
    if dry_run:
        check = check_applications(engine, user, cycle, path)
        if check.refused is not None:
            raise check.refused
        rows = [
            RowOut(
                row=row_words(r.label),
                unit=r.unit,
                project=r.title,
                verdict=r.verdict,
                problems=[str(rendered(m)) for m in r.problems],
                project_id=r.project_id,
            )
            for r in check.rows
        ]
        return ImportOut(
            dry_run=True,
            count=len(rows),
            new=check.count("new"),
            same=check.count("same"),
            refused=check.count("refused"),
            rows=rows,
        )
    items = read_file(engine, cycle, path)
    result = engine.submit_batch(user.name, items, cycle.id, False)
    return ImportOut(
        dry_run=False,
        count=len(items),
        new=len(result.created),
        same=len(result.unchanged),
        refused=0,
        created=[p.id for p in result.created],
    )


@router.post("/cycles/{cycle_id}/scores/import", summary="Check or record a city's filled score sheet, all or nothing")
async def import_scores(
    cycle_id: str, request: Request, user: Me, engine: Eng, file: Upload, record: Annotated[bool, Form()] = False
) -> SheetOut:
    cycle = engine.get_cycle(cycle_id)
    program = engine.program_of(cycle)
    if not views.may_score(user, program):
        raise refuse_role(user, Msg("score sheets"))
    box = box_of(request)
    up = await box.save(file, "scores", cycle.id, f"api:{user.name}", user.name, SCORE_SUFFIXES)

    def work() -> SheetCheck:
        check = check_scores(engine, user, cycle, up.path)
        if record:
            engine.fire_each(user.name, check.items, program.sheet_trigger)
        return check

    try:
        check = await run_in_threadpool(work)
    finally:
        box.drop(up.id)
    rows = [
        SheetRowOut(
            row=r.label,
            project_id=r.project_id,
            project=r.project,
            scores={c.id: v for c, v, _ in r.scores},
            bands={c.id: b for c, _, b in r.scores},
            total=r.total,
        )
        for r in check.rows
    ]
    return SheetOut(recorded=record, city=check.city, count=len(rows), skipped=check.skipped, rows=rows)


@router.get("/cycles/{cycle_id}/queue", summary="The projects left to score (待评分)")
def score_queue(cycle_id: str, user: Me, engine: Eng, city: str | None = None) -> QueueOut:
    cycle = engine.get_cycle(cycle_id)
    q = queue.build(engine, user, cycle, city or None)
    return QueueOut(
        cycle=cycle.id,
        scoring=q.scoring,
        city=q.party,
        left=q.left if q.party is not None else sum(n for _, _, n in q.counts),
        total=q.total,
        projects=[QueueItem(id=p.id or 0, city=p.city, unit=p.unit_name, project=p.project_name) for p in q.projects],
        parties={party: n for party, _, n in q.counts},
    )
