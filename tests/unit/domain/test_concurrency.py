"""Concurrent changes: retries on a fresh load, expected versions (keys: test_idempotency)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.commands import AddComment, EditPost, LikePost, PublishPost
from domain.errors import Conflict, NotFound
from events.catalog import (
    PostArchived,
    PostDeleted,
    PostEdited,
)
from tests.unit.domain.fake_log import FakeLog
from tests.unit.domain.world import World


@pytest.fixture
def alice(world: World) -> str:
    return world.member("alice")


def rival_edit(post: str, title: str) -> Callable[[FakeLog], None]:
    """A write by someone else that lands between our load and our commit."""

    def write(log: FakeLog) -> None:
        log.given(post, PostEdited(post, title=title))

    return write


async def test_a_concurrent_change_is_retried_on_a_fresh_load(world: World, alice: str) -> None:
    post = world.post(alice, title="One", body="old")
    world.log.before_commit.append(rival_edit(post, "Rival"))

    outcome = await world.run(EditPost(post, body="new"), by=alice)

    assert [r.to_domain() for r in world.log.stream(post)][-2:] == [
        PostEdited(post, title="Rival"), PostEdited(post, body="new")
    ]
    assert outcome.versions == {post: 4}


async def test_a_retry_decides_again_on_what_it_finds(world: World, alice: str) -> None:
    post = world.post(alice, title="One")
    world.log.before_commit.append(rival_edit(post, "Two"))

    await world.run(EditPost(post, title="Two"), by=alice)

    assert world.appended == [PostEdited(post, title="Two")]  # only the rival's: ours is a no-op


async def test_when_retries_run_out_the_command_conflicts(world: World, alice: str) -> None:
    post = world.post(alice)
    world.settings["max_retries"] = 2
    world.log.before_commit.extend(rival_edit(post, f"Rival {i}") for i in range(3))

    with pytest.raises(Conflict):
        await world.run(EditPost(post, body="mine"), by=alice)

    assert PostEdited(post, body="mine") not in world.appended


async def test_a_stale_expected_version_conflicts_and_records_nothing(
    world: World, alice: str
) -> None:
    post = world.post(alice)  # version 2

    with pytest.raises(Conflict) as conflict:
        await world.run(EditPost(post, title="Mine", expected_version=1), by=alice)

    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert world.appended == []


async def test_a_stale_expected_version_conflicts_even_when_nothing_would_change(
    world: World, alice: str
) -> None:
    post = world.post(alice)

    with pytest.raises(Conflict):
        await world.run(PublishPost(post, expected_version=1), by=alice)


async def test_with_an_expected_version_a_concurrent_change_is_a_conflict_not_a_retry(
    world: World, alice: str
) -> None:
    post = world.post(alice)
    world.log.before_commit.append(rival_edit(post, "Rival"))

    with pytest.raises(Conflict):
        await world.run(EditPost(post, body="mine", expected_version=2), by=alice)

    assert world.appended == [PostEdited(post, title="Rival")]


async def test_the_expected_version_is_passed_to_the_store_exactly(
    world: World, alice: str
) -> None:
    post = world.post(alice)

    await world.run(EditPost(post, body="mine", expected_version=2), by=alice)

    assert world.log.commits[-1].appends[0].expected_version == 2


async def test_a_comment_racing_the_archiving_of_its_post_is_decided_again_and_refused(
    world: World, alice: str
) -> None:
    bob = world.member("bob")
    post = world.post(alice)
    world.log.before_commit.append(lambda log: log.given(post, PostArchived(post)))

    with pytest.raises(NotFound):
        await world.run(AddComment(post, "just in time?"), by=bob)

    assert world.appended == [PostArchived(post)]


async def test_a_like_racing_the_deletion_of_its_post_is_decided_again_and_refused(
    world: World, alice: str
) -> None:
    bob = world.member("bob")
    post = world.post(alice)
    world.log.before_commit.append(lambda log: log.given(post, PostDeleted(post)))

    with pytest.raises(NotFound):
        await world.run(LikePost(post), by=bob)

    assert world.appended == [PostDeleted(post)]
