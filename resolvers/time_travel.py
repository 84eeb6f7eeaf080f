"""Time travel: a post as it was at a version or an instant (``postAt``), folded
from snapshot + tail; the log's position at an instant (``positionAt``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain import repository
from domain.errors import InvalidInput
from events import instants
from resolvers.context import RequestContext
from resolvers.visibility import PUBLISHED, may_see_past, published_by_its_command


@dataclass(frozen=True)
class PastPost:
    id: str
    author_id: str
    title: str
    body: str
    tags: Sequence[str]
    status: str
    deleted: bool
    version: int
    as_of: datetime


async def post_at(
    ctx: RequestContext, post_id: str, version: int | None, at: datetime | None
) -> PastPost | None:
    """None when the post did not exist then, or when the caller may not see it.

    The rule for the past (``resolvers.visibility.may_see_past``): the author and
    admins see every state. Anyone else sees only states in which the post was
    published, of a post that is published now: drafts before publication and
    posts archived since stay private.
    """
    if version is not None and version < 1:
        raise InvalidInput("version", "version starts at 1")
    found = await repository.post_at(ctx.services.store, post_id, version=version, at=at)
    if found is None or not found.state.exists:
        return None
    state = found.state
    current = await ctx.loaders.post.load(post_id)
    public_now = current is not None and current.status == PUBLISHED
    public_then = state.status == PUBLISHED and not state.deleted
    if public_now and not public_then and not state.deleted:
        # A post created published: version 1 is a state its command went on from.
        pair = await ctx.services.store.read_stream(
            post_id, from_version=found.version, to_version=found.version + 1
        )
        public_then = len(pair) == 2 and published_by_its_command(pair[0], pair[1])
    if not may_see_past(ctx.actor, state.author_id, public_then=public_then,
                        public_now=public_now):
        return None
    return PastPost(
        id=state.post_id,
        author_id=state.author_id,
        title=state.title,
        body=state.body,
        tags=state.tags,
        status=state.status,
        deleted=state.deleted,
        version=found.version,
        as_of=found.as_of,
    )


async def position_at(ctx: RequestContext, time: datetime) -> int:
    """Where the log stood at ``time``: the last position recorded by then.

    Public, as ``headPosition`` is: a position says how many events were
    recorded, never what they were. 0 before the first event; the head for an
    instant after the newest event (a later call may answer more).
    """
    return await instants.position_at(ctx.services.engine, time)
