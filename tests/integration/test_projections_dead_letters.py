"""An event a projection cannot apply is parked; the read side carries on; a retry re-applies it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalog import CommentAdded, PostCreated, PostEdited, PostPublished
from events.model import RecordedEvent
from projections.dead_letters import HELD_BACK
from projections.posts import PostsProjection
from projections.projection import Change
from projections.requests import NothingParked
from projections.runner import ProjectionRunner
from projections.users import UsersProjection
from tests.integration.test_projections_kit import Log, contents, open_log, rows, running

POISON = "poison\x00"
"""A title PostgreSQL text cannot hold; on SQLite the projection below refuses it alike."""


class PoisonedPosts(PostsProjection):
    """Fails on every batch holding a poisoned title until ``cured`` (the fix is deployed)."""

    def __init__(self) -> None:
        self.cured = False

    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        for event in events:
            if "\x00" in str(event.data.get("title")):
                if not self.cured:
                    raise ValueError(f"a title with NUL in {event.data['post_id']}")
                event.data["title"] = event.data["title"].replace("\x00", "")
        return await super().apply(conn, tables, events)


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    async with open_log(database_url) as log:
        yield log


def runner_with(log: Log, posts: PostsProjection) -> ProjectionRunner:
    return log.runner(batch_size=50, projections=[UsersProjection(), posts])


async def poisoned_history(log: Log) -> dict[str, int]:
    """Good posts around a poisoned one, which is then published, edited and commented."""
    at: dict[str, int] = {}
    at["before"] = await log.append("post-good1", PostCreated("good1", "u1", "Fine", "B"),
                                    PostPublished("good1"))
    at["poison"] = await log.append("post-bad", PostCreated("bad", "u1", POISON, "B"))
    at["published"] = await log.append("post-bad", PostPublished("bad"))
    at["comment"] = await log.append("comment-c1", CommentAdded("c1", "bad", "u2", "Hi"))
    at["after"] = await log.append("post-good2", PostCreated("good2", "u2", "Also", "B"),
                                   PostPublished("good2"))
    at["edited"] = await log.append("post-bad", PostEdited("bad", body="B2"))
    return at


async def test_an_event_that_cannot_be_applied_is_parked_and_the_rest_is_applied(log):
    posts = PoisonedPosts()
    async with running(runner_with(log, posts)) as runner:
        at = await poisoned_history(log)
        assert await runner.wait_for(at["edited"], 10), "the read side goes past the parked event"

        t = runner.tables()
        ids = sorted(r["id"] for r in await rows(log.engine, t.posts))
        assert ids == ["good1", "good2"]
        assert await rows(log.engine, t.comments) == [], "held back behind its post"
        statuses = {s.name: s for s in await runner.statuses()}
        assert statuses["posts"].state == "LIVE" and statuses["posts"].lag == 0
        assert statuses["posts"].parked == 4
        assert statuses["posts"].last_parked_error == (
            f"position {at['poison']}: ValueError: a title with NUL in bad"
        )
        assert statuses["users"].state == "LIVE" and statuses["users"].parked == 0

        letters = await runner.dead_letters("posts")
        assert [(d.position, d.event_type, d.error_class, d.held_by) for d in letters] == [
            (at["poison"], "PostCreated", "ValueError", None),
            (at["published"], "PostPublished", HELD_BACK, at["poison"]),
            (at["comment"], "CommentAdded", HELD_BACK, at["poison"]),
            (at["edited"], "PostEdited", HELD_BACK, at["poison"]),
        ]
        assert all(d.attempts == 1 and d.stream_id for d in letters)


async def test_a_retry_after_the_fix_applies_them_in_order_as_a_rebuild_would(log):
    posts = PoisonedPosts()
    async with running(runner_with(log, posts)) as runner:
        at = await poisoned_history(log)
        assert await runner.wait_for(at["edited"], 10)

        again = await runner.retry("posts")
        assert again.applied == [] and len(again.parked) == 4, "not fixed yet: still parked"
        assert [d.attempts for d in again.parked] == [2, 2, 2, 2]

        posts.cured = True
        done = await runner.retry("posts")
        assert done.applied == [at["poison"], at["published"], at["comment"], at["edited"]]
        assert done.parked == []
        assert (await runner.status("posts")).parked == 0
        bad = [r for r in await rows(log.engine, runner.tables().posts) if r["id"] == "bad"]
        assert bad[0]["status"] == "PUBLISHED" and bad[0]["body"] == "B2"
        assert bad[0]["comment_count"] == 1

        retried = await contents(log.engine, runner)
        await runner.rebuild("posts")
        assert await contents(log.engine, runner) == retried
        assert await runner.dead_letters("posts") == []


async def test_events_after_a_retry_are_applied_again_directly(log):
    posts = PoisonedPosts()
    async with running(runner_with(log, posts)) as runner:
        at = await poisoned_history(log)
        assert await runner.wait_for(at["edited"], 10)
        posts.cured = True
        await runner.retry("posts", at["poison"])
        later = await log.append("post-bad", PostEdited("bad", body="B3"))
        assert await runner.wait_for(later, 10)
        bad = [r for r in await rows(log.engine, runner.tables().posts) if r["id"] == "bad"]
        assert bad[0]["body"] == "B3"
        assert (await runner.status("posts")).parked == 0


async def test_retrying_a_position_where_nothing_is_parked_is_refused(log):
    async with running(runner_with(log, PoisonedPosts())) as runner:
        position = await log.append("post-1", PostCreated("p1", "u1", "T", "B"))
        assert await runner.wait_for(position, 10)
        with pytest.raises(NothingParked):
            await runner.retry("posts", position)


async def test_a_retry_works_with_no_server_applying_the_projection(log):
    posts = PoisonedPosts()
    async with running(runner_with(log, posts)) as runner:
        at = await poisoned_history(log)
        assert await runner.wait_for(at["edited"], 10)
    posts.cured = True
    offline = runner_with(log, posts)  # the CLI, with the server down
    done = await offline.retry("posts")
    assert done.applied == [at["poison"], at["published"], at["comment"], at["edited"]]


@pytest.mark.postgres
async def test_on_postgresql_a_nul_in_a_recorded_title_parks_the_event(pg_url):
    async with open_log(pg_url) as log, running(
        runner_with(log, PostsProjection())
    ) as runner:
        bad = await log.append("post-bad", PostCreated("bad", "u1", POISON, "B"))
        good = await log.append("post-good", PostCreated("good", "u1", "Fine", "B"))
        assert await runner.wait_for(good, 10)
        [letter] = await runner.dead_letters("posts")
        assert letter.position == bad and letter.error_class == "DBAPIError"
        assert "0x00" in letter.error_message
        assert [r["id"] for r in await rows(log.engine, runner.tables().posts)] == ["good"]


async def test_a_rebuild_parks_again_what_still_fails_and_drops_the_old_letters(log):
    async with running(runner_with(log, PoisonedPosts())) as runner:
        at = await poisoned_history(log)
        assert await runner.wait_for(at["edited"], 10)

        status = await runner.rebuild("posts")

        assert (status.state, status.parked) == ("LIVE", 4)
        async with asyncio.timeout(10):
            while {d.generation for d in await runner.dead_letters("posts")} != {2}:  # noqa: ASYNC110 - dropped by a task after a grace
                await asyncio.sleep(0.05)
        assert len(await runner.dead_letters("posts")) == 4
