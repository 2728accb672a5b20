"""`evalflow program diagram` as Graphviz DOT (Mermaid stays the default), and the command line's
progress bar (on a terminal only, for long work)."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

import commands.common
from cli import main
from tests.conftest import make_app
from workflow.program import REOPEN, Program, ProgramRegistry, to_dot, to_mermaid
from workflow.program.diagrams import _dot_quote

PROGRAM_ID = "g60-deep-integration"


@pytest.fixture(scope="module")
def program() -> Program:
    return ProgramRegistry().get(PROGRAM_ID)


def diagram(*args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(main, ["program", "diagram", *args])
    assert result.exit_code == code, result.output
    return result


# ------------------------------------------------------------------------------------------ a tiny DOT reader
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def unquote(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def check_syntax(dot: str) -> None:
    """Balanced braces and brackets outside strings, every statement ended, strings closed."""
    bare = _STRING.sub('""', dot)
    assert '"' not in bare.replace('""', ""), "an unterminated string"
    depth = 0
    for ch in bare:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert bare.count("[") == bare.count("]")
    for line in bare.splitlines()[1:-1]:
        line = line.strip()
        assert line.endswith((";", "{", "}")), line


def edges(dot: str) -> list[tuple[str, str, dict[str, str]]]:
    """Every edge statement: (source, destination, attributes)."""
    found = []
    pattern = re.compile(r'^\s*"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"(?: \[(.*)\])?;$')
    for line in dot.splitlines():
        m = pattern.match(line)
        if m:
            attrs = {}
            for a in re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\w+)', m.group(3) or ""):
                value = a.group(2)
                attrs[a.group(1)] = unquote(value[1:-1]) if value.startswith('"') else value
            found.append((unquote(m.group(1)), unquote(m.group(2)), attrs))
    return found


def clusters(dot: str) -> dict[str, tuple[str, list[str]]]:
    """cluster name -> (its label, the states in it)."""
    out = {}
    for m in re.finditer(
        r'subgraph "(cluster_\w+)" \{\n    label=("(?:[^"\\]|\\.)*");\n((?:    "[^"]+";\n)*)  \}', dot
    ):
        states = re.findall(r'"([^"]+)"', m.group(3))
        out[m.group(1)] = (unquote(m.group(2)[1:-1]), states)
    return out


# ------------------------------------------------------------------------------------------ DOT
def test_dot_is_a_plausible_digraph(program: Program) -> None:
    dot = diagram(PROGRAM_ID, "--format", "dot").output
    assert dot == to_dot(program)
    assert dot.startswith(f'digraph "{PROGRAM_ID}" {{\n') and dot.endswith("}\n")
    check_syntax(dot)


def test_every_transition_but_reopen_is_an_edge(program: Program) -> None:
    dot = to_dot(program)
    drawn = edges(dot)
    plain = [(s, d, a["label"]) for s, d, a in drawn if s not in ("start", "appeal")]
    want = []
    for spec in program.transition_specs:
        if spec.trigger == REOPEN:
            continue
        label = spec.trigger
        if spec.when:
            label += " " + ",".join(f"{k}={v}" for k, v in spec.when.items())
        guards = program.guards.get(spec.trigger, ())
        if guards:
            label += "\n[" + ", ".join(guards) + "]"
        for src in spec.source:
            want.append((src, spec.dest or src, label))
    assert sorted(plain) == sorted(want)
    assert len(plain) == len(set(plain))
    # spot checks against the program file
    assert ("recommended", "recommended", "score\n[score_in_bands]") in plain
    assert ("in_library", "municipal_demonstration", "review result=demonstration\n[municipal_quota]") in plain
    assert ("listed_excellent", "awarded", "award") in plain
    assert ("start", "new", {}) in drawn
    # reopening comes only from the one "appeal" note, never as an edge from every state
    assert not any(a.get("label", "").startswith(REOPEN) for s, _, a in drawn if s != "appeal")


def test_states_are_grouped_in_a_cluster_per_stage(program: Program) -> None:
    found = clusters(to_dot(program))
    with_states = [(i, s) for i, s in enumerate(program.stages) if program.states_of(s.id)]
    assert list(found) == [f"cluster_{s.id}" for _, s in with_states]
    placed: list[str] = []
    for i, s in with_states:
        label, states = found[f"cluster_{s.id}"]
        assert label == f"{i + 1}. {s.name} ({s.id})"
        assert states == [st for st in program.states_of(s.id) if program.stage_of_state[st] == s.id]
        placed += states
    # every state but the initial one sits in exactly one cluster
    assert sorted(placed) == sorted(st for st in program.states if st != "new")


def test_reopening_is_drawn_as_notes(program: Program) -> None:
    dot = to_dot(program)
    dashed = [(d, a["label"]) for s, d, a in edges(dot) if s == "appeal"]
    assert dashed == [(program.reopen_state(s), f"reopen to {s.id}") for s in program.reopenable]
    assert {s.id for s in program.reopenable} == {
        "collection",
        "municipal_review",
        "recommendation",
        "joint_scoring",
        "confirmation",
    }
    assert all(a.get("style") == "dashed" for s, _, a in edges(dot) if s == "appeal")
    assert '"appeal" [shape=note, label="an upheld appeal (from any state)"];' in dot


def test_dot_quotes_what_needs_quoting() -> None:
    assert _dot_quote('say "hi"') == '"say \\"hi\\""'
    assert _dot_quote("a\\b") == '"a\\\\b"'
    assert _dot_quote("two\nlines") == '"two\\nlines"'


def test_mermaid_is_still_the_default(program: Program) -> None:
    out = diagram(PROGRAM_ID).output
    assert out == to_mermaid(program)
    assert out.startswith("stateDiagram-v2\n    [*] --> new\n")
    assert diagram(PROGRAM_ID, "--format", "mermaid").output == out


def test_unknown_format_or_program(program: Program) -> None:
    bad = diagram(PROGRAM_ID, "--format", "svg", code=2)
    assert "Invalid value for '--format'" in bad.output and "'svg' is not one of 'mermaid', 'dot'" in bad.output
    missing = diagram("no-such-program", "--format", "dot", code=5)
    assert (
        missing.stderr.strip() == "Error: No program 'no-such-program'; known programs: "
        "g60-deep-integration, industry-alliance, kechuang-zhongyuan, pioneer-brand."
    )


# ------------------------------------------------------------------------------------------ progress bar
class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _progress(total: int, json_out: bool = False) -> str:
    """Run commands.common.progress inside a command context with stderr replaced; what stderr received."""
    err = FakeTty()
    with click.Context(main, obj=commands.common.Config(None, None, None, json_out)):
        real = sys.stderr
        sys.stderr = err
        try:
            with commands.common.progress(total, f"checking {total} rows") as update:
                for n in range(1, total + 1):
                    update(n)
        finally:
            sys.stderr = real
    return err.getvalue()


def test_progress_bar_on_a_terminal_for_long_work() -> None:
    shown = _progress(300)
    assert "checking 300 rows" in shown
    assert "100%" in shown


@pytest.mark.parametrize(("total", "json_out"), [(99, False), (300, True)])
def test_no_progress_bar_for_short_work_or_json(total: int, json_out: bool) -> None:
    assert _progress(total, json_out) == ""


def test_no_progress_bar_when_stderr_is_not_a_terminal() -> None:
    class Pipe(io.StringIO):
        def isatty(self) -> bool:
            return False

    err = Pipe()
    with click.Context(main, obj=commands.common.Config(None, None, None, False)):
        real, sys.stderr = sys.stderr, err
        try:
            with commands.common.progress(300, "checking 300 rows") as update:
                update(300)
        finally:
            sys.stderr = real
    assert err.getvalue() == ""


class _Tty:
    """A stream that says it is a terminal, writing to the stream it wraps."""

    def __init__(self, stream: Any):
        self._stream = stream

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _TtySys:
    """cli's view of ``sys``: the same, except that stderr is a terminal."""

    def __getattr__(self, name: str) -> Any:
        return getattr(sys, name)

    @property
    def stderr(self) -> Any:
        return _Tty(sys.stderr)


