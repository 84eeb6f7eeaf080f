"""Websockets: the caller and the read position come with connection_init, on both protocols."""

from __future__ import annotations

from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.members import register
from tests.e2e.posts_api import create
from tests.e2e.server import Api, Server

MY_EVENTS = """
subscription S($streamId: ID) { events(after: "0", streamId: $streamId) { type data position } }
"""
PROTOCOLS = [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, WebsocketsTransport.APOLLO_SUBPROTOCOL]


def _client(server: Server, protocol: str, init: dict[str, Any]) -> Client:
    url = server.graphql_url.replace("http://", "ws://")
    # Name the protocol: gql offers the legacy one first otherwise (docs/architecture.md).
    transport = WebsocketsTransport(url=url, init_payload=init, subprotocols=[protocol])
    return Client(transport=transport, fetch_schema_from_transport=False, execute_timeout=60)


async def _first(server: Server, protocol: str, init: dict[str, Any], document: str,
                 variables: dict[str, Any]) -> dict[str, Any]:
    async with _client(server, protocol, init) as session:
        request = GraphQLRequest(document, variable_values=variables)
        async for result in session.subscribe(request):
            return dict(result)
    raise AssertionError("the subscription ended without a result")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_auth_token_in_connection_init_names_the_caller(
    server: Server, api: Api, protocol: str
) -> None:
    member = await register(api)
    first = await _first(server, protocol, {"authToken": member.token}, MY_EVENTS,
                         {"streamId": member.id})
    event = first["events"]
    assert event["type"] == "UserRegistered"
    assert event["data"]["email"] == member.email  # the owner sees their email


async def test_a_reachable_min_position_lets_queries_over_the_socket_see_the_write(
    server: Server, api: Api
) -> None:
    member = await register(api)
    payload = await create(api, member.token, "Over the socket", publish=True)
    init = {"authToken": member.token, "minPosition": payload["position"]}
    query = 'query P($id: ID!) { post(id: $id) { title likedByMe } }'
    async with _client(server, WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, init) as session:
        data = await session.execute(GraphQLRequest(query,
                                                     variable_values={"id": payload["post"]["id"]}))
    assert data["post"] == {"title": "Over the socket", "likedByMe": False}
