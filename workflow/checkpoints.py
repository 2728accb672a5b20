"""Signed checkpoints of the audit trail in the engine: the keys the configuration names, a
checkpoint signed at every publication, daily by the scheduler and on demand, and their check as
`audit verify` makes it (the signature, the link to the checkpoint before, and the trail running
through the head each one signed).

The sha256 chain alone holds only against someone who cannot write the whole table: the
database's owner can rewrite an entry, seal every hash after it again and set ``audit_heads``.
A checkpoint's signature is made with a key kept outside the database (a file on the server,
readable by the service's user alone), so such a rewrite no longer matches the head a checkpoint
signed, and the owner cannot sign a new one.

Configuration (the file of ``--config``, EVALFLOW_CONFIG or ./evalflow.toml)::

    [audit]
    signing_key = "/etc/evalflow/audit.key"           # the private key (or EVALFLOW_AUDIT_KEY)
    trusted_keys = ["/etc/evalflow/audit-2026.pub"]   # older public keys (or EVALFLOW_AUDIT_TRUSTED_KEYS)

The public half of the signing key is always trusted; ``trusted_keys`` keeps the keys of earlier
years verifiable after a rotation.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from i18n import Msg
from workflow.audit import GENESIS, Break, chain_of
from workflow.common import EngineCore, role_of
from workflow.errors import InvalidInput, NotPermitted, os_reason
from workflow.log import get_logger
from workflow.ports import StoreTx
from workflow.records import AuditEntry
from workflow.signing import Checkpoint, digest, fingerprint, read_private, read_public, sign, signature_holds

log = get_logger("evalflow.audit")

KEY_ENV = "EVALFLOW_AUDIT_KEY"
TRUSTED_ENV = "EVALFLOW_AUDIT_TRUSTED_KEYS"  # paths separated by the system's path separator (":")
DAY = timedelta(days=1)
_SLACK = timedelta(hours=2)  # (the scheduler's job runs hourly)
_PUBLISH = ("list", "publish")  # a publication's audit entry: its subject and action


@dataclass
class KeyRing:
    """The key that signs checkpoints (None: none is configured) and the public keys that
    verify them, by fingerprint."""

    signer: Any = None  # an Ed25519PrivateKey
    signer_file: str = ""
    trusted: dict[str, Any] = field(default_factory=dict)  # fingerprint -> Ed25519PublicKey

    @property
    def fingerprint(self) -> str:
        """The signing key's fingerprint ("" without one)."""
        return fingerprint(self.signer.public_key()) if self.signer is not None else ""


