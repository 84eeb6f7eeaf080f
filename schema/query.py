"""The Query root: every read of the contract, each delegating to a resolver function."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers import event_types as catalog
from resolvers import log, operations, time_travel
from resolvers import posts as post_queries
from resolvers import users as user_queries
from schema.base import Info, described_field
from schema.dead_letters import DeadLetter
from schema.log import EventConnection, EventType
from schema.operations import ProjectionStatus
from schema.scalars import JSON, Position
from schema.types import (
    Post,
    PostConnection,
    PostState,
    PostStatus,
    User,
    UserConnection,
)


@strawberry.type
class Query:
    @described_field("The authenticated user, or null.")
    async def me(self, info: Info) -> User | None:
        row = await user_queries.me(info.context)
        return None if row is None else User.from_row(row)

    @strawberry.field
    async def user(self, info: Info, username: str) -> User | None:
        row = await user_queries.user_by_username(info.context, username)
        return None if row is None else User.from_row(row)

    @strawberry.field
    async def users(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        return UserConnection.from_page(await user_queries.list_users(info.context, first, after))

    @described_field(
        "A post. Drafts and archived posts are visible to their author and admins only."
    )
    async def post(self, info: Info, id: strawberry.ID) -> Post | None:
        row = await post_queries.post_by_id(info.context, str(id))
        return None if row is None else Post.from_row(row)

    @described_field(

            "Published posts, newest first, unless `status` is given (non-PUBLISHED\n"
            "statuses show the caller's own posts only, or all for admins). With\n"
            "`asOf`, the listing as the read model held it when the log's head was at\n"
            "that position (time travel over the read model, not only one aggregate)."

    )
    async def posts(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        author_username: str | None = None,
        tag: str | None = None,
        search: str | None = None,
        status: PostStatus | None = None,
        as_of: Position | None = None,
    ) -> PostConnection:
        page = await post_queries.list_posts(
            info.context,
            first=first,
            after=after,
            author_username=author_username,
            tag=tag,
            search=search,
            status=None if status is None else status.value,
            as_of=as_of,
        )
        return PostConnection.from_page(page)

    @described_field(

            "Time travel: the post as it was at `version`, or at time `at`; "
            "the latest state when both are null."

    )
    async def post_at(
        self,
        info: Info,
        id: strawberry.ID,
        version: int | None = None,
        at: datetime | None = None,
    ) -> PostState | None:
        state = await time_travel.post_at(info.context, str(id), version, at)
        return None if state is None else PostState.from_state(state)

    @described_field(
        "Where the log stood at `time`: the position of the last event recorded at\n"
        "or before it (\"0\" before the first), the head for a time after the newest.\n"
        "Feed it to `posts(asOf:)` to see the feed as it was then."
    )
    async def position_at(self, info: Info, time: datetime) -> Position:
        return Position(await time_travel.position_at(info.context, time))

    @described_field(

            "The event log, in position order, starting after `after`. Requires\n"
            "authentication; a member sees the events of their own streams and of posts\n"
            "that are published, with their comments; an admin sees every event."

    )
    async def events(
        self,
        info: Info,
        first: int | None = 100,
        after: Position | None = None,
        stream_id: strawberry.ID | None = None,
        types: list[str] | None = None,
    ) -> EventConnection:
        page = await log.list_events(
            info.context,
            first=first,
            after=after,
            stream_id=None if stream_id is None else str(stream_id),
            types=types,
        )
        return EventConnection.from_page(page)

    @described_field(

            'The head of the event log: the position of the last recorded event ("0" when empty).'

    )
    async def head_position(self, info: Info) -> Position:
        return Position(await operations.head_position(info.context))

    @described_field("Status of every projection (admins only).")
    async def projections(self, info: Info) -> list[ProjectionStatus]:
        statuses = await operations.projection_statuses(info.context)
        return [ProjectionStatus.from_status(s) for s in statuses]

    @described_field(
        "The events `projection` parked because it could not apply them (admins only)."
    )
    async def dead_letters(self, info: Info, projection: str) -> list[DeadLetter]:
        letters = await operations.dead_letters(info.context, projection)
        return [DeadLetter.from_letter(d) for d in letters]

    @described_field(

            "Every event type the log knows, with its current schema version "
            "(the event catalogue)."

    )
    def event_types(self) -> list[EventType]:
        return [
            EventType(
                name=t.name,
                stream_type=t.stream_type,
                schema_version=t.schema_version,
                data_schema=JSON(t.data_schema),
            )
            for t in catalog.event_types()
        ]
