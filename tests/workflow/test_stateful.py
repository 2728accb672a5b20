"""Random sequences of everything a G60 cycle sees — submissions, acceptances, reviews,
recommendations, score sheets, list actions, appeals and reopenings, overrides, the clock moving
on, the service restarting — checked after every step: no quota exceeded, no stage closed with a
minimum unmet (unless the lead overrode it), every project in one known state, awarded ⇒ on a
published list ⇒ scored, and the audit trail verifies and replays to the stored states.

CI runs a modest number of examples (the "ci" profile). To run it long:

    EVALFLOW_HYPOTHESIS=long .venv/bin/python -m pytest tests/workflow/test_stateful.py

(the "long" profile: 2,000 examples of up to 60 steps; `EVALFLOW_HYPOTHESIS_EXAMPLES=N` sets N).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from store.sql import SqlStore
from tests.conftest import (
    CITIES,
    LEAD,
    PROGRAM,
    SHEET_HIGH,
    SHEET_LOW,
    SHEET_MID,
    SettableClock,
    admin,
    applicant,
    make_app,
    scorer,
    sh,
)
from workflow.engine import Engine
from workflow.errors import EvalflowError
from workflow.program import ProgramRegistry, effective_quotas

settings.register_profile(
    "ci",
    # 60 in the suite (about 40 s); make soak runs 200
    max_examples=int(os.environ.get("EVALFLOW_HYPOTHESIS_EXAMPLES", 35)),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("EVALFLOW_HYPOTHESIS_EXAMPLES", 2000)),
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("EVALFLOW_HYPOTHESIS", "ci")
PROG = ProgramRegistry().get(PROGRAM)
SHEETS = (SHEET_HIGH, SHEET_MID, SHEET_LOW)
CITY = st.sampled_from(CITIES)
FLAWS = (None, None, None, "registered", "timeline")


class CycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="evalflow-stateful-")
        self.url = f"sqlite:///{self.dir}/cycle.db"
        self.store = SqlStore(self.url)
        self.store.create()
        self.clock = SettableClock(sh(1, 2))
        self.engine = Engine(self.store, clock=self.clock)
        self.engine.add_user(None, LEAD, "lead", "songjiang")
        for c in CITIES:
            self.engine.add_user(LEAD, admin(c), "city-admin", c)
            self.engine.add_user(LEAD, scorer(c), "scorer", c)
            self.engine.add_user(LEAD, applicant(c), "applicant", c)
        self.cycle = self.engine.open_cycle(
            LEAD, PROGRAM, 2027, places={"demonstration": 1, "excellent": 2}, quotas={"hefei": {"demonstration": 1}}
        )
        self.serial = 0

    def teardown(self) -> None:
        self.store.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------
    def ids(self, *states: str) -> list[int]:
        return [p.id for p in self.engine.projects(LEAD) if p.state in states]  # type: ignore[misc]

    def attempt(self, action, *args, **kwargs) -> None:
        """Take an action; a refusal is an answer too (it must change nothing, which the trail
        invariants check: a refused action writes no entry)."""
        try:
            action(*args, **kwargs)
        except EvalflowError:
            pass

    # -- the cycle's actions -----------------------------------------------------------------
    @rule(city=CITY, flaw=st.sampled_from(FLAWS))
    def submit(self, city: str, flaw: str | None) -> None:
        self.serial += 1
        self.attempt(self.engine.submit, applicant(city), make_app(city, self.serial, flaw))

    @rule(data=st.data(), accept=st.booleans())
    def decide_application(self, data: st.DataObject, accept: bool) -> None:
        ids = self.ids("submitted")
        if ids:
            p = self.engine.project(LEAD, data.draw(st.sampled_from(ids)))[0]
            trigger = "accept" if accept else "reject"
            self.attempt(self.engine.fire, admin(p.city), p.id, trigger, reason="" if accept else "不符合条件")

    @rule(data=st.data(), result=st.sampled_from(["demonstration", "demonstration", "excellent", "none"]))
    def review(self, data: st.DataObject, result: str) -> None:
        ids = self.ids("in_library", "municipal_demonstration", "municipal_excellent", "municipal_none")
        if ids:
            p = self.engine.project(LEAD, data.draw(st.sampled_from(ids)))[0]
            self.attempt(self.engine.fire, admin(p.city), p.id, "review", result=result, method="site")

    @rule(data=st.data())
    def recommend(self, data: st.DataObject) -> None:
        ids = self.ids("municipal_demonstration")
        if ids:
            p = self.engine.project(LEAD, data.draw(st.sampled_from(ids)))[0]
            self.attempt(self.engine.fire, admin(p.city), p.id, "recommend")

    @rule(data=st.data(), sheet=st.sampled_from(SHEETS))
    def nine_cities_score(self, data: st.DataObject, sheet: dict) -> None:
        ids = self.ids("recommended")
        if ids:
            pid = data.draw(st.sampled_from(ids))
            for c in CITIES:
                self.attempt(self.engine.score, scorer(c), pid, sheet)

    @rule(rule_id=st.sampled_from(["min_recommendations", "all_sheets_in"]))
    def override(self, rule_id: str) -> None:
        self.attempt(self.engine.override, LEAD, rule_id, "the lead lifts it for this cycle")

    @rule()
    def advance(self) -> None:
        self.attempt(self.engine.advance, LEAD)

    @rule(data=st.data())
    def propose(self, data: st.DataObject) -> None:
        ids = self.ids("recommended")
        self.attempt(self.engine.propose_list, LEAD, tie_order=data.draw(st.permutations(ids)) if ids else ())

    @rule(objector=st.sampled_from([None, None, None, *CITIES]))
    def every_party_confirms(self, objector: str | None) -> None:
        for c in CITIES:
            if c == objector:
                self.attempt(self.engine.confirm_list, admin(c), decision="object", reason="请核对评分")
                return
            self.attempt(self.engine.confirm_list, admin(c))

    @rule()
    def publish_and_award(self) -> None:
        self.attempt(self.engine.publish, LEAD)
        listed = self.ids("listed_demonstration", "listed_excellent")
        if listed:
            self.attempt(self.engine.fire, LEAD, listed, "award")

    @rule(data=st.data())
    def appeal(self, data: st.DataObject) -> None:
        ids = self.ids("rejected", "municipal_excellent", "municipal_none", "not_listed", "listed_excellent")
        if ids:
            p = self.engine.project(LEAD, data.draw(st.sampled_from(ids)))[0]
            self.attempt(self.engine.file_appeal, applicant(p.city), p.id, "请复核")

    @rule(data=st.data(), uphold=st.booleans())
    def decide_appeal(self, data: st.DataObject, uphold: bool) -> None:
        open_appeals = [a for a in self.engine.appeals(LEAD)[1] if a.status == "open"]
        if not open_appeals:
            return
        a = data.draw(st.sampled_from(open_appeals))
        decider = LEAD if a.against_stage in ("confirmation", "publication") else admin(a.city)
        if uphold:
            stage = data.draw(st.sampled_from([s.id for s in PROG.reopenable]))
            self.attempt(self.engine.decide_appeal, decider, a.id, "uphold", stage, "复核属实")
        else:
            self.attempt(self.engine.decide_appeal, decider, a.id, "dismiss", reason="维持原结果")

    @rule(data=st.data(), stages=st.integers(min_value=1, max_value=3))
    def move_on(self, data: st.DataObject, stages: int) -> None:
        """Do what the current stage asks of everyone, move the clock to its end and close it
        (up to ``stages`` stages): the random steps around it then meet every stage."""
        for _ in range(stages):
            stage = self.engine.get_cycle(self.cycle.id).stage
            if stage == "collection":
                for pid in self.ids("submitted"):
                    p = self.engine.project(LEAD, pid)[0]
                    self.attempt(self.engine.fire, admin(p.city), pid, "accept")
                    if self.engine.project(LEAD, pid)[0].state == "submitted":  # refused: ineligible
                        self.attempt(self.engine.fire, admin(p.city), pid, "reject", reason="不符合条件")
                self._at_least(sh(3, 1, 0, 30))
            elif stage == "municipal_review":
                for pid in self.ids("in_library"):
                    p = self.engine.project(LEAD, pid)[0]
                    result = data.draw(st.sampled_from(["demonstration", "excellent", "none"]))
                    self.attempt(self.engine.fire, admin(p.city), pid, "review", result=result, method="site")
                    if self.engine.project(LEAD, pid)[0].state == "in_library":  # over a quota: none
                        self.attempt(self.engine.fire, admin(p.city), pid, "review", result="none", method="site")
                self._at_least(sh(5, 1, 0, 30))
            elif stage == "recommendation":
                for pid in self.ids("municipal_demonstration"):
                    self.attempt(self.engine.fire, admin(self.engine.project(LEAD, pid)[0].city), pid, "recommend")
                self.attempt(self.engine.override, LEAD, "min_recommendations", "too few projects this year")
            elif stage == "joint_scoring":
                for pid in self.ids("recommended"):
                    sheet = data.draw(st.sampled_from(SHEETS))
                    for c in CITIES:
                        self.attempt(self.engine.score, scorer(c), pid, sheet)
            elif stage == "confirmation":
                self.propose(data)
                self.every_party_confirms(None)
            elif stage == "publication":
                self.publish_and_award()
                return
            self.attempt(self.engine.advance, LEAD)

    def _at_least(self, when) -> None:
        if self.clock() < when:
            self.clock.set(when)

    @rule(days=st.integers(min_value=1, max_value=45))
    def time_passes(self, days: int) -> None:
        if self.clock() + timedelta(days=days) < sh(12, 31):
            self.clock.set(self.clock() + timedelta(days=days))

    @precondition(lambda self: True)
    @rule()
    def restart(self) -> None:
        """The service stops and starts again: a new store and engine on the same database."""
        self.store.dispose()
        self.store = SqlStore(self.url)
        self.engine = Engine(self.store, clock=self.clock)

    # -- what must hold after every step ----------------------------------------------------
    @invariant()
    def every_project_is_in_one_known_state(self) -> None:
        for p in self.engine.projects(LEAD):
            assert p.state in PROG.states and p.state != "new"

    @invariant()
    def no_quota_is_exceeded(self) -> None:
        cycle = self.engine.get_cycle(self.cycle.id)
        quotas = effective_quotas(PROG.quotas, cycle.settings.get("quotas"))
        held: dict[tuple[str, str], int] = {}
        for p in self.engine.projects(LEAD):
            if p.review_result:
                held[(p.city, p.review_result)] = held.get((p.city, p.review_result), 0) + 1
        for (city, result), n in held.items():
            limit = quotas.get(city, {}).get(result)
            assert limit is None or n <= limit, f"{city} holds {n} {result}, quota {limit}"

    @invariant()
    def no_stage_closed_with_a_minimum_unmet(self) -> None:
        """When recommendation closed, every city had recommended 5 (unless the lead overrode it)."""
        history = self.engine.history(LEAD)
        closed = [e for e in history if e.action == "advance" and e.from_state == "recommendation"]
        if not closed or any(o.rule == "min_recommendations" for o in self.engine.overrides(LEAD)[1]):
            return
        city = {p.id: p.city for p in self.engine.projects(LEAD)}
        held = {c: 0 for c in CITIES}
        for e in history:
            if e.id >= closed[0].id or e.subject != "project":
                continue
            if e.to_state == "recommended" and e.from_state != "recommended":
                held[city[int(e.subject_id)]] += 1
            elif e.from_state == "recommended" and e.to_state != "recommended":
                held[city[int(e.subject_id)]] -= 1
        assert min(held.values()) >= 5, f"recommendation closed with {held}"

    @invariant()
    def awarded_means_published_and_scored(self) -> None:
        awarded = self.ids("awarded")
        if not awarded:
            return
        published = [v for v in self.engine.list_versions(LEAD)[1] if v.status in ("published", "corrected")]
        on_list = {e.project_id for v in published for e in v.entries if e.category != "none"}
        for pid in awarded:
            assert pid in on_list, f"project {pid} awarded without a place on a published list"
            _, sheets, _ = self.engine.project(LEAD, pid)
            assert sheets, f"project {pid} awarded without a score sheet"

    @invariant()
    def the_trail_verifies_and_replays(self) -> None:
        verified = self.engine.audit_verify(LEAD)
        assert verified.ok, verified.breaks
        replayed = self.engine.audit_replay(LEAD)
        assert replayed.ok, replayed.differences


CycleMachine.TestCase.settings = settings.get_profile(PROFILE)
TestCycle = CycleMachine.TestCase
