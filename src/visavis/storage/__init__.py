"""Persistence: SQLAlchemy 2 (async) models, engine, Alembic migrations."""
