"""Schema migrations (Alembic, store/migrations), on SQLite and on PostgreSQL.

A database made by the first evalflow (schema 0001, or older still: the same tables with no
``alembic_version``) is refused by every command with one line until `evalflow db upgrade` (or
`evalflow init`) brings it to 0002, keeping its rows; the engine then works on it. The
migrations from nothing give exactly the tables of store/schema.py, and 0002 goes back to 0001.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from cli import main
from store import schema
from store.sql import FIRST, HEAD, MIGRATIONS, SqlStore
from store.tables import UTCDateTime
from tests.backends import BACKENDS, database
from tests.conftest import FORM, LEAD, TABLES, WEB_TABLES, SettableClock, make_app, sh
from workflow.application import validate_application
from workflow.engine import Engine
from workflow.errors import StoreUnavailable
from workflow.program import ProgramRegistry
from workflow.records import Cycle, Project, ScoreSheet
from workflow.story import tell

PROGRAM = "g60-deep-integration"
CYCLE = "g60-2027"
LATER_TABLES = ("appeals", "audit_heads", "attachments", "blobs", "audit_checkpoints")  # added by migrations after 0001
FIRST_TABLES = {t for t in TABLES if t not in LATER_TABLES}


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as u:
        try:
            yield u
        finally:
            SqlStore(u).dispose()


def alembic(url: str, name: str, revision: str) -> None:
    """Run an Alembic command (upgrade, downgrade, stamp) on the store's own engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with SqlStore(url).engine.connect() as conn:
        config.attributes["connection"] = conn
        getattr(command, name)(config, revision)
        conn.commit()


