"""Posts: writing, the DRAFT -> PUBLISHED <-> ARCHIVED lifecycle, and who may do what."""

from __future__ import annotations

import pytest

from domain.commands import ArchivePost, CreatePost, DeletePost, EditPost, PublishPost
from domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from events.catalog import (
    PostArchived,
    PostCreated,
    PostDeleted,
    PostEdited,
    PostPublished,
)
from tests.unit.domain.world import World


@pytest.fixture
def alice(world: World) -> str:
    return world.member("alice")


@pytest.fixture
def bob(world: World) -> str:
    return world.member("bob")


@pytest.fixture
def root(world: World) -> str:
    return world.member("root", admin=True)


# --- writing -------------------------------------------------------------------


async def test_a_new_post_is_a_draft_with_clean_title_and_tags(world: World, alice: str) -> None:
    outcome = await world.run(
        CreatePost("  Hello world ", "Body\n", tags=(" Python", "python", "ES ", "cqrs")), by=alice
    )

    assert world.appended == [
        PostCreated("id-1", alice, "Hello world", "Body\n", ("python", "es", "cqrs"))
    ]
    assert outcome.result == {"post_id": "id-1"}
    assert outcome.position == world.log.head
    recorded = world.log.stream("id-1")[0]
    assert (recorded.actor_id, recorded.correlation_id) == (alice, "corr-1")


async def test_a_post_can_be_published_as_it_is_created_in_one_commit(
    world: World, alice: str
) -> None:
    await world.run(CreatePost("Hello", "", publish=True), by=alice)

    assert world.appended == [PostCreated("id-1", alice, "Hello", "", ()), PostPublished("id-1")]
    assert len(world.log.commits) == 1


