"""Comments of a post from the ``comments`` read table, oldest first."""

from __future__ import annotations

from sqlalchemy import func, select

from resolvers.context import RequestContext
from resolvers.pagination import (
    Page,
    check_first,
    counting,
    encode_cursor,
    int_cursor,
    known_count,
    make_page,
)
from resolvers.posts import post_by_id
from resolvers.rows import CommentRow

CURSOR = "comment"


async def list_comments(
    ctx: RequestContext, post_id: str, first: int | None, after: str | None
) -> Page[CommentRow]:
    """Empty for a post the caller cannot see now (see ``history.post_history``)."""
    limit = check_first(first, ctx.services.max_page_size, default=50)
    last = int_cursor(after, CURSOR)
    if await post_by_id(ctx, post_id) is None:
        return Page([], False, known_count(0))
    c = ctx.services.runner.tables().comments
    query = select(c).where(c.c.post_id == post_id).order_by(c.c.created_position)
    if last is not None:
        query = query.where(c.c.created_position > last)
    count = select(func.count()).select_from(c).where(c.c.post_id == post_id)
    async with ctx.services.engine.connect() as conn:
        result = await conn.execute(query.limit(limit + 1))
        rows = [CommentRow.from_mapping(r) for r in result.mappings()]
    total = counting(ctx.services.engine, count)
    return make_page(rows, limit, total, lambda x: encode_cursor(CURSOR, x.created_position),
                     start=encode_cursor(CURSOR, last or 0))


async def comment_by_id(ctx: RequestContext, comment_id: str) -> CommentRow | None:
    """None also when the caller cannot see the comment's post now, as ``list_comments``."""
    c = ctx.services.runner.tables().comments
    async with ctx.services.engine.connect() as conn:
        row = (await conn.execute(select(c).where(c.c.id == comment_id))).mappings().first()
    if row is None:
        return None
    comment = CommentRow.from_mapping(row)
    return comment if await post_by_id(ctx, comment.post_id) is not None else None
