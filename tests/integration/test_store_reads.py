"""The store's driver-level readers on both backends: right rows, bounded, resilient."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import create_engine, migrate
from events.pg_reader import PgReader, ReadTimeouts
from events.readers import reader_for
from events.reading import Reader


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(database_url)
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def reader(engine: AsyncEngine) -> AsyncIterator[Reader]:
    reader = reader_for(engine)
    yield reader
    await reader.close()


def numbers(reader: Reader, count: int) -> str:
    if reader.dialect == "sqlite":
        return (f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})"
                " SELECT i FROM n")
    return f"SELECT i FROM generate_series(1, {count}) AS i"


async def test_reads_bring_their_rows_in_order_however_many_run_at_once(reader: Reader) -> None:
    counts = [1, 5, 200, 1000] * 6

    results = await asyncio.gather(*(
        (reader.fetch if i % 2 else reader.fetch_small)(numbers(reader, count), ())
        for i, count in enumerate(counts)
    ))

    assert [[i for (i,) in rows] for rows in results] == [
        list(range(1, count + 1)) for count in counts
    ]


async def test_a_failed_read_leaves_the_reader_usable(reader: Reader) -> None:
    for _ in range(3):
        with pytest.raises(Exception, match="no_such_table"):
            await reader.fetch_small("SELECT * FROM no_such_table", ())

    assert list(await reader.fetch_small("SELECT 1", ())) == [(1,)]


async def test_a_cancelled_read_leaves_the_reader_usable(reader: Reader) -> None:
    slow = "SELECT pg_sleep(5)" if reader.dialect != "sqlite" else numbers(reader, 200_000)
    for _ in range(3):
        read = asyncio.create_task(reader.fetch(slow, ()))
        await asyncio.sleep(0.05)
        read.cancel()
        await asyncio.gather(read, return_exceptions=True)

    assert list(await reader.fetch_small("SELECT 2", ())) == [(2,)]


@pytest.mark.postgres
async def test_postgres_reads_hold_at_most_their_share_of_connections(pg_url: str) -> None:
    engine = create_engine(pg_url)
    reader = PgReader(engine, size=3)
    try:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        await asyncio.gather(*(reader.fetch("SELECT pg_sleep(0.05)", ()) for _ in range(12)))

        [(connections,)] = await reader.fetch(sql, ())

        assert connections <= 3
    finally:
        await reader.close()
        await engine.dispose()


@pytest.mark.postgres
async def test_a_postgres_read_that_takes_too_long_fails_and_frees_its_slot(pg_url: str) -> None:
    engine = create_engine(pg_url)
    reader = PgReader(engine, size=1, timeouts=ReadTimeouts(connect=5, command=0.2))
    try:
        with pytest.raises(asyncio.TimeoutError):
            await reader.fetch("SELECT pg_sleep(5)", ())

        assert list(await reader.fetch("SELECT 2", ())) == [(2,)]
    finally:
        await reader.close()
        await engine.dispose()
