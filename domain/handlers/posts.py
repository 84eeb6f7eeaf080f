"""Handlers of the post commands: create, then edit, publish, archive, delete, restore.

Each change loads the post, lets ``domain.post`` decide its events and
appends them; the rules are listed in :mod:`domain.handlers`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from domain import idempotency, post
from domain.commands import (
    ArchivePost,
    CreatePost,
    DeletePost,
    EditPost,
    PublishPost,
    RestorePost,
)
from domain.ports import Actor, Context, Outcome
from domain.repository import load
from domain.writing import acting, append, commit, expect, first_use, new_stream, retrying
from events.catalog import DomainEvent


async def create_post(cmd: CreatePost, ctx: Context) -> Outcome:
    actor, _ = await acting(ctx)
    once = idempotency.request(actor, cmd)
    if (first := await first_use(ctx, once)) is not None:
        return first
    post_id = ctx.new_id()
    events = post.create(cmd, post_id=post_id, author_id=actor.user_id)
    new = new_stream(post.AGGREGATE, post_id)
    return await commit(ctx, {"post_id": post_id}, [append(ctx, post.AGGREGATE, new, events)],
                        [new], actor_id=actor.user_id, once=once)


Decision = Callable[[post.PostState, Actor], list[DomainEvent]]


async def _change_post(
    ctx: Context, post_id: str, expected: int | None, decide: Decision
) -> Outcome:
    async def attempt() -> Outcome:
        actor, _ = await acting(ctx)
        loaded = await load(ctx.log, post.AGGREGATE, post_id)
        events = decide(loaded.state, actor)
        expect(expected, loaded)
        return await commit(ctx, {"post_id": post_id},
                            [append(ctx, post.AGGREGATE, loaded, events)], [loaded],
                            actor_id=actor.user_id)

    return await retrying(ctx, attempt, expected)


async def edit_post(cmd: EditPost, ctx: Context) -> Outcome:
    return await _change_post(ctx, cmd.post_id, cmd.expected_version, partial(post.edit, cmd))


async def publish_post(cmd: PublishPost, ctx: Context) -> Outcome:
    return await _change_post(ctx, cmd.post_id, cmd.expected_version, post.publish)


async def archive_post(cmd: ArchivePost, ctx: Context) -> Outcome:
    return await _change_post(ctx, cmd.post_id, cmd.expected_version, post.archive)


async def delete_post(cmd: DeletePost, ctx: Context) -> Outcome:
    return await _change_post(ctx, cmd.post_id, cmd.expected_version, post.delete)


async def restore_post(cmd: RestorePost, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        actor, _ = await acting(ctx)
        loaded = await load(ctx.log, post.AGGREGATE, cmd.post_id)
        post.check_restorable(loaded.state, actor, version=cmd.version, current=loaded.version)
        then = await load(ctx.log, post.AGGREGATE, cmd.post_id, to_version=cmd.version)
        events = post.restore(loaded.state, actor, version=cmd.version, past=then.state)
        expect(cmd.expected_version, loaded)
        return await commit(ctx, {"post_id": cmd.post_id},
                            [append(ctx, post.AGGREGATE, loaded, events)], [loaded],
                            actor_id=actor.user_id)

    return await retrying(ctx, attempt, cmd.expected_version)
