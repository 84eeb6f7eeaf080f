"""A light websocket load generator: many graphql-transport-ws subscribers on one loop.

Raw ``websockets`` connections (no gql, no per-message deflate), each with one
subscription. A received ``next`` frame is parsed with orjson and reduced to
what the benchmark checks (the post it names and when it was committed), so
the generator spends as little CPU per delivery as it can and leaves the
server its core.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


def _committed(stamp: str) -> float:
    """An ISO 8601 date-time from the server as a Unix time."""
    return datetime.fromisoformat(stamp).timestamp()


Extract = Callable[[dict[str, Any]], tuple[str, str] | None]
"""From a result's ``data``: (post id, commit time ISO string), or None if not counted."""


class Subscriber:
    """One socket with one subscription; records (post id, commit delay, receipt time)."""

    def __init__(self, url: str, token: str, document: str, variables: dict[str, Any],
                 extract: Extract) -> None:
        self.url, self.token = url, token
        self.document, self.variables = document, variables
        self.extract = extract
        self.received: list[tuple[str, float, float]] = []
        self.frames = 0
        self.errors: list[Any] = []
        self.first = asyncio.get_running_loop().create_future()
        self._socket: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        socket = await connect(self.url, subprotocols=[PROTOCOL],  # type: ignore[list-item]
                               compression=None, max_queue=None, open_timeout=60)
        self._socket = socket
        await socket.send(orjson.dumps({"type": "connection_init",
                                        "payload": {"authToken": self.token}}).decode())
        ack = orjson.loads(await socket.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await socket.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": self.document, "variables": self.variables}}).decode())
        self._task = asyncio.create_task(self._read(socket))

    async def _read(self, socket: ClientConnection) -> None:
        async for frame in socket:
            now = time.time()
            message = orjson.loads(frame)
            kind = message.get("type")
            if kind == "ping":
                await socket.send('{"type":"pong"}')
                continue
            if kind != "next":
                if kind in ("error", "complete"):
                    self.errors.append(message)
                continue
            self.frames += 1
            payload = message["payload"]
            if payload.get("errors"):
                self.errors.append(payload["errors"])
                continue
            found = self.extract(payload["data"])
            if found is None:
                continue
            post_id, stamp = found
            self.received.append((post_id, now - _committed(stamp), now))
            if not self.first.done():
                self.first.set_result(None)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


async def open_all(subscribers: list[Subscriber], parallel: int,
                   report: Callable[[int], None]) -> None:
    """Open every subscriber, ``parallel`` handshakes at a time."""
    gate = asyncio.Semaphore(parallel)
    opened = 0

    async def one(subscriber: Subscriber) -> None:
        nonlocal opened
        async with gate:
            await subscriber.open()
        opened += 1
        if opened % 100 == 0:
            report(opened)

    await asyncio.gather(*(one(s) for s in subscribers))
