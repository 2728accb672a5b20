"""`evalflow db roles` on PostgreSQL: an owner role for the migrations and an application role that
owns nothing. As the application role, the ordinary work (users, a cycle opened, a project
submitted, each with its audit entry) succeeds, while every way to rewrite the audit trail fails:
UPDATE, DELETE, TRUNCATE, GRANT, ALTER TABLE … DISABLE TRIGGER and DROP TRIGGER; the trail and its
trigger stay as they were. The roles are made again idempotently, a table made by a later migration
is granted by `db upgrade` run as the owner (an append-only one: SELECT and INSERT only), and the
commands that need the owner say so in one line when given the application role.

The test makes roles, so the role of EVALFLOW_TEST_PG_URL needs CREATEROLE (`.ci/run` gives it).
Its roles are named ``i24roles_…`` and dropped afterwards; its tables live in a schema of their own.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cli import main
from store.roles import APPEND_ONLY
from store.sql import SqlStore
from tests.backends import PG_ENV, _unavailable, pg_schema
from tests.conftest import LEAD, PROGRAM, YEAR, SettableClock, make_app, sh, snapshot
from workflow.engine import Engine
from workflow.errors import NotSignedIn
from workflow.records import ScoreSheet

runner = CliRunner()


@dataclass
class Roles:
    """A schema of its own and the two roles `db roles` made on it."""

    url: str  # the test's own role (evalflow), the operator here
    owner: str
    app: str
    owner_url: str
    app_url: str
    said: dict


def _cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["--lang", "en", *args])
    return result.exit_code, result.stdout, result.stderr


def _drop_roles(base: str, *roles: str) -> None:
    admin = create_engine(base)
    with admin.begin() as conn:
        for role in roles:
            if conn.execute(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
                if conn.execute(text("SELECT pg_has_role(:r, 'USAGE')"), {"r": role}).scalar():
                    conn.execute(text(f"DROP OWNED BY {role}"))  # (the owner: the test's role is its member)
                conn.execute(text(f"DROP ROLE {role}"))
    admin.dispose()


@pytest.fixture
def roles() -> Iterator[Roles]:
    base = os.environ.get(PG_ENV)
    if not base:
        _unavailable(f"{PG_ENV} is not set")
    probe = create_engine(base)  # type: ignore[arg-type]
    try:
        with probe.connect() as conn:
            may = conn.execute(text("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user"))
            allowed = bool(may.scalar())
    except Exception as exc:
        probe.dispose()
        _unavailable(f"cannot reach {PG_ENV}: {type(exc).__name__}")
    probe.dispose()
    if not allowed:
        _unavailable("its role may not create roles (ALTER ROLE … CREATEROLE; .ci/run gives it)")
    suffix = uuid.uuid4().hex[:10]
    owner, app = f"i24roles_o_{suffix}", f"i24roles_a_{suffix}"
    try:
        with pg_schema() as url:
            code, out, err = _cli("--db", url, "init")
            assert code == 0 and "Note: no application role is set up on" in err, err  # init points to db roles
            code, out, err = _cli("--db", url, "db", "roles", "--owner", owner, "--app", app, "--json")
            assert code == 0, err
            said = json.loads(out)
            yield Roles(
                url, owner, app, said["urls"]["EVALFLOW_OWNER_URL"], said["urls"]["EVALFLOW_DATABASE_URL"], said
            )
            for address in (url, said["urls"]["EVALFLOW_OWNER_URL"], said["urls"]["EVALFLOW_DATABASE_URL"]):
                SqlStore(address).dispose()
    finally:
        _drop_roles(base, app, owner)  # type: ignore[arg-type]


def _work(url: str) -> Engine:
    """A small cycle as the application role: users, the cycle opened, a project submitted."""
    clock = SettableClock(sh(1, 2))
    engine = Engine(SqlStore(url), clock=clock)
    engine.add_user(None, LEAD, "lead", "songjiang")
    engine.add_user(LEAD, "hefei-applicant", "applicant", "hefei")
    engine.open_cycle(LEAD, PROGRAM, YEAR)
    clock.set(sh(1, 10))
    engine.submit("hefei-applicant", make_app("hefei", 1))
    # and what the console writes: a password, a failed and a good sign-in, a session, a token
    engine.set_password(LEAD, "hefei-applicant", "nine-cities-2027")
    with pytest.raises(NotSignedIn):
        engine.sign_in("hefei-applicant", "wrong")
    token, _ = engine.open_session(engine.sign_in("hefei-applicant", "nine-cities-2027"))
    secret, _ = engine.new_token(LEAD, LEAD, "script")
    assert engine.token_user(secret).name == LEAD
    engine.close_session(token)
    return engine


def _triggers(url: str) -> list[tuple[str, str]]:
    with SqlStore(url).engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal"
                " AND tgrelid = (current_schema() || '.audit')::regclass ORDER BY tgname"
            )
        )
        return [(str(name), str(enabled)) for name, enabled in rows]


ATTACKS = (
    "UPDATE audit SET reason = 'rewritten'",
    "DELETE FROM audit",
    "TRUNCATE audit",
    "ALTER TABLE audit DISABLE TRIGGER audit_append_only",
    "ALTER TABLE audit DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_append_only ON audit",
    "ALTER TABLE audit OWNER TO CURRENT_USER",
    "DROP TABLE audit",
    "CREATE TABLE i24roles_mine (id INTEGER)",
    "UPDATE sheet_tallies SET sheets = sheets + 1",  # (the tally is the sheets' triggers' to keep)
    "DELETE FROM sheet_tallies",
    "ALTER TABLE score_sheets DISABLE TRIGGER sheet_tally_insert",
)


def test_the_application_role_works_but_cannot_rewrite_the_audit_trail(roles: Roles) -> None:
    said = roles.said
    assert said["created"] == [roles.owner, roles.app] and set(said["passwords"]) == {roles.owner, roles.app}
    assert said["privileges"]["audit"] == ["SELECT", "INSERT"]
    assert said["privileges"]["alembic_version"] == ["SELECT"]
    assert said["privileges"]["sheet_tallies"] == ["SELECT"]  # (kept by the sheets' triggers)
    assert said["privileges"]["audit_heads"] == ["SELECT", "INSERT", "UPDATE", "DELETE"]

    engine = _work(roles.app_url)  # the ordinary work succeeds as the application role
    store = engine.store
    # a sheet the application writes is tallied, through the owner's trigger function
    (project,) = engine.projects(LEAD)
    sheet = ScoreSheet(project.cycle_id, project.id, "wuhu", "wuhu-scorer", {}, {}, 70, "", True, sh(1, 10))
    with store.transaction() as tx:
        tx.put_sheets([sheet])
    with store.transaction(write=False) as tx:
        assert tx.sheet_tally(project.cycle_id) == {("wuhu", "wuhu-scorer"): 1}
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == roles.app
        assert conn.execute(text("SELECT count(*) FROM audit")).scalar() >= 4
    triggers = _triggers(roles.app_url)
    assert ("audit_append_only", "O") in triggers
    before = snapshot(store)

    for statement in ATTACKS:
        with pytest.raises(Exception, match="permission denied|must be owner"):
            with store.engine.begin() as conn:
                conn.execute(text(statement))
    # GRANT by a role without the grant option is not an error in PostgreSQL, only a warning: it
    # grants nothing, and the UPDATE after it is still refused
    with pytest.raises(Exception, match="permission denied"):
        with store.engine.begin() as conn:
            conn.execute(text(f"GRANT UPDATE, DELETE, TRUNCATE ON audit TO {roles.app}"))
            conn.execute(text("UPDATE audit SET reason = 'rewritten'"))
    with store.engine.connect() as conn:
        for privilege in ("UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"):
            granted = conn.execute(text("SELECT has_table_privilege(current_user, 'audit', :p)"), {"p": privilege})
            assert granted.scalar() is False, privilege
        assert conn.execute(text(f"SELECT pg_has_role('{roles.owner}', 'USAGE')")).scalar() is False

    assert snapshot(store) == before  # nothing changed
    assert _triggers(roles.app_url) == triggers  # and the trigger is still there, enabled
    assert engine.audit_verify(LEAD).ok
    store.dispose()


def test_roles_again_changes_nothing_and_the_owner_only_commands_refuse_the_app(
    roles: Roles, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _cli("--db", roles.url, "db", "roles", "--owner", roles.owner, "--app", roles.app, "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["created"] == [] and again["passwords"] == {}
    assert again["privileges"] == roles.said["privileges"]
    # (PostgreSQL before 15 lets every role create tables in the schema public: taken back)
    operator = create_engine(roles.url)
    with operator.begin() as conn:
        conn.execute(text(f'GRANT CREATE ON SCHEMA "{roles.said["schema"]}" TO PUBLIC'))
    operator.dispose()
    code, out, err = _cli("--db", roles.url, "db", "roles", "--owner", roles.owner, "--app", roles.app)
    assert code == 0 and f"{roles.app} was there already; its password is unchanged" in out
    assert f"revoked CREATE on the schema {roles.said['schema']} from PUBLIC" in out
    app = create_engine(roles.app_url)
    with pytest.raises(Exception, match="permission denied for schema"):
        with app.begin() as conn:
            conn.execute(text("CREATE TABLE i24roles_mine (id INTEGER)"))
    app.dispose()

    # an application role with power over the tables is refused, and nothing is made or changed
    unmade = f"{roles.owner}_x"
    me, database = make_url(roles.url).username or "", make_url(roles.url).database  # (the database's owner)
    code, out, err = _cli("--db", roles.url, "db", "roles", "--owner", unmade, "--app", me)
    assert code == 7 and len(err.splitlines()) == 1, err
    assert err.startswith("Error: Invalid application role: ")
    assert f"{me} owns the database {database}" in err
    assert "it would keep the power to drop or rewrite the audit trail; name another role with --app" in err
    operator = create_engine(roles.url)
    with operator.connect() as conn:
        assert not conn.execute(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": unmade}).scalar()
    operator.dispose()
    code, out, err = _cli("--db", roles.url, "db", "roles", "--owner", roles.owner, "--app", roles.app, "--json")
    assert json.loads(out)["privileges"] == roles.said["privileges"]

    for command in (("db", "upgrade"), ("db", "roles", "--owner", roles.owner, "--app", roles.app)):
        code, out, err = _cli("--db", roles.app_url, *command)
        assert code == 4, (command, out, err)
        line = err.strip()
        assert "\n" not in line and line.startswith("Error: Not permitted to change the database's schema:")
        assert f"{roles.app} does not own its tables (their owner is {roles.owner})" in line
        assert "--owner-url" in line
    # the application role's URL given for serving, the owner's for the upgrade: allowed
    code, out, err = _cli("--db", roles.app_url, "db", "upgrade", "--owner-url", roles.owner_url)
    assert code == 0, err
    assert f"Granted {roles.app} its privileges on the" in out

    # the server warns when it is given a role that could rewrite the trail, not the application's
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)
    code, out, err = _cli("--db", roles.owner_url, "serve")
    assert code == 0 and f"Warning: {roles.owner} owns the audit table (or is a superuser)" in err
    code, out, err = _cli("--db", roles.app_url, "serve")
    assert code == 0 and "Warning" not in err


def test_a_table_made_by_a_later_migration_is_granted_by_the_upgrade(roles: Roles) -> None:
    owner = create_engine(roles.owner_url)
    with owner.begin() as conn:  # as a migration would, run by the owner
        # (the append-only audit_checkpoints came with migration 0012: granted read and append)
        conn.execute(text("CREATE TABLE i24roles_notes (id SERIAL PRIMARY KEY, note TEXT)"))
    owner.dispose()
    app = create_engine(roles.app_url)
    with app.connect() as conn:  # at once: read and append only (the default privileges)
        granted = {
            (t, p): conn.execute(text("SELECT has_table_privilege(current_user, :t, :p)"), {"t": t, "p": p}).scalar()
            for t in (APPEND_ONLY[1], "i24roles_notes")
            for p in ("SELECT", "INSERT", "UPDATE", "DELETE")
        }
    assert [k for k, v in granted.items() if v] == [
        (APPEND_ONLY[1], "SELECT"),
        (APPEND_ONLY[1], "INSERT"),
        ("i24roles_notes", "SELECT"),
        ("i24roles_notes", "INSERT"),
    ]
    code, out, err = _cli("--db", roles.owner_url, "db", "upgrade")
    assert code == 0, err
    assert f"Granted {roles.app} its privileges on the" in out
    with app.connect() as conn:
        granted = {
            t: [
                p
                for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
                if conn.execute(text("SELECT has_table_privilege(current_user, :t, :p)"), {"t": t, "p": p}).scalar()
            ]
            for t in (APPEND_ONLY[1], "i24roles_notes", "audit")
        }
    assert granted == {
        APPEND_ONLY[1]: ["SELECT", "INSERT"],
        "i24roles_notes": ["SELECT", "INSERT", "UPDATE", "DELETE"],
        "audit": ["SELECT", "INSERT"],
    }
    with pytest.raises(Exception, match="permission denied"):
        with app.begin() as conn:
            conn.execute(text(f"UPDATE {APPEND_ONLY[1]} SET head = 'b'"))
    with app.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {APPEND_ONLY[1]}")).scalar() == 0
    app.dispose()


def test_roles_on_sqlite_say_they_are_postgresql_only(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    assert _cli("--db", str(db), "init")[0] == 0
    before = _dump(db)
    code, out, err = _cli("--db", str(db), "db", "roles")
    assert code == 7 and out == ""
    assert err.strip() == (
        f"Error: Invalid database: sqlite:///{db} is SQLite: database roles are PostgreSQL's"
        " ('evalflow db roles' is for PostgreSQL only)."
    )
    assert _dump(db) == before


def _dump(db: Path) -> list[str]:
    """The SQLite database's every statement (its content, not its bytes: closing a connection may
    fold the write-ahead log into the file without changing a row)."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_roles_on_an_unreachable_server_are_one_line_with_exit_9() -> None:
    unreachable = "postgresql+psycopg://evalflow:s3cret-pw@127.0.0.1:1/evalflow_test"  # nothing listens on port 1
    code, out, err = _cli("--db", unreachable, "db", "roles")
    assert code == 9 and len(err.splitlines()) == 1, err
    assert err.startswith("Error: Cannot open the database at postgresql+psycopg://evalflow:***@127.0.0.1:1/")
    assert "s3cret-pw" not in out + err
    SqlStore(unreachable).dispose()


