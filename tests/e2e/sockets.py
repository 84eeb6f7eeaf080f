"""Websocket clients for end-to-end scenarios: raw frames, and gql on a named protocol."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gql import Client
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import Server

NEW = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
"""graphql-transport-ws: what Apollo Client's GraphQLWsLink speaks."""
LEGACY = WebsocketsTransport.APOLLO_SUBPROTOCOL
"""subscriptions-transport-ws, spoken as subprotocol ``graphql-ws``."""
PROTOCOLS = [NEW, LEGACY]

FORBIDDEN = 4403
BAD_REQUEST = 4400
INIT_TIMEOUT = 4408
TOO_BIG = 1009

EVENTS = 'subscription { events(after: "0") { position type } }'


def ws_url(server: Server) -> str:
    return server.graphql_url.replace("http://", "ws://")


@asynccontextmanager
async def raw(server: Server, protocol: str = NEW) -> AsyncIterator[ClientConnection]:
    """A websocket speaking ``protocol`` with no client library in between."""
    async with connect(ws_url(server), subprotocols=[protocol],  # type: ignore[list-item]
                       max_size=None) as ws:
        assert ws.subprotocol == protocol
        yield ws


async def send(ws: ClientConnection, message: object) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection, within: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(within):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def initialised(ws: ClientConnection, payload: dict[str, Any] | None = None) -> None:
    """Send connection_init and insist on its acknowledgement."""
    await send(ws, {"type": "connection_init", "payload": payload or {}})
    reply = await receive(ws)
    assert reply["type"] == "connection_ack", reply


async def closed(ws: ClientConnection, within: float = 30) -> tuple[int, str]:
    """The code and reason the server closes with, reading (and dropping) messages until then."""
    try:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    except ConnectionClosed as ended:
        assert ended.rcvd is not None, "the server closed without a close frame"
        return ended.rcvd.code, ended.rcvd.reason
    raise AssertionError("unreachable")


async def subscribe(ws: ClientConnection, protocol: str, operation_id: str, query: str,
                    variables: dict[str, Any] | None = None) -> None:
    kind = "subscribe" if protocol == NEW else "start"
    await send(ws, {"id": operation_id, "type": kind,
                    "payload": {"query": query, "variables": variables or {}}})


def gql_client(server: Server, init: dict[str, Any], protocol: str = NEW) -> Client:
    # Name the protocol: gql offers the legacy one first otherwise (docs/architecture.md).
    transport = WebsocketsTransport(url=ws_url(server), init_payload=init, subprotocols=[protocol])
    return Client(transport=transport, fetch_schema_from_transport=False, execute_timeout=60)


def close_code(error: BaseException) -> int | None:
    """The websocket close code behind a gql transport error, if the server closed."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionClosed) and seen.rcvd is not None:
            return seen.rcvd.code
        seen = seen.__cause__ or seen.__context__
    return None
