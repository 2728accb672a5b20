"""The reads: projects, a project with its sheets and history, a unit across the years, the
list versions, where a cycle stands, what a report writes, the shortlist, the history. Each
is made in a read-only action context; what a user may not read is left out."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

from i18n import Msg
from policies.base import CycleCounts
from workflow.appeals import may_read_appeal
from workflow.common import ActionContext, overrides_of, party_of, role_of
from workflow.engine.context import kept_in
from workflow.engine.door import Door
from workflow.engine.lists import (
    PUBLISHED,
    placed_category,
    readable_versions,
    reads_unpublished,
    scoped_confirmations,
    unpublished_refused,
)
from workflow.engine.report import ReportData
from workflow.errors import NotFound, NotPermitted
from workflow.page_query import Match, PageQuery, city_state_only, enumerate_matches, simplified, within_city_state
from workflow.ports import ProjectGroup, SheetTotals, StoreTx
from workflow.program import INITIAL_STATE, REOPEN, Program, StatusColumn
from workflow.ranking import show
from workflow.records import AuditEntry, Confirmation, Cycle, ListVersion, Project, ScoreSheet, User

# readable_matches' answers by (user, role, city, program, its digest, cycle, stage)
_READABLE: dict[tuple[Any, ...], Any] = {}
_READABLE_KEPT = 4096
# the counts of read-only actions by what they count, the cycle, its version, program and the
# audit chains' heads (see Reads._kept): a few hundred entries, the newest heads' the only ones
# asked for again
_KEPT: dict[tuple[Any, ...], Any] = {}
_KEPT_MOST = 512


@dataclass
class ProjectPage:
    """One page of the project list: its projects (without applications), how many the whole
    view holds, and each project's score where the reader may read one (see ``project_page``)."""

    cycle: Cycle
    program: Program
    projects: builtins.list[Project]
    total: int
    scores: dict[int, str]
    scored: bool  # whether the cycle has scores the reader may read (the list shows its column)


