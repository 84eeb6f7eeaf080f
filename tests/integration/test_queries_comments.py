"""Post.comments: oldest first in keyset pages; nothing of a post that became private."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.commands import AddComment, ArchivePost, DeleteComment, EditComment
from tests.integration.test_queries_world import World, open_world

COMMENTS = """
query($id: ID!, $first: Int, $after: String) {
  post(id: $id) {
    commentCount
    comments(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id postId body editedAt author { username } } }
    }
  }
}
"""


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


async def test_comments_come_oldest_first_in_keyset_pages(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice)
    for n in range(3):
        await world.run(AddComment(post, f"Comment {n}"), bob if n % 2 else alice)

    first = (await world.data(COMMENTS, id=post, first=2))["post"]
    page = first["comments"]
    assert [e["node"]["body"] for e in page["edges"]] == ["Comment 0", "Comment 1"]
    assert [e["node"]["author"]["username"] for e in page["edges"]] == ["alice", "bob"]
    assert (page["totalCount"], first["commentCount"]) == (3, 3)
    assert page["pageInfo"]["hasNextPage"] is True
    rest = (await world.data(COMMENTS, id=post, after=page["pageInfo"]["endCursor"]))["post"]
    assert [e["node"]["body"] for e in rest["comments"]["edges"]] == ["Comment 2"]
    assert rest["comments"]["pageInfo"]["hasNextPage"] is False


async def test_an_edited_comment_shows_when_and_a_deleted_one_is_gone(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice)
    kept = (await world.run(AddComment(post, "Frist"), bob)).result["comment_id"]
    dropped = (await world.run(AddComment(post, "Spam"), bob)).result["comment_id"]
    await world.run(EditComment(kept, "First"), bob)
    await world.run(DeleteComment(dropped), alice)
    edges = (await world.data(COMMENTS, id=post))["post"]["comments"]["edges"]
    assert [(e["node"]["id"], e["node"]["body"], e["node"]["postId"]) for e in edges] == [
        (kept, "First", post)
    ]
    assert edges[0]["node"]["editedAt"] is not None


async def test_a_past_state_of_a_post_since_archived_lists_for_its_author_alone(
    world: World,
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "Soon archived")
    await world.run(AddComment(post, "Seen while public"), bob)
    public_then = await world.chronicle.store.head_position()
    await world.run(ArchivePost(post), alice)
    query = """query($asOf: Position) { posts(asOf: $asOf) { edges { node {
        title comments { totalCount } history { type } } } } }"""
    as_bob = (await world.data(query, bob, asOf=str(public_then)))["posts"]["edges"]
    assert as_bob == []  # archived now: its past is private too (the rule for the past)
    as_alice = (await world.data(query, alice, asOf=str(public_then)))["posts"]["edges"][0]
    assert as_alice["node"]["comments"] == {"totalCount": 1}
    assert [e["type"] for e in as_alice["node"]["history"]] == [
        "PostCreated", "PostPublished", "PostArchived"
    ]


async def test_comment_pages_are_capped_like_every_connection(world: World) -> None:
    alice = await world.member("alice")
    post = await world.post(alice)
    assert await world.error_code(COMMENTS, id=post, first=101) == "BAD_USER_INPUT"
