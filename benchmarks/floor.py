"""The floor the engine is measured against: the rows of a cycle written with raw sqlite3
executemany, one transaction per stage, no state machine — the same rows as the engine's run
(same_rows_run), and the lighter rows the benchmark measured against before (floor_run)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.cycle import CYCLE, PROGRAM, Applications, sheet
from policies.base import Criterion
from store.sql import SqlStore, stored_json
from workflow.audit import data_text
from workflow.engine import MOVE_CHUNK
from workflow.publication import list_digest, list_document
from workflow.records import ListEntry, ListVersion

SHEET = {"value": 19, "organization": 28, "effectiveness": 27, "mechanism": 18}


def as_stored(value: object) -> str:
    """JSON text as evalflow stores it (no spaces, text as it is), made as evalflow makes it: the
    floor writes the same bytes, and pays what evalflow pays to make them."""
    return stored_json(value)


def floor_run(n: int, work: Path, apps: Applications, cities: int = 9) -> float:
    """The bare floor: lighter rows than the engine's, written with raw sqlite3 executemany, one
    transaction per stage (audit rows without data or hashes, sheets without bands, no list
    version; no foreign keys checked). Kept beside the floor of the same rows (same_rows_run),
    as the floor the benchmark measured against before."""
    con = _floor_db(work / f"floor-{n}.db", "c", foreign_keys=False)
    now = "2027-05-01 01:00:00.000000"
    untimed = 0.0  # making the synthetic applications is not the floor's work
    start = time.perf_counter()

    def audit(rows: list[tuple[int, str, str, str]]) -> None:
        con.executemany(
            "INSERT INTO audit (at, cycle_id, subject, subject_id, actor, action, from_state, to_state, reason, data)"
            " VALUES (?, 'c', 'project', ?, 'u', ?, ?, ?, '', '{}')",
            [(now, str(pid), action, a, b) for pid, action, a, b in rows],
        )

    con.execute("BEGIN")
    pid = 0
    for city in apps.cities:
        made = time.perf_counter()
        batch = [a for _, a in apps[city.id]]
        untimed += time.perf_counter() - made
        con.executemany(
            "INSERT INTO projects (id, cycle_id, city, applicant, unit_name, project_name, application, state,"
            " version, submitted_at, updated_at, record) VALUES (?, 'c', ?, 'u', ?, ?, ?, 'submitted', 1, ?, ?, '{}')",
            [
                (pid + i + 1, a["enterprise"]["city"], a["enterprise"]["name"], a["project"]["name"], as_stored(a))
                + (now, now)
                for i, a in enumerate(batch)
            ],
        )
        pid += len(batch)
    audit([(i + 1, "submit", "new", "submitted") for i in range(n)])
    con.execute("COMMIT")
    for action, a, b in (
        ("accept", "submitted", "in_library"),
        ("review", "in_library", "municipal_demonstration"),
        ("recommend", "municipal_demonstration", "recommended"),
    ):
        con.execute("BEGIN")
        con.executemany(
            "UPDATE projects SET state = ?, version = version + 1 WHERE id = ?", [(b, i + 1) for i in range(n)]
        )
        audit([(i + 1, action, a, b) for i in range(n)])
        con.execute("COMMIT")
    for c in range(cities):
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO score_sheets (cycle_id, project_id, city, scorer, scores, bands, total, completion, current,"
            " at) VALUES ('c', ?, ?, 's', ?, '{}', 92, '', 1, ?)",
            [(i + 1, f"city{c}", as_stored(SHEET), now) for i in range(n)],
        )
        audit([(i + 1, "score", "recommended", "recommended") for i in range(n)])
        con.execute("COMMIT")
    con.execute("BEGIN")
    con.executemany(
        "UPDATE projects SET state = 'not_listed', version = version + 1 WHERE id = ?", [(i + 1,) for i in range(n)]
    )
    audit([(i + 1, "place", "recommended", "not_listed") for i in range(n)])
    con.execute("COMMIT")
    con.close()  # (its last checkpoint is the floor's work too: the engine's close is timed)
    seconds = time.perf_counter() - start - untimed
    return seconds


def _floor_db(db: Path, cycle_id: str, foreign_keys: bool) -> sqlite3.Connection:
    """A fresh database with the tables and indexes `evalflow init` makes, opened with raw
    sqlite3 in WAL mode as evalflow opens it (and checking foreign keys, if asked), holding the
    cycle the floor's rows belong to."""
    engine_db = SqlStore(f"sqlite:///{db}")
    engine_db.create()  # the same tables and indexes
    engine_db.dispose()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    con.execute("BEGIN")
    con.execute(
        "INSERT INTO cycles (id, program_id, program_version, program_digest, year, stage, settings, version,"
        " opened_at, opened_by) VALUES (?, ?, 1, '871c2bf74f109f30', 2027, 'collection', '{}', 1, ?, 'lead')",
        (cycle_id, PROGRAM, "2027-01-10 01:00:00.000000"),
    )
    con.execute("COMMIT")
    return con


