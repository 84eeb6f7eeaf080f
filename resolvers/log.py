"""Query.events: the log in position order, filtered by visibility, redacted."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import Unauthenticated
from resolvers.context import RequestContext
from resolvers.pagination import Page, check_first, make_page
from resolvers.redaction import ServedEvent, serve
from resolvers.visibility import EventVisibility

SCAN_BATCH = 500


async def list_events(
    ctx: RequestContext,
    *,
    first: int | None,
    after: int | None,
    stream_id: str | None = None,
    types: Sequence[str] | None = None,
) -> Page[ServedEvent]:
    """Scans past invisible events until ``first + 1`` visible ones are found.

    Edge cursors are positions (digits), so ``endCursor`` feeds ``after: Position``.
    """
    if ctx.actor is None:
        raise Unauthenticated("Sign in to read the event log")
    limit = check_first(first, ctx.services.max_page_size, default=100)
    visibility = EventVisibility(ctx.services, ctx.actor)
    found: list[ServedEvent] = []
    position = after or 0
    head = await ctx.services.store.head_position()
    while len(found) <= limit and position < head:
        batch = await ctx.services.store.read_all(
            after=position, limit=SCAN_BATCH, stream_id=stream_id,
            types=list(types) if types is not None else None, to_position=head,
        )
        if not batch:
            break
        found += [serve(e, ctx.actor) for e in await visibility.filter(batch)]
        position = batch[-1].position
    # The connection has no totalCount: counting would mean scanning the whole log.
    return make_page(found, limit, 0, lambda e: str(e.position))
