"""One batch: read the events after a checkpoint, apply them and move the checkpoint, atomically.

The rows and the checkpoint change in the same transaction, and the
checkpoint moves only from the position the batch was read after: a crash at
any instant leaves no event applied twice and none skipped. An event that
cannot be applied is parked in the same way: its dead letter and the
checkpoint past it commit together (``projections.parking``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import CreateIndex, CreateTable

from events.contract import EventStore
from events.model import RecordedEvent
from projections.bookkeeping import CheckpointMoved, advance
from projections.dead_letters import park
from projections.parking import block, hold_back, is_transient, split
from projections.projection import Change, Projection
from projections.transactions import writing

log = logging.getLogger(__name__)


@dataclass
class GenerationTables:
    """One generation of a projection's tables and how far it has applied the log."""

    projection: Projection
    generation: int
    metadata: MetaData
    tables: dict[str, Table]
    position: int = 0
    schema_version: int = 0
    """The shape its tables were created in (see ``Projection.tables``)."""
    indexed: bool = False
    """Its secondary indexes are known to exist (checked once per process)."""
    blocked: dict[str, int] = field(default_factory=dict)
    """Sequences with a parked event, and the position of the first (``projections.parking``)."""
    parked: int = 0
    """Events parked in its dead-letter storage."""

    def changed(self, written: set[str | None]) -> list[str] | None:
        """The tables of this generation ``written`` names, by their names in the
        projection (``posts``, not ``posts_g3``); None if anything else was written
        (a statement of unknown table): then nobody may assume what did not change."""
        names = {table.name: name for name, table in self.tables.items()}
        if not written <= names.keys():
            return None
        return sorted(names[t] for t in written if t is not None)

    @classmethod
    def of(
        cls,
        projection: Projection,
        generation: int,
        position: int = 0,
        schema_version: int | None = None,
    ) -> GenerationTables:
        version = schema_version or projection.schema_version
        metadata = MetaData()
        tables = projection.tables(metadata, f"_g{generation}", version)
        return cls(projection, generation, metadata, tables, position, version)

    async def create(self, conn: AsyncConnection) -> None:
        """Create the tables that are missing; secondary indexes only if filled already.

        A generation filled from position 0 gets its secondary indexes once it
        has caught up (``apply_batch``; a rebuild's swap makes sure again):
        maintaining them row by row while every row is written costs more than
        building each in one sort.
        Lookups while filling use primary keys only. Tables that exist keep
        whatever they have: a fill interrupted by a crash goes on without
        indexes, and ``create_indexes`` adds them later.
        """
        if self.position > 0:
            await conn.run_sync(self.metadata.create_all)
            return
        for table in self.metadata.sorted_tables:
            # UNIQUE constraints are part of the table (and of the rules): created here.
            await conn.execute(CreateTable(table, if_not_exists=True))
        self.indexed = False

    async def create_indexes(self, conn: AsyncConnection) -> None:
        """The secondary indexes that are missing (idempotent, cheap when all exist).

        The caller sets ``indexed`` once the transaction has committed."""
        for table in self.metadata.sorted_tables:
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                await conn.execute(CreateIndex(index, if_not_exists=True))


def next_span(batch: Batch, limit: int) -> int:
    """How many positions the batch after ``batch`` should look at to find about
    ``limit`` events of the projection's types, judging by this one's density."""
    seen = batch.position - batch.after
    if not batch.events:
        return limit * MAX_SPAN
    wanted = seen * limit * 11 // (10 * len(batch.events))  # 10% to spare
    return max(limit, min(limit * MAX_SPAN, wanted))


MAX_SPAN = 16
"""A batch looks at most this many times ``limit`` positions ahead."""


@dataclass(frozen=True)
class Applied:
    position: int
    """The checkpoint after the batch."""
    events: int
    """Events folded (those of the projection's types)."""
    caught_up: bool
    """The batch reached the head of the log as it was when the batch began."""
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    """Events read after ``after``; applying them moves the checkpoint to ``position``."""

    after: int
    position: int
    events: list[RecordedEvent]
    caught_up: bool