HASH = "0" * 64  # a hash's text is as long as any other: the floor stores it, and makes none


class SqliteRows:
    """How the floor writes its rows on SQLite: raw sqlite3, executemany (see same_rows_run). The
    writers of PostgreSQL (benchmarks/pg_floor.py) answer the same calls."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def begin(self) -> None:
        self.con.execute("BEGIN")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement (parameters marked ?); the rows it returns."""
        return self.con.execute(sql, params).fetchall()

    def insert(self, table: str, names: Sequence[str], rows: list[tuple[Any, ...]], consts: str = "") -> None:
        """Rows of ``names``; ``consts``: more columns, the same in every row, as
        ``"name=SQL literal; …"``."""
        more, values = _consts(consts)
        self.con.executemany(
            f"INSERT INTO {table} ({', '.join([*names, *more])}) VALUES ({', '.join(['?'] * len(names) + values)})",
            rows,
        )

    def update_projects(self, names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Set ``names`` of projects (each row: their values, then the id), their versions bumped."""
        sets = f"{names[0]} = ?, version = version + 1" + "".join(f", {n} = ?" for n in names[1:])
        self.con.executemany(f"UPDATE projects SET {sets} WHERE id = ?", rows)

    def close(self) -> None:
        self.con.close()


def _consts(consts: str) -> tuple[list[str], list[str]]:
    """``"name=literal; name=literal"`` as the columns' names and their SQL literals."""
    pairs = [x.split("=", 1) for x in consts.split("; ") if x]
    return [a for a, _ in pairs], [b for _, b in pairs]


def same_rows_run(n: int, work: Path, apps: Applications, writer: Any = None) -> tuple[float, dict[str, float]]:
    """The floor as the benchmark defines it: the same rows the engine writes for the cycle (its
    projects and their columns, its audit rows with their data and hash texts, the chain's head,
    the sheets with their bands, the list version and its confirmations), written with raw sqlite3
    executemany, one transaction per stage, foreign keys checked as evalflow's connections check
    them. What a row holds is made as the engine's run makes it (each city's applications and
    sheets, its JSON by evalflow's own store encoder); making the synthetic applications and the
    sheets' scores is not timed, nor is any hash made. Returns the seconds, and the seconds of
    each of the engine's stages it has rows for (its stage cycle's advances write no rows here).
    ``writer``: another database's (benchmarks/pg_floor.py), its cycle's row made; by default a
    new SQLite file in ``work``."""
    from workflow.program import ProgramRegistry

    program = ProgramRegistry().get(PROGRAM)
    parties = list(program.parties)
    con = writer or SqliteRows(_floor_db(work / f"floor-same-{n}.db", CYCLE, foreign_keys=True))
    untimed = 0.0
    start = time.perf_counter()
    stages: dict[str, float] = {}
    last = [start, 0.0]  # when the last stage ended, and the untimed seconds until then

    def ended(stage: str) -> None:
        now = time.perf_counter()
        stages[stage] = (now - last[0]) - (untimed - last[1])
        last[:] = [now, untimed]

    def at(month: int, day: int) -> str:
        return f"2027-{month:02d}-{day:02d} 01:00:00.000000"

    def audit(when: str, actor: str, action: str, subject: str, rows: list[tuple[object, str | None, str, str]]):
        con.insert(
            "audit",
            ("at", "cycle_id", "subject", "subject_id", "actor", "action", "from_state", "to_state", "data")
            + ("prev_hash", "hash"),
            [(when, CYCLE, subject, str(sid), actor, action, a, b, data, HASH, HASH) for sid, a, b, data in rows],
            "reason=''",
        )
        con.execute(
            "INSERT INTO audit_heads (chain, hash, entry_id) VALUES (?, ?, (SELECT max(id) FROM audit))"
            " ON CONFLICT (chain) DO UPDATE SET hash = excluded.hash, entry_id = excluded.entry_id",
            (CYCLE, HASH),
        )

    def move(when: str, rows: list[tuple[str, int]], extra: tuple[str, ...] = (), values: tuple = ()) -> None:
        con.update_projects(("state", "updated_at", *extra), [(state, when, *values, pid) for state, pid in rows])

    ids: dict[str, list[int]] = {}
    pid = 0
    con.begin()
    for city in parties:
        made = time.perf_counter()
        batch = [a for _, a in apps[city.id]]
        untimed += time.perf_counter() - made
        when, admin = at(1, 20), f"{city.id}-admin"
        rows = []
        for a in batch:
            pid += 1
            e, p = a["enterprise"], a["project"]
            rows.append((pid, e["city"], admin, e["name"], p["name"], as_stored(a), when, when))
        con.insert(
            "projects",
            ("id", "city", "applicant", "unit_name", "project_name", "application", "submitted_at", "updated_at"),
            rows,
            f"cycle_id='{CYCLE}'; state='submitted'; version=1; record='{{}}'",
        )
        ids[city.id] = [r[0] for r in rows]
        audit(
            when,
            admin,
            "submit",
            "project",
            [
                (
                    r[0],
                    "new",  # (a project comes from the machine's initial state)
                    "submitted",
                    data_text({"city": r[1], "enterprise": r[3], "imported": True, "project_name": r[4]}),
                )
                for r in rows
            ],
        )
        del batch, rows
    con.commit()
    ended("1 submit")
    # each stage: the action, when, the states from and to, its audit data, and the columns it sets
    changes: tuple[tuple[str, str, str, str, str, dict[str, str], tuple[str, ...], tuple[str, ...]], ...] = (
        ("1 accept", "accept", at(2, 20), "submitted", "in_library", {}, (), ()),
        (
            "2 review",
            "review",
            at(3, 10),
            "in_library",
            "municipal_demonstration",
            {"method": "site", "result": "demonstration"},
            ("review_result", "review_method"),
            ("demonstration", "site"),
        ),
        ("3 recommend", "recommend", at(5, 2), "municipal_demonstration", "recommended", {}, (), ()),
    )
    for stage, action, when, old, new, change, extra, values in changes:
        con.begin()
        for city in parties:  # each city's admin acts on its own projects
            move(when, [(new, i) for i in ids[city.id]], extra, values)
            audit(when, f"{city.id}-admin", action, "project", [(i, old, new, data_text(change)) for i in ids[city.id]])
        con.commit()
        ended(stage)
    every = [i for city in parties for i in ids[city.id]]
    when = at(5, 10)
    totals = dict.fromkeys(every, 0)
    for k, city in enumerate(parties):  # each city's sheets, a transaction each, as the engine's
        con.begin()
        scorer = f"{city.id}-scorer"
        for first in range(0, n, MOVE_CHUNK):  # made a chunk at a time (not timed), as the engine writes them
            made = time.perf_counter()
            part = every[first : first + MOVE_CHUNK]
            scores = [sheet(i, k) for i in part]
            bands = [{c.id: _band(c, s[c.id]) for c in program.criteria} for s in scores]
            data: list[dict[str, Any]] = [  # the audit data the engine's sheet records
                {"scores": s, "bands": b, "total": sum(s.values()), "city": city.id, "replaces_total": None}
                for s, b in zip(scores, bands, strict=True)
            ]
            untimed += time.perf_counter() - made
            con.insert(
                "score_sheets",
                ("cycle_id", "project_id", "city", "scorer", "scores", "bands", "total", "at"),
                [
                    (CYCLE, i, city.id, scorer, as_stored(s), as_stored(b), d["total"], when)
                    for i, s, b, d in zip(part, scores, bands, data, strict=True)
                ],
                "completion=''; current=TRUE",
            )
            audit(
                when,
                scorer,
                "score",
                "project",
                [(i, "recommended", "recommended", data_text(d)) for i, d in zip(part, data, strict=True)],
            )
            for i, d in zip(part, data, strict=True):
                totals[i] += d["total"]
            del scores, bands, data
        con.commit()
    ended("4 score")
    # the list: every project ranked by its mean, the first places listed (the engine's ranking,
    # not the storage's work: not timed)
    made = time.perf_counter()
    ranked = sorted(every, key=lambda i: (-totals[i], i))
    places = {"demonstration": n // 10, "excellent": n // 5}
    category: dict[int, str] = {}
    for i, pid in enumerate(ranked):
        category[pid] = (
            "demonstration"
            if i < places["demonstration"]
            else "excellent"
            if i < places["demonstration"] + places["excellent"]
            else "none"
        )
    con.begin()
    when = at(5, 25)
    names = {r[0]: r[1:] for r in con.execute("SELECT id, city, unit_name, project_name FROM projects")}
    untimed += time.perf_counter() - made

    def entry(rank: int, i: int) -> dict[str, object]:
        city, enterprise, project = names[i]
        score = f"{totals[i] / len(parties):.4f}"
        return {
            "rank": rank,
            "project_id": i,
            "city": city,
            "unit_name": enterprise,
            "project_name": project,
            "score": score,
            "category": category[i],
        }

    # the list's JSON text, made a chunk of entries at a time (as the engine writes it, field by field)
    entries = (
        "["
        + ",".join(
            as_stored([entry(first + r + 1, i) for r, i in enumerate(ranked[first : first + MOVE_CHUNK])])[1:-1]
            for first in range(0, n, MOVE_CHUNK)
        )
        + "]"
    )
    names.clear()
    con.execute(
        "INSERT INTO list_versions (id, cycle_id, number, status, method, entries, tie_order, proposed_by, at, version)"
        " VALUES (1, ?, 1, 'proposed', 'mean', ?, '[]', 'lead', ?, 1)",
        (CYCLE, entries, when),
    )
    audit(
        when,
        "lead",
        "propose",
        "list",
        [
            (
                1,
                None,
                "proposed",
                data_text(
                    {
                        "changes": [],
                        "correction": False,
                        "entries": n,
                        "method": "mean",
                        "places": places,
                        "tie_order": [],
                    }
                ),
            )
        ],
    )
    con.commit()
    ended("5 propose")
    published_entries = entries  # (the publication records the list's sha256: workflow/publication.py)
    del entries
    con.begin()
    for city in parties:
        con.execute(
            'INSERT INTO confirmations (list_id, city, "user", decision, reason, at)'
            " VALUES (1, ?, ?, 'confirm', '', ?)",
            (city.id, f"{city.id}-admin", when),
        )
        audit(when, f"{city.id}-admin", "confirm", "list", [(1, "proposed", "proposed", data_text({"city": city.id}))])
        con.execute("UPDATE list_versions SET version = version + 1 WHERE id = 1")  # (as each confirmation does)
    con.execute("UPDATE list_versions SET status = 'confirmed', version = version + 1 WHERE id = 1")
    audit(when, "lead", "confirmed", "list", [(1, "proposed", "confirmed", "{}")])
    con.commit()
    ended("5 confirm")
    con.begin()
    when = at(6, 2)
    state = {"demonstration": "listed_demonstration", "excellent": "listed_excellent", "none": "not_listed"}
    move(when, [(state[category[i]], i) for i in every])
    audit(
        when,
        "lead",
        "place",
        "project",
        [
            (i, "recommended", state[category[i]], data_text({"category": category[i], "list_version": 1}))
            for i in every
        ],
    )
    con.execute("UPDATE list_versions SET status = 'published', version = version + 1 WHERE id = 1")
    published = ListVersion(
        CYCLE, 1, "published", "mean", [ListEntry(**e) for e in json.loads(published_entries)], "lead"
    )
    categories = [(c.id, program.category_name(c.id)) for c in program.categories]
    instant = datetime.fromisoformat(when).replace(tzinfo=UTC)
    digest = list_digest(list_document(program.id, program.name, categories, published, instant))
    audit(when, "lead", "publish", "list", [(1, "confirmed", "published", data_text({"list_sha256": digest}))])
    del published_entries, published
    con.commit()
    ended("6 publish")
    con.begin()
    listed = [i for i in every if category[i] != "none"]
    move(when, [("awarded", i) for i in listed])
    audit(when, "lead", "award", "project", [(i, state[category[i]], "awarded", "{}") for i in listed])
    con.commit()
    ended("6 award")
    con.close()  # (its last checkpoint is the floor's work too: the engine's close is timed)
    ended("7 close")
    return time.perf_counter() - start - untimed, stages


def _band(criterion: Criterion, score: int) -> str:
    """The label of a score's band (every score here is inside its criterion's bands)."""
    band = criterion.band_for(score)
    assert band is not None
    return band.label
