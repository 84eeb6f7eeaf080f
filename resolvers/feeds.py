"""Read-model subscriptions: feed, postChanged and commentAdded.

They listen to the projection runner's notices (PROJECTIONS_CHANNEL), which
are published after a batch was applied, and read the read model then: a
client never sees a state that a following query would contradict. When the
bus cuts a subscriber off, postChanged re-sends the post and commentAdded the
comments it missed; the feed, a stream of changes, carries on from the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from domain.errors import NotFound
from domain.ports import Actor
from events.bus import PROJECTIONS_CHANNEL, BusError
from projections.history import post_states
from resolvers.context import Services
from resolvers.live import bus_of
from resolvers.posts import PUBLISHED, visible_to
from resolvers.rows import CommentRow, PostRow


@dataclass(frozen=True)
class FeedEvent:
    change: str
    """ADDED, UPDATED or REMOVED, relative to the public feed."""
    post: PostRow
    position: int


RESYNC: dict[str, Any] = {"kind": "resync"}
"""Stands for the changes lost when the bus cut us off: consumers re-read what they follow."""


async def _notices(services: Services) -> AsyncIterator[tuple[int, list[dict[str, Any]]]]:
    """(position, changes) of every applied batch, for as long as the bus runs."""
    bus = bus_of(services)
    cut_off = False
    while True:
        async with bus.subscribe(PROJECTIONS_CHANNEL) as notices:
            if cut_off:
                # Subscribed again: whatever changed meanwhile is in the read model.
                yield 0, [RESYNC]
            try:
                async for notice in notices:
                    changes = notice.get("changes") or []
                    if changes:
                        yield int(notice.get("position", 0)), list(changes)
            except BusError:
                cut_off = True
                continue
        return


async def _post(services: Services, post_id: str) -> PostRow | None:
    posts = services.runner.tables().posts
    async with services.engine.connect() as conn:
        row = (await conn.execute(select(posts).where(posts.c.id == post_id))).mappings().first()
    return None if row is None else PostRow.from_mapping(row)


async def _last_published(services: Services, post_id: str) -> PostRow | None:
    """The post as the feed last showed it: its newest published state."""
    h = post_states(services.runner.tables())
    query = (
        select(h).where(h.c.id == post_id, h.c.status == PUBLISHED)
        .order_by(h.c.valid_from.desc()).limit(1)
    )
    async with services.engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return None if row is None else PostRow.from_mapping(row)


async def _newest_comment(services: Services, post_id: str) -> int:
    c = services.runner.tables().comments
    query = select(func.max(c.c.created_position)).where(c.c.post_id == post_id)
    async with services.engine.connect() as conn:
        return int((await conn.execute(query)).scalar() or 0)


async def _comments_after(services: Services, post_id: str, after: int) -> list[CommentRow]:
    c = services.runner.tables().comments
    query = (
        select(c).where(c.c.post_id == post_id, c.c.created_position > after)
        .order_by(c.c.created_position)
    )
    async with services.engine.connect() as conn:
        return [CommentRow.from_mapping(r) for r in (await conn.execute(query)).mappings()]


async def _user_id(services: Services, username: str) -> str | None:
    users = services.runner.tables().users
    query = select(users.c.id).where(func.lower(users.c.username) == username.lower())
    async with services.engine.connect() as conn:
        found = (await conn.execute(query)).scalar()
    return None if found is None else str(found)


async def follow_feed(
    services: Services, *, tag: str | None, author_username: str | None
) -> AsyncIterator[FeedEvent]:
    """Published posts entering, changing in or leaving the public feed."""
    wanted_tag = None if tag is None else tag.strip().lower()
    author_id: str | None = None
    async for position, changes in _notices(services):
        for change in changes:
            if change.get("kind") != "post":
                continue
            kind = str(change.get("change"))
            if kind == "REMOVED":
                post = await _last_published(services, str(change["id"]))
            else:
                post = await _post(services, str(change["id"]))
                if post is None or post.status != PUBLISHED:
                    continue  # a draft or archived post changing is not feed news
            if post is None or (wanted_tag is not None and wanted_tag not in post.tags):
                continue
            if author_username is not None:
                # Usernames never change: resolve once, as soon as the user exists.
                author_id = author_id or await _user_id(services, author_username)
                if post.author_id != author_id:
                    continue
            yield FeedEvent(kind, post, position)


async def follow_post(
    services: Services, actor: Actor | None, post_id: str
) -> AsyncIterator[PostRow]:
    """The post after each change to it or its comments and likes; ends when it is gone."""
    post = await _post(services, post_id)
    if post is None or not visible_to(actor, post):
        raise NotFound(f"Post {post_id} not found")
    async for _, changes in _notices(services):
        touched = any(
            c is RESYNC
            or (c.get("kind") == "post" and c.get("id") == post_id)
            or (c.get("kind") == "comment" and c.get("post_id") == post_id)
            for c in changes
        )
        if not touched:
            continue
        post = await _post(services, post_id)
        if post is None or not visible_to(actor, post):
            return  # deleted, or no longer visible to this caller
        yield post


async def follow_comments(
    services: Services, actor: Actor | None, post_id: str
) -> AsyncIterator[CommentRow]:
    """New comments on a post the caller can see."""
    post = await _post(services, post_id)
    if post is None or not visible_to(actor, post):
        raise NotFound(f"Post {post_id} not found")
    # Comments are read past the newest one sent, so a lost notice (or a
    # resync) delays a comment until the next notice but never drops it.
    last = await _newest_comment(services, post_id)
    async for _, changes in _notices(services):
        if not any(
            c is RESYNC
            or (c.get("kind") == "comment" and c.get("change") == "ADDED"
                and c.get("post_id") == post_id)
            for c in changes
        ):
            continue
        for comment in await _comments_after(services, post_id, last):
            last = comment.created_position
            yield comment