async def read_batch(
    store: EventStore, projection: Projection, after: int, limit: int, span: int | None = None
) -> Batch:
    """Up to ``limit`` events after ``after``, looking at most ``span`` positions ahead
    (default ``limit``; see :func:`next_span`)."""
    head = await store.head_position()
    if head <= after:
        return Batch(after, after, [], True)
    # A bounded span of positions: the store finds a projection's types by index and
    # sorts what it found, so reading up to the head for every batch of a rebuild
    # (sorting the whole rest of the log to keep the first ``limit``) cost about as
    # much as reading the batch itself.
    to = min(head, after + (span or limit))
    events = await store.read_all(after=after, limit=limit, types=projection.types, to_position=to)
    full = len(events) == limit
    # Events of other types up to ``to`` need no work, but the checkpoint passes them,
    # so that waiting for any position (a login failure, say) ends.
    new = events[-1].position if full else to
    return Batch(after, new, events, new >= head)


async def apply_batch(
    engine: AsyncEngine,
    target: GenerationTables,
    batch: Batch,
    turn: asyncio.Lock | None = None,
    *,
    relaxed: bool = False,
) -> Applied:
    """Apply ``batch`` (read after ``target.position``) and move the checkpoint with it.

    Events waiting behind a parked one are parked with the batch; a
    deterministic failure applies the batch again event by event to park the
    culprit (``projections.parking``); a transient one is raised, for a retry.

    A generation that is not known to have its secondary indexes (see
    ``GenerationTables.create``) gets them with the batch that reaches the
    head (or, with nothing new to apply, on its own), so no one sees it caught
    up without them.
    """
    projection = target.projection
    index = batch.caught_up and not target.indexed
    if batch.position == batch.after and not index:
        return Applied(batch.after, 0, batch.caught_up)
    changes: list[Change] = []
    parts = split(projection, batch.events, target.blocked)
    try:
        async with writing(engine, turn, relaxed=relaxed) as conn:
            if batch.position != batch.after:
                await advance(conn, projection.name, target.generation, batch.after, batch.position)
                if parts.apply:
                    changes = await projection.apply(conn, target.tables, parts.apply)
                await park(conn, projection.name, target.generation, parts.held)
            if index:
                await target.create_indexes(conn)
    except CheckpointMoved:
        raise
    except Exception as error:
        if is_transient(error) or not batch.events:
            raise
        log.warning("projection %s: a batch failed (%r); applying it event by event",
                    projection.name, error)
        return await _one_by_one(engine, target, batch, turn, relaxed=relaxed)
    _applied(target, batch.position, parts.blocked, len(parts.held))
    target.indexed = target.indexed or index
    return Applied(batch.position, len(batch.events), batch.caught_up, changes)


def _applied(target: GenerationTables, position: int, blocked: dict[str, int], parked: int) -> None:
    """What ``target`` knows once a transaction committed."""
    target.position = position
    target.blocked = blocked
    target.parked += parked


async def _one_by_one(
    engine: AsyncEngine,
    target: GenerationTables,
    batch: Batch,
    turn: asyncio.Lock | None,
    *,
    relaxed: bool,
) -> Applied:
    """Each event in its own transaction with its checkpoint; the ones that fail are parked."""
    projection, name, generation = target.projection, target.projection.name, target.generation
    changes: list[Change] = []
    for event in batch.events:
        blocked = dict(target.blocked)
        held = hold_back(projection, event, blocked)
        if held is None:
            try:
                async with writing(engine, turn, relaxed=relaxed) as conn:
                    await advance(conn, name, generation, target.position, event.position)
                    changes += await projection.apply(conn, target.tables, [event])
                _applied(target, event.position, blocked, 0)
                continue
            except CheckpointMoved:
                raise
            except Exception as error:
                if is_transient(error):
                    raise
                held = block(projection, event, blocked, error)
                log.error("projection %s: parked the event at position %d (%s): %r",
                          name, event.position, event.type, error)
        async with writing(engine, turn, relaxed=relaxed) as conn:
            await advance(conn, name, generation, target.position, event.position)
            await park(conn, name, generation, [held])
        _applied(target, event.position, blocked, 1)
    index = batch.caught_up and not target.indexed
    if target.position != batch.position or index:
        async with writing(engine, turn, relaxed=relaxed) as conn:
            if target.position != batch.position:
                await advance(conn, name, generation, target.position, batch.position)
            if index:
                await target.create_indexes(conn)
        target.position = batch.position
        target.indexed = target.indexed or index
    return Applied(batch.position, len(batch.events), batch.caught_up, changes)
