"""The Subscription root: the log live (events) and the read model live (the others).

A websocket operation's context lives as long as the subscription, so before
each result the DataLoaders are renewed: every event reads fresh rows.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers import feeds, live
from schema.scalars import Position
from schema.types import (
    Comment,
    Event,
    FeedChange,
    FeedUpdate,
    Info,
    Post,
    described_subscription,
)


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
            yield Event.from_served(served)

    @described_subscription(

            "Published posts entering, changing in, or leaving the public feed, "
            "after the read model has applied them."

    )
    async def feed(
        self, info: Info, tag: str | None = None, author_username: str | None = None
    ) -> AsyncGenerator[FeedUpdate, None]:
        ctx = info.context
        async for update in feeds.follow_feed(
            ctx.services, tag=tag, author_username=author_username
        ):
            ctx.renew_loaders()
            yield FeedUpdate(
                change=FeedChange(update.change),
                post=Post.from_row(update.post),
                position=Position(update.position),
            )

    @described_subscription(
        "The post's read model after every change (comments, likes and edits included)."
    )
    async def post_changed(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Post, None]:
        ctx = info.context
        async for row in feeds.follow_post(ctx.services, ctx.actor, str(id)):
            ctx.renew_loaders()
            yield Post.from_row(row)

    @described_subscription("New comments on a post.")
    async def comment_added(
        self, info: Info, post_id: strawberry.ID
    ) -> AsyncGenerator[Comment, None]:
        ctx = info.context
        async for row in feeds.follow_comments(ctx.services, ctx.actor, str(post_id)):
            ctx.renew_loaders()
            yield Comment.from_row(row)
