"""The bus's transports: ``memory://``, ``redis://`` and ``postgres://``, our own.

Each implements broadcaster's public transport interface (``BroadcastBackend``,
``Event``): connect/disconnect bracket one listening session, and
``next_published()`` must raise once the session's connection is gone, so that
the bus's listener (``events.listener``) reconnects and tells its subscribers
(they re-sync from the store). Why our own rather than broadcaster's: see ``events.bus``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final
from urllib.parse import urlparse

import asyncpg
from broadcaster import BroadcastBackend, Event
from redis import asyncio as redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


class RedisTransport(BroadcastBackend):
    """Redis pub/sub with a listener that fails loudly instead of reconnecting quietly.

    redis-py's default retry reconnects a broken pub/sub connection and
    re-subscribes behind our back: whatever was published in between is lost
    and nobody is told. The listener client therefore has no retries; the bus
    reconnects it and tells subscribers. ``subscribe`` returns only once Redis
    confirmed the SUBSCRIBE, so a publish that follows is certain to arrive.
    """

    def __init__(self, url: str, *, name: str) -> None:
        self._url = url
        self._name = name
        self._publisher: redis.Redis | None = None
        self._client: redis.Redis | None = None
        self._pubsub: PubSub | None = None
        self._confirmations: dict[str, asyncio.Future[None]] = {}

    async def connect(self) -> None:
        if self._publisher is None:
            # One immediate retry on a fresh connection covers an idle connection the server
            # dropped (a duplicate notice is a harmless wake-up); more would only hold up
            # the committer's notices while Redis is down.
            self._publisher = redis.Redis.from_url(
                self._url, client_name=f"{self._name}:publish", retry=Retry(NoBackoff(), 1)
            )
        self._client = redis.Redis.from_url(
            self._url,
            client_name=f"{self._name}:listen",
            retry=Retry(NoBackoff(), 0),
            socket_keepalive=True,
        )
        self._pubsub = self._client.pubsub()
        await self._pubsub.connect()  # type: ignore[no-untyped-call]  # redis-py lacks hints

    async def disconnect(self) -> None:
        self._fail_confirmations(ConnectionError("redis listener closed"))
        pubsub, client, self._pubsub, self._client = self._pubsub, self._client, None, None
        if pubsub is not None:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        if client is not None:
            await client.aclose()

    async def close(self) -> None:
        """Close the publishing client too (the bus is shutting down)."""
        await self.disconnect()
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None

    async def subscribe(self, channel: str) -> None:
        assert self._pubsub is not None
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations[channel] = confirmed
        await self._pubsub.subscribe(channel)
        await confirmed

    async def unsubscribe(self, channel: str) -> None:
        assert self._pubsub is not None
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        assert self._publisher is not None
        await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        assert self._pubsub is not None
        try:
            while True:
                message = await self._pubsub.get_message(timeout=None)
                if message is None:
                    continue
                channel = message["channel"].decode()
                if message["type"] == "message":
                    return Event(channel=channel, message=message["data"].decode())
                if message["type"] == "subscribe":
                    confirmed = self._confirmations.pop(channel, None)
                    if confirmed is not None and not confirmed.done():
                        confirmed.set_result(None)
        except BaseException as exc:
            self._fail_confirmations(exc)
            raise

    def _fail_confirmations(self, error: BaseException) -> None:
        for confirmed in self._confirmations.values():
            if not confirmed.done():
                confirmed.set_exception(ConnectionError(f"redis listener failed: {error!r}"))
        self._confirmations.clear()


class MemoryTransport(BroadcastBackend):
    """``memory://``: what this process publishes comes back to its own listener,
    on the channels it subscribed to (as broadcaster's in-memory backend does)."""

    _published: asyncio.Queue[Event]

    def __init__(self, url: str) -> None:
        self._subscribed: set[str] = set()

    async def connect(self) -> None:
        # Made here, not in __init__: queues belong to the loop that runs the bus.
        self._published = asyncio.Queue()

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._published.put(Event(channel=channel, message=message))

    async def next_published(self) -> Event:
        while True:
            event = await self._published.get()
            if event.channel in self._subscribed:
                return event


class PostgresTransport(BroadcastBackend):
    """LISTEN/NOTIFY on one asyncpg connection, made to notice that it was lost.

    The connection both listens and notifies; asyncpg refuses concurrent
    operations on a connection, so notifies are serialised here.
    """

    _conn: asyncpg.Connection
    _inbox: asyncio.Queue[Event | None]
    _notify_lock: asyncio.Lock

    def __init__(self, url: str) -> None:
        self._url = url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def connect(self) -> None:
        self._inbox = asyncio.Queue()
        self._notify_lock = asyncio.Lock()
        self._conn = await asyncpg.connect(self._url)
        # None in the inbox means the connection is gone: next_published raises.
        self._conn.add_termination_listener(lambda _conn: self._inbox.put_nowait(None))

    async def disconnect(self) -> None:
        try:
            async with asyncio.timeout(2):
                await self._conn.close()
        except Exception:
            self._conn.terminate()

    async def subscribe(self, channel: str) -> None:
        await self._conn.add_listener(channel, self._listener)

    async def unsubscribe(self, channel: str) -> None:
        await self._conn.remove_listener(channel, self._listener)

    async def publish(self, channel: str, message: str) -> None:
        async with self._notify_lock:
            await self._conn.execute("SELECT pg_notify($1, $2)", channel, message)

    def _listener(self, *args: Any) -> None:
        _connection, _pid, channel, payload = args
        self._inbox.put_nowait(Event(channel=channel, message=payload))

    async def next_published(self) -> Event:
        event = await self._inbox.get()
        if event is None:
            raise ConnectionError("PostgreSQL listener connection lost")
        return event


REDIS_SCHEMES: Final = ("redis", "rediss")
POSTGRES_SCHEMES: Final = ("postgres", "postgresql", "postgresql+asyncpg")
SCHEMES_HELP: Final = "memory://, redis://host:port or postgres://…"


def transport_for(url: str, name: str) -> BroadcastBackend:
    """Pick the transport by URL scheme."""
    scheme = urlparse(url).scheme
    if scheme in REDIS_SCHEMES:
        return RedisTransport(url, name=name)
    if scheme in POSTGRES_SCHEMES:
        return PostgresTransport(url)
    if scheme == "memory":
        return MemoryTransport(url)
    raise ValueError(f"unsupported broadcast URL scheme {scheme!r} ({SCHEMES_HELP})")
