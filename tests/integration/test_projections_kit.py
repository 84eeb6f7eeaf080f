"""Shared helpers of the projection tests (no tests here): a real store, events, table dumps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import FromClause, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.bus import Bus
from events.catalog import (
    CommentAdded,
    DomainEvent,
    PostCreated,
    PostLiked,
    PostPublished,
    UserRegistered,
)
from events.db import create_engine, migrate
from events.model import ANY, Commit, StreamAppend
from events.store import SqlEventStore
from projections.runner import ProjectionRunner

STREAM_TYPES = {"User": "user", "Post": "post", "Comment": "comment", "Like": "like"}


@dataclass
class Log:
    engine: AsyncEngine
    store: SqlEventStore
    bus: Bus

    async def append(self, stream_id: str, *events: DomainEvent) -> int:
        """Append to one stream; returns the position of the last event."""
        stream_type = events[0].spec.stream_type
        result = await self.store.commit(
            Commit([StreamAppend(stream_id, stream_type, ANY, list(events))])
        )
        return result.position

    def runner(self, **options: Any) -> ProjectionRunner:
        options.setdefault("poll_interval", 0.2)
        options.setdefault("drop_grace", 0.5)
        return ProjectionRunner(self.engine, self.store, self.bus, **options)


@asynccontextmanager
async def open_log(url: str, bus_url: str = "memory://") -> AsyncIterator[Log]:
    await migrate(url)
    engine = create_engine(url)
    bus = Bus(bus_url)
    await bus.connect()
    store = SqlEventStore(engine, bus=bus)
    await store.start()
    try:
        yield Log(engine, store, bus)
    finally:
        await store.close()
        await bus.disconnect()
        await engine.dispose()


@asynccontextmanager
async def running(runner: ProjectionRunner) -> AsyncIterator[ProjectionRunner]:
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


async def applied(log: Log, runner: ProjectionRunner, stream: str, *events: Any) -> int:
    """Append to one stream and wait until the runner applied it; returns its position."""
    position = await log.append(stream, *events)
    assert await runner.wait_for(position, 5)
    return position


async def rows(engine: AsyncEngine, table: FromClause, *where: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(select(table).where(*where))
        return [dict(r._mapping) for r in result]


async def one(engine: AsyncEngine, table: FromClause, *where: Any) -> dict[str, Any] | None:
    found = await rows(engine, table, *where)
    assert len(found) <= 1
    return found[0] if found else None


async def contents(engine: AsyncEngine, runner: ProjectionRunner) -> dict[str, list[str]]:
    """Every row of every live read table, generation suffix stripped, in a stable order."""
    t = runner.tables()
    dump: dict[str, list[str]] = {}
    tables = [t.users, t.posts, t.post_tags, t.post_history, t.comments, t.likes]
    if t.post_counts is not None:
        tables.append(t.post_counts)
    for table in tables:
        name = table.name.rsplit("_g", 1)[0]
        dump[name] = sorted(repr(sorted(r.items())) for r in await rows(engine, table))
    return dump


async def seed_community(log: Log, users: int = 4, posts: int = 6) -> int:
    """A small, varied history: members, published posts, comments and likes."""
    position = 0
    for u in range(users):
        position = await log.append(
            f"user-u{u}", UserRegistered(f"u{u}", f"member{u}", f"m{u}@example.org", None, "h")
        )
    for p in range(posts):
        author = f"u{p % users}"
        events: Sequence[DomainEvent] = [
            PostCreated(f"p{p}", author, f"Title {p}", "Body", ("news", f"t{p % 3}"))
        ]
        if p % 2 == 0:
            events = [*events, PostPublished(f"p{p}")]
        position = await log.append(f"post-p{p}", *events)
        for c in range(p % 3):
            position = await log.append(
                f"comment-p{p}c{c}", CommentAdded(f"p{p}c{c}", f"p{p}", f"u{c % users}", "Nice")
            )
        for u in range(p % users):
            position = await log.append(f"like-p{p}-u{u}", PostLiked(f"p{p}", f"u{u}"))
    return position
