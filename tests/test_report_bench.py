"""The report benchmark keeps working (a tiny cycle, every format): `make bench` runs it, and a
change to the report or the schema must not leave it broken. Speed is not asserted; the figures
are read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_report_benchmark_runs_a_small_cycle_against_its_floor(tmp_path: Path) -> None:
    script = str(ROOT / "benchmarks" / "report_bench.py")
    out = subprocess.run(
        [sys.executable, script, "--sizes", "45", "--work", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("built the 45-project cycle") for line in lines)
    for fmt in ("xlsx", "csv", "md"):
        [line] = [x for x in lines if x.strip().startswith(f"{fmt} ")]
        assert "report" in line and "peak" in line and "floor" in line and "ratio" in line
    # the report each format wrote is there, beside the cycle kept for the next run
    assert (tmp_path / "engine-45.db").is_file() and (tmp_path / "report-45.xlsx").is_file()
    assert sorted(p.name for p in (tmp_path / "report-45.csv").iterdir()) == [
        "cities.csv",
        "funding.csv",
        "list.csv",
        "matrix.csv",
    ]
