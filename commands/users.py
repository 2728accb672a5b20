"""`evalflow user`: users, their roles and passwords, and their API tokens."""

from __future__ import annotations

import sys

import click

from commands.common import ID, cfg, handled, json_option, local, out
from i18n import Msg, Text


@click.group()
def user() -> None:
    """Users and their roles."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["lead", "city-admin", "scorer", "applicant"]), required=True)
@click.option("--city", help="The user's city (required for city-admin and scorer).")
@handled
def user_add(name: str, role: str, city: str | None) -> None:
    """Add a user. The first user must be the lead; after that only the lead adds users."""
    from workflow.common import role_of

    u = cfg().engine().add_user(cfg().user, name, role, city)
    if u.city:
        said = Msg("Added {name} ({role}, {city})", name=u.name, role=role_of(u.role), city=_party(u.city))
        click.echo(said.render())
    else:
        click.echo(Msg("Added {name} ({role})", name=u.name, role=role_of(u.role)).render())


def _party(city: str) -> Text:
    """A user's city as a line names it: its id in English, its name in Chinese (from the first
    program that has it as a party; a user belongs to no one program)."""
    from workflow.program import ProgramRegistry

    registry = ProgramRegistry()
    for program_id in registry.ids():
        found = next((p for p in registry.get(program_id).parties if p.id == city), None)
        if found is not None:
            return Text(city, found.name)
    return Text(city, city)


@user.command("list")
@json_option
@handled
def user_list() -> None:
    """List users."""
    users = cfg().engine().users()

    def text() -> None:
        for u in users:
            from workflow.common import role_of

            row = Msg("{name:<20} {role:<11} {city}", name=u.name, role=role_of(u.role), city=u.city or "")
            click.echo(row.render())

    out(users, text)


@user.command("deactivate")
@click.argument("name")
@handled
def user_deactivate(name: str) -> None:
    """Deactivate NAME (lead): no more sign-ins; their sessions end and their tokens stop working."""
    cfg().engine().set_active(cfg().user, name, False)
    click.echo(Msg("{name} is deactivated; their sessions and tokens no longer work", name=name).render())


@user.command("activate")
@click.argument("name")
@handled
def user_activate(name: str) -> None:
    """Reactivate NAME (lead): they may sign in again with their password."""
    cfg().engine().set_active(cfg().user, name, True)
    click.echo(Msg("{name} is active again", name=name).render())


@user.command("role")
@click.argument("name")
@click.option("--role", type=click.Choice(["lead", "city-admin", "scorer", "applicant"]), required=True)
@click.option("--city", help="The user's city (required for city-admin and scorer).")
@handled
def user_role(name: str, role: str, city: str | None) -> None:
    """Give NAME another role or city (lead)."""
    from workflow.common import role_of

    u = cfg().engine().change_user(cfg().user, name, role, city)
    city_words = _party(u.city) if u.city else Msg("no city")
    click.echo(Msg("{name} is now {role} ({city})", name=u.name, role=role_of(u.role), city=city_words).render())


@user.command("unlock")
@click.argument("name")
@handled
def user_unlock(name: str) -> None:
    """Let NAME sign in again at once after too many wrong passwords (lead).

    Wrong sign-ins are counted per client address; the unlock forgets them for every address."""
    cfg().engine().unlock(cfg().user, name)
    click.echo(Msg("{name} may sign in again from every address", name=name).render())


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@handled
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set NAME's password for the web console (the lead for anyone, a user for themself).

    Only an Argon2id hash is kept; the user's browser sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        asked = Msg("New password for {name}", name=name).render()
        password = click.prompt(asked, hide_input=True, confirmation_prompt=True)
    cfg().engine().set_password(cfg().user, name, password)
    click.echo(Msg("Password set for {name}; their sessions have ended", name=name).render())


@user.group("token")
def user_token() -> None:
    """API tokens for scripts (`Authorization: Bearer TOKEN` on /api/)."""


@user_token.command("add")
@click.argument("name")
@click.option("--label", default="script", show_default=True, help="What the token is for (shown in `token list`).")
@handled
def user_token_add(name: str, label: str) -> None:
    """Make an API token acting as NAME. It is printed once; keep it secret."""
    secret, token = cfg().engine().new_token(cfg().user, name, label)
    click.echo(secret)
    said = Msg(
        "Token {id} for {name} ({label}): shown only now; revoke with `evalflow user token revoke {id}`",
        id=token.id,
        name=name,
        label=label,
    )
    click.echo(said.render(), err=True)


@user_token.command("list")
@json_option
@click.option("--user", "name", help="Only this user's tokens (the lead may name anyone).")
@handled
def user_token_list(name: str | None) -> None:
    """List API tokens (never their secrets)."""
    tokens = cfg().engine().tokens(cfg().user, name)

    def text() -> None:
        for t in tokens:
            if t.revoked_at:
                when = Msg("revoked {at}", at=local(t.revoked_at))
            else:
                when = Msg("last used {at}", at=local(t.last_used))
            line = Msg(
                "{id} {user} {label} made {at}  {when}",
                id=f"{t.id:>4}",
                user=f"{t.user_name:<16}",
                label=f"{t.label:<20}",
                at=local(t.created_at),
                when=when,
            )
            click.echo(line.render())

    out([{k: v for k, v in vars(t).items() if k != "token_hash"} for t in tokens], text)


@user_token.command("revoke")
@click.argument("token_id", type=ID)
@handled
def user_token_revoke(token_id: int) -> None:
    """Revoke an API token at once."""
    token = cfg().engine().revoke_token(cfg().user, token_id)
    click.echo(Msg("Token {id} of {user} is revoked", id=token.id, user=token.user_name).render())
