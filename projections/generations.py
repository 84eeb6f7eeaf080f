"""A projection's generations as one process sees them: the live one and a rebuild in progress.

Rebuilds are blue/green (``projections.tables``): a rebuild fills a newer
generation while the live one keeps being served, then the newer one is made
live in one transaction and the old one dropped after a grace period, so
readers that took its tables just before the swap can finish.

:class:`Generations` loads that state from the database, for the process
applying the projection (:meth:`Generations.setup`, :meth:`Generations.discover`)
and for those following it (:meth:`Generations.refresh`), and carries out the
swap and the drops. What to apply and when is the driver's (``projections.driver``).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from projections.batches import GenerationTables
from projections.bookkeeping import (
    Generation,
    create_generation,
    forget_generation,
    generations,
    live_generation,
    make_live,
)
from projections.dead_letters import blocked, forget, summary
from projections.projection import Projection
from projections.transactions import writing

log = logging.getLogger(__name__)


class Generations:
    def __init__(
        self,
        projection: Projection,
        engine: AsyncEngine,
        *,
        turn: asyncio.Lock,
        drop_grace: float,
    ) -> None:
        self.projection = projection
        self._engine = engine
        self._turn = turn
        self._drop_grace = drop_grace
        self._tables: dict[int, GenerationTables] = {}
        self._drops: set[asyncio.Task[None]] = set()
        self.live = self.tables(1)
        self.rebuild: GenerationTables | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    def tables(self, generation: int, schema_version: int | None = None) -> GenerationTables:
        """Cached, so the Table objects handed to readers stay the same objects.

        ``schema_version``: the one the generation was recorded with, when known
        (None: this code's); an older one gets its tables in their older shape.
        """
        version = schema_version or self.projection.schema_version
        found = self._tables.get(generation)
        if found is None or found.schema_version != version:
            found = GenerationTables.of(self.projection, generation, schema_version=version)
            self._tables[generation] = found
        return found

    async def setup(self) -> None:
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
            live = self.tables(live_gen, _version(known, live_gen))
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
                rebuild = self.tables(pending[-1])
                rebuild.position = known[pending[-1]].position if pending[-1] in known else 0
                await rebuild.create(conn)
            for filled in (live, rebuild):
                if filled is not None:
                    await _load_parked(conn, filled)
        for generation in stale:
            await self._drop(self.tables(generation, _version(known, generation)))
        self.live, self.rebuild = live, rebuild

    async def discover(self) -> None:
        """A rebuild requested by another process (or by the runner's ``rebuild()`` here)."""
        async with self._engine.connect() as conn:
            known = await generations(conn, self.name)
        pending = [g for g in known if g.generation > self.live.generation]
        if not pending:
            return
        newest = pending[-1]
        target = self.tables(newest.generation, newest.schema_version)
        target.position = newest.position
        async with writing(self._engine) as conn:
            await target.create(conn)
            await _load_parked(conn, target)
        self.rebuild = target
        log.info("projection %s: rebuilding into generation %d", self.name, target.generation)

    async def refresh(self) -> bool:
        """Follow the applying process: live generation and positions from the database.

        True when the live generation or its position moved.
        """
        async with self._engine.connect() as conn:
            live_gen = await live_generation(conn, self.name)
            known = await generations(conn, self.name) if live_gen is not None else []
        if live_gen is None:
            return False
        positions = {g.generation: g.position for g in known}
        recorded = {g.generation: g for g in known}
        live = self.tables(live_gen, _version(recorded, live_gen))
        pending = [g for g in positions if g > live_gen]
        rebuild = None
        if pending:
            rebuild = self.tables(max(pending), _version(recorded, max(pending)))
        if rebuild is not None:
            rebuild.position = positions[rebuild.generation]
        moved = live is not self.live or positions.get(live_gen, 0) != live.position
        live.position = positions.get(live_gen, 0)
        self.live, self.rebuild = live, rebuild
        return moved

    async def swap(self, target: GenerationTables) -> None:
        """Make ``target`` live; the old live generation is dropped after the grace."""
        async with writing(self._engine, self._turn) as conn:
            # In the swap's transaction: the generation goes live with its indexes or not at all.
            await target.create_indexes(conn)
            await make_live(conn, self.name, target.generation)
        old, self.live, self.rebuild = self.live, target, None
        log.info("projection %s: generation %d is live", self.name, target.generation)
        task = asyncio.create_task(self._drop_later(old))
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    def close(self) -> None:
        for task in list(self._drops):
            task.cancel()  # the next holder drops leftover generations on setup

    async def _drop_later(self, old: GenerationTables) -> None:
        """Readers that took the old tables just before the swap finish within the grace."""
        await asyncio.sleep(self._drop_grace)
        await self._drop(old)

    async def _drop(self, old: GenerationTables) -> None:
        async with writing(self._engine) as conn:
            await conn.run_sync(old.metadata.drop_all)
            await forget_generation(conn, self.name, old.generation)
            await forget(conn, self.name, old.generation)
        self._tables.pop(old.generation, None)


def _version(known: dict[int, Generation], generation: int) -> int | None:
    """The schema version ``generation`` was recorded with (None if unrecorded)."""
    found = known.get(generation)
    return found.schema_version if found is not None else None


async def _load_parked(conn: AsyncConnection, target: GenerationTables) -> None:
    """What ``target`` has parked, as its dead letters say."""
    name = target.projection.name
    target.blocked = await blocked(conn, name, target.generation)
    target.parked = (await summary(conn, name, target.generation)).parked
