"""PostgreSQL roles for a shared deployment: an OWNER role that owns evalflow's schema objects and
runs the migrations, and an APPLICATION role that owns nothing, for the server and the commands.

The application role may read and write the ordinary tables, but on the append-only tables
(:data:`APPEND_ONLY`) only SELECT and INSERT: it cannot UPDATE, DELETE or TRUNCATE an audit
entry, GRANT itself more, or ALTER the table (disable or drop its trigger), because all of those
need the table's owner. It may update ``audit_heads`` (the chains' heads are moved by every write);
a head rewritten there is caught by the signed checkpoints, whose key is kept outside the database.

:func:`set_up` (``evalflow db roles``) makes the two roles when missing, hands every table,
sequence, view and function of the schema to the owner, and grants the application role its
privileges; :func:`regrant` (after ``init`` / ``db upgrade``) applies the same to every pair of
roles set up before, so that a table made by a new migration is granted as the others are. Every
step is idempotent: set up twice, the second run changes nothing. The schema is the connection's
current one (``public``, or the URL's ``search_path``): it is meant to be evalflow's own.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from i18n import Msg
from workflow.errors import EvalflowError, InvalidInput, NotPermitted, StoreUnavailable

# The tables whose rows, once written, stay as they are: the application role may only read and
# append. (audit_checkpoints: the signed checkpoints of migration 0012, granted once it is there.)
APPEND_ONLY = ("audit", "audit_checkpoints")
# tables the application only reads: the schema's revision is the owner's to move; the sheets'
# tally (schema 0016) is kept by the sheets' own triggers (store/tally.py), never written by hand
READ_ONLY = ("alembic_version", "sheet_tallies")
ORDINARY = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPENDING = ("SELECT", "INSERT")
READING = ("SELECT",)
# every privilege a table can carry, as has_table_privilege names them (checked after granting)
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")

OWNER = "evalflow_owner"
APP = "evalflow_app"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ROLE_NAME = Msg("role name")


@dataclass
class RolesReport:
    """What :func:`set_up` or :func:`regrant` did: each step in order, the passwords of the roles
    it created (shown once), and the application role's privileges on each table afterwards."""

    owner: str
    app: str
    schema: str = ""
    created: list[str] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)
    steps: list[Msg] = field(default_factory=list)
    privileges: dict[str, list[str]] = field(default_factory=dict)


def is_postgres(engine: Engine) -> bool:
    """Whether ``engine`` is on PostgreSQL (roles and grants exist there only)."""
    return engine.dialect.name == "postgresql"


def check_name(name: str) -> str:
    """A role name evalflow makes: lower-case letters, digits and _ (no quoting, no surprises)."""
    if not _NAME.match(name):
        raise InvalidInput(
            ROLE_NAME,
            [Msg("{name} is not a role name (lower-case letters, digits and _, 63 at most)", name=repr(name))],
        )
    return name


def q(name: str) -> str:
    """``name`` as an SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _one(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar()


def _role_exists(conn: Connection, role: str) -> bool:
    return bool(_one(conn, "SELECT count(*) FROM pg_roles WHERE rolname = :r", r=role))


def _superuser(conn: Connection, role: str) -> bool:
    return bool(_one(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = :r", r=role))


def _member(conn: Connection, role: str, of: str, how: str = "USAGE") -> bool:
    """Whether ``role`` has the privileges of ``of`` (USAGE: is it, or a member that inherits
    them; MEMBER: or may take them with SET ROLE)."""
    return bool(_one(conn, "SELECT pg_has_role(:r, :o, :h)", r=role, o=of, h=how))


def table_owner(conn: Connection) -> str | None:
    """The owner of evalflow's tables (of ``projects``) in the current schema; None if none."""
    return _one(
        conn,
        "SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.relname = 'projects'"
        " AND c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')",
    )


