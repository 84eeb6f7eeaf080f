"""What operators ask: the log's head, the projections' status and their parked events."""

from __future__ import annotations

from typing import Any

from domain.errors import Forbidden, NotFound, Unauthenticated
from resolvers.context import RequestContext


async def head_position(ctx: RequestContext) -> int:
    return int(await ctx.services.store.head_position())


def require_admin(ctx: RequestContext, what: str) -> None:
    if ctx.actor is None:
        raise Unauthenticated(f"Sign in as an admin to {what}")
    if not ctx.actor.is_admin:
        raise Forbidden(f"Only admins may {what}")


async def projection_statuses(ctx: RequestContext) -> list[Any]:
    """Admins only: lag and errors describe the system, not any one member's data."""
    require_admin(ctx, "see the projections")
    return list(await ctx.services.runner.statuses())


async def dead_letters(ctx: RequestContext, projection: str) -> list[Any]:
    """Admins only: the events ``projection`` parked, with their errors, in log order."""
    require_admin(ctx, "see parked events")
    runner = ctx.services.runner
    if projection not in runner.names:
        raise NotFound(f"no projection named {projection!r}")
    return list(await runner.dead_letters(projection))
