"""One batch: read the events after a checkpoint, apply them and move the checkpoint, atomically.

The rows and the checkpoint change in the same transaction, and the
checkpoint moves only from the position the batch was read after: a crash at
any instant leaves no event applied twice and none skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from events.model import EventStore
from projections.bookkeeping import advance, writing
from projections.projection import Change, Projection


@dataclass
class GenerationTables:
    """One generation of a projection's tables and how far it has applied the log."""

    projection: Projection
    generation: int
    metadata: MetaData
    tables: dict[str, Table]
    position: int = 0

    @classmethod
    def of(cls, projection: Projection, generation: int, position: int = 0) -> GenerationTables:
        metadata = MetaData()
        tables = projection.tables(metadata, f"_g{generation}")
        return cls(projection, generation, metadata, tables, position)


@dataclass(frozen=True)
class Applied:
    position: int
    """The checkpoint after the batch."""
    events: int
    """Events folded (those of the projection's types)."""
    caught_up: bool
    """The batch reached the head of the log as it was when the batch began."""
    changes: list[Change] = field(default_factory=list)


async def apply_next_batch(
    engine: AsyncEngine, store: EventStore, target: GenerationTables, limit: int
) -> Applied:
    """Apply up to ``limit`` events after ``target.position``; updates ``target.position``."""
    projection = target.projection
    after = target.position
    head = await store.head_position()
    if head <= after:
        return Applied(after, 0, True)
    events = await store.read_all(
        after=after, limit=limit, types=projection.types, to_position=head
    )
    full = len(events) == limit
    # Events of other types up to the head need no work, but the checkpoint passes them,
    # so that waiting for any position (a login failure, say) ends.
    new = events[-1].position if full else head
    async with writing(engine) as conn:
        await advance(conn, projection.name, target.generation, after, new)
        changes = await projection.apply(conn, target.tables, events) if events else []
    target.position = new
    return Applied(new, len(events), new >= head, changes)
