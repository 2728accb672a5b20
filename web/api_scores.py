"""The score analysis through the API, as the lead reads it on the console and the command line:
the analysis of a cycle's sheets, why a project holds its rank, and what other places would
change (nothing saved). Each is the lead's: anyone else is refused (403)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from web.api import ERRORS, Eng, Me
from web.ids import Id

router = APIRouter(prefix="/api", tags=["scores"], responses=ERRORS)


@router.get(
    "/cycles/{cycle_id}/scores/analysis",
    summary="Each city's leniency and home bias, the cities' agreement and the outlier sheets (the lead)",
)
def score_analysis(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    return engine.score_analysis(user.name, cycle_id).as_data()


@router.get("/projects/{project_id}/rank", summary="Why a project holds its rank (the lead)")
def rank_explained(project_id: Id, user: Me, engine: Eng) -> dict[str, Any]:
    return engine.explain_rank(user.name, project_id).as_data()


@router.get(
    "/cycles/{cycle_id}/list/what-if",
    summary="The projects other list places would move between categories; nothing is saved (the lead)",
)
def what_if(
    cycle_id: str,
    user: Me,
    engine: Eng,
    places: Annotated[
        list[str],
        Query(description="CATEGORY=N, once for each category whose places to try (the rest as the cycle has them)"),
    ] = [],  # noqa: B006  (FastAPI's own way of a repeated parameter)
    tie_order: Annotated[list[int], Query(description="Project ids, best first, settling a tie")] = [],  # noqa: B006
) -> dict[str, Any]:
    from i18n import Msg
    from workflow.errors import InvalidInput
    from workflow.inputs import place_pair

    asked: dict[str, int] = {}
    for given in places:
        pair = place_pair(given)
        if pair is None:
            said = Msg("places {value}: expected CATEGORY=N with N a whole number", value=repr(given))
            raise InvalidInput(Msg("list places"), [said])
        asked[pair[0]] = pair[1]
    return engine.what_if(user.name, cycle_id, asked, tie_order).as_data()
