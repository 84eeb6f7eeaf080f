"""A post's audit trail: every event of its stream, from the log, redacted."""

from __future__ import annotations

from resolvers.context import RequestContext
from resolvers.posts import post_by_id
from resolvers.redaction import ServedEvent, serve


async def post_history(ctx: RequestContext, post_id: str) -> list[ServedEvent]:
    """Empty unless the caller can see the post now.

    A Post can also be reached as a past state (``posts(asOf:)``) or as the
    feed last showed it; neither opens the audit trail of a post that has
    since become private.
    """
    if await post_by_id(ctx, post_id) is None:
        return []
    recorded = await ctx.services.store.read_stream(post_id)
    return [serve(event, ctx.actor) for event in recorded]
