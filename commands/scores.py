"""`evalflow score`: score sheets, one at a time or a city's whole sheet."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import cfg, full_report, handled, progress


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
    """Score sheets: `score PROJECT --value …` enters one; `score import FILE` a city's whole sheet."""


@score_group.command("sheet")
@click.argument("project_id", type=int)
@click.option("--value", type=int, required=True, help="项目价值 (bands 12-14 · 15-17 · 18-20)")
@click.option("--organization", type=int, required=True, help="组织有力 (16-20 · 21-25 · 26-30)")
@click.option("--effectiveness", type=int, required=True, help="成效显著 (16-20 · 21-25 · 26-30)")
@click.option("--mechanism", type=int, required=True, help="创新机制 (12-14 · 15-17 · 18-20)")
@click.option("--completion", default="", help="项目完成情况")
@handled
def score(project_id: int, value: int, organization: int, effectiveness: int, mechanism: int, completion: str) -> None:
    """Enter (or replace) your city's score sheet for a shortlisted project."""
    scores = {"value": value, "organization": organization, "effectiveness": effectiveness, "mechanism": mechanism}
    cfg().engine().score(cfg().user, project_id, scores, completion)
    click.echo(f"Scored project {project_id}: total {sum(scores.values())}")


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
    if named is not None and user is not None and user.city != named:
        raise InvalidInput(f"score sheet {file.name}", [f"it is {named}'s sheet; {user.name} scores for {user.city}"])
    if not items:
        raise InvalidInput(f"score sheet {file.name}", ["no row is filled in"])
    with full_report(file), progress(len(items), f"checking {len(items)} score sheets") as update:
        done = engine.fire_each(cfg().user, [(pid, req) for _, pid, req in items], "score", progress=update)
    left = f"; {skipped} rows left empty" if skipped else ""
    click.echo(f"Recorded {len(done)} score sheets for {named or (user.city if user else '?')}{left}")
