"""Re-applying parked events once their cause is fixed, by the process applying the projection.

A retry is a request recorded on the dead letters (``retry_requested``), so
it can be asked from any process: the applier carries it out between two
batches, in log order, one event per transaction. Applied, an event leaves
the table; failing again, it stays with one attempt more and its new error,
and every later requested event of its sequences stays parked behind it.

Re-applying an old event after later ones is safe here because of how
events are parked: every later event of a parked event's sequences was
parked behind it, never applied, so the retry applies them in the order the
log has them, exactly as the first pass would have. Effects that cross
sequences the projection does not declare (``Projection.sequences``) are not
covered: ``chronicle projections rebuild`` recomputes everything from the log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from events.contract import EventStore
from events.model import RecordedEvent
from projections.batches import GenerationTables
from projections.dead_letters import blocked, failed_again, parked, retried, summary
from projections.parking import is_transient
from projections.projection import Change
from projections.transactions import writing

log = logging.getLogger(__name__)


@dataclass
class Retried:
    applied: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


async def _event(store: EventStore, position: int) -> RecordedEvent:
    found = await store.read_all(after=position - 1, limit=1, to_position=position)
    if not found or found[0].position != position:
        raise LookupError(f"no event at position {position}")
    return found[0]


async def retry_requested(
    engine: AsyncEngine, store: EventStore, target: GenerationTables, turn: asyncio.Lock
) -> Retried:
    """Carry out the retries requested on ``target``'s dead letters (see the module docstring)."""
    projection = target.projection
    name = projection.name
    async with engine.connect() as conn:
        letters = await parked(conn, name, target.generation)
    out = Retried()
    if not any(d.retry_requested for d in letters):
        return out
    stuck: dict[str, int] = {}
    """Sequences with an event still parked before the one at hand."""
    for letter in letters:
        behind = [stuck[s] for s in letter.sequences if s in stuck]
        if not letter.retry_requested or behind:
            for s in letter.sequences:
                stuck.setdefault(s, letter.held_by or letter.position)
            if letter.retry_requested:
                async with writing(engine, turn) as conn:
                    await failed_again(conn, letter, None, min(behind))
                out.failed.append(letter.position)
            continue
        event = await _event(store, letter.position)
        try:
            async with writing(engine, turn) as conn:
                out.changes += await projection.apply(conn, target.tables, [event])
                await retried(conn, letter)
            out.applied.append(letter.position)
            continue
        except Exception as error:
            if is_transient(error):
                raise
            log.error("projection %s: the parked event at position %d failed again: %r",
                      name, letter.position, error)
            async with writing(engine, turn) as conn:
                await failed_again(conn, letter, error, None)
        out.failed.append(letter.position)
        for s in letter.sequences:
            stuck.setdefault(s, letter.position)
    async with engine.connect() as conn:
        target.blocked = await blocked(conn, name, target.generation)
        target.parked = (await summary(conn, name, target.generation)).parked
    log.info("projection %s: retried parked events: %d applied, %d still parked",
             name, len(out.applied), len(out.failed))
    return out
