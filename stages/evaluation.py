"""Stage kinds of a multi-stage evaluation: intake, municipal review, recommendation, joint
scoring, list confirmation, publication. Reusable by any program with these steps."""

from __future__ import annotations

from i18n import Msg
from stages.base import StageKind, TransitionSpec, stage_kind

T = TransitionSpec

INTAKE = stage_kind(
    StageKind(
        id="intake",
        description="applicants submit; each city accepts eligible applications into its library or rejects them",
        states=("submitted", "in_library", "rejected"),
        creates=("submit",),
        reopen_state="submitted",
        must_decide=True,
        appealable=("rejected",),
        story={
            "accept": lambda e, d, n: Msg(
                "accepted into the city project library{opinion}",
                opinion=Msg("; opinion: {opinion}", opinion=d["opinion"]) if d.get("opinion") else "",
            ),
            "reject": lambda e, d, n: Msg("rejected from the city project library"),
        },
        transitions=(
            T("accept", ("submitted",), "in_library"),
            T("reject", ("submitted",), "rejected"),
        ),
    )
)

_REVIEWABLE = ("in_library", "municipal_demonstration", "municipal_excellent", "municipal_none")

MUNICIPAL_REVIEW = stage_kind(
    StageKind(
        id="municipal_review",
        description="each city names municipal demonstration and excellent projects from its library",
        states=("municipal_demonstration", "municipal_excellent", "municipal_none"),
        reopen_state="in_library",
        must_decide=True,
        appealable=("municipal_demonstration", "municipal_excellent", "municipal_none"),
        result_trigger="review",
        story={
            "review": lambda e, d, n: Msg(
                "municipal result: {result} (method {method})",
                result=n.result(d.get("result")),
                method=n.result(d.get("method")),
            )
        },
        transitions=(
            T("review", _REVIEWABLE, "municipal_demonstration", {"result": "demonstration"}),
            T("review", _REVIEWABLE, "municipal_excellent", {"result": "excellent"}),
            T("review", _REVIEWABLE, "municipal_none", {"result": "none"}),
        ),
    )
)

RECOMMENDATION = stage_kind(
    StageKind(
        id="recommendation",
        description="each city recommends its municipal demonstration projects into the key-project library",
        states=("recommended",),
        reopen_state="municipal_demonstration",
        story={
            "recommend": lambda e, d, n: Msg("recommended into the key-project library"),
            "withdraw": lambda e, d, n: Msg("recommendation withdrawn"),
        },
        transitions=(
            T("recommend", ("municipal_demonstration",), "recommended"),
            T("withdraw", ("recommended",), "municipal_demonstration"),
        ),
    )
)

JOINT_SCORING = stage_kind(
    StageKind(
        id="joint_scoring",
        description="every party scores every project of the key library on the score sheet",
        # reopened here, a project's sheets are superseded and every party scores it again
        reopen_state="recommended",
        transitions=(T("score", ("recommended",), None),),
        sheet_trigger="score",
        story={
            "score": lambda e, d, n: Msg(
                "{city} scored {total} {scores}{replacing}",
                city=n.party(d.get("city")),
                total=str(d.get("total")),
                scores=n.scores(d.get("scores", {})),
                replacing=(
                    Msg(", replacing its sheet of {total}", total=str(d["replaces_total"]))
                    if d.get("replaces_total") is not None
                    else ""
                ),
            )
        },
    )
)

LIST_CONFIRMATION = stage_kind(
    StageKind(
        id="list_confirmation",
        description="the lead proposes a ranked list; every party confirms it or objects",
        cycle_actions=("propose", "confirm", "object"),
        # reopened here, a project keeps its sheets and is ranked again on a new list version
        reopen_state="recommended",
        decides_list=True,
        confirms_list_on_close=True,
    )
)

_PLACED = ("listed_demonstration", "listed_excellent", "not_listed", "awarded")

PUBLICATION = stage_kind(
    StageKind(
        id="publication",
        description="the confirmed list is published; listed projects are named and awarded plaques",
        states=_PLACED,
        cycle_actions=("publish",),
        appealable=_PLACED,
        award_state="awarded",
        story={
            "place": lambda e, d, n: Msg(
                "placed '{category}' by list version {version}",
                category=n.category(d.get("category")),
                version=d.get("list_version"),
            ),
            "award": lambda e, d, n: Msg("named and awarded the plaque"),
        },
        transitions=(
            # a corrected publication places an already placed project again when its category changed
            T("place", ("recommended", *_PLACED), "listed_demonstration", {"category": "demonstration"}),
            T("place", ("recommended", *_PLACED), "listed_excellent", {"category": "excellent"}),
            T("place", ("recommended", *_PLACED), "not_listed", {"category": "none"}),
            T("award", ("listed_demonstration", "listed_excellent"), "awarded"),
        ),
    )
)
