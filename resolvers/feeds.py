"""Read-model subscriptions: feed, postChanged and commentAdded.

They take the process's shared stream of applied changes
(``resolvers.changes``), published after the projection runner applied a
batch, and read what they show from the read model then: a client never sees
a state that a following query would contradict. Rows are read once per
applied batch for every subscriber that shows them.

Each can resume from a position (``after``): it listens first, then sends
what changed since from the read model, then live changes past what it sent.
When the shared stream cut a subscriber off (it fell behind, or the bus
dropped the follower), it resumes the same way from the last position it
delivered: nothing is lost while a socket is slow or the bus reconnects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import func, select

from domain.errors import NotFound
from domain.ports import Actor
from resolvers import arguments
from resolvers.changes import (
    FEED_PROJECTION,
    AppliedChanges,
    ChangeFollower,
    newest_comment,
    read_comments_after,
    read_post,
)
from resolvers.context import Services
from resolvers.fanout import Lagged
from resolvers.feed_since import feed_since
from resolvers.live import MAX_STORED_POSITION, hub_of
from resolvers.posts import PUBLISHED, visible_to
from resolvers.rows import CommentRow, PostRow


@dataclass(frozen=True)
class FeedEvent:
    change: str
    """ADDED, UPDATED or REMOVED, relative to the public feed."""
    post: PostRow
    position: int
    renderings: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What the GraphQL layer made of this very object, for every subscriber it is shared by."""


async def _applied(follower: ChangeFollower) -> AsyncIterator[AppliedChanges | None]:
    """The shared stream; None first, and again whenever the subscriber must re-read."""
    while True:
        async with follower.fanout.listen() as listener:
            await follower.listening()
            yield None  # listening: what is read from now on is not missed
            try:
                while True:
                    item = await listener.get()
                    yield None if item.resync else item
            except Lagged:
                continue


async def _user_id(services: Services, username: str) -> str | None:
    users = services.runner.tables().users
    query = select(users.c.id).where(func.lower(users.c.username) == username.lower())
    async with services.engine.connect() as conn:
        found = (await conn.execute(query)).scalar()
    return None if found is None else str(found)


class _FeedFilter:
    def __init__(self, services: Services, tag: str | None, author_username: str | None) -> None:
        self._services = services
        self._tag = None if tag is None else tag.strip().lower()
        self._author = author_username
        self._author_id: str | None = None

    async def wants(self, post: PostRow) -> bool:
        if self._tag is not None and self._tag not in post.tags:
            return False
        if self._author is not None:
            # Usernames never change: resolve once, as soon as the user exists.
            self._author_id = self._author_id or await _user_id(self._services, self._author)
            return post.author_id == self._author_id
        return True


async def _feed_changes(services: Services, item: AppliedChanges) -> list[tuple[str, PostRow]]:
    """The batch's feed news: read once for every feed subscriber (``item.once``)."""
    found = []
    for change in item.changes:
        if change.get("kind") != "post":
            continue
        kind, post_id = str(change.get("change")), str(change["id"])
        if kind == "REMOVED":
            post = await item.last_published(services, post_id)
        else:
            post = await item.post(services, post_id)
            if post is None or post.status != PUBLISHED:
                continue  # a draft or archived post changing is not feed news
        if post is not None:
            found.append((kind, post))
    return found


async def follow_feed(
    services: Services, *, tag: str | None, author_username: str | None,
    after: int | None = None,
) -> AsyncIterator[FeedEvent]:
    """Published posts entering, changing in or leaving the public feed."""
    if tag is not None:
        arguments.text("tag", tag)
    if author_username is not None:
        arguments.text("authorUsername", author_username)
    wanted = _FeedFilter(services, tag, author_username)
    # The feed as of `last` was delivered (None: from when we started listening).
    last = None if after is None else min(after, MAX_STORED_POSITION)
    sent: dict[str, tuple[str, int]] = {}
    async for item in _applied(hub_of(services).changes):
        if item is None:
            if last is None:
                continue
            for kind, post, position in await feed_since(services, last):
                if await wanted.wants(post):
                    sent[post.id] = (kind, post.position)
                    yield FeedEvent(kind, post, position)
                last = max(last, position)
            continue
        if item.projection != FEED_PROJECTION or (last is not None and item.position <= last):
            continue  # another projection's news, or already sent by the resume
        for kind, post in await item.once(("feed",), partial(_feed_changes, services, item)):
            if sent.get(post.id) == (kind, post.position):
                continue  # this very state went out with the resume
            if await wanted.wants(post):
                yield item.shared(("feed", kind, post.id), partial(FeedEvent, kind, post,
                                                                   item.position))
        last, sent = item.position, {}


def _touches_post(change: dict[str, Any], post_id: str) -> bool:
    return (change.get("kind") == "post" and change.get("id") == post_id) or (
        change.get("kind") == "comment" and change.get("post_id") == post_id
    )


async def follow_post(
    services: Services, actor: Actor | None, post_id: str, after: int | None = None
) -> AsyncIterator[PostRow]:
    """The post after each change to it or its comments and likes; ends when it is gone."""
    post = None if arguments.names_nothing(post_id) else await read_post(services, post_id)
    if post is None or not visible_to(actor, post):
        raise NotFound(f"Post {post_id} not found")
    last = None if after is None else min(after, MAX_STORED_POSITION)
    async for item in _applied(hub_of(services).changes):
        if item is None:
            if last is None:
                continue  # nothing delivered yet to catch up from
            post = await read_post(services, post_id)
            if post is None or not visible_to(actor, post):
                return  # deleted, or no longer visible to this caller
            if post.position > last:
                last = post.position
                yield post
            continue
        if (last is not None and item.position <= last) or not any(
            _touches_post(c, post_id) for c in item.changes
        ):
            continue
        post = await item.post(services, post_id)
        if post is None or not visible_to(actor, post):
            return
        last = item.position
        yield post


async def follow_comments(
    services: Services, actor: Actor | None, post_id: str, after: int | None = None
) -> AsyncIterator[CommentRow]:
    """New comments on a post the caller can see."""
    post = None if arguments.names_nothing(post_id) else await read_post(services, post_id)
    if post is None or not visible_to(actor, post):
        raise NotFound(f"Post {post_id} not found")
    # Comments are read past the newest one sent, so a lost notice (or a
    # resync) delays a comment until the next notice but never drops it.
    last = (
        min(after, MAX_STORED_POSITION) if after is not None
        else await newest_comment(services, post_id)
    )
    async for item in _applied(hub_of(services).changes):
        if item is None:
            comments = await read_comments_after(services, post_id, last)
        elif any(
            c.get("kind") == "comment" and c.get("change") == "ADDED"
            and c.get("post_id") == post_id
            for c in item.changes
        ):
            comments = await item.comments_after(services, post_id, last)
        else:
            continue
        for comment in comments:
            last = comment.created_position
            yield comment
