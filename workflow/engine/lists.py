"""The list's actions: propose a version from the sheets, a party's confirmation or objection,
publication (which places every shortlisted project through the door). A list version's
status changes only along LIST_CHANGES (workflow/records.py), through Door._list_to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from i18n import Joined, Msg, Text
from policies.base import CycleCounts, Rejection, name_rule
from policies.permissions import permission_problem
from workflow.common import ActionContext, actor_of, batch_work, list_status_of, party_of, role_of, verb_of
from workflow.engine.door import MOVE_CHUNK, Move
from workflow.engine.explain import RankReads
from workflow.engine.guards import lifted
from workflow.errors import InvalidInput, NotPermitted
from workflow.log import get_logger
from workflow.program import PLACE, Program
from workflow.program.reads import READ_OBJECTION_REASONS, READ_UNPUBLISHED_LIST
from workflow.publication import list_digest, list_document, public_list, sign_list
from workflow.ranking import list_changes, show
from workflow.records import LIST_CHANGES, Confirmation, ListEntry, ListStatus, ListVersion, Project, User

log = get_logger("evalflow.engine")

name_rule("list_open", "名单未结束")
name_rule("list_exists", "已有名单")
name_rule("list_status", "名单状态")
name_rule("confirm_once", "每方确认一次")
_OR = Msg(" or ")  # (the separator of the statuses a list needs, in the catalog)

# the list's own actions, in the order they come, and the statuses of the current version each
# needs (the actions and the read of what is open both ask these)
LIST_ACTIONS = ("propose", "confirm", "object", "publish")
NEEDS: Mapping[str, tuple[ListStatus, ...]] = {
    "confirm": (ListStatus.PROPOSED,),
    "object": (ListStatus.PROPOSED,),
    "publish": (ListStatus.CONFIRMED,),
}


@dataclass(frozen=True)
class OpenListActions:
    """Where a cycle's list stands and which of its actions a user may take now: permitted,
    in the action's stage and window (or the correction an upheld appeal opened), the current
    version in the status the action needs. ``refused``: why each permitted action is not open
    now. The action itself still judges every rule of the program when it is taken."""

    version: int | None  # the current version's number (None: no list yet)
    status: str | None  # its status (a ListStatus)
    confirmed: tuple[str, ...]  # the parties that have confirmed it
    objected: tuple[str, ...]  # the parties that objected to it
    parties: tuple[str, ...]  # every party that confirms
    correction: bool  # an upheld appeal has reopened the list
    open: tuple[str, ...] = ()
    refused: Mapping[str, list[Rejection]] = field(default_factory=dict)


def _propose_closed(previous: ListVersion | None, correction: str | None) -> Rejection | None:
    """A new version is refused once the list is confirmed or published, unless a correction is open."""
    if previous is None or correction is not None:
        return None
    if previous.status not in (ListStatus.CONFIRMED, ListStatus.PUBLISHED):
        return None
    already = Msg(
        "list version {number} is already {status}", number=previous.number, status=list_status_of(previous.status)
    )
    return Rejection("list_open", already)


def _status_refused(lst: ListVersion | None, statuses: Sequence[ListStatus]) -> Rejection | None:
    """Why the current version ``lst`` cannot take an action needing ``statuses``."""
    if lst is None:
        return Rejection("list_exists", Msg("no list has been proposed yet"))
    if statuses and lst.status not in statuses:
        needs = Msg(
            "list version {number} is {status}; this needs {needed}",
            number=lst.number,
            status=list_status_of(lst.status),
            needed=Joined([list_status_of(s) for s in statuses], " or "),
        )
        return Rejection("list_status", needs)
    return None


def _confirmed_again(program: Program, lst: ListVersion, done: set[str], city: str | None) -> Rejection | None:
    """A party confirms a version once."""
    if city not in done:
        return None
    again = Msg(
        "{city} has already confirmed list version {number}", city=party_of(program, city or ""), number=lst.number
    )
    return Rejection("confirm_once", again)


# the versions that were published (a corrected one was, until its correction): every user reads them
PUBLISHED = (ListStatus.PUBLISHED.value, ListStatus.CORRECTED.value)


def reads_unpublished(program: Program, user: User) -> bool:
    """Whether ``user`` reads a list version before its publication (the program's
    ``read_unpublished_list``)."""
    return program.read_rule(READ_UNPUBLISHED_LIST).allows(actor_of(user))


def readable_versions(program: Program, user: User, versions: Sequence[ListVersion]) -> list[ListVersion]:
    """The list versions ``user`` may read of ``versions``: every one, or the published ones."""
    if reads_unpublished(program, user):
        return list(versions)
    return [v for v in versions if v.status in PUBLISHED]


def scoped_confirmations(program: Program, user: User, confirmations: Sequence[Confirmation]) -> list[Confirmation]:
    """A version's confirmations as ``user`` may read them: an objection whose reasons the
    program's ``read_objection_reasons`` keeps from the user keeps its city and who objected,
    not why (its reason left empty: an objection always gives one)."""
    rule = program.read_rule(READ_OBJECTION_REASONS)
    actor = actor_of(user)
    return [c if c.decision != "object" or rule.allows(actor, c.city) else replace(c, reason="") for c in confirmations]


def unpublished_refused(program: Program, user: User, cycle_id: str) -> NotPermitted:
    """The refusal of a read of a list version before its publication, naming the program's rule."""
    rule = program.read_rule(READ_UNPUBLISHED_LIST)
    why = Msg(
        "{name} is {role}; a list version before its publication is read by {roles} ([permissions] {rule})",
        name=user.name,
        role=role_of(user.role),
        roles=Joined([role_of(r) for r in rule.roles], " or "),
        rule=Text(READ_UNPUBLISHED_LIST, "名单查阅范围"),  # (a reader of Chinese reads its name)
    )
    return NotPermitted(Msg("read"), Msg("the list of cycle {cycle}", cycle=cycle_id), why)


