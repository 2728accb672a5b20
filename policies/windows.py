"""The stage window: nothing a stage allows can be done outside it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from i18n import Msg, Text
from policies.base import Rejection, name_rule
from policies.closing import zone

name_rule("stage_window", "阶段时间")


@dataclass(frozen=True)
class Window:
    """A stage window as two instants: open at ``opens``, closed from ``closes`` on (or never)."""

    opens: datetime | None
    closes: datetime | None
    zone: str

    def describe(self) -> str:
        """The window in English, as scripts read it (``cycle status --json``)."""
        return self.described().render("en")

    def described(self) -> Msg:
        """The window as a reader of either language reads it."""
        tz = ZoneInfo(self.zone)
        start = self.opens.astimezone(tz).strftime("%Y-%m-%d %H:%M") if self.opens else Msg("entry")
        if self.closes is None:
            return Msg("from {start} ({zone}), no closing date", start=start, zone=zone(self.zone))
        end = self.closes.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        return Msg("{start} to {end} {zone}", start=start, end=end, zone=zone(self.zone))


def stage_window(
    action: str,
    stage: str,
    current_stage: str,
    window: Window | None,
    now: datetime,
    *,
    action_name: str | Text | None = None,
    stage_names: Mapping[str, str] | None = None,
) -> list[Rejection]:
    """Refuse an action of ``stage`` unless the cycle is in that stage and ``now`` is inside its
    window. ``action_name`` (the action's label) and ``stage_names`` (each stage's Chinese name)
    are what a reader of Chinese reads in place of the ids; English keeps the ids."""
    named: str | Text = action if action_name is None else action_name

    def stage_text(stage_id: str) -> Text:
        return Text(stage_id, (stage_names or {}).get(stage_id, stage_id))

    if current_stage != stage:
        return [
            Rejection(
                "stage_window",
                Msg(
                    "{action} belongs to stage '{stage}', but the cycle is in stage '{current}'",
                    action=named,
                    stage=stage_text(stage),
                    current=stage_text(current_stage),
                ),
            )
        ]
    if window is None:
        return []
    tz = ZoneInfo(window.zone)
    local_now = now.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    if window.opens is not None and now < window.opens:
        return [
            Rejection(
                "stage_window",
                Msg(
                    "{action} is allowed {window}; it is now {now} (not yet open)",
                    action=named,
                    window=window.described(),
                    now=local_now,
                ),
            )
        ]
    if window.closes is not None and now >= window.closes:
        return [
            Rejection(
                "stage_window",
                Msg(
                    "{action} is allowed {window}; it is now {now} (closed)",
                    action=named,
                    window=window.described(),
                    now=local_now,
                ),
            )
        ]
    return []
