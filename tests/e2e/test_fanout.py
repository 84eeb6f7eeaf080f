"""Fan-out over real sockets: hundreds of subscribers of one server, a client that stops
reading, and clients that come back after their connection dropped.

Every subscription here resumes from a known position (``after``), so its first
result proves it is live (graphql-transport-ws acknowledges no subscription:
docs/architecture.md, "No acknowledgement of a subscription"). Runs on SQLite
with the in-process bus, and under CI on PostgreSQL with Redis as the bus.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REDIS_URL, _require
from tests.e2e.conftest import start_server
from tests.e2e.live_clients import Follower, Stalled, start_all
from tests.e2e.members import register
from tests.e2e.posts_api import create
from tests.e2e.server import Api, Server

EVENTS = """subscription E($after: Position) {
  events(after: $after, types: ["PostCreated", "PostPublished"]) { position type streamId } }"""
PUBLISHED = """subscription P($after: Position) {
  events(after: $after, types: ["PostPublished"]) { position streamId } }"""
CREATED = """subscription C($after: Position) {
  events(after: $after, types: ["PostCreated"]) { position streamId data } }"""
FEED = """subscription F($after: Position) {
  feed(after: $after) { change position post { id title } } }"""
DOCUMENTS = [EVENTS, PUBLISHED, FEED]


@pytest.fixture(scope="module", params=[
    "sqlite", pytest.param("postgres-redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    # A short queue, so that a subscriber that stops reading leaves the shared stream soon.
    extra: dict[str, str] = {"CHRONICLE_LIVE_QUEUE_SIZE": "16"}
    if request.param == "postgres-redis":
        _require("Redis", "127.0.0.1", 6379)
        extra |= {
            "CHRONICLE_DATABASE_URL": request.getfixturevalue("pg_database"),
            "CHRONICLE_BROADCAST_URL": REDIS_URL,
            "CHRONICLE_SECRET_KEY": uuid.uuid4().hex * 2,
        }
    running = start_server(tmp_path_factory.mktemp(f"fanout-{request.param}"), extra)
    try:
        yield running
    finally:
        running.stop()


def _post_ids(document: str, results: list[dict[str, Any]]) -> list[str]:
    """The posts a stream announced, in the order it announced them."""
    if document == FEED:
        return [r["feed"]["post"]["id"] for r in results if r["feed"]["change"] == "ADDED"]
    return [r["events"]["streamId"] for r in results
            if r["events"].get("type", "PostPublished") == "PostPublished"]


async def _publish(api: Api, token: str, count: int) -> list[str]:
    ids = []
    for i in range(count):
        ids.append(str((await create(api, token, f"Fan-out {i}", publish=True))["post"]["id"]))
    return ids


@pytest.mark.slow
async def test_three_hundred_subscribers_sharing_three_documents_get_identical_streams(
    server: Server, api: Api
) -> None:
    author, reader = await register(api), await register(api)
    warm = await create(api, author.token, "Warm-up", publish=True)
    after = str(int(warm["position"]) - 1)
    wanted = 10 + 1  # the warm-up post, then ten more

    def complete(document: str) -> Any:
        return lambda results: len(_post_ids(document, results)) >= wanted

    followers = [Follower(server, reader.token, DOCUMENTS[i % 3], {"after": after},
                          complete(DOCUMENTS[i % 3])) for i in range(300)]
    await start_all(followers)
    posted = [warm["post"]["id"], *await _publish(api, author.token, 10)]
    await asyncio.gather(*(f.finished(60) for f in followers))
    for i, document in enumerate(DOCUMENTS):
        streams = [f.results for f in followers[i::3]]
        assert all(s == streams[0] for s in streams), f"streams differ for {document}"
        assert _post_ids(document, streams[0]) == posted  # complete, in order, once each
        if document != FEED:
            positions = [int(r["events"]["position"]) for r in streams[0]]
            assert positions == sorted(set(positions))


@pytest.fixture
def api(server: Server) -> Api:
    return Api(server)


async def test_a_subscriber_that_stops_reading_slows_nobody_and_catches_up_when_it_reads(
    server: Server, api: Api
) -> None:
    author, reader = await register(api), await register(api)
    warm = await create(api, author.token, "Warm-up", publish=True)
    after = str(int(warm["position"]) - 1)
    # Ten subscriptions to the posts' bodies on one socket that stops reading: the
    # server's sends back up after a few posts.
    stalled = Stalled(operations=10)
    await stalled.open(server, reader.token, CREATED, {"after": str(int(after) - 1)})
    total = 1 + 30
    followers = [Follower(server, reader.token, PUBLISHED, {"after": after},
                          lambda results: len(results) >= total) for _ in range(5)]
    await start_all(followers)
    body = "x" * 32_000
    rss_before = _rss(server)
    posted = [warm["post"]["id"]]
    for i in range(30):
        posted.append(str((await create(api, author.token, f"Big {i}", publish=True,
                                        body=body))["post"]["id"]))
    await asyncio.gather(*(f.finished(30) for f in followers))
    assert all(_post_ids(PUBLISHED, f.results) == posted for f in followers)
    # It was dropped from the shared stream, and the server did not keep its backlog.
    assert "fell behind" in server.log()
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{server.base}/metrics")).text
    dropped = re.search(r'chronicle_live_dropped_subscribers_total\{stream="log"\} (\S+)', metrics)
    assert dropped is not None and float(dropped.group(1)) >= 1
    assert _rss(server) - rss_before < 32 * 2**20
    # Reading again, it gets everything, in order, once: caught up from the store.
    try:
        results = await stalled.read(total, timeout=60)
    finally:
        await stalled.close()
    assert all([r["data"]["events"]["streamId"] for r in operation] == posted
               for operation in results.values())


def _rss(server: Server) -> int:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:"))
               .split()[1]) * 1024


@pytest.mark.parametrize("document", [EVENTS, FEED], ids=["events", "feed"])
async def test_a_client_whose_connection_dropped_resumes_from_the_last_position_it_saw(
    server: Server, api: Api, document: str
) -> None:
    author, reader = await register(api), await register(api)
    warm = await create(api, author.token, "Warm-up", publish=True)
    first = Follower(server, reader.token, document, {"after": str(int(warm["position"]) - 1)},
                     lambda results: len(_post_ids(document, results)) >= 2)
    await start_all([first])
    before = [warm["post"]["id"], *await _publish(api, author.token, 1)]
    await first.finished(30)  # and its socket is closed
    key = "feed" if document == FEED else "events"
    last_seen = first.results[-1][key]["position"]
    while_away = await _publish(api, author.token, 3)
    again = Follower(server, reader.token, document, {"after": last_seen},
                     lambda results: len(_post_ids(document, results)) >= 4)
    await start_all([again])
    live = await _publish(api, author.token, 1)
    await again.finished(30)
    assert _post_ids(document, first.results) == before
    assert _post_ids(document, again.results) == while_away + live
    positions = [int(r[key]["position"]) for r in again.results]
    assert positions == sorted(positions) and positions[0] > int(last_seen)
