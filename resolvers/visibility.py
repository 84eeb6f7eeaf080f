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

Facts are looked up once per batch of events (:func:`learn`) and cached for the
request, or shared by every live subscriber of a batch (``resolvers.follower``),
so a page costs a few statements whatever its size.
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


@dataclass
class Facts:
    """What the read model says about the posts and comments some events concern."""

    posts: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    """post id -> (author id, published now)."""
    comment_authors: dict[str, str | None] = field(default_factory=dict)
    published_spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """post id -> the [from, to) positions in which it was published (posts published
    now only: the past of others' posts is shown only while they stay public)."""
    published_with: set[int] = field(default_factory=set)
    """Positions of events whose command went on to publish their post."""

    def published(self, post_id: str | None) -> bool:
        return post_id is not None and self.posts.get(post_id, (None, False))[1]

    def author(self, post_id: str) -> str | None:
        return self.posts.get(post_id, (None, False))[0]

    def published_at(self, post_id: str, position: int) -> bool:
        """Whether the post was published just after the event at ``position``."""
        return any(start <= position < end for start, end in self.published_spans.get(post_id, ()))


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
            return may_see_past(
                Actor(user_id=me), facts.author(event.stream_id),
                public_then=facts.published_at(event.stream_id, event.position)
                or event.position in facts.published_with,
                public_now=facts.published(event.stream_id),
            )
        case _:
            return False


async def username_of(services: Services, user_id: str) -> str:
    """The member's username in lower case ("" when not projected yet)."""
    users = services.runner.tables().users
    async with services.engine.connect() as conn:
        query = select(users.c.username).where(users.c.id == user_id)
        return ((await conn.execute(query)).scalar() or "").lower()


async def learn(services: Services, events: Sequence[RecordedEvent], facts: Facts) -> None:
    """Look up, in bulk, the post and comment facts these events need and ``facts`` lacks.

    Whether a post is published, and whose it is, comes from the read model:
    call this only once it has applied these events (see ``wait_for_position``).
    """
    posts = {p for e in events if (p := _post_of(e)) is not None} - facts.posts.keys()
    comments = {
        e.stream_id for e in events if e.stream_type == "Comment"
    } - facts.comment_authors.keys()
    if posts or comments:
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
    await _learn_spans(services, events, facts)


async def _learn_spans(
    services: Services, events: Sequence[RecordedEvent], facts: Facts
) -> None:
    """When each post published now was published (from the posts' history table:
    a state there begins at the position of its event)."""
    wanted = {
        e.stream_id for e in events
        if e.stream_type == "Post" and facts.published(e.stream_id)
    } - facts.published_spans.keys()
    if not wanted:
        return
    h = services.runner.tables().post_history
    query = select(h.c.id, h.c.valid_from, h.c.valid_to).where(
        h.c.id.in_(wanted), h.c.status == PUBLISHED
    )
    spans: dict[str, list[tuple[int, int]]] = {post_id: [] for post_id in wanted}
    async with services.engine.connect() as conn:
        for row in await conn.execute(query):
            spans[row.id].append((int(row.valid_from), int(row.valid_to)))
    facts.published_spans.update(spans)
    await _learn_commands(services, events, facts)


async def _learn_commands(
    services: Services, events: Iterable[RecordedEvent], facts: Facts
) -> None:
    """Which events of those posts their own command went on to publish."""
    events = list(events)
    by_version = {(e.stream_id, e.version): e for e in events}
    for e in events:
        sid = e.stream_id
        if (
            sid not in facts.published_spans
            or facts.published_at(sid, e.position)
            or not facts.published_at(sid, e.position + 1)
        ):
            continue
        following = by_version.get((sid, e.version + 1))
        if following is None:  # at the end of this batch: one more read
            read = await services.store.read_stream(
                sid, from_version=e.version + 1, to_version=e.version + 1
            )
            following = read[0] if read else None
        if published_by_its_command(e, following):
            facts.published_with.add(e.position)


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
