"""What a cycle's documents say (`evalflow document`, the console's and the API's documents): its
results as published, read for one user. The documents are drawn from it by documents/.

A program with list categories speaks from its newest published list version:
each placed project's rank, score and category, the version it corrects, the publication's
instant (the notice runs from it). A program without them speaks of the
projects its award has named. Nothing is made before there are results: a cycle without a
published list (or a named project) is refused, naming the rule.

Who may have which: the notice and the official list are public once published, so anyone
signed in; a decision letter or a certificate goes to the lead, the project's city
administrator and its applicant. ``Outcome.placed`` holds only the projects whose letters the
user may have."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from i18n import Msg
from policies.base import Rejection, name_rule
from workflow.common import ActionContext, party_of
from workflow.engine.portal import PortalActions
from workflow.errors import NotFound, NotPermitted
from workflow.program import Program
from workflow.records import Cycle, ListStatus

name_rule("results_published", "结果已公布")
name_rule("publication_signed", "公布已签名")


@dataclass(frozen=True)
class Placed:
    """One project of the results: where it stands and what it is called."""

    project_id: int
    city: str
    city_name: str
    unit: str
    title: str
    category: str  # a list category's id, "none" (not named), or "named" (a program without a list)
    category_name: str
    rank: int | None = None
    score: str | None = None

    @property
    def named(self) -> bool:
        return self.category != "none"


@dataclass(frozen=True)
class Outcome:
    """A cycle's published results as one user may have them."""

    program: Program
    cycle: Cycle
    issuer: str  # who issues the documents
    at: datetime  # the publication (the notice runs from it), in the program's time zone
    notice_days: int
    version: int | None = None  # the list version published (None: a program without a list)
    corrects: int | None = None  # the version it corrected, if it did
    ranked: int = 0  # how many projects the list ranks
    every: tuple[Placed, ...] = ()  # every named project, best first (the notice, the list)
    placed: tuple[Placed, ...] = ()  # every project of the results whose letter the user may have
    categories: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (id, name), best first

    @property
    def notice_ends(self) -> datetime:
        return self.at + timedelta(days=self.notice_days)

    def named(self) -> list[tuple[str, list[Placed]]]:
        """Each category's name and its projects, best first (the named only)."""
        return [(name, [p for p in self.every if p.category == cid]) for cid, name in self.categories]

    def of(self, project_id: int) -> Placed:
        """The project's place among those the user may have (NotFound otherwise: no id is told apart)."""
        found = next((p for p in self.placed if p.project_id == project_id), None)
        if found is None:
            raise NotFound("project", project_id)
        return found


