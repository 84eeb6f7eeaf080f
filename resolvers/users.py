"""Users from the ``users`` read table: the caller, one by username, all of them."""

from __future__ import annotations

from sqlalchemy import func, select

from resolvers import arguments
from resolvers.context import RequestContext
from resolvers.pagination import (
    Page,
    check_first,
    counting,
    encode_cursor,
    make_page,
    str_cursor,
)
from resolvers.rows import UserRow

CURSOR = "user"


async def me(ctx: RequestContext) -> UserRow | None:
    if ctx.actor is None:
        return None
    return await ctx.loaders.user.load(ctx.actor.user_id)


async def user_by_username(ctx: RequestContext, username: str) -> UserRow | None:
    """Usernames are unique case-insensitively, so any spelling finds the one user."""
    arguments.text("username", username)
    users = ctx.services.runner.tables().users
    query = select(users).where(func.lower(users.c.username) == username.lower())
    async with ctx.services.engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return None if row is None else UserRow.from_mapping(row)


async def list_users(ctx: RequestContext, first: int | None, after: str | None) -> Page[UserRow]:
    """Every member in username order (stable, unique: a natural keyset)."""
    limit = check_first(first, ctx.services.max_page_size, default=20)
    last_username = str_cursor(after, CURSOR)
    users = ctx.services.runner.tables().users
    query = select(users).order_by(users.c.username).limit(limit + 1)
    if last_username is not None:
        query = query.where(users.c.username > last_username)
    async with ctx.services.engine.connect() as conn:
        rows = [UserRow.from_mapping(r) for r in (await conn.execute(query)).mappings()]
    total = counting(ctx.services.engine, select(func.count()).select_from(users))
    return make_page(rows, limit, total, lambda u: encode_cursor(CURSOR, u.username),
                     start=encode_cursor(CURSOR, last_username or ""))
