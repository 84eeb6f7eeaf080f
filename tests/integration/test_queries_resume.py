"""Read-model subscriptions resume from a position: what changed since first, then live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from domain.commands import AddComment, ArchivePost, CreatePost, DeletePost, EditPost, LikePost
from resolvers.feeds import follow_feed
from resolvers.hub import LiveHub
from tests.integration.test_queries_subscriptions import FEED, subscribe
from tests.integration.test_queries_world import World, open_world


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


async def test_the_feed_resumed_after_a_position_sends_each_change_since_then_goes_live(
    world: World,
) -> None:
    alice = await world.member("alice")
    edited = await world.post(alice, "Edited later")
    archived = await world.post(alice, "Archived later")
    deleted = await world.post(alice, "Deleted later")
    await world.post(alice, "Untouched")
    seen = await world.chronicle.store.head_position()
    # While the client is away:
    added = await world.post(alice, "Added")
    await world.run(EditPost(edited, title="Edited"), alice)
    await world.run(ArchivePost(archived), alice)
    await world.run(DeletePost(deleted), alice)
    await world.post(alice, "Draft", publish=False)
    gone = await world.post(alice, "Came and went")
    await world.run(ArchivePost(gone), alice)
    stream = await subscribe(world, FEED, None, after=str(seen))
    try:
        missed = await stream.take(4)
        fresh = (await world.run(CreatePost("Live", "Body", (), True), alice)).result["post_id"]
        live = await stream.next()
    finally:
        await stream.close()
    assert [(u["feed"]["change"], u["feed"]["post"]["id"]) for u in missed] == [
        ("ADDED", added), ("UPDATED", edited), ("REMOVED", archived), ("REMOVED", deleted)
    ]
    assert missed[1]["feed"]["post"]["title"] == "Edited"
    # A removed post is shown as the feed last held it.
    assert missed[2]["feed"]["post"]["status"] == "PUBLISHED"
    positions = [int(u["feed"]["position"]) for u in missed]
    assert positions == sorted(positions) and positions[0] > seen
    assert (live["feed"]["change"], live["feed"]["post"]["id"]) == ("ADDED", fresh)
    assert int(live["feed"]["position"]) > positions[-1]


async def test_the_feed_resumed_from_its_last_update_sends_nothing_twice(world: World) -> None:
    alice = await world.member("alice")
    post = await world.post(alice, "Liked")
    feed = "subscription($after: Position) { feed(after: $after) { position post { likeCount } } }"
    head = await world.chronicle.store.head_position()
    stream = await subscribe(world, feed, None, after=str(head))
    try:
        await world.run(LikePost(post), alice)
        received = await stream.next()  # the client's last update before its socket dropped
    finally:
        await stream.close()
    await world.run(EditPost(post, title="Edited while away"), alice)
    resumed = await subscribe(world, feed, None, after=received["feed"]["position"])
    try:
        missed = await resumed.next()
        await world.run(EditPost(post, title="Live"), alice)
        live = await resumed.next()
    finally:
        await resumed.close()
    assert received["feed"]["post"]["likeCount"] == 1
    assert int(received["feed"]["position"]) < int(missed["feed"]["position"]) < int(
        live["feed"]["position"]
    )


async def test_post_changed_resumed_sends_the_post_if_it_changed_since(world: World) -> None:
    alice = await world.member("alice")
    post = await world.post(alice, "Before")
    seen = await world.chronicle.store.head_position()
    await world.run(EditPost(post, title="While away"), alice)
    query = """subscription($id: ID!, $after: Position) {
      postChanged(id: $id, after: $after) { title } }"""
    stream = await subscribe(world, query, alice, id=post, after=str(seen))
    try:
        missed = await stream.next()
        await world.run(EditPost(post, title="Live"), alice)
        live = await stream.next()
    finally:
        await stream.close()
    assert [missed["postChanged"]["title"], live["postChanged"]["title"]] == ["While away", "Live"]


async def test_comment_added_resumed_sends_the_comments_added_since(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "Discuss")
    await world.run(AddComment(post, "Seen"), bob)
    seen = await world.chronicle.store.head_position()
    await world.run(AddComment(post, "Missed one"), bob)
    await world.run(AddComment(post, "Missed two"), alice)
    query = """subscription($id: ID!, $after: Position) {
      commentAdded(postId: $id, after: $after) { body } }"""
    stream = await subscribe(world, query, None, id=post, after=str(seen))
    try:
        missed = await stream.take(2)
        await world.run(AddComment(post, "Live"), bob)
        live = await stream.next()
    finally:
        await stream.close()
    assert [c["commentAdded"]["body"] for c in [*missed, live]] == [
        "Missed one", "Missed two", "Live"
    ]


async def test_a_feed_subscriber_that_fell_behind_resumes_from_its_last_update(
    world: World,
) -> None:
    alice = await world.member("alice")
    hub = LiveHub(world.chronicle.store, world.chronicle.bus, queue_size=2)
    services = replace(world.services, hub=hub)
    feed = follow_feed(services, tag=None, author_username=None,
                       after=await world.chronicle.store.head_position())
    first = asyncio.ensure_future(anext(feed))
    warm = await world.post(alice, "Warm-up")
    assert (await asyncio.wait_for(first, 10)).post.id == warm
    # It reads nothing while five posts go by: dropped from the shared stream.
    missed = [await world.post(alice, f"Missed {i}") for i in range(5)]
    assert hub.changes.fanout.lagged == 1
    caught_up = [await asyncio.wait_for(anext(feed), 10) for _ in range(5)]
    live = await world.post(alice, "Live")
    again = await asyncio.wait_for(anext(feed), 10)
    await feed.aclose()  # type: ignore[attr-defined]
    assert [(u.change, u.post.id) for u in caught_up] == [("ADDED", p) for p in missed]
    assert (again.change, again.post.id) == ("ADDED", live)
