"""A publication signs a checkpoint of the trail in its own transaction (the chain's head after the
publication's entries); without a key it publishes all the same; a publication whose checkpoint
was removed is caught; the scheduler signs the daily checkpoint."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import LEAD, snapshot
from tests.store.test_audit_signing import KEY_A, owner_sql, ring
from tests.workflow.test_reminders import Recorder, service
from workflow.audit import chain_of
from workflow.errors import RuleRefused

CHAIN = "g60-2027"


def test_a_publication_signs_the_trails_head_after_its_entries_in_its_transaction(at_stage) -> None:
    s = at_stage("confirmed")
    s.engine.keyring = ring(KEY_A)
    s.engine.publish(LEAD)
    [cp] = s.engine.audit_checkpoints(LEAD)
    with s.store.transaction(write=False) as tx:
        entries = list(tx.audit_entries(CHAIN))
        heads = tx.audit_positions()
    publication = entries[-1]
    assert (publication.subject, publication.action) == ("list", "publish")
    assert cp.why == "publication" and cp.heads[CHAIN] == (publication.hash, publication.id)
    assert dict(cp.heads) == heads  # every chain, as the publication left it
    report = s.engine.audit_verify(LEAD)
    assert report.ok and report.checkpoints.count == 1 and not report.checkpoints.warnings


def test_a_refused_publication_signs_nothing(at_stage) -> None:
    s = at_stage("proposed")  # not confirmed by every city: publishing is refused
    s.engine.keyring = ring(KEY_A)
    before = snapshot(s.store)
    try:
        s.engine.publish(LEAD)
    except RuleRefused:
        pass
    assert snapshot(s.store) == before  # (audit_checkpoints included)


def test_with_no_key_a_publication_is_made_and_verify_warns(at_stage) -> None:
    s = at_stage("confirmed")
    s.engine.keyring = ring(None)
    s.engine.publish(LEAD)
    assert s.engine.audit_checkpoints(LEAD) == []
    report = s.engine.audit_verify(LEAD)
    assert report.ok and [str(w) for w in report.checkpoints.warnings][0].startswith("No checkpoint of the trail")


def test_a_publication_whose_checkpoint_was_removed_is_caught(at_stage) -> None:
    s = at_stage("confirmed")
    s.engine.keyring = ring(KEY_A)
    s.engine.audit_checkpoint(LEAD)  # a checkpoint before the publication
    s.engine.publish(LEAD)
    first, signed = s.engine.audit_checkpoints(LEAD)
    # the newest checkpoint removed would pass unseen, but a publication's is missed
    owner_sql(
        f"sqlite:///{s.store.sqlite_path()}",
        f"DELETE FROM audit_checkpoints WHERE id = {signed.id}",
        table="audit_checkpoints",
    )
    report = s.engine.audit_verify(LEAD)
    assert not report.ok
    [broken] = report.breaks
    assert (broken.chain, broken.entry_id) == (CHAIN, signed.heads[CHAIN][1])
    assert "this publication has no signed checkpoint" in str(broken.words())


def test_the_scheduler_signs_the_daily_checkpoint_when_it_starts(engine, clock, cycle) -> None:
    engine.keyring = ring(KEY_A)
    svc = service(engine, clock, Recorder(), checkpoint=engine.sign_if_due)
    svc.start()
    svc.stop()
    [daily] = engine.audit_checkpoints(LEAD)
    assert daily.why == "daily" and daily.at == clock()
    with engine.store.engine.connect() as conn:
        newest = conn.execute(text("SELECT max(id) FROM audit WHERE cycle_id IS NULL")).scalar()
    assert daily.heads[chain_of(None)][1] == newest
    assert engine.audit_verify(LEAD).ok
