"""One projection's life in one process: apply it while holding its lease, follow it otherwise.

Events it cannot apply are parked, and retried on request, as
``projections.parking`` and ``projections.retry`` describe. Which generations
exist, and the swap of a rebuilt one, are ``projections.generations``'.

The applying side catches up from the checkpoint in batches, then waits for a
wake-up (a bus notice) or the poll, whichever comes first: a lost notice
delays, it never loses work. A rebuild fills the next generation a batch at a
time between live batches, so the live generation keeps being updated and
served, and is swapped in once it has caught up with the live one.

Every applied batch is announced on ``PROJECTIONS_CHANNEL`` with its position,
its row ``changes`` (the live feeds') and the ``tables`` it wrote, by their
names in the projection, as :class:`~projections.writes.Writes` noted
them. A notice without ``tables`` (a swapped generation, a write of unknown
table) may have changed anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from events.bus import PROJECTIONS_CHANNEL, Bus
from events.contract import EventStore
from projections.batches import (
    Applied,
    Batch,
    GenerationTables,
    apply_batch,
    next_span,
    read_batch,
)
from projections.bookkeeping import CheckpointMoved
from projections.collector import CollectorPauses
from projections.generations import Generations
from projections.lease import lease_for
from projections.projection import Change, Projection
from projections.retry import Retried, retry_requested
from projections.waiting import Progress, result_or_none, wait_at_most
from projections.writes import recording_writes

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
DISCOVER_EVERY = 20
"""While busy, look for rebuild requests from other processes every this many steps."""


class Driver:
    def __init__(
        self,
        projection: Projection,
        engine: AsyncEngine,
        store: EventStore,
        bus: Bus,
        progress: Progress,
        *,
        turn: asyncio.Lock,
        owner: str,
        batch_size: int,
        rebuild_batch_size: int,
        poll_interval: float,
        lease_ttl: float,
        drop_grace: float,
        collector: CollectorPauses,
    ) -> None:
        self.projection = projection
        self._engine = engine
        self._store = store
        self._bus = bus
        self._progress = progress
        self._turn = turn
        """Shared by the projections of this process: one writes to SQLite at a time."""
        self._owner = owner
        self._batch_size = batch_size
        self._rebuild_batch_size = rebuild_batch_size
        self._poll_interval = poll_interval
        self._collector = collector
        self.lease = lease_for(engine, projection.name, owner, lease_ttl)
        self.generations = Generations(projection, engine, turn=turn, drop_grace=drop_grace)
        self.caught_up = False
        self.last_error: str | None = None
        self._ready = False
        self._steps = 0
        self._wake = asyncio.Event()
        self.retry_wanted = False  # a retry of parked events was asked for
        self._read_ahead: dict[int, tuple[asyncio.Task[Batch], Callable[[], None]]] = {}
        """Per generation, the next batch being read while the current one is written,
        and the end of the collector pause it holds until taken."""

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def applying(self) -> bool:
        """This process holds the lease and has loaded the projection's state."""
        return self.lease.held and self._ready

    @property
    def live(self) -> GenerationTables:
        """The generation being served."""
        return self.generations.live

    @property
    def rebuild(self) -> GenerationTables | None:
        """The generation being rebuilt, if any."""
        return self.generations.rebuild

    def wake(self) -> None:
        self._wake.set()

    # --- the loop -----------------------------------------------------------

    async def run(self) -> None:
        backoff = 0.0
        while True:
            try:
                busy = await self.step_once()
                if self.last_error is not None:
                    log.info("projection %s recovered", self.name)
                self.last_error = None
                backoff = 0.0
            except asyncio.CancelledError:
                raise
            except CheckpointMoved as moved:
                # Another process applied the batch (our lease had lapsed): follow it.
                log.warning("projection %s: %s", self.name, moved)
                self._ready = False
                busy = False
            except Exception as exc:
                self.last_error = str(exc) or type(exc).__name__
                log.exception("projection %s failed; retrying", self.name)
                self._ready = False  # reload positions: the failed batch rolled back
                self._progress.notify()
                backoff = min(MAX_BACKOFF, max(0.1, backoff * 2))
                await asyncio.sleep(backoff)
                continue
            if not busy:
                await self._idle()

    async def step_once(self) -> bool:
        """One round: claim or renew the lease, then apply; True when more work is waiting."""
        if (not self.lease.held or self.lease.due()) and not await self.claim():
            await self.refresh()
            return False
        if not self._ready:
            await self._setup()
        return await self._step()

    async def prepare(self) -> None:
        """Before the loop: take the lease and set up if free, else follow whoever has it."""
        if await self.claim():
            await self._setup()
        else:
            await self.refresh()

    async def claim(self) -> bool:
        held = await self.lease.claim()
        if not held:
            self._ready = False
        return held

    async def _idle(self) -> None:
        timeout = self._poll_interval
        if self.lease.held:
            timeout = min(timeout, self.lease.ttl_ms / 3000)
        await wait_at_most(self._wake, timeout)
        self._wake.clear()

    async def close(self) -> None:
        for reading, release in self._read_ahead.values():
            reading.cancel()
            release()
        self._read_ahead.clear()
        self.generations.close()
        self._ready = False
        await self.lease.release()

    # --- applying -----------------------------------------------------------

    async def _step(self) -> bool:
        self._steps += 1
        before = self.live.position
        # Far behind (first start, long outage), batches as large as a rebuild's, and
        # commits without fsync: nothing served has caught up yet (see ``writing``).
        catching_up = not self.caught_up
        limit = self._rebuild_batch_size if catching_up else self._batch_size
        with recording_writes() as written:
            applied = await self._advance(self.live, limit, relaxed=catching_up)
        if applied.position != before:
            self._progress.notify()
            await self._publish(applied.position, applied.changes, self.live.changed(written))
        self.caught_up = self.caught_up or applied.caught_up
        busy = not applied.caught_up
        discover = applied.events == 0 or self._steps % DISCOVER_EVERY == 0
        if self.rebuild is None and discover:
            await self.generations.discover()
        # Only this process parks its events: with none parked, there is nothing to retry.
        if self.retry_wanted or (discover and self.live.parked):
            await self.retry_parked()
        if self.rebuild is not None:
            filled = await self._fill_rebuild(self.rebuild)
            busy = busy or filled
        return busy

    async def _fill_rebuild(self, target: GenerationTables) -> bool:
        """One batch into the next generation; swap when it has caught up. True if not done."""
        # Not served yet: durability per batch buys nothing (see ``writing``).
        applied = await self._advance(target, self._rebuild_batch_size, relaxed=True)
        self._progress.notify()
        if applied.caught_up and target.position >= self.live.position:
            await self._swap(target)
            return False
        return True

    async def _advance(self, target: GenerationTables, limit: int, *, relaxed: bool) -> Applied:
        """Apply the next batch to ``target``; while behind, read the one after meanwhile.

        Decoding the next events in Python overlaps the database's work on
        this batch. A read-ahead that no longer fits (a batch failed) is dropped.
        """
        # Large batches (relaxed: rebuilding or far behind) go without the cyclic GC
        # (see ``projections.collector``); a read-ahead keeps it paused until it is
        # taken, so back-to-back batches never meet a collection.
        with self._collector.paused(relaxed):
            batch = await self._take_read_ahead(target.generation)
            if batch is None or batch.after != target.position:
                batch = await read_batch(self._store, self.projection, target.position, limit)
            if not batch.caught_up:
                release = self._collector.pause() if relaxed else _nothing
                task = asyncio.create_task(read_batch(
                    self._store, self.projection, batch.position, limit, next_span(batch, limit)
                ))
                self._read_ahead[target.generation] = (task, release)
            applied = await apply_batch(self._engine, target, batch, self._turn, relaxed=relaxed)
            del batch  # freed now, before the collector resumes, so it never traverses it
        return applied

    async def retry_parked(self) -> Retried:
        """Carry out the retries of parked events asked for (``projections.retry``)."""
        self.retry_wanted = False
        with recording_writes() as written:
            done = await retry_requested(self._engine, self._store, self.live, self._turn)
        if done.applied or done.failed:
            self._progress.notify()
            await self._publish(self.live.position, done.changes, self.live.changed(written))
        return done

    async def _take_read_ahead(self, generation: int) -> Batch | None:
        ahead = self._read_ahead.pop(generation, None)
        if ahead is None:
            return None
        task, release = ahead
        try:
            return await result_or_none(task)
        finally:
            release()

    async def _swap(self, target: GenerationTables) -> None:
        await self.generations.swap(target)
        self.caught_up = True
        self._progress.notify()
        await self._publish(target.position, [], None)  # a new generation: anything changed

    async def _publish(self, position: int, changes: list[Change], tables: list[str] | None
                       ) -> None:
        notice: dict[str, object] = {
            "projection": self.name, "generation": self.live.generation,
            "position": position, "changes": changes, "owner": self._owner,
        }
        if tables is not None:
            notice["tables"] = tables
        await self._bus.publish(PROJECTIONS_CHANNEL, notice)

    # --- state from the database ---------------------------------------------

    async def _setup(self) -> None:
        """Load (or create) the live generation, resume a rebuild, clean up old generations."""
        await self.generations.setup()
        self.caught_up = False
        self._ready = True
        self._progress.notify()

    async def refresh(self) -> None:
        """Follow the applying process: live generation and positions from the database."""
        if await self.generations.refresh():
            self._progress.notify()


def _nothing() -> None:
    """The release of a read-ahead that paused nothing."""
