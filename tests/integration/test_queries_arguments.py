"""Text arguments, cursors and empty pages of every read, on every backend.

A text argument no stored row could match (a NUL, a control character) is
BAD_USER_INPUT naming it, and an id no log could hold finds nothing: never an
INTERNAL from the database refusing it (PostgreSQL refuses NUL). A cursor we
did not write is BAD_USER_INPUT on ``after``. A ``first: 0`` page never says
there is more without saying where it starts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.commands import AddComment
from domain.ports import Actor
from resolvers.arguments import MAX_SEARCH
from tests.integration.test_queries_world import World, open_world

PAGE = "totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }"
CONNECTIONS = {
    "posts": f"query($first: Int, $after: String) {{ posts(first: $first, after: $after) {{ "
             f"{PAGE} }} }}",
    "users": "query($first: Int, $after: String) { users(first: $first, after: $after) { "
             "totalCount pageInfo { hasNextPage endCursor } edges { cursor node { username } } "
             "} }",
    "User.posts": f"query($first: Int, $after: String) {{ user(username: \"alice\") {{ "
                  f"posts(first: $first, after: $after) {{ {PAGE} }} }} }}",
    "Post.comments": "query($id: ID!, $first: Int, $after: String) { post(id: $id) { "
                     "comments(first: $first, after: $after) { totalCount "
                     "pageInfo { hasNextPage endCursor } edges { cursor node { id } } } } }",
    "events": "query($first: Int, $after: Position) { events(first: $first, after: $after) { "
              "pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
}


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


@pytest.fixture
async def alice(world: World) -> Actor:
    return await world.member("alice")


@pytest.fixture
async def post(world: World, alice: Actor) -> str:
    post_id = await world.post(alice, "Hello", tags=("intro",))
    for n in range(3):
        await world.run(AddComment(post_id, f"comment {n}"), alice)
    await world.post(alice, "Second")
    await world.member("bob")
    return post_id


def connection(data: dict[str, Any]) -> dict[str, Any]:
    """The one connection inside a result, however deep."""
    value: Any = data
    while "pageInfo" not in value:
        (value,) = value.values()
    return dict(value)


def cursor(*key: Any, raw: bytes | None = None) -> str:
    return base64.urlsafe_b64encode(raw or json.dumps(list(key)).encode()).decode().rstrip("=")


TEXT_ARGUMENTS = [
    ("search", "query($v: String) { posts(search: $v) { totalCount } }", "a\x00b"),
    ("tag", "query($v: String) { posts(tag: $v) { totalCount } }", "\x00"),
    ("authorUsername", "query($v: String) { posts(authorUsername: $v) { totalCount } }",
     "alice\x00"),
    ("username", "query($v: String!) { user(username: $v) { id } }", "alice\x00"),
    ("types", "query($v: [String!]) { events(types: $v) { edges { cursor } } }",
     ["PostCreated\x00"]),
    ("search", "query($v: String) { posts(search: $v) { totalCount } }",
     "a" * (MAX_SEARCH + 1)),
]


async def test_a_text_argument_no_row_could_match_is_bad_user_input(
    world: World, alice: Actor
) -> None:
    for argument, query, value in TEXT_ARGUMENTS:
        result = await world.query(query, alice, v=value)

        assert result.errors, argument
        assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": argument}


async def test_a_long_search_within_the_limit_is_answered(world: World, post: str) -> None:
    data = await world.data("query($v: String) { posts(search: $v) { totalCount } }",
                            v="%_" * (MAX_SEARCH // 2))
    assert data == {"posts": {"totalCount": 0}}


async def test_an_id_no_log_could_hold_finds_nothing(world: World, alice: Actor) -> None:
    for bad_id in ("\x00", "post\x00", "a\x1bb"):
        data = await world.data(
            "query($id: ID!) { post(id: $id) { id } postAt(id: $id) { id } "
            "events(streamId: $id) { edges { cursor } pageInfo { hasNextPage } } }",
            alice, id=bad_id,
        )
        assert data == {"post": None, "postAt": None,
                        "events": {"edges": [], "pageInfo": {"hasNextPage": False}}}


FOREIGN_CURSORS = {
    "past 2^63": lambda kind: cursor(kind, 2**63),
    "negative": lambda kind: cursor(kind, -1),
    "5 000 digits": lambda kind: cursor(raw=f'["{kind}",{"9" * 5000}]'.encode()),
    "nested 100 000 deep": lambda kind: cursor(raw=b"[" * 100_000 + b"]" * 100_000),
    "garbage": lambda kind: "%%%not base64%%%",
    "NUL in the key": lambda kind: cursor(kind, "\x00"),
    "another connection's": lambda kind: cursor("other", 1),
}


@pytest.mark.parametrize(("name", "kind"), [
    ("posts", "post"), ("users", "user"), ("User.posts", "post"), ("Post.comments", "comment"),
])
async def test_a_cursor_we_did_not_write_is_bad_user_input_on_after(
    world: World, alice: Actor, post: str, name: str, kind: str
) -> None:
    for forgery, forged in FOREIGN_CURSORS.items():
        result = await world.query(CONNECTIONS[name], alice, id=post, after=forged(kind))

        assert result.errors, forgery
        assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "after"}, forgery


@pytest.mark.parametrize("name", CONNECTIONS)
async def test_an_empty_first_page_tells_where_the_next_one_starts(
    world: World, alice: Actor, post: str, name: str
) -> None:
    empty = connection(await world.data(CONNECTIONS[name], alice, id=post, first=0))

    assert empty["edges"] == []
    assert empty["pageInfo"]["hasNextPage"] is True
    assert empty["pageInfo"]["endCursor"] is not None
    following = connection(await world.data(
        CONNECTIONS[name], alice, id=post, first=2, after=empty["pageInfo"]["endCursor"]
    ))
    first = connection(await world.data(CONNECTIONS[name], alice, id=post, first=2))
    assert following["edges"] == first["edges"] != []


@pytest.mark.parametrize("name", CONNECTIONS)
async def test_an_empty_page_after_a_cursor_resumes_at_that_cursor(
    world: World, alice: Actor, post: str, name: str
) -> None:
    first = connection(await world.data(CONNECTIONS[name], alice, id=post, first=1))
    after = first["pageInfo"]["endCursor"]

    empty = connection(await world.data(CONNECTIONS[name], alice, id=post, first=0, after=after))

    assert empty["pageInfo"] == {"hasNextPage": True, "endCursor": after}
