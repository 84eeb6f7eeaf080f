"""Alembic migrations of the durable tables; run them with :func:`events.db.migrate`."""
