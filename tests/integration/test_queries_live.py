"""Subscriptions when the bus or a subscriber misbehaves: events' switch from the
store to the shared follower, commentAdded catching up after being cut off.

A scripted bus and an in-memory log make the hard cases deterministic: events
committed between the catch-up and the first notice, notices that jump, the
follower cut off by the bus, a follower that fails, a subscriber that stops
reading. In every case each position arrives exactly once, in order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from domain.commands import AddComment
from domain.ports import Actor
from events.bus import (
    EVENTS_CHANNEL,
    PROJECTIONS_CHANNEL,
    BusDisconnected,
    BusError,
    SubscriberOverflow,
)
from events.model import Notice, RecordedEvent
from events.notices import payload
from resolvers.context import Services
from resolvers.feeds import follow_comments
from resolvers.hub import LiveHub
from resolvers.live import follow_events
from tests.integration.test_queries_world import open_world

ADMIN = Actor("root", "ADMIN")


class MemoryLog:
    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []

    def record(self, count: int = 1) -> int:
        for _ in range(count):
            position = len(self.events) + 1
            self.events.append(RecordedEvent(
                event_id=uuid.uuid4(), position=position, stream_id="p1", stream_type="Post",
                version=position, type="PostEdited", schema_version=1,
                data={"post_id": "p1", "title": f"v{position}"}, recorded_at=datetime.now(UTC),
            ))
        return len(self.events)

    async def head_position(self) -> int:
        await asyncio.sleep(0)
        return len(self.events)

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, stream_id: str | None = None,
        types: Sequence[str] | None = None, to_position: int | None = None,
    ) -> list[RecordedEvent]:
        await asyncio.sleep(0)
        found = [e for e in self.events if e.position > after
                 and (to_position is None or e.position <= to_position)
                 and (stream_id is None or e.stream_id == stream_id)
                 and (types is None or e.type in types)]
        return found[:limit]


class ScriptedSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any] | BusError] = asyncio.Queue()

    def __aiter__(self) -> ScriptedSubscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        item = await self.queue.get()
        if isinstance(item, BusError):
            raise item
        return item


class ScriptedBus:
    def __init__(self, channel: str = EVENTS_CHANNEL) -> None:
        self.channel = channel
        self.subscriptions: list[ScriptedSubscription] = []
        self.subscribed = asyncio.Event()

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[ScriptedSubscription]:
        assert channel == self.channel
        subscription = ScriptedSubscription()
        self.subscriptions.append(subscription)
        self.subscribed.set()
        yield subscription

    async def next_subscription(self, count: int) -> ScriptedSubscription:
        while len(self.subscriptions) < count:
            self.subscribed.clear()
            await asyncio.wait_for(self.subscribed.wait(), 5)
        return self.subscriptions[count - 1]


QUEUE = 4
"""Shared batches a subscriber may fall behind in these tests."""


def notice(last: int, stream: str = "p1", kind: str = "PostEdited") -> dict[str, Any]:
    """What the store publishes after the commit that recorded ``last``."""
    return payload(Notice(last, last, (stream,), (kind,)))


@pytest.fixture
def log() -> MemoryLog:
    return MemoryLog()


@pytest.fixture
def bus() -> ScriptedBus:
    return ScriptedBus()


@pytest.fixture
def services(log: MemoryLog, bus: ScriptedBus) -> Services:
    # An admin sees everything, so neither the read model nor the engine is consulted.
    return Services(
        store=cast(Any, log), runner=cast(Any, None), engine=cast(Any, None),
        execute=cast(Any, None), tokens=cast(Any, None), bus=cast(Any, bus),
        hub=LiveHub(cast(Any, log), cast(Any, bus), poll_interval=60, queue_size=QUEUE),
    )


async def positions(stream: AsyncIterator[Any], count: int) -> list[int]:
    return [(await asyncio.wait_for(anext(stream), 5)).position for _ in range(count)]


async def test_events_recorded_during_the_catch_up_are_sent_once(
    log: MemoryLog, bus: ScriptedBus, services: Services
) -> None:
    log.record(3)
    stream = follow_events(services, ADMIN, after=None)
    assert await positions(stream, 3) == [1, 2, 3]
    live = await bus.next_subscription(1)
    log.record(2)  # committed while we were catching up: their notices arrive late
    live.queue.put_nowait(notice(4))
    live.queue.put_nowait(notice(5))
    log.record()
    live.queue.put_nowait(notice(6))
    assert await positions(stream, 3) == [4, 5, 6]
    await stream.aclose()  # type: ignore[attr-defined]


async def test_a_jump_in_notices_is_filled_from_the_store(
    log: MemoryLog, bus: ScriptedBus, services: Services
) -> None:
    stream = follow_events(services, ADMIN, after=None)
    first = asyncio.ensure_future(positions(stream, 4))
    live = await bus.next_subscription(1)
    log.record(4)
    live.queue.put_nowait(notice(4))  # notices 1-3 were lost on the way
    assert await first == [1, 2, 3, 4]
    await stream.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("failure", [SubscriberOverflow("behind"), BusDisconnected("gone")])
async def test_a_subscriber_cut_off_by_the_bus_resubscribes_and_resyncs_from_the_store(
    log: MemoryLog, bus: ScriptedBus, services: Services, failure: BusError
) -> None:
    log.record(2)
    stream = follow_events(services, ADMIN, after=1)
    assert await positions(stream, 1) == [2]
    first = await bus.next_subscription(1)
    log.record(3)  # 3, 4, 5: their notices are dropped with the failing subscription
    first.queue.put_nowait(failure)
    assert await positions(stream, 3) == [3, 4, 5]
    second = await bus.next_subscription(2)
    log.record()
    second.queue.put_nowait(notice(5))  # stale: already read from the store
    second.queue.put_nowait(notice(6))
    assert await positions(stream, 1) == [6]
    await stream.aclose()  # type: ignore[attr-defined]


async def test_every_commit_is_read_once_for_all_subscribers(
    log: MemoryLog, bus: ScriptedBus, services: Services
) -> None:
    streams = [follow_events(services, ADMIN, after=None) for _ in range(20)]
    waiting = [asyncio.ensure_future(positions(s, 2)) for s in streams]
    live = await bus.next_subscription(1)
    await asyncio.sleep(0.05)  # every subscriber has caught up (with nothing) and listens
    assert services.hub is not None
    reads = services.hub.log.reads
    log.record(2)
    live.queue.put_nowait(notice(2))
    assert [await w for w in waiting] == [[1, 2]] * 20
    assert services.hub.log.reads == reads + 1
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_a_subscriber_that_stops_reading_leaves_the_shared_stream_and_catches_up(
    log: MemoryLog, bus: ScriptedBus, services: Services
) -> None:
    assert services.hub is not None
    fanout = services.hub.log.fanout
    reader = follow_events(services, ADMIN, after=None)
    stalled = follow_events(services, ADMIN, after=None)
    first = asyncio.ensure_future(positions(reader, 1))
    stalled_first = asyncio.ensure_future(positions(stalled, 1))
    live = await bus.next_subscription(1)
    await asyncio.sleep(0.05)
    log.record()
    live.queue.put_nowait(notice(1))
    assert await first == [1] and await stalled_first == [1]
    # `stalled` stops reading; ten commits later it has been dropped, holding nothing.
    for _ in range(10):
        live.queue.put_nowait(notice(log.record()))
        assert await positions(reader, 1) == [log.events[-1].position]
    assert fanout.lagged == 1 and fanout.listeners == 1
    # Reading again, it catches up from the store, in order, then listens again.
    assert await positions(stalled, 10) == list(range(2, 12))
    live.queue.put_nowait(notice(log.record()))
    assert await positions(stalled, 1) == [12] and await positions(reader, 1) == [12]
    await reader.aclose()  # type: ignore[attr-defined]
    await stalled.aclose()  # type: ignore[attr-defined]


async def test_a_failing_follower_is_restarted_and_subscribers_lose_nothing(
    log: MemoryLog, bus: ScriptedBus, services: Services
) -> None:
    failures = 1
    read_all = log.read_all

    async def failing_once(**kwargs: Any) -> list[RecordedEvent]:
        nonlocal failures
        if failures and kwargs.get("to_position") is None:  # the follower's reads only
            failures -= 1
            raise ConnectionError("database went away")
        return await read_all(**kwargs)

    log.read_all = failing_once  # type: ignore[method-assign]
    stream = follow_events(services, ADMIN, after=None)
    pending = asyncio.ensure_future(positions(stream, 3))
    live = await bus.next_subscription(1)
    log.record(3)
    live.queue.put_nowait(notice(3))  # the follower fails reading these
    again = await bus.next_subscription(2)  # restarted: it listens again
    log.record()
    again.queue.put_nowait(notice(4))
    assert await pending == [1, 2, 3]
    assert await positions(stream, 1) == [4]
    assert services.hub is not None and services.hub.log.fanout.restarts == 1
    await stream.aclose()  # type: ignore[attr-defined]


async def test_comment_added_sends_the_comments_missed_while_the_bus_cut_it_off(
    database_url: str, tmp_path: Path
) -> None:
    async with open_world(database_url, tmp_path) as world:
        alice, bob = await world.member("alice"), await world.member("bob")
        post = await world.post(alice, "Discuss")
        await world.run(AddComment(post, "Before subscribing"), bob)
        bus = ScriptedBus(PROJECTIONS_CHANNEL)
        services = replace(world.services, bus=cast(Any, bus),
                           hub=LiveHub(world.chronicle.store, cast(Any, bus)))
        stream = follow_comments(services, None, post)
        first = asyncio.ensure_future(anext(stream))
        live = await bus.next_subscription(1)
        await world.run(AddComment(post, "Missed one"), bob)
        await world.run(AddComment(post, "Missed two"), alice)
        live.queue.put_nowait(BusDisconnected("gone"))  # their notices were lost
        assert (await asyncio.wait_for(first, 5)).body == "Missed one"
        assert (await asyncio.wait_for(anext(stream), 5)).body == "Missed two"
        again = await bus.next_subscription(2)
        comment = (await world.run(AddComment(post, "Live"), bob)).result["comment_id"]
        again.queue.put_nowait({"projection": "posts", "position": 0, "changes": [
            {"kind": "comment", "id": comment, "post_id": post, "change": "ADDED"}
        ]})
        assert (await asyncio.wait_for(anext(stream), 5)).body == "Live"
        await stream.aclose()  # type: ignore[attr-defined]


async def test_a_change_whose_notice_was_lost_without_a_cut_still_arrives(
    database_url: str, tmp_path: Path
) -> None:
    async with open_world(database_url, tmp_path) as world:
        alice, bob = await world.member("alice"), await world.member("bob")
        post = await world.post(alice, "Discuss")
        bus = ScriptedBus(PROJECTIONS_CHANNEL)  # hears nothing the runner announces
        runner = world.chronicle.runner
        hub = LiveHub(world.chronicle.store, cast(Any, bus), poll_interval=0.05,
                      applied=lambda: runner.applied("posts"))
        services = replace(world.services, bus=cast(Any, bus), hub=hub)
        stream = follow_comments(services, None, post)
        first = asyncio.ensure_future(anext(stream))
        await bus.next_subscription(1)
        await world.run(AddComment(post, "Its notice never came"), bob)
        assert (await asyncio.wait_for(first, 5)).body == "Its notice never came"
        assert hub.changes.resyncs == 1
        await stream.aclose()  # type: ignore[attr-defined]


async def test_following_from_beyond_any_position_never_asks_the_store_past_64_bits(
    log: MemoryLog, bus: ScriptedBus, services: Services
) -> None:
    asked: list[int] = []
    read_all = log.read_all

    async def recording(**kwargs: Any) -> list[RecordedEvent]:
        asked.append(kwargs["after"])
        return await read_all(**kwargs)

    log.read_all = recording  # type: ignore[method-assign]
    log.record(2)
    stream = follow_events(services, ADMIN, after=2**64 - 1)
    pending = asyncio.ensure_future(anext(stream))
    live = await bus.next_subscription(1)  # the catch-up is over
    log.record()
    live.queue.put_nowait(notice(3))
    await asyncio.sleep(0.05)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert asked and max(asked) <= 2**63 - 1  # PostgreSQL's BIGINT
