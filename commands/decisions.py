"""The decisions on projects that are commands of their own: review, recommend, vote, award."""

from __future__ import annotations

import click

from commands.common import ID, cfg, expect_version_option, fire_cmd, handled, program_of_cycle
from i18n import Msg


@click.command()
@click.argument("project_id", type=ID)
@click.option(
    "--result", required=True, help="One of the program's review results, by id or Chinese name (program show)."
)
@click.option(
    "--method", required=True, help="One of the program's review methods, by id or Chinese name (program show)."
)
@expect_version_option
@handled
def review(project_id: int, result: str, method: str, expected_version: int | None) -> None:
    """Record the review result of a library project."""
    fire_cmd("review", project_id, verb="Reviewed", result=result, method=method, expected_version=expected_version)


@click.command()
@click.argument("project_ids", type=ID, nargs=-1, required=True)
@click.option("--withdraw", is_flag=True, help="Withdraw the recommendations instead.")
@handled
def recommend(project_ids: tuple[int, ...], withdraw: bool) -> None:
    """Recommend reviewed projects onto the shortlist every party scores (all or none)."""
    fire_cmd("withdraw" if withdraw else "recommend", project_ids, verb="Withdrew" if withdraw else "Recommended")


@click.command()
@click.argument("project_ids", type=ID, nargs=-1, required=True)
@click.option("--for", "in_favour", flag_value=True, default=None, help="Vote for.")
@click.option("--against", "in_favour", flag_value=False, help="Vote against.")
@handled
def vote(project_ids: tuple[int, ...], in_favour: bool | None) -> None:
    """Vote for or against projects under review (a committee member: role scorer). Voting again
    on a project replaces your earlier vote; the history keeps both."""
    if in_favour is None:
        raise click.UsageError(Msg("say --for or --against").render())
    engine = cfg().engine()
    program = program_of_cycle(engine.project(cfg().user, project_ids[0])[0].cycle_id)
    # a vote is a sheet of one criterion whose bands are single values: for is the highest
    criteria = program.criteria
    if program.sheet_trigger is None or len(criteria) != 1 or not criteria[0].picks:
        raise click.UsageError(Msg("this program's sheets are not votes; enter them with `score`").render())
    values = [b.min for b in criteria[0].bands]
    choice = max(values) if in_favour else min(values)
    done = engine.fire(cfg().user, project_ids, program.sheet_trigger, scores={criteria[0].id: choice})
    for p in done:
        if in_favour:
            voted = Msg("Voted for project {id} ({name})", id=p.id, name=p.project_name)
        else:
            voted = Msg("Voted against project {id} ({name})", id=p.id, name=p.project_name)
        click.echo(voted.render())


@click.command()
@click.argument("project_ids", type=ID, nargs=-1, required=True)
@handled
def award(project_ids: tuple[int, ...]) -> None:
    """Name a listed project and award its plaque (命名授牌) (lead)."""
    fire_cmd("award", project_ids, verb="Awarded")
