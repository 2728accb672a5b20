"""Loggers made on first use.

Importing structlog costs a command about 50 ms (it imports asyncio, and asyncio ssl); a command
that logs nothing, such as reading a cycle's status, need not pay it. ``get_logger`` returns a
stand-in that imports structlog when a line is first logged, after running the setup a program
registered with ``before_first_use`` (the command line configures structlog there).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_setup: list[Callable[[], None]] = []
_setting_up = threading.Lock()  # a scheduler's threads log too: the setup runs once, before any line


def before_first_use(setup: Callable[[], None]) -> None:
    """Run ``setup`` once, just before the next line is logged (replacing a setup not yet run)."""
    _setup[:] = [setup]


class Logger:
    """A structlog logger, made when it is first used."""

    __slots__ = ("_name", "_logger")

    def __init__(self, name: str):
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attr: str) -> Any:
        if _setup:
            with _setting_up:
                while _setup:
                    _setup.pop()()
        if self._logger is None:
            import structlog

            self._logger = structlog.get_logger(self._name)
        return getattr(self._logger, attr)


def get_logger(name: str) -> Logger:
    return Logger(name)
