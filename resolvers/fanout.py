"""One producer per process, many listeners: the shared half of every live subscription.

A :class:`Fanout` runs one producer task (a follower of the log, or of the
read model's notices) for as long as anybody listens, and hands each item it
publishes to every :class:`Listener`. The work behind an item is done once,
whatever the number of listeners; items are shared, never copied.

Every listener has a bounded queue. One that falls ``queue_size`` items
behind (a client that stopped reading) is dropped from the shared stream: its
queue is emptied at once, so it holds no memory for the others, and its next
read raises :class:`Lagged`. Its subscription then catches up from the store
on its own, from the last position it delivered, and listens again.

The producer is supervised: when it fails it is logged and restarted after a
short pause. Items published while it was down are simply missing from the
stream; every consumer checks positions and fills a gap from the store, so a
restart delays deliveries but loses none (see ``resolvers.live``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

RESTART_DELAYS = (0.05, 2.0)
"""First and longest pause before a failed producer runs again (doubling in between)."""


async def joined(shared: asyncio.Future[T]) -> T:
    """The outcome of work several subscribers wait for, shielded: one of them leaving
    must not cancel it for the others. Once it is done (for every subscriber after the
    first, most of the time) it is handed over without a shield."""
    if shared.done():
        return shared.result()
    return await asyncio.shield(shared)


class Lagged(Exception):
    """The listener fell behind and was dropped from the shared stream: catch up, then listen."""


class Listener(Generic[T]):
    """One subscriber's bounded view of the shared stream.

    Kept small, since a process holds one per live subscriber: a list rather
    than a deque and one future while waiting rather than an asyncio.Event
    (each of those starts with a block of 64 slots).
    """

    __slots__ = ("_items", "_size", "_waiter", "lagged")

    def __init__(self, queue_size: int) -> None:
        self._items: list[T] = []
        self._size = queue_size
        self._waiter: asyncio.Future[None] | None = None
        self.lagged = False

    def offer(self, item: T) -> bool:
        """Queue ``item``; False (and dropped from the stream) when the queue is full."""
        if self.lagged:
            return False
        if len(self._items) >= self._size:
            self.lagged = True
            self._items = []  # the store has them: hold nothing for a reader that is away
            self._wake()
            return False
        self._items.append(item)
        self._wake()
        return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> T:
        """The next item; :class:`Lagged` once the listener was dropped."""
        while not self._items:
            if self.lagged:
                raise Lagged
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)  # a few items at most, unless the reader is lagging

    def pending(self) -> int:
        return len(self._items)


Producer = Callable[["Fanout[T]"], Awaitable[None]]


class Fanout(Generic[T]):
    """Runs ``produce(self)`` while at least one listener listens; see the module docstring."""

    def __init__(
        self, name: str, produce: Producer[T], *, queue_size: int = 256,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.name = name
        self.queue_size = queue_size
        self._produce = produce
        self._on_start = on_start
        """Called as a new producer task is created, before any listener can see it."""
        self._listeners: set[Listener[T]] = set()
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0
        self.lagged = 0
        """Listeners dropped for falling behind, since start (for tests and metrics)."""

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[Listener[T]]:
        """A listener that receives every item published from now on, until it lags."""
        listener: Listener[T] = Listener(self.queue_size)
        self._listeners.add(listener)
        if self._task is None or self._task.done():
            if self._on_start is not None:
                self._on_start()
            self._task = asyncio.create_task(self._supervise(), name=f"fanout:{self.name}")
        try:
            yield listener
        finally:
            self._listeners.discard(listener)
            if not self._listeners:
                await self._stop()

    def publish(self, item: T) -> None:
        """Hand ``item`` to every listener; those that are full are dropped from the stream."""
        dropped = [listener for listener in self._listeners if not listener.offer(item)]
        for listener in dropped:
            self._listeners.discard(listener)
            self.lagged += 1
        if dropped:
            log.warning("%s: %d listener(s) fell behind; they catch up from the store",
                        self.name, len(dropped))

    async def close(self) -> None:
        """Stop the producer (the server is stopping); listeners stop hearing anything."""
        await self._stop()

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is None or task is asyncio.current_task():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _supervise(self) -> None:
        delay = RESTART_DELAYS[0]
        while True:
            try:
                await self._produce(self)
                return
            except Exception:
                self.restarts += 1
                log.exception("%s: producer failed; restarting in %.2fs", self.name, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESTART_DELAYS[1])
