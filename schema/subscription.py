"""The Subscription root and its FeedUpdate: the log live (events) and the read model live.

A websocket operation's context lives as long as the subscription, so before
each result the DataLoaders are dropped: every event reads fresh rows.

Subscribers of one process receive the same resolver objects from the shared
stream (``resolvers.fanout``); each is turned into one strawberry object, so
that ``schema.sharing`` executes a document over it once for all of them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum
from typing import cast

import strawberry

from resolvers import feeds, live
from resolvers.feeds import FeedEvent
from resolvers.redaction import ServedEvent
from resolvers.rows import CommentRow, PostRow
from schema.base import Info, described_subscription
from schema.log import Event
from schema.scalars import Position
from schema.sharing import ByIdentity, shareable
from schema.types import Comment, Post


@strawberry.enum
class FeedChange(Enum):
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    REMOVED = "REMOVED"


@strawberry.type
class FeedUpdate:
    change: FeedChange
    post: Post = strawberry.field(
        description="The post as the read model now holds it (for REMOVED: as it was last seen)."
    )
    position: Position


def _event(served: ServedEvent) -> Event:
    """One Event object per served event: subscribers sharing it share its execution."""
    found = served.renderings.get("Event")
    if found is None:
        found = served.renderings["Event"] = shareable(Event.from_served(served),
                                                       caller_blind=True)
    return cast(Event, found)


# One strawberry object per row that an applied change read for every subscriber
# (``AppliedChanges`` hands them all the same row objects): ``schema.sharing`` then
# executes a document over it once per caller, not once per socket.
_posts: ByIdentity[PostRow, Post] = ByIdentity(512)
_comments: ByIdentity[CommentRow, Comment] = ByIdentity(512)


def _feed_update(update: FeedEvent) -> FeedUpdate:
    found = update.renderings.get("FeedUpdate")
    if found is None:
        found = update.renderings["FeedUpdate"] = shareable(FeedUpdate(
            change=FeedChange(update.change),
            post=Post.from_row(update.post),
            position=Position(update.position),
        ))
    return cast(FeedUpdate, found)


@strawberry.type
class Subscription:
    @described_subscription(

            "Catch-up then live: every visible event after `after` (from the start when\n"
            "null) in position order, then new events as they are recorded, with no gap\n"
            "and no duplicate across the switch. Same visibility rules as Query.events."

    )
    async def events(
        self,
        info: Info,
        after: Position | None = None,
        stream_id: strawberry.ID | None = None,
        types: list[str] | None = None,
    ) -> AsyncGenerator[Event, None]:
        ctx = info.context
        async for served in live.follow_events(
            ctx.services, ctx.actor, after=after,
            stream_id=None if stream_id is None else str(stream_id), types=types,
        ):
            yield _event(served)

    @described_subscription(

            "Published posts entering, changing in, or leaving the public feed, "
            "after the read model has applied them.\n\n"
            "Resumable: with `after` (the `position` of the last update a client "
            "received), it first sends, for every post whose place in the feed changed "
            "since, one update with the post's newest state (ADDED, UPDATED, or REMOVED "
            "with the post as last published), in position order, then carries on live. "
            "Without `after` it starts with the next change."

    )
    async def feed(
        self, info: Info, tag: str | None = None, author_username: str | None = None,
        after: Position | None = None,
    ) -> AsyncGenerator[FeedUpdate, None]:
        ctx = info.context
        async for update in feeds.follow_feed(
            ctx.services, tag=tag, author_username=author_username, after=after
        ):
            ctx.forget_loaders()
            yield _feed_update(update)

    @described_subscription(
        "The post's read model after every change (comments, likes and edits included).\n\n"
        "Resumable: with `after` (a position the client saw the post at, such as a "
        "mutation payload's), it first sends the post if it changed since, then live."
    )
    async def post_changed(
        self, info: Info, id: strawberry.ID, after: Position | None = None
    ) -> AsyncGenerator[Post, None]:
        ctx = info.context
        async for row in feeds.follow_post(ctx.services, ctx.actor, str(id), after):
            ctx.forget_loaders()
            yield _posts.get(row, lambda r: shareable(Post.from_row(r)))

    @described_subscription(
        "New comments on a post.\n\n"
        "Resumable: with `after` (a position the client saw), it first sends the "
        "comments added since, oldest first, then live."
    )
    async def comment_added(
        self, info: Info, post_id: strawberry.ID, after: Position | None = None
    ) -> AsyncGenerator[Comment, None]:
        ctx = info.context
        async for row in feeds.follow_comments(ctx.services, ctx.actor, str(post_id), after):
            ctx.forget_loaders()
            yield _comments.get(row, lambda r: shareable(Comment.from_row(r)))