def require_owner(engine: Engine, command: str) -> None:
    """Refuse in one line (exit 4) when the connection's role cannot run ``command`` (a migration,
    roles): it neither owns evalflow's tables (nor is a member of their owner, nor a superuser),
    or, with no tables yet, may not create any in the schema."""
    if not is_postgres(engine):
        return
    try:
        _require_owner(engine, command)
    except DBAPIError as exc:
        raise _refused(exc, engine) from None


def _require_owner(engine: Engine, command: str) -> None:
    with engine.connect() as conn:
        me = _one(conn, "SELECT current_user")
        if _superuser(conn, me):
            return
        owner = table_owner(conn)
        if owner is not None and not _member(conn, me, owner):
            why = Msg(
                "{user} does not own its tables (their owner is {owner}); run '{command}' with the owner's URL"
                " (--owner-url or EVALFLOW_OWNER_URL)",
                user=me,
                owner=owner,
                command=command,
            )
            raise NotPermitted(Msg("change"), Msg("the database's schema"), why)
        if owner is None and not _one(conn, "SELECT has_schema_privilege(current_schema(), 'CREATE')"):
            why = Msg(
                "{user} may not create tables in schema {schema}; run '{command}' with the owner's URL"
                " (--owner-url or EVALFLOW_OWNER_URL)",
                user=me,
                schema=_one(conn, "SELECT current_schema()"),
                command=command,
            )
            raise NotPermitted(Msg("change"), Msg("the database's schema"), why)


def set_up(engine: Engine, owner: str = OWNER, app: str = APP) -> RolesReport:
    """Make the owner and application roles (when missing) and give each what it may do, in one
    transaction (see the module's docstring). Refused in one line when the connection's role may
    not: it must be a superuser, or able to create roles (CREATEROLE) and own the tables."""
    check_name(owner)
    check_name(app)
    if owner == app:
        raise InvalidInput(ROLE_NAME, [Msg("the owner and the application role must be two roles")])
    report = RolesReport(owner, app)
    try:
        with engine.begin() as conn:
            me = _one(conn, "SELECT current_user")
            for role in (owner, app):
                if not _role_exists(conn, role):
                    _create_role(conn, me, role, report)
            _check_app(conn, owner, app)
            _apply(conn, me, owner, app, report)
    except DBAPIError as exc:
        raise _refused(exc, engine) from None
    return report


def _create_role(conn: Connection, me: str, role: str, report: RolesReport) -> None:
    """A login role with a generated password (letters, digits, - and _: safe inside quotes)."""
    if not _superuser(conn, me) and not _one(conn, "SELECT rolcreaterole FROM pg_roles WHERE rolname = :r", r=me):
        why = Msg("{user} may not create roles; run it as a superuser or a role with CREATEROLE", user=me)
        raise NotPermitted(Msg("create"), Msg("the role {role}", role=role), why)
    password = secrets.token_urlsafe(24)
    # (a role's options cannot be bound parameters: the name is checked, the password generated)
    conn.execute(text(f"CREATE ROLE {q(role)} LOGIN PASSWORD '{password}'"))
    report.created.append(role)
    report.passwords[role] = password
    report.steps.append(Msg("created the role {role} (LOGIN)", role=role))


