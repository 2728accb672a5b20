"""The engine's audit actions: verify the hash chains, print their head, replay the trail."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from i18n import Msg
from workflow.audit import Break, Difference, as_dicts, chain_of, combined, replay_states, verify
from workflow.checkpoints import CheckpointActions, CheckpointCheck, Tap, check_checkpoints
from workflow.program import Program


@dataclass
class VerifyReport:
    entries: int = 0
    chains: dict[str, str] = field(default_factory=dict)  # chain -> where it ends (its newest hash)
    breaks: list[Break] = field(default_factory=list)
    # the signed checkpoints' check (workflow/checkpoints.py): its problems make the trail not hold
    checkpoints: CheckpointCheck = field(default_factory=CheckpointCheck)

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.checkpoints.problems

    def as_dict(self, say: Callable[[Any], str]) -> dict[str, Any]:
        """The report as `audit verify --json` and the API give it, each message said by ``say``."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "chains": self.chains,
            "breaks": as_dicts(self.breaks),
            "checkpoints": self.checkpoints.count,
            "checkpoint_problems": [say(p) for p in self.checkpoints.problems],
            "warnings": [say(w) for w in self.checkpoints.warnings],
        }


@dataclass
class ReplayReport:
    projects: int = 0
    entries: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


class _Counted:
    """An iterable that counts what passed through it."""

    def __init__(self, items: Any):
        self.items, self.n = items, 0

    def __iter__(self) -> Any:
        for item in self.items:
            self.n += 1
            yield item


class TrailActions(CheckpointActions):
    """Mixed into the engine: the lead's checks of the audit trail (and its signed checkpoints)."""

    def audit_verify(self, acting: str | None, cycle_id: str | None = None, head: str | None = None) -> VerifyReport:
        """Recompute every chain (or one cycle's) and report the first broken entry of each; the
        chains must end where the database's heads say and, given ``head`` (from `audit head`,
        kept elsewhere), where that says: a cut-off tail is seen too. Every signed checkpoint is
        checked with the trusted public keys, and the chains must run through the heads they
        signed: a rewrite resealed by the database's owner is seen (workflow/checkpoints.py)."""
        trusted = self.keyring.trusted  # (a key file that cannot be read is said before the trail is read)
        with self._transaction(write=False) as tx:
            self._lead_only(tx, acting, Msg("verify"))
            chain = chain_of(self._cycle(tx, cycle_id).id) if cycle_id else None
            recorded = tx.audit_heads()
            if chain is not None:
                recorded = {chain: recorded[chain]} if chain in recorded else {}
            checkpoints = tx.audit_checkpoints()
            positions = {entry for cp in checkpoints for (_, entry) in cp.heads.values()}
            newest = {c: entry for c, (_, entry) in checkpoints[-1].heads.items()} if checkpoints else {}
            tap = Tap(tx.audit_entries(cycle_id), positions, newest)
            # (with no checkpoint there is nothing to note: the entries go to the check directly)
            entries = _Counted(tap if checkpoints else tap.entries)
            breaks, ends = verify(entries, recorded)
            report = VerifyReport(entries.n, {c: h for c, (h, _) in ends.items()}, breaks)
            report.checkpoints = check_checkpoints(
                checkpoints, tap, {b.chain: b for b in breaks}, trusted, chain, self.now(), entries.n
            )
            report.breaks = sorted(
                [*breaks, *report.checkpoints.breaks], key=lambda b: (b.entry_id is None, b.entry_id or 0, b.chain)
            )
            if head:
                found = report.chains.get(chain, "") if chain is not None else combined(report.chains)
                if found != head:
                    report.breaks.append(
                        Break(
                            chain or "*",
                            None,
                            f"the trail ends at {found[:12] or 'nothing'}, not at the head you kept ({head[:12]}): "
                            "entries were cut off or the trail is not the one that head was taken from",
                        )
                    )
            return report

    def audit_head(self, acting: str | None, cycle_id: str | None = None) -> str:
        """The hash to keep outside the database: one cycle's chain head, or all chains' at once."""
        with self._transaction(write=False) as tx:
            self._lead_only(tx, acting, Msg("read the head of"))
            heads = tx.audit_heads()
            if cycle_id:
                return heads.get(chain_of(self._cycle(tx, cycle_id).id), "")
            return combined(heads)

    def audit_replay(self, acting: str | None, cycle_id: str | None = None) -> ReplayReport:
        """Rebuild every project's state from the audit trail alone, through its program's
        machine, in a scratch database; compare it with the stored state."""
        report = ReplayReport()
        scratch = sqlite3.connect(":memory:")
        scratch.execute("CREATE TABLE replayed (project_id INTEGER PRIMARY KEY, state TEXT)")
        scratch.execute("CREATE TABLE stored (project_id INTEGER PRIMARY KEY, state TEXT)")
        with self._transaction(write=False) as tx:
            self._lead_only(tx, acting, Msg("replay"))
            cycles = [self._cycle(tx, cycle_id)] if cycle_id else tx.list_cycles()
            for cycle in cycles:
                program: Program = self.program_of(cycle)
                entries = _Counted(e for e in tx.audit_entries(cycle.id) if e.subject == "project")
                states, problems = replay_states(entries, _firing(program))
                report.entries += entries.n
                report.differences += problems
                scratch.executemany("INSERT INTO replayed VALUES (?, ?)", states.items())
                stored = [(p.id, p.state) for p in tx.find_projects(cycle.id, with_application=False)]
                scratch.executemany("INSERT INTO stored VALUES (?, ?)", stored)
                report.projects += len(stored)
        differing = scratch.execute(
            "SELECT coalesce(s.project_id, r.project_id), coalesce(s.state, '(no project)'),"
            " coalesce(r.state, '(no entry)') FROM stored s FULL OUTER JOIN replayed r ON r.project_id = s.project_id"
            " WHERE s.state IS NOT r.state ORDER BY 1"
        ).fetchall()
        report.differences += [Difference(pid, stored, replayed) for pid, stored, replayed in differing]
        scratch.close()
        return report


def _firing(program: Program) -> Any:
    """``fire(state, action, data)``: where the program's machine takes a project in ``state``
    on ``action`` with the entry's data as its request (None: not a trigger of the machine)."""

    def fire(state: str, action: str, data: dict[str, Any]) -> str | None:
        if action not in program.machine.events:
            return None
        return program.leads_to(state, action, data) or "(refused by the machine)"

    return fire
