"""Likes: idempotent by construction (liking twice is one like), one stream per member and post."""

from __future__ import annotations

from domain.commands import LikePost, UnlikePost
from mutations.consistency import run_command
from mutations.results import Written
from resolvers.context import RequestContext


async def like_post(ctx: RequestContext, post_id: str) -> Written:
    outcome = await run_command(ctx, LikePost(post_id))
    return Written(post_id, outcome.position)


async def unlike_post(ctx: RequestContext, post_id: str) -> Written:
    outcome = await run_command(ctx, UnlikePost(post_id))
    return Written(post_id, outcome.position)
