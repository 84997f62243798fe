"""Alembic environment: always called with a live connection from visavis.storage.migrate."""

from __future__ import annotations

from alembic import context

from visavis.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `visavis migrate`, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
