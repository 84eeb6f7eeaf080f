"""One projection's life in one process: apply it while holding its lease, follow it otherwise.

Events it cannot apply are parked, and retried on request, as
``projections.parking`` and ``projections.retry`` describe.

The applying side catches up from the checkpoint in batches, then waits for a
wake-up (a bus notice) or the poll, whichever comes first: a lost notice
delays, it never loses work. A rebuild fills the next generation a batch at a
time between live batches, so the live generation keeps being updated and
served, and is swapped in once it has caught up with the live one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.bus import PROJECTIONS_CHANNEL, Bus
from events.model import EventStore
from projections.batches import (
    Applied,
    Batch,
    GenerationTables,
    apply_batch,
    next_span,
    read_batch,
)
from projections.bookkeeping import (
    CheckpointMoved,
    Generation,
    create_generation,
    forget_generation,
    generations,
    live_generation,
    make_live,
)
from projections.collector import collector_paused, pause
from projections.dead_letters import blocked, forget, summary
from projections.lease import lease_for
from projections.projection import Change, Projection
from projections.retry import Retried, retry_requested
from projections.transactions import writing
from projections.waiting import Progress, result_or_none, wait_at_most

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
        self._drop_grace = drop_grace
        self.lease = lease_for(engine, projection.name, owner, lease_ttl)
        self._generations: dict[int, GenerationTables] = {}
        self.live = self._generation(1)
        self.rebuild: GenerationTables | None = None
        self.caught_up = False
        self.last_error: str | None = None
        self._ready = False
        self._steps = 0
        self._wake = asyncio.Event()
        self.retry_wanted = False  # a retry of parked events was asked for
        self._drops: set[asyncio.Task[None]] = set()
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

    def wake(self) -> None:
        self._wake.set()

    def _generation(self, generation: int, schema_version: int | None = None) -> GenerationTables:
        """Cached, so the Table objects handed to readers stay the same objects.

        ``schema_version``: the one the generation was recorded with, when known
        (None: this code's); an older one gets its tables in their older shape.
        """
        version = schema_version or self.projection.schema_version
        found = self._generations.get(generation)
        if found is None or found.schema_version != version:
            found = GenerationTables.of(self.projection, generation, schema_version=version)
            self._generations[generation] = found
        return found

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
        for task in list(self._drops):
            task.cancel()  # the next holder drops leftover generations on setup
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
        applied = await self._advance(self.live, limit, relaxed=catching_up)
        if applied.position != before:
            self._progress.notify()
            await self._publish(applied.position, applied.changes)
        self.caught_up = self.caught_up or applied.caught_up
        busy = not applied.caught_up
        discover = applied.events == 0 or self._steps % DISCOVER_EVERY == 0
        if self.rebuild is None and discover:
            await self._discover_rebuild()
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
        with collector_paused(relaxed):
            batch = await self._take_read_ahead(target.generation)
            if batch is None or batch.after != target.position:
                batch = await read_batch(self._store, self.projection, target.position, limit)
            if not batch.caught_up:
                release = pause() if relaxed else _nothing
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
        done = await retry_requested(self._engine, self._store, self.live, self._turn)
        if done.applied or done.failed:
            self._progress.notify()
            await self._publish(self.live.position, done.changes)
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
        async with writing(self._engine, self._turn) as conn:
            # In the swap's transaction: the generation goes live with its indexes or not at all.
            await target.create_indexes(conn)
            await make_live(conn, self.name, target.generation)
        old, self.live, self.rebuild = self.live, target, None
        self.caught_up = True
        log.info("projection %s: generation %d is live", self.name, target.generation)
        self._progress.notify()
        await self._publish(target.position, [])
        task = asyncio.create_task(self._drop_later(old))
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    async def _drop_later(self, old: GenerationTables) -> None:
        """Readers that took the old tables just before the swap finish within the grace."""
        await asyncio.sleep(self._drop_grace)
        await self._drop(old)

    async def _drop(self, old: GenerationTables) -> None:
        async with writing(self._engine) as conn:
            await conn.run_sync(old.metadata.drop_all)
            await forget_generation(conn, self.name, old.generation)
            await forget(conn, self.name, old.generation)
        self._generations.pop(old.generation, None)

    async def _publish(self, position: int, changes: list[Change]) -> None:
        await self._bus.publish(PROJECTIONS_CHANNEL, {
            "projection": self.name, "generation": self.live.generation,
            "position": position, "changes": changes, "owner": self._owner,
        })

    # --- state from the database ---------------------------------------------

    async def _setup(self) -> None:
        """Load (or create) the live generation, resume a rebuild, clean up old generations."""
        p = self.projection
        async with writing(self._engine) as conn:
            live_gen = await live_generation(conn, self.name)
            known = {g.generation: g for g in await generations(conn, self.name)}
            if live_gen is None:
                live_gen = min(known) if known else 1
                if live_gen not in known:
                    await create_generation(conn, self.name, live_gen, p.schema_version)
                await make_live(conn, self.name, live_gen)
            live = self._generation(live_gen, _version(known, live_gen))
            live.position = known[live_gen].position if live_gen in known else 0
            await live.create(conn)
            newer = sorted(g for g in known if g > live_gen)
            # A rebuild begun by older code has the old shape: start it over.
            pending = [g for g in newer if known[g].schema_version == p.schema_version]
            outdated = [g for g in newer if g not in pending]
            shape = known[live_gen].schema_version if live_gen in known else p.schema_version
            if not pending and shape != p.schema_version:
                # The code's table shape moved on: rebuild into the new shape.
                target = max(known) + 1  # above any outdated one
                await create_generation(conn, self.name, target, p.schema_version)
                pending = [target]
                log.info("projection %s: schema %d -> %d, rebuilding", self.name, shape,
                         p.schema_version)
            stale = [g for g in known if g < live_gen] + outdated + pending[:-1]
            rebuild = None
            if pending:
                rebuild = self._generation(pending[-1])
                rebuild.position = known[pending[-1]].position if pending[-1] in known else 0
                await rebuild.create(conn)
            for filled in (live, rebuild):
                if filled is not None:
                    await _load_parked(conn, filled)
        for generation in stale:
            await self._drop(self._generation(generation, _version(known, generation)))
        self.live, self.rebuild = live, rebuild
        self.caught_up = False
        self._ready = True
        self._progress.notify()

    async def _discover_rebuild(self) -> None:
        """A rebuild requested by another process (or by ``rebuild()`` here)."""
        async with self._engine.connect() as conn:
            known = await generations(conn, self.name)
        pending = [g for g in known if g.generation > self.live.generation]
        if not pending:
            return
        newest = pending[-1]
        target = self._generation(newest.generation, newest.schema_version)
        target.position = newest.position
        async with writing(self._engine) as conn:
            await target.create(conn)
            await _load_parked(conn, target)
        self.rebuild = target
        log.info("projection %s: rebuilding into generation %d", self.name, target.generation)

    async def refresh(self) -> None:
        """Follow the applying process: live generation and positions from the database."""
        async with self._engine.connect() as conn:
            live_gen = await live_generation(conn, self.name)
            known = await generations(conn, self.name) if live_gen is not None else []
        if live_gen is None:
            return
        positions = {g.generation: g.position for g in known}
        recorded = {g.generation: g for g in known}
        live = self._generation(live_gen, _version(recorded, live_gen))
        pending = [g for g in positions if g > live_gen]
        rebuild = None
        if pending:
            rebuild = self._generation(max(pending), _version(recorded, max(pending)))
        if rebuild is not None:
            rebuild.position = positions[rebuild.generation]
        moved = live is not self.live or positions.get(live_gen, 0) != live.position
        live.position = positions.get(live_gen, 0)
        self.live, self.rebuild = live, rebuild
        if moved:
            self._progress.notify()


def _version(known: dict[int, Generation], generation: int) -> int | None:
    """The schema version ``generation`` was recorded with (None if unrecorded)."""
    found = known.get(generation)
    return found.schema_version if found is not None else None


async def _load_parked(conn: AsyncConnection, target: GenerationTables) -> None:
    """What ``target`` has parked, as its dead letters say."""
    name = target.projection.name
    target.blocked = await blocked(conn, name, target.generation)
    target.parked = (await summary(conn, name, target.generation)).parked


def _nothing() -> None:
    """The release of a read-ahead that paused nothing."""
