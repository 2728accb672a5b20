"""An installed wheel carries what a checkout has beside the code: the program files, the web
console's templates and style sheet, the schema's migrations. An administrator deploys a wheel;
one without its program files knew no program at all ("known programs: none")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what a checkout holds besides its source: environments, caches, builds, databases
_NOT_SOURCE = (".venv", ".git", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.db", "*.db-*")


def test_a_wheel_runs_a_whole_cycle_with_its_own_programs_and_pages(tmp_path: Path) -> None:
    # built from a copy of the checkout: pip builds in the source folder, and a build folder
    # left there would carry files since removed into later wheels
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    # setuptools warns of directories it would leave out ("Package would be ignored"): none is
    assert "would be ignored" not in built.stderr, built.stderr
    (wheel,) = dist.glob("evalflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [
        *ROOT.glob("programs/*.toml"),
        *ROOT.glob("web/templates/*.html"),
        *ROOT.glob("web/static/*"),
        *ROOT.glob("store/migrations/versions/*.py"),
        ROOT / "store/migrations/script.py.mako",
    ]
    missing = [str(p.relative_to(ROOT)) for p in data if str(p.relative_to(ROOT)) not in names]
    assert not missing and len(data) > 10, missing

    # the wheel's files alone (ahead of the checkout on the path), in a folder of its own
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "EVALFLOW_PROGRAMS": ""}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import workflow.program as p, web.app as a, store.sql as s;"
            "print(p.__file__); print(a.__file__); print(s.MIGRATIONS);"
            "print(*p.ProgramRegistry().ids())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert where.returncode == 0, where.stderr
    program, app, migrations, ids = where.stdout.splitlines()
    for path in (program, app, migrations):
        assert Path(path).is_relative_to(site), path
    assert ids.split() == sorted(p.stem for p in ROOT.glob("programs/*.toml"))
    # the installed version, as pyproject.toml gives it
    version = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert (version.returncode, version.stdout) == (0, f"evalflow {declared}\n"), version
    demo = subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "--db", str(tmp_path / "demo.db"), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    assert "plaques awarded" in demo.stdout, demo.stdout[-2000:]
