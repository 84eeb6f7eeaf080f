"""What a request read, table by table (events/reading.py): the response cache's tags."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from events.read_recording import recording_reads, watch_engine_reads
from events.readers import reader_for
from resolvers.statements import compile_select

metadata = MetaData()
posts = Table("posts_g1", metadata, Column("id", Integer, primary_key=True))
likes = Table("likes_g1", metadata, Column("post_id", Integer, primary_key=True))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    watch_engine_reads(engine)
    watch_engine_reads(engine)  # once per engine, however often asked
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
        await engine.dispose()


async def test_statements_through_the_engine_name_their_tables(engine: AsyncEngine) -> None:
    liked = select(likes.c.post_id)
    with recording_reads() as reads:
        async with engine.connect() as conn:
            await conn.execute(select(posts.c.id).where(posts.c.id.in_(liked.scalar_subquery())))
    assert reads.tables == {"posts_g1", "likes_g1"} and not reads.unknown


async def test_text_sql_through_the_engine_is_an_unknown_read(engine: AsyncEngine) -> None:
    with recording_reads() as reads:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    assert reads.unknown


async def test_driver_level_reads_name_their_tables_or_are_unknown(engine: AsyncEngine) -> None:
    reader = reader_for(engine)
    try:
        compiled = compile_select(select(likes.c.post_id), engine.dialect)
        with recording_reads() as named:
            await compiled.fetch(reader, {})
        assert named.tables == {"likes_g1"} and not named.unknown
        with recording_reads() as raw:
            await reader.fetch_small("SELECT count(*) FROM posts_g1", [])
        assert raw.unknown
    finally:
        await reader.close()


async def test_tasks_started_by_the_work_add_to_its_record_and_nothing_else_does(
    engine: AsyncEngine,
) -> None:
    async def read(table: Table) -> None:
        async with engine.connect() as conn:
            await conn.execute(select(table))

    with recording_reads() as reads:
        await asyncio.gather(read(posts), read(likes))
    assert reads.tables == {"posts_g1", "likes_g1"}
    with recording_reads() as other:
        pass
    await read(posts)  # outside any record
    assert other.tables == set() and not other.unknown
