"""What operators ask: the log's head and the projections' status."""

from __future__ import annotations

from typing import Any

from domain.errors import Forbidden, Unauthenticated
from resolvers.context import RequestContext


async def head_position(ctx: RequestContext) -> int:
    return int(await ctx.services.store.head_position())


async def projection_statuses(ctx: RequestContext) -> list[Any]:
    """Admins only: lag and errors describe the system, not any one member's data."""
    if ctx.actor is None:
        raise Unauthenticated("Sign in as an admin to see the projections")
    if not ctx.actor.is_admin:
        raise Forbidden("Only admins may see the projections")
    return list(await ctx.services.runner.statuses())
