"""The SQL store: implements the engine's store port on SQLModel / SQLAlchemy.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and write transactions
start with BEGIN IMMEDIATE so that two writers queue instead of failing half-way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine

from store.tables import (
    AuditRow,
    ConfirmationRow,
    CycleRow,
    ListVersionRow,
    ProjectRow,
    ScoreSheetRow,
    UserRow,
)
from workflow.errors import ConcurrentChange, StoreUnavailable
from workflow.records import (
    AuditEntry,
    Confirmation,
    Cycle,
    ListEntry,
    ListVersion,
    Project,
    ScoreSheet,
    User,
)

BUSY_TIMEOUT_MS = 10_000


def database_url(db: str | None) -> str:
    """A path or a URL; default ./evalflow.db (or EVALFLOW_DATABASE_URL)."""
    value = db or os.environ.get("EVALFLOW_DATABASE_URL") or "evalflow.db"
    return value if "://" in value else f"sqlite:///{value}"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write", True) else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


class SqlStore:
    """Opens transactions on one database."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def sqlite_path(self) -> Path | None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            return Path(parsed.database)
        return None

    def create(self) -> bool:
        """Create the schema if missing; True if it was created now."""
        path = self.sqlite_path()
        fresh = path is not None and not path.exists()
        try:
            existed = inspect(self.engine).has_table("projects")
            SQLModel.metadata.create_all(self.engine)
        except OperationalError as exc:
            raise StoreUnavailable(f"Cannot create the database at {self.describe()}: {exc.orig}") from None
        if fresh and path is not None and path.exists():
            path.chmod(0o600)
        return not existed

    def check_ready(self) -> None:
        path = self.sqlite_path()
        if path is not None and not path.exists():
            raise StoreUnavailable(f"No database at {path}; run 'evalflow init' first (or pass --db)")
        try:
            ready = inspect(self.engine).has_table("projects")
        except OperationalError as exc:
            raise StoreUnavailable(f"Cannot open the database at {self.describe()}: {exc.orig}") from None
        if not ready:
            raise StoreUnavailable(f"The database at {self.describe()} is not initialised; run 'evalflow init'")

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        """One database transaction; commits on success, rolls back on any exception."""
        try:
            with self.engine.connect() as conn:
                conn.info["write"] = write
                with conn.begin():
                    with Session(bind=conn, expire_on_commit=False, autoflush=False) as session:
                        yield Tx(session)
                        session.flush()
        except OperationalError as exc:
            raise StoreUnavailable(f"The database at {self.describe()} failed: {exc.orig}") from None

    def dispose(self) -> None:
        self.engine.dispose()


def _user(row: UserRow) -> User:
    return User(name=row.name, role=row.role, city=row.city)


def _cycle(row: CycleRow) -> Cycle:
    return Cycle(
        id=row.id,
        program_id=row.program_id,
        program_version=row.program_version,
        program_digest=row.program_digest,
        year=row.year,
        stage=row.stage,
        settings=dict(row.settings or {}),
        version=row.version,
        opened_at=row.opened_at,
        opened_by=row.opened_by,
    )


def _project(row: ProjectRow) -> Project:
    return Project(
        id=row.id,
        cycle_id=row.cycle_id,
        city=row.city,
        applicant=row.applicant,
        enterprise_name=row.enterprise_name,
        project_name=row.project_name,
        application=dict(row.application or {}),
        state=row.state,
        municipal_result=row.municipal_result,
        review_method=row.review_method,
        version=row.version,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
    )


def _sheet(row: ScoreSheetRow) -> ScoreSheet:
    return ScoreSheet(
        id=row.id,
        cycle_id=row.cycle_id,
        project_id=row.project_id,
        city=row.city,
        scorer=row.scorer,
        scores=dict(row.scores),
        bands=dict(row.bands),
        total=row.total,
        completion=row.completion,
        current=row.current,
        at=row.at,
    )


def _list(row: ListVersionRow) -> ListVersion:
    return ListVersion(
        id=row.id,
        cycle_id=row.cycle_id,
        number=row.number,
        status=row.status,
        method=row.method,
        entries=[ListEntry(**e) for e in row.entries],
        proposed_by=row.proposed_by,
        at=row.at,
        tie_order=list(row.tie_order),
        version=row.version,
    )


def _audit(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        cycle_id=row.cycle_id,
        subject=row.subject,
        subject_id=row.subject_id,
        actor=row.actor,
        action=row.action,
        from_state=row.from_state,
        to_state=row.to_state,
        reason=row.reason,
        data=dict(row.data or {}),
    )


