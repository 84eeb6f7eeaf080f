"""The websocket protocols' edges: what a malformed, late, greedy or forged client gets.

Both protocols are served (docs/architecture.md, Subscriptions) and held to the same
rules: close codes as graphql-transport-ws defines them (4400 malformed,
4403 forbidden, 4408 no connection_init in time), a coded error past the
per-connection operation limit, and frames capped in size.
"""

from __future__ import annotations

import contextlib

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from websockets.exceptions import ConnectionClosed

from tests.e2e.members import register
from tests.e2e.server import Api, Server
from tests.e2e.sockets import (
    BAD_REQUEST,
    EVENTS,
    FORBIDDEN,
    INIT_TIMEOUT,
    LEGACY,
    NEW,
    PROTOCOLS,
    TOO_BIG,
    close_code,
    closed,
    gql_client,
    initialised,
    raw,
    receive,
    send,
    subscribe,
)

SERVER_SETTINGS = {
    "CHRONICLE_WS_INIT_TIMEOUT_SECONDS": "1.5",
    "CHRONICLE_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
}


# --- connection_init ------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("token", ["not-a-token", "a.b.c"])
async def test_a_token_that_names_nobody_closes_the_socket_with_4403(
    server: Server, protocol: str, token: str
) -> None:
    async with raw(server, protocol) as ws:
        await send(ws, {"type": "connection_init", "payload": {"authToken": token}})
        if protocol == LEGACY:
            assert (await receive(ws))["type"] == "connection_error"
        assert (await closed(ws))[0] == FORBIDDEN


async def test_gql_sees_a_forged_token_refused_with_4403(server: Server) -> None:
    with pytest.raises(Exception) as refused:  # gql wraps the close its own way
        async with gql_client(server, {"authToken": "not-a-token"}) as session:
            await session.execute(GraphQLRequest("{ me { id } }"))
    assert close_code(refused.value) == FORBIDDEN


async def test_no_token_at_all_is_an_anonymous_connection(server: Server) -> None:
    async with gql_client(server, {}) as session:
        data = await session.execute(GraphQLRequest("{ me { id } }"))
    assert data == {"me": None}


async def test_no_token_at_all_is_an_anonymous_connection_on_the_legacy_protocol_too(
    server: Server,
) -> None:
    async with raw(server, LEGACY) as ws:
        await initialised(ws, {})
        await subscribe(ws, LEGACY, "1", EVENTS)
        reply = await receive(ws)
    assert reply["type"] == "data", reply
    assert reply["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "payload", [{"authToken": ["a"]}, {"authToken": 42}, {"Authorization": {}}, "a string", [1]]
)
async def test_a_malformed_connection_init_payload_closes_with_4400(
    server: Server, protocol: str, payload: object
) -> None:
    async with raw(server, protocol) as ws:
        await send(ws, {"type": "connection_init", "payload": payload})
        assert (await closed(ws))[0] == BAD_REQUEST


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_socket_that_never_sends_connection_init_closes_with_4408(
    server: Server, protocol: str
) -> None:
    async with raw(server, protocol) as ws:
        code, reason = await closed(ws, within=15)
    assert (code, reason) == (INIT_TIMEOUT, "Connection initialisation timeout")


async def test_a_second_connection_init_cannot_swap_the_caller(server: Server, api: Api) -> None:
    member = await register(api)
    async with raw(server, LEGACY) as ws:
        await initialised(ws)
        await send(ws, {"type": "connection_init", "payload": {"authToken": member.token}})
        assert (await closed(ws))[0] == 4429


async def test_a_query_over_the_legacy_protocol_is_bad_user_input_not_internal(
    server: Server,
) -> None:
    async with raw(server, LEGACY) as ws:
        await initialised(ws)
        await subscribe(ws, LEGACY, "1", "{ me { id } }")
        reply = await receive(ws)
    errors = reply["payload"].get("errors") or [reply["payload"]]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", reply
    assert "graphql-ws" in errors[0]["message"]


# --- Malformed messages ---------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("frame", ['["connection_init"]', "[]", "42", '"text"', "null",
                                   '{"type": 7}'])
async def test_a_message_that_is_not_a_typed_object_closes_with_4400(
    server: Server, protocol: str, frame: str
) -> None:
    async with raw(server, protocol) as ws:
        await initialised(ws)
        await ws.send(frame)
        assert (await closed(ws))[0] == BAD_REQUEST


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("payload", ["{ me { id } }", None, {"query": 7},
                                     {"query": "{ me { id } }", "variables": "x"},
                                     {"query": "{ me { id } }", "operationName": ["a"]}])
async def test_an_operation_whose_payload_is_not_an_operation_closes_with_4400(
    server: Server, protocol: str, payload: object
) -> None:
    kind = "subscribe" if protocol == NEW else "start"
    async with raw(server, protocol) as ws:
        await initialised(ws)
        await send(ws, {"id": "1", "type": kind, "payload": payload})
        assert (await closed(ws))[0] == BAD_REQUEST


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_operation_without_a_string_id_closes_with_4400(
    server: Server, protocol: str
) -> None:
    kind = "subscribe" if protocol == NEW else "start"
    async with raw(server, protocol) as ws:
        await initialised(ws)
        await send(ws, {"id": 1, "type": kind, "payload": {"query": "{ me { id } }"}})
        assert (await closed(ws))[0] == BAD_REQUEST


async def test_an_unknown_message_type_closes_with_4400(server: Server) -> None:
    async with raw(server, NEW) as ws:
        await initialised(ws)
        await send(ws, {"type": "shout"})
        assert (await closed(ws))[0] == BAD_REQUEST


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_frame_larger_than_the_cap_closes_with_1009(server: Server, protocol: str) -> None:
    async with raw(server, protocol) as ws:
        await initialised(ws)
        huge = '{ me { id } } #' + "x" * (1024 * 1024)
        # The server may refuse the frame from its header, before the client has
        # finished writing it: the send then fails, and the close code still tells.
        with contextlib.suppress(ConnectionClosed):
            await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": huge}})
        assert (await closed(ws))[0] == TOO_BIG


# --- Limits and positions -------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_past_the_operation_limit_a_subscribe_gets_a_coded_error(
    server: Server, api: Api, protocol: str
) -> None:
    member = await register(api)
    async with raw(server, protocol) as ws:
        await initialised(ws, {"authToken": member.token})
        await subscribe(ws, protocol, "1", EVENTS)
        await subscribe(ws, protocol, "2", EVENTS)
        await subscribe(ws, protocol, "3", EVENTS)
        while (reply := await receive(ws))["type"] != "error":
            assert reply["id"] in ("1", "2"), reply
        assert reply["id"] == "3"
        error = reply["payload"][0] if protocol == NEW else reply["payload"]
        assert error["extensions"] == {"code": "RATE_LIMITED", "limit": 2}
        assert error["message"].startswith("Subscription limit reached")


async def test_a_min_position_of_thousands_of_digits_is_bad_user_input(server: Server) -> None:
    async with gql_client(server, {"minPosition": "9" * 5000}) as session:
        with pytest.raises(TransportQueryError) as failed:
            await session.execute(GraphQLRequest("{ me { id } }"))
    assert failed.value.errors is not None
    assert failed.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert failed.value.errors[0]["extensions"]["field"] == "minPosition"