def differences(url: str) -> list:
    """What the database holds otherwise than store/schema.py declares (PostgreSQL's sheets'
    tally is the database's own, kept by its triggers: store/tally.py, checked apart)."""

    def declared(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
        return not (type_ == "table" and name == "sheet_tallies")

    with SqlStore(url).engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": declared})
        return compare_metadata(context, schema.metadata)


# columns the schema declares that a migration after 0008 adds (a test stopping at 0008 lacks them)
def tables(url: str) -> set[str]:
    return set(sa.inspect(SqlStore(url).engine).get_table_names())


def columns(url: str, table: str) -> list[str]:
    return [c["name"] for c in sa.inspect(SqlStore(url).engine).get_columns(table)]


def cli(url: str, *args: str, user: str | None = None, now: str = "2027-02-20T09:00"):
    argv = ["--db", url, "--now", now, *(["--as", user] if user else []), *args]
    return CliRunner().invoke(main, argv)


# ------------------------------------------------------------------------------ the first evalflow
def _t(name: str, *cols: sa.ColumnClause) -> sa.TableClause:
    return sa.table(name, *cols)


USERS = _t("users", sa.column("name"), sa.column("role"), sa.column("city"), sa.column("created_at", UTCDateTime()))
CYCLES = _t(
    "cycles",
    *(sa.column(c) for c in ("id", "program_id", "program_version", "program_digest", "year", "stage", "version")),
    sa.column("settings", sa.JSON()),
    sa.column("opened_at", UTCDateTime()),
    sa.column("opened_by"),
)
PROJECTS_0001 = (
    "id",
    "cycle_id",
    "city",
    "applicant",
    "enterprise_name",
    "project_name",
    "application",
    "state",
    "municipal_result",
    "review_method",
    "version",
    "submitted_at",
    "updated_at",
)
PROJECTS = _t(
    "projects",
    *(sa.column(c) for c in PROJECTS_0001 if c not in ("application", "submitted_at", "updated_at")),
    sa.column("application", sa.JSON()),
    sa.column("submitted_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
AUDIT = _t(
    "audit",
    *(sa.column(c) for c in ("cycle_id", "subject", "subject_id", "actor", "action", "from_state", "to_state")),
    sa.column("reason"),
    sa.column("at", UTCDateTime()),
    sa.column("data", sa.JSON()),
)


AUDIT_0001 = (
    "id",
    "at",
    "cycle_id",
    "subject",
    "subject_id",
    "actor",
    "action",
    "from_state",
    "to_state",
    "reason",
    "data",
)
USERS_0001 = ("id", "name", "role", "city", "created_at")
FIRST_COLUMNS = {
    "projects": PROJECTS_0001,
    "audit": AUDIT_0001,
    "users": USERS_0001,
}  # tables later revisions added columns to


def first_version_rows(url: str) -> None:
    """What evalflow 0001 wrote: users, an open cycle, two submitted projects (no reopened_to,
    no appeals table) and their audit rows."""
    program = ProgramRegistry().get(PROGRAM)
    jan2, jan10 = sh(1, 2), sh(1, 10)
    with SqlStore(url).engine.begin() as conn:
        conn.execute(
            USERS.insert(),
            [
                {"name": LEAD, "role": "lead", "city": "songjiang", "created_at": jan2},
                {"name": "hf", "role": "city-admin", "city": "hefei", "created_at": jan2},
                {"name": "hfa", "role": "applicant", "city": "hefei", "created_at": jan2},
            ],
        )
        conn.execute(
            CYCLES.insert().values(
                id=CYCLE,
                program_id=PROGRAM,
                program_version=program.version,
                program_digest=program.digest,
                year=2027,
                stage=program.stages[0].id,
                version=1,
                settings={"places": {"demonstration": 2, "excellent": 3}, "quotas": {}},
                opened_at=jan2,
                opened_by=LEAD,
            )
        )
        for n in (1, 2):
            app = validate_application(make_app("hefei", n), FORM)
            conn.execute(
                PROJECTS.insert().values(
                    id=n,
                    cycle_id=CYCLE,
                    city="hefei",
                    applicant="hfa",
                    enterprise_name=app["enterprise"]["name"],
                    project_name=app["project"]["name"],
                    application=app,
                    state="submitted",
                    municipal_result=None,
                    review_method=None,
                    version=1,
                    submitted_at=jan10,
                    updated_at=jan10,
                )
            )
            conn.execute(
                AUDIT.insert().values(
                    at=jan10,
                    cycle_id=CYCLE,
                    subject="project",
                    subject_id=str(n),
                    actor="hfa",
                    action="submit",
                    from_state="new",
                    to_state="submitted",
                    reason="",
                    data={"city": "hefei"},
                )
            )
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequence on, as inserts would
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('projects', 'id'), 2)"))


RENAMED = {"enterprise_name": "unit_name", "municipal_result": "review_result"}  # (by 0007)


def old_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of the first schema's tables, in the first schema's columns only (under their
    new names once 0007 renamed them)."""
    present = {t: columns(url, t) for t in sorted(FIRST_TABLES)}
    selects = {
        t: ", ".join(f'"{c if c in present[t] else RENAMED[c]}"' for c in FIRST_COLUMNS.get(t) or present[t])
        for t in sorted(FIRST_TABLES)
    }  # read the columns first: on SQLite a second connection would wait for the first
    with SqlStore(url).engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(sa.text(f"SELECT {c} FROM {t} ORDER BY 1"))] for t, c in selects.items()
        }


@pytest.fixture
def first(url: str) -> str:
    """A database at schema 0001 holding what the first evalflow wrote."""
    alembic(url, "upgrade", FIRST)
    first_version_rows(url)
    assert SqlStore(url).schema_version() == FIRST
    assert tables(url) == {*FIRST_TABLES, "alembic_version"}
    assert "reopened_to" not in columns(url, "projects")
    return url


@pytest.fixture
def premigration(first: str) -> str:
    """The same tables with no alembic_version: a database from before migrations existed."""
    with SqlStore(first).engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    assert SqlStore(first).schema_version() is None
    return first


def assert_upgraded_and_usable(url: str, rows_before: dict[str, list[tuple]]) -> None:
    assert SqlStore(url).schema_version() == HEAD
    assert differences(url) == []
    assert old_rows(url) == rows_before  # every old row, unchanged
    current = cli(url, "db", "current")
    assert current.exit_code == 0, current.output
    assert current.stdout.rstrip().endswith(f"schema {HEAD} (up to date)")
    store = SqlStore(url)
    store.check_ready()
    clock = SettableClock(sh(2, 20))
    engine = Engine(store, clock=clock)
    projects = engine.projects(LEAD)
    assert [(p.id, p.state, p.version, p.reopened_to) for p in projects] == [
        (1, "submitted", 1, None),
        (2, "submitted", 1, None),
    ]
    assert projects[0].submitted_at == sh(1, 10)
    status = engine.status(LEAD)
    assert (status["cycle"], status["stage"], status["program_changed"]) == (CYCLE, "collection", None)
    (accepted,) = engine.fire("hf", 1, "accept")
    assert (accepted.state, accepted.version) == ("in_library", 2)
    _, _, history = engine.project(LEAD, 1)
    assert [e.action for e in history] == ["submit", "accept"]
    clock.set(sh(1, 20))  # still in collection: a new submission gets the next id
    assert engine.submit("hfa", make_app("hefei", 3)).id == 3
    listed = cli(url, "cycle", "status", user=LEAD)
    assert listed.exit_code == 0, listed.output
    with store.transaction(write=False) as tx:
        assert tx.appeals(CYCLE) == [] and tx.reopened_projects(CYCLE) == []


# ------------------------------------------------------------------------------ upgrading
@pytest.mark.parametrize("args", [("db", "upgrade"), ("init",)], ids=["db-upgrade", "init"])
def test_a_first_schema_database_is_upgraded_and_keeps_its_rows(first: str, args: tuple[str, ...]) -> None:
    before = old_rows(first)
    assert sum(len(rows) for rows in before.values()) == 3 + 1 + 2 + 2
    result = cli(first, *args)
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith("Upgraded ") and line.endswith(f" from schema {FIRST} to {HEAD}"), line
    assert ":evalflow@" not in line  # the password is hidden
    assert_upgraded_and_usable(first, before)
    again = cli(first, *args)
    assert again.exit_code == 0, again.output
    assert again.stdout.rstrip().endswith(
        f"is already at schema {HEAD}" if args == ("db", "upgrade") else f"(schema {HEAD})"
    )


def test_a_database_from_before_migrations_is_stamped_0001_and_upgraded(premigration: str) -> None:
    before = old_rows(premigration)
    current = cli(premigration, "db", "current")
    assert current.exit_code == 0, current.output
    assert current.stdout.rstrip().endswith(f"schema from before migrations (needs 'evalflow db upgrade' to {HEAD})")
    result = cli(premigration, "db", "upgrade")
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith("Upgraded ") and line.endswith(f" from schema {FIRST} to {HEAD}"), line
    assert_upgraded_and_usable(premigration, before)


def test_init_upgrades_a_database_from_before_migrations(premigration: str) -> None:
    before = old_rows(premigration)
    result = cli(premigration, "init")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith(f" from schema before migrations to {HEAD}"), result.output
    assert_upgraded_and_usable(premigration, before)


def test_a_database_from_before_migrations_with_todays_tables_is_only_stamped(url: str) -> None:
    store = SqlStore(url)
    store.create()
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    assert store.schema_version() is None
    assert store.upgrade() == (HEAD, HEAD)
    assert store.schema_version() == HEAD
    assert differences(url) == []
    store.check_ready()


@pytest.mark.parametrize(
    "args",
    [("cycle", "list"), ("cycle", "status"), ("project", "list"), ("user", "list"), ("remind", "due")],
    ids=lambda a: "-".join(a),
)
def test_before_upgrading_every_other_command_fails_in_one_line(first: str, args: tuple[str, ...]) -> None:
    before = old_rows(first)
    result = cli(first, *args, user=LEAD)
    assert result.exit_code == 9, result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: The database at ")
    assert lines[0].endswith(
        f"has schema {FIRST}; this evalflow needs {HEAD}: run 'evalflow db upgrade' (back it up first)"
    ), lines[0]
    assert "Traceback" not in result.output and result.stdout == ""
    assert SqlStore(first).schema_version() == FIRST  # nothing was upgraded behind the user's back
    assert old_rows(first) == before


def test_before_upgrading_a_database_from_before_migrations_is_refused_too(premigration: str) -> None:
    result = cli(premigration, "cycle", "list", user=LEAD)
    assert result.exit_code == 9, result.output
    (line,) = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.endswith(
        f"has schema from before migrations; this evalflow needs {HEAD}: run 'evalflow db upgrade' (back it up first)"
    ), line
    assert SqlStore(premigration).schema_version() is None
    with pytest.raises(StoreUnavailable, match="run 'evalflow db upgrade'"):
        SqlStore(premigration).check_ready()


def test_db_current_on_a_first_schema_database_names_both_revisions(first: str) -> None:
    result = cli(first, "db", "current")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith(f"schema {FIRST} (needs 'evalflow db upgrade' to {HEAD})")


# ------------------------------------------------------------------------------ the migrations
@pytest.mark.parametrize("how", ["migrations", "create"])
def test_the_migrations_from_nothing_make_exactly_the_declared_tables(url: str, how: str) -> None:
    if how == "migrations":
        alembic(url, "upgrade", "head")
    else:
        assert SqlStore(url).create() is True  # create_all, stamped HEAD
    assert SqlStore(url).schema_version() == HEAD
    postgres = SqlStore(url).engine.dialect.name == "postgresql"
    tally = {"sheet_tallies"} if postgres else set()  # (PostgreSQL's own: store/tally.py)
    assert tables(url) == {*TABLES, *WEB_TABLES, "alembic_version", *tally}
    assert differences(url) == []
    if postgres:  # either way the sheets' triggers keep the tally
        with SqlStore(url).engine.connect() as conn:
            triggers = conn.execute(
                sa.text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'score_sheets'::regclass AND NOT tgisinternal")
            )
            events = ("delete", "insert", "truncate", "update")
            assert sorted(t for (t,) in triggers) == [f"sheet_tally_{e}" for e in events]


def test_the_comparison_sees_what_0001_lacks(url: str) -> None:
    """The check above is not vacuous: at 0001 it reports the tables and columns added since."""
    alembic(url, "upgrade", FIRST)
    found = differences(url)
    added_tables = {d[1].name for d in found if isinstance(d, tuple) and d[0] == "add_table"}
    added_columns = [(d[2], d[3].name) for d in found if isinstance(d, tuple) and d[0] == "add_column"]
    assert added_tables == {*LATER_TABLES, *WEB_TABLES}
    assert sorted(added_columns) == [
        ("audit", "hash"),
        ("audit", "prev_hash"),
        ("projects", "record"),
        ("projects", "reopened_to"),
        ("projects", "review_result"),  # (renamed by 0007: a comparison sees a new column)
        ("projects", "unit_name"),
        ("users", "active"),
        ("users", "language"),
    ]


def test_head_is_the_newest_revision_of_the_script_directory() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_heads() == [HEAD]  # one head, no branches
    assert scripts.get_current_head() == HEAD
    assert scripts.get_base() == FIRST
    chain = [s.revision for s in scripts.walk_revisions("base", "heads")]
    older = [f"{n:04d}" for n in range(15, 1, -1)]  # 0015 … 0002
    assert chain == [HEAD, *older, FIRST]
    names = sorted(p.name for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert [n.split("_")[0] for n in names] == [
        FIRST,
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
        "0012",
        "0013",
        "0014",
        "0015",
        HEAD,
    ]


def test_downgrade_0002_to_0001_on_an_empty_database(url: str) -> None:
    store = SqlStore(url)
    store.create()
    alembic(url, "downgrade", FIRST)
    assert store.schema_version() == FIRST
    assert tables(url) == {*FIRST_TABLES, "alembic_version"}
    assert "reopened_to" not in columns(url, "projects")
    with pytest.raises(StoreUnavailable, match=f"has schema {FIRST}; this evalflow needs {HEAD}"):
        store.check_ready()
    alembic(url, "upgrade", "head")  # and back up again
    assert store.schema_version() == HEAD
    assert differences(url) == []
    alembic(url, "downgrade", "base")  # all the way down: nothing left but Alembic's own table
    assert tables(url) == {"alembic_version"}


def _scored_project(url: str) -> None:
    """A project with a score sheet (a row referring to it), written by today's store."""
    program = ProgramRegistry().get(PROGRAM)
    with SqlStore(url).transaction() as tx:
        tx.insert_cycle(Cycle(CYCLE, PROGRAM, program.version, program.digest, 2027, "scoring", {}, opened_at=sh(1, 2)))
        p = Project(None, CYCLE, "hefei", "hfa", "e", "p", {}, "recommended", submitted_at=sh(1, 10))
        p.updated_at = sh(1, 10)
        tx.insert_projects([p])
        tx.put_sheets([ScoreSheet(CYCLE, p.id, "hefei", "s", {"value": 19}, {"value": "A"}, 90, at=sh(5, 6))])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(
            "sqlite",
        ),
        "postgresql",
    ],
)
def test_downgrade_0002_to_0001_keeps_projects_that_have_score_sheets(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        try:
            SqlStore(url).create()
            _scored_project(url)
            alembic(url, "downgrade", FIRST)
            assert SqlStore(url).schema_version() == FIRST
            assert "reopened_to" not in columns(url, "projects")
            with SqlStore(url).engine.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM projects")).scalar() == 1
                assert conn.execute(sa.text("SELECT total FROM score_sheets")).scalars().all() == [90]
        finally:
            SqlStore(url).dispose()


def test_db_current_on_an_empty_database_says_it_is_not_initialised(url: str) -> None:
    path = SqlStore(url).sqlite_path()
    if path is not None:
        path.touch()  # an empty SQLite database
    other = cli(url, "cycle", "list", user=LEAD)
    assert other.exit_code == 9 and "is not initialised; run 'evalflow init'" in other.stderr
    current = cli(url, "db", "current")
    assert "before migrations" not in current.output and "evalflow init" in current.output, current.output


def test_0003_adds_an_empty_record_to_every_project_and_goes_back(tmp_path: Path) -> None:
    """A database at 0002 with a project: upgraded, the project has an empty record and works."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    alembic(url, "upgrade", "0002")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO cycles (id, program_id, program_version, program_digest, year, stage, settings, version,"
                " opened_at, opened_by) VALUES ('c', 'p', 1, 'd', 2027, 's', '{}', 1, '2027-01-02 01:00:00', 'lead')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO projects (cycle_id, city, applicant, enterprise_name, project_name, application, state,"
                " version, submitted_at, updated_at) VALUES ('c', 'hefei', 'a', 'e', 'p', '{}', 'submitted', 1,"
                " '2027-01-10 01:00:00', '2027-01-10 01:00:00')"
            )
        )
    engine.dispose()
    alembic(url, "upgrade", "head")
    with SqlStore(url).transaction(write=False) as tx:
        (project,) = tx.find_projects("c")
    assert project.record == {} and project.state == "submitted"
    alembic(url, "downgrade", "0002")
    assert "record" not in columns(url, "projects")


# ------------------------------------------------------------------------------ 0007: generic names
def _rows_at_0006(url: str) -> None:
    """What evalflow at 0006 wrote: two projects (one reviewed), a list version ranking them and
    an audit row whose data names the former column (its hash covers that text)."""
    jan2, jan10 = sh(1, 2), sh(1, 10)
    entry = {"rank": 1, "project_id": 1, "city": "hefei", "project_name": "p1", "score": "90", "category": "none"}
    with SqlStore(url).engine.begin() as conn:
        conn.execute(
            CYCLES.insert().values(
                id=CYCLE, program_id=PROGRAM, program_version=1, program_digest="d", year=2027, stage="collection",
                version=1, settings={}, opened_at=jan2, opened_by=LEAD,
            )
        )  # fmt: skip
        for n, result, method in ((1, "demonstration", "site"), (2, None, None)):
            conn.execute(
                PROJECTS.insert().values(
                    id=n, cycle_id=CYCLE, city="hefei", applicant="hfa", enterprise_name=f"unit {n}",
                    project_name=f"p{n}", application={}, state="submitted", municipal_result=result,
                    review_method=method, version=1, submitted_at=jan10, updated_at=jan10,
                )
            )  # fmt: skip
        lists = sa.table(
            "list_versions",
            *(sa.column(c) for c in ("id", "cycle_id", "number", "status", "method", "proposed_by", "version")),
            sa.column("entries", sa.JSON()),
            sa.column("tie_order", sa.JSON()),
            sa.column("at", UTCDateTime()),
        )
        conn.execute(
            lists.insert().values(
                id=1, cycle_id=CYCLE, number=1, status="proposed", method="score", proposed_by=LEAD, version=1,
                entries=[{**entry, "enterprise_name": "unit 1"}], tie_order=[], at=jan10,
            )
        )  # fmt: skip
        data = {"superseded": {"municipal_result": "excellent", "review_method": "written"}}
        conn.execute(
            AUDIT.insert().values(
                at=jan10, cycle_id=CYCLE, subject="project", subject_id="1", actor=LEAD, action="reopen",
                from_state="municipal_excellent", to_state="in_library", reason="appeal 1", data=data,
            )
        )  # fmt: skip


def _projects(url: str, unit: str, result: str) -> list[tuple]:
    with SqlStore(url).engine.connect() as conn:
        q = f'SELECT id, "{unit}", project_name, "{result}", review_method FROM projects ORDER BY id'
        return [tuple(r) for r in conn.execute(sa.text(q))]


def _indexes(url: str) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in sa.inspect(SqlStore(url).engine).get_indexes("projects")}


def _partial(url: str) -> str:
    """How the database itself declares the index of only the reopened projects."""
    with SqlStore(url).engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            q = "SELECT sql FROM sqlite_master WHERE name = 'ix_projects_reopened'"
        else:
            q = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_projects_reopened'"
            q += " AND schemaname = current_schema()"  # (other tests' schemas have one too)
        return str(conn.execute(sa.text(q)).scalar_one())


def test_0007_renames_the_columns_and_keeps_every_row_and_index(url: str) -> None:
    alembic(url, "upgrade", "0006")
    _rows_at_0006(url)
    before = _projects(url, "enterprise_name", "municipal_result")
    assert before == [(1, "unit 1", "p1", "demonstration", "site"), (2, "unit 2", "p2", None, None)]
    indexes, partial, audit_before = _indexes(url), _partial(url), old_rows(url)["audit"]
    assert "reopened_to IS NOT NULL" in partial.replace("(", "").replace(")", "")
    alembic(url, "upgrade", "head")  # (0007, and every migration after it)
    assert SqlStore(url).schema_version() == HEAD
    assert differences(url) == []
    assert _projects(url, "unit_name", "review_result") == before  # the same rows, under the new names
    assert not {"enterprise_name", "municipal_result"} & set(columns(url, "projects"))
    later = {"ix_projects_cycle_id"}  # (0013: a cycle's projects in id order)
    assert {n: c for n, c in _indexes(url).items() if n not in later} == {
        name: [RENAMED.get(c, c) for c in cols] for name, cols in indexes.items()
    }  # every index kept, on the renamed columns
    assert _partial(url) == partial  # still only the reopened projects
    assert old_rows(url)["audit"] == audit_before  # audit rows untouched: their hashes cover their text
    with SqlStore(url).transaction(write=False) as tx:
        assert [(p.unit_name, p.review_result) for p in tx.find_projects(CYCLE)] == [
            ("unit 1", "demonstration"),
            ("unit 2", None),
        ]
        lst = tx.latest_list(CYCLE)
        assert lst is not None and [(e.unit_name, e.project_id) for e in lst.entries] == [("unit 1", 1)]
        (reopened,) = list(tx.audit_entries(CYCLE))
    assert reopened.data["superseded"] == {"municipal_result": "excellent", "review_method": "written"}
    assert tell(reopened).endswith("superseded: review result excellent (written)")  # told as before
    alembic(url, "downgrade", "0006")  # and back: the former names, the same rows
    assert _projects(url, "enterprise_name", "municipal_result") == before
    assert _indexes(url) == indexes and _partial(url) == partial
    with SqlStore(url).engine.connect() as conn:
        (entries,) = conn.execute(sa.text("SELECT entries FROM list_versions")).scalars().all()
    entries = json.loads(entries) if isinstance(entries, str) else entries
    assert [e["enterprise_name"] for e in entries] == ["unit 1"] and "unit_name" not in entries[0]


# ------------------------------------------------------------------------------ 0008: a user's language
def test_0008_gives_users_a_language_not_yet_chosen_and_back(first: str) -> None:
    url = first
    alembic(url, "upgrade", "0007")
    users = old_rows(url)["users"]
    alembic(url, "upgrade", "0008")
    alembic(url, "upgrade", "head")  # (and the revisions after it, to compare with the declared schema)
    assert differences(url) == []
    assert old_rows(url)["users"] == users  # every user kept
    # (read by SQL: the store's user record has 0011's column too)
    language = "SELECT language FROM users WHERE name = 'lead'"
    with SqlStore(url).engine.connect() as conn:
        assert conn.execute(sa.text(language)).scalar_one() is None  # Chinese until they choose
    with SqlStore(url).transaction() as tx:
        tx.set_user_language("lead", "en")
    with SqlStore(url).engine.connect() as conn:
        assert conn.execute(sa.text(language)).scalar_one() == "en"
    alembic(url, "downgrade", "0007")
    assert "language" not in columns(url, "users") and old_rows(url)["users"] == users


# ------------------------------------------------------------------------------ 0009: attachments
def test_0009_adds_the_attachments_and_blobs_tables_and_back(first: str) -> None:
    url = first
    alembic(url, "upgrade", "0008")
    before = old_rows(url)
    alembic(url, "upgrade", "0009")
    assert {"attachments", "blobs"} <= tables(url)
    alembic(url, "upgrade", "head")  # (and the revisions after it, to compare with the declared schema)
    assert differences(url) == []
    alembic(url, "downgrade", "0008")
    assert not {"attachments", "blobs"} & tables(url)
    assert old_rows(url) == before


# ------------------------------------------------------------------------------ 0011: a user's active flag
def test_0011_keeps_every_user_active_and_goes_back(first: str) -> None:
    url = first
    alembic(url, "upgrade", "0008")
    users = old_rows(url)["users"]
    alembic(url, "upgrade", "0011")
    alembic(url, "upgrade", "head")  # (and the revisions after it, to compare with the declared schema)
    assert differences(url) == []
    with SqlStore(url).transaction() as tx:
        lead = tx.get_user("lead")
        assert lead is not None and lead.active is True  # every user stays active
        tx.update_user("lead", active=False)
    with SqlStore(url).transaction(write=False) as tx:
        assert getattr(tx.get_user("lead"), "active", None) is False
    alembic(url, "downgrade", "0008")
    assert "active" not in columns(url, "users") and len(old_rows(url)["users"]) == len(users)


# ------------------------------------------------------------------------------ 0010: applicants' drafts
def test_0010_adds_the_drafts_table_and_back(first: str) -> None:
    url = first
    alembic(url, "upgrade", "0008")
    assert "drafts" not in tables(url)
    alembic(url, "upgrade", "0010")
    assert columns(url, "drafts") == ["id", "cycle_id", "owner", "data", "updated_at"]
    alembic(url, "upgrade", "head")  # (and the revisions after it, to compare with the declared schema)
    assert differences(url) == []
    alembic(url, "downgrade", "0008")
    assert "drafts" not in tables(url)


# ------------------------------------------------------------------------------ 0013: per-cycle indexes
def test_0013_adds_the_per_cycle_indexes_keeps_every_row_and_goes_back(first: str) -> None:
    url = first
    alembic(url, "upgrade", "0012")
    before = old_rows(url)

    def indexes(table: str) -> dict[str, list[str]]:
        return {i["name"]: i["column_names"] for i in sa.inspect(SqlStore(url).engine).get_indexes(table)}

    assert indexes("audit")["ix_audit_cycle_id"] == ["cycle_id"]
    alembic(url, "upgrade", "0013")
    assert _index_names(differences(url)) == ["ix_audit_cycle_to_state"]  # (0015's, still to come)
    assert indexes("score_sheets")["ix_sheets_cycle_project"] == ["cycle_id", "current", "project_id", "city", "scorer"]
    assert indexes("projects")["ix_projects_cycle_id"] == ["cycle_id", "id"]
    assert indexes("audit")["ix_audit_cycle"] == ["cycle_id", "id"] and "ix_audit_cycle_id" not in indexes("audit")
    assert old_rows(url) == before
    with SqlStore(url).transaction(write=False) as tx:  # the reads the new indexes serve, as before
        assert [p.id for p in tx.find_projects(CYCLE)] == sorted(r[0] for r in before["projects"])
    alembic(url, "downgrade", "0012")
    assert indexes("audit")["ix_audit_cycle_id"] == ["cycle_id"]
    assert "ix_sheets_cycle_project" not in indexes("score_sheets")
    assert "ix_projects_cycle_id" not in indexes("projects")
    assert old_rows(url) == before


# ------------------------------------------------------------------------------ 0014: evalflow_analyze
def test_0014_gives_postgresql_the_analyse_function_and_takes_it_back(first: str) -> None:
    url = first
    alembic(url, "upgrade", "0013")
    before = old_rows(url)

    def function() -> bool:
        with SqlStore(url).engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                return False
            return bool(conn.execute(sa.text("SELECT to_regprocedure('evalflow_analyze(text)') IS NOT NULL")).scalar())

    assert not function()
    alembic(url, "upgrade", "0014")
    assert _index_names(differences(url)) == ["ix_audit_cycle_to_state"]  # (0015's, still to come)
    assert old_rows(url) == before
    postgres = SqlStore(url).engine.dialect.name == "postgresql"
    assert function() is postgres  # (SQLite's plans use no statistics: nothing there)
    if postgres:
        with SqlStore(url).engine.begin() as conn:
            conn.execute(sa.text("SELECT evalflow_analyze('score_sheets')"))
            with pytest.raises(sa.exc.DBAPIError, match="is not a table a batch grows"):
                with conn.begin_nested():
                    conn.execute(sa.text("SELECT evalflow_analyze('audit')"))
    alembic(url, "downgrade", "0013")
    assert not function()
    assert old_rows(url) == before


def _index_names(found: list) -> list[str]:
    """The names of the indexes the database lacks, of ``differences``' answer (anything else
    there is shown as it is)."""
    return [d[1].name if d[0] == "add_index" else d for d in found]


# ------------------------------------------------------------------------------ 0015: the audit by state
def test_0015_indexes_the_audit_by_the_state_entered_keeps_every_row_and_goes_back(first: str) -> None:
    url = first
    alembic(url, "upgrade", "0014")
    before = old_rows(url)

    def indexes() -> dict[str, list[str]]:
        return {i["name"]: i["column_names"] for i in sa.inspect(SqlStore(url).engine).get_indexes("audit")}

    assert "ix_audit_cycle_to_state" not in indexes()
    with SqlStore(url).transaction(write=False) as tx:
        entered = {state: tx.entered_from(CYCLE, state) for state in ("in_library", "submitted", "accepted")}
    assert entered["submitted"] == {1: "new", 2: "new"} and not entered["accepted"]
    alembic(url, "upgrade", "0015")
    assert differences(url) == []
    assert indexes()["ix_audit_cycle_to_state"] == ["cycle_id", "to_state", "id"]
    assert old_rows(url) == before
    with SqlStore(url).transaction(write=False) as tx:  # (the read it serves, answered as before)
        assert {state: tx.entered_from(CYCLE, state) for state in entered} == entered
    alembic(url, "downgrade", "0014")
    assert "ix_audit_cycle_to_state" not in indexes()
    assert old_rows(url) == before


# ------------------------------------------------------------------------------ 0016: the sheets' tally
def test_0016_tallies_the_sheets_already_there_on_postgresql_and_goes_back(first: str) -> None:
    url = first
    alembic(url, "upgrade", "0015")
    postgres = SqlStore(url).engine.dialect.name == "postgresql"
    with SqlStore(url).engine.begin() as conn:  # (a cycle's sheets written before the tally)
        conn.execute(
            sa.text(
                "INSERT INTO score_sheets (cycle_id, project_id, city, scorer, scores, bands, total, completion,"
                " current, at) SELECT cycle_id, id, city, 'hf-scorer', '{}', '{}', 70, '', id % 2 = 1, updated_at"
                " FROM projects"
            )
        )
    before = old_rows(url)
    alembic(url, "upgrade", "0016")
    assert differences(url) == []
    assert old_rows(url) == before
    assert ("sheet_tallies" in tables(url)) is postgres  # (SQLite counts its sheets)
    if postgres:
        with SqlStore(url).engine.connect() as conn:
            tally = conn.execute(sa.text("SELECT cycle_id, city, scorer, sheets FROM sheet_tallies")).all()
        assert tally == [(CYCLE, "hefei", "hf-scorer", 1)]  # (of the two projects, one's sheet is current)
    with SqlStore(url).transaction(write=False) as tx:
        assert tx.sheet_tally(CYCLE) == ({("hefei", "hf-scorer"): 1} if postgres else None)
    alembic(url, "downgrade", "0015")
    assert "sheet_tallies" not in tables(url)
    assert old_rows(url) == before
