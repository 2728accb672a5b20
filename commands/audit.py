"""`evalflow audit`: verify the audit trail's hash chains, print their head, rebuild state from the
trail; make the key that signs its checkpoints, sign one, list them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from commands.common import cfg, handled, json_option, local, out
from i18n import Msg


def _differs(d: Any) -> Msg:
    """A project whose stored state the trail does not give, as a line says it."""
    extra = Msg(" ({why})", why=d.why) if d.why else ""
    return Msg(
        "project {id}: stored '{stored}', the trail gives '{replayed}'{extra}",
        id=d.project_id,
        stored=d.stored,
        replayed=d.replayed,
        extra=extra,
    )


@click.group()
def audit() -> None:
    """The audit trail: verify its hash chains, print their head, rebuild state from it (lead)."""


@audit.command("verify")
@json_option
@click.option("--cycle", "cycle_id", help="Only this cycle's chain (default: every chain).")
@click.option("--head", help="The head you kept from `audit head`: a trail cut off before it is caught.")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A public key (PEM) trusted to have signed checkpoints, besides the configuration's; repeatable.",
)
@handled
def audit_verify(cycle_id: str | None, head: str | None, public_keys: tuple[str, ...]) -> None:
    """Recompute every hash of the trail and check every signed checkpoint; name the first broken
    entry of each chain (exit 11)."""
    from i18n import plain
    from workflow.errors import TrailBroken

    engine = cfg().engine()
    if public_keys:
        from workflow.checkpoints import load_keyring

        engine.keyring = load_keyring(cfg().config_path, public_keys)
    report = engine.audit_verify(cfg().user, cycle_id, head)
    checked = report.checkpoints
    data = {
        **report.as_dict(plain),
        "newest_checkpoint": checked.newest.as_dict() if checked.newest is not None else None,
    }
    if report.ok:
        holds = Msg(
            "The audit trail holds: {entries} entries in {chains} chains",
            entries=report.entries,
            chains=len(report.chains),
        )

        def text() -> None:
            click.echo(holds.render())
            if checked.newest is not None:
                newest = checked.newest
                said = Msg(
                    "Every one of its {count} signed checkpoints holds; "
                    "the newest, {id} ({at}), covers entries up to {entry}",
                    count=checked.count,
                    id=newest.id,
                    at=local(newest.at),
                    entry=newest.last_entry_id,
                )
                click.echo(said.render())
            for warning in checked.warnings:  # (not a failure: said beside the result, on stderr)
                click.echo(Msg("Warning: {message}", message=warning).render(), err=True)

        out(data, text)
        return
    if cfg().json:
        click.echo(json.dumps(data, ensure_ascii=False))
    if report.breaks:
        more = Msg(" (and {count} more chains broken)", count=len(report.breaks) - 1) if len(report.breaks) > 1 else ""
        first: Any = report.breaks[0].words()
    else:
        problems = checked.problems
        more = Msg(" (and {count} more)", count=len(problems) - 1) if len(problems) > 1 else ""
        first = problems[0]
    raise TrailBroken(Msg("The audit trail does not hold: {first}{more}", first=first, more=more))


@audit.command("head")
@click.option("--cycle", "cycle_id", help="One cycle's chain (default: all chains at once).")
@handled
def audit_head(cycle_id: str | None) -> None:
    """Print the trail's head hash: keep it outside the database, then `audit verify --head HASH`."""
    click.echo(cfg().engine().audit_head(cfg().user, cycle_id))


@audit.command("replay")
@json_option
@click.option("--cycle", "cycle_id", help="Only this cycle (default: every cycle).")
@handled
def audit_replay(cycle_id: str | None) -> None:
    """Rebuild every project's state from the trail alone and compare it with the stored state (exit 11)."""
    from workflow.errors import TrailBroken

    report = cfg().engine().audit_replay(cfg().user, cycle_id)
    data = {
        "ok": report.ok,
        "projects": report.projects,
        "entries": report.entries,
        "differences": [str(d) for d in report.differences],
    }
    if report.ok:
        gives = Msg(
            "The trail gives every stored state: {projects} projects from {entries} entries",
            projects=report.projects,
            entries=report.entries,
        )
        out(data, lambda: click.echo(gives.render()))
        return
    if cfg().json:
        click.echo(json.dumps(data, ensure_ascii=False))
    more = Msg(" (and {count} more)", count=len(report.differences) - 1) if len(report.differences) > 1 else ""
    first = _differs(report.differences[0])
    raise TrailBroken(Msg("The trail does not give the stored state: {first}{more}", first=first, more=more))


