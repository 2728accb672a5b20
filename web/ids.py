"""The ids a route takes in its path: whole numbers a database column holds. A larger one is
answered as invalid input, like any malformed request, rather than reaching the database (where
SQLite cannot even bind it)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from workflow.inputs import ID_MAX

Id = Annotated[int, Field(ge=1, le=ID_MAX)]  # (ID_MAX: the database's integer column)


def whole(raw: str, most: int = ID_MAX) -> int | None:
    """A form's whole number (an id, a version) as a database column holds it, else None: ASCII
    digits only (str.isdigit also passes ² and ①, which int() refuses) and no more than ``most``."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    n = int(raw)
    return n if n <= most else None
