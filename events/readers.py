"""Which driver-level reader an engine gets, and the one that reads through the engine.

Our own connections where they can be had (``events.sqlite_reader``,
``events.pg_reader``); else :class:`EngineReader`, through the engine's pool:
an in-memory SQLite database (our own connections would open other, empty
ones) or a driver other than asyncpg.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import is_sqlite
from events.pg_reader import PgReader, ReadTimeouts
from events.read_recording import note_read, noted_by_reader
from events.reading import Reader, Rows
from events.sqlite_reader import SqliteReader


def reader_for(engine: AsyncEngine, timeouts: ReadTimeouts | None = None) -> Reader:
    if is_sqlite(engine):
        database = engine.url.database
        if not database or database == ":memory:":
            # our own connections would open other, empty in-memory databases
            return EngineReader(engine)
        return SqliteReader(database)
    if engine.dialect.driver == "asyncpg":
        return PgReader(engine, timeouts=timeouts or ReadTimeouts())
    return EngineReader(engine)


class EngineReader:
    """Reads through the engine's pool, outside any transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.dialect = engine.dialect.name

    async def fetch(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        note_read(tables)
        with noted_by_reader():
            async with self._engine.connect() as conn:
                if self.dialect == "sqlite":
                    return (await conn.exec_driver_sql(sql, tuple(params))).all()
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                # asyncpg's own records: SQLAlchemy's Row wrapping is a large part of a
                # long read
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                rows: Rows = await driver.fetch(sql, *params)
                return rows

    async def fetch_small(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        return await self.fetch(sql, params, tables)

    async def close(self) -> None:
        return None
