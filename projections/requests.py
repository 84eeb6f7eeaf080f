"""An operator's rebuild and retry of a projection, asked from any process.

Both are requests recorded in the database: a rebuild is a generation newer
than the live one, a retry is a mark on the dead letters
(``projections.dead_letters.request_retry``). The asking process records the
request, wakes the applier with a notice on ``PROJECTIONS_CHANNEL`` and waits
until the work is done. The applier carries it out (``projections.driver``,
``projections.retry``); when no process applies the projection (the CLI with
the server down), the asking process takes the lease and does the work itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from events.bus import PROJECTIONS_CHANNEL, Bus
from events.contract import EventStore
from projections.bookkeeping import create_generation, generations, live_generation
from projections.dead_letters import DeadLetter, parked, request_retry
from projections.driver import Driver
from projections.transactions import writing
from projections.waiting import Progress, wait_at_most


class NothingParked(LookupError):
    """No parked event at the position a retry named."""


@dataclass(frozen=True)
class RetryOutcome:
    applied: list[int]
    """Positions re-applied and removed from dead-letter storage."""
    parked: list[DeadLetter]
    """What is still parked after the retry, in log order."""


@dataclass(frozen=True)
class Requests:
    """Rebuilds and retries asked by one process (the runner's)."""

    engine: AsyncEngine
    store: EventStore
    bus: Bus
    owner: str
    """The asking process, so that its own notices do not wake it."""
    progress: Progress
    started: Callable[[], bool]
    """Whether this process runs its drivers: if not, it may do the work itself."""

    async def rebuild(
        self, driver: Driver, progress: Callable[[int, int], None] | None
    ) -> None:
        """Rebuild ``driver``'s projection blue/green; return once the new generation is live
        and has caught up with the log's head as it was when asked."""
        name = driver.name
        target = await self._request_rebuild(driver)
        head = await self.store.head_position()
        driver.wake()
        await self.bus.publish(
            PROJECTIONS_CHANNEL, {"projection": name, "rebuild": target, "owner": self.owner}
        )
        while True:
            changed = self.progress.next()
            if not driver.applying:
                await driver.refresh()
            live, pending = driver.live, driver.rebuild
            if live.generation >= target and live.position >= head:
                break
            if progress is not None:
                # Before the applier has picked the request up, nothing is rebuilt yet.
                done = pending.position if pending is not None else 0
                if live.generation >= target:
                    done = live.position
                progress(done, max(head, done))
            if not self.started() and not driver.applying and await driver.claim():
                # Nobody else applies it (the server is down): do the work here.
                try:
                    while driver.live.generation < target or driver.live.position < head:
                        await driver.step_once()
                        if progress is not None:
                            # the first build of a projection fills the live generation
                            done = (driver.rebuild or driver.live).position
                            progress(done, max(head, done))
                finally:
                    await driver.close()
                continue
            await wait_at_most(changed, 0.25)
        if progress is not None:
            progress(driver.live.position, max(head, driver.live.position))

    async def retry(self, driver: Driver, position: int | None, within: float) -> RetryOutcome:
        """Re-apply the parked events of ``driver``'s projection (all, or the one at
        ``position`` and those held behind it); return once the applier has tried them,
        or after ``within`` seconds."""
        name = driver.name
        if not driver.applying:
            await driver.refresh()
        generation = driver.live.generation
        async with writing(self.engine) as conn:
            marked = await request_retry(conn, name, generation, position)
        if position is not None and not marked:
            raise NothingParked(position)
        driver.retry_wanted = True
        driver.wake()
        await self.bus.publish(
            PROJECTIONS_CHANNEL, {"projection": name, "retry": True, "owner": self.owner}
        )
        deadline = time.monotonic() + within
        while True:
            changed = self.progress.next()
            async with self.engine.connect() as conn:
                letters = await parked(conn, name, generation)
            if not any(d.retry_requested for d in letters) or time.monotonic() > deadline:
                break
            if not self.started() and not driver.applying and await driver.claim():
                try:  # nobody else applies it (the server is down): do the work here
                    await driver.prepare()
                    await driver.retry_parked()
                finally:
                    await driver.close()
                continue
            await wait_at_most(changed, 0.1)
        still = {d.position for d in letters}
        return RetryOutcome([p for p in marked if p not in still], letters)

    async def _request_rebuild(self, driver: Driver) -> int:
        """The generation that will replace the live one: an open request, or a new one."""
        name = driver.projection.name
        for _ in range(5):
            try:
                async with writing(self.engine) as conn:
                    live = await live_generation(conn, name) or 0
                    known = await generations(conn, name)
                    pending = [g.generation for g in known if g.generation > live]
                    if pending:
                        return max(pending)
                    target = max([live, *(g.generation for g in known)]) + 1
                    await create_generation(conn, name, target, driver.projection.schema_version)
                    return target
            except IntegrityError:
                continue  # another process asked at the same instant: join its request
        raise RuntimeError(f"could not record a rebuild request for {name}")
