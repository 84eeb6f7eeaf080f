"""SQLite small reads run on the event loop's thread, yet never hold it up."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from events.reading import INLINE_ROWS
from events.sqlite_reader import SqliteReader


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "small.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(1, 3 * INLINE_ROWS + 2)])
    conn.close()
    return path


@pytest.fixture
async def reader(database: Path) -> AsyncIterator[SqliteReader]:
    reader = SqliteReader(str(database))
    yield reader
    await reader.close()


async def test_a_long_small_read_brings_every_row_in_order(reader: SqliteReader) -> None:
    for limit in (1, INLINE_ROWS - 1, INLINE_ROWS, INLINE_ROWS + 1, 3 * INLINE_ROWS + 1):
        sql = "SELECT n FROM t ORDER BY n LIMIT ?"

        rows = await reader.fetch_small(sql, (limit,))

        assert [n for (n,) in rows] == list(range(1, limit + 1))
        assert list(rows) == list(await reader.fetch(sql, (limit,)))


async def test_concurrent_small_reads_each_get_their_own_rows(reader: SqliteReader) -> None:
    limits = [INLINE_ROWS * 2 + i for i in range(8)]

    results = await asyncio.gather(*(
        reader.fetch_small("SELECT n FROM t ORDER BY n LIMIT ?", (limit,)) for limit in limits
    ))

    assert [len(rows) for rows in results] == limits


async def test_a_small_read_that_finds_the_database_locked_waits_off_the_event_loop(
    reader: SqliteReader, database: Path
) -> None:
    # A connection in exclusive locking mode shuts every other reader out until it closes.
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (0)")
    holder.execute("COMMIT")
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(ticking())
    asyncio.get_running_loop().call_later(0.3, holder.close)
    try:
        rows = await reader.fetch_small("SELECT min(n) FROM t", ())
    finally:
        ticker.cancel()

    assert rows == [(0,)]
    assert ticks >= 10  # the loop ran on while the read waited
    assert await reader.fetch_small("SELECT count(*) FROM t", ()) == [(3 * INLINE_ROWS + 2,)]


async def test_a_cancelled_long_small_read_leaves_the_reader_usable(
    reader: SqliteReader,
) -> None:
    for _ in range(20):
        read = asyncio.create_task(reader.fetch_small("SELECT n FROM t ORDER BY n", ()))
        await asyncio.sleep(0)
        read.cancel()
        await asyncio.gather(read, return_exceptions=True)

    assert len(await reader.fetch_small("SELECT n FROM t", ())) == 3 * INLINE_ROWS + 1
