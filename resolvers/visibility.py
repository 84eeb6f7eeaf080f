"""Which past a caller may see: events of the log, and past states of posts.

One rule for the past (README "One rule for the past"), :func:`may_see_past`:
the author of a post and admins see every state it had; anyone else sees a
past state only if the post was published in that state and is published now
(not a draft, archived or deleted). ``postAt``, ``posts(asOf:)``,
``Query.events``, ``Subscription.events`` and ``Post.history`` all apply it.
A state is judged as its command left it (:func:`published_by_its_command`):
a post created published was never a draft that anyone could have seen.

For events (:class:`EventVisibility`): admins see everything. A member sees
the events of their own streams (their User stream, their login throttle,
their posts, their comments, their likes); of other members' posts, the events
after which the post was published, if it is published now; and the comments
and likes on posts published now. Anonymous callers see no events (the audit
trail requires signing in).

Facts are looked up once per batch of events and cached for the request, so a
page costs a few statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from domain.ports import Actor
from events.model import RecordedEvent
from resolvers.consistency import wait_for_position
from resolvers.context import Services

PUBLISHED = "PUBLISHED"


def may_see_past(
    actor: Actor | None, author_id: str | None, *, public_then: bool, public_now: bool
) -> bool:
    """The rule for the past: may ``actor`` see a state of a post by ``author_id``?"""
    if actor is not None and (actor.is_admin or actor.user_id == author_id):
        return True
    return public_then and public_now


def _post_of(event: RecordedEvent) -> str | None:
    if event.stream_type == "Post":
        return event.stream_id
    post_id = event.data.get("post_id")
    return post_id if isinstance(post_id, str) else None


def published_by_its_command(event: RecordedEvent, following: RecordedEvent | None) -> bool:
    """Whether ``following``, the post's next event, published it in the command that
    recorded ``event`` (createPost with publish: true records PostCreated and
    PostPublished at once): the state between the two was never committed alone."""
    return (
        following is not None
        and following.type == "PostPublished"
        and following.stream_id == event.stream_id
        and following.version == event.version + 1
        and following.position == event.position + 1
        and following.correlation_id == event.correlation_id
        and following.recorded_at == event.recorded_at
    )


class EventVisibility:
    def __init__(self, services: Services, actor: Actor | None) -> None:
        self._services = services
        self._actor = actor
        self._username: str | None = None
        self._posts: dict[str, tuple[str | None, bool]] = {}
        """post id -> (author id, published now)."""
        self._published_spans: dict[str, list[tuple[int, int]]] = {}
        """post id -> the [from, to) positions in which it was published (others' posts
        published now only: no other post's events are shown to a member)."""
        self._published_with: set[int] = set()
        """Positions of events whose command went on to publish their post."""
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
                return may_see_past(
                    self._actor, self._author(event.stream_id),
                    public_then=self._published_at(event.stream_id, event.position)
                    or event.position in self._published_with,
                    public_now=self._published(event.stream_id),
                )
            case _:
                return False

    def _published(self, post_id: str | None) -> bool:
        return post_id is not None and self._posts.get(post_id, (None, False))[1]

    def _author(self, post_id: str) -> str | None:
        return self._posts.get(post_id, (None, False))[0]

    def _published_at(self, post_id: str, position: int) -> bool:
        """Whether the post was published just after the event at ``position``."""
        spans = self._published_spans.get(post_id, ())
        return any(start <= position < end for start, end in spans)

    async def _learn(self, events: Sequence[RecordedEvent]) -> None:
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
        await self._learn_spans(events)

    async def _learn_spans(self, events: Sequence[RecordedEvent]) -> None:
        """When each post published now, and not the caller's, was published (from the
        posts' history table: a state there begins at the position of its event)."""
        assert self._actor is not None
        me = self._actor.user_id
        wanted = {
            e.stream_id for e in events
            if e.stream_type == "Post" and self._published(e.stream_id)
            and self._author(e.stream_id) != me
        } - self._published_spans.keys()
        if not wanted:
            return
        h = self._services.runner.tables().post_history
        query = select(h.c.id, h.c.valid_from, h.c.valid_to).where(
            h.c.id.in_(wanted), h.c.status == PUBLISHED
        )
        spans: dict[str, list[tuple[int, int]]] = {post_id: [] for post_id in wanted}
        async with self._services.engine.connect() as conn:
            for row in await conn.execute(query):
                spans[row.id].append((int(row.valid_from), int(row.valid_to)))
        self._published_spans.update(spans)
        await self._learn_commands(events)

    async def _learn_commands(self, events: Sequence[RecordedEvent]) -> None:
        """Which events of those posts their own command went on to publish."""
        by_version = {(e.stream_id, e.version): e for e in events}
        for e in events:
            sid = e.stream_id
            if (
                sid not in self._published_spans
                or self._published_at(sid, e.position)
                or not self._published_at(sid, e.position + 1)
            ):
                continue
            following = by_version.get((sid, e.version + 1))
            if following is None:  # at the end of this batch: one more read
                read = await self._services.store.read_stream(
                    sid, from_version=e.version + 1, to_version=e.version + 1
                )
                following = read[0] if read else None
            if published_by_its_command(e, following):
                self._published_with.add(e.position)