@pytest.mark.parametrize(("command", "field"), [
    (CreatePost("   ", "body"), "title"),
    (CreatePost("x" * 201, "body"), "title"),
    (CreatePost("title", "x" * 100_001), "body"),
    (CreatePost("title", "body", tags=tuple(f"t{i}" for i in range(11))), "tags"),
    (CreatePost("title", "body", tags=(" ",)), "tags"),
    (CreatePost("title", "body", tags=("x" * 33,)), "tags"),
])
async def test_invalid_posts_name_the_field_and_record_nothing(
    world: World, alice: str, command: CreatePost, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.run(command, by=alice)

    assert refused.value.field == field
    assert world.appended == []


async def test_the_limits_themselves_are_allowed(world: World, alice: str) -> None:
    tags = tuple(f"{i:032d}" for i in range(10))

    await world.run(CreatePost("x" * 200, "y" * 100_000, tags=tags), by=alice)

    assert len(world.appended) == 1


async def test_anonymous_callers_cannot_write(world: World) -> None:
    with pytest.raises(Unauthenticated):
        await world.run(CreatePost("title", "body"))


async def test_an_edit_records_only_what_changed(world: World, alice: str) -> None:
    post = world.post(alice, title="Hello", body="Old", tags=("intro",))

    await world.run(EditPost(post, title="Hello", body="New", tags=("Intro",)), by=alice)

    assert world.appended == [PostEdited(post, title=None, body="New", tags=None)]


async def test_an_edit_that_changes_nothing_records_nothing(world: World, alice: str) -> None:
    post = world.post(alice)

    outcome = await world.run(EditPost(post, title=" Hello "), by=alice)

    assert world.appended == []
    assert outcome.position == world.log.stream(post)[-1].position
    assert outcome.versions == {post: 2}


async def test_an_edit_is_validated_like_a_new_post(world: World, alice: str) -> None:
    post = world.post(alice)

    with pytest.raises(InvalidInput) as refused:
        await world.run(EditPost(post, title=""), by=alice)

    assert refused.value.field == "title"


# --- lifecycle -----------------------------------------------------------------


async def test_a_draft_is_published(world: World, alice: str) -> None:
    post = world.post(alice, status="DRAFT")

    await world.run(PublishPost(post), by=alice)

    assert world.appended == [PostPublished(post)]


async def test_publishing_a_published_post_records_nothing(world: World, alice: str) -> None:
    post = world.post(alice)

    outcome = await world.run(PublishPost(post), by=alice)

    assert world.appended == []
    assert outcome.position == world.log.stream(post)[-1].position


async def test_a_published_post_is_archived_and_published_again(world: World, alice: str) -> None:
    post = world.post(alice)

    await world.run(ArchivePost(post), by=alice)
    assert world.appended == [PostArchived(post)]
    await world.run(PublishPost(post), by=alice)
    assert world.appended == [PostPublished(post)]


async def test_archiving_an_archived_post_records_nothing(world: World, alice: str) -> None:
    post = world.post(alice, status="ARCHIVED")

    await world.run(ArchivePost(post), by=alice)

    assert world.appended == []


async def test_a_draft_cannot_be_archived(world: World, alice: str) -> None:
    post = world.post(alice, status="DRAFT")

    with pytest.raises(InvalidInput) as refused:
        await world.run(ArchivePost(post), by=alice)

    assert refused.value.field == "id"


@pytest.mark.parametrize("status", ["DRAFT", "PUBLISHED", "ARCHIVED"])
async def test_a_post_is_deleted_from_any_state(world: World, alice: str, status: str) -> None:
    post = world.post(alice, status=status)

    await world.run(DeletePost(post), by=alice)

    assert world.appended == [PostDeleted(post)]


@pytest.mark.parametrize("command", [
    EditPost("post-1", title="again"), PublishPost("post-1"), ArchivePost("post-1"),
    DeletePost("post-1"),
])
async def test_deleted_is_final(
    world: World, alice: str, command: EditPost | PublishPost | ArchivePost | DeletePost
) -> None:
    world.post(alice, deleted=True)

    with pytest.raises(NotFound):
        await world.run(command, by=alice)

    assert world.appended == []


async def test_an_unknown_post_is_not_found(world: World, alice: str) -> None:
    with pytest.raises(NotFound):
        await world.run(PublishPost("post-nope"), by=alice)


# --- who may do what -----------------------------------------------------------


@pytest.mark.parametrize("command", [
    EditPost("post-1", title="mine now"), PublishPost("post-1"), ArchivePost("post-1"),
    DeletePost("post-1"),
])
async def test_others_get_forbidden_on_a_published_post(
    world: World, alice: str, bob: str, command: EditPost | PublishPost | ArchivePost | DeletePost
) -> None:
    world.post(alice, status="PUBLISHED")

    with pytest.raises(Forbidden):
        await world.run(command, by=bob)


@pytest.mark.parametrize("status", ["DRAFT", "ARCHIVED"])
@pytest.mark.parametrize("command", [
    EditPost("post-1", title="mine now"), PublishPost("post-1"), ArchivePost("post-1"),
    DeletePost("post-1"),
])
async def test_others_get_not_found_on_a_post_they_cannot_see(
    world: World, alice: str, bob: str, status: str,
    command: EditPost | PublishPost | ArchivePost | DeletePost,
) -> None:
    world.post(alice, status=status)

    with pytest.raises(NotFound):
        await world.run(command, by=bob)


@pytest.mark.parametrize("status", ["PUBLISHED", "ARCHIVED"])
async def test_an_admin_archives_and_deletes_anyones_post(
    world: World, alice: str, root: str, status: str
) -> None:
    post = world.post(alice, status=status)

    await world.run(ArchivePost(post), by=root)
    await world.run(DeletePost(post), by=root)

    assert world.appended == [PostDeleted(post)]
    assert world.log.stream(post)[-1].actor_id == root


async def test_an_admin_may_not_edit_or_publish_someone_elses_post(
    world: World, alice: str, root: str
) -> None:
    post = world.post(alice, status="DRAFT")

    with pytest.raises(Forbidden):
        await world.run(EditPost(post, title="admin was here"), by=root)
    with pytest.raises(Forbidden):
        await world.run(PublishPost(post), by=root)


async def test_duplicate_tags_do_not_count_against_the_limit(world: World, alice: str) -> None:
    tags = (*(f"t{i}" for i in range(10)), "T0", " t1 ")

    await world.run(CreatePost("Hello", "", tags=tags), by=alice)

    assert isinstance(created := world.appended[0], PostCreated)
    assert created.tags == tuple(f"t{i}" for i in range(10))