def placed_category(program: Program, project: Project, awarded_from: Mapping[int, str]) -> str | None:
    """The list category a placed project holds: read from the state ``place`` put it in (for an
    awarded project, the state it was awarded from: ``tx.entered_from(cycle, program.award_state)``)."""
    awarded = project.state == program.award_state
    state = awarded_from.get(project.id, project.state) if awarded else project.state  # type: ignore[arg-type]
    for spec in program.transition_specs:
        if spec.trigger == PLACE and spec.dest == state:
            return spec.when.get("category")
    return None


class ListActions(RankReads):
    """Proposing, confirming (or objecting to) and publishing the list."""

    def _list_reopened(self, act: ActionContext) -> str | None:
        """The list stage, while a correction opened by an upheld appeal lets the list actions run
        although the cycle has moved past that stage."""
        correction = act.cycle.config.correction
        return correction.stage if correction else None

    @batch_work
    def propose_list(
        self, acting: str | None, cycle_id: str | None = None, tie_order: Sequence[int] = ()
    ) -> ListVersion:
        """Aggregate the sheets into a new proposed list version (the previous one is superseded)."""
        with self._acting(acting, cycle_id) as act:
            cycle, tx = act.cycle, act.tx
            subject = Msg("the list of cycle {cycle}", cycle=cycle.id)
            self._permit(act, "propose", None, subject)
            projects, ranked, ties, method = self._ranking(act, tie_order)
            previous = tx.latest_list(cycle.id, entries=False)  # its entries are read once the list is made
            names = act.program.guards.get("propose", ())
            counts = self._counts(act, policies=names)
            request = {**self._request(act, previous, names), "unsettled_ties": ties}
            ctx = self._context(act, counts, request=request, now=act.now)
            correction = self._list_reopened(act)
            verdict = self._guards(act, "propose", ctx, correction)
            rejections = verdict.refused
            closed = _propose_closed(previous, correction)
            if closed is not None:
                rejections.append(closed)
            if rejections:
                # a caller retrying while it handles the refusal holds this frame: not the ranking too
                del projects, ranked
                raise self._refuse(verb_of(act.program, "propose"), subject, rejections)
            entries = [  # (mypy miscounts star-arguments between positional ones)
                ListEntry(r.rank, r.project_id, *projects[r.project_id], show(r.score), r.category)  # type: ignore[call-arg]
                for r in ranked
            ]
            del projects, ranked  # the entries hold what the list keeps
            if previous is not None and ListStatus.SUPERSEDED in LIST_CHANGES[ListStatus(previous.status)]:
                self._list_to(act, previous, ListStatus.SUPERSEDED)
            lst = ListVersion(
                cycle.id,
                (previous.number + 1) if previous else 1,
                ListStatus.PROPOSED.value,
                method,
                entries,
                act.user.name,
                act.now,
                list(tie_order),
            )
            # the previous version's entries, read only now and dropped with the changes made
            changes: list[dict[str, Any]] = []
            if previous:
                assert previous.id is not None  # (a stored list has its id)
                changes = list_changes(tx.list_entries(previous.id), entries)
            self._list_new(
                act,
                lst,
                method=method,
                tie_order=list(tie_order),
                places=dict(cycle.config.places),
                entries=len(entries),
                changes=changes,
                correction=bool(correction),
                **lifted(verdict),
            )
        log.info("list_proposed", cycle=cycle.id, version=lst.number, entries=len(entries))
        return lst

    def _current_list(
        self, act: ActionContext, subject: Any, *statuses: ListStatus, entries: bool = True
    ) -> ListVersion:
        lst = act.tx.latest_list(act.cycle.id, entries=entries)
        refused = _status_refused(lst, statuses)
        if refused is not None:
            raise self._refuse(Msg("act on"), subject, [refused])
        assert lst is not None  # (refused above)
        return lst

    def confirm_list(
        self, acting: str | None, cycle_id: str | None = None, decision: str = "confirm", reason: str = ""
    ) -> ListVersion:
        """A party confirms the current proposed list, or objects to it (sending it back for a new
        version). During a correction the list is confirmed as soon as every party has confirmed.
        Returns the list version's head: its entries are not read (a confirmation does not need them)."""
        if decision == "object" and not reason.strip():
            raise InvalidInput(Msg("objection"), [Msg("an objection needs --reason")])
        with self._acting(acting, cycle_id) as act:
            cycle, user, program = act.cycle, act.user, act.program
            self._reason_given(act, decision, reason)  # (as its declaration says, for either decision)
            subject = Msg("the list of cycle {cycle}", cycle=cycle.id)
            self._permit(act, decision, None, subject)
            lst = self._current_list(act, subject, *NEEDS[decision], entries=False)
            ctx = self._context(act, CycleCounts(), now=act.now)
            correction = self._list_reopened(act)
            rejections = self._guards(act, decision, ctx, correction).refused
            assert lst.id is not None  # (a stored list has its id)
            done = {c.city for c in act.tx.confirmations(lst.id) if c.decision == "confirm"}
            again = _confirmed_again(program, lst, done, user.city)
            if again is not None:
                rejections.append(again)
            if rejections:
                version = Msg("list version {number} of cycle {cycle}", number=lst.number, cycle=cycle.id)
                raise self._refuse(verb_of(program, decision), version, rejections)
            act.tx.add_confirmation(Confirmation(lst.id, user.city or "", user.name, decision, reason, act.now))
            status = ListStatus(lst.status)  # (a confirmation short of all parties keeps it)
            if decision == "object":
                status = ListStatus.OBJECTED
            elif correction is not None and set(program.party_ids) <= done | {user.city}:
                status = ListStatus.CONFIRMED
            # (the version is saved even on a plain confirm, counting it; concurrent confirmations
            # wait for the cycle's lock, taken by _acting, and each reads the list after the last)
            self._list_to(act, lst, status, reason, action=decision, city=user.city)
        log.info("list_" + decision, cycle=cycle.id, version=lst.number, city=user.city)
        return lst

    @batch_work
    def publish(self, acting: str | None, cycle_id: str | None = None) -> ListVersion:
        """Publish the confirmed list: every shortlisted project is placed by its category. A
        corrected publication (after an upheld appeal) places again every project whose category
        changed, and says what changed against the published version and why."""
        with self._acting(acting, cycle_id) as act:
            cycle, tx, program = act.cycle, act.tx, act.program
            subject = Msg("the list of cycle {cycle}", cycle=cycle.id)
            self._permit(act, "publish", None, subject)
            lst = self._current_list(act, subject, *NEEDS["publish"])
            names = program.guards.get("publish", ())
            counts = self._counts(act, lst, names)
            ctx = self._context(act, counts, request=self._request(act, lst, names), now=act.now)
            verdict = self._guards(act, "publish", ctx)
            verdict.refused += self._stale(act, lst)
            if verdict.refused:
                raise self._refuse(verb_of(program, "publish"), subject, verdict.refused)
            category = {e.project_id: e.category for e in lst.entries}
            published = tx.list_versions(cycle.id, statuses=(ListStatus.PUBLISHED.value,))
            correction = cycle.config.correction
            # (read only if some project is awarded: it reads the cycle's whole audit, 1.4 million
            # rows at 100,000 projects, for a first publication that finds none)
            by_city_state = counts.by_city_state or tx.count_by_city_state(cycle.id)  # (unless the guards read it)
            award = program.award_state
            awarded = award is not None and any(state == award for _, state in by_city_state)
            awarded_from = tx.entered_from(cycle.id, award) if award is not None and awarded else {}
            reason = f"corrected publication, list version {lst.number}" if published else ""
            replaced = self._place(act, category, awarded_from, lst.number, reason)
            changes: list[dict[str, Any]] = []
            for old in published:
                changes = list_changes(old.entries, lst.entries)
                self._list_to(act, old, ListStatus.CORRECTED)
            appeals = [tx.get_appeal(i) for i in (correction.appeals if correction else ())]
            why = [
                {"appeal": a.id, "project": a.project_id, "reason": a.reason, "decision": a.decision_reason}
                for a in appeals
                if a is not None
            ]
            reopened = tx.reopened_projects(cycle.id)
            self._close_reopenings(act, reopened)  # (the publication's entry names them)
            # the cycle's settings: the correction is over, the notice runs from now (no entry of
            # its own: the publication's says it)
            self._cycle_to(act, "", config=replace(cycle.config, correction=None, published_at=act.now))
            if program.notice_days is not None:  # remind the lead when the notice ends
                self._replan(act)
            data: dict[str, Any] = {}
            if published:
                data.update(corrects=published[-1].number, changes=changes, appeals=why, replaced=replaced)
            if reopened:
                data["reopenings_closed"] = [p.id for p in reopened]
            reasons = "; ".join(f"appeal {w['appeal']}: {w['reason']}" for w in why)
            # the list as published, as one exact text: anyone holding it and the checkpoint signed
            # below checks it without the database (workflow/publication.py)
            categories = [(c.id, program.category_name(c.id)) for c in program.categories]
            document = list_document(program.id, program.name, categories, lst, act.now)
            data["list_sha256"] = list_digest(document)
            signer = cast(Any, self).keyring.signer  # (the engine's keys: workflow/checkpoints.py)
            if signer is not None:  # the public list, signed as one exact text (workflow/publication.py)
                data["list_signature"] = sign_list(public_list(document), signer)
            self._list_to(act, lst, ListStatus.PUBLISHED, reasons, **data)
            # the trail as it stands with the publication, signed in its transaction (workflow/checkpoints.py)
            self._sign_checkpoint(tx, "publication", act.now)
        log.info("list_published", cycle=cycle.id, version=lst.number, correction=bool(published))
        return lst

    def list_actions(
        self,
        acting: str | None,
        cycle_id: str | None = None,
        current: tuple[ListVersion | None, Sequence[Confirmation]] | None = None,
    ) -> OpenListActions:
        """Which list actions ``acting`` may take now, with the checks the actions make before
        their rules (permission, stage window or correction, the list's status, a party's one
        confirmation), and where the list stands. Changes nothing. ``current``: the current
        version and its confirmations as the caller has just read them (the list page reads every
        version with list_versions), judged as read instead of read again."""
        with self._acting(acting, cycle_id, write=False) as act:
            program, user = act.program, act.user
            if current is not None:
                lst, confs = current
            else:
                lst = act.tx.latest_list(act.cycle.id, entries=False)
                confs = act.tx.confirmations(lst.id) if lst is not None and lst.id is not None else []
            done = {c.city for c in confs if c.decision == "confirm"}
            correction = self._list_reopened(act)
            permitted: list[str] = []
            refused: dict[str, list[Rejection]] = {}
            for action in LIST_ACTIONS:
                if action not in program.stage_of_action:
                    continue  # (not an action of this program)
                if permission_problem(action, program.permissions.get(action), actor_of(user), None):
                    continue
                permitted.append(action)
                # (publication is never a correction's: the door asks its window as it is)
                why = self._window_refused(act, action, act.now, None if action == "publish" else correction)
                if action == "propose":
                    closed = _propose_closed(lst, correction)
                    why += [closed] if closed is not None else []
                else:
                    status = _status_refused(lst, NEEDS[action])
                    why += [status] if status is not None else []
                if action in ("confirm", "object") and lst is not None:
                    again = _confirmed_again(program, lst, done, user.city)
                    why += [again] if again is not None else []
                if why:
                    refused[action] = why
            return OpenListActions(
                version=lst.number if lst is not None else None,
                status=lst.status if lst is not None else None,
                confirmed=tuple(p for p in program.party_ids if p in done),
                objected=tuple(c.city for c in confs if c.decision == "object"),
                parties=tuple(program.party_ids),
                correction=correction is not None,
                open=tuple(a for a in permitted if a not in refused),
                refused=refused,
            )

    def _place(
        self,
        act: ActionContext,
        category: Mapping[int, str],
        awarded_from: Mapping[int, str],
        number: int,
        reason: str,
    ) -> int:
        """Place every shortlisted project by its category on list version ``number``, through the
        door (the ``place`` trigger's guards, the machine, the version check, an audit entry each);
        a project already placed in its category stays. Returns how many placed ones moved."""
        program = act.program
        replaced = 0
        requests = {cat: {"category": cat} for cat in {*category.values(), "none"}}  # shared, never changed
        data = {"list_version": number}
        decided: dict[Any, str | None] = {}
        # the shortlist is read and placed a chunk at a time: only a chunk's projects are held
        ids = act.tx.project_ids(act.cycle.id, program.listable_states + program.placed_states)
        for start in range(0, len(ids), MOVE_CHUNK):
            moves: list[Move] = []
            found = act.tx.get_projects(ids[start : start + MOVE_CHUNK], with_application=False)
            for project in (found[pid] for pid in ids[start : start + MOVE_CHUNK]):
                assert project.id is not None  # (read from the store)
                cat = category.get(project.id, "none")
                if project.state in program.placed_states:
                    if placed_category(program, project, awarded_from) == cat:
                        continue  # its place stands (an awarded project stays awarded)
                    replaced += 1
                moves.append((project, requests[cat], data))
            if not moves:
                continue
            asked = {p.id: request for p, request, _ in moves}
            self._check_moves(act, PLACE, [p for p, _, _ in moves], asked, decided, internal=True)
            self._move_all(act, moves, PLACE, reason, decided)
        return replaced
