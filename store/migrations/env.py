"""Alembic's environment for evalflow: run on the connection the store hands over (see
store/sql.py SqlStore.upgrade), against the tables of store/schema.py."""

from __future__ import annotations

from alembic import context

from store import schema

connection = context.config.attributes["connection"]
sqlite = connection.dialect.name == "sqlite"
# SQLite alters a table by copying and dropping it: foreign keys must not fire meanwhile. The
# pragma only works outside a transaction, so it is set on the driver's connection first.
raw = connection.connection.driver_connection if sqlite else None
if raw is not None:
    raw.execute("PRAGMA foreign_keys=OFF")
try:
    context.configure(
        connection=connection,
        target_metadata=schema.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
finally:
    if raw is not None:
        connection.commit()
        raw.execute("PRAGMA foreign_keys=ON")
