"""Posts: write, edit, move through DRAFT -> PUBLISHED <-> ARCHIVED, delete, restore."""

from __future__ import annotations

from collections.abc import Sequence

from domain.commands import (
    ArchivePost,
    CreatePost,
    DeletePost,
    EditPost,
    PublishPost,
    RestorePost,
)
from mutations.consistency import result_id, run_command
from mutations.results import Written
from resolvers.context import RequestContext


async def create_post(
    ctx: RequestContext,
    title: str,
    body: str,
    tags: Sequence[str],
    publish: bool,
    idempotency_key: str | None,
) -> Written:
    command = CreatePost(title, body, tuple(tags), publish, idempotency_key)
    outcome = await run_command(ctx, command)
    return Written(result_id(outcome, "post_id"), outcome.position)


async def edit_post(
    ctx: RequestContext,
    post_id: str,
    title: str | None,
    body: str | None,
    tags: Sequence[str] | None,
    expected_version: int | None,
) -> Written:
    command = EditPost(
        post_id, title, body, None if tags is None else tuple(tags), expected_version
    )
    outcome = await run_command(ctx, command)
    return Written(post_id, outcome.position)


async def publish_post(ctx: RequestContext, post_id: str, expected_version: int | None) -> Written:
    outcome = await run_command(ctx, PublishPost(post_id, expected_version))
    return Written(post_id, outcome.position)


async def archive_post(ctx: RequestContext, post_id: str, expected_version: int | None) -> Written:
    outcome = await run_command(ctx, ArchivePost(post_id, expected_version))
    return Written(post_id, outcome.position)


async def delete_post(ctx: RequestContext, post_id: str, expected_version: int | None) -> Written:
    outcome = await run_command(ctx, DeletePost(post_id, expected_version))
    return Written(post_id, outcome.position)


async def restore_post(
    ctx: RequestContext, post_id: str, version: int, expected_version: int | None
) -> Written:
    outcome = await run_command(ctx, RestorePost(post_id, version, expected_version))
    return Written(post_id, outcome.position)
