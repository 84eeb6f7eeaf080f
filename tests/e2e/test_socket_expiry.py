"""A token's expiry ends the socket it opened: closed with 4403, so the client refreshes it.

Tokens here live a few seconds (``CHRONICLE_TOKEN_TTL_SECONDS``), which is
why this scenario has a server of its own.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.members import register
from tests.e2e.server import Api, Server
from tests.e2e.sockets import (
    EVENTS,
    FORBIDDEN,
    PROTOCOLS,
    closed,
    initialised,
    raw,
    receive,
    send,
    subscribe,
)

TTL = 4
SERVER_SETTINGS = {"CHRONICLE_TOKEN_TTL_SECONDS": str(TTL)}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_open_socket_closes_with_4403_when_its_token_expires(
    server: Server, api: Api, protocol: str
) -> None:
    member = await register(api)
    issued = time.time()
    async with raw(server, protocol) as ws:
        await initialised(ws, {"authToken": member.token})
        await subscribe(ws, protocol, "1", EVENTS)
        assert (await receive(ws))["type"] in ("next", "data")  # served while the token lives

        assert await closed(ws, within=TTL + 20) == (FORBIDDEN, "Forbidden")
    assert time.time() - issued >= TTL - 1  # closed by the expiry, not before it


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_expired_token_is_refused_at_connect_with_4403(
    server: Server, api: Api, protocol: str
) -> None:
    member = await register(api)
    await asyncio.sleep(TTL + 1)
    async with raw(server, protocol) as ws:
        await send(ws, {"type": "connection_init", "payload": {"authToken": member.token}})
        assert (await closed(ws))[0] == FORBIDDEN
