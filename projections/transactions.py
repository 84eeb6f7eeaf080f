"""Write transactions of the projections, tuned per backend.

On SQLite every batch takes the database's write lock at BEGIN, projections
of one process take turns, large batches get a bigger page cache, and batches
nobody reads yet may skip the fsync. PostgreSQL needs none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.db import WRITE_LOCK_OPTION


@asynccontextmanager
async def writing(
    engine: AsyncEngine, turn: asyncio.Lock | None = None, *, relaxed: bool = False
) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write: on SQLite it takes the write lock at BEGIN.

    A deferred SQLite transaction that reads first fails at once with
    "database is locked" when it then writes after another commit; taking the
    lock up front makes it wait (busy_timeout) instead. SQLite waits by
    sleeping, so projections of one process also take ``turn`` and queue here
    rather than in SQLite. PostgreSQL needs neither.

    ``relaxed`` commits with ``synchronous=NORMAL`` on SQLite: still atomic
    (WAL), but a power cut may undo the last commits. Right for a generation
    being rebuilt, which nobody reads yet and whose lost batches are simply
    applied again from the checkpoint lost with them; fsyncing megabytes per
    batch would cost a large share of a rebuild.
    """
    sqlite = engine.dialect.name == "sqlite"
    async with contextlib.AsyncExitStack() as stack:
        if sqlite and turn is not None:
            await stack.enter_async_context(turn)
        conn = await stack.enter_async_context(engine.connect())
        if sqlite:
            await conn.execution_options(**{WRITE_LOCK_OPTION: True})
            # Batches touch pages all over large tables: a bigger page cache, and reads
            # through the OS page cache (shared by every connection) instead of copies.
            await conn.run_sync(_pragma, "PRAGMA cache_size = -65536")
            await conn.run_sync(_pragma, "PRAGMA mmap_size = 1073741824")
            if relaxed:
                await stack.enter_async_context(_synchronous_normal(conn))
        await stack.enter_async_context(conn.begin())
        yield conn


@asynccontextmanager
async def _synchronous_normal(conn: AsyncConnection) -> AsyncIterator[None]:
    """Outside any transaction (SQLite refuses it inside), and always restored: the
    pooled connection may serve a durable write next. If restoring fails, the
    connection is discarded rather than returned to the pool."""
    previous = await conn.run_sync(_pragma, "PRAGMA synchronous")
    await conn.run_sync(_pragma, "PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        try:
            await conn.run_sync(_pragma, f"PRAGMA synchronous = {int(previous)}")
        except BaseException:
            await conn.invalidate()
            raise


def _pragma(sync_conn: Any, sql: str) -> Any:
    """Straight to the driver: through SQLAlchemy it would open a transaction first."""
    cursor = sync_conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        row = cursor.fetchone()
        return row[0] if row else None
    finally:
        cursor.close()
