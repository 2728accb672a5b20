"""The ids a route takes in its path: whole numbers a database column holds. A larger one is
answered as invalid input, like any malformed request, rather than reaching the database (where
SQLite cannot even bind it)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
