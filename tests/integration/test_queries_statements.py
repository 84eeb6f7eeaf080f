"""A page of posts costs a constant number of SQL statements, whatever its size.

Per-request DataLoaders batch the authors and the caller's likes; the counts
are denormalised on the post rows. The queries run on an engine of their own
here so that the projection runner's statements are not counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.commands import AddComment, CreatePost, LikePost
from events.db import create_engine
from tests.integration.test_queries_world import World, open_world

PAGE = """
query Page($first: Int!) {
  posts(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id title author { username displayName } commentCount likeCount likedByMe } }
  }
}
"""

STATEMENTS_PER_PAGE = 3
"""The page with its authors joined in, its total count, the caller's likes."""


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


class StatementCounter:
    """Every data statement sent (SQLite's explicit BEGINs are transaction control, not reads)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            self.statements.append(statement)


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


async def _read_engine(world: World, database_url: str) -> AsyncEngine:
    engine = create_engine(database_url)
    world.services = replace(world.services, engine=engine)
    return engine


@pytest.mark.parametrize("posts", [10, 100])
async def test_a_page_of_posts_with_authors_counts_and_likes_costs_three_statements(
    world: World, database_url: str, posts: int
) -> None:
    authors = [await world.member(f"author{i}") for i in range(5)]
    reader = await world.member("reader")
    outcomes = await asyncio.gather(*(
        world.chronicle.execute(
            CreatePost(f"Post {n}", "body", (), True), authors[n % len(authors)], None
        )
        for n in range(posts)
    ))
    post_ids = [o.result["post_id"] for o in outcomes]
    await world.run(LikePost(post_ids[0]), reader)
    await world.run(LikePost(post_ids[-1]), authors[1])
    await world.run(AddComment(post_ids[-1], "First!"), reader)

    engine = await _read_engine(world, database_url)
    try:
        await world.data(PAGE, reader, first=1)  # opens the pool's connection
        counter = StatementCounter(engine)
        data = await world.data(PAGE, reader, first=posts)
    finally:
        await engine.dispose()

    assert len(counter.statements) == STATEMENTS_PER_PAGE, counter.statements
    page = data["posts"]
    assert page["totalCount"] == posts
    assert page["pageInfo"]["hasNextPage"] is False
    nodes = {edge["node"]["id"]: edge["node"] for edge in page["edges"]}
    assert set(nodes) == set(post_ids)
    assert nodes[post_ids[0]]["likedByMe"] is True
    assert nodes[post_ids[-1]]["likedByMe"] is False
    assert (nodes[post_ids[-1]]["likeCount"], nodes[post_ids[-1]]["commentCount"]) == (1, 1)
    assert {n["author"]["username"] for n in nodes.values()} == {f"author{i}" for i in range(5)}


async def test_an_anonymous_page_needs_no_statement_for_likes(
    world: World, database_url: str
) -> None:
    author = await world.member("author")
    for n in range(3):
        await world.post(author, f"Post {n}")
    engine = await _read_engine(world, database_url)
    try:
        await world.data(PAGE, None, first=1)
        counter = StatementCounter(engine)
        data = await world.data(PAGE, None, first=3)
    finally:
        await engine.dispose()
    assert len(counter.statements) == STATEMENTS_PER_PAGE - 1, counter.statements
    assert [e["node"]["likedByMe"] for e in data["posts"]["edges"]] == [False] * 3


async def test_a_feed_page_that_does_not_ask_for_its_total_is_a_single_statement(
    world: World, database_url: str
) -> None:
    author = await world.member("author")
    for n in range(3):
        await world.post(author, f"Post {n}")
    feed = "{ posts(first: 20) { edges { node { title author { username } likeCount } } } }"
    engine = await _read_engine(world, database_url)
    try:
        await world.data(feed)
        counter = StatementCounter(engine)
        data = await world.data(feed)
    finally:
        await engine.dispose()
    assert len(counter.statements) == 1, counter.statements
    assert [e["node"]["author"]["username"] for e in data["posts"]["edges"]] == ["author"] * 3
