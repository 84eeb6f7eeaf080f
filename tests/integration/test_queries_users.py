"""Query.me, user, users and the User type: lookups, pages, email privacy, forgotten users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.commands import ArchivePost, ForgetUser, UpdateProfile
from tests.integration.test_queries_world import World, open_world

USER = "query($u: String!) { user(username: $u) { id username displayName bio email role } }"
USERS = """
query($first: Int, $after: String) {
  users(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { username } }
  }
}
"""


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


async def test_me_is_null_for_anonymous_callers(world: World) -> None:
    assert await world.data("{ me { id } }") == {"me": None}


async def test_a_user_is_found_by_username_in_any_case(world: World) -> None:
    alice = await world.member("Alice")
    found = (await world.data(USER, u="aLiCe"))["user"]
    assert (found["id"], found["username"]) == (alice.user_id, "Alice")
    assert (await world.data(USER, u="nobody"))["user"] is None


async def test_email_is_shown_to_its_owner_and_admins_and_null_to_everyone_else(
    world: World,
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    root = await world.admin("root")
    assert (await world.data(USER, alice, u="alice"))["user"]["email"] == "alice@example.com"
    assert (await world.data(USER, root, u="alice"))["user"]["email"] == "alice@example.com"
    assert (await world.data(USER, bob, u="alice"))["user"]["email"] is None
    assert (await world.data(USER, None, u="alice"))["user"]["email"] is None


async def test_users_are_paged_by_username_with_a_total_count(world: World) -> None:
    for name in ("carol", "alice", "bob"):
        await world.member(name)
    first = (await world.data(USERS, first=2))["users"]
    assert [e["node"]["username"] for e in first["edges"]] == ["alice", "bob"]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (3, True)
    rest = (await world.data(USERS, first=2, after=first["pageInfo"]["endCursor"]))["users"]
    assert [e["node"]["username"] for e in rest["edges"]] == ["carol"]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_a_post_cursor_is_not_accepted_as_a_user_cursor(world: World) -> None:
    alice = await world.member("alice")
    await world.post(alice)
    cursor = (await world.data("{ posts { pageInfo { endCursor } } }"))["posts"]["pageInfo"][
        "endCursor"
    ]
    assert await world.error_code(USERS, after=cursor) == "BAD_USER_INPUT"


async def test_a_users_posts_are_their_published_ones_counted_in_post_count(
    world: World,
) -> None:
    alice = await world.member("alice")
    await world.post(alice, "One")
    archived = await world.post(alice, "Two")
    await world.post(alice, "Draft", publish=False)
    await world.run(ArchivePost(archived), alice)
    await world.post(alice, "Three")
    data = await world.data(
        """{ user(username: "alice") { postCount
             posts(first: 1) { totalCount pageInfo { hasNextPage endCursor }
                               edges { node { title author { username } } } } } }"""
    )
    user = data["user"]
    assert user["postCount"] == 2
    assert user["posts"]["totalCount"] == 2
    assert [e["node"]["title"] for e in user["posts"]["edges"]] == ["Three"]
    assert user["posts"]["pageInfo"]["hasNextPage"] is True


async def test_a_forgotten_user_shows_no_personal_data_but_keeps_their_posts(
    world: World,
) -> None:
    alice = await world.member("alice")
    root = await world.admin("root")
    await world.run(UpdateProfile(display_name="Alice A.", bio="Writes things"), alice)
    post = await world.post(alice, "Still here")
    await world.run(ForgetUser(alice.user_id), root)

    user = (await world.data(USER, root, u="alice"))["user"]
    assert (user["displayName"], user["bio"], user["email"]) == ("Forgotten user", "", None)
    author = (await world.data("query($id: ID!) { post(id: $id) { author { displayName } } }",
                               id=post))["post"]["author"]
    assert author == {"displayName": "Forgotten user"}
