"""evalflow — the command line. Wires configuration, logging, the store and the engine.

The commands live in the package ``commands/``, one module per command group; what they share
(configuration, error handling, output) is in :mod:`commands.common`. This module is the entry
point (`evalflow`, `python -m cli`): the global options and the groups in their order. Heavy
modules (SQLAlchemy, the engine) are imported inside commands so that `--help` is fast. Every
user-caused error prints one line `Error: …` and exits with its own code.
"""

from __future__ import annotations

import os

import click

from commands import (
    appeals,
    attachments,
    audit,
    cycles,
    db,
    decisions,
    demos,
    documents,
    lists,
    overrides,
    programs,
    projects,
    reminders,
    remote,
    reports,
    scores,
    serve,
    templates,
    units,
    users,
)
from commands.common import EXIT_CODES_HELP, Config, configure_logging

__all__ = ["main"]


@click.group(
    cls=remote.ForwardingGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="evalflow", message="evalflow %(version)s")
@click.option("--db", envvar="EVALFLOW_DATABASE_URL", help="Database file or URL (default ./evalflow.db).")
@click.option("--as", "user", envvar="EVALFLOW_USER", help="Act as this user (or EVALFLOW_USER).")
@click.option("--now", envvar="EVALFLOW_NOW", help="Rehearse at this instant (ISO; naive = Asia/Shanghai).")
@click.option("--json", "json_out", is_flag=True, help="Machine-readable output for read commands.")
@click.option("-v", "--verbose", is_flag=True, help="Log every event (JSON when not on a terminal).")
@click.option(
    "--config",
    "config_path",
    envvar="EVALFLOW_CONFIG",
    help="Notification settings (SMTP, recipients, webhooks); default ./evalflow.toml if present.",
)
@click.option(
    "--lang",
    envvar="EVALFLOW_LANG",
    help="The language of what evalflow says: zh (中文, the default) or en (English, as scripts read it).",
)
@click.pass_context
def main(
    ctx: click.Context,
    db: str | None,
    user: str | None,
    now: str | None,
    json_out: bool,
    verbose: bool,
    config_path: str | None,
    lang: str | None,
) -> None:
    """evalflow — run multi-stage evaluation programs, each declared in a program file."""
    import i18n
    from workflow.log import before_first_use

    try:
        token = i18n.set_language(lang or i18n.DEFAULT)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--lang'") from None
    ctx.call_on_close(lambda: i18n.reset_language(token))  # (a command run in-process leaves no trace)

    before_first_use(lambda: configure_logging(verbose))  # structlog is imported only by a command that logs
    # a command the server runs for a signed-in machine acts as the token's user, whoever it claims to be
    user = os.environ.get("EVALFLOW_REMOTE_USER") or user
    ctx.obj = Config(db, user, now, json_out)
    ctx.obj.config_path = config_path


for _command in (
    db.init,
    db.db,
    users.user,
    programs.program,
    cycles.cycle,
    projects.project,
    units.unit,
    decisions.review,
    decisions.recommend,
    scores.score_group,
    scores.scores_group,
    templates.template,
    reports.report,
    documents.document,
    documents.verify,
    lists.list_group,
    lists.publish,
    decisions.vote,
    decisions.award,
    appeals.appeal,
    overrides.override,
    reminders.remind,
    reminders.scheduler,
    audit.audit,
    serve.serve,
    demos.demo,
    remote.login,
    remote.logout,
    remote.whoami,
):
    main.add_command(_command)
attachments.register(projects.project)  # `evalflow project attach | attachments | attachment`


if __name__ == "__main__":  # pragma: no cover  (`python -m cli`: the command without its installed script)
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main(prog_name="evalflow")
