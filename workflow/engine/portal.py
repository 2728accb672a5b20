"""The applicant's own actions: drafts of an application (saved, read, removed by their owner
alone), submitting one (the engine's ``submit``, then the draft is gone), and replacing the
application of a project while the program lets its applicant change it.

A draft changes no state and no city sees it, so it has no audit row. An edit is a change of the
project: it passes the door like any action (permission, the submission window, the states the
program's form declares editable, the version check) and seals an audit row naming what changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from i18n import Msg
from policies.base import Rejection, name_rule
from policies.windows import stage_window
from workflow.application import validate_application, written_paths
from workflow.common import ActionContext, state_of
from workflow.drafts import Draft
from workflow.engine.guards import window_words
from workflow.engine.projects import ProjectActions
from workflow.errors import ConcurrentChange, InvalidInput, NotFound
from workflow.log import get_logger
from workflow.program import Program
from workflow.records import Project

log = get_logger("evalflow.engine")

DRAFT_LIMIT = 1_000_000  # characters of a draft as JSON: far above any form, well below a flood
EDIT = "edit_application"  # the audit action of an applicant's edit

name_rule("editable", "可修改")


class PortalActions(ProjectActions):
    """Drafts, and the applicant's edits of a submitted application."""

    # -------------------------------------------------------------------------- drafts
    def _drafting(self, act: ActionContext) -> None:
        """Only a user who may submit for their own city keeps drafts of the cycle's applications."""
        self._permit(act, "submit", act.user.city, Msg("a draft of cycle {cycle}", cycle=act.cycle.id))

    def save_draft(self, acting: str | None, cycle_id: str, data: Mapping[str, Any]) -> Draft:
        """Keep what ``acting`` has typed of an application for the cycle (replacing their draft)."""
        if not isinstance(data, Mapping):
            raise InvalidInput("draft", [Msg("the top level must be a table/object")])
        plain = json.loads(json.dumps(data, ensure_ascii=False, default=str))
        if len(json.dumps(plain, ensure_ascii=False)) > DRAFT_LIMIT:
            raise InvalidInput("draft", [Msg("a draft holds at most {limit} characters", limit=DRAFT_LIMIT)])
        with self._acting(acting, cycle_id) as act:
            self._drafting(act)
            draft = Draft(act.cycle.id, act.user.name, act.now, plain)
            act.tx.put_draft(draft)
        log.info("draft_saved", cycle=draft.cycle_id, owner=draft.owner)
        return draft

    def draft(self, acting: str | None, cycle_id: str) -> Draft | None:
        """The acting user's own draft for the cycle (None: they have none)."""
        with self._acting(acting, cycle_id, write=False) as act:
            self._drafting(act)
            return act.tx.get_draft(act.cycle.id, act.user.name)

    def delete_draft(self, acting: str | None, cycle_id: str) -> bool:
        """Remove the acting user's draft for the cycle; whether there was one."""
        with self._acting(acting, cycle_id) as act:
            self._drafting(act)
            return act.tx.delete_draft(act.cycle.id, act.user.name)

    def my_drafts(self, acting: str | None) -> list[Draft]:
        """The acting user's drafts, every cycle's."""
        with self._as_user(acting, write=False) as ctx:
            return ctx.tx.owner_drafts(ctx.user.name)

    def submit_application(self, acting: str | None, cycle_id: str, application: Mapping[str, Any]) -> Project:
        """Submit through the engine's ``submit`` (every rule of it); the user's draft for the cycle
        is then removed. A refusal leaves the draft as it was."""
        project = self.submit(acting, application, cycle_id)
        with self._acting(acting, cycle_id) as act:
            act.tx.delete_draft(act.cycle.id, act.user.name)
        return project

    # -------------------------------------------------------------------------- edits
    def edit_application(
        self,
        acting: str | None,
        project_id: int,
        application: Mapping[str, Any],
        expected_version: int | None = None,
    ) -> Project:
        """Replace a project's application (its applicant, or its city's administrator, as the
        program's ``submit`` permission says), in the states the form declares editable, inside
        the submission window; checked like a submission (the form; the city cannot change)."""
        with self._acting(acting, locate=lambda tx: self._project(tx, project_id).cycle_id) as act:
            program, cycle = act.program, act.cycle
            found = act.tx.get_projects([project_id], with_application=True)
            project = found.get(project_id)
            if project is None or not self._reader(act.user, cycle, program)(project):
                raise NotFound("project", project_id)
            if expected_version is not None and expected_version != project.version:
                raise ConcurrentChange(Msg("project {id}", id=project_id), expected_version, project.version)
            subject = Msg("project {id}", id=project_id)
            verb = Msg("edit the application of")
            self._permit(act, "submit", project.city, subject)
            form = program.form
            refused: list[Rejection] = []
            if form is None or project.state not in form.editable_in:
                allowed = ", ".join(str(state_of(program, s)) for s in (form.editable_in if form else ()))
                refused.append(
                    Rejection(
                        "editable",
                        Msg(
                            "the application can be changed only while the project is {states}; it is {state}",
                            states=allowed or Msg("(never, in this program)"),
                            state=state_of(program, project.state),
                        ),
                    )
                )
            stage_id = program.stage_of_action["submit"]
            window = self.window(program, cycle, stage_id)
            refused += stage_window("submit", stage_id, cycle.stage, window, act.now, **window_words(program, "submit"))
            refused = list(self._judge(act, refused).refused)
            if refused:
                raise self._refuse(verb, subject, refused, state_of(program, project.state))
            assert form is not None  # (refused above without one)
            app = validate_application(application, form, written_paths(program.application_params))
            if form.party_of(app) != project.city:
                raise InvalidInput(
                    "application",
                    [Msg("{label} cannot change once submitted", label=form.field(form.party or "").zh)],
                )
            changed = sorted(_changed_paths(project.application, app))
            if not changed:
                return project
            project.application = app
            project.unit_name = form.unit_of(app)
            project.project_name = form.title_of(app)
            project.updated_at = act.now
            act.tx.save_application(project)
            act.log("project", project.id, EDIT, project.state, project.state, "", changed=changed)
        log.info("application_edited", project=project_id, actor=acting, changed=len(changed))
        return project


def editable(program: Program, project: Project) -> bool:
    """Whether the program lets a project's application be changed in the state it is in."""
    return program.form is not None and project.state in program.form.editable_in


def withdrawal_of(program: Program) -> str | None:
    """The program's own action by which an applicant withdraws an application (a transition the
    program adds, taken by the applicant role), if it has one."""
    for _, spec in program.extra_transitions:
        permission = program.permissions.get(spec.trigger)
        if permission is not None and "applicant" in permission.roles:
            return spec.trigger
    return None


def _changed_paths(old: Any, new: Any, at: str = "") -> set[str]:
    """The dotted paths at which two applications differ (a repeated group counts as one)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: set[str] = set()
        for key in set(old) | set(new):
            out |= _changed_paths(old.get(key), new.get(key), f"{at}.{key}" if at else str(key))
        return out
    return set() if old == new else {at}
