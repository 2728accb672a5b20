"""The benchmark scripts keep working (a tiny size): `make bench` is what issue readers run, and a
schema change must not leave them broken. Speed is not asserted here; the figures are read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_runs_a_small_cycle_against_its_floor() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--sizes", "45,90", "--naive", "45", "--cli", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "N = 45: engine" in text and "N = 90: engine" in text and "ratio" in text
    assert "growth 45 → 90" in text
    assert "naive, one ORM commit per transition, N = 45" in text
    assert "the transitions machine alone" in text and "loading 90 projects into records" in text
    assert "the engine beyond the floor:" in text and "µs per transition" in text
