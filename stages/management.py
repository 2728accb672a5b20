"""Stage kinds of programs whose awards last: a body's decision on each application, and a
long-lived award (a plaque, a filing) its holder keeps for years under management: ordered to
rectify by a deadline, restored, or removed; progress entries; an annual assessment with a grade.
Reusable by any program that awards a standing title rather than a one-off place on a list."""

from __future__ import annotations

from stages.base import StageKind, TransitionSpec, stage_kind

T = TransitionSpec

DECISION = stage_kind(
    StageKind(
        id="decision",
        description="a deciding body (a director's meeting, a party group) approves or declines each application",
        states=("approved", "declined"),
        reopen_state="in_library",
        must_decide=True,
        appealable=("declined",),
        transitions=(
            T("decide", ("in_library", "approved", "declined"), "approved", {"result": "approve"}),
            T("decide", ("in_library", "approved", "declined"), "declined", {"result": "decline"}),
        ),
        records={"decide": "decisions"},
    )
)

_HELD = ("awarded", "rectifying")
_MANAGED = (
    T("award", ("approved",), "awarded"),
    # an order to rectify names what and by when (its deadline); the holder keeps the award meanwhile
    T("order_rectification", ("awarded", "unqualified"), "rectifying"),
    T("restore", ("rectifying",), "awarded"),
    T("remove", ("awarded", "rectifying", "unqualified"), "removed"),
)
_RECORDS = {
    "award": "awards",
    "order_rectification": "rectifications",
    "restore": "restorations",
    "remove": "removals",
}

LONG_TERM_AWARD = stage_kind(
    StageKind(
        id="long_term_award",
        description=(
            "approved units receive the award and hold it for years; progress on their targets is entered; "
            "a declining unit is ordered to rectify by a deadline, then restored or its award removed"
        ),
        states=(*_HELD, "removed"),
        transitions=(*_MANAGED, T("progress", _HELD, None)),
        records={**_RECORDS, "progress": "progress"},
        deadline_triggers=("order_rectification",),
    )
)

ASSESSED_AWARD = stage_kind(
    StageKind(
        id="assessed_award",
        description=(
            "approved units are filed and assessed every year: a self-assessment report, an expert site visit, "
            "a grade (excellent, qualified, unqualified); an unqualified one is interviewed and ordered to rectify "
            "by a deadline, then restored or revoked"
        ),
        states=(*_HELD, "unqualified", "removed"),
        transitions=(
            *_MANAGED,
            T("self_assess", _HELD, None),
            T("visit", _HELD, None),
            T("assess", ("awarded",), None, {"grade": "excellent"}),
            T("assess", ("awarded",), None, {"grade": "qualified"}),
            T("assess", ("awarded",), "unqualified", {"grade": "unqualified"}),
        ),
        records={**_RECORDS, "self_assess": "self_assessments", "visit": "visits", "assess": "grades"},
        deadline_triggers=("order_rectification",),
    )
)

ROLLING_AWARD = stage_kind(
    StageKind(
        id="rolling_award",
        description=(
            "applications are received all year and evaluated in periodic rounds; a deciding body approves; "
            "approved units receive the award and hold it under long-term management (progress on their "
            "targets, rectification by a deadline, restoration or removal); every step is open at once"
        ),
        states=("submitted", "evaluated", "not_passed", "approved", "declined", *_HELD, "removed"),
        creates=("submit",),
        reopen_state="submitted",
        must_decide=True,
        appealable=("not_passed", "declined"),
        transitions=(
            T("evaluate", ("submitted",), "evaluated", {"result": "pass"}),
            T("evaluate", ("submitted",), "not_passed", {"result": "fail"}),
            T("decide", ("evaluated",), "approved", {"result": "approve"}),
            T("decide", ("evaluated",), "declined", {"result": "decline"}),
            *_MANAGED,
            T("progress", _HELD, None),
        ),
        records={**_RECORDS, "evaluate": "evaluations", "decide": "decisions", "progress": "progress"},
        deadline_triggers=("order_rectification",),
    )
)
