"""Audit entries told as an administrator reads them: one short sentence per entry, from the
facts the entry itself recorded (so an old entry reads the same whatever the program file says
today)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workflow.program import Program
from workflow.ranking import describe_change
from workflow.records import AuditEntry


def _superseded(data: Mapping[str, Any]) -> str:
    parts = []
    gone = data.get("superseded") or {}
    # (entries written before schema 0007 recorded the result under its former name; their
    # hash covers the text, so they keep it)
    result = gone.get("review_result") or gone.get("municipal_result")
    if result:
        parts.append(f"review result {result} ({gone.get('review_method')})")
    if gone.get("sheets"):
        totals = ", ".join(f"{s['city']} {s['total']}" for s in gone["sheets"])
        parts.append(f"{len(gone['sheets'])} score sheets ({totals})")
    lst = data.get("list")
    if lst:
        place = lst.get("place")
        where = f"rank {place['rank']}, {place['category']}, {place['score']}" if place else "not on it"
        parts.append(f"list version {lst['version']} ({lst['status']}; {where})")
    return "superseded: " + "; ".join(parts) if parts else "nothing superseded"


def _scope(o: Mapping[str, Any]) -> str:
    if o.get("project") is not None:
        return f"project {o['project']}"
    return o.get("city") or "every party"


_TELL: dict[str, Callable[[AuditEntry, Mapping[str, Any]], str]] = {
    "submit": lambda e, d: (
        f"submitted 《{d.get('project_name', '')}》 by {d.get('enterprise', '')} ({d.get('city', '')})"
    ),
    "appeal": lambda e, d: (
        f"appeal {d.get('appeal')} filed against '{d.get('against')}' (a result of "
        f"{d.get('against_stage')}" + (f", list version {d['list_version']}" if d.get("list_version") else "") + ")"
    ),
    "appeal_upheld": lambda e, d: f"appeal {d.get('appeal')} upheld; reopened to {d.get('reopen_to')}",
    "appeal_dismissed": lambda e, d: f"appeal {d.get('appeal')} dismissed; nothing changes",
    "reopen": lambda e, d: f"reopened to stage {d.get('to')} by appeal {d.get('appeal')}; {_superseded(d)}",
    "override": lambda e, d: (
        f"override {d['override']['id']}: rule {d['override']['rule']} lifted for {_scope(d['override'])}"
    ),
    "revoke_override": lambda e, d: f"override {d['override']['id']} ({d['override']['rule']}) revoked",
    "advance": lambda e, d: f"stage {e.from_state} closed" + (" before its window ended" if d.get("early") else ""),
    "correction": lambda e, d: (
        f"list version {d.get('list_version')} opened for correction by appeals "
        + ", ".join(str(a) for a in d.get("appeals", []))
    ),
    "propose": lambda e, d: (
        f"{d.get('entries')} entries ({d.get('method')})"
        + (f"; {len(d['changes'])} changes from the previous version" if d.get("changes") else "")
        + ("; a correction" if d.get("correction") else "")
    ),
    "publish": lambda e, d: (
        f"corrected publication of version {d['corrects']}: {len(d.get('changes', []))} changes"
        if d.get("corrects")
        else "published as the official list"
    ),
}


def tell(entry: AuditEntry, program: Program | None = None) -> str:
    """One sentence about ``entry`` (empty when the action speaks for itself): the program's stage
    kinds tell their own triggers; an entry kept in a project's record lists what it recorded."""
    data = entry.data or {}
    teller = (program.story.get(entry.action) if program is not None else None) or _TELL.get(entry.action)
    if teller is None and data.get("record"):
        shown = {k: v for k, v in data.items() if k not in ("record", "overridden")}
        teller = lambda e, d: ", ".join(f"{k}={v}" for k, v in shown.items())  # noqa: E731
    try:
        text = teller(entry, data) if teller else ""
    except (KeyError, TypeError):
        text = ""
    for note in data.get("overridden", ()):
        text += f" [{note}]"
    return text.strip()


def tell_changes(changes: list[Mapping[str, Any]]) -> list[str]:
    """The lines of a list diff."""
    return [describe_change(c) for c in changes]