class DocumentActions(PortalActions):
    """The reads the documents are drawn from."""

    def outcome(self, acting: str | None, cycle_id: str | None = None) -> Outcome:
        """The cycle's published results as ``acting`` may have them (see the module)."""
        with self._acting(acting, cycle_id, write=False) as act:
            tx, cycle, program = act.tx, act.cycle, act.program
            zone = ZoneInfo(program.timezone)
            settings = program.documents
            issuer = settings.issuer or next((p.unit for p in program.parties if p.id == program.lead), "")
            days = program.notice_period_days
            subject = Msg("the documents of cycle {cycle}", cycle=cycle.id)
            if program.categories:
                published = tx.list_versions(cycle.id, statuses=(ListStatus.PUBLISHED.value,))
                if not published or cycle.config.published_at is None:
                    why = Msg("no list of cycle {cycle} has been published yet", cycle=cycle.id)
                    raise self._refuse(Msg("make"), subject, [Rejection("results_published", why)])
                lst = published[-1]
                corrected = tx.list_versions(cycle.id, statuses=(ListStatus.CORRECTED.value,))
                names = {c.id: program.category_name(c.id) for c in program.categories}
                every = _placed(program, names, lst.entries)
                at = cycle.config.published_at
                version, corrects = lst.number, (corrected[-1].number if corrected else None)
                categories = tuple((c.id, names[c.id]) for c in program.categories)
            else:
                states = program.named_states
                title, every = _named(tx, program, cycle)
                if not every:
                    why = Msg("no project of cycle {cycle} has been named yet", cycle=cycle.id)
                    raise self._refuse(Msg("make"), subject, [Rejection("results_published", why)])
                # (dated the day the newest of them was named: a reprint keeps its date)
                named_at = [
                    e.at
                    for pid in (p.project_id for p in every)
                    for e in tx.history("project", str(pid), cycle.id)
                    if e.to_state in states and e.from_state != e.to_state
                ]
                at = max(named_at, default=act.now)
                version, corrects, categories = None, None, (("named", title),)
            placed = self._theirs(act, every)
            return Outcome(
                program,
                cycle,
                issuer,
                at.astimezone(zone),
                days,
                version,
                corrects,
                sum(1 for p in every if p.rank is not None),
                tuple(p for p in every if p.named),
                placed,
                categories,
            )

    def _theirs(self, act: ActionContext, every: tuple[Placed, ...]) -> tuple[Placed, ...]:
        """The projects whose letter and certificate the acting user may have: every one for the
        lead, their city's for its administrator, their own for an applicant, none for anyone else."""
        user, cycle, program = act.user, act.cycle, act.program
        if user.role == "lead":
            return every
        if user.role == "city-admin":
            return tuple(p for p in every if p.city == user.city)
        if user.role == "applicant":
            ids = [p.project_id for p in every if p.city == user.city]
            mine = {p.id for p in act.tx.projects_by_ids(ids) if self.visible(user, p, cycle, program)}
            return tuple(p for p in every if p.project_id in mine)
        return ()

    def outcome_for_all(self, acting: str | None, cycle_id: str | None = None) -> Outcome:
        """``outcome`` for a whole cycle's documents at once (a zip): the lead's, or a city
        administrator's of their city."""
        with self.store.transaction(write=False) as tx:  # (who asks first: a refusal tells nothing of the cycle)
            user = self._user(tx, acting)
        if user.role not in ("lead", "city-admin"):
            raise NotPermitted(
                Msg("make"),
                Msg("the documents of cycle {cycle}", cycle=cycle_id or "—"),
                Msg("a cycle's documents at once are the lead's and the cities' administrators'"),
            )
        return self.outcome(acting, cycle_id)

    def publication_bundle(self, acting: str | None, cycle_id: str | None = None) -> tuple[str, bytes]:
        """The newest published list of the cycle as a bundle anyone checks without the database
        (workflow/publication.py), with its file name: anyone signed in, as the list is public.
        Refused where the publication was not signed (no signing key then), or its key is not
        one this server trusts."""
        with self._acting(acting, cycle_id, write=False) as act:
            return self._bundle(act.tx, act.cycle, act.program)

    def public_bundle(self, cycle_id: str) -> tuple[str, bytes]:
        """``publication_bundle`` for the public pages (no user: the list is published; a cycle
        with nothing published is not found, as one that does not exist)."""
        cast(Any, self).public_cycle(cycle_id)
        with self.store.transaction(write=False) as tx:
            cycle = tx.get_cycle(cycle_id)
            if cycle is None:
                raise NotFound("cycle", cycle_id)
            return self._bundle(tx, cycle, self.program_of(cycle))

    @staticmethod
    def _signed_publication(tx: Any, cycle: Cycle, number: int) -> tuple[Any, Any] | None:
        """The publication entry of list version ``number`` and the checkpoint signed with it
        (None: published before lists were recorded by their sha256, or with no signing key)."""
        from workflow.audit import chain_of

        entries = [e for e in tx.history("list", str(number), cycle.id) if e.action == "publish"]
        entry = entries[-1] if entries else None
        if entry is None or "list_signature" not in entry.data:
            return None
        chain = chain_of(cycle.id)
        for c in tx.audit_checkpoints():
            if c.why == "publication" and c.heads.get(chain, ("", 0))[1] == entry.id:
                return entry, c
        return None

    def _bundle(self, tx: Any, cycle: Cycle, program: Program) -> tuple[str, bytes]:
        from workflow.publication import list_document, make_bundle, public_list
        from workflow.signing import public_pem

        subject = Msg("the bundle of cycle {cycle}", cycle=cycle.id)
        published = tx.list_versions(cycle.id, statuses=(ListStatus.PUBLISHED.value,))
        if not published:
            why = Msg("no list of cycle {cycle} has been published yet", cycle=cycle.id)
            raise self._refuse(Msg("make"), subject, [Rejection("results_published", why)])
        lst = published[-1]
        found = self._signed_publication(tx, cycle, lst.number)
        if found is None:
            why = Msg(
                "the publication of list version {number} was not signed (no signing key was configured then)",
                number=lst.number,
            )
            raise self._refuse(Msg("make"), subject, [Rejection("publication_signed", why)])
        entry, checkpoint = found
        ring = cast(Any, self).keyring  # (the engine's: workflow/checkpoints.py)
        public = ring.trusted.get(checkpoint.key)
        if public is None and ring.signer is not None and ring.fingerprint == checkpoint.key:
            public = ring.signer.public_key()
        if public is None:
            why = Msg("the key {key} that signed it is not one this server trusts", key=checkpoint.key)
            raise self._refuse(Msg("make"), subject, [Rejection("publication_signed", why)])
        categories = [(c.id, program.category_name(c.id)) for c in program.categories]
        document = public_list(list_document(program.id, program.name, categories, lst, entry.at))
        signature = str(entry.data["list_signature"])
        data = make_bundle(document, signature, checkpoint.as_dict(), public_pem(public), checkpoint.key)
        return f"{cycle.id}-list-v{lst.number}.bundle.json", data


