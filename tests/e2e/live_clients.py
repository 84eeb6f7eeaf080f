"""Websocket subscribers for the fan-out scenarios: gql forced to graphql-transport-ws,
and a raw socket that subscribes and then stops reading."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any

import orjson
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.server import Server

Done = Callable[[list[dict[str, Any]]], bool]


def ws_url(server: Server) -> str:
    return server.graphql_url.replace("http://", "ws://")


class Follower:
    """One gql client with one subscription, collecting results until ``done`` says so."""

    def __init__(self, server: Server, token: str, document: str, variables: dict[str, Any],
                 done: Done) -> None:
        self.results: list[dict[str, Any]] = []
        self.first = asyncio.get_running_loop().create_future()
        self._args = (server, token, document, variables, done)
        self.task: asyncio.Task[None] | None = None

    def start(self, gate: asyncio.Semaphore) -> None:
        self.task = asyncio.create_task(self._run(gate))

    async def _run(self, gate: asyncio.Semaphore) -> None:
        server, token, document, variables, done = self._args
        # Name the protocol: gql offers the legacy one first otherwise (docs/architecture.md).
        transport = WebsocketsTransport(url=ws_url(server), init_payload={"authToken": token},
                                        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
        client = Client(transport=transport, fetch_schema_from_transport=False)
        async with gate:
            session = await client.connect_async()
        try:
            async for result in session.subscribe(GraphQLRequest(document,
                                                                 variable_values=variables)):
                self.results.append(dict(result))
                if not self.first.done():
                    self.first.set_result(None)
                if done(self.results):
                    return
        finally:
            await client.close_async()

    async def finished(self, timeout: float) -> None:  # noqa: ASYNC109 - a test bound
        assert self.task is not None
        await asyncio.wait_for(asyncio.shield(self.task), timeout)


async def start_all(followers: list[Follower], *, parallel: int = 50,
                    timeout: float = 60) -> None:  # noqa: ASYNC109 - a test bound
    """Connect every follower, then wait until each delivered its first result (it is live)."""
    gate = asyncio.Semaphore(parallel)
    for follower in followers:
        follower.start(gate)
    await asyncio.wait_for(asyncio.gather(*(f.first for f in followers)), timeout)


class Stalled:
    """A raw graphql-transport-ws socket with ``operations`` subscriptions of one document,
    that reads nothing until told (several operations multiply what the server sends)."""

    def __init__(self, operations: int) -> None:
        self.socket: ClientConnection | None = None
        self.operations = [str(i) for i in range(1, operations + 1)]

    async def open(self, server: Server, token: str, document: str,
                   variables: dict[str, Any]) -> None:
        sock = socket.create_connection(("127.0.0.1", server.port))
        # A bounded receive window (no autotuning): the server's sends back up sooner.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.socket = await connect(ws_url(server), sock=sock,
                                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                                    compression=None, max_queue=1, max_size=None,
                                    ping_interval=None)
        await self.socket.send(orjson.dumps({"type": "connection_init",
                                             "payload": {"authToken": token}}).decode())
        assert orjson.loads(await self.socket.recv())["type"] == "connection_ack"
        for operation in self.operations:
            await self.socket.send(orjson.dumps({"id": operation, "type": "subscribe",
                                                 "payload": {"query": document,
                                                             "variables": variables}}).decode())

    async def read(self, count: int, timeout: float  # noqa: ASYNC109 - a test bound
                   ) -> dict[str, list[dict[str, Any]]]:
        """Each operation's next ``count`` results, reading again."""
        assert self.socket is not None
        found: dict[str, list[dict[str, Any]]] = {o: [] for o in self.operations}
        async with asyncio.timeout(timeout):
            while any(len(results) < count for results in found.values()):
                message = orjson.loads(await self.socket.recv())
                if message["type"] == "next":
                    found[message["id"]].append(message["payload"])
        return found

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close()