@audit.command("keygen")
@json_option
@click.option(
    "--out",
    "out_path",
    default="evalflow-audit.key",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The private key's file (mode 0600); the public key is written beside it as FILE.pub.",
)
@click.option("--force", is_flag=True, help="Replace existing key files.")
@handled
def audit_keygen(out_path: str, force: bool) -> None:
    """Make an Ed25519 key pair that signs the audit trail's checkpoints; print its fingerprint.
    Name the private key in the configuration ([audit] signing_key, or EVALFLOW_AUDIT_KEY)."""
    from workflow.errors import InvalidInput
    from workflow.signing import fingerprint, new_key, private_pem, public_pem

    private_file = Path(out_path)
    public_file = private_file.with_name(private_file.name + ".pub")
    existing = [f for f in (private_file, public_file) if f.exists()]
    if existing and not force:
        raise InvalidInput(
            Msg("key file"),
            [
                Msg(
                    "{file} already exists; pass --force to replace it (checkpoints signed with the old key "
                    "then verify only while its public key stays in [audit] trusted_keys)",
                    file=existing[0],
                )
            ],
        )
    key = new_key()
    _write_private(private_file, private_pem(key), force)
    public_file.write_bytes(public_pem(key.public_key()))
    printed = fingerprint(key.public_key())
    data = {"private_key": str(private_file), "public_key": str(public_file), "fingerprint": printed}
    said = Msg(
        "Wrote the private key to {private} (readable by its owner only) and the public key to {public}; "
        "fingerprint {fingerprint}",
        private=private_file,
        public=public_file,
        fingerprint=printed,
    )
    out(data, lambda: click.echo(said.render()))


def _write_private(file: Path, data: bytes, force: bool) -> None:
    """Write a private key readable by its owner only, from its first byte (never a moment at
    the process's umask)."""
    if force:
        file.unlink(missing_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


@audit.command("checkpoint")
@json_option
@handled
def audit_checkpoint() -> None:
    """Sign a checkpoint of the trail now with the configured key (the lead)."""
    signed = cfg().engine().audit_checkpoint(cfg().user)
    said = Msg(
        "Signed checkpoint {id}: head {head}, entries up to {entry}, key {key}",
        id=signed.id,
        head=signed.head,
        entry=signed.last_entry_id,
        key=signed.key,
    )
    out(signed.as_dict(), lambda: click.echo(said.render()))


# a checkpoint's reason as a line says it
WHY = {"publication": Msg("publication"), "daily": Msg("daily"), "manual": Msg("manual")}


@audit.command("checkpoints")
@json_option
@click.option("--last", type=click.IntRange(1), help="Only the newest N checkpoints.")
@handled
def audit_checkpoints(last: int | None) -> None:
    """The signed checkpoints of the trail, oldest first: when, why, the head signed, the key (the lead).
    With --json each one's every field, signature included, to check it elsewhere."""
    items = cfg().engine().audit_checkpoints(cfg().user)
    if last:
        items = items[-last:]

    def text() -> None:
        for cp in items:
            line = Msg(
                "{id}  {at}  {why}  head {head}  entries up to {entry}  key {key}",
                id=cp.id,
                at=local(cp.at),
                why=WHY.get(cp.why, cp.why),
                head=cp.head[:16],
                entry=cp.last_entry_id,
                key=cp.key[:16],
            )
            click.echo(line.render())
        click.echo(Msg("{count} signed checkpoints", count=len(items)).render())

    out([cp.as_dict() for cp in items], text)
