"""The bus's hold on its transport: one listening session at a time, reconnected for ever.

A session subscribes the transport to every channel somebody listens to, then
fans each payload that arrives out to that channel's subscriptions until its
connection fails. The :class:`Listener` then fails every entered subscription
with :class:`BusDisconnected` (it may have missed payloads), reconnects with
backoff and starts a new session. The promise this keeps, and the API around
it, is ``events.bus``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final
from urllib.parse import urlparse

from broadcaster import BroadcastBackend

from events.subscription import BusDisconnected, BusStats, Subscription
from events.transports import RedisTransport, transport_for

RECONNECT_DELAYS: Final = (0.05, 5.0)
"""First and longest wait between reconnection attempts (doubling in between)."""
SUBSCRIBE_TIMEOUT: Final = 10.0

log = logging.getLogger("events.bus")


class Listener:
    """Listening sessions on the bus's transport, fanning out to the bus's subscribers."""

    def __init__(
        self, url: str, name: str, subscribers: dict[str, set[Subscription]], stats: BusStats
    ) -> None:
        self.url = url
        self.name = name
        self.stats = stats
        self.subscribers = subscribers
        """The bus's subscriptions by channel: a session subscribes these channels."""
        self.transport: BroadcastBackend | None = None
        self._subscribed: set[str] = set()
        """Channels the transport is subscribed to in the current session."""
        self._supervisor: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None
        self._live: asyncio.Event | None = None
        self._broken: asyncio.Future[None] | None = None

    @property
    def running(self) -> bool:
        """Started and not stopped (listening, or reconnecting)."""
        return self._supervisor is not None

    @property
    def connected(self) -> bool:
        return self._supervisor is not None and self._live is not None and self._live.is_set()

    async def start(self) -> None:
        """Connect the transport and start listening; ConnectionError if it is unreachable."""
        if self._supervisor is not None:
            raise RuntimeError("bus already connected")
        self._lock = asyncio.Lock()
        self._live = asyncio.Event()
        self.transport = transport_for(self.url, self.name)
        try:
            await self.transport.connect()
        except Exception as exc:
            with contextlib.suppress(Exception):
                await self._close_transport()
            # At start-up a missing Redis/PostgreSQL is a configuration error: fail loudly.
            raise ConnectionError(f"bus: cannot reach {self.safe_url()}: {exc}") from exc
        self._supervisor = asyncio.create_task(self._supervise(), name=f"bus:{self.name}")
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                await self._live.wait()
        except TimeoutError:
            await self.stop()
            raise ConnectionError(f"bus: {self.safe_url()} connected but never listened") from None

    async def stop(self) -> None:
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
        for subscribers in self.subscribers.values():
            for subscription in subscribers:
                subscription.close()
        self.subscribers.clear()
        await self._close_transport()

    async def _close_transport(self) -> None:
        """Close what outlives a listening session (the Redis publishing client)."""
        if isinstance(self.transport, RedisTransport):
            await self.transport.close()

    async def attach(self, channel: str) -> None:
        """Return once the transport listens to ``channel`` (waiting for a session if none)."""
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
                assert self.transport is not None
                try:
                    async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                        await self.transport.subscribe(channel)
                except Exception as exc:
                    log.warning("bus: subscribing to %s failed: %r", channel, exc)
                    self._break(exc)
                    continue
                self._subscribed.add(channel)
                return

    async def detach(self, channel: str) -> None:
        """Unsubscribe the transport from ``channel`` unless somebody listens to it again."""
        if self._lock is None or self._supervisor is None:
            return
        async with self._lock:
            # Someone may have subscribed again while we waited for the lock.
            if channel in self.subscribers or channel not in self._subscribed:
                return
            self._subscribed.discard(channel)
            assert self.transport is not None
            try:
                await self.transport.unsubscribe(channel)
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
        assert self.transport is not None
        delay = RECONNECT_DELAYS[0]
        connected = True  # start() opened the first session's transport
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
                await self.transport.connect()
                connected = True
                log.info("bus: reconnected to %s", self.safe_url())
            except Exception as exc:
                connected = False
                log.warning("bus: reconnecting failed (%r); retrying in %.2fs", exc, delay)

    async def _session(self) -> None:
        """One connection's life: subscribe every wanted channel, then fan out until failure."""
        assert self.transport is not None and self._lock is not None and self._live is not None
        backend = self.transport
        self._broken = asyncio.get_running_loop().create_future()
        reader = asyncio.create_task(self._read(backend))
        try:
            async with self._lock:
                self._subscribed = set()
                for channel in [c for c, subs in self.subscribers.items() if subs]:
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
            for subscription in tuple(self.subscribers.get(event.channel, ())):
                if not subscription.deliver(event.message):
                    self.subscribers[event.channel].discard(subscription)

    def _interrupt(self, error: BaseException) -> None:
        """Tell every entered subscriber that it may have missed payloads."""
        self.stats.disconnects += 1
        log.error("bus: listener on %s failed: %r; reconnecting", self.safe_url(), error)
        for subscribers in self.subscribers.values():
            for subscription in [s for s in subscribers if s.entered]:
                subscription.fail(BusDisconnected(f"bus listener failed: {error!r}"))
                subscribers.discard(subscription)

    def safe_url(self) -> str:
        """The URL without credentials, for logs."""
        parsed = urlparse(self.url)
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{parsed.hostname or ''}{port}"
