"""Over real sockets: every operation is costed before it runs, and every answer shows its cost.

The servers here run with the default maximum cost per request; the test
settings only raise the per-minute budgets (test_quotas has tight ones).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.e2e import posts_api
from tests.e2e.members import register
from tests.e2e.server import Api, Server, code_of

DEFAULT_MAX_COST = 5000
TWENTY_MEGABYTES = (
    "{ posts(first:100){ edges{ node{ author{ posts(first:100){ edges{ node{ body } } } } } } } }"
)
FEED = """
query Feed($first: Int) {
  posts(first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id title body tags likeCount commentCount likedByMe
      author { username displayName postCount }
      comments(first: 5) { totalCount edges { node { body author { username } } } }
    } }
  }
}
"""
NESTED = """
query Nested($posts: Int, $each: Int) {
  posts(first: $posts) { edges { node { author { posts(first: $each) {
    edges { node { title } } } } } } }
}
"""
COSTLY_FEED = """
subscription { feed { post { author { posts(first: 100) { edges { node {
  comments(first: 100) { edges { node { body } } } } } } } } } }
"""


def cache_hits(server: Server) -> float:
    text = httpx.get(f"{server.base}/metrics").text
    found = re.search(r'^chronicle_response_cache_hits_total (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_the_twenty_megabyte_query_is_refused_with_its_cost_before_running(
    api: Api,
) -> None:
    response = await api.raw({"query": TWENTY_MEGABYTES})
    body = response.json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT", "cost": 1 + 100 + 100 * 100, "maxCost": DEFAULT_MAX_COST,
    }
    assert "cost" in error["message"]
    assert body["extensions"]["cost"]["requested"] == 1 + 100 + 100 * 100
    assert len(response.content) < 2000


async def test_three_aliases_of_it_are_refused_at_their_summed_cost(api: Api) -> None:
    inner = TWENTY_MEGABYTES[2:-2]
    error = await api.error("{ " + " ".join(f"a{i}: {inner}" for i in range(3)) + " }")
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["cost"] == 1 + 3 * (100 + 100 * 100)


async def test_a_feed_page_of_a_hundred_posts_passes_and_shows_its_cost(api: Api) -> None:
    member = await register(api)
    await posts_api.create(api, member.token, "Costed post", publish=True)
    response = await api.raw({"query": FEED, "variables": {"first": 100}}, token=member.token)
    body = response.json()
    assert "errors" not in body
    assert any(e["node"]["title"] == "Costed post" for e in body["data"]["posts"]["edges"])
    cost = body["extensions"]["cost"]
    assert cost["requested"] == 1 + 100 + 100 * 5
    assert cost["maxCost"] == DEFAULT_MAX_COST
    assert 0 <= cost["remaining"] < cost["limit"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cost["resetAt"])


async def test_a_mutation_shows_its_cost_too(api: Api) -> None:
    member = await register(api)
    response = await api.raw({
        "query": 'mutation { createPost(input: {title: "t", body: "b"}) { position } }',
    }, token=member.token)
    assert response.json()["extensions"]["cost"]["requested"] == 1


async def test_a_cached_answer_is_still_costed_and_shows_its_cost(
    server: Server, api: Api
) -> None:
    small: dict[str, Any] = {"query": NESTED, "variables": {"posts": 1, "each": 1}}
    first = (await api.raw(small)).json()  # runs the executor: the answer is cached
    before = cache_hits(server)
    answered = (await api.raw(small)).json()
    assert cache_hits(server) == before + 1
    assert answered["data"] == first["data"]
    assert answered["extensions"]["cost"]["requested"] == 1 + 1 + 1
    remaining = first["extensions"]["cost"]["remaining"]
    assert answered["extensions"]["cost"]["remaining"] == remaining - 3
    # the same document with variables asking for 10 100 posts: another entry, refused
    large = {"query": NESTED, "variables": {"posts": 100, "each": 100}}
    refused = (await api.raw(large)).json()
    assert cache_hits(server) == before + 1
    assert refused["errors"][0]["extensions"]["cost"] == 1 + 100 + 100 * 100
    assert code_of(refused["errors"][0]) == "BAD_USER_INPUT"


async def test_a_subscription_over_the_cost_limit_is_refused(server: Server) -> None:
    url = server.graphql_url.replace("http://", "ws://")
    transport = WebsocketsTransport(
        url=url, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )
    client = Client(transport=transport, fetch_schema_from_transport=False, execute_timeout=60)
    async with client as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(GraphQLRequest(COSTLY_FEED)):
                break
    assert refused.value.errors
    extensions = refused.value.errors[0]["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT"
    assert extensions["cost"] == 1 + 100 + 100 * 100


def test_metrics_answer_loopback_clients_only_by_default(server: Server) -> None:
    assert httpx.get(f"{server.base}/metrics").status_code == 200
    # uvicorn takes the client's address from X-Forwarded-For sent by a local proxy
    remote = httpx.get(f"{server.base}/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert remote.status_code == 403
    assert "chronicle_" not in remote.text
