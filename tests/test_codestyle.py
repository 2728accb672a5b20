"""The house rules of the architecture, checked on every run (see STYLE.md):

cli/ → workflow/ → stages/ → policies/, and store/ implements the engine's ports. Policies are
pure: no store, no scheduler, no click, no clock. The engine never imports the store or SQL.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "policies": {
        "workflow",
        "stages",
        "store",
        "cli",
        "click",
        "sqlmodel",
        "sqlalchemy",
        "apscheduler",
        "structlog",
        "time",
    },
    "stages": {"workflow", "store", "cli", "click", "sqlmodel", "sqlalchemy", "apscheduler"},
    "workflow": {"store", "cli", "click", "sqlmodel", "sqlalchemy", "sheets", "openpyxl"},
    "store": {"cli", "click"},
    "notify": {"store", "cli", "click", "sqlmodel", "sqlalchemy"},
    "sheets": {"store", "cli", "click", "sqlmodel", "sqlalchemy", "apscheduler"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


CASES = [(pkg, f) for pkg in FORBIDDEN for f in sorted((ROOT / pkg).rglob("*.py"))]


@pytest.mark.parametrize(("package", "path"), CASES, ids=[str(f.relative_to(ROOT)) for _, f in CASES])
def test_imports_point_the_right_way(package: str, path: Path) -> None:
    wrong = imports_of(path) & FORBIDDEN[package]
    assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}, which {package}/ must not use"


def test_policies_never_read_the_clock() -> None:
    for path in (ROOT / "policies").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".now(" not in text and "utcnow" not in text, f"{path.name} reads the clock; use ctx.now"


def test_engine_names_no_program() -> None:
    """The engine is general: no G60 party or program name appears in workflow/."""
    words = ("songjiang", "hefei", "g60", "松江", "demonstration", "excellent", "plaque", "key-project", "附件")
    for path in (ROOT / "workflow").rglob("*.py"):
        text = path.read_text(encoding="utf-8").lower()
        found = [w for w in words if w in text]
        assert not found, f"{path.name} mentions {found}"


def test_only_the_engine_writes_state() -> None:
    """One door: no module outside store/ issues writes to the state column, and only the engine
    calls the store's save methods."""
    for path in ROOT.glob("*/*.py"):
        if path.parts[-2] in ("store", "tests", "workflow", ".venv"):
            continue
        text = path.read_text(encoding="utf-8")
        assert "save_project(" not in text and "save_cycle(" not in text, path


def test_policies_that_read_counts_say_so() -> None:
    """The engine skips the cycle-wide grouped queries for actions whose guards do not read
    ``ctx.counts``; a policy that reads them without the flag would see zeros and pass wrongly."""
    import inspect

    from policies import REGISTRY
    from policies.base import NEEDS_COUNTS

    for name, func in REGISTRY.items():
        reads = "ctx.counts" in inspect.getsource(func)
        assert reads == (name in NEEDS_COUNTS), f"policy {name}: reads counts={reads}, flagged={name in NEEDS_COUNTS}"


def test_policies_that_read_the_application_say_so() -> None:
    """A batch loads projects' applications only for guards flagged as reading them; a policy
    that reads it without the flag would see an empty application."""
    import inspect

    from policies import REGISTRY
    from policies.base import NEEDS_APPLICATION

    for name, func in REGISTRY.items():
        source = inspect.getsource(func)
        # _label reads the project's name; _rows its application's member rows
        reads = ".application" in source or "_label(ctx)" in source or "_rows(ctx)" in source
        assert reads == (name in NEEDS_APPLICATION), f"policy {name}: reads the application={reads}"


# demo/ drives synthetic cycles through the engine; production code finds a program's demo and its
# template's example application by the names in the program file ([demo], workflow.program_code)
NOT_PRODUCTION = {"demo", "tests", "benchmarks", "build"}
PRODUCTION = [
    *sorted(ROOT.glob("*.py")),
    *(
        f
        for d in sorted(ROOT.iterdir())
        if d.is_dir() and not d.name.startswith(".") and d.name not in NOT_PRODUCTION
        for f in sorted(d.rglob("*.py"))
    ),
]


def test_no_production_module_imports_demo() -> None:
    assert len(PRODUCTION) > 50  # (the walk found the packages)
    wrong = [str(f.relative_to(ROOT)) for f in PRODUCTION if "demo" in imports_of(f)]
    assert not wrong, f"{wrong} import demo/; name the code in the program file's [demo] instead"
