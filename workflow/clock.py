"""The engine's clock is an input: production passes ``utc_now``; rehearsals a fixed instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def fixed(instant: datetime) -> Clock:
    """A clock that always answers ``instant`` (aware)."""
    if instant.tzinfo is None:
        raise ValueError("a fixed clock needs a timezone-aware instant")
    return lambda: instant


def parse_instant(text: str, default_zone: str = "Asia/Shanghai") -> datetime:
    """Parse '2027-03-01', '2027-03-01T09:30' or with an offset; naive values are in ``default_zone``."""
    value = datetime.fromisoformat(text.strip().replace(" ", "T", 1) if "T" not in text else text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(default_zone))
    return value.astimezone(UTC)
