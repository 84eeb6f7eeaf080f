"""A post's audit trail: the events of its stream the caller may see, from the log, redacted."""

from __future__ import annotations

from resolvers.context import RequestContext
from resolvers.posts import post_by_id
from resolvers.redaction import ServedEvent, serve
from resolvers.visibility import EventVisibility


async def post_history(ctx: RequestContext, post_id: str) -> list[ServedEvent]:
    """Empty unless the caller can see the post now; then what ``Query.events`` would show
    of its stream (``resolvers.visibility``): everything to its author and admins, to
    other members the events after which it was published, nothing to anonymous callers.

    A Post can also be reached as a past state (``posts(asOf:)``) or as the
    feed last showed it; neither opens the audit trail of a post that has
    since become private.
    """
    if ctx.actor is None or await post_by_id(ctx, post_id) is None:
        return []
    recorded = await ctx.services.store.read_stream(post_id)
    visible = await EventVisibility(ctx.services, ctx.actor).filter(recorded)
    return [serve(event, ctx.actor) for event in visible]