def _import_300(tmp_path: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> Any:
    db = tmp_path / "p.db"
    runner = CliRunner()
    jan = ["--db", str(db), "--now", "2027-01-10T10:00"]

    def run(*args: str) -> Any:
        result = runner.invoke(main, [*jan, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    run("init")
    run("user", "add", "lead", "--role", "lead", "--city", "songjiang")
    run("--as", "lead", "user", "add", "hefei-admin", "--role", "city-admin", "--city", "hefei")
    run("--as", "lead", "cycle", "open", PROGRAM_ID, "--year", "2027")
    apps = tmp_path / "apps.json"
    apps.write_text(json.dumps([make_app("hefei", n) for n in range(1, 301)], ensure_ascii=False), encoding="utf-8")
    if monkeypatch is not None:
        monkeypatch.setattr(commands.common, "sys", _TtySys())
    return run("--as", "hefei-admin", "project", "import", str(apps))


def test_piped_import_of_300_rows_prints_no_bar(tmp_path: Path) -> None:
    result = _import_300(tmp_path)
    assert result.stdout.startswith("Imported 300 applications into g60-2027")
    assert result.stderr == ""


def test_import_of_300_rows_on_a_terminal_shows_the_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _import_300(tmp_path, monkeypatch)
    assert result.stdout.startswith("Imported 300 applications into g60-2027")
    assert "checking 300 applications" in result.stderr
    assert "Imported" not in result.stderr  # the bar never mixes with the output


@pytest.mark.parametrize("program_id", ProgramRegistry().ids())
def test_every_program_is_drawn_with_every_state_and_trigger(program_id: str) -> None:
    shown = ProgramRegistry().get(program_id)
    for fmt in ("mermaid", "dot"):
        out = diagram(program_id, "--format", fmt).output
        for state in shown.states:
            assert state in out, (program_id, fmt, state)
        for spec in shown.transition_specs:
            assert spec.trigger in out, (program_id, fmt, spec.trigger)
