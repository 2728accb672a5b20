"""The per-cycle reads of the engine and the console, their plans on PostgreSQL, and a judge of
those plans (tests/store/test_query_plans.py).

``load`` fills a database straight from SQL (``INSERT … SELECT`` over ``generate_series``: no
engine, no client-side rows, a second or two): two cycles of a program, each with its projects,
nine current score sheets per key-library project (and some replaced ones), audit entries,
appeals, reminders, a list and its confirmations. The cycle asked about is ``CYCLE``; ``OTHERS``
are the years before, as big, so that a scan of a whole table reads four times what is asked.
An application is a kilobyte of text that does not compress (a real one is about 2 KB).

``per_cycle_reads`` calls every read the engine and the console make of one cycle, as they make
them (the store's own methods, with their own SQL), and returns each SELECT it ran with its
parameters (found by driving a cycle through every stage on PostgreSQL and serving every page of
the console, with a listener on the statements: see benchmarks/RESULTS.md).

``problems`` walks an ``EXPLAIN (FORMAT JSON)`` plan and names what reads beyond what is asked:
a sequential scan of a big table, an index scan that narrows by nothing (a whole index read in
its order), or a scan repeated for each row of another (a nested loop's inner side, a subplan
run per row) that is not narrowed by that row within its index's leading columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import event

CYCLE = "g60-2027"
OTHER = "g60-2026"
# the years before: a server keeps every cycle it ran (a sister program's too)
OTHERS = ("g60-2024", "g60-2025", OTHER)
PROGRAM = "g60-deep-integration"
CITIES = ("songjiang", "jiaxing", "hangzhou", "jinhua", "suzhou", "huzhou", "xuancheng", "wuhu", "hefei")
KEY_STATES = ("recommended", "listed_demonstration", "listed_excellent", "not_listed", "awarded")
EARLY_STATES = ("new", "submitted", "in_library", "rejected", "municipal_demonstration", "municipal_excellent")
# the tables whose rows grow with the projects of every cycle: never read whole for one cycle
BIG = ("projects", "score_sheets", "audit")


def load(conn: Any, projects: int = 10_000) -> None:
    """Fill the (empty, just created) tables for CYCLE and OTHERS, ``projects`` each: every key
    project scored by all nine cities (``projects`` × 0.9 × 9 current sheets: 81,000 at 10k;
    plus a replaced sheet for every tenth), three audit entries per project."""
    states = "ARRAY[" + ", ".join(f"'{s}'" for s in KEY_STATES + EARLY_STATES) + "]"
    cities = "ARRAY[" + ", ".join(f"'{c}'" for c in CITIES) + "]"
    sql = [
        "INSERT INTO users (name, role, city, created_at, language, active) "
        "SELECT c || '-' || r, r, c, now(), NULL, true FROM unnest(" + cities + ") c, "
        "unnest(ARRAY['admin', 'scorer', 'applicant']) r",
        "INSERT INTO cycles (id, program_id, program_version, program_digest, year, stage, settings, version, "
        "opened_at, opened_by) VALUES "
        + ", ".join(
            f"('{c}', '{PROGRAM}', 1, 'x', {c[-4:]}, '{'publication' if c != CYCLE else 'joint_scoring'}', '{{}}', 1, "
            "now(), 'lead')"
            for c in (*OTHERS, CYCLE)
        ),
    ]
    for n, cycle in enumerate((*OTHERS, CYCLE)):
        first = n * projects  # ids of the n-th cycle: n * projects + 1 … (n + 1) * projects
        # nine in ten projects are in a key state (scored), the rest spread over the early ones
        sql += [
            "INSERT INTO projects (id, cycle_id, city, applicant, unit_name, project_name, application, state, "
            "review_result, review_method, version, submitted_at, updated_at, reopened_to, record) "
            f"SELECT {first} + i, '{cycle}', ({cities})[1 + i % 9], ({cities})[1 + i % 9] || '-applicant', "
            "'单位' || i, '项目' || i, "
            "json_build_object('text', (SELECT string_agg(md5(i || '/' || g), '') FROM generate_series(1, 30) g)), "
            f"CASE WHEN i % 10 = 0 THEN ({states})[6 + i / 10 % 6] ELSE ({states})[1 + i % 5] END, "
            "CASE WHEN i % 10 = 0 THEN NULL WHEN i % 3 = 0 THEN 'excellent' ELSE 'demonstration' END, "
            "'site', 3, now(), now(), CASE WHEN i % 997 = 0 THEN 'joint_scoring' END, '{}' "
            f"FROM generate_series(1, {projects}) i",
            "INSERT INTO score_sheets (cycle_id, project_id, city, scorer, scores, bands, total, completion, "
            '"current", at) '
            f"SELECT '{cycle}', p.id, c, c || '-scorer', '{{\"value\": 16}}', '{{}}', 60 + p.id % 30, '基本完成', "
            "true, now() "
            f"FROM projects p, unnest({cities}) c WHERE p.cycle_id = '{cycle}' AND p.id % 10 <> {first % 10}",
            "INSERT INTO score_sheets (cycle_id, project_id, city, scorer, scores, bands, total, completion, "
            '"current", at) '
            f"SELECT '{cycle}', p.id, p.city, p.city || '-scorer', '{{}}', '{{}}', 50, '', false, now() "
            f"FROM projects p WHERE p.cycle_id = '{cycle}' AND p.id % 10 = 1",
            "INSERT INTO audit (at, cycle_id, subject, subject_id, actor, action, from_state, to_state, reason, "
            "data, prev_hash, hash) "
            f"SELECT now(), '{cycle}', 'project', p.id::text, 'lead', a, 'x', "
            f"CASE a WHEN 'award' THEN 'awarded' ELSE p.state END, '', '{{}}', NULL, md5(p.id::text || a) "
            f"FROM projects p, unnest(ARRAY['submit', 'accept', 'award']) a WHERE p.cycle_id = '{cycle}'",
            "INSERT INTO appeals (cycle_id, project_id, city, filed_by, filed_at, against_state, against_stage, "
            "reason, list_version, status, decided_by, decided_at, decision_reason, reopen_to, version) "
            f"SELECT '{cycle}', p.id, p.city, p.applicant, now(), p.state, 'joint_scoring', '理由', NULL, "
            "CASE WHEN p.id % 2 = 0 THEN 'open' ELSE 'dismissed' END, NULL, NULL, '', NULL, 1 "
            f"FROM projects p WHERE p.cycle_id = '{cycle}' AND p.id % 100 = 7",
            'INSERT INTO reminders (cycle_id, stage, "offset", recipient, due_at, key, status, attempts, '
            "next_attempt_at, claimed_at, sent_at, channels_done, message, last_error) "
            f"SELECT '{cycle}', 'joint_scoring', d || 'd', c, now() + d * interval '1 day', "
            f"'{cycle}:' || c || ':' || d, 'planned', 0, NULL, NULL, NULL, '[]', '', '' "
            f"FROM unnest({cities}) c, generate_series(0, 7) d",
            "INSERT INTO list_versions (cycle_id, number, status, method, entries, tie_order, proposed_by, at, "
            f"version) VALUES ('{cycle}', 1, 'proposed', 'sum', '[]', '[]', 'lead', now(), 1)",
            'INSERT INTO confirmations (list_id, city, "user", decision, reason, at) '
            f"SELECT l.id, c, c || '-admin', 'confirm', '', now() FROM list_versions l, unnest({cities}) c "
            f"WHERE l.cycle_id = '{cycle}'",
            "INSERT INTO attachments (project_id, document, file_name, media_type, size, sha256, uploaded_by, "
            "uploaded_at, removed_at, removed_by) "
            "SELECT p.id, 'plan', 'plan.pdf', 'application/pdf', 1000, md5(p.id::text), p.applicant, now(), "
            f"NULL, NULL FROM projects p WHERE p.cycle_id = '{cycle}'",
        ]
    sql += [
        f"SELECT setval(pg_get_serial_sequence('projects', 'id'), {(len(OTHERS) + 1) * projects})",
        "INSERT INTO audit_heads (chain, hash, entry_id) SELECT cycle_id, max(hash), max(id) FROM audit "
        "GROUP BY cycle_id",
    ]
    raw = conn.connection.driver_connection  # (no parameters: the statements' % is SQL's modulo)
    # the foreign keys are checked once, after the load, not by a trigger per row (five times
    # faster); they are the same constraints afterwards, as the planner sees them
    keys = raw.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = to_regnamespace(current_schema())::oid"
    ).fetchall()
    for table, name, _ in keys:
        raw.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for statement in sql:
        raw.execute(statement)
    for table, name, definition in keys:
        raw.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def forget_statistics(conn: Any, tables: tuple[str, ...]) -> None:
    """Keep autovacuum off ``tables`` (never analysed while the test runs): the planner knows
    their size from their pages only, as on a server whose autovacuum has not come round yet."""
    for table in tables:
        conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")


@contextmanager
def recorded(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT run on ``engine`` inside the block, with its parameters, in order."""
    found: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if re.match(r"\s*(DECLARE\b.*\bFOR\s+)?SELECT\b", statement, re.I | re.S):
            found.append((statement, params))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def per_cycle_reads(tx: Any, projects: int = 10_000) -> dict[str, Callable[[], Any]]:
    """Each read of one cycle the engine or the console makes (name -> the store call), on a
    project, a city, an applicant and the list of CYCLE as load(``projects``) made them."""
    from workflow.page_query import Match, PageQuery, SortKey

    project = len(OTHERS) * projects + projects // 2 + 1  # (CYCLE's ids follow the others': a key project)
    list_id = len(OTHERS) + 1  # (CYCLE's list, made after the others')
    city, applicant = "hefei", "hefei-applicant"
    listed = KEY_STATES
    mine = [Match(cities=(city,), states=EARLY_STATES), Match(states=KEY_STATES)]
    pages = {
        "page": PageQuery(limit=50),
        "page, a party's": PageQuery(all_of=[[Match(cities=(city,))]], limit=50),
        "page, by state": PageQuery(all_of=[[Match(states=("recommended",))]], limit=50, offset=100),
        "page, a reader's": PageQuery(all_of=[mine], limit=50),
        "page, an applicant's": PageQuery(all_of=[[Match(applicant=applicant)]], limit=50),
        "page, reopened": PageQuery(all_of=[[Match(reopened_to=("joint_scoring",))]], limit=50),
        "page, searched": PageQuery(search="项目12", limit=50),
        "page, by city order": PageQuery(
            sort=[SortKey("city", positions=tuple((c, i) for i, c in enumerate(CITIES)))], limit=50
        ),
    }
    reads: dict[str, Callable[[], Any]] = {
        "count_by_city_state": lambda: tx.count_by_city_state(CYCLE),
        "count_review_results": lambda: tx.count_review_results(CYCLE),
        "count_sheets_by_city": lambda: tx.count_current_sheets(CYCLE, listed),
        "count_sheets_by_scorer": lambda: tx.count_current_sheets(CYCLE, listed, by_scorer=True),
        "sheet_totals": lambda: tx.sheet_totals(CYCLE),
        "sheet_sums": lambda: tx.sheet_sums(CYCLE),
        "sheet_keys": lambda: tx.sheet_keys(CYCLE),
        "sheet_keys of a party": lambda: tx.sheet_keys(CYCLE, city=city),
        "sheet_keys by scorer": lambda: tx.sheet_keys(CYCLE, by_scorer=True),
        "sheets of a cycle": lambda: tx.sheets(CYCLE),
        "sheets of a project": lambda: tx.sheets(CYCLE, project, current_only=False),
        "sheets_of": lambda: tx.sheets_of(project),
        "find_projects": lambda: tx.find_projects(CYCLE, with_application=False),
        "find_projects in states": lambda: tx.find_projects(CYCLE, states=listed, with_application=False),
        "find_projects of a party": lambda: tx.find_projects(CYCLE, cities=[city], states=EARLY_STATES),
        "find_projects of an applicant": lambda: tx.find_projects(CYCLE, applicant=applicant),
        "project_ids": lambda: tx.project_ids(CYCLE, listed),
        "project_names": lambda: tx.project_names(CYCLE, listed),
        "project_keys": lambda: tx.project_keys(CYCLE),
        "reopened_projects": lambda: tx.reopened_projects(CYCLE),
        "get_project": lambda: tx.get_project(project),
        "get_projects": lambda: tx.get_projects(list(range(project, project + 600))),
        "unit_projects": lambda: tx.unit_projects(PROGRAM, ["单位12", "单位13"]),
        **{name: partial(tx.project_page, CYCLE, q) for name, q in pages.items()},
        "project_page_ids": lambda: tx.project_page_ids(CYCLE, PageQuery(all_of=[mine])),
        "projects_by_ids": lambda: tx.projects_by_ids(list(range(project, project + 50))),
        "latest_list": lambda: tx.latest_list(CYCLE, entries=False),
        "list_versions": lambda: tx.list_versions(CYCLE),
        "confirmations": lambda: tx.confirmations(list_id),
        "history of a project": lambda: tx.history("project", str(project)),
        "history of a cycle": lambda: tx.history(cycle_id=CYCLE),
        "history of a list": lambda: tx.history("list", "1", cycle_id=CYCLE),
        "entered_from": lambda: tx.entered_from(CYCLE, "awarded"),
        "audit chain's newest": lambda: tx._advance_head(CYCLE, "x", 0),
        "appeals": lambda: tx.appeals(CYCLE),
        "open appeals": lambda: tx.appeals(CYCLE, statuses=["open"]),
        "appeals of a project": lambda: tx.appeals(project_id=project),
        "reminders": lambda: tx.reminders(CYCLE),
        "attachments_of": lambda: tx.attachments_of(project),
        "a score batch's current sheets": lambda: _score_batch(tx, project),
        # (last: it turns the transaction's connection to server-side cursors)
        "audit_entries": lambda: list(tx.audit_entries(CYCLE)),
    }
    return reads


