"""Several processes on one PostgreSQL database: one applies each projection, the others follow."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalog import PostCreated, PostPublished
from events.model import RecordedEvent
from projections.posts import PostsProjection
from projections.projection import Change
from projections.runner import ProjectionRunner
from projections.users import UsersProjection
from tests.integration.test_projections_kit import Log, contents, open_log, running

pytestmark = pytest.mark.postgres


class CountingPosts(PostsProjection):
    def __init__(self) -> None:
        self.events = 0

    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        self.events += len(events)
        return await super().apply(conn, tables, events)


def process(log: Log, posts: CountingPosts) -> ProjectionRunner:
    """A runner with its own lease owner id: another process, as far as the database knows."""
    return log.runner(projections=[UsersProjection(), posts], lease_ttl=1.0)


async def publish(log: Log, n: int) -> int:
    created = PostCreated(f"p{n}", "u1", "T", "B")
    return await log.append(f"post-{n}", created, PostPublished(f"p{n}"))


async def test_only_the_lease_holder_applies_and_the_follower_serves_the_same_tables(pg_url):
    async with open_log(pg_url) as log:
        first_posts, second_posts = CountingPosts(), CountingPosts()
        first, second = process(log, first_posts), process(log, second_posts)
        async with running(first):
            assert await first.wait_for(await publish(log, 1), 5)
            async with running(second):
                for n in range(2, 12):
                    await publish(log, n)
                head = await log.store.head_position()
                assert await first.wait_for(head, 5)
                assert await second.wait_for(head, 5), "a follower sees positions move"
                assert second_posts.events == 0, "only the lease holder applies"
                assert first_posts.events == 22
                assert second.tables().posts.name == first.tables().posts.name
                assert [s.position for s in await second.statuses()] == [head, head]

                await first.stop()  # the holder goes away: the follower takes over
                head = await publish(log, 12)
                assert await second.wait_for(head, 10)
                assert second_posts.events == 2
                assert first_posts.events == 22


async def test_a_rebuild_asked_of_a_follower_is_done_by_the_holder(pg_url):
    async with open_log(pg_url) as log:
        holder_posts, follower_posts = CountingPosts(), CountingPosts()
        holder, follower = process(log, holder_posts), process(log, follower_posts)
        async with running(holder):
            head = await publish(log, 1)
            assert await holder.wait_for(head, 5)
            async with running(follower):
                served = await contents(log.engine, holder)
                status = await asyncio.wait_for(follower.rebuild("posts"), 20)
                assert status.state == "LIVE" and status.position >= head
                assert follower_posts.events == 0
                assert holder_posts.events == 4, "the holder applied the log twice: live + rebuild"
                assert follower.tables().posts.name == "posts_g2"
                assert holder.tables().posts.name == "posts_g2"
                assert await contents(log.engine, follower) == served