def test_the_application_role_has_a_grown_table_analysed_though_it_owns_none(roles: Roles) -> None:
    """Only a table's owner may ANALYZE it (before PostgreSQL 17): a large import by the
    application role is analysed through evalflow_analyze (store/guard.py), run as the owner."""
    from benchmarks.cycle import Applications
    from store.pg_bulk import ANALYZE_ROWS
    from workflow.program import ProgramRegistry

    engine = _work(roles.app_url)
    engine.add_user(LEAD, "hefei-admin", "city-admin", "hefei")
    cities = list(ProgramRegistry().get(PROGRAM).parties)
    apps = Applications((ANALYZE_ROWS + 50) * len(cities), cities)["hefei"][: ANALYZE_ROWS + 50]

    def analysed() -> object:
        with SqlStore(roles.owner_url).engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT last_analyze FROM pg_stat_user_tables"
                    " WHERE schemaname = current_schema() AND relname = 'projects'"
                )
            ).scalar()

    assert analysed() is None
    with SqlStore(roles.app_url).engine.connect() as conn:  # (the role owns no table)
        assert not conn.execute(
            text("SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = 'projects'::regclass")
        ).scalar()
    created = engine.submit_batch("hefei-admin", apps).created
    assert len(created) == ANALYZE_ROWS + 50
    assert analysed() is not None
