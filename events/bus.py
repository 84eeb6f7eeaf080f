"""The broadcast bus: small JSON notices fanned out to every subscriber, in and across processes.

Built on encode/broadcaster's public transport interface (``BroadcastBackend``,
``Event``) with transports of our own (``memory://``, ``postgres://``, ``redis://``)
and our own fan-out, because broadcaster 0.3.1
loses events silently: concurrent first subscribers overwrite each other, its
queues are unbounded, its listener task dies unnoticed and never reconnects,
and its Redis listener stops before SUBSCRIBE completes.

The promise to a subscriber: every payload published after ``subscribe()`` has
entered is delivered, in publish order, unless its iteration ends with an
exception saying it was not:

- :class:`SubscriberOverflow` when it fell ``queue_size`` payloads behind;
- :class:`BusDisconnected` when the transport's listener failed.

Either way the subscription is over and its queued payloads are dropped: the
consumer re-subscribes (which waits until the bus is connected again) and then
re-syncs from the event store, in that order, so nothing falls in between.
Notices are wake-ups, never the record: the store is.

The :class:`Bus` is what publishers and subscribers see: channels, publishing,
and each subscriber's registration. Its transport's listening sessions, their
fan-out and the reconnection are ``events.listener``'s.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final
from urllib.parse import urlparse

import orjson

from events.listener import Listener
from events.subscription import (
    BusDisconnected,
    BusError,
    BusStats,
    SubscriberOverflow,
    Subscription,
)
from events.transports import POSTGRES_SCHEMES, REDIS_SCHEMES, SCHEMES_HELP

__all__ = [
    "EVENTS_CHANNEL", "PROJECTIONS_CHANNEL", "Bus", "BusDisconnected", "BusError", "BusStats",
    "SubscriberOverflow", "Subscription",
]

EVENTS_CHANNEL: Final = "chronicle.events"
"""Store commit notices (:class:`events.model.Notice` as a dict)."""
PROJECTIONS_CHANNEL: Final = "chronicle.projections"
"""Read-model progress and changes, published by the projection runner."""

PUBLISH_TIMEOUT: Final = 5.0
"""A publish never holds a committer longer than this, even if the transport hangs."""

log = logging.getLogger(__name__)


class Bus:
    """Publish/subscribe by channel; one transport subscription per channel, fanned out."""

    def __init__(self, url: str, *, queue_size: int = 1000, name: str | None = None) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        scheme = urlparse(url).scheme
        if scheme not in (*REDIS_SCHEMES, *POSTGRES_SCHEMES, "memory"):
            # Refused here, at start-up wiring, rather than at the first connect.
            raise ValueError(f"unsupported broadcast URL scheme {scheme!r} ({SCHEMES_HELP})")
        self.url = url
        self.queue_size = queue_size
        self.name = name or f"chronicle-{os.getpid()}"
        """Shown to the transport (Redis CLIENT LIST) so operators can tell processes apart."""
        self.stats = BusStats()
        self._subscribers: dict[str, set[Subscription]] = {}
        self._listener = Listener(self.url, self.name, self._subscribers, self.stats)

    @property
    def connected(self) -> bool:
        return self._listener.connected

    async def connect(self) -> None:
        """Connect the transport and start listening; ConnectionError if it is unreachable."""
        await self._listener.start()

    async def disconnect(self) -> None:
        """Stop listening; live subscriptions end cleanly after what they already hold."""
        await self._listener.stop()

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        """Send ``payload`` to every subscriber of ``channel``; failures are logged, not raised.

        Callers publish after they committed: a lost notice only delays consumers,
        who fall back to polling the store, so it must never fail the commit.
        """
        backend = self._listener.transport
        message = orjson.dumps(payload).decode()
        try:
            if backend is None or not self._listener.running:
                raise ConnectionError("bus is not connected")
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await backend.publish(channel, message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.stats.publish_failures += 1
            log.warning("bus: publish on %s failed: %r", channel, exc)
        else:
            self.stats.published += 1

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        """A live subscription: entered only once the transport listens to ``channel``.

        While the transport is down this waits for the reconnection (wrap it in
        ``asyncio.timeout`` to bound that); RuntimeError once the bus is closed.
        """
        if not self._listener.running:
            raise RuntimeError("bus is not connected")
        subscription = Subscription(channel, self.queue_size, self.stats)
        # Registered before the transport subscribes, so nothing published from then on
        # can slip past it; concurrent first subscribers all land in the same set.
        self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            await self._listener.attach(channel)
            subscription.entered = True
            yield subscription
        finally:
            await self._detach(subscription)

    async def _detach(self, subscription: Subscription) -> None:
        channel = subscription.channel
        subscribers = self._subscribers.get(channel)
        if subscribers is not None:
            # It may already be gone (overflowed, interrupted): the channel may still be empty.
            subscribers.discard(subscription)
            if subscribers:
                return
            del self._subscribers[channel]
        await self._listener.detach(channel)
