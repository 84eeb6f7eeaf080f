"""Read-model subscriptions over graphql-transport-ws: feed, postChanged, commentAdded.

graphql-transport-ws does not acknowledge a subscription (docs/architecture.md,
"No acknowledgement of a subscription"): the scenario keeps making changes until
the first one arrives, then checks that what arrived is one of them, as the read
model holds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.members import register
from tests.e2e.posts_api import LIKE, UNLIKE, create
from tests.e2e.server import Api, Server

ATTEMPTS = 40


Change = Callable[[int], Awaitable[Any]]


async def _first_while(
    server: Server, token: str, document: str, variables: dict[str, Any], change: Change
) -> tuple[dict[str, Any], list[Any]]:
    """Subscribe, then make change(0), change(1)… until the subscription delivers."""
    url = server.graphql_url.replace("http://", "ws://")
    transport = WebsocketsTransport(url=url, init_payload={"authToken": token},
                                    subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
    made: list[Any] = []
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        results = session.subscribe(GraphQLRequest(document, variable_values=variables))
        first = asyncio.ensure_future(anext(results))
        try:
            for attempt in range(ATTEMPTS):
                made.append(await change(attempt))
                done, _ = await asyncio.wait({first}, timeout=0.5)
                if done:
                    return dict(first.result()), made
        finally:
            if not first.done():
                first.cancel()
            await results.aclose()
    raise AssertionError(f"nothing delivered after {ATTEMPTS} changes")


async def test_the_feed_announces_newly_published_posts(server: Server, api: Api) -> None:
    author = await register(api)
    tag = author.username[-10:]
    feed = """
    subscription F($tag: String) { feed(tag: $tag) { change position post { id title tags } } }
    """

    async def publish(i: int) -> str:
        return str((await create(api, author.token, f"Live {i}", tags=[tag],
                                 publish=True))["post"]["id"])

    update, published = await _first_while(server, author.token, feed, {"tag": tag}, publish)
    update = update["feed"]
    assert update["change"] == "ADDED"
    assert update["post"]["id"] in published
    assert update["post"]["tags"] == [tag]
    assert int(update["position"]) > 0


async def test_post_changed_delivers_the_post_after_each_change(server: Server, api: Api) -> None:
    author = await register(api)
    fan = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    changed = "subscription C($id: ID!) { postChanged(id: $id) { id likeCount } }"

    async def toggle_like(i: int) -> int:
        document = LIKE if i % 2 == 0 else UNLIKE
        data = await api(document, {"id": post_id}, token=fan.token)
        return int(next(iter(data.values()))["post"]["likeCount"])

    post, counts = await _first_while(server, fan.token, changed, {"id": post_id}, toggle_like)
    assert post["postChanged"]["id"] == post_id
    assert post["postChanged"]["likeCount"] in counts


async def test_comment_added_delivers_new_comments_on_the_post(server: Server, api: Api) -> None:
    author = await register(api)
    post_id = (await create(api, author.token, publish=True))["post"]["id"]
    added = "subscription A($id: ID!) { commentAdded(postId: $id) { id postId body } }"
    add = "mutation A($i: AddCommentInput!) { addComment(input: $i) { comment { body } } }"

    async def comment(i: int) -> str:
        await api(add, {"i": {"postId": post_id, "body": f"comment {i}"}}, token=author.token)
        return f"comment {i}"

    delivered, bodies = await _first_while(server, author.token, added, {"id": post_id}, comment)
    assert delivered["commentAdded"]["postId"] == post_id
    assert delivered["commentAdded"]["body"] in bodies
