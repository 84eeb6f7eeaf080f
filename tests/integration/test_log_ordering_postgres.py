"""No reader ever skips an event on PostgreSQL, even with writers in several processes.

Sequence values from concurrent transactions commit out of order, so a naive
log lets a tailing reader pass a position that is filled in later. Here eight
writers, each a store with its own engine (as separate processes would be),
append concurrently while a reader tails the log; it must see every position
exactly once, in order, with no gap.
"""

from __future__ import annotations

import asyncio

import pytest

from events.catalog import PostCreated, PostEdited
from events.db import create_engine, migrate
from events.model import NO_STREAM, Commit, StreamAppend
from events.store import SqlEventStore

pytestmark = pytest.mark.postgres

WRITERS = 8
COMMITS_PER_WRITER = 60
CONCURRENT_COMMITS = 4
"""Commands in flight per writer at once, so groups of several commits form."""


async def write(store: SqlEventStore, writer: int) -> int:
    """Commit this writer's share: 1 to 3 events each; returns how many events it wrote."""
    written = 0
    pending: set[asyncio.Task[object]] = set()
    for n in range(COMMITS_PER_WRITER):
        post = f"{writer}-{n}"
        extra = [PostEdited(post, title=f"edit {i}") for i in range(n % 3)]
        appended = Commit(appends=[StreamAppend(
            f"Post-{post}", "Post", NO_STREAM, [PostCreated(post, "u", "t", "b"), *extra]
        )])
        pending.add(asyncio.create_task(store.commit(appended)))
        written += 1 + len(extra)
        if len(pending) >= CONCURRENT_COMMITS:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
    for task in pending:
        await task
    return written


async def tail(reader: SqlEventStore, writers_done: asyncio.Event) -> tuple[list[int], int]:
    """Poll after the last position seen until the writers are done and the log is drained."""
    seen: list[int] = []
    polls_with_news = 0
    while True:
        finished = writers_done.is_set()
        page = await reader.read_all(after=seen[-1] if seen else 0, limit=37)
        if page:
            polls_with_news += 1
            seen.extend(e.position for e in page)
        elif finished:
            return seen, polls_with_news
        else:
            await asyncio.sleep(0.001)


async def test_a_tailing_reader_sees_every_position_once_in_order_under_concurrent_writers(
    pg_url: str,
) -> None:
    await migrate(pg_url)
    engines = [create_engine(pg_url) for _ in range(WRITERS + 1)]
    stores = [SqlEventStore(engine) for engine in engines]
    for store in stores:
        await store.start()
    reader, writers = stores[0], stores[1:]
    writers_done = asyncio.Event()
    try:
        tailing = asyncio.create_task(tail(reader, writers_done))
        totals = await asyncio.gather(*(write(s, i) for i, s in enumerate(writers)))
        writers_done.set()
        seen, polls_with_news = await tailing
    finally:
        for store in stores:
            await store.close()
        for engine in engines:
            await engine.dispose()

    total = sum(totals)
    assert seen == list(range(1, total + 1))
    # the reader really ran beside the writers, not only after them
    assert polls_with_news > 1
    assert max(s.metrics.max_group_size for s in writers) > 1
