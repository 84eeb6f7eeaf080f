"""Subscribers sharing a document, its variables and a visibility class share one execution."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.commands import AddComment, CreatePost, LikePost
from domain.ports import Actor
from schema import sharing
from tests.integration.test_queries_subscriptions import Stream, subscribe
from tests.integration.test_queries_world import World, open_world

EVENTS = "subscription($after: Position) { events(after: $after) { position type data } }"
FEED = "subscription { feed { change post { id title likedByMe } } }"


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The payloads a selection set was really executed over (shared ones count once)."""
    seen: list[Any] = []
    execute = sharing.StrawberryGraphQLCoreExecutionContext.execute_operation

    def counted(self: Any, serially: bool | None = None) -> Any:
        seen.append(self.root_value)
        return execute(self, serially)

    monkeypatch.setattr(sharing.StrawberryGraphQLCoreExecutionContext, "execute_operation",
                        counted)
    yield seen


async def _listening(streams: list[Stream], poke: Any) -> None:
    """Poke until every stream delivered once: all of them are live from then on."""
    pending = [asyncio.ensure_future(s.next()) for s in streams]
    for _ in range(50):
        await poke()
        await asyncio.wait(pending, timeout=0.2)
        if all(p.done() for p in pending):
            return
    raise AssertionError("subscriptions never became live")


async def test_fifty_members_following_the_log_cost_one_execution_per_event(
    world: World, executions: list[Any]
) -> None:
    members = [await world.member(f"member{i}") for i in range(5)]
    author = await world.member("author")
    head = str(await world.chronicle.store.head_position())
    streams = [await subscribe(world, EVENTS, members[i % 5], after=head) for i in range(50)]
    try:
        await _listening(streams, lambda: world.post(author, "Warm-up"))
        outcome = await world.run(CreatePost("Shared", "Body", (), True), author)
        shared = {outcome.position - 1, outcome.position}
        results = [[await s.next_where(lambda d, p=p: int(d["events"]["position"]) == p)
                     for p in sorted(shared)] for s in streams]
    finally:
        for stream in streams:
            await stream.close()
    assert all(r == results[0] for r in results)
    assert [e["events"]["type"] for e in results[0]] == ["PostCreated", "PostPublished"]
    # One execution per event, for all fifty subscribers.
    assert len([e for e in executions if e.position in shared]) == 2


async def test_the_feed_is_executed_once_per_caller_not_once_per_socket(
    world: World, executions: list[Any]
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    callers: list[Actor | None] = [None, alice, bob]
    streams = [await subscribe(world, FEED, callers[i % 3]) for i in range(30)]
    try:
        await _listening(streams, lambda: world.post(alice, "Warm-up"))
        post = await world.post(alice, "Liked by bob")
        await world.run(LikePost(post), bob)
        updates = [
            await s.next_where(
                lambda d: (d["feed"]["post"]["id"], d["feed"]["change"]) == (post, "UPDATED")
            )
            for s in streams
        ]
    finally:
        for stream in streams:
            await stream.close()
    # likedByMe differs by caller: each caller's result is its own, shared by its sockets.
    assert {i % 3: u["feed"]["post"]["likedByMe"] for i, u in enumerate(updates)} == {
        0: False, 1: False, 2: True
    }
    liked = [u for u in executions if u.post.id == post and u.change.value == "UPDATED"]
    assert len(liked) == 3


async def test_a_posts_changes_are_executed_once_per_caller_not_once_per_socket(
    world: World, executions: list[Any]
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "Watched")
    callers: list[Actor | None] = [None, alice, bob]
    document = "subscription($id: ID!) { postChanged(id: $id) { id title likeCount likedByMe } }"
    streams = [await subscribe(world, document, callers[i % 3], id=post) for i in range(30)]
    try:
        await _listening(streams, lambda: world.run(AddComment(post, "Warm-up"), bob))
        await world.run(LikePost(post), bob)
        updates = [
            await s.next_where(lambda d: d["postChanged"]["likeCount"] == 1) for s in streams
        ]
    finally:
        for stream in streams:
            await stream.close()
    assert {i % 3: u["postChanged"]["likedByMe"] for i, u in enumerate(updates)} == {
        0: False, 1: False, 2: True
    }
    # likedByMe differs by caller: one execution per caller, shared by its ten sockets.
    liked = [p for p in executions if getattr(p, "like_count", None) == 1]
    assert len(liked) == 3