def statements_of(store: Any, projects: int = 10_000) -> dict[str, list[tuple[str, Any]]]:
    """Each per-cycle read's SELECTs with their parameters, as run on ``store`` (an empty
    database of the same kind: the statements depend on the arguments, not on the rows)."""
    out: dict[str, list[tuple[str, Any]]] = {}
    with store.transaction(write=False) as tx:
        for name, read in per_cycle_reads(tx, projects).items():
            with recorded(store.engine) as statements:
                read()
            out[name] = [(_plain(sql), params) for sql, params in statements]
    return out


def _score_batch(tx: Any, project: int) -> None:
    """A city's score batch of 500 projects: what put_sheets reads of the current sheets before
    it writes (its insert left out: the empty database has no such projects, and only the read
    is judged here)."""
    from workflow.records import ScoreSheet

    sheets = [ScoreSheet(CYCLE, pid, "hefei", "hefei-scorer", {}, {}, 60) for pid in range(project, project + 500)]
    tx._insert_many = lambda table, records: None  # (this transaction's object only)
    try:
        tx.put_sheets(sheets)
    finally:
        del tx._insert_many


def _plain(sql: str) -> str:
    """A statement as written, without the server-side cursor a chunked read wraps it in."""
    return re.sub(r'^\s*DECLARE\s+"?\w+"?\s+CURSOR\s+(WITH(OUT)?\s+HOLD\s+)?FOR\s+', "", sql, flags=re.I)


