"""postAt: a post as it was at a version or an instant, folded from snapshot + tail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain import repository
from domain.errors import InvalidInput
from resolvers.context import RequestContext

PUBLISHED = "PUBLISHED"


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

    The author and admins see every state. Anyone else sees only states in
    which the post was published, of a post that is published now: drafts
    before publication and posts archived since stay private.
    """
    if version is not None and version < 1:
        raise InvalidInput("version", "version starts at 1")
    found = await repository.post_at(ctx.services.store, post_id, version=version, at=at)
    if found is None or not found.state.exists:
        return None
    state = found.state
    actor = ctx.actor
    privileged = actor is not None and (actor.is_admin or actor.user_id == state.author_id)
    if not privileged:
        current = await ctx.loaders.post.load(post_id)
        public_now = current is not None and current.status == PUBLISHED
        if not public_now or state.status != PUBLISHED or state.deleted:
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
