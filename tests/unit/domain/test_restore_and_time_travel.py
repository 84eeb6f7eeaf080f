"""Restoring old content, and reading a post as it was (postAt, history)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.commands import EditPost, RestorePost
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.repository import post_at, post_history
from events.catalog import PostEdited, PostRestored
from tests.unit.domain.world import World


@pytest.fixture
def alice(world: World) -> str:
    return world.member("alice")


async def test_restoring_brings_back_the_content_of_that_version(world: World, alice: str) -> None:
    post = world.post(alice, title="One", body="first", tags=("a",))  # v1 created, v2 published
    await world.run(EditPost(post, title="Two", body="second", tags=("b",)), by=alice)  # v3

    await world.run(RestorePost(post, version=2), by=alice)

    assert world.appended == [PostRestored(post, 2, "One", "first", ("a",))]


async def test_a_restore_is_itself_history_and_can_be_undone(world: World, alice: str) -> None:
    post = world.post(alice, title="One")
    await world.run(EditPost(post, title="Two"), by=alice)  # v3
    await world.run(RestorePost(post, version=1), by=alice)  # v4

    await world.run(RestorePost(post, version=3), by=alice)

    assert world.appended == [PostRestored(post, 3, "Two", "First words", ("intro",))]


@pytest.mark.parametrize("version", [0, -1, 3])
async def test_a_version_outside_the_history_is_invalid(
    world: World, alice: str, version: int
) -> None:
    post = world.post(alice)  # version 2

    with pytest.raises(InvalidInput) as refused:
        await world.run(RestorePost(post, version=version), by=alice)

    assert refused.value.field == "version"


async def test_only_the_author_restores(world: World, alice: str) -> None:
    root = world.member("root", admin=True)
    post = world.post(alice)

    with pytest.raises(Forbidden):
        await world.run(RestorePost(post, version=1), by=root)


async def test_a_deleted_post_cannot_be_restored(world: World, alice: str) -> None:
    post = world.post(alice, deleted=True)

    with pytest.raises(NotFound):
        await world.run(RestorePost(post, version=1), by=alice)


async def test_a_restore_with_a_stale_expected_version_conflicts(world: World, alice: str) -> None:
    post = world.post(alice)

    with pytest.raises(Conflict):
        await world.run(RestorePost(post, version=1, expected_version=1), by=alice)

    assert world.appended == []


async def test_post_at_a_version_shows_the_post_as_it_was(world: World, alice: str) -> None:
    post = world.post(alice, title="One")
    await world.run(EditPost(post, title="Two"), by=alice)

    then = await post_at(world.log, post, version=2)
    now = await post_at(world.log, post)

    assert then is not None and now is not None
    assert (then.state.title, then.state.status, then.version) == ("One", "PUBLISHED", 2)
    assert (now.state.title, now.version) == ("Two", 3)


async def test_post_at_an_instant_uses_the_version_current_then(world: World, alice: str) -> None:
    post = world.post(alice, title="One")  # recorded at noon
    start = world.clock.now
    world.clock.advance(60)
    await world.run(EditPost(post, title="Two"), by=alice)

    then = await post_at(world.log, post, at=start + timedelta(seconds=30))

    assert then is not None
    assert (then.state.title, then.version, then.as_of) == ("One", 2, start)


async def test_post_at_is_none_before_the_post_existed_or_beyond_its_history(
    world: World, alice: str
) -> None:
    before = world.clock.now - timedelta(days=1)
    post = world.post(alice)

    assert await post_at(world.log, post, at=before) is None
    assert await post_at(world.log, post, version=99) is None
    assert await post_at(world.log, "post-nope") is None


async def test_post_at_shows_a_deleted_post_as_deleted(world: World, alice: str) -> None:
    post = world.post(alice, deleted=True)

    state = await post_at(world.log, post)

    assert state is not None and state.state.deleted


async def test_history_is_every_event_of_the_post_oldest_first(world: World, alice: str) -> None:
    post = world.post(alice)
    await world.run(EditPost(post, body="changed"), by=alice)

    history = await post_history(world.log, post)

    assert [r.type for r in history] == ["PostCreated", "PostPublished", "PostEdited"]
    assert history[-1].to_domain() == PostEdited(post, body="changed")
