"""Subscriptions: the log catch-up then live, and the read-model feeds.

graphql-transport-ws has no per-subscription acknowledgement
(docs/architecture.md, "No acknowledgement of a subscription"), so tests that
need a live subscription first catch up from a known position, or keep changing
the read model until the first update shows the subscription is listening.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from graphql import ExecutionResult

from domain.commands import (
    AddComment,
    ArchivePost,
    CreatePost,
    DeletePost,
    EditPost,
    LikePost,
    UpdateProfile,
)
from domain.ports import Actor
from tests.integration.test_queries_world import World, open_world

EVENTS = """
subscription($after: Position, $stream: ID, $types: [String!]) {
  events(after: $after, streamId: $stream, types: $types) { position type streamId data }
}
"""
WAIT = 10.0


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


class Stream:
    """One running subscription: its results, read one at a time with a deadline."""

    def __init__(self, results: AsyncIterator[ExecutionResult]) -> None:
        self._results = results

    async def next(self) -> dict[str, Any]:
        result = await asyncio.wait_for(anext(self._results), WAIT)
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    async def next_where(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next result ``wanted`` accepts, skipping late warm-up results before it."""
        while not wanted(data := await self.next()):
            pass
        return data

    async def take(self, count: int) -> list[dict[str, Any]]:
        return [await self.next() for _ in range(count)]

    async def error_code(self) -> str:
        result = await asyncio.wait_for(anext(self._results), WAIT)
        assert result.errors, result.data
        return str((result.errors[0].extensions or {})["code"])

    async def close(self) -> None:
        await self._results.aclose()  # type: ignore[attr-defined]


async def subscribe(
    world: World, document: str, actor: Actor | None = None, **variables: Any
) -> Stream:
    results = await world.schema.subscribe(
        document, variable_values=variables, context_value=world.context(actor)
    )
    assert not isinstance(results, ExecutionResult), results.errors
    return Stream(results)


async def test_events_catch_up_from_the_store_then_follow_live_without_gap_or_duplicate(
    world: World,
) -> None:
    root = await world.admin("root")
    alice = await world.member("alice")
    post = await world.post(alice, "One")
    head = await world.chronicle.store.head_position()
    stream = await subscribe(world, EVENTS, root)
    try:
        past = await stream.take(head)  # everything recorded so far, in order
        await world.run(EditPost(post, title="Two"), alice)
        await world.run(LikePost(post), root)
        live = await stream.take(2)
    finally:
        await stream.close()
    positions = [int(e["events"]["position"]) for e in past + live]
    assert positions == list(range(1, head + 3))
    assert [e["events"]["type"] for e in live] == ["PostEdited", "PostLiked"]


async def test_resuming_after_the_last_seen_position_sends_only_what_followed(
    world: World,
) -> None:
    root = await world.admin("root")
    alice = await world.member("alice")
    seen = await world.chronicle.store.head_position()
    await world.post(alice, "Missed while away")
    stream = await subscribe(world, EVENTS, root, after=str(seen))
    try:
        missed = await stream.take(2)
    finally:
        await stream.close()
    assert [(int(e["events"]["position"]), e["events"]["type"]) for e in missed] == [
        (seen + 1, "PostCreated"), (seen + 2, "PostPublished")
    ]


