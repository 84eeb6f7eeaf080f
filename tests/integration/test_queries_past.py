"""One rule for the past, on every path that shows it (README "One rule for the past").

The author of a post and admins see every state it had. Anyone else sees a
past state only if the post was published in it (as its command left it) and
is published now. The paths: ``postAt``, ``posts(asOf:)``, ``Query.events``,
``Subscription.events`` (the same filter, see test_queries_subscriptions) and
``Post.history``; the audit trail needs signing in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain.commands import ArchivePost, DeletePost, EditPost, PublishPost
from domain.ports import Actor
from tests.integration.test_queries_world import World, open_world

POST_AT = """query($id: ID!, $v: Int) { postAt(id: $id, version: $v) { title body status } }"""
HISTORY = """query($id: ID!) { post(id: $id) { history { type version data } } }"""
EVENTS = """query($id: ID!) { events(first: 100, streamId: $id) {
    edges { node { type version data } } } }"""
AS_OF = """query($at: Position) { posts(asOf: $at, first: 100) { edges { node { id title } } } }"""


@dataclass
class Cast:
    alice: Actor
    """The author."""
    bob: Actor
    """Another member."""
    root: Actor
    """An admin."""


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


@pytest.fixture
async def cast(world: World) -> Cast:
    return Cast(await world.member("alice"), await world.member("bob"), await world.admin("root"))


async def post_at(world: World, who: Actor | None, post_id: str, version: int) -> Any:
    return (await world.data(POST_AT, who, id=post_id, v=version))["postAt"]


async def history(world: World, who: Actor | None, post_id: str) -> list[int]:
    post = (await world.data(HISTORY, who, id=post_id))["post"]
    return [] if post is None else [e["version"] for e in post["history"]]


async def events(world: World, who: Actor, post_id: str) -> list[int]:
    data = await world.data(EVENTS, who, id=post_id)
    return [e["node"]["version"] for e in data["events"]["edges"]]


async def listed(world: World, who: Actor | None, at: int) -> set[str]:
    data = await world.data(AS_OF, who, at=str(at))
    return {e["node"]["id"] for e in data["posts"]["edges"]}


async def test_a_draft_past_stays_private_after_publication(world: World, cast: Cast) -> None:
    post = await world.post(cast.alice, "Draft title", body="secret draft", publish=False)
    await world.run(EditPost(post, body="still secret"), cast.alice)           # v2
    await world.run(EditPost(post, body="public body"), cast.alice)            # v3
    await world.run(PublishPost(post), cast.alice)                             # v4

    for outsider in (None, cast.bob):
        assert await post_at(world, outsider, post, 1) is None
        assert await post_at(world, outsider, post, 3) is None
        assert (await post_at(world, outsider, post, 4))["body"] == "public body"
    assert await history(world, None, post) == []  # the audit trail needs signing in
    assert await history(world, cast.bob, post) == [4]
    assert await events(world, cast.bob, post) == [4]
    for insider in (cast.alice, cast.root):
        assert (await post_at(world, insider, post, 1))["body"] == "secret draft"
        assert await history(world, insider, post) == [1, 2, 3, 4]
        assert await events(world, insider, post) == [1, 2, 3, 4]


async def test_a_post_created_published_is_public_from_its_first_event(
    world: World, cast: Cast
) -> None:
    post = await world.post(cast.alice, "Out at once", body="public body")  # v1 + v2

    assert (await post_at(world, None, post, 1))["title"] == "Out at once"
    assert await history(world, cast.bob, post) == [1, 2]
    assert await events(world, cast.bob, post) == [1, 2]


async def test_an_archived_post_has_no_public_past(world: World, cast: Cast) -> None:
    post = await world.post(cast.alice, "Soon archived")
    public_then = await world.chronicle.store.head_position()
    await world.run(ArchivePost(post), cast.alice)

    for outsider in (None, cast.bob):
        assert await post_at(world, outsider, post, 2) is None
        assert post not in await listed(world, outsider, public_then)
    assert await events(world, cast.bob, post) == []
    for insider in (cast.alice, cast.root):
        assert (await post_at(world, insider, post, 2))["title"] == "Soon archived"
        assert post in await listed(world, insider, public_then)
        assert await events(world, insider, post) == [1, 2, 3]


async def test_what_was_done_while_archived_stays_private_after_republishing(
    world: World, cast: Cast
) -> None:
    post = await world.post(cast.alice, "Back again", body="first public")    # v1, v2
    await world.run(ArchivePost(post), cast.alice)                            # v3
    await world.run(EditPost(post, body="private rewrite"), cast.alice)       # v4
    await world.run(EditPost(post, body="second public"), cast.alice)         # v5
    await world.run(PublishPost(post), cast.alice)                            # v6

    assert await events(world, cast.bob, post) == [1, 2, 6]
    assert await history(world, cast.bob, post) == [1, 2, 6]
    assert await post_at(world, cast.bob, post, 4) is None
    assert (await post_at(world, cast.bob, post, 2))["body"] == "first public"
    assert await history(world, cast.alice, post) == [1, 2, 3, 4, 5, 6]


async def test_a_deleted_post_has_no_public_past(world: World, cast: Cast) -> None:
    post = await world.post(cast.alice, "Gone soon")
    public_then = await world.chronicle.store.head_position()
    await world.run(DeletePost(post), cast.alice)

    assert await post_at(world, cast.bob, post, 2) is None
    assert post not in await listed(world, None, public_then)
    assert post not in await listed(world, cast.bob, public_then)
    assert await events(world, cast.bob, post) == []
    assert post in await listed(world, cast.root, public_then)
    assert await events(world, cast.alice, post) == [1, 2, 3]
