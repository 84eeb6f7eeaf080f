"""What changed in the public feed after a position, from the read model: the feed's resume.

Per post whose row changed after ``after`` (content, status, counts, or
deleted), compare its state at ``after`` with its state now:

- published then and now: UPDATED, with the post now;
- published now only: ADDED, with the post now;
- published then only: REMOVED, with the post as last published;
- neither: nothing (the post never was in the feed as the client saw it).

One update per post, with its newest state, in position order: a resumed
client ends up holding what a live one holds, without the steps in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from projections.history import posts_as_of
from projections.tables import FOREVER
from resolvers.changes import read_last_published
from resolvers.context import Services
from resolvers.posts import PUBLISHED
from resolvers.rows import PostRow

IN_LIST = 500
"""Most ids per IN list (SQLite's and PostgreSQL's parameter limits are far above)."""


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), IN_LIST):
        yield ordered[start:start + IN_LIST]


async def feed_since(services: Services, after: int) -> list[tuple[str, PostRow, int]]:
    """(change, post, position) per post that entered, changed in or left the feed."""
    tables = services.runner.tables()
    posts, h = tables.posts, tables.post_history
    async with services.engine.connect() as conn:
        changed = {row.id for row in await conn.execute(
            select(posts.c.id).where(posts.c.position > after)
        )}
        # A deleted post is gone from ``posts``: its last state ended after ``after``.
        ended: dict[str, int] = {row.id: row.ended for row in await conn.execute(
            select(h.c.id, func.max(h.c.valid_to).label("ended"))
            .where(h.c.valid_to > after, h.c.valid_to < FOREVER).group_by(h.c.id)
        )}
        ids = changed | ended.keys()
        now: dict[str, PostRow] = {}
        then: dict[str, Any] = {}
        for chunk in _chunks(ids):
            for current in (await conn.execute(
                select(posts).where(posts.c.id.in_(chunk))
            )).mappings():
                now[current["id"]] = PostRow.from_mapping(current)
            past = posts_as_of(tables, after)
            for state in await conn.execute(
                select(past.c.id, past.c.status).where(past.c.id.in_(chunk))
            ):
                then[state.id] = state.status
    updates: list[tuple[str, PostRow, int]] = []
    for post_id in ids:
        row = now.get(post_id)
        was = then.get(post_id) == PUBLISHED
        if row is not None and row.status == PUBLISHED:
            updates.append(("UPDATED" if was else "ADDED", row, row.position))
        elif was:
            last = await read_last_published(services, post_id)
            if last is not None:
                left = row.position if row is not None else ended[post_id]
                updates.append(("REMOVED", last, left))
    updates.sort(key=lambda update: update[2])
    return updates
