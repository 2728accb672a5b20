"""Audit entries told as an administrator reads them: one short sentence per entry, from the
facts the entry itself recorded (so an old entry reads the same whatever the program file says
today). A sentence is a message of the catalog: in English it names states, stages, actions and
parties by their ids, as it always has; in Chinese by the names the program file declares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from i18n import Joined, Msg, Text
from policies.base import RULE_NAMES
from workflow.common import list_status_of
from workflow.program import Program
from workflow.ranking import change_message
from workflow.records import AuditEntry

# the state a project is in before it is submitted
_NEW = "new"


class Names:
    """How the history names what a program declares, in both languages: the id in English (as
    the history has always read, ``None`` included), the program file's name in Chinese (the id
    where there is no program, or it names none)."""

    def __init__(self, program: Program | None) -> None:
        self.program = program

    def state(self, state: Any) -> Text:
        st = str(state)
        return Text(st, self.program.state_name(st) if self.program is not None and st else st)

    def action(self, trigger: str) -> Text:
        action = self.program.actions.get(trigger) if self.program is not None else None
        if action is not None:
            return Text(trigger, action.zh)
        told = _ENGINE_ACTIONS.get(trigger)
        return Text(trigger, told.render("zh_CN")) if told is not None else Text(trigger, trigger)

    def stage(self, stage_id: Any) -> Text:
        sid = str(stage_id)
        stages = {s.id: s.name for s in self.program.stages} if self.program is not None else {}
        return Text(sid, stages.get(sid) or sid)

    def party(self, party_id: Any) -> Text:
        pid = str(party_id)
        parties = {p.id: p.name for p in self.program.parties} if self.program is not None else {}
        return Text(pid, parties.get(pid) or pid)

    def category(self, category: Any) -> Text:
        cat = str(category)
        if cat == "none":  # (the list's word for a project it ranks but does not place)
            return Text(cat, "未入选")
        return Text(cat, self.program.category_name(cat) if self.program is not None and cat else cat)

    def scores(self, scores: Any) -> Text:
        """A sheet's scores: as the history has always printed them in English (the criteria's ids
        and values), by the criteria's names in Chinese (价值意义 18、组织实施 16 …)."""
        given = dict(scores or {})
        criteria = {c.id: c.short or c.name for c in self.program.criteria} if self.program is not None else {}
        order = list(criteria) + [k for k in given if k not in criteria]  # (the sheet's order)
        zh = "、".join(f"{criteria.get(k, k)} {given[k]}" for k in order if k in given)
        return Text(str(given), f"（{zh}）" if zh else "")

    def method(self, method: Any) -> Text:
        """How a list ranks (its id in English; in Chinese as the score it ranks by)."""
        m = str(method)
        return Text(m, _METHODS.get(m, m))

    def result(self, result: Any) -> Text:
        """A review result (or a review method) by its Chinese name, as the program's result action declares it."""
        value = str(result)  # (an entry without a method has always read "None")
        if self.program is None:
            return Text(value, value)
        zh = self.program.results.get(value) or self.program.review_methods.get(value) or value
        return Text(value, zh)

    def rule(self, rule: Any) -> Text:
        r = str(rule)
        return Text(r, RULE_NAMES.get(r, r))


# what a list is ranked by, as its score is named in Chinese
_METHODS = {"mean": "按平均分", "trimmed_mean": "按去掉最高分和最低分后的平均分", "sum": "按得票合计"}

# the engine's own actions (those no program file declares), by their Chinese names
_ENGINE_ACTIONS: dict[str, Msg] = {
    "appeal": Msg("appeal"),
    "appeal_upheld": Msg("appeal upheld"),
    "appeal_dismissed": Msg("appeal dismissed"),
    "reopen": Msg("reopened"),
    "override": Msg("override"),
    "revoke_override": Msg("override revoked"),
    "advance": Msg("stage closed"),
    "correction": Msg("opened for correction"),
    "propose": Msg("list proposed"),
    "confirm": Msg("list confirmed"),
    "object": Msg("objection to the list"),
    "publish": Msg("list published"),
    "correct": Msg("list corrected"),
    "place": Msg("placed on the list"),
    "open": Msg("cycle opened"),
    "attach": Msg("document attached"),
    "remove_attachment": Msg("document removed"),
}


