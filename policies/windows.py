"""The stage window: nothing a stage allows can be done outside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from policies.base import Rejection


@dataclass(frozen=True)
class Window:
    """A stage window as two instants: open at ``opens``, closed from ``closes`` on (or never)."""

    opens: datetime | None
    closes: datetime | None
    zone: str

    def describe(self) -> str:
        tz = ZoneInfo(self.zone)
        start = self.opens.astimezone(tz).strftime("%Y-%m-%d %H:%M") if self.opens else "entry"
        if self.closes is None:
            return f"from {start} ({self.zone}), no closing date"
        end = self.closes.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        return f"{start} to {end} {self.zone}"


def stage_window(action: str, stage: str, current_stage: str, window: Window | None, now: datetime) -> list[Rejection]:
    """Refuse an action of ``stage`` unless the cycle is in that stage and ``now`` is inside its window."""
    if current_stage != stage:
        return [
            Rejection(
                "stage_window",
                f"{action} belongs to stage '{stage}', but the cycle is in stage '{current_stage}'",
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
                f"{action} is allowed {window.describe()}; it is now {local_now} (not yet open)",
            )
        ]
    if window.closes is not None and now >= window.closes:
        return [
            Rejection(
                "stage_window",
                f"{action} is allowed {window.describe()}; it is now {local_now} (closed)",
            )
        ]
    return []
