"""Over real sockets, a query answered by its compiled plan is the full executor's answer.

The first time a query document runs, the full executor answers it and the
server learns its plan; later requests are answered by the plan (counted in
``/metrics``). Errors always come from the full executor, with their codes,
whichever path the request started on.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.e2e import posts_api
from tests.e2e.members import register
from tests.e2e.server import Api, Server, code_of

FEED = """query PlannedFeed($first: Int) {
  posts(first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title tags status likedByMe commentCount likeCount
                          author { username displayName } } }
  }
}"""
LOG = "query PlannedLog { events(first: 2) { edges { node { type position } } } }"


def answered_by_plans(server: Server) -> float:
    text = httpx.get(f"{server.base}/metrics").text
    found = re.search(
        r'^chronicle_graphql_planned_queries_total\{outcome="answered"\} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


async def test_a_repeated_query_is_answered_by_its_plan_with_the_same_answer(
    server: Server, api: Api
) -> None:
    member = await register(api)
    await posts_api.create(api, member.token, "Planned post", publish=True)
    body: dict[str, Any] = {"query": FEED, "variables": {"first": 5}}
    headers = {"Authorization": f"Bearer {member.token}"}
    first = await api.raw(body, headers=headers)
    before = answered_by_plans(server)
    second = await api.raw(body, headers=headers)
    assert answered_by_plans(server) == before + 1
    assert second.status_code == first.status_code == 200
    assert second.json()["data"] == first.json()["data"]
    # charged the same cost as the full path (README.md, "Query cost and rate limits")
    first_cost, second_cost = (r.json()["extensions"]["cost"] for r in (first, second))
    assert second_cost["requested"] == first_cost["requested"]
    assert second_cost["remaining"] == first_cost["remaining"] - first_cost["requested"]
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    titles = [e["node"]["title"] for e in second.json()["data"]["posts"]["edges"]]
    assert "Planned post" in titles


async def test_errors_of_a_planned_query_come_with_their_codes(
    server: Server, api: Api
) -> None:
    member = await register(api)
    await api(LOG, token=member.token)  # learned: ran cleanly for a member
    await api(LOG, token=member.token)
    # the same document, anonymous: the plan's resolver refuses, the full path reports it
    assert code_of(await api.error(LOG)) == "UNAUTHENTICATED"
    # a learned feed asked for too large a page
    await api(FEED, {"first": 1})
    error = await api.error(FEED, {"first": 1000})
    assert code_of(error) == "BAD_USER_INPUT"
    # variables of the wrong type never reach a resolver
    error = await api.error(FEED, {"first": "many"})
    assert code_of(error) == "BAD_USER_INPUT"