def _superseded(data: Mapping[str, Any], n: Names) -> Msg:
    parts: list[Msg] = []
    gone = data.get("superseded") or {}
    # (entries written before schema 0007 recorded the result under its former name; their
    # hash covers the text, so they keep it)
    result = gone.get("review_result") or gone.get("municipal_result")
    if result:
        method = n.result(gone.get("review_method"))
        parts.append(Msg("review result {result} ({method})", result=n.result(result), method=method))
    if gone.get("sheets"):
        totals = Joined(
            [Msg("{city} {total}", city=n.party(s["city"]), total=s["total"]) for s in gone["sheets"]], ", "
        )
        parts.append(Msg("{count} score sheets ({totals})", count=len(gone["sheets"]), totals=totals))
    lst = data.get("list")
    if lst:
        place = lst.get("place")
        where = (
            Msg(
                "rank {rank}, {category}, {score}",
                rank=place["rank"],
                category=n.category(place["category"]),
                score=place["score"],
            )
            if place
            else Msg("not on it")
        )
        parts.append(
            Msg(
                "list version {version} ({status}; {where})",
                version=lst["version"],
                status=list_status_of(lst["status"]),
                where=where,
            )
        )
    return Msg("superseded: {parts}", parts=Joined(parts, "; ")) if parts else Msg("nothing superseded")


def _scope(o: Mapping[str, Any], n: Names) -> Msg | Text:
    if o.get("project") is not None:
        return Msg("project {id}", id=o["project"])
    return n.party(o["city"]) if o.get("city") else Msg("every party")


def _appeal(d: Mapping[str, Any], n: Names) -> Msg:
    version = Msg(", list version {version}", version=d["list_version"]) if d.get("list_version") else ""
    return Msg(
        "appeal {appeal} filed against '{against}' (a result of {stage}{version})",
        appeal=d.get("appeal"),
        against=n.state(d.get("against")),
        stage=n.stage(d.get("against_stage")),
        version=version,
    )


def _propose(d: Mapping[str, Any], n: Names) -> Msg:
    changes = Msg("; {count} changes from the previous version", count=len(d["changes"])) if d.get("changes") else ""
    return Msg(
        "{entries} entries ({method}){changes}{correction}",
        entries=d.get("entries"),
        method=n.method(d.get("method")),
        changes=changes,
        correction=Msg("; a correction") if d.get("correction") else "",
    )


def _file(d: Mapping[str, Any], n: Names) -> Msg:
    """An attached (or removed) file: its document, name, size and content's hash."""
    form = n.program.form if n.program is not None else None
    doc = form.document(d["document"]) if form is not None else None
    size = Msg(", {size} bytes", size=d["size"]) if d.get("size") is not None else ""
    return Msg(
        "{document}: {name}{size}, sha256 {sha256}",
        document=doc.words() if doc is not None else d["document"],
        name=d["file_name"],
        size=size,
        sha256=d["sha256"],
    )


# how the engine's own actions are told: (the entry, its data, the names of the program) -> message
Teller = Callable[[AuditEntry, Mapping[str, Any], Names], Any]

