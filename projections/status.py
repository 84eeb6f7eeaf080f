"""What each projection is doing, as operators see it: its state, position, lag and dead letters.

Read the same in every process: a process that does not apply a projection
reads its generations and checkpoints afresh first (``Driver.refresh``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from events.contract import EventStore
from projections.dead_letters import summary
from projections.driver import Driver


@dataclass(frozen=True)
class ProjectionStatusInfo:
    name: str
    state: str
    """CATCHING_UP, LIVE, REBUILDING or FAILED."""
    position: int
    """The live generation's checkpoint, or the rebuild's while REBUILDING."""
    lag: int
    last_error: str | None = None
    parked: int = 0
    """Events of the live generation parked in dead-letter storage (see
    ``projections.dead_letters``)."""
    last_parked_error: str | None = None


async def statuses(
    engine: AsyncEngine, store: EventStore, drivers: Iterable[Driver]
) -> list[ProjectionStatusInfo]:
    """The status of each driver's projection, against the log's head now."""
    head = await store.head_position()
    result = []
    for driver in drivers:
        if not driver.applying:
            await driver.refresh()
        rebuild = driver.rebuild
        if driver.last_error is not None:
            state = "FAILED"
        elif rebuild is not None:
            state = "REBUILDING"
        elif driver.live.position >= head or driver.caught_up:
            state = "LIVE"
        else:
            state = "CATCHING_UP"
        position = rebuild.position if rebuild is not None else driver.live.position
        async with engine.connect() as conn:
            parked = await summary(conn, driver.name, driver.live.generation)
        result.append(ProjectionStatusInfo(
            driver.name, state, position, max(0, head - position), driver.last_error,
            parked.parked, parked.last_error,
        ))
    return result
