"""Comments: on published posts only; who may edit them and who may delete them."""

from __future__ import annotations

import pytest

from domain.commands import AddComment, DeleteComment, EditComment
from domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from events.catalog import CommentAdded, CommentDeleted, CommentEdited, PostDeleted
from tests.unit.domain.world import World


@pytest.fixture
def alice(world: World) -> str:
    return world.member("alice")


@pytest.fixture
def bob(world: World) -> str:
    return world.member("bob")


def given_comment(world: World, post: str, author: str, body: str = "Nice") -> str:
    comment_id = f"comment-on-{post}"
    world.log.given(comment_id, CommentAdded(comment_id, post, author, body), actor_id=author)
    return comment_id


async def test_a_member_comments_on_a_published_post(world: World, alice: str, bob: str) -> None:
    post = world.post(alice)

    outcome = await world.run(AddComment(post, "  Great read!  "), by=bob)

    comment_id = outcome.result["comment_id"]
    assert world.appended == [CommentAdded(comment_id, post, bob, "Great read!")]
    assert outcome.result == {"comment_id": comment_id, "post_id": post}
    assert world.log.stream(comment_id)[0].stream_type == "Comment"


@pytest.mark.parametrize("body", ["   ", "x" * 10_001])
async def test_a_comment_is_1_to_10000_characters(
    world: World, alice: str, bob: str, body: str
) -> None:
    post = world.post(alice)

    with pytest.raises(InvalidInput) as refused:
        await world.run(AddComment(post, body), by=bob)

    assert refused.value.field == "body"


@pytest.mark.parametrize("status", ["DRAFT", "ARCHIVED"])
async def test_others_cannot_find_an_unpublished_post_to_comment_on(
    world: World, alice: str, bob: str, status: str
) -> None:
    post = world.post(alice, status=status)

    with pytest.raises(NotFound):
        await world.run(AddComment(post, "first"), by=bob)


@pytest.mark.parametrize("status", ["DRAFT", "ARCHIVED"])
async def test_the_author_is_forbidden_to_comment_on_an_unpublished_post(
    world: World, alice: str, status: str
) -> None:
    post = world.post(alice, status=status)

    with pytest.raises(Forbidden):
        await world.run(AddComment(post, "first"), by=alice)


async def test_no_comments_on_a_deleted_post(world: World, alice: str) -> None:
    post = world.post(alice, deleted=True)

    with pytest.raises(NotFound):
        await world.run(AddComment(post, "first"), by=alice)


async def test_anonymous_callers_cannot_comment(world: World, alice: str) -> None:
    post = world.post(alice)

    with pytest.raises(Unauthenticated):
        await world.run(AddComment(post, "first"))


async def test_the_comments_author_edits_it(world: World, alice: str, bob: str) -> None:
    comment = given_comment(world, world.post(alice), bob)

    await world.run(EditComment(comment, "Nicer"), by=bob)

    assert world.appended == [CommentEdited(comment, "post-1", "Nicer")]


async def test_an_edit_to_the_same_text_records_nothing(world: World, alice: str, bob: str) -> None:
    comment = given_comment(world, world.post(alice), bob, body="Nice")

    await world.run(EditComment(comment, " Nice "), by=bob)

    assert world.appended == []


async def test_nobody_else_edits_a_comment(world: World, alice: str, bob: str) -> None:
    root = world.member("root", admin=True)
    comment = given_comment(world, world.post(alice), bob)

    for someone in (alice, root):
        with pytest.raises(Forbidden):
            await world.run(EditComment(comment, "edited"), by=someone)


@pytest.mark.parametrize("who", ["bob", "alice", "root"])
async def test_the_comments_author_the_posts_author_or_an_admin_deletes_it(
    world: World, alice: str, bob: str, who: str
) -> None:
    world.member("root", admin=True)
    comment = given_comment(world, world.post(alice), bob)

    await world.run(DeleteComment(comment), by=f"user-{who}")

    assert world.appended == [CommentDeleted(comment, "post-1")]


async def test_other_members_cannot_delete_a_comment(world: World, alice: str, bob: str) -> None:
    carol = world.member("carol")
    comment = given_comment(world, world.post(alice), bob)

    with pytest.raises(Forbidden):
        await world.run(DeleteComment(comment), by=carol)


@pytest.mark.parametrize("command", [EditComment("comment-on-post-1", "x"),
                                     DeleteComment("comment-on-post-1")])
async def test_a_deleted_comment_is_not_found(
    world: World, alice: str, bob: str, command: EditComment | DeleteComment
) -> None:
    comment = given_comment(world, world.post(alice), bob)
    world.log.given(comment, CommentDeleted(comment, "post-1"))

    with pytest.raises(NotFound):
        await world.run(command, by=bob)


async def test_an_unknown_comment_is_not_found(world: World, bob: str) -> None:
    with pytest.raises(NotFound):
        await world.run(DeleteComment("comment-nope"), by=bob)


async def test_a_comment_on_a_deleted_post_is_not_found(
    world: World, alice: str, bob: str
) -> None:
    post = world.post(alice)
    comment = given_comment(world, post, bob)
    world.log.given(post, PostDeleted(post))

    with pytest.raises(NotFound):
        await world.run(EditComment(comment, "x"), by=bob)
