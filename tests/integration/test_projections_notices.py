"""Each applied batch's notice names the read tables it wrote; the cache evicts by them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from events.bus import PROJECTIONS_CHANNEL
from events.catalog import (
    PasswordChanged,
    PostCreated,
    PostLiked,
    PostPublished,
    UserRegistered,
)
from events.model import DomainEvent
from tests.integration.test_projections_kit import Log, open_log, running


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    async with open_log(database_url) as log:
        yield log


async def written(log: Log, subscription: Any, stream: str, *events: DomainEvent
                  ) -> dict[str, set[str] | None]:
    """Append ``events``; the tables each projection's notices named up to their position
    (None: a notice named none)."""
    position = await log.append(stream, *events)
    tables: dict[str, set[str] | None] = {}
    reached: set[str] = set()

    async def collect() -> None:
        async for notice in subscription:
            if not isinstance(notice.get("position"), int):
                continue
            name = notice["projection"]
            named = notice.get("tables")
            known = tables.setdefault(name, set())
            if named is None or known is None:
                tables[name] = None
            else:
                known.update(named)
            if notice["position"] >= position:
                reached.add(name)
                if reached >= {"users", "posts"}:
                    return

    await asyncio.wait_for(collect(), 10)
    return tables


async def test_each_batch_names_the_tables_it_wrote_and_only_those(log: Log) -> None:
    async with running(log.runner()) as runner, log.bus.subscribe(PROJECTIONS_CHANNEL) as heard:
        assert runner.names == ("users", "posts")
        registered = await written(log, heard, "user-u1", UserRegistered(
            "u1", "ann", "ann@example.org", "Ann", "hash"))
        assert registered == {"users": {"users"}, "posts": set()}

        published = await written(log, heard, "post-p1", PostCreated("p1", "u1", "T", "B"),
                                  PostPublished("p1"))
        # users: the author's post count, and its own post -> author table
        assert published["users"] == {"users", "user_posts"}
        assert published["posts"] is not None and "posts" in published["posts"]
        assert "likes" not in published["posts"]

        liked = await written(log, heard, "like-p1-u1", PostLiked("p1", "u1"))
        assert liked["users"] == set()
        assert liked["posts"] is not None and {"likes", "posts"} <= liked["posts"]

        changed = await written(log, heard, "user-u1", PasswordChanged("u1", "other hash"))
        assert changed == {"users": {"users"}, "posts": set()}


async def test_a_swapped_generation_is_announced_without_tables(log: Log) -> None:
    async with running(log.runner()) as runner, log.bus.subscribe(PROJECTIONS_CHANNEL) as heard:
        await written(log, heard, "post-p1", PostCreated("p1", "u1", "T", "B"))
        await runner.rebuild("posts")

        async def swapped() -> dict[str, Any]:
            async for notice in heard:
                if notice["projection"] == "posts" and isinstance(notice.get("position"), int) \
                        and notice.get("generation", 0) > 1:
                    return dict(notice)
            raise AssertionError("the subscription ended")

        notice = await asyncio.wait_for(swapped(), 20)
        assert "tables" not in notice
