"""Reminders from the command line: `remind due` for cron, `remind list`, and the scheduler service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from cli import main
from store.sql import SqlStore
from tests.conftest import make_app
from workflow.engine import Engine
from workflow.service import SchedulerService


def run(db: Path, now: str, *args: str, user: str | None = "lead"):
    argv = ["--db", str(db), "--now", now, *(["--as", user] if user else []), *args]
    return CliRunner().invoke(main, argv)


def setup(tmp_path: Path) -> Path:
    db = tmp_path / "r.db"
    jan = "2027-01-03T09:00"
    assert run(db, jan, "init", user=None).exit_code == 0
    assert run(db, jan, "user", "add", "lead", "--role", "lead", "--city", "songjiang", user=None).exit_code == 0
    assert run(db, jan, "user", "add", "hf", "--role", "city-admin", "--city", "hefei").exit_code == 0
    assert run(db, jan, "user", "add", "hfa", "--role", "applicant", "--city", "hefei").exit_code == 0
    assert run(db, jan, "cycle", "open", "g60-deep-integration", "--year", "2027").exit_code == 0
    app = tmp_path / "a.json"
    app.write_text(json.dumps(make_app("hefei", 1), ensure_ascii=False), encoding="utf-8")
    assert run(db, "2027-01-10T09:00", "project", "submit", str(app), user="hfa").exit_code == 0
    return db


def test_remind_due_sends_once_and_list_shows_it(tmp_path: Path) -> None:
    db = setup(tmp_path)
    first = run(db, "2027-02-22T00:02", "remind", "due", user=None)
    assert first.exit_code == 0, first.output
    assert "→ hefei: 合肥市，项目征集（g60-2027）: hefei has 1 submission neither accepted nor rejected" in first.output
    assert "Reminders: 2 sent, 0 sent late, 8 with nothing to do" in first.output
    again = run(db, "2027-02-22T00:05", "remind", "due", user=None)
    assert "Reminders: 0 sent, 0 sent late, 0 with nothing to do" in again.output
    listed = run(db, "2027-02-22T08:05", "remind", "list", "--status", "sent", "--json")
    assert sorted(r["recipient"] for r in json.loads(listed.stdout)) == ["hefei", "lead"]
    own = run(db, "2027-02-22T08:05", "remind", "list", "--status", "sent", "--json", user="hf")
    assert [r["recipient"] for r in json.loads(own.stdout)] == ["hefei"]


def test_a_second_scheduler_refuses_in_one_line(tmp_path: Path) -> None:
    db = setup(tmp_path)
    store = SqlStore(f"sqlite:///{db}")
    engine = Engine(store)
    holder = SchedulerService(store, None, engine.clock, holder="office-pc:4242")  # type: ignore[arg-type]
    holder.acquire()
    result = run(db, "2027-02-22T08:00", "scheduler", "run", user=None)
    assert result.exit_code == 10
    assert result.output.splitlines() == [result.output.splitlines()[0]]
    assert result.output.startswith("Error: Another scheduler is already running on this database (office-pc:4242)")
    holder.release()
    store.dispose()


def test_scheduler_run_catches_up_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = setup(tmp_path)
    env = {**os.environ, "EVALFLOW_NOW": "2027-03-01T08:00", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "--db", str(db), "scheduler", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 20
        lines: list[str] = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Scheduler running"):
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    text = "".join(lines) + out
    assert proc.returncode == 0, err
    hefei = [x for x in text.splitlines() if x.startswith("→ hefei:")]
    assert len(hefei) == 3 and all("[late: due " in x for x in hefei)
    assert "Scheduler stopped" in text
    # the lease was released: a new scheduler may start
    assert run(db, "2027-03-01T08:01", "remind", "due", user=None).exit_code == 0


def test_a_reminder_reads_in_chinese_for_the_office_that_receives_it(tmp_path: Path) -> None:
    db = setup(tmp_path)
    sent = run(db, "2027-02-22T00:02", "--lang", "zh", "remind", "due", user=None)
    assert sent.exit_code == 0, sent.output
    assert (
        "→ hefei: 合肥市，项目征集（g60-2027）：合肥市有 1 个申报项目尚未确认入库或不予入库；"
        "剩余 6 天 23 小时（2027-03-01 00:00 截止，北京时间）。提醒编号：g60-2027/collection/7d/hefei"
    ) in sent.output
    assert "→ lead: 牵头单位，项目征集（g60-2027）：" in sent.output
    assert "Reminder key" not in sent.output and "left" not in sent.output and "Asia/Shanghai" not in sent.output
