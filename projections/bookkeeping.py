"""The durable state of the projections: generations, checkpoints and the live pointer.

The log's migrations own these tables (``events/migrations``); this module is
the only place that reads and writes them. A generation newer than the live
one is a rebuild in progress: any process may create it (``rebuild()`` from
the CLI does), the process holding the projection's lease fills it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

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