_TELL: dict[str, Teller] = {
    "submit": lambda e, d, n: Msg(
        "submitted 《{name}》 by {enterprise} ({city})",
        name=d.get("project_name", ""),
        enterprise=d.get("enterprise", ""),
        city=n.party(d.get("city", "")),
    ),
    "appeal": lambda e, d, n: _appeal(d, n),
    "appeal_upheld": lambda e, d, n: Msg(
        "appeal {appeal} upheld; reopened to {stage}", appeal=d.get("appeal"), stage=n.stage(d.get("reopen_to"))
    ),
    "appeal_dismissed": lambda e, d, n: Msg("appeal {appeal} dismissed; nothing changes", appeal=d.get("appeal")),
    "reopen": lambda e, d, n: Msg(
        "reopened to stage {stage} by appeal {appeal}; {superseded}",
        stage=n.stage(d.get("to")),
        appeal=d.get("appeal"),
        superseded=_superseded(d, n),
    ),
    "override": lambda e, d, n: Msg(
        "override {id}: rule {rule} lifted for {scope}",
        id=d["override"]["id"],
        rule=n.rule(d["override"]["rule"]),
        scope=_scope(d["override"], n),
    ),
    "revoke_override": lambda e, d, n: Msg(
        "override {id} ({rule}) revoked", id=d["override"]["id"], rule=n.rule(d["override"]["rule"])
    ),
    "advance": lambda e, d, n: Msg(
        "stage {stage} closed{early}",
        stage=n.stage(e.from_state),
        early=Msg(" before its window ended") if d.get("early") else "",
    ),
    "correction": lambda e, d, n: Msg(
        "list version {version} opened for correction by appeals {appeals}",
        version=d.get("list_version"),
        appeals=Joined([str(a) for a in d.get("appeals", [])], ", "),
    ),
    "propose": lambda e, d, n: _propose(d, n),
    "attach": lambda e, d, n: _file(d, n),
    "remove_attachment": lambda e, d, n: _file(d, n),
    "publish": lambda e, d, n: (
        Msg(
            "corrected publication of version {version}: {count} changes",
            version=d["corrects"],
            count=len(d.get("changes", [])),
        )
        if d.get("corrects")
        else Msg("published as the official list")
    ),
}


def story(entry: AuditEntry, program: Program | None = None) -> Msg | None:
    """The message that tells ``entry`` (None when the action speaks for itself): the program's
    stage kinds tell their own triggers; an entry kept in a project's record lists what it
    recorded; a rule lifted for it is noted after."""
    data = entry.data or {}
    teller: Teller | None = (program.story.get(entry.action) if program is not None else None) or _TELL.get(
        entry.action
    )
    if teller is None and data.get("record"):
        shown = {k: v for k, v in data.items() if k not in ("record", "overridden")}
        teller = lambda e, d, n: Joined([f"{k}={v}" for k, v in shown.items()], ", ")  # noqa: E731
    told: Any = ""
    try:
        told = teller(entry, data, Names(program)) if teller else ""
    except (KeyError, TypeError):
        told = ""
    notes = data.get("overridden", ())
    if not told and not notes:
        return None
    out = told if isinstance(told, Msg) else Msg("{told}", told=told)
    for note in notes:
        out = Msg("{told} [{note}]", told=out, note=note)
    return out


def tell(entry: AuditEntry, program: Program | None = None, lang: str | None = None) -> str:
    """One sentence about ``entry`` in ``lang`` (the current language by default; empty when the
    action speaks for itself)."""
    said = story(entry, program)
    return said.render(lang).strip() if said is not None else ""


def move(entry: AuditEntry, program: Program | None = None) -> Text:
    """The change of state an entry records, as the history prints it: the ids in English
    (``new → submitted``), the states by their declared names in Chinese (``→ 已申报``: a project
    is new before its submission, which needs no name)."""
    if not (entry.from_state or entry.to_state):
        return Text("", "")
    n = Names(program)
    before, after = entry.from_state or "", entry.to_state or ""
    en = f"{before} → {after}"
    if entry.subject != "project":  # (a stage's, a list's or a user's own words: not a project's states)
        return Text(en, en)
    start = "" if before in ("", _NEW) else n.state(before).render("zh_CN") + " "
    return Text(en, f"{start}→ {n.state(after).render('zh_CN') if after else ''}".strip())


def action(entry: AuditEntry, program: Program | None = None) -> Text:
    """The action an entry records: its id in English, its declared label in Chinese."""
    return Names(program).action(entry.action)


def tell_changes(changes: list[Mapping[str, Any]]) -> list[str]:
    """The lines of a list diff, in the current language."""
    return [change_message(c).render() for c in changes]
