"""Two servers on PostgreSQL + Redis: ``kill -9`` of the projections' owner, writes going on.

The survivor takes the projections over at once (an advisory lock dies with
its owner's session, see projections/advisory.py): no write fails, none
waits long for its read model, and the read model equals a rebuild.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import scaled_out_pair
from tests.e2e.members import Member, promote, register, register_sync
from tests.e2e.posts_api import create
from tests.e2e.server import Api, Server

pytestmark = pytest.mark.postgres

TAKEOVER_WITHIN = 2.5
"""Seconds a write may wait for its read model while the survivor takes over."""
PROJECTIONS = "{ projections { name state lag } }"
REBUILD = "mutation R($name: String!) { rebuildProjection(name: $name) { state } }"
FEED = """{ posts(first: 100) { totalCount edges { node {
  id title status commentCount likeCount author { id username postCount } } } } }"""


@pytest.fixture
def pair(tmp_path: Path, redis_url: str) -> Iterator[tuple[Server, Server]]:
    with scaled_out_pair(tmp_path, redis_url, "chronicle_failover") as servers:
        yield servers


async def until_live(api: Api, admin: Member) -> None:
    async with asyncio.timeout(60):
        while True:
            statuses = (await api(PROJECTIONS, token=admin.token))["projections"]
            if all(s["state"] == "LIVE" and s["lag"] == 0 for s in statuses):
                return
            await asyncio.sleep(0.2)


async def test_kill_9_of_the_owner_fails_no_write_and_the_survivor_projects_at_once(pair):
    owner, survivor = pair
    api = Api(survivor)
    admin = register_sync(survivor)
    promote(survivor, admin.username, admin.token)
    author = await register(api)
    for n in range(5):
        await create(api, author.token, f"Before {n}", publish=True)

    writes: list[tuple[float, float]] = []
    """When each write began and ended (``time.monotonic()``)."""
    stop = asyncio.Event()

    async def write_on() -> None:
        n = 0
        while not stop.is_set():
            began = time.monotonic()
            await create(api, author.token, f"During {n}", publish=True)
            writes.append((began, time.monotonic()))
            n += 1

    writer = asyncio.create_task(write_on())
    await asyncio.sleep(0.5)
    assert owner.process is not None
    owner.process.kill()  # SIGKILL: no shutdown, no unlock
    killed_at = time.monotonic()
    await asyncio.sleep(4)
    stop.set()
    await writer  # a failed write raises here

    # Every write answered after the kill (in flight at the kill or begun after it).
    waits = [round(ended - began, 3) for began, ended in writes if ended > killed_at]
    assert sum(began > killed_at for began, _ in writes) >= 3, "writes went on after the kill"
    assert max(waits) < TAKEOVER_WITHIN, waits

    served = (await api(FEED))["posts"]
    assert served["totalCount"] == 5 + len(writes)
    for name in ("users", "posts"):
        await api(REBUILD, {"name": name}, token=admin.token)
    await until_live(api, admin)
    assert (await api(FEED))["posts"] == served