# -- judging a plan ---------------------------------------------------------------------------
_SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan")
_QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b")
_WORD = re.compile(r"\b([a-z_][a-z0-9_]*)\b")
Indexes = dict[str, tuple[str, list[str]]]  # index name -> (its table, its key columns in order)


def index_columns(conn: Any) -> Indexes:
    """index name -> (its table, its key columns in order), for the big tables."""
    rows = conn.exec_driver_sql(
        "SELECT i.relname, t.relname, array_agg(a.attname ORDER BY k.n) "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
        "WHERE t.relname = ANY(%s) AND t.relnamespace = to_regnamespace(current_schema())::oid "
        "GROUP BY i.relname, t.relname",
        (list(BIG),),
    )
    return {name: (table, list(columns)) for name, table, columns in rows}


def problems(plan: dict[str, Any], indexes: Indexes) -> list[str]:
    """What in ``plan`` (one EXPLAIN (FORMAT JSON) "Plan") reads a big table beyond what is asked."""
    found: list[str] = []
    _walk(plan, indexes, repeated=False, found=found)
    return found


def _walk(node: dict[str, Any], indexes: Indexes, repeated: bool, found: list[str]) -> None:
    kind = node["Node Type"]
    if kind in _SCANS:
        _judge_scan(node, indexes, repeated, found)
    children = node.get("Plans", [])
    for i, child in enumerate(children):
        relation = child.get("Parent Relationship")
        # run again for each row of another: a nested loop's inner side, a subplan (judged so even
        # when hashed: the plan JSON does not say which, and the stricter reading costs nothing)
        again = repeated or (kind == "Nested Loop" and i == 1) or relation == "SubPlan"
        if kind in ("Materialize", "Hash"):
            again = False  # built once, read many times
        _walk(child, indexes, again, found)


