"""The read model's object graph: members, posts, comments, and a post's past states.

Each type keeps its row as ``strawberry.Private`` and is made with a
``from_row``-style classmethod; relations resolve through the per-request
DataLoaders in ``info.context.loaders`` so a page costs a constant number of
SQL statements. A member's posts, a post's author and a comment's author point
at one another, so these types live together; the log's types are in
``schema.log``, the operators' in ``schema.operations``.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import cast

import strawberry

from domain.errors import NotFound
from resolvers import comments as comment_queries
from resolvers import history as history_queries
from resolvers import posts as post_queries
from resolvers.pagination import Count, Page
from resolvers.rows import CommentRow, PostRow, UserRow
from resolvers.time_travel import PastPost
from schema.base import Info, PageInfo, described_field
from schema.log import Event


@strawberry.enum
class Role(Enum):
    MEMBER = "MEMBER"
    ADMIN = "ADMIN"


@strawberry.enum
class PostStatus(Enum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


async def _author(info: Info, author_id: str) -> User:
    row = await info.context.loaders.user.load(author_id)
    if row is None:
        # The users projection lags the posts one: the author is not readable yet.
        raise NotFound(f"User {author_id} not found")
    return User.from_row(row)


@strawberry.type
class User:
    id: strawberry.ID
    username: str
    display_name: str
    bio: str
    role: Role
    created_at: datetime
    post_count: int
    row: strawberry.Private[UserRow]

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=strawberry.ID(row.id),
            username=row.username,
            display_name=row.display_name,
            bio=row.bio,
            role=Role(row.role),
            created_at=row.created_at,
            post_count=row.post_count,
            row=row,
        )

    @described_field(
        "Only visible to the user themself and to admins; null for everyone else."
    )
    def email(self, info: Info) -> str | None:
        actor = info.context.actor
        if actor is not None and (actor.is_admin or actor.user_id == self.row.id):
            return self.row.email
        return None

    @strawberry.field
    async def posts(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> PostConnection:
        page = await post_queries.list_author_posts(info.context, self.row.id, first, after)
        return PostConnection.from_page(page)


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    count: strawberry.Private[Count]

    @classmethod
    def from_page(cls, page: Page[UserRow]) -> UserConnection:
        return cls(
            edges=[UserEdge(cursor=c, node=User.from_row(r)) for c, r in page.edges],
            page_info=PageInfo.from_page(page),
            count=page.count,
        )

    @strawberry.field
    async def total_count(self) -> int:
        """Counted only when asked for: most feeds never show it."""
        return await self.count()


@strawberry.type
class Post:
    id: strawberry.ID
    title: str
    body: str
    tags: list[str]
    status: PostStatus
    version: int = strawberry.field(
        description="The version of the post's aggregate: the number of events in its stream."
    )
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    comment_count: int
    like_count: int
    row: strawberry.Private[PostRow]

    @classmethod
    def from_row(cls, row: PostRow) -> Post:
        return cls(
            id=strawberry.ID(row.id),
            title=row.title,
            body=row.body,
            tags=list(row.tags),
            status=PostStatus(row.status),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            published_at=row.published_at,
            comment_count=row.comment_count,
            like_count=row.like_count,
            row=row,
        )

    # These two resolvers are plain functions that may return an awaitable:
    # graphql-core awaits it, and the common cases (author joined into the
    # page, anonymous caller) then cost no coroutine or task per post.
    @strawberry.field
    def author(self, info: Info) -> User:
        if self.row.author is not None:
            return User.from_row(self.row.author)
        return cast(User, _author(info, self.row.author_id))

    @described_field("False when the caller is anonymous.")
    def liked_by_me(self, info: Info) -> bool:
        if info.context.actor is None:
            return False
        return cast(bool, info.context.loaders.liked_by_me.load(self.row.id))

    @strawberry.field
    async def comments(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> CommentConnection:
        page = await comment_queries.list_comments(info.context, self.row.id, first, after)
        return CommentConnection.from_page(page)

    @described_field(

            "Audit trail: every event of this post's stream, oldest first "
            "(redacted as for `events`)."

    )
    async def history(self, info: Info) -> list[Event]:
        served = await history_queries.post_history(info.context, self.row.id)
        return [Event.from_served(e) for e in served]


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo
    count: strawberry.Private[Count]

    @classmethod
    def from_page(cls, page: Page[PostRow]) -> PostConnection:
        return cls(
            edges=[PostEdge(cursor=c, node=Post.from_row(r)) for c, r in page.edges],
            page_info=PageInfo.from_page(page),
            count=page.count,
        )

    @strawberry.field
    async def total_count(self) -> int:
        """Counted only when asked for: most feeds never show it."""
        return await self.count()


@strawberry.type
class Comment:
    id: strawberry.ID
    post_id: strawberry.ID
    body: str
    created_at: datetime
    edited_at: datetime | None
    row: strawberry.Private[CommentRow]

    @classmethod
    def from_row(cls, row: CommentRow) -> Comment:
        return cls(
            id=strawberry.ID(row.id),
            post_id=strawberry.ID(row.post_id),
            body=row.body,
            created_at=row.created_at,
            edited_at=row.edited_at,
            row=row,
        )

    @strawberry.field
    async def author(self, info: Info) -> User:
        return await _author(info, self.row.author_id)


@strawberry.type
class CommentEdge:
    cursor: str
    node: Comment


@strawberry.type
class CommentConnection:
    edges: list[CommentEdge]
    page_info: PageInfo
    count: strawberry.Private[Count]

    @classmethod
    def from_page(cls, page: Page[CommentRow]) -> CommentConnection:
        return cls(
            edges=[CommentEdge(cursor=c, node=Comment.from_row(r)) for c, r in page.edges],
            page_info=PageInfo.from_page(page),
            count=page.count,
        )

    @strawberry.field
    async def total_count(self) -> int:
        """Counted only when asked for: most feeds never show it."""
        return await self.count()


@strawberry.type(
    description="A post's state rebuilt from its events up to a point in its history (time travel)."
)
class PostState:
    id: strawberry.ID
    author_id: strawberry.ID
    title: str
    body: str
    tags: list[str]
    status: PostStatus
    deleted: bool
    version: int
    as_of: datetime = strawberry.field(
        description="When the last event included in this state was recorded."
    )

    @classmethod
    def from_state(cls, state: PastPost) -> PostState:
        return cls(
            id=strawberry.ID(state.id),
            author_id=strawberry.ID(state.author_id),
            title=state.title,
            body=state.body,
            tags=list(state.tags),
            status=PostStatus(state.status),
            deleted=state.deleted,
            version=state.version,
            as_of=state.as_of,
        )
