"""Audit entries told as an administrator reads them: one short sentence per entry, from the
facts the entry itself recorded (so an old entry reads the same whatever the program file says
today)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workflow.ranking import describe_change
from workflow.records import AuditEntry


def _superseded(data: Mapping[str, Any]) -> str:
    parts = []
    gone = data.get("superseded") or {}
    if gone.get("municipal_result"):
        parts.append(f"municipal result {gone['municipal_result']} ({gone.get('review_method')})")
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
    "accept": lambda e, d: (
        "accepted into the city project library" + (f"; opinion: {d['opinion']}" if d.get("opinion") else "")
    ),
    "reject": lambda e, d: "rejected from the city project library",
    "review": lambda e, d: f"review result: {d.get('result')} (method {d.get('method')})",
    "recommend": lambda e, d: "recommended into the key-project library",
    "withdraw": lambda e, d: "recommendation withdrawn",
    "score": lambda e, d: (
        f"{d.get('city')} scored {d.get('total')} {d.get('scores', {})}"
        + (f", replacing its sheet of {d['replaces_total']}" if d.get("replaces_total") is not None else "")
    ),
    "vote": lambda e, d: (
        f"{e.actor} voted {'for' if d.get('total') else 'against'}"
        + (" (changing an earlier vote)" if d.get("replaces_total") is not None else "")
    ),
    "place": lambda e, d: f"placed '{d.get('category')}' by list version {d.get('list_version')}",
    "award": lambda e, d: "named and awarded the plaque",
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


def tell(entry: AuditEntry) -> str:
    """One sentence about ``entry`` (empty when the action speaks for itself)."""
    data = entry.data or {}
    teller = _TELL.get(entry.action)
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
