"""Likes: one stream per (post, member), so likes never contend and liking twice is one like."""

from __future__ import annotations

import asyncio

import pytest

from domain.commands import LikePost, UnlikePost
from domain.errors import Forbidden, NotFound, Unauthenticated
from domain.streams import like_stream_id
from events.catalog import PostLiked, PostUnliked
from tests.unit.domain.world import World


@pytest.fixture
def alice(world: World) -> str:
    return world.member("alice")


@pytest.fixture
def bob(world: World) -> str:
    return world.member("bob")


async def test_a_like_is_recorded_on_the_members_own_like_stream(
    world: World, alice: str, bob: str
) -> None:
    post = world.post(alice)

    outcome = await world.run(LikePost(post), by=bob)

    assert world.appended == [PostLiked(post, bob)]
    recorded = world.log.stream(like_stream_id(post, bob))
    assert [(r.stream_type, r.version) for r in recorded] == [("Like", 1)]
    assert outcome.result == {"post_id": post}
    assert outcome.position == world.log.head


async def test_liking_twice_is_one_like(world: World, alice: str, bob: str) -> None:
    post = world.post(alice)
    await world.run(LikePost(post), by=bob)
    liked_at = world.log.head

    outcome = await world.run(LikePost(post), by=bob)

    assert world.appended == []
    assert outcome.position == liked_at


async def test_unliking_removes_the_like(world: World, alice: str, bob: str) -> None:
    post = world.post(alice)
    await world.run(LikePost(post), by=bob)

    await world.run(UnlikePost(post), by=bob)

    assert world.appended == [PostUnliked(post, bob)]


async def test_unliking_what_is_not_liked_records_nothing(
    world: World, alice: str, bob: str
) -> None:
    post = world.post(alice)

    outcome = await world.run(UnlikePost(post), by=bob)

    assert world.appended == []
    assert outcome.position == world.log.stream(post)[-1].position


@pytest.mark.parametrize("status", ["DRAFT", "ARCHIVED"])
async def test_others_cannot_find_an_unpublished_post_to_like(
    world: World, alice: str, bob: str, status: str
) -> None:
    post = world.post(alice, status=status)

    with pytest.raises(NotFound):
        await world.run(LikePost(post), by=bob)


async def test_the_author_is_forbidden_to_like_their_own_draft(world: World, alice: str) -> None:
    post = world.post(alice, status="DRAFT")

    with pytest.raises(Forbidden):
        await world.run(LikePost(post), by=alice)


async def test_a_deleted_post_cannot_be_liked_or_unliked(
    world: World, alice: str, bob: str
) -> None:
    post = world.post(alice, deleted=True)

    for command in (LikePost(post), UnlikePost(post)):
        with pytest.raises(NotFound):
            await world.run(command, by=bob)


async def test_anonymous_callers_cannot_like(world: World, alice: str) -> None:
    post = world.post(alice)

    with pytest.raises(Unauthenticated):
        await world.run(LikePost(post))


async def test_a_hundred_members_liking_one_post_at_once_all_succeed(
    world: World, alice: str
) -> None:
    post = world.post(alice)
    members = [world.member(f"fan_{i}") for i in range(100)]
    # no retries allowed: success must come from not contending at all
    world.settings["max_retries"] = 0

    outcomes = await asyncio.gather(*(
        world.run(LikePost(post), by=member) for member in members
    ))

    assert all(o.result == {"post_id": post} for o in outcomes)
    likes = [e for e in world.log.recorded_after(0) if isinstance(e, PostLiked)]
    assert sorted(like.user_id for like in likes) == sorted(members)
    assert len({o.position for o in outcomes}) == 100
