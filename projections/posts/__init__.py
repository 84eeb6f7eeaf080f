"""Projection ``posts``: posts with their counts and tags, the posts' history, comments, likes.

One batch of events is folded over the rows it touches (:class:`PostsBatch`)
by one small function per event type, then written back in a few statements.
``post_history`` gets one row per state a post row had, so ``posts(asOf: P)``
is a range lookup (``valid_from <= P < valid_to``), never a replay.

The projection is in three parts: the batch and its history
(``projections.posts.batch``), the rules per event type
(``projections.posts.folding``) and the rows' loading and writing
(``projections.posts.storage``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.model import RecordedEvent
from projections.posts.batch import PostsBatch
from projections.posts.folding import HANDLERS, fold
from projections.posts.storage import load, write
from projections.projection import Change, Projection
from projections.tables import COUNTS_APART, posts_tables

__all__ = ["PostsBatch", "PostsProjection", "fold"]


class PostsProjection(Projection):
    name = "posts"
    # 2: tables clustered by primary key on SQLite; 3: counts with their own history
    schema_version = COUNTS_APART
    types = tuple(HANDLERS)
    # Comments and likes change the post's row (its counts) from their own streams.
    sequence_fields = {"post_id": "post"}

    def tables(
        self, metadata: MetaData, suffix: str, schema_version: int | None = None
    ) -> dict[str, Table]:
        return posts_tables(metadata, suffix, schema_version or self.schema_version)

    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        batch = await load(conn, tables, events)
        fold(batch, events)
        await write(conn, tables, batch)
        return batch.feed_changes()