@dataclass(frozen=True)
class PublicCycle:
    """What the public pages show of a cycle: only what has been published. A program with a
    list: its published version and the ones it corrected (newest first) with their named
    projects, and the notice's end; without one: the projects its results named."""

    program: Program
    cycle: Cycle
    published_at: datetime | None  # the newest publication, in the program's time zone
    notice_ends: datetime | None
    versions: tuple[tuple[int, str, tuple[Placed, ...]], ...] = ()  # (number, status, named projects)
    named: tuple[Placed, ...] = ()  # a program without a list: its named projects
    # what the program's [documents] public_fields and public_records show of each named project:
    # project -> its fields' (label, text); project -> each record entry's (when, action, (label, text)…)
    details: Mapping[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    progress: Mapping[int, tuple[tuple[datetime, str, tuple[tuple[str, str], ...]], ...]] = field(default_factory=dict)
    signed: str = ""  # the fingerprint of the key that signed the newest publication ("": unsigned)
    # a corrected publication: version -> (the version it corrected, each project whose category
    # changed as (project name, category before, category after), the office's decisions behind it)
    corrections: Mapping[int, tuple[int, tuple[tuple[str, str, str], ...], tuple[str, ...]]] = field(
        default_factory=dict
    )


class PublicReads(DocumentActions):
    """The reads of the public pages (web/public.py): no user, nothing but what is published."""

    def public_cycles(self) -> list[PublicCycle]:
        """Every cycle with something published, newest first."""
        with self.store.transaction(write=False) as tx:
            ids = [c.id for c in tx.list_cycles()]
        out: list[PublicCycle] = []
        for cycle_id in ids:
            try:
                out.append(self.public_cycle(cycle_id))
            except NotFound:
                continue
        return sorted(out, key=lambda p: (p.cycle.year, p.cycle.id), reverse=True)

    def public_cycle(self, cycle_id: str) -> PublicCycle:
        """A cycle's published results (NotFound, as for a cycle that does not exist, while
        nothing of it is published)."""
        with self.store.transaction(write=False) as tx:
            cycle = tx.get_cycle(cycle_id)
            if cycle is None:
                raise NotFound("cycle", cycle_id)
            program = self.program_of(cycle)
            zone = ZoneInfo(program.timezone)
            days = program.notice_period_days
            if program.categories:
                shown = tx.list_versions(cycle.id, statuses=(ListStatus.PUBLISHED.value, ListStatus.CORRECTED.value))
                at = cycle.config.published_at
                if not shown or at is None:
                    raise NotFound("cycle", cycle_id)
                names = {c.id: program.category_name(c.id) for c in program.categories}
                versions = tuple(
                    (
                        v.number,
                        v.status,
                        _placed(program, names, [e for e in v.entries if e.category in names]),
                    )
                    for v in sorted(shown, key=lambda v: v.number, reverse=True)
                )
                local = at.astimezone(zone)
                signing = self._signed_publication(tx, cycle, versions[0][0])
                signed = signing[1].key if signing is not None else ""
                corrections = {}
                for number, _, _ in versions:
                    for e in tx.history("list", str(number), cycle.id):
                        if e.action == "publish" and e.data.get("corrects"):
                            corrections[number] = _correction(e.data, names)
                return PublicCycle(
                    program,
                    cycle,
                    local,
                    local + timedelta(days=days),
                    versions,
                    signed=signed,
                    corrections=corrections,
                )
            _, named = _named(tx, program, cycle)
            if not named:
                raise NotFound("cycle", cycle_id)
            details, progress = self._shown_publicly(tx, program, named)
            return PublicCycle(program, cycle, None, None, named=named, details=details, progress=progress)

    @staticmethod
    def _shown_publicly(
        tx: Any, program: Program, named: tuple[Placed, ...]
    ) -> tuple[dict[int, tuple[tuple[str, str], ...]], dict[int, tuple[Any, ...]]]:
        """The fields and record entries the program shows of its named projects in public."""
        fields, records = program.documents.public_fields, program.documents.public_records
        if not (fields or records) or not named or program.form is None:
            return {}, {}
        form = program.form
        zone = ZoneInfo(program.timezone)
        details: dict[int, tuple[tuple[str, str], ...]] = {}
        progress: dict[int, tuple[Any, ...]] = {}
        for p in tx.get_projects([n.project_id for n in named]).values():  # (with applications and records)
            details[p.id] = tuple((form.field(f).zh, str(form.field(f).get(p.application) or "")) for f in fields)
            rows = []
            for trigger in records:
                action = program.actions.get(trigger)
                for e in p.record.get(program.record_keys.get(trigger, trigger), []):
                    at = datetime.fromisoformat(e["at"]).astimezone(zone) if e.get("at") else None
                    rows.append((at, action.zh if action else trigger, tuple(action.shown(e) if action else ())))
            progress[p.id] = tuple(
                sorted(rows, key=lambda r: (r[0] is None, r[0] or datetime.min.replace(tzinfo=zone)))
            )
        return details, progress


def _correction(data: Mapping[str, Any], names: Mapping[str, str]) -> tuple[int, tuple[Any, ...], tuple[str, ...]]:
    """What a corrected publication's entry says in public: the version it corrected, each project
    whose category changed (not its rank or score, which the public pages do not show), and the
    office's decisions on the appeals behind it (not the appellants' reasons)."""

    def category(place: Any) -> str:
        return names.get(place.get("category"), "未入选") if place else "未入选"

    moved = tuple(
        (str(c.get("project_name", "")), category(c.get("before")), category(c.get("after")))
        for c in data.get("changes") or []
        if category(c.get("before")) != category(c.get("after"))
    )
    decisions = tuple(str(a.get("decision") or "") for a in data.get("appeals") or [] if a.get("decision"))
    return int(data["corrects"]), moved, decisions


def _placed(program: Program, names: Mapping[str, str], entries: Sequence[Any]) -> tuple[Placed, ...]:
    """A list version's entries as the documents and the public pages name them, best first."""
    return tuple(
        Placed(
            e.project_id,
            e.city,
            str(party_of(program, e.city).zh),
            e.unit_name,
            e.project_name,
            e.category,
            names.get(e.category, "未入选"),
            e.rank,
            e.score,
        )
        for e in sorted(entries, key=lambda e: e.rank)
    )


def _named(tx: Any, program: Program, cycle: Cycle) -> tuple[str, tuple[Placed, ...]]:
    """What a program without a list calls its named projects, and those of the cycle, by id."""
    states = program.named_states
    found = tx.project_names(cycle.id, list(states)) if states else {}
    title = program.documents.named or (program.state_name(states[0]) if states else "")
    return title, tuple(
        Placed(pid, city, str(party_of(program, city).zh), unit, name, "named", title)
        for pid, (city, unit, name) in sorted(found.items())
    )
