"""Which events of the log a caller may see (Query.events, Subscription.events).

Admins see everything. A member sees the events of their own streams (their
User stream, their login throttle, their posts, their comments, their likes)
and those of posts that are published now, with the comments and likes on
them. Anonymous callers see nothing (the API requires authentication first).

Facts are looked up once per batch of events and cached for the request, so a
page costs a few statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select

from domain.ports import Actor
from events.model import RecordedEvent
from resolvers.consistency import wait_for_position
from resolvers.context import Services

PUBLISHED = "PUBLISHED"


def _post_of(event: RecordedEvent) -> str | None:
    if event.stream_type == "Post":
        return event.stream_id
    post_id = event.data.get("post_id")
    return post_id if isinstance(post_id, str) else None


class EventVisibility:
    def __init__(self, services: Services, actor: Actor | None) -> None:
        self._services = services
        self._actor = actor
        self._username: str | None = None
        self._posts: dict[str, tuple[str | None, bool]] = {}
        """post id -> (author id, published now)."""
        self._comment_authors: dict[str, str | None] = {}

    async def filter(self, events: Sequence[RecordedEvent]) -> list[RecordedEvent]:
        actor = self._actor
        if actor is None:
            return []
        if actor.is_admin:
            return list(events)
        # Whether a post is published, and whose it is, comes from the read model:
        # judge these events only once it has applied them. A live subscriber hears
        # of a commit before the projections do, and would otherwise drop a member's
        # own new post as "not visible" and move past it for good.
        if events:
            await wait_for_position(self._services, max(e.position for e in events))
        await self._learn(events)
        return [e for e in events if self._visible(e, actor.user_id)]

    def _visible(self, event: RecordedEvent, me: str) -> bool:
        match event.stream_type:
            case "User":
                return event.stream_id == me or event.data.get("user_id") == me
            case "LoginThrottle":
                name = event.data.get("username")
                return isinstance(name, str) and name.lower() == self._username
            case "Like":
                return event.data.get("user_id") == me or self._published(_post_of(event))
            case "Comment":
                return (
                    self._comment_authors.get(event.stream_id) == me
                    or self._published(_post_of(event))
                )
            case "Post":
                return self._author(event.stream_id) == me or self._published(event.stream_id)
            case _:
                return False

    def _published(self, post_id: str | None) -> bool:
        return post_id is not None and self._posts.get(post_id, (None, False))[1]

    def _author(self, post_id: str) -> str | None:
        return self._posts.get(post_id, (None, False))[0]

    async def _learn(self, events: Iterable[RecordedEvent]) -> None:
        """Look up, in bulk, the post and comment facts these events need."""
        assert self._actor is not None
        posts = {p for e in events if (p := _post_of(e)) is not None} - self._posts.keys()
        comments = {
            e.stream_id for e in events if e.stream_type == "Comment"
        } - self._comment_authors.keys()
        tables = self._services.runner.tables()
        async with self._services.engine.connect() as conn:
            if self._username is None:
                users = tables.users
                query = select(users.c.username).where(users.c.id == self._actor.user_id)
                self._username = ((await conn.execute(query)).scalar() or "").lower()
            if posts:
                t = tables.posts
                query = select(t.c.id, t.c.author_id, t.c.status).where(t.c.id.in_(posts))
                for row in await conn.execute(query):
                    self._posts[row.id] = (row.author_id, row.status == PUBLISHED)
                # Deleted posts left the posts table; their history still names the author.
                gone = posts - self._posts.keys()
                if gone:
                    h = tables.post_history
                    query = select(h.c.id, h.c.author_id).where(h.c.id.in_(gone)).distinct()
                    for row in await conn.execute(query):
                        self._posts[row.id] = (row.author_id, False)
            if comments:
                c = tables.comments
                query = select(c.c.id, c.c.author_id).where(c.c.id.in_(comments))
                for row in await conn.execute(query):
                    self._comment_authors[row.id] = row.author_id
        for post_id in posts - self._posts.keys():
            self._posts[post_id] = (None, False)
        # Deleted comments left the table: their first event names the author.
        for comment_id in comments - self._comment_authors.keys():
            first = await self._services.store.read_stream(comment_id, to_version=1)
            author = first[0].data.get("author_id") if first else None
            self._comment_authors[comment_id] = author if isinstance(author, str) else None
