"""Operators over the API: projections' status and a rebuild that never takes reads offline."""

from __future__ import annotations

import asyncio

from tests.e2e.members import Member, register
from tests.e2e.posts_api import create
from tests.e2e.server import Api, code_of

PROJECTIONS = "{ projections { name state position lag lastError } }"
REBUILD = """
mutation R($name: String!) { rebuildProjection(name: $name) { name state position lag } }
"""
FEED = "{ posts(first: 50) { totalCount edges { node { id title likeCount author { id } } } } }"


async def test_admins_see_every_projection_live_at_the_head(api: Api, admin: Member) -> None:
    statuses = (await api(PROJECTIONS, token=admin.token))["projections"]
    assert {s["name"] for s in statuses} >= {"users", "posts"}
    head = int((await api("{ headPosition }"))["headPosition"])
    for status in statuses:
        assert status["state"] == "LIVE"
        assert status["lastError"] is None
        assert int(status["position"]) <= head


async def test_members_may_not_see_or_rebuild_projections(api: Api) -> None:
    member = await register(api)
    assert code_of(await api.error(PROJECTIONS, token=member.token)) == "FORBIDDEN"
    assert code_of(await api.error(PROJECTIONS)) == "UNAUTHENTICATED"
    error = await api.error(REBUILD, {"name": "posts"}, token=member.token)
    assert code_of(error) == "FORBIDDEN"


async def test_rebuilding_an_unknown_projection_is_not_found(api: Api, admin: Member) -> None:
    error = await api.error(REBUILD, {"name": "no_such_projection"}, token=admin.token)
    assert code_of(error) == "NOT_FOUND"


async def test_a_rebuild_under_concurrent_reads_fails_no_read(api: Api, admin: Member) -> None:
    author = await register(api)
    # enough of a log that the rebuild takes a while and reads overlap it
    await asyncio.gather(*(create(api, author.token, f"Post {i}", publish=True)
                           for i in range(30)))
    before = (await api(FEED))["posts"]
    rebuilding = asyncio.Event()
    failures: list[BaseException] = []
    answers: list[dict[str, object]] = []

    async def reader() -> None:
        while not rebuilding.is_set() or len(answers) < 5:
            try:
                answers.append((await api(FEED))["posts"])
            except Exception as error:  # every failed read is what this test is about
                failures.append(error)

    readers = [asyncio.create_task(reader()) for _ in range(4)]
    await asyncio.sleep(0.2)
    started = (await api(REBUILD, {"name": "posts"}, token=admin.token))["rebuildProjection"]
    assert started["name"] == "posts"
    assert started["state"] in {"REBUILDING", "LIVE"}  # LIVE only if it already finished
    for _ in range(600):
        statuses = (await api(PROJECTIONS, token=admin.token))["projections"]
        if all(s["state"] == "LIVE" for s in statuses):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the rebuild did not finish: {statuses}")
    rebuilding.set()
    await asyncio.gather(*readers)
    assert failures == []
    assert answers, "reads were served during the rebuild"
    for answer in answers:  # the old generation and the new one agree
        assert answer["totalCount"] >= before["totalCount"]
    after = (await api(FEED))["posts"]
    assert after == before
