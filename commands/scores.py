"""`evalflow score`: score sheets, one at a time or a city's whole sheet."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import cfg, full_report, handled, party_words, program_of_cycle, progress
from i18n import Msg


class _DefaultCommandGroup(click.Group):
    """A group whose first argument, when it is not one of its commands, goes to a default
    command: `evalflow score 12 --value …` enters one sheet, `evalflow score import FILE` many."""

    default = "sheet"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


@click.group("score", cls=_DefaultCommandGroup)
def score_group() -> None:
    """Score sheets: `score PROJECT --CRITERION N …` enters one; `score import FILE` a city's whole sheet."""


class _SheetCommand(click.Command):
    """`score PROJECT --CRITERION N …`: one option per criterion of the project's program, read
    from its file (a program's own words never live in the command line). ``--help`` lists each
    program's criteria with their bands."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from workflow.program import ProgramRegistry

        registry = ProgramRegistry()
        for program_id in registry.ids():
            program = registry.get(program_id)
            if not program.criteria:
                continue
            rows = []
            for c in program.criteria:
                bands = " · ".join(f"{b.min}-{b.max}" for b in sorted(c.bands, key=lambda b: b.min))
                rows.append(
                    (
                        f"--{c.id.replace('_', '-')} N",
                        Msg("{name} (bands {bands})", name=c.short or c.name, bands=bands).render(),
                    )
                )
            if program.sheet_note:
                rows.append(("--completion TEXT", program.sheet_note))
            with formatter.section(Msg("Criteria of {program}", program=program_id).render()):
                formatter.write_dl(rows)


@score_group.command(
    "sheet", cls=_SheetCommand, context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
)
@click.argument("project_id", type=int)
@click.option("--completion", default="", help="The sheet's note beside the scores, where the program has one.")
@click.pass_context
@handled
def score(ctx: click.Context, project_id: int, completion: str) -> None:
    """Enter (or replace) your city's score sheet for a shortlisted project: one `--CRITERION N`
    per criterion of the program's sheet (listed below)."""
    engine = cfg().engine()
    program = program_of_cycle(engine.project(cfg().user, project_id)[0].cycle_id)
    scores = _criteria_options(ctx.args, [c.id for c in program.criteria])
    engine.score(cfg().user, project_id, scores, completion)
    click.echo(Msg("Scored project {id}: total {total}", id=project_id, total=sum(scores.values())).render())


def _criteria_options(args: list[str], criteria: list[str]) -> dict[str, int]:
    """``--ID N`` (or ``--ID=N``) for each criterion, as click would read typed options."""
    options = {f"--{c.replace('_', '-')}": c for c in criteria}
    scores: dict[str, int] = {}
    rest = list(args)
    while rest:
        word = rest.pop(0)
        name, has_value, value = word.partition("=")
        if name not in options:
            raise click.UsageError(
                Msg("No such option: {name}", name=name).render()
                if name.startswith("-")
                else Msg("Got unexpected extra argument ({args})", args=word).render()
            )
        if not has_value:
            if not rest:
                raise click.UsageError(Msg("Option '{name}' requires an argument.", name=name).render())
            value = rest.pop(0)
        try:
            scores[options[name]] = int(value)
        except ValueError:
            raise click.BadParameter(
                Msg("{value!r} is not a valid integer.", value=value).render(), param_hint=f"'{name}'"
            ) from None
    for option, criterion in options.items():
        if criterion not in scores:
            raise click.UsageError(Msg("Missing option '{option}'.", option=option).render())
    return scores


@score_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cycle", "cycle_id")
@handled
def score_import(file: Path, cycle_id: str | None) -> None:
    """Record every filled row of your city's score sheet, all or nothing (same band rules as `score`)."""
    from sheets.scores import read_scores
    from workflow.errors import InvalidInput

    engine = cfg().engine()
    cycle, program, _ = engine.shortlist(cfg().user, cycle_id)
    with full_report(file):
        named, items, skipped = read_scores(file, program.criteria)
    user = next((u for u in engine.users() if u.name == cfg().user), None)
    sheet = Msg("score sheet {file}", file=file.name)
    if named is not None and user is not None and user.city != named:
        whose = Msg(
            "it is {named}'s sheet; {user} scores for {city}",
            named=party_words(named, cycle.id),
            user=user.name,
            city=party_words(user.city, cycle.id),
        )
        raise InvalidInput(sheet, [whose])
    if not items:
        raise InvalidInput(sheet, [Msg("no row is filled in")])
    checking = Msg("checking {count} score sheets", count=len(items)).render()
    with full_report(file), progress(len(items), checking) as update:
        done = engine.fire_each(cfg().user, [(pid, req) for _, pid, req in items], "score", progress=update)
    left = Msg("; {count} rows left empty", count=skipped) if skipped else ""
    city = named or (user.city if user else "?")
    recorded = Msg(
        "Recorded {count} score sheets for {city}{left}", count=len(done), city=party_words(city, cycle.id), left=left
    )
    click.echo(recorded.render())
