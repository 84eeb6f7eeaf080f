"""Blue/green rebuilds: reads never fail, the swap is atomic, progress shows, shapes migrate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Table, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalog import PostCreated, PostLiked, PostPublished
from events.model import RecordedEvent
from projections.batches import read_batch
from projections.history import post_states, posts_as_of
from projections.posts import PostsProjection
from projections.projection import Change
from projections.runner import ProjectionRunner, UnknownProjection
from projections.tables import COUNTS_APART
from projections.users import UsersProjection
from tests.integration.test_projections_kit import (
    Log,
    contents,
    open_log,
    running,
    seed_community,
)


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    async with open_log(database_url) as log:
        yield log


async def publish_posts(log: Log, first: int, count: int) -> int:
    position = 0
    for i in range(first, first + count):
        position = await log.append(
            f"post-n{i}", PostCreated(f"n{i}", "u0", f"New {i}", "B"), PostPublished(f"n{i}")
        )
    return position


async def test_a_rebuild_under_concurrent_reads_and_writes_never_fails_or_goes_back(log):
    await seed_community(log, users=4, posts=30)
    runner = log.runner(batch_size=50, rebuild_batch_size=20)
    async with running(runner):
        assert await runner.wait_for(await log.store.head_position(), 10)
        before = runner.tables().posts
        seen: list[list[int]] = [[], [], []]
        done = asyncio.Event()

        async def read_feed(seen: list[int]) -> None:
            while not done.is_set():
                t = runner.tables()
                async with log.engine.connect() as conn:
                    count = await conn.scalar(
                        select(func.count()).select_from(t.posts.join(t.users, t.users.c.id
                                                                      == t.posts.c.author_id))
                        .where(t.posts.c.status == "PUBLISHED")
                    )
                seen.append(int(count or 0))
                await asyncio.sleep(0)

        readers = [asyncio.create_task(read_feed(mine)) for mine in seen]
        writer = asyncio.create_task(publish_posts(log, 0, 20))
        status = await runner.rebuild("posts")
        head = await writer
        done.set()
        await asyncio.gather(*readers)  # a failed read fails the test here

        assert status.name == "posts" and status.state in ("LIVE", "CATCHING_UP")
        assert runner.tables().posts is not before
        # Published posts only ever increase here: after the swap, no reader saw a
        # state older than one it had seen before.
        for mine in seen:
            assert len(mine) > 5
            assert mine == sorted(mine)
            assert 15 <= mine[-1] <= 15 + 20
        assert await runner.wait_for(head, 10)
        live = await contents(log.engine, runner)
        await runner.rebuild("posts")
        assert await contents(log.engine, runner) == live


async def test_the_old_generation_is_dropped_after_the_grace_period(log):
    head = await seed_community(log)
    runner = log.runner(drop_grace=0.1)
    async with running(runner):
        assert await runner.wait_for(head, 10)
        old = runner.tables().posts
        await runner.rebuild("posts")
        await asyncio.sleep(0.5)
        async with log.engine.connect() as conn:
            names = await conn.run_sync(lambda c: c.dialect.get_table_names(c))
    assert old.name not in names
    assert runner.tables().posts.name in names


class GatedPosts(PostsProjection):
    """Holds the rebuild's second batch until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.rebuild_batches = 0

    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        if not tables["posts"].name.endswith("_g1"):
            self.rebuild_batches += 1
            if self.rebuild_batches == 2:
                await self.gate.wait()
        return await super().apply(conn, tables, events)


async def test_a_rebuild_shows_progress_and_its_state_while_the_old_tables_serve(log):
    head = await seed_community(log, users=3, posts=20)
    gated = GatedPosts()
    runner = log.runner(rebuild_batch_size=5, projections=[UsersProjection(), gated])
    progress: list[tuple[int, int]] = []
    async with running(runner):
        assert await runner.wait_for(head, 10)
        served = await contents(log.engine, runner)
        rebuild = asyncio.create_task(runner.rebuild("posts", lambda d, t: progress.append((d, t))))
        while gated.rebuild_batches < 2:  # noqa: ASYNC110 - another task's progress
            await asyncio.sleep(0.01)
        statuses = {s.name: s for s in await runner.statuses()}
        assert statuses["posts"].state == "REBUILDING"
        assert 0 < statuses["posts"].position < head
        assert statuses["posts"].lag == head - statuses["posts"].position
        assert statuses["users"].state == "LIVE"
        assert await contents(log.engine, runner) == served, "the live generation keeps serving"
        gated.gate.set()
        status = await rebuild
    assert status.state == "LIVE" and status.position == head and status.lag == 0
    assert progress[-1] == (head, head)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert all(total == head for _, total in progress)


class PostsReshaped(PostsProjection):
    schema_version = PostsProjection.schema_version + 1


async def test_a_changed_table_shape_is_rebuilt_on_start(log):
    head = await seed_community(log)
    async with running(log.runner()) as runner:
        assert await runner.wait_for(head, 10)
        served = await contents(log.engine, runner)
    upgraded = log.runner(projections=[UsersProjection(), PostsReshaped()])
    async with running(upgraded):
        async with asyncio.timeout(10):
            while upgraded.tables().posts.name != "posts_g2":  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert await contents(log.engine, upgraded) == served


