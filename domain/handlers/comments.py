"""Handlers of the comment commands: add, edit, delete.

Adding and editing a comment rest on its post being published: their commit
also requires the post's stream to be at the version they read
(``domain.writing.unchanged``). The rules are listed in :mod:`domain.handlers`.
"""

from __future__ import annotations

from domain import comment, idempotency, post
from domain.commands import AddComment, DeleteComment, EditComment
from domain.errors import NotFound
from domain.ports import Context, Outcome
from domain.repository import Loaded, load
from domain.writing import acting, append, commit, first_use, new_stream, retrying, unchanged


async def add_comment(cmd: AddComment, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        actor, _ = await acting(ctx)
        once = idempotency.request(actor, cmd)
        if (first := await first_use(ctx, once)) is not None:
            return first
        on = await load(ctx.log, post.AGGREGATE, cmd.post_id)
        comment_id = ctx.new_id()
        events = comment.add(cmd.body, on.state, actor, comment_id=comment_id)
        new = new_stream(comment.AGGREGATE, comment_id)
        return await commit(
            ctx, {"comment_id": comment_id, "post_id": cmd.post_id},
            [append(ctx, comment.AGGREGATE, new, events), unchanged(post.AGGREGATE, on)],
            [new, on], actor_id=actor.user_id, once=once,
        )

    return await retrying(ctx, attempt)


async def _comment_and_post(
    ctx: Context, comment_id: str
) -> tuple[Loaded[comment.CommentState], Loaded[post.PostState]]:
    found = await load(ctx.log, comment.AGGREGATE, comment_id)
    if not found.state.exists:
        raise NotFound("no such comment")
    return found, await load(ctx.log, post.AGGREGATE, found.state.post_id)


async def edit_comment(cmd: EditComment, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        actor, _ = await acting(ctx)
        found, on = await _comment_and_post(ctx, cmd.comment_id)
        events = comment.edit(cmd.body, found.state, on.state, actor)
        return await commit(ctx, {"comment_id": cmd.comment_id, "post_id": on.state.post_id},
                            [append(ctx, comment.AGGREGATE, found, events),
                             unchanged(post.AGGREGATE, on)], [found],
                            actor_id=actor.user_id)

    return await retrying(ctx, attempt)


async def delete_comment(cmd: DeleteComment, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        actor, _ = await acting(ctx)
        found, on = await _comment_and_post(ctx, cmd.comment_id)
        events = comment.delete(found.state, on.state, actor)
        return await commit(ctx, {"comment_id": cmd.comment_id, "post_id": on.state.post_id},
                            [append(ctx, comment.AGGREGATE, found, events)], [found],
                            actor_id=actor.user_id)

    return await retrying(ctx, attempt)
