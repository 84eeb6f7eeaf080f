"""Scaled out (PostgreSQL + Redis), every process evicts on the projections' notices.

The owner applies the projections; the follower only serves. An answer the
follower cached is evicted when the owner's notice arrives over Redis, and a
read at the write's position never gets the answer from before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import scaled_out_pair
from tests.e2e.members import PASSWORD, register
from tests.e2e.posts_api import create
from tests.e2e.server import Api, Server

pytestmark = pytest.mark.postgres

MINE = """query Mine($name: String) { posts(first: 10, authorUsername: $name) {
  edges { node { title } } } }"""


@pytest.fixture
def pair(tmp_path: Path, redis_url: str) -> Iterator[tuple[Server, Server]]:
    with scaled_out_pair(tmp_path, redis_url, "chronicle_cache_scaleout") as servers:
        yield servers


async def titles(api: Api, name: str, **headers: str) -> list[str]:
    response = await api.raw({"query": MINE, "variables": {"name": name}}, headers=headers)
    return [e["node"]["title"] for e in response.json()["data"]["posts"]["edges"]]


async def test_a_write_through_one_process_evicts_the_others_answers(
    pair: tuple[Server, Server],
) -> None:
    owner, follower = pair
    writer, reader = Api(owner), Api(follower)
    author = await register(writer)
    await create(writer, author.token, "first", publish=True)
    for n in range(3):
        seen = await titles(reader, author.username)  # cached on the follower
        assert await titles(reader, author.username) == seen
        made = await create(writer, author.token, f"later {n}", publish=True)
        # at the write's position: never the cached answer from before it
        at = await titles(reader, author.username, **{"X-Min-Position": str(made["position"])})
        assert at[0] == f"later {n}"
        # without a position: the notice over Redis evicts it soon
        for _ in range(200):
            if (await titles(reader, author.username))[0] == f"later {n}":
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the follower kept serving the answer from before the write")


async def test_a_password_changed_through_one_process_retires_the_token_on_the_other(
    pair: tuple[Server, Server],
) -> None:
    owner, follower = pair
    writer, reader = Api(owner), Api(follower)
    member = await register(writer)
    me = "{ me { id } }"
    for _ in range(30):  # the follower learns of the member from the owner's notices
        if (await reader(me, token=member.token))["me"] is not None:
            break
        await asyncio.sleep(0.1)
    assert (await reader(me, token=member.token))["me"] == {"id": member.id}  # in memory
    change = """mutation C($input: ChangePasswordInput!) { changePassword(input: $input) {
      position } }"""
    await writer(change, {"input": {"currentPassword": PASSWORD,
                                    "newPassword": "another long secret"}},
                 token=member.token)
    # The follower's memory forgets the member when the owner's notice arrives over Redis.
    for _ in range(200):
        if (await reader(me, token=member.token))["me"] is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the follower kept accepting a token retired by a password change")
