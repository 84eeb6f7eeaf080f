"""Posts from the ``posts`` read table (and its past, ``posts_as_of``, for ``asOf``).

Visibility: published posts are public; drafts and archived posts are seen by
their author and by admins only; deleted posts have no row at all. A past
listing (``asOf``) follows the rule for the past (``resolvers.visibility``):
a post published then lists for others only if it is published now.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Table,
    bindparam,
    false,
    func,
    or_,
    select,
)

from domain.ports import Actor
from projections.history import posts_as_of
from resolvers import arguments
from resolvers.consistency import wait_for_position
from resolvers.context import RequestContext
from resolvers.pagination import (
    MAX_KEY,
    Page,
    check_first,
    counting,
    encode_cursor,
    int_cursor,
    make_page,
)
from resolvers.rows import PostRow, UserRow
from resolvers.statements import Statements, compile_select

CURSOR = "post"
PUBLISHED = "PUBLISHED"


def visible_to(actor: Actor | None, post: PostRow) -> bool:
    if post.status == PUBLISHED:
        return True
    return actor is not None and (actor.is_admin or actor.user_id == post.author_id)


def can_see(ctx: RequestContext, post: PostRow) -> bool:
    # A published post is everyone's: who asks is read only for the others.
    return post.status == PUBLISHED or visible_to(ctx.actor, post)


async def post_by_id(ctx: RequestContext, post_id: str) -> PostRow | None:
    if arguments.names_nothing(post_id):
        return None
    post = await ctx.loaders.post.load(post_id)
    return post if post is not None and can_see(ctx, post) else None


def _status_scope(ctx: RequestContext, status: str | None) -> tuple[str, dict[str, Any]]:
    """Other statuses than PUBLISHED list the caller's own posts, or every post for admins.

    Returns the kind of filter (part of the statement's shape) and its values.
    """
    if status is None or status == PUBLISHED:
        return "published", {}
    if ctx.is_admin:
        return "any", {"status": status}
    if ctx.actor is None:
        return "none", {}
    return "own", {"status": status, "actor": ctx.actor.user_id}


def _status_filter(t: FromClause, kind: str) -> ColumnElement[bool]:
    if kind == "published":
        return t.c.status == PUBLISHED
    if kind == "any":
        return t.c.status == bindparam("status")
    if kind == "none":
        return false()
    return (t.c.status == bindparam("status")) & (t.c.author_id == bindparam("actor"))


def _filters(
    ctx: RequestContext,
    t: FromClause,
    *,
    author_username: str | None,
    tag: str | None,
    search: str | None,
    status: str | None,
    current: bool,
) -> list[ColumnElement[bool]]:
    """The listing's conditions; the values bound by name come from ``list_posts``."""
    tables = ctx.services.runner.tables()
    kind = _status_scope(ctx, status)[0]
    where = [_status_filter(t, kind)]
    if not current and kind == "published" and not ctx.is_admin:
        posts = tables.posts
        public_now = t.c.id.in_(select(posts.c.id).where(posts.c.status == PUBLISHED))
        where.append(
            public_now if ctx.actor is None
            else or_(public_now, t.c.author_id == bindparam("actor"))
        )
    if author_username is not None:
        users = tables.users
        author = select(users.c.id).where(func.lower(users.c.username) == bindparam("author"))
        where.append(t.c.author_id == author.scalar_subquery())
    if tag is not None:
        normalised = tag.strip().lower()
        if current:
            tagged = select(tables.post_tags.c.post_id).where(
                tables.post_tags.c.tag == bindparam("tag")
            )
            where.append(t.c.id.in_(tagged))
        else:
            # post_tags holds only the present; the past keeps tags as a JSON array.
            where.append(t.c.tags.contains(json.dumps(normalised), autoescape=True))
    if search:
        where.append(
            or_(
                t.c.title.icontains(search, autoescape=True),
                t.c.body.icontains(search, autoescape=True),
            )
        )
    return where


async def list_posts(
    ctx: RequestContext,
    *,
    first: int | None,
    after: str | None,
    author_username: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    status: str | None = None,
    as_of: int | None = None,
) -> Page[PostRow]:
    """Newest first. With ``as_of``, the listing as the read model held it at that head."""
    limit = check_first(first, ctx.services.max_page_size, default=20)
    last = int_cursor(after, CURSOR)
    if author_username is not None:
        arguments.text("authorUsername", author_username)
    if tag is not None:
        arguments.text("tag", tag)
    if search is not None:
        arguments.search(search)
    tables = ctx.services.runner.tables()
    t: FromClause = tables.posts
    if as_of is not None:
        # Past the head the listing is the present one (and no position reaches
        # FOREVER); the history up to it must be projected before it can answer.
        at = min(as_of, await ctx.services.store.head_position())
        await wait_for_position(ctx.services, at)
        t = posts_as_of(tables, at)  # the posts table's columns, as of ``at``
    kind, values = _status_scope(ctx, status)
    if as_of is not None and ctx.actor is not None:
        values.setdefault("actor", ctx.actor.user_id)  # the author sees their own past
    if author_username is not None:
        values["author"] = author_username.lower()
    if tag is not None:
        values["tag"] = tag.strip().lower()
    # Present-day listings without a search have few shapes: compiled once each.
    shape = (
        ("posts", t, kind, author_username is not None, tag is not None)
        if as_of is None and not search
        else None
    )

    def where() -> list[ColumnElement[bool]]:
        return _filters(
            ctx, t, author_username=author_username, tag=tag, search=search, status=status,
            current=as_of is None,
        )

    return await _page(ctx, t, shape, where, values, limit, last)


async def list_author_posts(
    ctx: RequestContext, author_id: str, first: int | None, after: str | None
) -> Page[PostRow]:
    """A user's published posts, newest first."""
    limit = check_first(first, ctx.services.max_page_size, default=20)
    last = int_cursor(after, CURSOR)
    t = ctx.services.runner.tables().posts

    def where() -> list[ColumnElement[bool]]:
        return [t.c.author_id == bindparam("author_id"), t.c.status == PUBLISHED]

    return await _page(ctx, t, ("author", t), where, {"author_id": author_id}, limit, last)


AUTHOR = "author__"
"""Prefix of the author's columns joined into a page of posts."""
STATEMENTS = Statements()
"""Compiled page statements by shape (the tables are part of the shape)."""


def _page_select(t: FromClause, u: Table) -> Select[Any]:
    """The posts of ``t`` newest first with their authors' columns, before any filter.

    Built only when a statement is compiled: once per shape for the present-day
    listings (see ``STATEMENTS``), per request for searches and past states.
    """
    return (
        select(t, *(c.label(AUTHOR + c.name) for c in u.c))
        .select_from(t.outerjoin(u, u.c.id == t.c.author_id))
        .order_by(t.c.created_position.desc())
    )


async def _page(
    ctx: RequestContext,
    t: FromClause,
    shape: Hashable | None,
    where: Callable[[], list[ColumnElement[bool]]],
    values: dict[str, Any],
    limit: int,
    last: int | None,
) -> Page[PostRow]:
    """One statement: the posts with their authors joined in (primed into the user loader).

    An outer join, because the users projection may lag the posts one: a post
    whose author is not projected yet still lists, and its author resolves later.
    Run at driver level (``resolvers.statements``): compiled once per ``shape``
    (None: a shape too varied to keep, compiled for this request alone).
    """
    services = ctx.services
    tables = services.runner.tables()
    u = tables.users
    key = None if shape is None else (shape, last is not None)
    compiled = None if key is None else STATEMENTS.get(key)
    if compiled is None:
        query = _page_select(t, u).where(*where())
        if last is not None:
            query = query.where(t.c.created_position < bindparam("after"))
        query = query.limit(bindparam("limit"))
        dialect = services.engine.dialect
        compiled = (
            compile_select(query, dialect) if key is None else STATEMENTS.add(key, query, dialect)
        )
    result = await compiled.fetch(
        services.driver_reader(), {**values, "after": last, "limit": limit + 1}
    )
    authors: dict[str, UserRow] = {}
    rows = []
    user_columns = [(AUTHOR + c.name, c.name) for c in u.c]
    for found in result:
        author_id = found[AUTHOR + "id"]
        if author_id is not None and author_id not in authors:
            authors[author_id] = UserRow.from_mapping({name: found[k] for k, name in user_columns})
            ctx.loaders.user.prime(author_id, authors[author_id])
        rows.append(PostRow.from_mapping(found, authors.get(author_id)))
    if t is tables.posts:
        # Present-day rows only: a past state must never answer a later post(id).
        for row in rows:
            ctx.loaders.post.prime(row.id, row)
    engine = services.engine

    async def total() -> int:
        # The count statement is built only if totalCount is asked for: feeds never do.
        query = select(func.count()).select_from(t).where(*where()).params(values)
        return await counting(engine, query)()

    return make_page(rows, limit, total, lambda p: encode_cursor(CURSOR, p.created_position),
                     start=encode_cursor(CURSOR, MAX_KEY if last is None else last))
