"""The Alembic migrations build exactly the tables the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from events.db import create_engine, migrate
from events.tables import metadata as log_metadata
from projections.bookkeeping import projection_generations
from projections.dead_letters import projection_dead_letters
from projections.lease import projection_leases


def declared() -> MetaData:
    """The log's tables and the projections' bookkeeping tables, as one schema."""
    schema = MetaData()
    for table in [
        *log_metadata.tables.values(), projection_generations, projection_leases,
        projection_dead_letters,
    ]:
        table.to_metadata(schema)
    return schema


async def test_migrating_to_head_builds_the_declared_schema(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), declared())
            )
    finally:
        await engine.dispose()

    assert differences == []