class Tx:
    """Reads and writes inside one transaction. Every write of a versioned record checks the version."""

    def __init__(self, session: Session):
        self.s = session

    # -- users ------------------------------------------------------------------------------
    def get_user(self, name: str) -> User | None:
        row = self.s.execute(select(UserRow).where(UserRow.name == name)).scalars().first()
        return _user(row) if row else None

    def count_users(self) -> int:
        return self.s.execute(select(func.count()).select_from(UserRow)).scalar_one()

    def add_user(self, user: User, at: Any) -> None:
        self.s.add(UserRow(name=user.name, role=user.role, city=user.city, created_at=at))
        self.s.flush()

    def list_users(self) -> list[User]:
        return [
            _user(r)
            for r in self.s.execute(select(UserRow).order_by(UserRow.role, UserRow.city, UserRow.name)).scalars()
        ]

    # -- cycles -----------------------------------------------------------------------------
    def get_cycle(self, cycle_id: str) -> Cycle | None:
        row = self.s.get(CycleRow, cycle_id)
        return _cycle(row) if row else None

    def list_cycles(self) -> list[Cycle]:
        rows = self.s.execute(select(CycleRow).order_by(CycleRow.opened_at.desc())).scalars()  # type: ignore[attr-defined]
        return [_cycle(r) for r in rows]

    def insert_cycle(self, cycle: Cycle) -> None:
        data = asdict(cycle)
        self.s.add(CycleRow(**data))
        self.s.flush()

    def save_cycle(self, cycle: Cycle) -> None:
        """Write stage and settings if the stored version is still ``cycle.version``; bump it."""
        result = self.s.execute(
            update(CycleRow)
            .where(CycleRow.id == cycle.id, CycleRow.version == cycle.version)
            .values(stage=cycle.stage, settings=cycle.settings, version=cycle.version + 1)
        )
        if result.rowcount != 1:
            found = self.s.execute(select(CycleRow.version).where(CycleRow.id == cycle.id)).scalar()
            raise ConcurrentChange(f"cycle {cycle.id}", cycle.version, found)
        cycle.version += 1

    # -- projects ---------------------------------------------------------------------------
    def get_project(self, project_id: int) -> Project | None:
        row = self.s.get(ProjectRow, project_id)
        return _project(row) if row else None

    def insert_project(self, project: Project) -> None:
        data = asdict(project)
        data.pop("id")
        data["version"] = 1
        row = ProjectRow(**data)
        self.s.add(row)
        self.s.flush()
        project.id = row.id
        project.version = 1

    def save_project(self, project: Project) -> None:
        """Write the project if the stored version is still ``project.version``; bump it."""
        result = self.s.execute(
            update(ProjectRow)
            .where(ProjectRow.id == project.id, ProjectRow.version == project.version)
            .values(
                state=project.state,
                municipal_result=project.municipal_result,
                review_method=project.review_method,
                application=project.application,
                updated_at=project.updated_at,
                version=project.version + 1,
            )
        )
        if result.rowcount != 1:
            found = self.s.execute(select(ProjectRow.version).where(ProjectRow.id == project.id)).scalar()
            raise ConcurrentChange(f"project {project.id}", project.version, found)
        project.version += 1

    def find_projects(
        self,
        cycle_id: str,
        cities: Sequence[str] | None = None,
        states: Sequence[str] | None = None,
        applicant: str | None = None,
    ) -> list[Project]:
        q = select(ProjectRow).where(ProjectRow.cycle_id == cycle_id)
        if cities is not None:
            q = q.where(ProjectRow.city.in_(list(cities)))  # type: ignore[attr-defined]
        if states is not None:
            q = q.where(ProjectRow.state.in_(list(states)))  # type: ignore[attr-defined]
        if applicant is not None:
            q = q.where(ProjectRow.applicant == applicant)
        return [_project(r) for r in self.s.execute(q.order_by(ProjectRow.id)).scalars()]

    def count_by_city_state(self, cycle_id: str) -> dict[tuple[str, str], int]:
        rows = self.s.execute(
            select(ProjectRow.city, ProjectRow.state, func.count())
            .where(ProjectRow.cycle_id == cycle_id)
            .group_by(ProjectRow.city, ProjectRow.state)
        )
        return {(city, state): n for city, state, n in rows}

    def count_municipal_results(self, cycle_id: str) -> dict[tuple[str, str], int]:
        rows = self.s.execute(
            select(ProjectRow.city, ProjectRow.municipal_result, func.count())
            .where(ProjectRow.cycle_id == cycle_id, ProjectRow.municipal_result.is_not(None))  # type: ignore[union-attr]
            .group_by(ProjectRow.city, ProjectRow.municipal_result)
        )
        return {(city, result): n for city, result, n in rows}

    # -- score sheets -----------------------------------------------------------------------
    def current_sheet(self, project_id: int, city: str) -> ScoreSheet | None:
        row = (
            self.s.execute(
                select(ScoreSheetRow).where(
                    ScoreSheetRow.project_id == project_id,
                    ScoreSheetRow.city == city,
                    ScoreSheetRow.current.is_(True),  # type: ignore[attr-defined]
                )
            )
            .scalars()
            .first()
        )
        return _sheet(row) if row else None

    def put_sheet(self, sheet: ScoreSheet) -> ScoreSheet | None:
        """Store ``sheet`` as the city's current sheet; the one it replaces stays as history."""
        old = self.current_sheet(sheet.project_id, sheet.city)
        if old is not None:
            self.s.execute(update(ScoreSheetRow).where(ScoreSheetRow.id == old.id).values(current=False))
        data = asdict(sheet)
        data.pop("id")
        row = ScoreSheetRow(**data)
        self.s.add(row)
        self.s.flush()
        sheet.id = row.id
        return old

    def sheets(self, cycle_id: str, project_id: int | None = None, current_only: bool = True) -> list[ScoreSheet]:
        q = select(ScoreSheetRow).where(ScoreSheetRow.cycle_id == cycle_id)
        if project_id is not None:
            q = q.where(ScoreSheetRow.project_id == project_id)
        if current_only:
            q = q.where(ScoreSheetRow.current.is_(True))  # type: ignore[attr-defined]
        return [
            _sheet(r)
            for r in self.s.execute(
                q.order_by(ScoreSheetRow.project_id, ScoreSheetRow.city, ScoreSheetRow.id)
            ).scalars()
        ]

    def count_sheets_by_city(self, cycle_id: str, key_states: Sequence[str]) -> dict[str, int]:
        rows = self.s.execute(
            select(ScoreSheetRow.city, func.count())
            .join(ProjectRow, ProjectRow.id == ScoreSheetRow.project_id)
            .where(
                ScoreSheetRow.cycle_id == cycle_id,
                ScoreSheetRow.current.is_(True),  # type: ignore[attr-defined]
                ProjectRow.state.in_(list(key_states)),  # type: ignore[attr-defined]
            )
            .group_by(ScoreSheetRow.city)
        )
        return {city: n for city, n in rows}

    # -- lists ------------------------------------------------------------------------------
    def latest_list(self, cycle_id: str) -> ListVersion | None:
        row = (
            self.s.execute(
                select(ListVersionRow).where(ListVersionRow.cycle_id == cycle_id).order_by(ListVersionRow.number.desc())  # type: ignore[attr-defined]
            )
            .scalars()
            .first()
        )
        return _list(row) if row else None

    def list_versions(self, cycle_id: str) -> list[ListVersion]:
        rows = self.s.execute(
            select(ListVersionRow).where(ListVersionRow.cycle_id == cycle_id).order_by(ListVersionRow.number)
        ).scalars()
        return [_list(r) for r in rows]

    def insert_list(self, lst: ListVersion) -> None:
        data = asdict(lst)
        data.pop("id")
        row = ListVersionRow(**data)
        self.s.add(row)
        self.s.flush()
        lst.id = row.id

    def save_list_status(self, lst: ListVersion) -> None:
        result = self.s.execute(
            update(ListVersionRow)
            .where(ListVersionRow.id == lst.id, ListVersionRow.version == lst.version)
            .values(status=lst.status, version=lst.version + 1)
        )
        if result.rowcount != 1:
            found = self.s.execute(select(ListVersionRow.version).where(ListVersionRow.id == lst.id)).scalar()
            raise ConcurrentChange(f"list version {lst.number} of {lst.cycle_id}", lst.version, found)
        lst.version += 1

    def confirmations(self, list_id: int) -> list[Confirmation]:
        rows = self.s.execute(
            select(ConfirmationRow).where(ConfirmationRow.list_id == list_id).order_by(ConfirmationRow.id)
        ).scalars()
        return [
            Confirmation(list_id=r.list_id, city=r.city, user=r.user, decision=r.decision, reason=r.reason, at=r.at)
            for r in rows
        ]

    def add_confirmation(self, c: Confirmation) -> None:
        self.s.add(ConfirmationRow(**asdict(c)))
        self.s.flush()

    # -- audit ------------------------------------------------------------------------------
    def audit(self, entry: AuditEntry) -> None:
        data = asdict(entry)
        data.pop("id")
        self.s.add(AuditRow(**data))
        self.s.flush()

    def history(
        self, subject: str | None = None, subject_id: str | None = None, cycle_id: str | None = None
    ) -> list[AuditEntry]:
        q = select(AuditRow)
        if subject is not None:
            q = q.where(AuditRow.subject == subject)
        if subject_id is not None:
            q = q.where(AuditRow.subject_id == subject_id)
        if cycle_id is not None:
            q = q.where(AuditRow.cycle_id == cycle_id)
        return [_audit(r) for r in self.s.execute(q.order_by(AuditRow.id)).scalars()]

    def count_audit(self) -> int:
        return self.s.execute(select(func.count()).select_from(AuditRow)).scalar_one()


__all__ = ["SqlStore", "Tx", "database_url", "SQLAlchemyError"]
