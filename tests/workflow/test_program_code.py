"""A program's demo and its template's example application are named in its file ([demo]) and
imported only when asked for: loading a program imports no demo code."""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from workflow.errors import NotFound, ProgramInvalid
from workflow.program import ProgramRegistry, build_program, default_program_dirs
from workflow.program_code import demo_of, example_application, named_code

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = default_program_dirs()[-1] / "g60-deep-integration.toml"


def shipped_data() -> dict:
    return copy.deepcopy(tomllib.loads(SHIPPED.read_text(encoding="utf-8")))


def test_every_shipped_program_names_its_demo() -> None:
    registry = ProgramRegistry()
    for pid in registry.ids():
        program = registry.get(pid)
        assert program.demo["run"].startswith("demo."), pid
        assert callable(demo_of(program))


def test_loading_every_program_imports_no_demo_code() -> None:
    """In a fresh interpreter: every program loaded, the CLI's help printed, and no demo module
    imported (the demo is imported when `evalflow demo` or a template asks for it)."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from workflow.program import ProgramRegistry\n"
        "from cli import main\n"
        "r = ProgramRegistry()\n"
        "[r.get(pid) for pid in r.ids()]\n"
        "assert CliRunner().invoke(main, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m == 'demo' or m.startswith('demo.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_the_example_application_comes_from_the_named_function() -> None:
    program = ProgramRegistry().get("g60-deep-integration")
    example = example_application(program, 2027)
    assert example is not None and example["fill_date"].startswith("2027-")
    assert example["enterprise"]["city"] == "hefei"  # (the demo's first Hefei application)
    assert example_application(ProgramRegistry().get("kechuang-zhongyuan"), 2027) is None


def test_a_program_without_a_demo_says_so() -> None:
    data = shipped_data()
    del data["demo"]
    program = build_program(data)
    assert named_code(program, "run") is None and example_application(program, 2027) is None
    with pytest.raises(NotFound, match="No demo 'g60-deep-integration'; this program has no demo yet"):
        demo_of(program)


@pytest.mark.parametrize(
    ("demo", "expected"),
    [
        ({"run": "demo.g60"}, "[demo] run = 'demo.g60' must name a function as module:function"),
        ({"run": "demo g60:run"}, "[demo] run = 'demo g60:run' must name a function as module:function"),
        ({"example": 3}, "demo['example'] must be text, not 3"),
        ({"play": "demo.g60:run_demo"}, "[demo] play: unknown (known: example, run)"),
    ],
    ids=["no-function", "not-a-name", "not-text", "unknown-key"],
)
def test_a_malformed_reference_is_a_problem_of_the_file(demo: dict, expected: str) -> None:
    data = shipped_data()
    data["demo"] = demo
    with pytest.raises(ProgramInvalid) as info:
        build_program(data)
    assert expected in info.value.problems


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("demo.nowhere:run", "[demo] run = 'demo.nowhere:run' cannot be found (No module named 'demo.nowhere')"),
        ("demo.g60:nothing", "[demo] run = 'demo.g60:nothing' cannot be found"),
        ("demo.g60:PROGRAM", "[demo] run = 'demo.g60:PROGRAM' is not a function"),
    ],
    ids=["no-module", "no-function", "not-callable"],
)
def test_a_reference_to_nothing_is_an_invalid_program_when_asked_for(reference: str, expected: str) -> None:
    data = shipped_data()
    data["demo"] = {"run": reference}
    program = build_program(data)  # (loading does not import it)
    with pytest.raises(ProgramInvalid) as info:
        demo_of(program)
    assert info.value.exit_code == 8
    assert info.value.problems[0].startswith(expected)
