"""The naive baseline: one ORM session and commit per transition."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.cycle import Applications
from store.sql import SqlStore

TZ = ZoneInfo("Asia/Shanghai")


def naive_run(n: int, work: Path, apps: Applications) -> float:
    """One ORM session and commit per transition (the slow way), for the same accept/review/
    recommend/score transitions of the first city's projects scaled up to N."""
    from sqlmodel import Session, select

    from store.tables import AuditRow, ProjectRow

    # (its row class is made from the schema when imported: the type checker knows it only as a SQLModel)
    projects: Any = ProjectRow

    db = work / f"naive-{n}.db"
    store = SqlStore(f"sqlite:///{db}")
    store.create()
    with Session(store.engine) as s:
        from store.tables import CycleRow

        s.add(
            CycleRow(
                id="c",
                program_id="p",
                program_version=1,
                program_digest="d",
                year=2027,
                stage="s",
                settings={},
                opened_at=datetime.now(TZ),
                opened_by="lead",
            )
        )
        s.commit()
    flat = [a for c in apps.values() for _, a in c]
    start = time.perf_counter()
    for i, a in enumerate(flat):
        with Session(store.engine) as s:
            now = datetime.now(TZ)
            s.add(
                ProjectRow(
                    id=i + 1,
                    cycle_id="c",
                    city=a["enterprise"]["city"],
                    applicant="u",
                    unit_name=a["enterprise"]["name"],
                    project_name=a["project"]["name"],
                    application=a,
                    state="submitted",
                    submitted_at=now,
                    updated_at=now,
                )
            )
            s.add(
                AuditRow(
                    at=now, cycle_id="c", subject="project", subject_id=str(i + 1), actor="u", action="submit", data={}
                )
            )
            s.commit()
    steps = [("accept", "in_library"), ("review", "municipal_demonstration"), ("recommend", "recommended")]
    steps += [("score", "recommended")] * 9 + [("place", "not_listed")]
    for action, dest in steps:
        for i in range(n):
            with Session(store.engine) as s:
                row = s.exec(select(projects).where(projects.id == i + 1)).one()
                before = row.state
                row.state = dest
                row.version += 1
                s.add(
                    AuditRow(
                        at=datetime.now(TZ),
                        cycle_id="c",
                        subject="project",
                        subject_id=str(i + 1),
                        actor="u",
                        action=action,
                        from_state=before,
                        to_state=dest,
                        data={},
                    )
                )
                s.commit()
    seconds = time.perf_counter() - start
    store.dispose()
    return seconds
