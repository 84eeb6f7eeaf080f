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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final
from urllib.parse import urlparse

import orjson
from broadcaster import BroadcastBackend

from events.subscription import (
    BusDisconnected,
    BusError,
    BusStats,
    SubscriberOverflow,
    Subscription,
)
from events.transports import (
    POSTGRES_SCHEMES,
    REDIS_SCHEMES,
    SCHEMES_HELP,
    RedisTransport,
    transport_for,
)

__all__ = [
    "EVENTS_CHANNEL", "PROJECTIONS_CHANNEL", "Bus", "BusDisconnected", "BusError", "BusStats",
    "SubscriberOverflow", "Subscription",
]

EVENTS_CHANNEL: Final = "chronicle.events"
"""Store commit notices (:class:`events.model.Notice` as a dict)."""
PROJECTIONS_CHANNEL: Final = "chronicle.projections"
"""Read-model progress and changes, published by the projection runner."""

RECONNECT_DELAYS: Final = (0.05, 5.0)
"""First and longest wait between reconnection attempts (doubling in between)."""
SUBSCRIBE_TIMEOUT: Final = 10.0
PUBLISH_TIMEOUT: Final = 5.0
"""A publish never holds a committer longer than this, even if the transport hangs."""

log = logging.getLogger(__name__)


