"""The one follower of the log per process: Subscription.events' shared half.

It reads each commit once, woken by the store's notices (EVENTS_CHANNEL) with
a slow poll as the fallback, and publishes what it read as a
:class:`SharedBatch` to every subscriber through a :class:`Fanout`. A batch
carries the position it was read ``after``, so a subscriber can tell a batch
that continues its stream from one past a gap (the follower restarted, or
started after the subscriber's own catch-up), and fills a gap from the store.

Decoding happened once, in the follower's read. Redaction happens once per
event and visibility class (owner view: admins and the event's subject;
everybody else), and the read-model facts that decide which events a member
may see are looked up once per batch, for every member subscriber of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domain.ports import Actor
from events.bus import EVENTS_CHANNEL, BusError
from events.model import RecordedEvent
from resolvers.consistency import wait_for_position
from resolvers.fanout import Fanout, joined
from resolvers.redaction import ServedEvent, sees_owner_fields, serve_as
from resolvers.visibility import Facts, learn, visible

if TYPE_CHECKING:
    from events.bus import Bus
    from events.store import SqlEventStore
    from resolvers.context import Services

BATCH = 500
NOBODY = "\x00"
"""A member id and username no member has (both refuse control characters): what it
may see, every member may see, since no rule for an event's own member applies to it."""
SUBSCRIBE_WAIT = 5.0
"""How long the follower waits for its bus subscription before it reads anyway."""


@dataclass(eq=False)
class SharedBatch:
    """Events the follower read after position ``after``, shared by every subscriber."""

    after: int
    events: tuple[RecordedEvent, ...]
    _facts: asyncio.Future[Facts] | None = field(default=None, repr=False)
    _served: dict[tuple[int, bool], ServedEvent] = field(default_factory=dict, repr=False)
    _public: set[int] | None = field(default=None, repr=False)
    """Positions of the events every member may see, judged once for all of them."""

    @property
    def last(self) -> int:
        return self.events[-1].position

    def served(self, event: RecordedEvent, owner_view: bool) -> ServedEvent:
        key = (event.position, owner_view)
        found = self._served.get(key)
        if found is None:
            found = self._served[key] = serve_as(event, owner_view=owner_view)
        return found

    async def facts(self, services: Services) -> Facts:
        """The read model's facts about this batch, looked up once for every member."""
        if self._facts is None:
            self._facts = asyncio.ensure_future(self._learn(services))
        return await joined(self._facts)

    async def _learn(self, services: Services) -> Facts:
        # A live subscriber hears of a commit before the projections apply it:
        # judge visibility only once they have (see resolvers.visibility).
        await wait_for_position(services, self.last)
        facts = Facts()
        await learn(services, self.events, facts)
        return facts

    async def visible_to(
        self, services: Services, actor: Actor, username: str,
        events: Sequence[RecordedEvent],
    ) -> list[ServedEvent]:
        """``events`` (of this batch) that ``actor`` may see, as served to their class."""
        if actor.is_admin:
            return [self.served(e, True) for e in events]
        facts = await self.facts(services)
        public = self._public
        if public is None:
            public = self._public = {
                e.position for e in self.events if visible(e, NOBODY, NOBODY, facts)
            }
        return [
            self.served(e, sees_owner_fields(e, actor))
            for e in events
            if e.position in public or visible(e, actor.user_id, username, facts)
        ]


class LogFollower:
    """Reads the log once per process for every Subscription.events of it."""

    def __init__(
        self, store: SqlEventStore, bus: Bus, *, poll_interval: float = 1.0,
        queue_size: int = 256,
    ) -> None:
        self._store = store
        self._bus = bus
        self._poll = poll_interval
        self.fanout: Fanout[SharedBatch] = Fanout("log follower", self._follow,
                                                  queue_size=queue_size)
        self.reads = 0
        """Store reads made by the follower (tests count them)."""

    async def _follow(self, fanout: Fanout[SharedBatch]) -> None:
        wake, listening = asyncio.Event(), asyncio.Event()
        notices = asyncio.create_task(self._listen(wake, listening), name="log follower notices")
        try:
            # Listening before reading the head: a commit after it is announced.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SUBSCRIBE_WAIT):
                    await listening.wait()
            position = await self._store.head_position()
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await wake.wait()
                wake.clear()
                position = await self._read(fanout, position)
        finally:
            notices.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notices

    async def _read(self, fanout: Fanout[SharedBatch], position: int) -> int:
        """Publish everything committed after ``position``; the new position."""
        while True:
            events = await self._store.read_all(after=position, limit=BATCH)
            self.reads += 1
            if not events:
                return position
            fanout.publish(SharedBatch(position, tuple(events)))
            position = events[-1].position
            if len(events) < BATCH:
                return position

    async def _listen(self, wake: asyncio.Event, listening: asyncio.Event) -> None:
        """Turn notices into wake-ups; a lost notice only waits for the poll."""
        while True:
            try:
                async with self._bus.subscribe(EVENTS_CHANNEL) as notices:
                    listening.set()
                    wake.set()  # anything committed before we listened
                    async for _ in notices:
                        wake.set()
                return  # the bus closed cleanly: polling carries on alone
            except BusError:
                wake.set()
            except RuntimeError:
                return  # the bus is closed: the server is stopping
