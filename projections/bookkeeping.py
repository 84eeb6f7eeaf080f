"""The durable state of the projections: generations, checkpoints and the live pointer.

The log's migrations own these tables (``events/migrations``); this module is
the only place that reads and writes them. A generation newer than the live
one is a rebuild in progress: any process may create it (``rebuild()`` from
the CLI does), the process holding the projection's lease fills it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.db import WRITE_LOCK_OPTION
from events.tables import UtcDateTime, projection_checkpoints, projection_live

_metadata = MetaData()

projection_generations = Table(
    "projection_generations", _metadata,
    Column("name", String, primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("schema_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


class CheckpointMoved(Exception):
    """Someone else applied this batch first: roll back, re-read and carry on."""


@dataclass(frozen=True)
class Generation:
    name: str
    generation: int
    schema_version: int
    position: int


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
    batch would cost a third of a rebuild.
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


def _now() -> datetime:
    return datetime.now(UTC)


async def live_generation(conn: AsyncConnection, name: str) -> int | None:
    t = projection_live
    return await conn.scalar(select(t.c.generation).where(t.c.name == name))


async def generations(conn: AsyncConnection, name: str) -> list[Generation]:
    """Every recorded generation of ``name`` with its checkpoint, oldest first."""
    g, c = projection_generations, projection_checkpoints
    rows = await conn.execute(
        select(g.c.generation, g.c.schema_version, func.coalesce(c.c.position, 0))
        .select_from(g.outerjoin(c, and_(c.c.name == g.c.name, c.c.generation == g.c.generation)))
        .where(g.c.name == name)
        .order_by(g.c.generation)
    )
    return [Generation(name, gen, version, pos) for gen, version, pos in rows]


async def position(conn: AsyncConnection, name: str, generation: int) -> int:
    c = projection_checkpoints
    found = await conn.scalar(
        select(c.c.position).where(c.c.name == name, c.c.generation == generation)
    )
    return int(found or 0)


async def create_generation(
    conn: AsyncConnection, name: str, generation: int, schema_version: int
) -> None:
    """Record a new, empty generation (its checkpoint starts at 0)."""
    now = _now()
    await conn.execute(projection_generations.insert().values(
        name=name, generation=generation, schema_version=schema_version, created_at=now
    ))
    await conn.execute(projection_checkpoints.insert().values(
        name=name, generation=generation, position=0, updated_at=now
    ))


async def advance(
    conn: AsyncConnection, name: str, generation: int, old: int, new: int
) -> None:
    """Move the checkpoint from ``old`` to ``new`` or raise :class:`CheckpointMoved`.

    Called first in a batch's transaction: the conditional update takes the
    row's write lock (on SQLite the database's), so a concurrent applier of
    the same batch waits here and then finds the checkpoint moved. Applying a
    batch twice is impossible, with or without the lease.
    """
    c = projection_checkpoints
    result = await conn.execute(
        c.update()
        .where(c.c.name == name, c.c.generation == generation, c.c.position == old)
        .values(position=new, updated_at=_now())
    )
    if result.rowcount != 1:
        raise CheckpointMoved(f"{name} g{generation}: checkpoint is no longer {old}")


async def make_live(conn: AsyncConnection, name: str, generation: int) -> None:
    """Point ``name`` at ``generation``: one row, one statement, so the swap is atomic."""
    t = projection_live
    result = await conn.execute(
        t.update().where(t.c.name == name).values(generation=generation, updated_at=_now())
    )
    if result.rowcount == 0:
        await conn.execute(t.insert().values(name=name, generation=generation, updated_at=_now()))


async def forget_generation(conn: AsyncConnection, name: str, generation: int) -> None:
    """Drop the bookkeeping of a generation whose tables are gone."""
    for t in (projection_generations, projection_checkpoints):
        await conn.execute(t.delete().where(t.c.name == name, t.c.generation == generation))
