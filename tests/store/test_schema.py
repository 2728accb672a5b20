"""store/schema.py (the Core tables the store works on) and store/tables.py (the SQLModel tables a
database is created with) describe the same schema: the same tables, columns in the same order
with the same types, nullability and defaults, keys, constraints and indexes, on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the SQLModel tables)
from store import schema

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


def test_the_same_tables() -> None:
    assert set(schema.metadata.tables) == set(SQLModel.metadata.tables)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", sorted(schema.metadata.tables))
def test_a_table_is_created_alike(name: str, dialect: str) -> None:
    core, model = schema.metadata.tables[name], SQLModel.metadata.tables[name]
    d = DIALECTS[dialect]
    assert str(CreateTable(core).compile(dialect=d)) == str(CreateTable(model).compile(dialect=d))
    indexes = [sorted(str(CreateIndex(i).compile(dialect=d)) for i in t.indexes) for t in (core, model)]
    assert indexes[0] == indexes[1]


@pytest.mark.parametrize("name", sorted(schema.metadata.tables))
def test_a_table_has_the_same_python_defaults(name: str) -> None:
    def defaults(table) -> dict[str, object]:
        return {c.name: getattr(c.default, "arg", None) for c in table.columns}

    assert defaults(schema.metadata.tables[name]) == defaults(SQLModel.metadata.tables[name])
