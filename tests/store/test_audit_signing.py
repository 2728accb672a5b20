"""Signed checkpoints of the audit trail, on SQLite and on PostgreSQL: the database's owner who
rewrites an entry and reseals the sha256 chain and audit_heads passes the chain's own check, but
not the checkpoints'; a changed signature, a checkpoint signed with another key, a checkpoint
removed from between two others are caught; what cannot be caught (the newest checkpoints
removed) is pinned; keys rotate; the table is append-only; migration 0012 goes up and back."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from store.sql import SqlStore
from tests.backends import BACKENDS, database
from tests.conftest import LEAD, PROGRAM, SettableClock, sh, snapshot
from tests.store.test_migrations import alembic, tables
from workflow.audit import chain_of, seal, verify
from workflow.checkpoints import KeyRing, load_keyring
from workflow.engine import Engine
from workflow.errors import InvalidInput, NotPermitted
from workflow.signing import (
    Checkpoint,
    digest,
    fingerprint,
    from_dict,
    new_key,
    private_pem,
    public_pem,
    sign,
    signature_holds,
    signed_bytes,
)

KEY_A, KEY_B, KEY_X = new_key(), new_key(), new_key()  # the service's keys (A, then B) and an intruder's


def ring(signer: Any, *also: Any) -> KeyRing:
    """The keys of a service signing with ``signer`` that trusts ``also`` too."""
    keys = [k for k in (signer, *also) if k is not None]
    return KeyRing(signer=signer, trusted={fingerprint(k.public_key()): k.public_key() for k in keys})


def new_engine(url: str, signer: Any = KEY_A, *also: Any) -> Engine:
    engine = Engine(SqlStore(url), clock=SettableClock(sh(1, 2)))
    engine.keyring = ring(signer, *also)
    return engine


def add_users(engine: Engine, prefix: str, n: int = 2) -> None:
    for i in range(n):
        engine.add_user(LEAD, f"{prefix}{i}", "applicant", "hefei")


def trail(url: str) -> Engine:
    """A trail of two chains (users, and a G60 cycle) with two checkpoints signed by key A:
    checkpoint 1 after the first users, checkpoint 2 after more; then more users."""
    SqlStore(url).create()
    engine = new_engine(url)
    engine.add_user(None, LEAD, "lead", "songjiang")
    engine.open_cycle(LEAD, PROGRAM, 2027)
    add_users(engine, "a")
    engine.audit_checkpoint(LEAD)
    add_users(engine, "b")
    engine.audit_checkpoint(LEAD)
    add_users(engine, "c")
    return engine


def ids_of(url: str, chain: str = "-") -> list[int]:
    with SqlStore(url).transaction(write=False) as tx:
        return [e.id or 0 for e in tx.audit_entries() if chain_of(e.cycle_id) == chain]


def owner_sql(url: str, *statements: str, table: str = "audit") -> None:
    """SQL run as the database's owner would, the append-only guard of ``table`` taken off first."""
    store = SqlStore(url)
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        else:  # the owner grants itself back what it gave up, and disables the trigger
            conn.execute(text(f"GRANT UPDATE, DELETE ON {table} TO CURRENT_USER"))
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        for statement in statements:
            conn.execute(text(statement))


def rewrite_and_reseal(url: str, victim: int) -> None:
    """The owner's attack: rewrite entry ``victim``, seal every chain again from the start and
    set audit_heads, so that the chain's own check passes."""
    owner_sql(url, f"UPDATE audit SET reason = 'rewritten', actor = 'someone-else' WHERE id = {victim}")
    store = SqlStore(url)
    with store.transaction(write=False) as tx:
        entries = list(tx.audit_entries())
    heads: dict[str, str] = {}
    last: dict[str, int] = {}
    for entry in entries:
        seal([entry], heads)
        last[chain_of(entry.cycle_id)] = entry.id or 0
    with store.engine.begin() as conn:
        for entry in entries:
            conn.execute(
                text("UPDATE audit SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": entry.prev_hash, "h": entry.hash, "id": entry.id},
            )
        for chain, value in heads.items():
            conn.execute(
                text("UPDATE audit_heads SET hash = :h, entry_id = :e WHERE chain = :c"),
                {"h": value, "e": last[chain], "c": chain},
            )


def chain_check_alone(url: str) -> bool:
    """Today's check without checkpoints: the chains recomputed, and their heads."""
    with SqlStore(url).transaction(write=False) as tx:
        breaks, _ = verify(tx.audit_entries(), tx.audit_heads())
    return not breaks


