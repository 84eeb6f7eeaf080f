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
from dataclasses import dataclass, field

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


@dataclass
class Facts:
    """What the read model says about the posts and comments some events concern."""

    posts: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    """post id -> (author id, published now)."""
    comment_authors: dict[str, str | None] = field(default_factory=dict)

    def published(self, post_id: str | None) -> bool:
        return post_id is not None and self.posts.get(post_id, (None, False))[1]

    def author(self, post_id: str) -> str | None:
        return self.posts.get(post_id, (None, False))[0]


def visible(event: RecordedEvent, me: str, username: str, facts: Facts) -> bool:
    """May the member ``me`` (named ``username``, lower case) see ``event``? Admins see all."""
    match event.stream_type:
        case "User":
            return event.stream_id == me or event.data.get("user_id") == me
        case "LoginThrottle":
            name = event.data.get("username")
            return isinstance(name, str) and name.lower() == username
        case "Like":
            return event.data.get("user_id") == me or facts.published(_post_of(event))
        case "Comment":
            return (
                facts.comment_authors.get(event.stream_id) == me
                or facts.published(_post_of(event))
            )
        case "Post":
            return facts.author(event.stream_id) == me or facts.published(event.stream_id)
        case _:
            return False


async def username_of(services: Services, user_id: str) -> str:
    """The member's username in lower case ("" when not projected yet)."""
    users = services.runner.tables().users
    async with services.engine.connect() as conn:
        query = select(users.c.username).where(users.c.id == user_id)
        return ((await conn.execute(query)).scalar() or "").lower()


async def learn(services: Services, events: Iterable[RecordedEvent], facts: Facts) -> None:
    """Look up, in bulk, the post and comment facts these events need and ``facts`` lacks.

    Whether a post is published, and whose it is, comes from the read model:
    call this only once it has applied these events (see ``wait_for_position``).
    """
    posts = {p for e in events if (p := _post_of(e)) is not None} - facts.posts.keys()
    comments = {
        e.stream_id for e in events if e.stream_type == "Comment"
    } - facts.comment_authors.keys()
    if not posts and not comments:
        return
    tables = services.runner.tables()
    async with services.engine.connect() as conn:
        if posts:
            t = tables.posts
            query = select(t.c.id, t.c.author_id, t.c.status).where(t.c.id.in_(posts))
            for row in await conn.execute(query):
                facts.posts[row.id] = (row.author_id, row.status == PUBLISHED)
            # Deleted posts left the posts table; their history still names the author.
            gone = posts - facts.posts.keys()
            if gone:
                h = tables.post_history
                authors = select(h.c.id, h.c.author_id).where(h.c.id.in_(gone)).distinct()
                for old in await conn.execute(authors):
                    facts.posts[old.id] = (old.author_id, False)
        if comments:
            c = tables.comments
            written = select(c.c.id, c.c.author_id).where(c.c.id.in_(comments))
            for comment in await conn.execute(written):
                facts.comment_authors[comment.id] = comment.author_id
    for post_id in posts - facts.posts.keys():
        facts.posts[post_id] = (None, False)
    # Deleted comments left the table: their first event names the author.
    for comment_id in comments - facts.comment_authors.keys():
        first = await services.store.read_stream(comment_id, to_version=1)
        author = first[0].data.get("author_id") if first else None
        facts.comment_authors[comment_id] = author if isinstance(author, str) else None


class EventVisibility:
    """One caller's filter, caching the facts it learns for the request."""

    def __init__(self, services: Services, actor: Actor | None) -> None:
        self._services = services
        self._actor = actor
        self._username: str | None = None
        self._facts = Facts()

    async def filter(self, events: Sequence[RecordedEvent]) -> list[RecordedEvent]:
        actor = self._actor
        if actor is None:
            return []
        if actor.is_admin:
            return list(events)
        # Judge these events only once the read model has applied them. A live
        # subscriber hears of a commit before the projections do, and would
        # otherwise drop a member's own new post as "not visible" and move past it.
        if events:
            await wait_for_position(self._services, max(e.position for e in events))
        if self._username is None:
            self._username = await username_of(self._services, actor.user_id)
        await learn(self._services, events, self._facts)
        return [e for e in events if visible(e, actor.user_id, self._username, self._facts)]
