"""The runner: atomic batches, crash safety, failures, waiting on positions, wake-ups."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.bus import PROJECTIONS_CHANNEL, Bus
from events.catalog import CommentAdded, PostArchived, PostCreated, PostEdited, PostPublished
from events.model import RecordedEvent
from projections.posts import PostsProjection
from projections.projection import Change
from projections.runner import ProjectionRunner, UnknownProjection
from projections.users import UsersProjection
from tests.integration.test_projections_kit import (
    Log,
    contents,
    open_log,
    rows,
    running,
    seed_community,
)


class FaultyPosts(PostsProjection):
    """Writes its rows, then fails (or hangs) on chosen batches: a crash inside a transaction.

    The failure is a lost connection, a transient one: the batch is retried, never parked
    (events failing deterministically are parked: test_projections_dead_letters)."""

    def __init__(self, fail_from: int | None = None, hang_on: int | None = None) -> None:
        self.calls = 0
        self.fail_from = fail_from
        self.hang_on = hang_on
        self.healed = False

    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        self.calls += 1
        changes = await super().apply(conn, tables, events)
        if self.hang_on == self.calls:
            await asyncio.Event().wait()  # until the task is killed
        if self.fail_from is not None and self.calls >= self.fail_from and not self.healed:
            raise ConnectionResetError("injected fault")
        return changes


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    async with open_log(database_url) as log:
        yield log


async def fresh_rebuild(log: Log, runner: ProjectionRunner) -> dict[str, list[str]]:
    before = runner.tables()
    for name in runner.names:
        await runner.rebuild(name)
    assert runner.tables().posts is not before.posts, "a rebuild fills a new generation"
    return await contents(log.engine, runner)


async def until(condition: Any, within: float = 10.0) -> None:
    """Poll a state that lives in the database or another task (no event to wait on)."""
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_transient_failure_leaves_neither_rows_nor_checkpoint_and_is_retried(log):
    head = await seed_community(log)
    faulty = FaultyPosts(fail_from=3)
    runner = log.runner(batch_size=4, rebuild_batch_size=4, projections=[UsersProjection(), faulty])
    async with running(runner):

        async def failed() -> bool:
            statuses = {s.name: s for s in await runner.statuses()}
            return statuses["posts"].state == "FAILED"

        await until(failed)
        status = {s.name: s for s in await runner.statuses()}["posts"]
        assert status.last_error == "injected fault"
        assert 0 < status.position < head and status.lag == head - status.position
        t = runner.tables()
        for table in (t.posts, t.comments, t.post_history):
            assert all(r["position"] <= status.position for r in await rows(log.engine, table))

        async def users_live() -> bool:
            return {s.name: s.state for s in await runner.statuses()}["users"] == "LIVE"

        await until(users_live)  # the other projection carries on

        faulty.healed = True
        assert await runner.wait_for(head, 10)
        assert {s.name: s.state for s in await runner.statuses()}["posts"] == "LIVE"
        recovered = await contents(log.engine, runner)
        assert recovered == await fresh_rebuild(log, runner)


async def test_a_runner_killed_inside_a_batch_resumes_to_the_same_tables_as_a_rebuild(log):
    head = await seed_community(log, users=5, posts=12)
    hanging = FaultyPosts(hang_on=3)
    first = log.runner(batch_size=3, rebuild_batch_size=3, projections=[UsersProjection(), hanging])
    await first.start()
    await until(lambda: asyncio.sleep(0, hanging.calls >= 3))
    await first.stop()  # killed with a batch's rows written but not committed

    second = log.runner(batch_size=3, rebuild_batch_size=3)
    async with running(second):
        assert await second.wait_for(head, 10)
        resumed = await contents(log.engine, second)
        assert resumed == await fresh_rebuild(log, second)
    assert len(resumed["posts"]) == 12


async def test_wait_for_is_true_once_applied_and_false_at_the_deadline(log):
    position = await log.append("post-1", PostCreated("p1", "u1", "T", "B"))
    async with running(log.runner()) as runner:
        assert await runner.wait_for(position, 5)
        assert await runner.wait_for(position, 5, names=["posts"])
        assert not await runner.wait_for(position + 1, 0.3)
        with pytest.raises(UnknownProjection):
            await runner.wait_for(position, 1, names=["nope"])


async def test_positions_of_events_no_projection_reads_are_still_reached(log):
    position = await log.append("post-1", PostCreated("p1", "u1", "T", "B"))
    async with running(log.runner()) as runner:
        assert await runner.wait_for(position, 5)
        t = runner.tables().users
        assert await rows(log.engine, t) == [], "users reads no post-only events..."
        statuses = await runner.statuses()
        assert all(s.position == position and s.lag == 0 for s in statuses), "...but passes them"


async def test_a_lost_notice_is_made_up_for_by_the_poll(sqlite_url: str):
    async with open_log(sqlite_url) as log:
        deaf = Bus("memory://")  # never hears the store's notices
        await deaf.connect()
        try:
            runner = ProjectionRunner(log.engine, log.store, deaf, poll_interval=0.2)
            async with running(runner):
                position = await log.append("post-1", PostCreated("p1", "u1", "T", "B"))
                assert await runner.wait_for(position, 5)
        finally:
            await deaf.disconnect()


async def test_each_batch_is_announced_with_feed_changes(sqlite_url: str):
    async with open_log(sqlite_url) as log, running(log.runner()) as runner:
        notices: list[dict[str, Any]] = []

        async def collect(until_position: int) -> None:
            async for notice in subscription:
                notices.append(notice)
                if notice["projection"] == "posts" and notice["position"] >= until_position:
                    return

        async with log.bus.subscribe(PROJECTIONS_CHANNEL) as subscription:
            steps = [
                ("post-1", [PostCreated("p1", "u1", "T", "B"), PostPublished("p1")]),
                ("post-1", [PostEdited("p1", title="T2")]),
                ("comment-c1", [CommentAdded("c1", "p1", "u2", "Hi")]),
                ("post-1", [PostArchived("p1")]),
            ]
            for stream, events in steps:
                position = await log.append(stream, *events)
                await asyncio.wait_for(collect(position), 5)
        assert runner.names == ("users", "posts")
    changes = [c for n in notices if n["projection"] == "posts" for c in n["changes"]]
    assert [(c["kind"], c["change"]) for c in changes] == [
        ("post", "ADDED"), ("post", "UPDATED"), ("post", "UPDATED"), ("comment", "ADDED"),
        ("post", "REMOVED"),
    ]
    assert changes[3]["post_id"] == "p1"
