"""Where the program files are, and each loaded once: a program's id is its file's name."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from i18n import Joined, Msg
from workflow.errors import NotFound
from workflow.program.loader import load_program
from workflow.program.model import Program


def default_program_dirs() -> list[Path]:
    """The folders of ``EVALFLOW_PROGRAMS`` (first found wins), then the shipped ``programs/``."""
    dirs = [Path(p) for p in os.environ.get("EVALFLOW_PROGRAMS", "").split(os.pathsep) if p]
    dirs.append(Path(__file__).resolve().parent.parent.parent / "programs")
    return dirs


class ProgramRegistry:
    """The programs found in the program directories, loaded on first use."""

    def __init__(self, dirs: Iterable[Path] | None = None):
        self.dirs = list(dirs) if dirs is not None else default_program_dirs()
        self._cache: dict[str, Program] = {}

    def files(self) -> dict[str, Path]:
        """Each program's id and file; a file in an earlier folder hides one of the same name."""
        found: dict[str, Path] = {}
        for d in self.dirs:
            if d.is_dir():
                for f in sorted(d.glob("*.toml")):
                    found.setdefault(f.stem, f)
        return found

    def ids(self) -> list[str]:
        """The ids of the programs found, sorted."""
        return sorted(self.files())

    def get(self, program_id: str) -> Program:
        """The program of that id, loaded (and validated) on first use."""
        if program_id not in self._cache:
            path = self.files().get(program_id)
            if path is None:
                known = Joined(self.ids(), ", ") if self.ids() else Msg("none")
                raise NotFound("program", program_id, Msg("known programs: {programs}", programs=known))
            self._cache[program_id] = load_program(path)
        return self._cache[program_id]