def audit_settings(config_path: str | None = None) -> dict[str, Any]:
    """The ``[audit]`` table of the configuration file (``config_path``, else EVALFLOW_CONFIG,
    else ./evalflow.toml when there is one), with EVALFLOW_AUDIT_KEY and
    EVALFLOW_AUDIT_TRUSTED_KEYS over it."""
    out: dict[str, Any] = {}
    chosen = (
        config_path
        or os.environ.get("EVALFLOW_CONFIG")
        or ("evalflow.toml" if Path("evalflow.toml").exists() else None)
    )
    if chosen:
        try:
            data = tomllib.loads(Path(chosen).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            data = {}  # (the notification settings' reader reports a broken file)
        table = data.get("audit")
        if isinstance(table, dict):
            out.update(table)
    if os.environ.get(KEY_ENV):
        out["signing_key"] = os.environ[KEY_ENV]
    if os.environ.get(TRUSTED_ENV):
        out["trusted_keys"] = [p for p in os.environ[TRUSTED_ENV].split(os.pathsep) if p]
    return out


def load_keyring(config_path: str | None = None, public_keys: Sequence[str] = ()) -> KeyRing:
    """The keys the configuration names (see the module's text), and ``public_keys`` (files)
    besides. A key file named but unreadable, not an Ed25519 key, or a private key that others
    than its owner may read is refused (exit 7): signing must not stop silently."""
    settings = audit_settings(config_path)
    ring = KeyRing()
    private = str(settings.get("signing_key") or "")
    if private:
        ring.signer = _private_key(Path(private))
        ring.signer_file = private
        public = ring.signer.public_key()
        ring.trusted[fingerprint(public)] = public
    trusted = settings.get("trusted_keys") or []
    if isinstance(trusted, str):
        trusted = [trusted]
    for name in [*trusted, *public_keys]:
        key = _public_key(Path(str(name)))
        ring.trusted[fingerprint(key)] = key
    return ring


def _key_problem(file: Path, why: Any) -> InvalidInput:
    return InvalidInput(Msg("audit key file {file}", file=file), [why])


def _private_key(file: Path) -> Any:
    try:
        mode = file.stat().st_mode
        data = file.read_bytes()
    except OSError as exc:
        raise _key_problem(file, Msg("cannot be read: {why}", why=os_reason(exc))) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        # (as ssh refuses a private key others may read: a key others can read signs nothing)
        raise _key_problem(
            file,
            Msg(
                "other users may read this private key (mode {mode}); make it readable by its owner only (chmod 600)",
                mode=oct(stat.S_IMODE(mode)),
            ),
        )
    try:
        return read_private(data)
    except ValueError:
        raise _key_problem(file, Msg("it is not an unencrypted Ed25519 private key in PEM")) from None


def _public_key(file: Path) -> Any:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _key_problem(file, Msg("cannot be read: {why}", why=os_reason(exc))) from None
    try:
        return read_public(data)
    except ValueError:
        raise _key_problem(file, Msg("it is not an Ed25519 public key in PEM")) from None


class CheckpointActions(EngineCore):
    """Mixed into the engine: signing checkpoints of the audit trail and reading them."""

    audit_config: str | None = None  # the configuration file the keys are read from (see audit_settings)
    _keyring: KeyRing | None = None

    @property
    def keyring(self) -> KeyRing:
        """The keys (read from the configuration when first needed)."""
        if self._keyring is None:
            self._keyring = load_keyring(self.audit_config)
        return self._keyring

    @keyring.setter
    def keyring(self, ring: KeyRing) -> None:
        self._keyring = ring

    def _sign_checkpoint(self, tx: StoreTx, why: str, now: datetime, due: timedelta | None = None) -> Checkpoint | None:
        """Sign a checkpoint of the trail as this transaction sees it (its own entries included)
        and insert it; None without a signing key, or, given ``due``, while the newest
        checkpoint is younger than that or the trail has not moved since it."""
        ring = self.keyring
        if ring.signer is None:
            log.info("audit_checkpoint_skipped", why=why, reason="no signing key configured")
            return None
        tx.lock_checkpoints()  # (each links to the one before: two writers queue)
        last = tx.audit_checkpoints(newest=1)
        heads = tx.audit_positions()
        if due is not None and last and (now - last[0].at < due or dict(last[0].heads) == heads):
            return None
        unsigned = Checkpoint(at=now, why=why, heads=heads, previous=digest(last[0]) if last else GENESIS)
        signed = sign(unsigned, ring.signer)
        signed = replace(signed, id=tx.add_checkpoint(signed))
        log.info("audit_checkpoint_signed", id=signed.id, why=why, head=signed.head, key=signed.key)
        return signed

    def _lead_only(self, tx: StoreTx, acting: str | None, what: Msg) -> None:
        user = self._user(tx, acting)
        if user.role != "lead":
            why = Msg("{name} is {role}; the lead checks the trail", name=user.name, role=role_of(user.role))
            raise NotPermitted(what, Msg("the audit trail"), why)

    def audit_checkpoint(self, acting: str | None) -> Checkpoint:
        """Sign a checkpoint now (the lead; `evalflow audit checkpoint`)."""
        with self._transaction() as tx:
            self._lead_only(tx, acting, Msg("sign a checkpoint of"))
            signed = self._sign_checkpoint(tx, "manual", self.now())
            if signed is None:
                raise InvalidInput(
                    Msg("audit signing key"),
                    [
                        Msg(
                            "none is configured: set [audit] signing_key in the configuration file, or "
                            "EVALFLOW_AUDIT_KEY, to a key made by 'evalflow audit keygen'"
                        )
                    ],
                )
            return signed

    def sign_if_due(self, now: datetime | None = None) -> Checkpoint | None:
        """The scheduler's daily checkpoint: signed when the newest one is a day old or more and
        the trail has moved since (or when there is none yet); None otherwise, or without a key."""
        if self.keyring.signer is None:
            return None
        with self._transaction() as tx:
            return self._sign_checkpoint(tx, "daily", now or self.now(), due=DAY)

    def audit_checkpoints(self, acting: str | None) -> list[Checkpoint]:
        """Every signed checkpoint, oldest first (the lead)."""
        with self._transaction(write=False) as tx:
            self._lead_only(tx, acting, Msg("read the checkpoints of"))
            return tx.audit_checkpoints()


# -- the check -------------------------------------------------------------------------------------
class Tap:
    """Passes the trail's entries on (to workflow.audit.verify) and notes what the checks of the
    checkpoints need: the chain and hash of each entry at a checkpoint's position, the entry that
    follows it in its chain, each chain's first entry, the publications' entries, and the entries
    after the newest checkpoint (``newest``: its position in each chain)."""

    def __init__(self, entries: Iterable[AuditEntry], positions: set[int], newest: Mapping[str, int] | None = None):
        self.entries = entries
        self.positions = positions
        self.newest = newest or {}
        self.found: dict[int, tuple[str, str]] = {}
        self.after: dict[int, int] = {}
        self.first: dict[str, int] = {}
        self.publications: list[tuple[str, int]] = []
        self.unsigned = 0  # entries after the newest checkpoint
        self.unsigned_since: datetime | None = None  # the oldest of them

    def __iter__(self) -> Iterator[AuditEntry]:
        waiting: dict[str, int] = {}  # chain -> a position whose next entry is not seen yet
        for entry in self.entries:
            chain = chain_of(entry.cycle_id)
            eid = entry.id or 0
            self.first.setdefault(chain, eid)
            if chain in waiting:
                self.after[waiting.pop(chain)] = eid
            if eid in self.positions:
                self.found[eid] = (chain, entry.hash or "")
                waiting[chain] = eid
            if (entry.subject, entry.action) == _PUBLISH:
                self.publications.append((chain, eid))
            if eid > self.newest.get(chain, 0):
                self.unsigned += 1
                if entry.at is not None and (self.unsigned_since is None or entry.at < self.unsigned_since):
                    self.unsigned_since = entry.at
            yield entry


@dataclass
class CheckpointCheck:
    """What the check of the checkpoints found."""

    count: int = 0
    problems: list[Msg] = field(default_factory=list)  # a checkpoint that does not hold
    breaks: list[Break] = field(default_factory=list)  # a chain that does not run through one
    warnings: list[Msg] = field(default_factory=list)
    newest: Checkpoint | None = None


def check_checkpoints(
    checkpoints: Sequence[Checkpoint],
    tap: Tap,
    chain_breaks: Mapping[str, Break],
    trusted: Mapping[str, Any],
    only: str | None = None,
    now: datetime | None = None,
    entries: int = 0,
) -> CheckpointCheck:
    """Check each checkpoint, oldest first: it follows the one before it, its signature is a
    trusted key's, and every chain (``only`` that one, when given) runs through the head it
    signed. A chain that does not is broken at the first entry after the last checkpoint that
    still holds for it (what a rewrite and reseal by the database's owner leaves). Every
    publication after the first checkpoint must have its own. ``chain_breaks``: each chain's
    first break as the chain's own check found it (not reported twice). With public keys to
    check them, a trail of ``entries`` and no checkpoint at all does not hold (they were all
    removed, or none was ever signed); entries left unsigned for more than a day (at ``now``)
    are warned of: the daily checkpoint is missing."""
    out = CheckpointCheck(count=len(checkpoints), newest=checkpoints[-1] if checkpoints else None)
    if not checkpoints and trusted and entries:
        out.problems.append(
            Msg(
                "no checkpoint of the trail is signed, though public keys are configured to check them: "
                "they were removed, or none was signed yet (sign one with 'evalflow audit checkpoint')"
            )
        )
        return out
    if not checkpoints:
        out.warnings.append(
            Msg(
                "No checkpoint of the trail is signed: a rewrite of the trail by the database's owner "
                "would not be seen (see 'evalflow audit keygen')"
            )
        )
        return out
    if not trusted:
        out.warnings.append(
            Msg(
                "The signatures of {count} checkpoints are not checked: no public key is configured "
                "([audit] signing_key or trusted_keys)",
                count=len(checkpoints),
            )
        )
    before, previous = None, GENESIS
    good: dict[str, Checkpoint] = {}  # chain -> the newest checkpoint that holds for it
    done: set[str] = set()
    published: set[tuple[str, int]] = set()
    for cp in checkpoints:
        if cp.previous != previous:
            out.problems.append(
                Msg(
                    "checkpoint {id} does not follow the checkpoint before it ({before}): "
                    "a checkpoint was removed or put in",
                    id=cp.id,
                    before=before.id if before is not None else Msg("none"),
                )
            )
        before, previous = cp, digest(cp)
        if trusted:
            key = trusted.get(cp.key)
            if key is None:
                out.problems.append(
                    Msg(
                        "checkpoint {id} is signed with key {key}, which is not one of the trusted public keys",
                        id=cp.id,
                        key=cp.key[:16],
                    )
                )
                continue
            if not signature_holds(cp, key):
                out.problems.append(
                    Msg("checkpoint {id}: its signature does not hold (it was changed, or forged)", id=cp.id)
                )
                continue
        if cp.why == "publication":
            published.update((chain, entry) for chain, (_, entry) in cp.heads.items())
        for chain, (value, entry) in cp.heads.items():
            if (only is not None and chain != only) or chain in done or chain in chain_breaks:
                continue
            if tap.found.get(entry) == (chain, value):
                good[chain] = cp
                continue
            done.add(chain)
            prior = good.get(chain)
            first = tap.after.get(prior.heads[chain][1]) if prior is not None else tap.first.get(chain)
            why = Msg(
                "the trail does not run through the head that checkpoint {id} ({at}) signed at entry {entry}: "
                "entries from here on were rewritten or removed after {since}",
                id=cp.id,
                at=cp.at.strftime("%Y-%m-%d %H:%M UTC"),
                entry=entry,
                since=Msg("checkpoint {id}", id=prior.id) if prior is not None else Msg("the chain began"),
            )
            out.breaks.append(Break(chain, first or entry, why))
    start = {chain: entry for chain, (_, entry) in checkpoints[0].heads.items()}
    for chain, eid in tap.publications:
        if chain in chain_breaks or chain in done or eid <= start.get(chain, 0) or (chain, eid) in published:
            continue
        done.add(chain)
        why = Msg(
            "this publication has no signed checkpoint: its checkpoint was removed, "
            "or it was published with no signing key configured"
        )
        out.breaks.append(Break(chain, eid, why))
    since = tap.unsigned_since
    if now is not None and since is not None and now - since > DAY + _SLACK:
        out.warnings.append(
            Msg(
                "{count} entries since {at} are covered by no checkpoint: the daily checkpoint is missing "
                "(is 'evalflow scheduler run' running?), or the newest checkpoints were removed",
                count=tap.unsigned,
                at=since.strftime("%Y-%m-%d %H:%M UTC"),
            )
        )
    return out