def _check_app(conn: Connection, owner: str, app: str) -> None:
    """The application role must hold no power over the tables: not a superuser, not the owner's
    member, not the owner of the schema or of the database (either may drop the audit table)."""
    problems: list[Msg] = []
    if _superuser(conn, app):
        problems.append(Msg("{app} is a superuser", app=app))
    if _member(conn, app, owner, "MEMBER"):
        problems.append(Msg("{app} has the privileges of {owner}", app=app, owner=owner))
    schema_owner = _one(
        conn, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE oid = current_schema()::regnamespace"
    )
    if schema_owner and _member(conn, app, schema_owner, "MEMBER"):
        problems.append(Msg("{app} owns the schema {schema}", app=app, schema=_one(conn, "SELECT current_schema()")))
    db_owner = _one(conn, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
    if db_owner and _member(conn, app, db_owner, "MEMBER"):
        problems.append(Msg("{app} owns the database {db}", app=app, db=_one(conn, "SELECT current_database()")))
    if problems:
        why = Msg("it would keep the power to drop or rewrite the audit trail; name another role with --app")
        raise InvalidInput(Msg("application role"), [*problems, why])


def _apply(conn: Connection, me: str, owner: str, app: str, report: RolesReport) -> None:
    """Hand the schema's objects to ``owner`` and grant ``app`` its privileges (idempotent)."""
    schema = report.schema = _one(conn, "SELECT current_schema()")
    database = _one(conn, "SELECT current_database()")
    superuser = _superuser(conn, me)
    if not superuser and not _member(conn, me, owner):
        # (to hand a table to a role, one must be able to act as it)
        conn.execute(text(f"GRANT {q(owner)} TO {q(me)}"))
        report.steps.append(Msg("granted {owner} to {user}, to hand the tables over", owner=owner, user=me))
    for role, wanted in ((owner, "CONNECT"), (app, "CONNECT")):
        if not _one(conn, "SELECT has_database_privilege(:r, current_database(), :p)", r=role, p=wanted):
            conn.execute(text(f"GRANT CONNECT ON DATABASE {q(database)} TO {q(role)}"))
            report.steps.append(Msg("granted CONNECT on the database {db} to {role}", db=database, role=role))
    for role, wanted in ((owner, "USAGE"), (owner, "CREATE"), (app, "USAGE")):
        if not _one(conn, "SELECT has_schema_privilege(:r, current_schema(), :p)", r=role, p=wanted):
            conn.execute(text(f"GRANT {wanted} ON SCHEMA {q(schema)} TO {q(role)}"))
            report.steps.append(
                Msg("granted {what} on the schema {schema} to {role}", what=wanted, schema=schema, role=role)
            )
    public_create = _one(
        conn,
        "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a"
        " WHERE n.oid = current_schema()::regnamespace AND a.grantee = 0 AND a.privilege_type = 'CREATE'",
    )
    if public_create:  # (PostgreSQL before 15 lets every role create tables in public)
        conn.execute(text(f"REVOKE CREATE ON SCHEMA {q(schema)} FROM PUBLIC"))
        report.steps.append(Msg("revoked CREATE on the schema {schema} from PUBLIC", schema=schema))
    _hand_over(conn, owner, report)
    tables = [
        name
        for (name,) in conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                " AND relkind IN ('r', 'p', 'v', 'm') ORDER BY relname"
            )
        )
    ]
    # first nothing, then exactly what each table allows: a privilege given by hand is taken back
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {q(schema)} FROM {q(app)}"))
    conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {q(schema)} FROM {q(app)}"))
    for name in tables:
        allowed = APPENDING if name in APPEND_ONLY else READING if name in READ_ONLY else ORDINARY
        conn.execute(text(f"GRANT {', '.join(allowed)} ON {q(schema)}.{q(name)} TO {q(app)}"))
    conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {q(schema)} TO {q(app)}"))
    # tables a later migration makes: readable and appendable at once (never more: an append-only
    # table must not start with UPDATE), the rest granted by the regrant after the upgrade
    conn.execute(
        text(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {q(schema)}"
            f" GRANT SELECT, INSERT ON TABLES TO {q(app)}"
        )
    )
    conn.execute(
        text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {q(schema)} GRANT USAGE ON SEQUENCES TO {q(app)}")
    )
    report.steps.append(
        Msg(
            "granted {app} SELECT, INSERT, UPDATE, DELETE on {ordinary} tables; SELECT, INSERT only on {appended};"
            " SELECT only on {read}; USAGE on the sequences",
            app=app,
            ordinary=sum(1 for t in tables if t not in APPEND_ONLY and t not in READ_ONLY),
            appended=", ".join(t for t in tables if t in APPEND_ONLY) or "-",
            read=", ".join(t for t in tables if t in READ_ONLY) or "-",
        )
    )
    report.privileges = {
        name: [
            p
            for p in TABLE_PRIVILEGES
            if _one(conn, "SELECT has_table_privilege(:r, :t, :p)", r=app, t=f"{q(schema)}.{q(name)}", p=p)
        ]
        for name in tables
    }


