"""The broadcast bus: nothing a subscriber is owed is lost without it being told."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from redis import asyncio as redis

from events.bus import Bus, BusDisconnected, SubscriberOverflow, Subscription

WAIT = 10.0
"""Generous bound on every wait: a hang fails the test instead of blocking the run."""


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def bus_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def shared_url(request: pytest.FixtureRequest) -> str:
    """A transport two processes can share."""
    fixture = "redis_url" if request.param == "redis" else "pg_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def channel() -> str:
    # Unique per test: other test runs may share the same Redis.
    return f"test.{uuid.uuid4().hex}"


async def open_bus(url: str, **options: Any) -> Bus:
    bus = Bus(url, name=f"test-bus-{uuid.uuid4().hex[:12]}", **options)
    await bus.connect()
    return bus


@pytest.fixture
async def bus(bus_url: str) -> AsyncIterator[Bus]:
    bus = await open_bus(bus_url)
    yield bus
    await bus.disconnect()


async def take(subscription: Subscription, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(WAIT):
        return [await anext(subscription) for _ in range(count)]


async def test_a_subscriber_receives_each_payload_published_after_it_subscribed(
    bus: Bus, channel: str
) -> None:
    async with bus.subscribe(channel) as subscription:
        for n in range(3):
            await bus.publish(channel, {"n": n, "text": "é"})
        assert await take(subscription, 3) == [{"n": n, "text": "é"} for n in range(3)]
    assert bus.stats.published == 3
    assert bus.stats.publish_failures == 0


async def test_payloads_on_other_channels_are_not_delivered(bus: Bus, channel: str) -> None:
    async with bus.subscribe(channel) as subscription:
        await bus.publish(channel + ".other", {"n": 0})
        await bus.publish(channel, {"n": 1})
        assert await take(subscription, 1) == [{"n": 1}]


async def test_many_concurrent_first_subscribers_all_receive_every_payload(
    bus: Bus, channel: str
) -> None:
    subscribers, messages = 50, 20
    entered = 0
    all_in = asyncio.Event()

    async def subscriber() -> list[dict[str, Any]]:
        nonlocal entered
        async with bus.subscribe(channel) as subscription:
            entered += 1
            if entered == subscribers:
                all_in.set()
            return await take(subscription, messages)

    tasks = [asyncio.create_task(subscriber()) for _ in range(subscribers)]
    async with asyncio.timeout(WAIT):
        await all_in.wait()
    for n in range(messages):
        await bus.publish(channel, {"n": n})
    received = await asyncio.gather(*tasks)
    assert received == [[{"n": n} for n in range(messages)]] * subscribers


async def test_a_subscriber_leaving_does_not_disturb_the_others(bus: Bus, channel: str) -> None:
    async with bus.subscribe(channel) as staying:
        async with bus.subscribe(channel) as leaving:
            await bus.publish(channel, {"n": 1})
            assert await take(leaving, 1) == [{"n": 1}]
        await bus.publish(channel, {"n": 2})
        assert await take(staying, 2) == [{"n": 1}, {"n": 2}]


async def test_a_channel_everyone_left_can_be_subscribed_again(bus: Bus, channel: str) -> None:
    async with bus.subscribe(channel) as first:
        await bus.publish(channel, {"n": 1})
        assert await take(first, 1) == [{"n": 1}]
    async with bus.subscribe(channel) as again:
        await bus.publish(channel, {"n": 2})
        assert await take(again, 1) == [{"n": 2}]


async def test_a_slow_subscriber_overflows_while_a_fast_one_receives_everything(
    bus_url: str, channel: str
) -> None:
    bus = await open_bus(bus_url, queue_size=10)
    try:
        async with bus.subscribe(channel) as slow, bus.subscribe(channel) as fast:
            received = []
            for n in range(100):
                await bus.publish(channel, {"n": n})
                received += await take(fast, 1)  # keeps up: one at a time
            assert received == [{"n": n} for n in range(100)]
            with pytest.raises(SubscriberOverflow):
                await take(slow, 1)
            # The overflow ends the iteration: the consumer re-syncs from the store.
            with pytest.raises(StopAsyncIteration):
                await anext(slow)
        assert bus.stats.overflows == 1
    finally:
        await bus.disconnect()


async def test_two_buses_on_one_transport_see_each_others_payloads(
    shared_url: str, channel: str
) -> None:
    one, two = await open_bus(shared_url), await open_bus(shared_url)
    try:
        async with one.subscribe(channel) as on_one, two.subscribe(channel) as on_two:
            await one.publish(channel, {"from": "one"})
            await two.publish(channel, {"from": "two"})
            assert await take(on_one, 2) == [{"from": "one"}, {"from": "two"}]
            assert await take(on_two, 2) == [{"from": "one"}, {"from": "two"}]
    finally:
        await one.disconnect()
        await two.disconnect()


async def kill_redis_listener(url: str, bus: Bus) -> None:
    admin = redis.Redis.from_url(url)
    try:
        clients = await admin.client_list()
        (victim,) = [c for c in clients if c["name"] == f"{bus.name}:listen"]
        await admin.client_kill_filter(_id=victim["id"])
    finally:
        await admin.aclose()


async def kill_postgres_listener(url: str, bus: Bus) -> None:
    database = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        killed = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        assert len(killed) == 1
    finally:
        await admin.close()


async def test_a_lost_listener_connection_is_told_to_subscribers_and_the_bus_recovers(
    shared_url: str, channel: str
) -> None:
    bus = await open_bus(shared_url)
    kill = kill_redis_listener if shared_url.startswith("redis") else kill_postgres_listener
    try:
        async with bus.subscribe(channel) as subscription:
            await bus.publish(channel, {"n": 1})
            assert await take(subscription, 1) == [{"n": 1}]
            await kill(shared_url, bus)
            with pytest.raises(BusDisconnected):
                await take(subscription, 1)
        assert bus.stats.disconnects == 1
        # Subscribing again waits for the reconnection, so nothing published after it is lost.
        async with bus.subscribe(channel) as resumed:
            assert bus.connected
            await bus.publish(channel, {"n": 2})
            assert await take(resumed, 1) == [{"n": 2}]
    finally:
        await bus.disconnect()


@pytest.mark.redis
async def test_a_malformed_payload_from_a_foreign_publisher_is_skipped(
    redis_url: str, channel: str
) -> None:
    bus = await open_bus(redis_url)
    foreign = redis.Redis.from_url(redis_url)
    try:
        async with bus.subscribe(channel) as subscription:
            await foreign.publish(channel, b"not json")
            await foreign.publish(channel, b"[1, 2]")
            await bus.publish(channel, {"n": 1})
            assert await take(subscription, 1) == [{"n": 1}]
        assert bus.stats.malformed == 2
    finally:
        await foreign.aclose()
        await bus.disconnect()


async def test_disconnecting_ends_subscriptions_cleanly(bus_url: str, channel: str) -> None:
    bus = await open_bus(bus_url)
    async with bus.subscribe(channel) as subscription:
        await bus.disconnect()
        async with asyncio.timeout(WAIT):
            assert [payload async for payload in subscription] == []


async def test_publishing_on_a_closed_bus_is_counted_not_raised(bus_url: str) -> None:
    bus = await open_bus(bus_url)
    await bus.disconnect()
    await bus.publish("anything", {"n": 1})
    assert bus.stats.publish_failures == 1
    with pytest.raises(RuntimeError):
        async with bus.subscribe("anything"):
            pass


async def test_connecting_to_an_unreachable_transport_fails_at_once() -> None:
    bus = Bus("redis://127.0.0.1:1")  # nothing listens on port 1
    with pytest.raises(ConnectionError):
        await bus.connect()


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="kafka"):
        Bus("kafka://localhost")