async def test_events_follow_the_same_visibility_and_filters_as_the_query(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    hidden = await world.post(bob, "Bob's draft", publish=False)
    public = await world.post(bob, "Bob's post")
    stream = await subscribe(world, EVENTS, alice, types=["PostCreated", "CommentAdded"])
    try:
        first = await stream.next()
        await world.run(EditPost(hidden, title="Still hidden"), bob)
        await world.run(AddComment(public, "Hi"), alice)
        second = await stream.next()
    finally:
        await stream.close()
    assert (first["events"]["type"], first["events"]["streamId"]) == ("PostCreated", public)
    assert second["events"]["type"] == "CommentAdded"
    assert second["events"]["data"]["postId"] == public


async def test_a_member_following_the_log_sees_her_new_post_before_the_read_model_has_it(
    world: World,
) -> None:
    # The bus announces a commit before the projections apply it; visibility is
    # judged from the read model, so the subscription must wait for it rather
    # than drop the member's own post as invisible and move past it.
    alice = await world.member("alice")
    seen = await world.chronicle.store.head_position()
    stream = await subscribe(world, EVENTS, alice, after=str(seen))
    try:
        await world.run(UpdateProfile(bio="warming up"), alice)
        await stream.next()  # the subscription is live
        outcome = await world.chronicle.execute(CreatePost("Fresh", "Body", (), True), alice, None)
        fresh = await stream.take(2)
    finally:
        await stream.close()
    assert [(e["events"]["type"], e["events"]["streamId"]) for e in fresh] == [
        ("PostCreated", outcome.result["post_id"]),
        ("PostPublished", outcome.result["post_id"]),
    ]


async def test_following_the_log_requires_authentication(world: World) -> None:
    stream = await subscribe(world, EVENTS)
    try:
        assert await stream.error_code() == "UNAUTHENTICATED"
    finally:
        await stream.close()


async def _until_listening(world: World, stream: Stream, author: Actor) -> dict[str, Any]:
    """Publish posts until the subscription reports one: it is live from then on."""
    pending = asyncio.ensure_future(stream.next())
    try:
        for attempt in range(50):
            await world.post(author, f"Warm-up {attempt}")
            done, _ = await asyncio.wait({pending}, timeout=0.2)
            if done:
                return pending.result()
        raise AssertionError("the subscription never became live")
    finally:
        if not pending.done():
            pending.cancel()


FEED = """
subscription($tag: String, $author: String, $after: Position) {
  feed(tag: $tag, authorUsername: $author, after: $after) {
    change position post { id title status author { username } }
  }
}
"""


async def test_the_feed_reports_posts_entering_changing_in_and_leaving_it(
    world: World,
) -> None:
    alice = await world.member("alice")
    stream = await subscribe(world, FEED, None)
    try:
        warm = await _until_listening(world, stream, alice)
        assert warm["feed"]["change"] == "ADDED"
        post = await world.post(alice, "Fresh", tags=("news",))
        added = await stream.next_where(lambda d: d["feed"]["post"]["id"] == post)
        await world.run(EditPost(post, title="Fresher"), alice)
        updated = await stream.next()
        await world.run(ArchivePost(post), alice)
        removed = await stream.next()
    finally:
        await stream.close()
    assert [u["feed"]["change"] for u in (added, updated, removed)] == [
        "ADDED", "UPDATED", "REMOVED"
    ]
    assert (added["feed"]["post"]["title"], added["feed"]["post"]["author"]) == (
        "Fresh", {"username": "alice"}
    )
    assert updated["feed"]["post"]["title"] == "Fresher"
    # A removed post is shown as the feed last held it, not as its archived self.
    assert removed["feed"]["post"]["status"] == "PUBLISHED"
    assert int(removed["feed"]["position"]) > int(updated["feed"]["position"])


async def test_the_feed_filters_by_tag_and_author(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    stream = await subscribe(world, FEED, None, tag="News", author="ALICE")
    try:
        pending = asyncio.ensure_future(stream.next())
        for attempt in range(50):
            await world.post(bob, f"Bob news {attempt}", tags=("news",))
            await world.post(alice, f"Alice other {attempt}", tags=("other",))
            await world.post(alice, f"Alice news {attempt}", tags=("news",))
            done, _ = await asyncio.wait({pending}, timeout=0.2)
            if done:
                break
        update = await pending
    finally:
        await stream.close()
    assert update["feed"]["post"]["title"].startswith("Alice news")


async def test_post_changed_sends_the_post_after_each_change_and_ends_when_deleted(
    world: World,
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "Watched")
    query = "subscription($id: ID!) { postChanged(id: $id) { title likeCount commentCount } }"
    stream = await subscribe(world, query, bob, id=post)
    try:
        pending = asyncio.ensure_future(stream.next())
        for n in range(50):
            await world.run(EditPost(post, title=f"Watched {n}"), alice)
            done, _ = await asyncio.wait({pending}, timeout=0.2)
            if done:
                break
        assert (await pending)["postChanged"]["title"].startswith("Watched")
        await world.run(LikePost(post), bob)
        liked = await stream.next_where(lambda d: d["postChanged"]["likeCount"] == 1)
        await world.run(AddComment(post, "Hello"), bob)
        commented = await stream.next()
        await world.run(DeletePost(post), alice)
        with pytest.raises(StopAsyncIteration):
            await stream.next()
    finally:
        await stream.close()
    assert liked["postChanged"]["likeCount"] == 1
    assert commented["postChanged"]["commentCount"] == 1


async def test_post_changed_on_a_post_the_caller_cannot_see_is_not_found(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    draft = await world.post(alice, "Draft", publish=False)
    stream = await subscribe(world, "subscription($id: ID!) { postChanged(id: $id) { id } }",
                             bob, id=draft)
    try:
        assert await stream.error_code() == "NOT_FOUND"
    finally:
        await stream.close()


async def test_comment_added_sends_each_new_comment_of_the_post(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "Discuss")
    other = await world.post(alice, "Elsewhere")
    query = """subscription($id: ID!) {
      commentAdded(postId: $id) { postId body author { username } } }"""
    stream = await subscribe(world, query, None, id=post)
    try:
        pending = asyncio.ensure_future(stream.next())
        for n in range(50):
            await world.run(AddComment(other, f"Off topic {n}"), bob)
            await world.run(AddComment(post, f"Comment {n}"), bob)
            done, _ = await asyncio.wait({pending}, timeout=0.2)
            if done:
                break
        first = (await pending)["commentAdded"]
        await world.run(AddComment(post, "Last word"), alice)
        last = (await stream.next_where(lambda d: d["commentAdded"]["body"] == "Last word"))[
            "commentAdded"
        ]
    finally:
        await stream.close()
    assert first["postId"] == post and first["body"].startswith("Comment")
    assert last == {"postId": post, "body": "Last word", "author": {"username": "alice"}}