def _judge_scan(node: dict[str, Any], indexes: Indexes, repeated: bool, found: list[str]) -> None:
    kind = node["Node Type"]
    if kind == "Bitmap Heap Scan":
        return  # judged by its Bitmap Index Scans
    index = node.get("Index Name")
    table = node.get("Relation Name") or (indexes.get(index, ("", []))[0] if index else "")
    if table not in BIG:
        return
    where = f"{kind} on {table}" + (f" using {index}" if index else "")
    if kind == "Seq Scan":
        found.append(f"{where}: reads the whole table")
        return
    columns = indexes.get(str(index), (table, []))[1]
    cond = str(node.get("Index Cond", ""))
    alias = node.get("Alias", table)
    bound = {w for w in _WORD.findall(_unqualified(cond, alias))} & set(columns)
    prefix = 0
    while prefix < len(columns) and columns[prefix] in bound:
        prefix += 1
    if prefix == 0:
        found.append(f"{where}: narrowed by none of its leading columns ({cond or 'no condition'})")
        return
    if repeated:
        # each time it runs, it must be narrowed by the outer row within the leading columns
        parts = re.split(r"\)\s+AND\s+\(", cond)
        if not any(_by_outer(p, alias) and _tests(p, alias) & set(columns[:prefix]) for p in parts):
            found.append(f"{where}: run once per outer row, each time reading {columns[:prefix]} ({cond})")


def _unqualified(cond: str, alias: str) -> str:
    """``cond`` with the scanned table's own columns unqualified and others' removed."""
    own = re.sub(rf"\b{re.escape(alias)}\.", "", cond)
    return _QUALIFIED.sub("", own)


def _tests(part: str, alias: str) -> set[str]:
    """The scanned table's own columns a part of a condition names."""
    return set(_WORD.findall(_unqualified(part, alias)))


def _by_outer(part: str, alias: str) -> bool:
    """Whether a part of a condition compares with another table's column (the outer row's)."""
    return any(a != alias for a, _ in _QUALIFIED.findall(part))
