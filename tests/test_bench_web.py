"""`make bench-web` keeps working: a tiny cycle on SQLite files, a few seconds of the nine-city
load and one saturation step. It asserts that the script ran and reported every kind of request
with no error, never a speed (the figures are read, benchmarks/RESULTS.md)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("dashboard", "project list", "project page", "API status", "score submission")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is not installed (pip install -e '.[bench]')"
)


def test_the_web_benchmark_runs_a_tiny_cycle_under_load(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "web_bench.py"),
            "--sqlite",
            str(tmp_path),
            "--sizes",
            "45",
            "--single",
            "1",
            "--load-seconds",
            "5",  # (each of the 18 readers asks 2–4 times: every kind asked even on a busy machine)
            "--ramp-seconds",
            "0",
            "--saturation",
            "2",
            "--step-seconds",
            "2",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (size,) = json.loads(out.read_text(encoding="utf-8"))["sizes"]
    assert size["projects"] == 45 and size["workers"] == 1
    for kind in KINDS:
        alone, loaded = size["single"][kind], size["load"][kind]
        assert alone["count"] == 1 and alone["errors"] == 0, (kind, alone)
        assert loaded["count"] > 0 and loaded["errors"] == 0, (kind, loaded)
        # each kind printed beside its target and its single-request latency
        assert any(line.strip().startswith(kind) and "≤ " in line for line in done.stdout.splitlines()), kind
    (step,) = size["saturation"]
    assert step["users"] == 2 and step["count"] > 0 and step["errors"] == 0, step
    assert "held with p95 under 1 s:" in done.stdout
    # the sheets the scorers entered are in the database the run copied, never the one built
    # (kept for the next run): the copy is dropped at the end
    assert (tmp_path / "evalflow_webbench_45.db").exists()
    assert not (tmp_path / "evalflow_webbench_45_run.db").exists()
