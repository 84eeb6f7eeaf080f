"""Handlers of the like commands: like and unlike, one stream per (post, member).

Both rest on the post being visible and published: the commit also requires
the post's stream to be at the version they read (``domain.writing.unchanged``).
The rules are listed in :mod:`domain.handlers`.
"""

from __future__ import annotations

from collections.abc import Callable

from domain import like, post
from domain.commands import LikePost, UnlikePost
from domain.ports import Actor, Context, Outcome
from domain.repository import load
from domain.streams import like_stream_id
from domain.writing import acting, append, commit, retrying, unchanged
from events.catalog import DomainEvent

LikeDecision = Callable[[like.LikeState, post.PostState, Actor], list[DomainEvent]]


async def _change_like(ctx: Context, post_id: str, decide: LikeDecision) -> Outcome:
    async def attempt() -> Outcome:
        actor, _ = await acting(ctx)
        on = await load(ctx.log, post.AGGREGATE, post_id)
        post.require_visible(on.state, actor)  # before deriving a like stream from its id
        mine = await load(ctx.log, like.AGGREGATE, like_stream_id(post_id, actor.user_id))
        events = decide(mine.state, on.state, actor)
        return await commit(ctx, {"post_id": post_id},
                            [append(ctx, like.AGGREGATE, mine, events),
                             unchanged(post.AGGREGATE, on)], [on, mine],
                            actor_id=actor.user_id)

    return await retrying(ctx, attempt)


async def like_post(cmd: LikePost, ctx: Context) -> Outcome:
    return await _change_like(ctx, cmd.post_id, like.like)


async def unlike_post(cmd: UnlikePost, ctx: Context) -> Outcome:
    return await _change_like(ctx, cmd.post_id, like.unlike)