def _hand_over(conn: Connection, owner: str, report: RolesReport) -> None:
    """Every table, view, sequence (not a column's own) and function of the schema to ``owner``."""
    relations = conn.execute(
        text(
            "SELECT c.relname, c.relkind FROM pg_class c"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            " AND c.relowner <> CAST(:o AS regrole)"
            # (a serial column's sequence follows its table)
            " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
            "   AND d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S')"
            " ORDER BY c.relkind, c.relname"
        ),
        {"o": owner},
    ).all()
    for name, kind in relations:
        what = {"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW"}.get(kind, "TABLE")
        conn.execute(text(f"ALTER {what} {q(report.schema)}.{q(name)} OWNER TO {q(owner)}"))
    functions = conn.execute(
        text(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p"
            " WHERE p.pronamespace = current_schema()::regnamespace AND p.proowner <> CAST(:o AS regrole)"
            " ORDER BY p.proname"
        ),
        {"o": owner},
    ).all()
    for name, args in functions:
        conn.execute(text(f"ALTER FUNCTION {q(report.schema)}.{q(name)}({args}) OWNER TO {q(owner)}"))
    if relations or functions:
        report.steps.append(
            Msg(
                "handed {tables} tables, views and sequences and {functions} functions to {owner}",
                tables=len(relations),
                functions=len(functions),
                owner=owner,
            )
        )


def pairs(conn: Connection) -> list[tuple[str, str]]:
    """The (owner, application role) pairs set up on the current schema, as their default
    privileges record them (the mark :func:`set_up` leaves)."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT pg_get_userbyid(d.defaclrole), pg_get_userbyid(a.grantee)"
            " FROM pg_default_acl d, aclexplode(d.defaclacl) a"
            " WHERE d.defaclnamespace = current_schema()::regnamespace AND d.defaclobjtype = 'r'"
            " AND a.privilege_type = 'INSERT' AND a.grantee <> d.defaclrole AND a.grantee <> 0"
            " ORDER BY 1, 2"
        )
    ).all()
    return [(str(o), str(a)) for o, a in rows]


def regrant(engine: Engine) -> list[RolesReport]:
    """After a migration: grant every application role set up here (see :func:`pairs`) its
    privileges on the tables as they are now (a new table included); none set up, nothing done."""
    if not is_postgres(engine):
        return []
    reports: list[RolesReport] = []
    try:
        with engine.begin() as conn:
            me = _one(conn, "SELECT current_user")
            for owner, app in pairs(conn):
                report = RolesReport(owner, app)
                _apply(conn, me, owner, app, report)
                reports.append(report)
    except DBAPIError as exc:
        raise _refused(exc, engine) from None
    return reports


def connected_as_owner(engine: Engine) -> str | None:
    """The connection's role when it may rewrite the audit trail (a superuser, or the audit
    table's owner or a member of it); None for a role without that power, or on SQLite."""
    if not is_postgres(engine):
        return None
    with engine.connect() as conn:
        me = _one(conn, "SELECT current_user")
        owner = _one(
            conn,
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'audit'"
            " AND relnamespace = current_schema()::regnamespace",
        )
        if _superuser(conn, me) or (owner is not None and _member(conn, me, owner, "MEMBER")):
            return str(me)
    return None


def _refused(exc: DBAPIError, engine: Engine) -> EvalflowError:
    """The server's refusal (permission denied, must be owner …) on one line, exit 4; a server
    that cannot be reached or refuses the connection, exit 9 (as every command says it)."""
    why = " ".join(str(getattr(exc, "orig", exc)).split())
    if isinstance(exc, OperationalError):
        db = engine.url.render_as_string(hide_password=True)
        return StoreUnavailable(Msg("Cannot open the database at {db}: {why}", db=db, why=why))
    return NotPermitted(Msg("set up"), Msg("the database's roles"), Msg("{why}", why=why))
