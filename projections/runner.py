"""The projection runner: one driver per projection, woken by notices, read by the queries.

Each projection is driven by one task (:class:`projections.driver.Driver`)
in the process holding its lease; every other process *follows*: it reads the
live generation and checkpoints from the database (on PROJECTIONS_CHANNEL
notices and on the poll) so ``tables()`` and ``wait_for()`` work everywhere.

The runner is the projections' one entry point for the rest of the service:
their status (``projections.status``) and an operator's rebuild and retry,
which work from any process (``projections.requests``), go through it. Bus
notices wake its drivers (``projections.notices``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from events.bus import EVENTS_CHANNEL, PROJECTIONS_CHANNEL, Bus
from events.contract import EventStore
from projections.collector import CollectorPauses
from projections.dead_letters import DeadLetter, parked
from projections.driver import Driver
from projections.notices import listen
from projections.posts import PostsProjection
from projections.projection import Projection
from projections.requests import Requests, RetryOutcome
from projections.status import ProjectionStatusInfo, statuses
from projections.tables import ReadTables
from projections.users import UsersProjection
from projections.waiting import Progress, wait_at_most

FOLLOWER_REFRESH = 0.05
"""How often a waiting follower re-reads checkpoints when notices are slow to come."""


class UnknownProjection(KeyError):
    """No projection by that name (the API maps it to NOT_FOUND / BAD_USER_INPUT)."""


def default_projections() -> list[Projection]:
    return [UsersProjection(), PostsProjection()]


def read_model_tables() -> frozenset[str]:
    """Every read table's name in its projection (``posts``, ``user_posts`` …), the
    names the notices' ``tables`` use."""
    return frozenset(
        name for p in default_projections() for name in p.tables(MetaData(), "")
    )


class ProjectionRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        bus: Bus,
        *,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        rebuild_batch_size: int | None = None,
        lease_ttl: float = 10.0,
        drop_grace: float = 30.0,
        projections: Sequence[Projection] | None = None,
    ) -> None:
        self._engine = engine
        self._store = store
        self._bus = bus
        self.poll_interval = poll_interval
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._progress = Progress()
        turn = asyncio.Lock()
        collector = CollectorPauses()  # one owner of the GC's pauses for every driver
        self._drivers = {
            p.name: Driver(
                p, engine, store, bus, self._progress,
                turn=turn,
                owner=self.owner,
                batch_size=batch_size,
                rebuild_batch_size=rebuild_batch_size or max(batch_size, 4000),
                poll_interval=poll_interval,
                lease_ttl=lease_ttl,
                drop_grace=drop_grace,
                collector=collector,
            )
            for p in (projections if projections is not None else default_projections())
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._requests = Requests(
            engine, store, bus, self.owner, self._progress, lambda: self.started
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._drivers)

    @property
    def started(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        if self._tasks:
            return
        for driver in self._drivers.values():
            await driver.prepare()  # tables exist once start() returns
        self._tasks = [
            asyncio.create_task(d.run(), name=f"projection:{name}")
            for name, d in self._drivers.items()
        ]
        for channel, task in ((EVENTS_CHANNEL, "proj:events"),
                              (PROJECTIONS_CHANNEL, "proj:notices")):
            listening = listen(self._bus, channel, self.owner, self._drivers)
            self._tasks.append(asyncio.create_task(listening, name=task))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for driver in self._drivers.values():
            await driver.close()

    def positions(self) -> dict[str, int]:
        """What each projection's live generation has applied, as this process knows it
        (no database: the applying process knows exactly, the others catch up)."""
        return {name: d.live.position for name, d in self._drivers.items()}

    async def applied(self, name: str) -> int:
        """What ``name``'s live generation has applied; read afresh from the database
        when another process applies it."""
        driver = self._driver(name)
        if not driver.applying:
            await driver.refresh()
        return driver.live.position

    def tables(self) -> ReadTables:
        """The live generation of every projection, as the queries must read them now."""
        users, posts = self._drivers["users"].live.tables, self._drivers["posts"].live.tables
        return ReadTables(
            users=users["users"], posts=posts["posts"], post_tags=posts["post_tags"],
            post_history=posts["post_history"], post_counts=posts.get("post_counts"),
            comments=posts["comments"],
            likes=posts["likes"],
        )

    def _driver(self, name: str) -> Driver:
        try:
            return self._drivers[name]
        except KeyError:
            raise UnknownProjection(name) from None

    async def wait_for(
        self,
        position: int,
        timeout: float,  # noqa: ASYNC109 - the callers' contract: a bounded wait in seconds
        names: Sequence[str] | None = None,
    ) -> bool:
        """True once every named projection (all by default) has applied ``position``."""
        drivers = [self._driver(n) for n in (names or self.names)]
        deadline = time.monotonic() + timeout
        while True:
            changed = self._progress.next()
            behind = [d for d in drivers if d.live.position < position]
            if not behind:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            followers = [d for d in behind if not d.applying]
            for driver in followers:
                await driver.refresh()
            if followers and all(d.live.position >= position for d in behind):
                return True
            wait = min(remaining, FOLLOWER_REFRESH) if followers else remaining
            await wait_at_most(changed, wait)

    async def statuses(self) -> list[ProjectionStatusInfo]:
        return await statuses(self._engine, self._store, self._drivers.values())

    async def status(self, name: str) -> ProjectionStatusInfo:
        self._driver(name)
        return next(s for s in await self.statuses() if s.name == name)

    async def rebuild(
        self, name: str, progress: Callable[[int, int], None] | None = None
    ) -> ProjectionStatusInfo:
        """Rebuild ``name`` blue/green and return once the new generation is live.

        Raises :class:`UnknownProjection` for an unknown name. Works whether
        or not this process applies the projection (``projections.requests``).
        """
        driver = self._driver(name)
        try:
            await self._requests.rebuild(driver, progress)
            return await self.status(name)
        finally:
            if not self.started:
                await driver.close()  # a claim that failed may still hold a lock session

    async def dead_letters(self, name: str) -> list[DeadLetter]:
        """The events ``name`` parked, every generation's (a rebuild parks in its own)."""
        self._driver(name)
        async with self._engine.connect() as conn:
            return await parked(conn, name)

    async def retry(self, name: str, position: int | None = None,
                    within: float = 60.0) -> RetryOutcome:
        """Re-apply the parked events of ``name`` (all, or the one at ``position`` and those
        held behind it) in log order, and return once the applier has tried them.

        Raises :class:`~projections.requests.NothingParked` when nothing is parked
        at ``position``. Works from any process, like ``rebuild()``: the applier
        carries it out (``projections.retry``), or this process when nobody applies
        ``name`` (``projections.requests``).
        """
        driver = self._driver(name)
        try:
            return await self._requests.retry(driver, position, within)
        finally:
            if not self.started:
                await driver.close()  # a claim that failed may still hold a lock session
