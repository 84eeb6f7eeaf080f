"""Compiled query plans (schema/plans.py) answer exactly what the full executor answers.

Each document runs both ways on the same read model and caller; a plan must
give the same data, in the same key order, or refuse up front (documents it
does not cover) or abandon (anything that would be an error), leaving the
answer to the full path.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from domain.commands import AddComment, LikePost
from domain.ports import Actor
from schema.plans import Abandon, NotPlannable, plan_query
from tests.integration.test_queries_world import World, open_world

FEED = """
query Feed($first: Int, $after: String) {
  posts(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        __typename id title tags status version createdAt publishedAt
        commentCount likeCount likedByMe
        author { id username displayName role postCount email }
      }
    }
  }
}
"""
FRAGMENTS = """
query WithFragments {
  posts(first: 5) { edges { node { ...Card ... on Post { body } } } }
}
fragment Card on Post { first: title writer: author { name: username } }
"""
COMMENTS = """
query Comments($id: ID!) {
  post(id: $id) {
    title
    comments(first: 10) { totalCount edges { node { body author { username } } } }
  }
}
"""
DRAFTS = """
query Drafts { posts(first: 10, status: DRAFT) { totalCount edges { node { title publishedAt } } } }
"""
USER = """
query User($name: String!) {
  user(username: $name) { username posts(first: 2) { edges { node { title } } } }
}
"""
EVENTS = "query Log { events(first: 3) { edges { node { type version streamType } } } }"
MISSING = 'query Missing { post(id: "no-such-post") { title } }'


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[World, Actor, str]]:
    async with open_world(database_url, tmp_path) as world:
        alice = await world.member("alice")
        bob = await world.member("bob")
        post_id = await world.post(alice, "Hello", tags=("intro", "news"))
        await world.post(bob, "Second")
        await world.post(alice, "A draft", publish=False)
        await world.run(LikePost(post_id), bob)
        await world.run(AddComment(post_id, "Welcome!"), bob)
        yield world, alice, post_id


async def both_ways(
    world: World, document: str, actor: Actor | None, **variables: Any
) -> tuple[Any, Any]:
    full = await world.query(document, actor, **variables)
    assert full.errors is None, full.errors
    plan = plan_query(world.schema._schema, parse(document), None)
    planned = await plan.run(world.schema._schema, world.context(actor), variables)
    return full.data, planned


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (FEED, {"first": 10}),
        (FEED, {"first": 1}),
        (FRAGMENTS, {}),
        (DRAFTS, {}),
        (USER, {"name": "alice"}),
        (MISSING, {}),
    ],
    ids=["feed", "feed-one", "fragments", "drafts", "user", "missing"],
)
@pytest.mark.parametrize("caller", ["anonymous", "author"])
async def test_a_plan_gives_the_full_executors_data(
    world: tuple[World, Actor, str], document: str, variables: dict[str, Any], caller: str
) -> None:
    w, alice, _ = world
    full, planned = await both_ways(w, document, alice if caller == "author" else None,
                                    **variables)
    # Same values and the same key order: the JSON sent is byte for byte the same.
    assert json.dumps(planned) == json.dumps(full)


async def test_a_page_after_a_cursor_a_post_with_comments_and_the_log(
    world: tuple[World, Actor, str],
) -> None:
    w, alice, post_id = world
    first, _ = await both_ways(w, FEED, alice, first=1)
    cursor = first["posts"]["pageInfo"]["endCursor"]
    full, planned = await both_ways(w, FEED, alice, first=5, after=cursor)
    assert planned == full
    full, planned = await both_ways(w, COMMENTS, None, id=post_id)
    assert planned == full
    assert planned["post"]["comments"]["edges"][0]["node"]["body"] == "Welcome!"
    full, planned = await both_ways(w, EVENTS, alice)
    assert planned == full


@pytest.mark.parametrize(
    "document",
    [
        'mutation { likePost(postId: "x") { post { id } } }',
        "subscription { feed { change } }",
        "query { posts(first: 1) @include(if: true) { totalCount } }",
        "query { posts(first: 1) { totalCount @skip(if: false) } }",
        "query { __schema { queryType { name } } }",
        "query { a: posts(first: 1) { totalCount } a: posts(first: 2) { totalCount } }",
    ],
    ids=["mutation", "subscription", "include", "skip", "introspection", "merged-keys"],
)
async def test_documents_plans_do_not_cover_are_refused_up_front(
    world: tuple[World, Actor, str], document: str
) -> None:
    w, _, _ = world
    with pytest.raises(NotPlannable):
        plan_query(w.schema._schema, parse(document), None)


async def test_an_error_abandons_the_plan_so_the_full_path_can_report_it(
    world: tuple[World, Actor, str],
) -> None:
    w, _, _ = world
    plan = plan_query(w.schema._schema, parse(FEED), None)
    # first above the page cap: BAD_USER_INPUT from the resolver
    with pytest.raises(Abandon):
        await plan.run(w.schema._schema, w.context(None), {"first": 1000})
    # a cursor that is not one: BAD_USER_INPUT too
    with pytest.raises(Abandon):
        await plan.run(w.schema._schema, w.context(None), {"first": 1, "after": "nonsense"})
    # variables that do not coerce never reach a resolver
    with pytest.raises(Abandon):
        await plan.run(w.schema._schema, w.context(None), {"first": "ten"})
