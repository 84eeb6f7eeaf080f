"""Comments on published posts: add, edit, delete."""

from __future__ import annotations

from domain.commands import AddComment, DeleteComment, EditComment
from mutations.consistency import result_id, run_command
from mutations.results import Written
from resolvers.context import RequestContext


async def add_comment(
    ctx: RequestContext, post_id: str, body: str, idempotency_key: str | None
) -> Written:
    outcome = await run_command(ctx, AddComment(post_id, body, idempotency_key))
    return Written(result_id(outcome, "comment_id"), outcome.position)


async def edit_comment(ctx: RequestContext, comment_id: str, body: str) -> Written:
    outcome = await run_command(ctx, EditComment(comment_id, body))
    return Written(comment_id, outcome.position)


async def delete_comment(ctx: RequestContext, comment_id: str) -> Written:
    outcome = await run_command(ctx, DeleteComment(comment_id))
    return Written(comment_id, outcome.position)
