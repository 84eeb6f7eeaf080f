"""One subscriber's end of the bus: a bounded queue, and the errors that end it.

The bus (``events.bus``, whose listener is ``events.listener``) fans each
payload out to the :class:`Subscription` of every subscriber of its channel. A
subscription that falls behind, or whose transport's listener failed, ends
with a :class:`BusError` saying so; its consumer re-subscribes, then re-syncs
from the event store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson

log = logging.getLogger("events.bus")


class BusError(Exception):
    """A subscription ended without delivering everything: re-subscribe, then re-sync."""


class SubscriberOverflow(BusError):
    """The subscriber fell ``queue_size`` payloads behind and was cut off."""


class BusDisconnected(BusError):
    """The transport's listener failed; payloads published meanwhile may be lost."""


@dataclass
class BusStats:
    published: int = 0
    publish_failures: int = 0
    delivered: int = 0
    overflows: int = 0
    disconnects: int = 0
    malformed: int = 0


class Subscription:
    """An async iterator of payload dicts from one channel, with a bounded queue."""

    def __init__(self, channel: str, queue_size: int, stats: BusStats) -> None:
        self.channel = channel
        self._stats = stats
        # None is a wake-up: it makes a waiting consumer look at _failure / _closed.
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)
        self._failure: BusError | None = None
        self._closed = False
        self._over = False
        self.entered = False
        """True once subscribe() returned it: only then is it owed the failure notice."""

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while True:
            if self._over:
                raise StopAsyncIteration
            if self._failure is not None:
                self._over = True
                raise self._failure
            if self._closed and self._queue.empty():
                self._over = True
                raise StopAsyncIteration
            message = await self._queue.get()
            if message is None:
                continue
            try:
                payload = orjson.loads(message)
            except orjson.JSONDecodeError:
                payload = None
            if isinstance(payload, dict):
                return payload
            # A foreign publisher on our channel must not end our consumers.
            self._stats.malformed += 1
            log.warning("bus: dropped a malformed payload on %s", self.channel)

    def deliver(self, message: str) -> bool:
        """Queue one message; False when the subscriber overflowed (and is now failed)."""
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self._stats.overflows += 1
            log.warning("bus: subscriber on %s overflowed; it must re-sync", self.channel)
            self.fail(SubscriberOverflow(f"subscriber on {self.channel} fell behind"))
            return False
        self._stats.delivered += 1
        return True

    def fail(self, error: BusError) -> None:
        """End the iteration with ``error``; queued payloads are dropped (the store has them)."""
        if self._failure is None and not self._over:
            self._failure = error
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def close(self) -> None:
        """End the iteration cleanly after what is already queued (the bus is shutting down)."""
        self._closed = True
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)
