"""Query.post and Query.posts: visibility, filters, keyset pages and time travel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.commands import (
    AddComment,
    ArchivePost,
    DeletePost,
    EditPost,
    LikePost,
    PublishPost,
)
from tests.integration.test_queries_world import World, open_world

POST = "query($id: ID!) { post(id: $id) { id title status version author { username } } }"
POSTS = """
query($first: Int, $after: String, $author: String, $tag: String, $search: String,
      $status: PostStatus, $asOf: Position) {
  posts(first: $first, after: $after, authorUsername: $author, tag: $tag, search: $search,
        status: $status, asOf: $asOf) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title status likeCount commentCount tags } }
  }
}
"""


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


def titles(data: dict[str, Any]) -> list[str]:
    return [e["node"]["title"] for e in data["posts"]["edges"]]


async def test_a_draft_is_visible_to_its_author_and_admins_only(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    root = await world.admin("root")
    draft = await world.post(alice, "Secret plans", publish=False)
    assert (await world.data(POST, alice, id=draft))["post"]["status"] == "DRAFT"
    assert (await world.data(POST, root, id=draft))["post"]["title"] == "Secret plans"
    assert (await world.data(POST, bob, id=draft))["post"] is None
    assert (await world.data(POST, None, id=draft))["post"] is None


async def test_an_archived_post_leaves_public_view_and_a_deleted_one_is_gone(
    world: World,
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    archived = await world.post(alice, "Old news")
    deleted = await world.post(alice, "Mistake")
    await world.run(ArchivePost(archived), alice)
    await world.run(DeletePost(deleted), alice)
    assert (await world.data(POST, bob, id=archived))["post"] is None
    assert (await world.data(POST, alice, id=archived))["post"]["status"] == "ARCHIVED"
    assert (await world.data(POST, alice, id=deleted))["post"] is None
    assert (await world.data(POST, alice, id="no-such-post"))["post"] is None


async def test_published_posts_are_listed_newest_first_in_keyset_pages(world: World) -> None:
    alice = await world.member("alice")
    for n in range(5):
        await world.post(alice, f"Post {n}")
    await world.post(alice, "Draft", publish=False)

    first = await world.data(POSTS, first=2)
    assert titles(first) == ["Post 4", "Post 3"]
    assert first["posts"]["totalCount"] == 5
    assert first["posts"]["pageInfo"]["hasNextPage"] is True
    cursor = first["posts"]["pageInfo"]["endCursor"]
    assert cursor == first["posts"]["edges"][-1]["cursor"]

    await world.post(alice, "Newer than the first page")
    second = await world.data(POSTS, first=2, after=cursor)
    assert titles(second) == ["Post 2", "Post 1"]
    last = await world.data(POSTS, first=2, after=second["posts"]["pageInfo"]["endCursor"])
    assert titles(last) == ["Post 0"]
    assert last["posts"]["pageInfo"]["hasNextPage"] is False


async def test_an_empty_page_has_no_end_cursor(world: World) -> None:
    data = await world.data(POSTS, first=0)
    assert data["posts"] == {
        "totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []
    }


async def test_filters_narrow_the_listing_and_its_total_count(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("bob")
    await world.post(alice, "Rust tips", tags=("rust", "howto"))
    await world.post(alice, "Python tips", tags=("python",), body="100% useful")
    await world.post(bob, "More rust", tags=("Rust",))

    by_author = await world.data(POSTS, author="ALICE")
    assert titles(by_author) == ["Python tips", "Rust tips"]
    assert by_author["posts"]["totalCount"] == 2
    by_tag = await world.data(POSTS, tag="RUST")
    assert titles(by_tag) == ["More rust", "Rust tips"]
    both = await world.data(POSTS, tag="rust", author="bob")
    assert (titles(both), both["posts"]["totalCount"]) == (["More rust"], 1)
    searched = await world.data(POSTS, search="TIPS")
    assert titles(searched) == ["Python tips", "Rust tips"]
    # LIKE wildcards in the search text are matched literally.
    assert titles(await world.data(POSTS, search="100%")) == ["Python tips"]
    assert titles(await world.data(POSTS, search="%")) == ["Python tips"]
    assert (await world.data(POSTS, author="nobody"))["posts"]["totalCount"] == 0


async def test_other_statuses_list_the_callers_own_posts_or_all_for_admins(
    world: World,
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    root = await world.admin("root")
    await world.post(alice, "Alice draft", publish=False)
    await world.post(bob, "Bob draft", publish=False)
    assert titles(await world.data(POSTS, alice, status="DRAFT")) == ["Alice draft"]
    assert titles(await world.data(POSTS, bob, status="DRAFT")) == ["Bob draft"]
    assert titles(await world.data(POSTS, root, status="DRAFT")) == ["Bob draft", "Alice draft"]
    assert titles(await world.data(POSTS, None, status="DRAFT")) == []
    assert (await world.data(POSTS, alice, status="DRAFT"))["posts"]["totalCount"] == 1


@pytest.mark.parametrize(("first", "after"), [(101, None), (-1, None), (10, "bm90IGEgY3Vyc29y")])
async def test_page_sizes_beyond_the_cap_and_foreign_cursors_are_bad_user_input(
    world: World, first: int, after: str | None
) -> None:
    result = await world.query(POSTS, first=first, after=after)
    assert result.errors is not None
    extensions = result.errors[0].extensions or {}
    assert extensions["code"] == "BAD_USER_INPUT"
    assert extensions["field"] == ("first" if after is None else "after")


async def test_as_of_answers_with_the_listing_the_read_model_held_at_that_position(
    world: World,
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    first_post = await world.post(alice, "Before", tags=("old",))
    at_created = await world.chronicle.store.head_position()
    await world.run(EditPost(first_post, title="After", tags=("new",)), alice)
    await world.run(LikePost(first_post), bob)
    second = await world.post(bob, "Second")
    at_both = await world.chronicle.store.head_position()
    await world.run(DeletePost(first_post), alice)
    await world.run(AddComment(second, "hello"), alice)
    at_end = await world.chronicle.store.head_position()

    # Alice's first post is deleted now: its past lists for her alone (the rule for the past).
    assert titles(await world.data(POSTS, asOf=str(at_created))) == []
    assert titles(await world.data(POSTS, bob, asOf=str(at_both))) == ["Second"]
    then = await world.data(POSTS, alice, asOf=str(at_created))
    assert [(e["node"]["title"], e["node"]["likeCount"]) for e in then["posts"]["edges"]] == [
        ("Before", 0)
    ]
    both = await world.data(POSTS, alice, asOf=str(at_both))
    assert [(e["node"]["title"], e["node"]["likeCount"]) for e in both["posts"]["edges"]] == [
        ("Second", 0), ("After", 1)
    ]
    assert both["posts"]["totalCount"] == 2
    assert titles(await world.data(POSTS, alice, asOf=str(at_created), tag="old")) == ["Before"]
    assert titles(await world.data(POSTS, alice, asOf=str(at_both), tag="old")) == []
    assert titles(await world.data(POSTS, alice, asOf=str(at_both), tag="new")) == ["After"]
    end = await world.data(POSTS, asOf=str(at_end))
    assert [(e["node"]["title"], e["node"]["commentCount"]) for e in end["posts"]["edges"]] == [
        ("Second", 1)
    ]
    assert titles(await world.data(POSTS, asOf="0")) == []
    assert titles(await world.data(POSTS, asOf=str(2**64 - 1))) == ["Second"]


async def test_as_of_shows_a_post_published_later_only_to_its_author_as_a_draft(
    world: World,
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "Slow burn", publish=False)
    before = await world.chronicle.store.head_position()
    await world.run(PublishPost(post), alice)
    assert titles(await world.data(POSTS, bob, asOf=str(before))) == []
    assert titles(await world.data(POSTS, alice, asOf=str(before), status="DRAFT")) == [
        "Slow burn"
    ]
    assert titles(await world.data(POSTS, bob, asOf=str(before), status="DRAFT")) == []