class PostsWithWholeRowHistory(PostsProjection):
    """The posts projection as code before COUNTS_APART built it."""

    schema_version = COUNTS_APART - 1


async def past(log: Log, runner: ProjectionRunner, head: int) -> list[list[Any]]:
    """``posts(asOf:)``'s rows at every position up to ``head``, and every post state."""
    tables = runner.tables()
    answers = []
    async with log.engine.connect() as conn:
        for position in range(head + 1):
            t = posts_as_of(tables, position)
            result = await conn.execute(select(t).order_by(t.c.id))
            answers.append([tuple(r) for r in result])
        states = post_states(tables)
        result = await conn.execute(select(states).order_by(states.c.id, states.c.valid_from))
        answers.append([tuple(r) for r in result])
    return answers


async def test_a_generation_of_the_older_history_shape_serves_until_rebuilt(log):
    """Upgrading onto a generation whose post_history holds whole rows: it keeps being
    applied and answering asOf in its shape while the new shape fills, then the new
    shape answers exactly the same."""
    await seed_community(log)
    async with running(
        log.runner(projections=[UsersProjection(), PostsWithWholeRowHistory()])
    ) as older:
        assert await older.wait_for(await log.store.head_position(), 10)
    head = await log.append("like-p1-u3", PostLiked("p1", "u3"))
    gated = GatedPosts()
    upgraded = log.runner(rebuild_batch_size=5, projections=[UsersProjection(), gated])
    async with running(upgraded):
        while gated.rebuild_batches < 2:  # noqa: ASYNC110 - another task's progress
            await asyncio.sleep(0.01)
        tables = upgraded.tables()
        assert (tables.posts.name, tables.post_counts) == ("posts_g1", None)
        assert await upgraded.wait_for(head, 5), "the older generation is still applied"
        served = await past(log, upgraded, head)
        likes = {r[0]: r[11] for r in served[head]}  # id -> like_count
        assert likes["p1"] == {r[0]: r[11] for r in served[head - 1]}["p1"] + 1
        gated.gate.set()
        async with asyncio.timeout(10):
            while upgraded.tables().posts.name != "posts_g2":  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert upgraded.tables().post_counts is not None
        assert await past(log, upgraded, head) == served


async def test_rebuild_works_from_a_process_that_does_not_run_the_projections(log):
    """What `chronicle projections rebuild NAME` does, with or without a server running."""
    head = await seed_community(log)
    cli = log.runner()  # never started
    status = await cli.rebuild("users")  # no server: the CLI does the work itself
    assert (status.state, status.position) == ("LIVE", head)
    async with running(log.runner()) as server:
        assert await server.wait_for(head, 10)
        served = await contents(log.engine, server)
        status = await cli.rebuild("posts")  # the server holds the lease and does it
        assert status.position >= head
        async with asyncio.timeout(5):
            while server.tables().posts.name == "posts_g1":  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert await contents(log.engine, server) == served
    with pytest.raises(UnknownProjection):
        await cli.rebuild("nope")


async def _index_names(log: Log, table: Table) -> set[str]:
    async with log.engine.connect() as conn:
        found = await conn.run_sync(lambda c: inspect(c).get_indexes(table.name))
    return {str(i["name"]) for i in found}


async def test_generations_filled_from_scratch_get_every_index_once_filled(log):
    """Indexes of a fresh generation are built after its fill: by the first build once
    caught up, by a rebuild in its swap. Either way the live tables have them all."""
    await seed_community(log, users=3, posts=5)
    runner = log.runner(batch_size=50, rebuild_batch_size=20)
    async with running(runner):
        assert await runner.wait_for(await log.store.head_position(), 10)
        for _ in range(2):  # the first build, then a blue/green rebuild
            t = runner.tables()
            for table in (t.users, t.posts, t.post_tags, t.post_history, t.comments, t.likes):
                expected = {str(i.name) for i in table.indexes}
                assert expected <= await _index_names(log, table), table.name
            await runner.rebuild("posts")
            await runner.rebuild("users")


async def test_batches_read_the_same_events_whichever_way_the_store_finds_them(log):
    """A batch's bounded span of several types is walked by position on SQLite, not
    found through the (type, position) index: the same events, in order, either way."""
    await seed_community(log)
    head = await publish_posts(log, 0, 30)
    for projection in (PostsProjection(), UsersProjection()):
        types = projection.types
        expected = [e for e in await log.store.read_all(limit=10_000) if e.type in types]
        for limit, span in ((7, 7), (7, 16 * 7), (1000, 16 * 1000), (5, 17 * 5)):
            got: list[RecordedEvent] = []
            after = 0
            while after < head:
                batch = await read_batch(log.store, projection, after, limit, span)
                got += batch.events
                after = batch.position
            assert got == expected, (projection.name, limit, span)