class Reads(Door):
    """What users may read of a cycle."""

    def readable_matches(self, user: User, cycle: Cycle, program: Program) -> builtins.list[Match] | None:
        """``visible`` as SQL terms (None: every project): the reader's rule asked of each party
        and state, so that the store's page holds exactly the projects ``projects`` gives."""
        if user.role == "lead":
            return None

        # (a pure function of who reads, the program and the cycle's stage, asked of every dummy
        # project on every page read: worked out once a process for each of them; a program made
        # in code has no digest of its text to tell it from another and is worked out each time)
        def work_out() -> tuple[Match, ...]:
            reader = self._reader(user, cycle, program)
            cities, states = tuple(p.id for p in program.parties), tuple(program.states)
            return tuple(simplified(enumerate_matches(reader, cities, states, applicant=user.name), cities, states))

        if not program.digest:
            return list(work_out())
        key = (user.name, user.role, user.city, program.id, program.digest, cycle.id, cycle.stage)
        return list(kept_in(_READABLE, _READABLE_KEPT, key, work_out))

    def project_page(
        self, acting: str | None, cycle_id: str | None, query: PageQuery, by_score: str | None = None
    ) -> ProjectPage:
        """One page of the projects ``acting`` may read, as ``query`` asks (its conditions can only
        narrow what the reader may read), counted and windowed by the database, applications left
        out. Scores: the lead reads the ranking's (the program's aggregate of the current sheets);
        every other user the scores of the latest proposed list, which they read on the list page.
        ``by_score`` ("asc"/"desc"): ordered by that score, unscored projects last, then by id."""
        with self._acting(acting, cycle_id, write=False) as act:
            tx, user, cycle, program = act.tx, act.user, act.cycle, act.program
            readable = self.readable_matches(user, cycle, program)
            narrowed = PageQuery([*query.all_of, *([readable] if readable is not None else [])], query.search)
            narrowed.sort, narrowed.limit, narrowed.offset = query.sort, query.limit, query.offset
            # (a view that asks nothing but a city and a state, the reader's scope included, is
            # counted from the kept count by city and state: never a count of the cycle's rows)
            known = None
            if not narrowed.search and city_state_only(narrowed.all_of):
                known = sum(within_city_state(narrowed.all_of, self._tallies(act)[0]()).values())
            if by_score is None and self._scores_by_page(act):
                # the lead's scores of this page's projects only, from their own sheets (a mean
                # or a sum is each project's own): never the whole cycle ranked for 200 rows
                rows, total = tx.project_page(cycle.id, narrowed, known)
                page_scores, any_scored = self._lead_page_scores(act, rows)
                return ProjectPage(cycle, program, rows, total, page_scores, any_scored)
            scores = self._page_scores(act)
            if by_score is None:
                rows, total = tx.project_page(cycle.id, narrowed, known)
            else:
                ids = tx.project_page_ids(cycle.id, narrowed)
                rank = {pid: n for n, pid in enumerate(scores)}  # (best first)
                far = len(rank)
                sign = -1 if by_score == "asc" else 1
                ids.sort(key=lambda pid: (pid not in rank, sign * rank.get(pid, far), pid))
                end = None if query.limit is None else query.offset + query.limit
                rows, total = tx.projects_by_ids(ids[query.offset : end]), len(ids)
            shown = {p.id: scores[p.id] for p in rows if p.id in scores}
            return ProjectPage(cycle, program, rows, total, shown, bool(scores))

    @staticmethod
    def _scores_by_page(act: Any) -> bool:
        """Whether the page's scores are the lead's of a mean or a sum (each project's own)."""
        program = act.program
        return (
            act.user.role == "lead"
            and program.sheet_trigger is not None
            and program.list_settings.get("aggregate", "mean") in ("mean", "sum")
        )

    @staticmethod
    def _lead_page_scores(act: Any, rows: builtins.list[Project]) -> tuple[dict[int, str], bool]:
        """The scores the lead reads of ``rows`` (as the ranking writes them: each ranked project's
        mean or sum of its current sheets) and whether any project of the cycle is scored."""
        program, tx, cycle = act.program, act.tx, act.cycle
        states = program.listable_states + program.placed_states  # (what the ranking ranks)
        ranked = [p.id for p in rows if p.id is not None and p.state in states]
        total_only = program.list_settings.get("aggregate", "mean") == "sum"
        scores = {
            pid: show(Fraction(total) if total_only else Fraction(total, n))
            for pid, total, n in tx.sheet_sums_of(cycle.id, ranked, program.own_party_in(cycle.config) == "excluded")
        }
        return scores, bool(scores) or tx.any_current_sheet(cycle.id, states)

    def _page_scores(self, act: Any) -> dict[int, str]:
        """Project id -> score as the list writes it, best first: the ranking of the current
        sheets for the lead, the latest list version's for the others (nothing before it)."""
        if act.program.sheet_trigger is None:  # (a program that scores nothing has no score column)
            return {}
        if act.user.role == "lead":  # (no sheets: an empty ranking)
            ranked = cast(Any, self).ranked_kept(act, ())  # (ScoringActions's)
            return {r.project_id: show(r.score) for r in ranked}
        if reads_unpublished(act.program, act.user):
            latest = act.tx.latest_list(act.cycle.id, entries=True)
        else:  # (the program keeps a list's means from this reader until it is published)
            published = act.tx.list_versions(act.cycle.id, statuses=PUBLISHED)
            latest = max(published, key=lambda v: v.number) if published else None
        return {e.project_id: e.score for e in latest.entries} if latest is not None else {}

    def projects(
        self,
        acting: str | None,
        cycle_id: str | None = None,
        city: str | None = None,
        state: str | None = None,
        with_application: bool = True,
    ) -> list[Project]:
        """The projects ``acting`` may read; without ``with_application`` their applications are
        left out (empty), for a caller that needs only their ids, names or states."""
        with self._acting(acting, cycle_id, write=False) as act:
            found = act.tx.find_projects(
                act.cycle.id,
                cities=[city] if city else None,
                states=[state] if state else None,
                with_application=with_application,
            )
            readable = self._reader(act.user, act.cycle, act.program)
            return [p for p in found if readable(p)]

    def project(self, acting: str | None, project_id: int) -> tuple[Project, list[ScoreSheet], list[AuditEntry]]:
        """A project the user may read, with the score sheets and history they may read of it."""
        read: list[Project] = []

        def locate(tx: StoreTx) -> str:
            read.append(self._project(tx, project_id))
            return read[0].cycle_id

        with self._acting(acting, write=False, locate=locate) as act:
            tx, user, cycle, project = act.tx, act.user, act.cycle, read[0]
            if not self.visible(user, project, cycle, act.program):
                raise NotFound("project", project_id)
            sheets = tx.sheets(cycle.id, project_id, current_only=False)
            if user.role not in ("lead",):
                sheets = [s for s in sheets if s.city == user.city] if user.role != "applicant" else []
            history = tx.history("project", str(project_id))
            if user.role != "lead":
                readable: set[int] = set()
                for a in tx.appeals(project_id=project.id):
                    assert a.id is not None  # (read from the store)
                    if may_read_appeal(user, a):
                        readable.add(a.id)
                lists = reads_unpublished(act.program, user)
                history = [e for e in (_scoped(e, user, readable, lists) for e in history) if e is not None]
            return project, sheets, history

    def unit(self, acting: str | None, unit: str, program_id: str) -> list[tuple[Cycle, Project]]:
        """A unit's record across the years: its projects in every cycle of a program, oldest
        first, with their long-lived records (only those the user may read)."""
        program = self.programs.get(program_id)
        with self._as_user(acting, write=False) as act:  # (of a program: many cycles)
            tx, user = act.tx, act.user
            cycles = {c.id: c for c in tx.list_cycles() if c.program_id == program.id}
            found = [
                (cycles[p.cycle_id], p)
                for p in tx.unit_projects(program.id, [unit])
                if p.cycle_id in cycles and self.visible(user, p, cycles[p.cycle_id], program)
            ]
            if not found:
                why = Msg("it has no project in {program} that {user} may read", program=program.id, user=user.name)
                raise NotFound("unit", unit, why)
            return found

    def list_versions(
        self, acting: str | None, cycle_id: str | None = None
    ) -> tuple[Cycle, list[ListVersion], dict[int, list[Confirmation]]]:
        """A cycle's list versions ``acting`` may read, oldest first, with each one's confirmations.
        The program says who reads a version before its publication (``read_unpublished_list``;
        the others read the published versions only, and are refused while none is) and who reads
        why a city objected (``read_objection_reasons``; the others read that it objected)."""
        with self._acting(acting, cycle_id, write=False) as act:
            program, user = act.program, act.user
            stored = act.tx.list_versions(act.cycle.id)
            versions = readable_versions(program, user, stored)
            if stored and not versions:
                raise unpublished_refused(program, user, act.cycle.id)
            confirmed: dict[int, list[Confirmation]] = {}
            for v in versions:
                assert v.id is not None  # (read from the store)
                confirmed[v.id] = scoped_confirmations(program, user, act.tx.confirmations(v.id))
            return act.cycle, versions, confirmed

    def status(self, acting: str | None, cycle_id: str | None = None) -> dict[str, Any]:
        """Where the cycle stands: stage, window and time left, per-city progress, funding."""
        with self._acting(acting, cycle_id, write=False) as act:
            tx, user, cycle, program, now = act.tx, act.user, act.cycle, act.program, act.now
            lst = tx.latest_list(cycle.id, entries=False)  # its head is enough
            counts = self._status_counts(act, lst)
            stage = program.stage(cycle.stage)
            window = self.window(program, cycle, stage.id)
            quotas = program.cycle_quotas(cycle.id, cycle.config.quotas)
            closes = window.closes if window else None
            request = self._request(act, lst, stage.close_when)
            ctx = self._context(act, counts, now=now, request=request, stage_closes=closes)
            closing = self._closing(act, stage.close_when, ctx)
            open_appeals = [a for a in tx.appeals(cycle.id, statuses=("open",)) if may_read_appeal(user, a)]
            cities = _status_cities(program, counts, quotas)
            return {
                "cycle": cycle.id,
                "program": program.id,
                "program_name": program.name,
                "year": cycle.year,
                "stage": stage.id,
                "stage_name": stage.name,
                "stage_number": program.stage_index(stage.id) + 1,
                "stages": len(program.stages),
                "window": window.describe() if window else "no window",
                "opens": window.opens.isoformat() if window and window.opens else None,
                "closes": window.closes.isoformat() if window and window.closes else None,
                "seconds_left": (window.closes - now).total_seconds() if window and window.closes else None,
                "now": now.isoformat(),
                "can_close": not closing.refused,
                "closing_rules": [str(r) for r in closing.refused],
                "closing": [
                    {
                        "rule": r.rule,
                        "message": r.text,
                        "parties": list(r.parties),
                        **({"message_id": r.message.as_dict()} if isinstance(r.message, Msg) else {}),
                    }
                    for r in closing.refused
                ],
                "closing_overridden": closing.lifted,
                "overrides": [dataclasses.asdict(o) for o in overrides_of(cycle) if o.active],
                "open_appeals": [
                    {"appeal": a.id, "project": a.project_id, "city": a.city, "against": a.against_stage}
                    for a in open_appeals
                ],
                "correction": cycle.config.correction.to_data() if cycle.config.correction else None,
                "list": {"version": lst.number, "status": lst.status} if lst else None,
                "program_changed": None
                if program.digest == cycle.program_digest
                else (
                    f"the program file changed since the cycle opened (opened under v{cycle.program_version} "
                    f"{cycle.program_digest}, now v{program.version} {program.digest})"
                ),
                "columns": _status_columns(program),
                "cities": cities,
            }

    @contextmanager
    def report(
        self,
        acting: str | None,
        cycle_id: str | None = None,
        counts_sheets: Callable[[Program], bool] = lambda program: True,
    ) -> Iterator[ReportData]:
        """Everything `evalflow report` writes (lead only), inside one read transaction: the list
        (the published version, else the latest), per-city progress, and the score matrix's
        projects (the listable and placed ones) with their current sheets, read a page at a time
        as the report is written (see ReportData). ``counts_sheets(program)``: whether its
        statistics show `cycle status`'s sheet counts, the writer's to say (sheets/report.py)."""
        with self._acting(acting, cycle_id, write=False) as act:
            tx, user, cycle, program = act.tx, act.user, act.cycle, act.program
            if user.role != "lead":
                raise NotPermitted(
                    Msg("report on"),
                    Msg("cycle {id}", id=cycle.id),
                    Msg("reports cover every city; the lead writes them"),
                )
            states = tuple(dict.fromkeys([*program.listable_states, *program.placed_states]))
            # of `cycle status` only the per-party columns, the report's statistics, read in its
            # own transaction: not the closing rules, the appeals or the window, which it does
            # not show, and the sheets counted (a read of every current sheet, 900,000 at
            # 100,000 projects) only where it shows them: the writer says where (``counts_sheets``)
            counts = self._counts(act, tx.latest_list(cycle.id, entries=False), sheets=counts_sheets(program))
            quotas = program.cycle_quotas(cycle.id, cycle.config.quotas)
            status = {"columns": _status_columns(program), "cities": _status_cities(program, counts, quotas)}
            by_city_state = counts.by_city_state
            awarded_as: dict[tuple[str, str], int] = {}
            award = program.award_state
            if award is not None and award in states:
                awarded = tx.project_cities(cycle.id, award)
                awarded_from = tx.entered_from(cycle.id, award) if awarded else {}  # (as publish reads it)
                for pid, city in awarded:
                    # (placed_category reads a project's id and state only: no project read whole)
                    p = Project(pid, cycle.id, city, "", "", "", {}, state=award)
                    cat = placed_category(program, p, awarded_from) or "none"
                    awarded_as[(city, cat)] = awarded_as.get((city, cat), 0) + 1
            yield ReportData(
                cycle=cycle,
                program=program,
                list=tx.report_list(cycle.id),
                count=sum(n for (_, state), n in by_city_state.items() if state in states),
                scorers=tx.report_scorers(cycle.id) if program.sheets_per == "scorer" else [],
                status=status,
                by_city_state=by_city_state,
                awarded_as=awarded_as,
                tx=tx,
                states=states,
            )

    def shortlist(
        self, acting: str | None, cycle_id: str | None = None, city: str | None = None
    ) -> tuple[Cycle, Program, list[Project]]:
        """The projects every party scores, for ``city``'s score-sheet template: the lead's for any
        city, a scorer's or city admin's for their own; only the projects the user may read."""
        with self._acting(acting, cycle_id, write=False) as act:
            tx, user, cycle, program = act.tx, act.user, act.cycle, act.program
            subject = Msg("the score sheet of {city}", city=party_of(program, city) if city else Msg("a city"))
            if city is not None:
                program.party(city)  # an unknown city is not found, whoever asks
            if user.role not in ("lead", "scorer", "city-admin"):
                why = Msg("{name} is {role}; scorers and administrators do", name=user.name, role=role_of(user.role))
                raise NotPermitted(Msg("write"), subject, why)
            if city is not None and user.role != "lead" and user.city != city:
                why = Msg("{name} acts for {city}", name=user.name, city=party_of(program, user.city or ""))
                raise NotPermitted(Msg("write"), subject, why)
            found = tx.find_projects(cycle.id, states=program.listable_states, with_application=False)
            return cycle, program, [p for p in found if self.visible(user, p, cycle, program)]

    def scored(
        self,
        acting: str | None,
        cycle_id: str | None = None,
        by_scorer: bool = False,
        project_ids: Sequence[int] | None = None,
    ) -> dict[str, set[int]]:
        """The projects each party has a current score sheet on, read at once: every party's for
        the lead, the user's own city's otherwise (the dashboard names the sheets still missing).
        ``by_scorer``: keyed by the scorer instead (a program scored per scorer: each one's queue).
        ``project_ids``: of these projects only (one page of the list)."""
        with self._acting(acting, cycle_id, write=False) as act:
            out: dict[str, set[int]] = {}
            if act.user.role != "lead" and act.user.city is None:
                return out  # (a user of no city has no city's sheets)
            city = None if act.user.role == "lead" else act.user.city
            keys = (
                act.tx.sheet_keys(act.cycle.id, by_scorer, city)
                if project_ids is None
                else act.tx.sheet_keys_of(act.cycle.id, project_ids, by_scorer, city)
            )
            for who, pid in keys:
                out.setdefault(who, set()).add(pid)
            return out

    def own_projects(self, acting: str | None, cycle_id: str | None = None) -> builtins.list[Project]:
        """The projects of a cycle ``acting`` applied for (and may read), by id, read by the database
        alone (the list's columns: no application, no record), never the cycle's others."""
        with self._acting(acting, cycle_id, write=False) as act:
            readable = self.readable_matches(act.user, act.cycle, act.program)
            query = PageQuery([[Match(applicant=act.user.name)], *([readable] if readable is not None else [])])
            return act.tx.project_page(act.cycle.id, query)[0]

    def project_groups(
        self, acting: str | None, cycle_id: str | None = None, record_keys: Sequence[str] = ()
    ) -> list[ProjectGroup]:
        """The projects ``acting`` may read, counted by the database by city, state, reopened
        stage and which of ``record_keys`` their record fills: what a to-do reads of a project,
        so that the dashboard counts its to-do list without loading the projects."""
        with self._acting(acting, cycle_id, write=False) as act:
            readable = self.readable_matches(act.user, act.cycle, act.program)
            # (the reader's projects by city and state, from the kept count where the scope asks
            # nothing else of a project)
            scope = [readable] if readable is not None else []
            within = None
            if not record_keys and city_state_only(scope):
                within = within_city_state(scope, self._tallies(act)[0]())
            return act.tx.project_groups(act.cycle.id, readable, record_keys, by_city_state=within)

    def unscored(
        self,
        acting: str | None,
        cycle_id: str | None,
        party: str | None,
        by_scorer: bool = False,
        limit: int | None = None,
    ) -> tuple[builtins.list[Project], int]:
        """The projects every party scores (the program's listable states) that ``acting`` may read
        and ``party`` (a city, or ``by_scorer`` a scorer) has no current sheet on, by id: the first
        ``limit`` (None: every one) and how many (``party`` None: the shortlist itself). The lead
        asks of any party; anyone else of their own city, or (``by_scorer``) of themself, as
        ``scored`` reads only those."""
        with self._acting(acting, cycle_id, write=False) as act:
            user, program = act.user, act.program
            own = user.name if by_scorer else user.city
            if party is not None and user.role != "lead" and party != own:
                why = Msg("{name} acts for {city}", name=user.name, city=party_of(program, user.city or ""))
                raise NotPermitted(Msg("read"), Msg("the projects left to score"), why)
            readable = self.readable_matches(user, act.cycle, program)
            recused = program.own_party_in(act.cycle.config) == "recused"
            return act.tx.unscored(
                act.cycle.id, readable, program.listable_states, party, by_scorer, limit, recused=recused
            )

    def _status_counts(self, act: ActionContext, lst: ListVersion | None) -> CycleCounts:
        """The guards' counts of a read-only status, kept (see ``_kept``) for the list they read."""
        which = ("status", (lst.id, lst.version) if lst is not None else None)
        by_city_state, totals = self._tallies(act)
        return cast(
            CycleCounts,
            self._kept(act, which, lambda: self._counts(act, lst, by_city_state=by_city_state(), totals=totals)),
        )

    def _tallies(
        self, act: ActionContext
    ) -> tuple[Callable[[], dict[tuple[str, str], int]], Callable[[bool], SheetTotals]]:
        """What every count of a read-only action starts from, each counted once for the audit's
        heads (see ``_kept``) and only when first asked: the cycle's projects by city and state,
        and (given by_scorer) its current sheets by city or by scorer. The status, the to-do's
        unscored projects and the sheets' columns of one page then share them rather than each
        counting the cycle again (at 100,000 projects 60–90 ms a count)."""

        def by_city_state() -> dict[tuple[str, str], int]:
            return cast(
                dict[tuple[str, str], int],
                self._kept(act, ("by city and state",), lambda: act.tx.count_by_city_state(act.cycle.id)),
            )

        def totals(by_scorer: bool) -> SheetTotals:
            def count() -> Mapping[str, tuple[int, int]]:
                # (from the database's tally where it keeps one, whose sheets are the projects:
                # one current sheet a project for each city of a program scored by city, and for
                # each scorer; a city's several scorers' projects are counted from the sheets)
                tally = act.tx.sheet_tally(act.cycle.id)
                if tally is None or (act.program.sheets_per == "scorer" and not by_scorer):
                    return act.tx.current_sheet_totals(act.cycle.id, by_scorer)
                out: dict[str, int] = {}
                for (city, scorer), n in tally.items():
                    party = scorer if by_scorer else city
                    out[party] = out.get(party, 0) + n
                return {party: (n, n) for party, n in out.items() if n}

            def kept() -> Mapping[str, tuple[int, int]]:
                return cast(Mapping[str, tuple[int, int]], self._kept(act, ("sheet totals", by_scorer), count))

            return kept

        return by_city_state, totals

    def _kept(self, act: ActionContext, which: tuple[Any, ...], count: Any) -> Any:
        """What ``count()`` counts of the cycle for a read-only action, kept by each process under
        the audit chains' heads as the database holds them, read first in the same transaction.
        Every change of a project, sheet, list or user appends to a chain and so moves its head
        (in the change's own transaction): what is kept under the heads read now is counted from
        the data as it stands, in every worker; a change since is a new key, counted afresh.
        (Counts read after a change that committed between the heads' read and theirs are newer,
        never older, than their key.) ``which`` names what is counted and for whom."""
        program = act.program
        if not program.digest:  # (a program made in code: nothing tells it from another)
            return count()
        key = (which, act.cycle.id, act.cycle.version, program.id, program.digest, act.audit_heads)
        return kept_in(_KEPT, _KEPT_MOST, key, count)

    def unscored_counts(
        self, acting: str | None, cycle_id: str | None = None, first: int = 0
    ) -> tuple[dict[str, int], int, dict[str, builtins.list[int]]]:
        """How many of the projects every party scores (those ``acting`` may read) each city has
        not scored yet, how many there are, and (``first``) the ids of the first few of each city
        short of sheets: counted by the database at once for every city (the lead; anyone else
        their own city only, as ``scored``)."""
        with self._acting(acting, cycle_id, write=False) as act:
            user, program, tx = act.user, act.program, act.tx
            readable = self.readable_matches(user, act.cycle, program)
            states = program.listable_states

            by_city_state, totals = self._tallies(act)

            def count() -> tuple[dict[str, int], int, dict[str, builtins.list[int]]]:
                by_state: dict[str, int] = {}
                for (_, state), n in by_city_state().items():
                    by_state[state] = by_state.get(state, 0) + n
                total = tx.unscored(act.cycle.id, readable, states, None, limit=0, by_state=by_state)[1]
                done = tx.scored_counts(act.cycle.id, readable, states, by_state=by_state, totals=totals(False))
                parties = [p.id for p in program.parties] if user.role == "lead" else [user.city] if user.city else []
                left = {party: total - done.get(party, 0) for party in parties}
                recused = program.own_party_in(act.cycle.config) == "recused"
                if recused:  # (a city's own projects are no sheet of its to enter)
                    for party in parties:
                        if readable is None:
                            counted = by_city_state()
                            left[party] -= sum(counted.get((party, state), 0) for state in states)
                        else:
                            left[party] = tx.unscored(act.cycle.id, readable, states, party, limit=0, recused=True)[1]
                short = [party for party, n in left.items() if n]
                ids = tx.unscored_ids(act.cycle.id, readable, states, short, first, recused) if short and first else {}
                return left, total, ids

            left, total, ids = self._kept(act, ("unscored", user.name, user.role, user.city, first), count)
            return dict(left), total, {party: list(found) for party, found in ids.items()}

    def history(self, acting: str | None, cycle_id: str | None = None) -> list[AuditEntry]:
        """A cycle's audit entries, oldest first (the lead)."""
        with self._acting(acting, cycle_id, write=False) as act:
            user, cycle = act.user, act.cycle
            if user.role != "lead":
                raise NotPermitted(
                    Msg("read"),
                    Msg("the history of cycle {cycle}", cycle=cycle.id),
                    Msg("the cycle's history is read by the lead"),
                )
            return act.tx.history(cycle_id=cycle.id)


