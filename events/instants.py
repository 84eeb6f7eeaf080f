"""From an instant to a log position: where the log stood at a given time.

``posts(asOf:)`` takes a position; a reader thinks in time. The log has no
index on ``recorded_at`` (every append would pay for one, see migration
0003_no_stream_time_index), but it needs none: the writer never lets
``recorded_at`` go backwards (``events/writer.py``), so along positions it is
sorted, and a binary search over the primary key finds the instant in about
log2(head) point reads, each the newest event at or before a probe position.
They run on one connection in one transaction, so they see one state of the log.

Several processes writing one log each keep their own clock and take the time
before the write lock: neighbouring positions of two processes may then be out
of time order by about the wait for that lock. The answer is still a position
where the log stood at that instant, to within that wait.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.tables import events


async def position_at(engine: AsyncEngine, at: datetime) -> int:
    """The position of the last event recorded at or before ``at``; 0 before the first.

    An instant after the newest event answers the head: the log as it stands now.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    async with engine.connect() as conn:
        head = int((await conn.execute(select(func.max(events.c.position)))).scalar() or 0)
        found = await _newest_at_or_before(conn, head)
        if found is None or found[1] <= at:
            return head
        # Invariant: the answer is in [low, high]; ``best`` is the newest event at
        # or before ``low`` (0 for none), recorded at or before ``at``.
        low, high, best = 0, head - 1, 0
        while low < high:
            probe = (low + high + 1) // 2
            found = await _newest_at_or_before(conn, probe)
            if found is None or found[1] <= at:
                low, best = probe, 0 if found is None else found[0]
            else:
                high = found[0] - 1
        return best


async def _newest_at_or_before(
    conn: AsyncConnection, position: int
) -> tuple[int, datetime] | None:
    e = events.c
    row = (await conn.execute(
        select(e.position, e.recorded_at).where(e.position <= position)
        .order_by(e.position.desc()).limit(1)
    )).first()
    return None if row is None else (int(row[0]), row[1])
