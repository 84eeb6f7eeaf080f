"""STALE_READ: the read model cannot reach the position asked for within the read wait.

These servers wait one second (CHRONICLE_READ_WAIT_TIMEOUT=1) so the refusals are quick.
"""

from __future__ import annotations

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.members import register
from tests.e2e.posts_api import head
from tests.e2e.server import Api, Server, code_of

SERVER_SETTINGS = {"CHRONICLE_READ_WAIT_TIMEOUT": "1"}
FAR_AHEAD = str(10**15)
PROTOCOLS = [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, WebsocketsTransport.APOLLO_SUBPROTOCOL]


async def test_a_position_the_log_has_not_reached_is_a_stale_read(api: Api) -> None:
    response = await api.raw({"query": "{ headPosition }"}, headers={"X-Min-Position": FAR_AHEAD})
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["STALE_READ"]
    assert body["errors"][0]["extensions"]["position"] == FAR_AHEAD


async def test_min_position_in_the_query_extensions_is_honoured_too(api: Api) -> None:
    error = await api.error("{ headPosition }", extensions={"minPosition": FAR_AHEAD})
    assert code_of(error) == "STALE_READ"
    current = await head(api)
    data = await api("{ headPosition }", extensions={"minPosition": str(current)})
    assert int(data["headPosition"]) >= current


async def test_a_mutation_behind_a_stale_read_is_not_executed(api: Api) -> None:
    author = await register(api)
    before = await head(api)
    error = await api.error(
        'mutation { createPost(input: {title: "never", body: "b"}) { position } }',
        token=author.token, headers={"X-Min-Position": FAR_AHEAD},
    )
    assert code_of(error) == "STALE_READ"
    assert await head(api) == before


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_websocket_min_position_out_of_reach_fails_its_operations(
    server: Server, api: Api, protocol: str
) -> None:
    member = await register(api)
    url = server.graphql_url.replace("http://", "ws://")
    init = {"authToken": member.token, "minPosition": FAR_AHEAD}
    transport = WebsocketsTransport(url=url, init_payload=init, subprotocols=[protocol])
    subscription = GraphQLRequest(
        "subscription S($id: ID) { events(after: \"0\", streamId: $id) { type } }",
        variable_values={"id": member.id},
    )
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        with pytest.raises(TransportQueryError) as failed:
            async for _ in session.subscribe(subscription):
                break
    assert failed.value.errors
    assert failed.value.errors[0]["extensions"]["code"] == "STALE_READ"
