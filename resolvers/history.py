"""A post's audit trail: every event of its stream, from the log, redacted."""

from __future__ import annotations

from resolvers.context import RequestContext
from resolvers.redaction import ServedEvent, serve


async def post_history(ctx: RequestContext, post_id: str) -> list[ServedEvent]:
    """Only reached through a Post the caller can see: visibility is decided there."""
    recorded = await ctx.services.store.read_stream(post_id)
    return [serve(event, ctx.actor) for event in recorded]