class Bus:
    """Publish/subscribe by channel; one transport subscription per channel, fanned out here."""

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
        self._subscribed: set[str] = set()
        """Channels the transport is subscribed to in the current session."""
        self._backend: BroadcastBackend | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None
        self._live: asyncio.Event | None = None
        self._broken: asyncio.Future[None] | None = None

    @property
    def connected(self) -> bool:
        return self._supervisor is not None and self._live is not None and self._live.is_set()

    async def connect(self) -> None:
        """Connect the transport and start listening; ConnectionError if it is unreachable."""
        if self._supervisor is not None:
            raise RuntimeError("bus already connected")
        self._lock = asyncio.Lock()
        self._live = asyncio.Event()
        self._backend = transport_for(self.url, self.name)
        try:
            await self._backend.connect()
        except Exception as exc:
            with contextlib.suppress(Exception):
                await self._close_transport()
            # At start-up a missing Redis/PostgreSQL is a configuration error: fail loudly.
            raise ConnectionError(f"bus: cannot reach {self._safe_url()}: {exc}") from exc
        self._supervisor = asyncio.create_task(self._supervise(), name=f"bus:{self.name}")
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                await self._live.wait()
        except TimeoutError:
            await self.disconnect()
            raise ConnectionError(f"bus: {self._safe_url()} connected but never listened") from None

    async def disconnect(self) -> None:
        """Stop listening; live subscriptions end cleanly after what they already hold."""
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is None:
            return
        supervisor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await supervisor
        # Wakes subscribe() calls still waiting for a session: they see the bus closed.
        assert self._live is not None
        self._live.set()
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.close()
        self._subscribers.clear()
        await self._close_transport()

    async def _close_transport(self) -> None:
        """Close what outlives a listening session (the Redis publishing client)."""
        if isinstance(self._backend, RedisTransport):
            await self._backend.close()

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        """Send ``payload`` to every subscriber of ``channel``; failures are logged, not raised.

        Callers publish after they committed: a lost notice only delays consumers,
        who fall back to polling the store, so it must never fail the commit.
        """
        backend = self._backend
        message = orjson.dumps(payload).decode()
        try:
            if backend is None or self._supervisor is None:
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
        if self._supervisor is None:
            raise RuntimeError("bus is not connected")
        subscription = Subscription(channel, self.queue_size, self.stats)
        # Registered before the transport subscribes, so nothing published from then on
        # can slip past it; concurrent first subscribers all land in the same set.
        self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            await self._attach(channel)
            subscription.entered = True
            yield subscription
        finally:
            await self._detach(subscription)

    async def _attach(self, channel: str) -> None:
        assert self._live is not None and self._lock is not None
        while True:
            await self._live.wait()
            if self._supervisor is None:
                raise RuntimeError("bus is closed")
            async with self._lock:
                if not self._live.is_set():
                    continue
                if channel in self._subscribed:
                    return
                assert self._backend is not None
                try:
                    async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                        await self._backend.subscribe(channel)
                except Exception as exc:
                    log.warning("bus: subscribing to %s failed: %r", channel, exc)
                    self._break(exc)
                    continue
                self._subscribed.add(channel)
                return

    async def _detach(self, subscription: Subscription) -> None:
        channel = subscription.channel
        subscribers = self._subscribers.get(channel)
        if subscribers is not None:
            # It may already be gone (overflowed, interrupted): the channel may still be empty.
            subscribers.discard(subscription)
            if subscribers:
                return
            del self._subscribers[channel]
        if self._lock is None or self._supervisor is None:
            return
        async with self._lock:
            # Someone may have subscribed again while we waited for the lock.
            if channel in self._subscribers or channel not in self._subscribed:
                return
            self._subscribed.discard(channel)
            assert self._backend is not None
            try:
                await self._backend.unsubscribe(channel)
            except Exception as exc:
                # Harmless: messages on a channel nobody wants are dropped at fan-out.
                log.warning("bus: unsubscribing from %s failed: %r", channel, exc)

    def _break(self, error: BaseException) -> None:
        """Make the current session fail (a transport call failed outside the listener)."""
        assert self._live is not None
        self._live.clear()
        if self._broken is not None and not self._broken.done():
            self._broken.set_exception(error)

    async def _supervise(self) -> None:
        """Run listening sessions forever; on failure tell subscribers and reconnect."""
        assert self._backend is not None
        delay = RECONNECT_DELAYS[0]
        connected = True  # connect() opened the first session's transport
        while True:
            if connected:
                try:
                    await self._session()
                except Exception as exc:
                    self._interrupt(exc)
                delay = RECONNECT_DELAYS[0]
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_DELAYS[1])
            try:
                await self._backend.connect()
                connected = True
                log.info("bus: reconnected to %s", self._safe_url())
            except Exception as exc:
                connected = False
                log.warning("bus: reconnecting failed (%r); retrying in %.2fs", exc, delay)

    async def _session(self) -> None:
        """One connection's life: subscribe every wanted channel, then fan out until failure."""
        assert self._backend is not None and self._lock is not None and self._live is not None
        backend = self._backend
        self._broken = asyncio.get_running_loop().create_future()
        reader = asyncio.create_task(self._read(backend))
        try:
            async with self._lock:
                self._subscribed = set()
                for channel in [c for c, subs in self._subscribers.items() if subs]:
                    async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                        await backend.subscribe(channel)
                    self._subscribed.add(channel)
                self._live.set()
            await asyncio.wait({reader, self._broken}, return_when=asyncio.FIRST_COMPLETED)
            if self._broken.done():
                self._broken.result()
            reader.result()
        finally:
            self._live.clear()
            self._subscribed = set()  # a new session subscribes afresh
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            if not self._broken.done():
                self._broken.cancel()
            with contextlib.suppress(Exception):
                await backend.disconnect()

    async def _read(self, backend: BroadcastBackend) -> None:
        while True:
            event = await backend.next_published()
            for subscription in tuple(self._subscribers.get(event.channel, ())):
                if not subscription.deliver(event.message):
                    self._subscribers[event.channel].discard(subscription)

    def _interrupt(self, error: BaseException) -> None:
        """Tell every entered subscriber that it may have missed payloads."""
        self.stats.disconnects += 1
        log.error("bus: listener on %s failed: %r; reconnecting", self._safe_url(), error)
        for subscribers in self._subscribers.values():
            for subscription in [s for s in subscribers if s.entered]:
                subscription.fail(BusDisconnected(f"bus listener failed: {error!r}"))
                subscribers.discard(subscription)

    def _safe_url(self) -> str:
        """The URL without credentials, for logs."""
        parsed = urlparse(self.url)
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{parsed.hostname or ''}{port}"