_APPEAL_ACTIONS = ("appeal", "appeal_upheld", "appeal_dismissed")


def _scoped(entry: AuditEntry, user: User, appeals: set[int], lists: bool = True) -> AuditEntry | None:
    """A project's audit entry as ``user`` (not the lead) may read it: another city's score sheet
    and an appeal the user may not read are left out; a reopening keeps its move but not the
    appeal's reasons or other cities' superseded sheets, nor (``lists`` False: the user does not
    read a list before its publication) the project's place on an unpublished list version. The
    same scoping as ``project show``."""
    data = entry.data or {}
    if "scores" in data and (user.role == "applicant" or data.get("city") != user.city):
        return None
    if entry.action in _APPEAL_ACTIONS and data.get("appeal") not in appeals:
        return None
    if "objector" in data:  # (a member of the public's name and contact: the lead's alone)
        entry = dataclasses.replace(entry, data={k: v for k, v in data.items() if k != "objector"})
    if entry.action == REOPEN:
        gone = dict(data.get("superseded") or {})
        if "sheets" in gone:
            gone["sheets"] = [x for x in gone["sheets"] if x.get("city") == user.city]
        reason = entry.reason if data.get("appeal") in appeals else ""
        held = dict(data.get("list") or {})
        if held and not lists and held.get("status") not in PUBLISHED:
            held.pop("place", None)  # (its rank, mean and category: the unpublished list's)
        return dataclasses.replace(
            entry, reason=reason, data={**data, "superseded": gone, **({"list": held} if held else {})}
        )
    return entry


