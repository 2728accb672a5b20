"""Stage kinds of a committee review: members vote on every accepted application, and the
approved list goes out as a public notice during which objections can be filed before the final
announcement. Reusable by any program that selects by votes."""

from __future__ import annotations

from typing import Any

from i18n import Msg
from stages.base import StageKind, TransitionSpec, stage_kind

T = TransitionSpec


def _changing(d: dict[str, Any]) -> Msg | str:
    """The note of a vote that replaces the member's earlier one."""
    return Msg(" (changing an earlier vote)") if d.get("replaces_total") is not None else ""


COMMITTEE_VOTE = stage_kind(
    StageKind(
        id="committee_vote",
        description="every committee member votes for or against each accepted application",
        # reopened here, a project's votes are superseded and the committee votes on it again
        reopen_state="in_library",
        transitions=(T("vote", ("in_library",), None),),
        sheet_trigger="vote",
        sheets_per="scorer",
        story={
            "vote": lambda e, d, n: (
                Msg("{actor} voted for{changing}", actor=e.actor, changing=_changing(d))
                if d.get("total")
                else Msg("{actor} voted against{changing}", actor=e.actor, changing=_changing(d))
            )
        },
    )
)

_NOTICED = ("listed_selected", "not_listed", "granted")

PUBLIC_NOTICE = stage_kind(
    StageKind(
        id="public_notice",
        description=(
            "the approved list is put on public notice; objections are filed and decided during the notice; "
            "after it the selected projects are announced"
        ),
        states=_NOTICED,
        cycle_actions=("publish",),
        appealable=_NOTICED,
        story={
            "place": lambda e, d, n: Msg(
                "put on public notice as '{category}' (list version {version})",
                category=n.category(d.get("category")),
                version=d.get("list_version"),
            ),
            "award": lambda e, d, n: Msg("announced by official document"),
        },
        transitions=(
            T("place", ("in_library", *_NOTICED), "listed_selected", {"category": "selected"}),
            T("place", ("in_library", *_NOTICED), "not_listed", {"category": "none"}),
            T("award", ("listed_selected",), "granted"),
        ),
    )
)
