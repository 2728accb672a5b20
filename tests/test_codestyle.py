"""The house rules of the architecture, checked on every run (see STYLE.md):

cli.py (its commands/) → workflow/ → stages/ → policies/, and store/ implements the engine's ports. Policies are
pure: no store, no scheduler, no click, no clock. The engine never imports the store or SQL. No
production module imports, however indirectly, a module that imports it.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "policies": {
        "workflow",
        "stages",
        "store",
        "cli",
        "commands",
        "web",
        "demo",
        "click",
        "sqlmodel",
        "sqlalchemy",
        "apscheduler",
        "structlog",
        "time",
    },
    "stages": {"workflow", "store", "cli", "commands", "web", "demo", "click", "sqlmodel", "sqlalchemy", "apscheduler"},
    "workflow": {"store", "cli", "commands", "web", "demo", "click", "sqlmodel", "sqlalchemy", "sheets", "openpyxl"},
    "store": {"cli", "commands", "click"},
    "notify": {"store", "cli", "commands", "click", "sqlmodel", "sqlalchemy"},
    "sheets": {"store", "cli", "commands", "click", "sqlmodel", "sqlalchemy", "apscheduler"},
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


# One program's vocabulary: its parties, its results and list categories, its columns' former
# names, its form's numbering and labels. The engine, the store, the policies' shared types and
# every interface take these from the program file.
PROGRAM_WORDS = (
    "municipal_result",
    "enterprise_name",
    "key_library",
    "list_confirmation",
    "songjiang",
    "hefei",
    "g60",
    "松江",
    "附件",
    "demonstration",
    "excellent",
    "所在城市组织部门",
    "city_organization_department",
    "市级",
    "municipal",
    "项目完成情况",
    "赞成",
)
# The parties of the G60 program by id and name, and the program itself.
G60_NAMES = (
    *("songjiang", "jiaxing", "hangzhou", "jinhua", "suzhou", "huzhou", "xuancheng", "wuhu", "hefei", "g60"),
    *("松江", "嘉兴", "杭州", "金华", "苏州", "湖州", "宣城", "芜湖", "合肥"),
)
# Where a word is legitimately there. The migrations rename the former columns, so they name them.
# The history tells audit entries written before migration 0007 under the key they were written
# with: their hashes cover their text, so they are never rewritten.
ALLOWED = {("workflow/story.py", "municipal_result"), ("workflow/story.py", "municipal")}


def _generic_files() -> list[Path]:
    """The engine, the store (its migrations apart), the policies' shared types, the CLI and the
    web console with its templates."""
    found = [ROOT / "policies" / "base.py", ROOT / "cli.py"]
    for folder in ("workflow", "store", "commands", "web"):
        found += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".html", ".js")]
    return sorted(p for p in found if "migrations" not in p.relative_to(ROOT).parts)


def test_engine_names_no_program() -> None:
    """The engine and every interface are general: no word of one program's vocabulary appears in
    workflow/, store/, policies/base.py, cli.py, commands/ or web/ (templates included)."""
    workflow_too = ("plaque", "key-project")  # (as the engine has long kept them out)
    for path in _generic_files():
        name = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8").lower()
        words = PROGRAM_WORDS + (workflow_too if name.startswith("workflow/") else ())
        found = [w for w in words if w in text and (name, w) not in ALLOWED]
        assert not found, f"{name} mentions {found}"


def test_no_production_module_names_a_party_of_one_program() -> None:
    """Only the program files, the demos and the tests name G60's parties or the program itself.
    The benchmarks are no production module: they measure a G60 cycle, as the demo runs one."""
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in NOT_PRODUCTION | {"programs"} or parts[0].startswith("."):
            continue
        if path.suffix not in (".py", ".html", ".js") or "egg-info" in parts[0]:
            continue
        text = path.read_text(encoding="utf-8").lower()
        found = [w for w in G60_NAMES if w in text]
        assert not found, f"{path.relative_to(ROOT)} names {found}"


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


# -- import cycles ---------------------------------------------------------------------------------

# Cycles known today, each as the sorted tuple of its modules, to be broken by the change that
# touches them (none: the console's app/pages circle was the last).
KNOWN_CYCLES: frozenset[tuple[str, ...]] = frozenset()


def production_modules() -> dict[str, Path]:
    """Every module an installed wheel carries (pyproject.toml's packages and modules), by name."""
    found = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    modules = {name: ROOT / f"{name}.py" for name in found.get("py-modules", [])}
    for top in sorted({name.split(".")[0] for name in found["packages"]}):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def project_imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports anywhere in it: at the top, in a function, under
    ``TYPE_CHECKING``. ``from package import module`` imports the module; any other name
    imported from a module imports that module (the nearest project module that encloses it)."""

    def enclosing(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(enclosing(a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            for a in node.names:
                whole = f"{source}.{a.name}"
                found.add(whole if whole in modules else enclosing(source))
    return {m for m in found if m is not None and m != name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``a → b → … → a``) for each group of modules that import one another
    (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    cycles = []
    for group in groups:
        start = min(group)
        # the shortest way back to the start within the group
        paths = {start: [start]}
        queue = [start]
        cycle: list[str] = []
        while queue and not cycle:
            here = queue.pop(0)
            for other in sorted(graph[here] & group):
                if other == start:
                    cycle = [*paths[here], start]
                    break
                if other not in paths:
                    paths[other] = [*paths[here], other]
                    queue.append(other)
        cycles.append(cycle)
    return cycles


def test_the_cycle_finder_reports_each_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"], ["d", "e", "d"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_production_modules() -> None:
    """A module that imports one that imports it back works only in some import orders (one of
    them sees the other half-made); such circles are broken by moving the shared piece out."""
    modules = production_modules()
    assert {"cli", "workflow.engine", "web.app", "web.pages", "store.sql"} <= set(modules)
    graph = {name: project_imports(name, path, modules) for name, path in modules.items()}
    assert sum(len(found) for found in graph.values()) > len(graph)  # (the imports were read)
    cycles = [c for c in import_cycles(graph) if tuple(sorted(set(c))) not in KNOWN_CYCLES]
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


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


# -- room sizes ------------------------------------------------------------------------------------

# a module longer than this holds more than one idea: split it by concern (STYLE.md, "rooms")
MAX_LINES = 800


def python_modules() -> list[Path]:
    """Every module outside tests/: the packages, the demo, the benchmarks, top-level scripts
    (hidden folders, the virtual environment among them, and build output are not the project's)."""
    skipped = {"tests", "build"}
    folders = [
        d
        for d in sorted(ROOT.iterdir())
        if d.is_dir() and not d.name.startswith(".") and d.name not in skipped and not d.name.endswith(".egg-info")
    ]
    return [*sorted(ROOT.glob("*.py")), *(f for d in folders for f in sorted(d.rglob("*.py")))]


def test_no_module_is_over_800_lines() -> None:
    modules = python_modules()
    assert len(modules) > 50 and ROOT / "benchmarks" / "bench.py" in modules  # (the walk found them)
    # lines as `wc -l` counts them
    sizes = {str(f.relative_to(ROOT)): f.read_bytes().count(b"\n") for f in modules}
    over = sorted((name, n) for name, n in sizes.items() if n > MAX_LINES)
    assert not over, f"modules over {MAX_LINES} lines: " + ", ".join(f"{name} ({n})" for name, n in over)