def _status_columns(program: Program) -> list[dict[str, Any]]:
    """The status columns `cycle status` shows, as its JSON names them."""
    return [
        {"id": c.id, "zh": c.zh, "en": c.en or c.id, "kind": c.kind, "policy": c.policy}
        for c in program.status_columns
        if c.show
    ]


def _status_cities(
    program: Program, counts: CycleCounts, quotas: Mapping[str, Mapping[str, int]]
) -> list[dict[str, Any]]:
    """Each party's row of `cycle status`: its id, name and every status column's value."""
    cities = []
    for party in program.parties:
        row: dict[str, Any] = {"city": party.id, "name": party.name}
        for col in program.status_columns:
            row.update(_status_cell(program, party.id, col, counts, quotas, minimum_of=program.policy_params))
        cities.append(row)
    return cities


def _status_cell(
    program: Program,
    party: str,
    col: StatusColumn,
    counts: CycleCounts,
    quotas: Mapping[str, Mapping[str, int]],
    minimum_of: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """One party's value of a status column, with what it is measured against."""
    states = tuple(st for st in program.states if st != INITIAL_STATE) if col.states == ("*",) else col.states
    if col.kind == "count":
        return {col.id: counts.count(party, *states)}
    if col.kind == "result":
        return {
            col.id: counts.results.get((party, col.result or col.id), 0),
            f"{col.id}_quota": quotas.get(party, {}).get(col.result or col.id),
        }
    if col.kind == "minimum":
        minimum = int(minimum_of.get(col.policy or "", {}).get("minimum", 0))
        return {col.id: counts.count(party, *states), f"{col.id}_minimum": minimum}
    if col.kind == "sheets":
        return {col.id: counts.sheets_by_city.get(party, 0), f"{col.id}_needed": counts.sheets_needed(party)}
    if col.kind == "confirmed":
        return {col.id: party in counts.confirmations}
    fund = program.funding.get(party, {})  # funding: support for each review result held
    return {col.id: sum(n * counts.results.get((party, result), 0) for result, n in fund.items())}