def checkpoints_of(url: str) -> list[Checkpoint]:
    with SqlStore(url).transaction(write=False) as tx:
        return tx.audit_checkpoints()


# ------------------------------------------------------------------------------ the owner's reseal
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_owners_rewrite_and_reseal_is_caught_at_the_first_entry_after_the_last_good_checkpoint(
    backend: str, tmp_path: Path
) -> None:
    with database(backend, tmp_path) as url:
        engine = trail(url)
        assert engine.audit_verify(LEAD).ok
        first, second = checkpoints_of(url)
        users = ids_of(url, "-")
        after_first = [i for i in users if i > first.heads["-"][1]]
        victim = after_first[1]  # an entry between the two checkpoints (not the first after the first)
        assert victim <= second.heads["-"][1]
        rewrite_and_reseal(url, victim)
        assert chain_check_alone(url)  # the chain's own check passes: the attack of issue 24
        report = engine.audit_verify(LEAD)
        assert not report.ok
        [broken] = report.breaks
        assert broken.chain == "-" and broken.entry_id == after_first[0]  # after checkpoint 1, which holds
        said = str(broken.words())
        assert f"checkpoint {second.id}" in said and f"after checkpoint {first.id}" in said
        assert report.checkpoints.problems == []  # (the signatures themselves hold)
        # the cycle's chain was not touched and is not named
        assert not [b for b in report.breaks if b.chain != "-"]
        engine.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_rewrite_before_the_first_checkpoint_names_the_chains_first_entry(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        engine = trail(url)
        cycle_chain = ids_of(url, "g60-2027")
        rewrite_and_reseal(url, cycle_chain[0])
        report = engine.audit_verify(LEAD)
        assert [(b.chain, b.entry_id) for b in report.breaks] == [("g60-2027", cycle_chain[0])]
        assert "after the chain began" in str(report.breaks[0].words())
        engine.store.dispose()


# ------------------------------------------------------------------------------ the checkpoints themselves
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_changed_signature_does_not_hold(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        engine = trail(url)
        first, second = checkpoints_of(url)
        other = sign(replace(first, why="daily"), KEY_A).signature  # a real signature, of another text
        owner_sql(
            url, f"UPDATE audit_checkpoints SET signature = '{other}' WHERE id = {first.id}", table="audit_checkpoints"
        )
        report = engine.audit_verify(LEAD)
        assert not report.ok
        said = [str(p) for p in report.checkpoints.problems]
        assert said[0] == f"checkpoint {first.id}: its signature does not hold (it was changed, or forged)"
        # (and the next one no longer follows it: its link is the digest of what was signed)
        assert f"checkpoint {second.id} does not follow" in said[1]
        engine.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reseal_with_a_checkpoint_signed_by_another_key_is_caught(backend: str, tmp_path: Path) -> None:
    """The owner reseals, then signs a new checkpoint of the rewritten trail with a key of their
    own, linked to the last one: not a trusted key; relabelled with the trusted fingerprint, its
    signature does not hold."""
    with database(backend, tmp_path) as url:
        engine = trail(url)
        rewrite_and_reseal(url, ids_of(url, "-")[-1])
        intruder = new_engine(url, KEY_X, KEY_A)  # (the intruder's own engine signs with their key)
        forged = intruder.audit_checkpoint(LEAD)
        report = engine.audit_verify(LEAD)
        assert not report.ok
        assert str(report.checkpoints.problems[0]) == (
            f"checkpoint {forged.id} is signed with key {forged.key[:16]}, which is not one of the trusted public keys"
        )
        trusted_fp = fingerprint(KEY_A.public_key())
        owner_sql(
            url, f"UPDATE audit_checkpoints SET key = '{trusted_fp}' WHERE id = {forged.id}", table="audit_checkpoints"
        )
        report = engine.audit_verify(LEAD)
        assert f"checkpoint {forged.id}: its signature does not hold" in str(report.checkpoints.problems[0])
        engine.store.dispose()
        intruder.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_checkpoint_removed_between_two_others_is_caught_the_newest_removed_is_not(
    backend: str, tmp_path: Path
) -> None:
    with database(backend, tmp_path) as url:
        engine = trail(url)
        third = engine.audit_checkpoint(LEAD)
        first, second, _ = checkpoints_of(url)
        # the newest removed: what is left is a whole, valid history (it cannot be seen from the
        # database alone; keep the newest checkpoint elsewhere, see the README)
        owner_sql(url, f"DELETE FROM audit_checkpoints WHERE id = {third.id}", table="audit_checkpoints")
        assert engine.audit_verify(LEAD).ok
        owner_sql(url, f"DELETE FROM audit_checkpoints WHERE id = {first.id}", table="audit_checkpoints")
        report = engine.audit_verify(LEAD)
        assert not report.ok
        assert [str(p) for p in report.checkpoints.problems] == [
            f"checkpoint {second.id} does not follow the checkpoint before it (none): "
            "a checkpoint was removed or put in"
        ]
        engine.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_checkpoint_removed_with_the_reseal_is_caught_where_public_keys_are_configured(
    backend: str, tmp_path: Path
) -> None:
    with database(backend, tmp_path) as url:
        engine = trail(url)
        rewrite_and_reseal(url, ids_of(url, "-")[1])
        owner_sql(url, "DELETE FROM audit_checkpoints", table="audit_checkpoints")
        report = engine.audit_verify(LEAD)
        assert not report.ok and report.breaks == []
        assert [p.id for p in report.checkpoints.problems] == [
            "no checkpoint of the trail is signed, though public keys are configured to check them: "
            "they were removed, or none was signed yet (sign one with 'evalflow audit checkpoint')"
        ]
        engine.store.dispose()


def test_entries_left_unsigned_for_more_than_a_day_are_warned_of(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    engine = trail(url)  # entries c0, c1 after checkpoint 2, at 01-02 09:00
    clock = engine.clock
    assert isinstance(clock, SettableClock)
    clock.set(sh(1, 3, 11))  # 26 hours on: within the day and the scheduler's slack
    assert engine.audit_verify(LEAD).checkpoints.warnings == []
    clock.set(sh(1, 3, 12))
    [warning] = engine.audit_verify(LEAD).checkpoints.warnings
    assert str(warning) == (
        "2 entries since 2027-01-02 01:00 UTC are covered by no checkpoint: the daily checkpoint is missing "
        "(is 'evalflow scheduler run' running?), or the newest checkpoints were removed"
    )
    engine.sign_if_due()
    assert engine.audit_verify(LEAD).checkpoints.warnings == []
    engine.store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_keys_rotate_old_checkpoints_verify_with_the_old_public_key_kept_trusted(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        engine = trail(url)  # two checkpoints signed by key A
        engine.keyring = ring(KEY_B, KEY_A)  # rotated: B signs from now on, A's public key kept trusted
        add_users(engine, "d")
        newer = engine.audit_checkpoint(LEAD)
        assert newer.key == fingerprint(KEY_B.public_key())
        assert engine.audit_verify(LEAD).ok
        engine.keyring = ring(KEY_B)  # A's public key dropped: its checkpoints cannot be trusted
        report = engine.audit_verify(LEAD)
        first = checkpoints_of(url)[0]
        assert not report.ok and str(report.checkpoints.problems[0]).startswith(
            f"checkpoint {first.id} is signed with key {first.key[:16]}"
        )
        engine.store.dispose()


# ------------------------------------------------------------------------------ with no key
@pytest.mark.parametrize("backend", BACKENDS)
def test_with_no_key_the_trail_holds_and_verify_warns_that_nothing_is_signed(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        SqlStore(url).create()
        engine = new_engine(url, None)
        engine.add_user(None, LEAD, "lead", "songjiang")
        report = engine.audit_verify(LEAD)
        assert report.ok and report.checkpoints.count == 0
        assert [w.id for w in report.checkpoints.warnings] == [
            "No checkpoint of the trail is signed: a rewrite of the trail by the database's owner "
            "would not be seen (see 'evalflow audit keygen')"
        ]
        assert engine.sign_if_due() is None
        before = snapshot(engine.store)
        with pytest.raises(InvalidInput, match="none is configured"):
            engine.audit_checkpoint(LEAD)
        assert snapshot(engine.store) == before
        engine.store.dispose()


def test_only_the_lead_signs_or_reads_checkpoints(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    engine = trail(url)
    before = snapshot(engine.store)
    for action in (engine.audit_checkpoint, engine.audit_checkpoints):
        with pytest.raises(NotPermitted, match="a0 is applicant; the lead checks the trail"):
            action("a0")
    assert snapshot(engine.store) == before
    engine.store.dispose()


def test_the_daily_checkpoint_is_signed_when_the_newest_is_a_day_old_and_the_trail_moved(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    SqlStore(url).create()
    engine = new_engine(url)
    engine.add_user(None, LEAD, "lead", "songjiang")
    daily = engine.sign_if_due(sh(1, 2, 10))  # none yet: signed
    assert daily is not None and daily.why == "daily"
    assert engine.sign_if_due(sh(1, 3, 9, 59)) is None  # not a day old
    assert engine.sign_if_due(sh(1, 3, 10)) is None  # a day old, but nothing moved
    add_users(engine, "a")
    later = engine.sign_if_due(sh(1, 3, 10))
    assert later is not None and later.previous == digest(daily)
    assert engine.audit_verify(LEAD).ok
    engine.store.dispose()


# ------------------------------------------------------------------------------ the table
@pytest.mark.parametrize("backend", BACKENDS)
def test_checkpoints_are_append_only_in_the_database(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        engine = trail(url)
        store = engine.store
        for statement in ("UPDATE audit_checkpoints SET why = 'x'", "DELETE FROM audit_checkpoints"):
            with pytest.raises(Exception, match="append-only|permission denied"):
                with store.engine.begin() as conn:
                    conn.execute(text(statement))
        assert len(checkpoints_of(url)) == 2
        with store.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
                    q = f"SELECT has_table_privilege(current_user, 'audit_checkpoints', '{privilege}')"
                    assert conn.execute(text(q)).scalar() is False, privilege
        store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0012_adds_the_checkpoints_table_append_only_and_back(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        alembic(url, "upgrade", "0011")
        assert "audit_checkpoints" not in tables(url)
        alembic(url, "upgrade", "0012")
        store = SqlStore(url)
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_checkpoints (at, why, head, heads, last_entry_id, previous, key, signature)"
                    " VALUES ('2027-01-02 01:00:00', 'manual', 'h', '{}', 0, 'p', 'k', 's')"
                )
            )
        with pytest.raises(Exception, match="append-only|permission denied"):
            with store.engine.begin() as conn:
                conn.execute(text("DELETE FROM audit_checkpoints"))
        store.dispose()
        alembic(url, "downgrade", "0011")
        assert "audit_checkpoints" not in tables(url)
        SqlStore(url).dispose()


# ------------------------------------------------------------------------------ one checkpoint, no store
def test_a_checkpoint_verifies_from_its_fields_alone_and_any_change_breaks_it() -> None:
    heads = {"-": ("a" * 64, 3), "g60-2027": ("b" * 64, 7)}
    signed = sign(Checkpoint(at=sh(6, 12), why="publication", heads=heads), KEY_A)
    public = KEY_A.public_key()
    again = from_dict(signed.as_dict())
    assert signature_holds(again, public) and signed_bytes(again) == signed_bytes(signed)
    assert signed.last_entry_id == 7
    for changed in (
        replace(signed, why="manual"),
        replace(signed, at=sh(6, 13)),
        replace(signed, heads={**heads, "-": ("c" * 64, 3)}, head=""),
        replace(signed, previous="1" * 64),
        replace(signed, head="d" * 64),
    ):
        assert not signature_holds(changed, public)
    assert not signature_holds(signed, KEY_B.public_key())
    assert not signature_holds(replace(signed, signature="not base64!"), public)


# ------------------------------------------------------------------------------ the keys' files
def test_the_configured_keys_are_read_and_a_key_others_may_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "audit.key"
    private.write_bytes(private_pem(KEY_A))
    private.chmod(0o600)
    old = tmp_path / "old.pub"
    old.write_bytes(public_pem(KEY_B.public_key()))
    config = tmp_path / "evalflow.toml"
    config.write_text(f'[audit]\nsigning_key = "{private}"\ntrusted_keys = ["{old}"]\n', encoding="utf-8")
    monkeypatch.delenv("EVALFLOW_AUDIT_KEY", raising=False)
    loaded = load_keyring(str(config))
    assert loaded.fingerprint == fingerprint(KEY_A.public_key())
    assert set(loaded.trusted) == {fingerprint(KEY_A.public_key()), fingerprint(KEY_B.public_key())}
    monkeypatch.setenv("EVALFLOW_AUDIT_KEY", str(tmp_path / "missing.key"))  # the environment over the file
    with pytest.raises(InvalidInput, match="missing.key: cannot be read"):
        load_keyring(str(config))
    monkeypatch.delenv("EVALFLOW_AUDIT_KEY")
    if os.name == "posix":
        private.chmod(0o644)
        with pytest.raises(InvalidInput, match=r"other users may read this private key \(mode 0o644\)"):
            load_keyring(str(config))
        assert stat.S_IMODE(private.stat().st_mode) == 0o644  # (refused, not changed)
    private.chmod(0o600)
    old.write_text("not a key", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not an Ed25519 public key"):
        load_keyring(str(config))
