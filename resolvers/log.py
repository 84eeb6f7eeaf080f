"""Query.events: the log in position order, filtered by visibility, redacted."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import Unauthenticated
from resolvers import arguments
from resolvers.context import RequestContext
from resolvers.pagination import Page, check_first, known_count, make_page
from resolvers.redaction import ServedEvent, serve
from resolvers.visibility import EventVisibility

SCAN_BATCH = 500
SCAN_BUDGET = 20_000
"""Most events one request reads looking for visible ones; the page then ends early."""


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
    A member's view of a long log may be sparse: after ``SCAN_BUDGET`` events
    the page ends early with ``hasNextPage`` and an ``endCursor`` at the last
    position read, so one request never scans the whole log.
    """
    if ctx.actor is None:
        raise Unauthenticated("Sign in to read the event log")
    limit = check_first(first, ctx.services.max_page_size, default=100)
    if types is not None:
        arguments.texts("types", types)
    if stream_id is not None and arguments.names_nothing(stream_id):
        return Page([], False, known_count(0))
    visibility = EventVisibility(ctx.services, ctx.actor)
    found: list[ServedEvent] = []
    position = after or 0
    head = await ctx.services.store.head_position()
    scanned = 0
    while len(found) <= limit and position < head:
        if scanned >= SCAN_BUDGET:
            edges = [(str(e.position), e) for e in found]
            return Page(edges, True, known_count(0), resume_after=str(position))
        batch = await ctx.services.store.read_all(
            after=position, limit=SCAN_BATCH, stream_id=stream_id,
            types=list(types) if types is not None else None, to_position=head,
        )
        if not batch:
            break
        found += [serve(e, ctx.actor) for e in await visibility.filter(batch)]
        position = batch[-1].position
        scanned += len(batch)
    # The connection has no totalCount: counting would mean scanning the whole log.
    return make_page(found, limit, known_count(0), lambda e: str(e.position),
                     start=str(after or 0))
