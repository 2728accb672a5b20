"""The project list in the JSON API: a page of a cycle's projects as the console's list shows
it (search, filters, order, a window and the view's count, a score once the reader may read
one), and the export of a view (XLSX, CSV). Each reads through the engine's ``project_page``,
as the token's user: what they may not read is neither listed nor counted."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from web import project_views, views
from web.api import ERRORS, FILES, Eng, Me, project_summary

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)

Sort = Literal["id", "city", "unit", "project", "state", "category", "score"]


class ViewParams(BaseModel):
    """A view of the list, as the console's link says it."""

    city: str | None = Field(None, max_length=100, description="A party's id")
    state: str | None = Field(None, max_length=100, description="A state's id")
    category: str | None = Field(None, max_length=100, description="A list category once placed, or result:RESULT")
    action: str | None = Field(None, max_length=300, description="The to-do: projects waiting for these actions")
    q: str = Field("", max_length=200, description="Search the project's name, its unit's name, or its id")
    sort: Sort | None = Field(None, description="The column to order by (then by id)")
    dir: Literal["asc", "desc"] | None = Field(None, description="The order's direction (score: best first)")

    def view(self, cycle_id: str) -> project_views.View:
        return project_views.View(
            cycle_id,
            self.city or "",
            self.state or "",
            self.category or "",
            self.action or "",
            self.q.strip(),
            self.sort or "",
            self.dir or "",
        )


class ProjectPage(BaseModel):
    """One page of the list and how many projects the whole view holds."""

    total: int
    offset: int
    limit: int
    scored: bool = Field(description="Whether the cycle has scores the user may read")
    projects: list[dict[str, Any]]


@router.get("/cycles/{cycle_id}/project-page", summary="A page of the project list: search, filters, order, count")
def project_page(
    cycle_id: Annotated[str, Field(max_length=100)],
    user: Me,
    engine: Eng,
    params: Annotated[ViewParams, Depends()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ProjectPage:
    cycle = engine.get_cycle(cycle_id)
    program = engine.program_of(cycle)
    query, by_score = project_views.page_query(engine, user, cycle, program, params.view(cycle.id))
    query.limit, query.offset = limit, offset
    found = engine.project_page(user.name, cycle.id, query, by_score)
    listed = views.listed_categories(engine, user, cycle, found.projects)
    rows = [{**project_summary(program, p, listed), "score": found.scores.get(p.id or 0)} for p in found.projects]
    return ProjectPage(total=found.total, offset=offset, limit=limit, scored=found.scored, projects=rows)


@router.get(
    "/cycles/{cycle_id}/projects/export",
    summary="The project list's view, every page, as a workbook or a CSV file",
    responses={200: FILES},
)
def project_export(
    cycle_id: Annotated[str, Field(max_length=100)],
    user: Me,
    engine: Eng,
    params: Annotated[ViewParams, Depends()],
    format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx",
) -> Response:
    cycle = engine.get_cycle(cycle_id)
    return project_views.export_response(engine, user, cycle, params.view(cycle.id), format)
