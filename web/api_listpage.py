"""The JSON API's read of the list's open actions: which of propose, confirm, object and publish
the token's user may take now, why each permitted one is not open, and where the list stands
(the same read the console's list page shows)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from i18n import rendered
from web.api import ERRORS, Eng, Me

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


class Refusal(BaseModel):
    rule: str = Field(description="The rule's id, e.g. stage_window, list_status, confirm_once")
    message: str = Field(description="Why, with the numbers, in the reader's language")


class ListActions(BaseModel):
    cycle: str
    version: int | None = Field(description="The current list version's number (null: no list yet)")
    status: str | None = Field(description="Its status: proposed, objected, confirmed, published")
    confirmed: list[str] = Field(description="The parties that have confirmed the current version")
    objected: list[str] = Field(description="The parties that objected to it")
    parties: int = Field(description="How many parties confirm a version")
    correction: bool = Field(description="An upheld appeal has reopened the list")
    open: list[str] = Field(description="The list actions the user may take now")
    refused: dict[str, list[Refusal]] = Field(
        description="Each action the user's role takes that is not open now, and why"
    )


@router.get(
    "/cycles/{cycle_id}/list/actions",
    summary="The list actions the user may take now, and why the others of their role are not open",
    response_model=ListActions,
)
def list_actions(cycle_id: str, user: Me, engine: Eng) -> dict[str, Any]:
    opened = engine.list_actions(user.name, cycle_id)
    return {
        "cycle": cycle_id,
        "version": opened.version,
        "status": opened.status,
        "confirmed": list(opened.confirmed),
        "objected": list(opened.objected),
        "parties": len(opened.parties),
        "correction": opened.correction,
        "open": list(opened.open),
        "refused": {
            action: [{"rule": r.rule, "message": str(rendered(r.message))} for r in why]
            for action, why in opened.refused.items()
        },
    }
