"""A page of posts costs a constant number of SQL statements, whatever its size.

Per-request DataLoaders batch the authors and the caller's likes; the counts
are denormalised on the post rows. The queries run on an engine of their own
here so that the projection runner's statements are not counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.commands import AddComment, CreatePost, LikePost
from events.db import create_engine
from events.readers import reader_for
from events.reading import Reader, Rows
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
    """Every data statement sent (SQLite's explicit BEGINs are transaction control, not reads),
    through the engine and through the driver-level reader alike."""

    def __init__(self, engine: AsyncEngine, reader: CountedReader) -> None:
        self.statements: list[str] = []
        reader.counter = self
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def reset(self) -> None:
        """Forget the warm-up's statements (opening the pool's connection, compiling)."""
        self.statements.clear()

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            self.statements.append(statement)


class CountedReader:
    """The driver-level reader of the requests (see events.reading), counted."""

    def __init__(self, inner: Reader) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.counter: StatementCounter | None = None

    def _count(self, sql: str) -> None:
        if self.counter is not None:
            self.counter.statements.append(sql)

    async def fetch(self, sql: str, params: Sequence[Any],
                    tables: Collection[str] | None = None) -> Rows:
        self._count(sql)
        return await self.inner.fetch(sql, params, tables)

    async def fetch_small(self, sql: str, params: Sequence[Any],
                          tables: Collection[str] | None = None) -> Rows:
        self._count(sql)
        return await self.inner.fetch_small(sql, params, tables)

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


@asynccontextmanager
async def counted_reads(world: World, database_url: str) -> AsyncIterator[StatementCounter]:
    """The world's queries on an engine and reader of their own, counted."""
    engine = create_engine(database_url)
    reader = CountedReader(reader_for(engine))
    world.services = replace(world.services, engine=engine, reader=reader)
    try:
        yield StatementCounter(engine, reader)
    finally:
        await reader.close()
        await engine.dispose()


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

    async with counted_reads(world, database_url) as counter:
        await world.data(PAGE, reader, first=1)
        counter.reset()
        data = await world.data(PAGE, reader, first=posts)

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
    async with counted_reads(world, database_url) as counter:
        await world.data(PAGE, None, first=1)
        counter.reset()
        data = await world.data(PAGE, None, first=3)
    assert len(counter.statements) == STATEMENTS_PER_PAGE - 1, counter.statements
    assert [e["node"]["likedByMe"] for e in data["posts"]["edges"]] == [False] * 3


async def test_a_feed_page_that_does_not_ask_for_its_total_is_a_single_statement(
    world: World, database_url: str
) -> None:
    author = await world.member("author")
    for n in range(3):
        await world.post(author, f"Post {n}")
    feed = "{ posts(first: 20) { edges { node { title author { username } likeCount } } } }"
    async with counted_reads(world, database_url) as counter:
        await world.data(feed)
        counter.reset()
        data = await world.data(feed)
    assert len(counter.statements) == 1, counter.statements
    assert [e["node"]["author"]["username"] for e in data["posts"]["edges"]] == ["author"] * 3
