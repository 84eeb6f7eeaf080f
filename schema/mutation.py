"""The Mutation root and its payloads: each field turns its input into a command.

The work is in ``mutations``: it runs the command and waits until the read
model has applied it, so the Post, User or Comment read back here already
reflects the change (read-your-writes for the payload itself).

A payload is a read like any other: its Post or Comment comes through the
visibility rules of the queries (``resolvers.posts.post_by_id``,
``resolvers.comments.comment_by_id``). A post the caller may not see now
(say, a retried request whose post has been archived since) answers NOT_FOUND,
as ``post(id:)`` would answer null: the payload's post is non-null.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry

from domain.errors import NotFound
from domain.ports import Actor
from mutations import admin, comments, likes, posts, users
from mutations.consistency import after_write
from mutations.results import SignedIn, Written
from resolvers import comments as comment_queries
from resolvers import posts as post_queries
from resolvers.loaders import Loaders
from schema.base import Info
from schema.dead_letters import RetryDeadLettersPayload
from schema.inputs import (
    AddCommentInput,
    ChangePasswordInput,
    CreatePostInput,
    EditPostInput,
    LoginInput,
    RegisterInput,
    UpdateProfileInput,
)
from schema.operations import ProjectionStatus
from schema.scalars import Position
from schema.types import Comment, Post, User


@strawberry.type
class AuthPayload:
    token: str = strawberry.field(
        description="Bearer token for the Authorization header and the websocket "
        'connection_init payload {"authToken": ...}.'
    )
    user: User
    position: Position


@strawberry.type
class UserPayload:
    user: User
    position: Position
    token: str | None = strawberry.field(
        default=None,
        description="changePassword only: a new bearer token. The change retires every "
        "token issued before it (open websockets close with 4403).",
    )


@strawberry.type
class PostPayload:
    post: Post
    position: Position


@strawberry.type
class DeletePayload:
    id: strawberry.ID
    position: Position


@strawberry.type
class CommentPayload:
    comment: Comment
    position: Position


# Payloads are read back after the write committed: a failure to read one says the
# write was recorded (STALE_READ, recorded: true), never that it failed.


@asynccontextmanager
async def _read_back(info: Info, position: int) -> AsyncIterator[Loaders]:
    """Reading a payload back after its write committed at ``position``.

    Through fresh loaders: every row this request cached may be stale (mutations run
    in sequence, and an earlier one may have loaded it). The commit is noted for the
    field, so an error anywhere in the rest of its answer (a nested field failing)
    also tells the client not to repeat the write (``schema.errors``).
    """
    ctx = info.context
    if ctx.committed is None:
        ctx.committed = {}
    ctx.committed[str(info.path.key)] = position
    async with after_write(position):
        yield ctx.renew_loaders()


async def _user(info: Info, user_id: str, position: int) -> User:
    async with _read_back(info, position) as loaders:
        row = await loaders.user.load(user_id)
        if row is None:
            raise NotFound("no such user")
    return User.from_row(row)


async def _post(info: Info, written: Written) -> PostPayload:
    # One driver-level read by id (resolvers.loaders), through the fresh loaders.
    async with _read_back(info, written.position):
        row = await post_queries.post_by_id(info.context, written.id)
        if row is None:
            raise NotFound("no such post")
    return PostPayload(post=Post.from_row(row), position=Position(written.position))


async def _comment(info: Info, written: Written) -> CommentPayload:
    async with _read_back(info, written.position):
        row = await comment_queries.comment_by_id(info.context, written.id)
        if row is None:
            raise NotFound("no such comment")
    return CommentPayload(comment=Comment.from_row(row), position=Position(written.position))


async def _signed_in(info: Info, signed: SignedIn) -> AuthPayload:
    # From here on the request acts as the member who just proved who they are, as
    # the token it returns would: the payload shows them their own email.
    info.context.actor = Actor(user_id=signed.user_id)
    user = await _user(info, signed.user_id, signed.position)
    info.context.actor = Actor(user_id=signed.user_id, role=user.role.value)
    return AuthPayload(token=signed.token, user=user, position=Position(signed.position))


async def _user_payload(info: Info, written: Written) -> UserPayload:
    user = await _user(info, written.id, written.position)
    return UserPayload(user=user, position=Position(written.position))


def _deleted(written: Written) -> DeletePayload:
    return DeletePayload(id=strawberry.ID(written.id), position=Position(written.position))


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        signed = await users.register(
            info.context, input.username, input.email, input.password, input.display_name
        )
        return await _signed_in(info, signed)

    @strawberry.mutation
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        signed = await users.log_in(info.context, input.username, input.password)
        return await _signed_in(info, signed)

    @strawberry.mutation
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UserPayload:
        written = await users.update_profile(
            info.context, input.display_name, input.bio, input.expected_version
        )
        return await _user_payload(info, written)

    @strawberry.mutation
    async def change_password(self, info: Info, input: ChangePasswordInput) -> UserPayload:
        signed = await users.change_password(
            info.context, input.current_password, input.new_password
        )
        payload = await _user_payload(info, Written(signed.user_id, signed.position))
        payload.token = signed.token
        return payload

    @strawberry.mutation
    async def create_post(self, info: Info, input: CreatePostInput) -> PostPayload:
        written = await posts.create_post(
            info.context, input.title, input.body, input.tags or [], bool(input.publish),
            input.idempotency_key,
        )
        return await _post(info, written)

    @strawberry.mutation
    async def edit_post(self, info: Info, input: EditPostInput) -> PostPayload:
        written = await posts.edit_post(
            info.context, input.id, input.title, input.body, input.tags, input.expected_version
        )
        return await _post(info, written)

    @strawberry.mutation
    async def publish_post(
        self, info: Info, id: strawberry.ID, expected_version: int | None = None
    ) -> PostPayload:
        return await _post(info, await posts.publish_post(info.context, id, expected_version))

    @strawberry.mutation
    async def archive_post(
        self, info: Info, id: strawberry.ID, expected_version: int | None = None
    ) -> PostPayload:
        return await _post(info, await posts.archive_post(info.context, id, expected_version))

    @strawberry.mutation
    async def delete_post(
        self, info: Info, id: strawberry.ID, expected_version: int | None = None
    ) -> DeletePayload:
        return _deleted(await posts.delete_post(info.context, id, expected_version))

    @strawberry.mutation
    async def restore_post(
        self, info: Info, id: strawberry.ID, version: int, expected_version: int | None = None
    ) -> PostPayload:
        written = await posts.restore_post(info.context, id, version, expected_version)
        return await _post(info, written)

    @strawberry.mutation
    async def add_comment(self, info: Info, input: AddCommentInput) -> CommentPayload:
        written = await comments.add_comment(
            info.context, input.post_id, input.body, input.idempotency_key
        )
        return await _comment(info, written)

    @strawberry.mutation
    async def edit_comment(self, info: Info, id: strawberry.ID, body: str) -> CommentPayload:
        return await _comment(info, await comments.edit_comment(info.context, id, body))

    @strawberry.mutation
    async def delete_comment(self, info: Info, id: strawberry.ID) -> DeletePayload:
        return _deleted(await comments.delete_comment(info.context, id))

    @strawberry.mutation
    async def like_post(self, info: Info, id: strawberry.ID) -> PostPayload:
        return await _post(info, await likes.like_post(info.context, id))

    @strawberry.mutation
    async def unlike_post(self, info: Info, id: strawberry.ID) -> PostPayload:
        return await _post(info, await likes.unlike_post(info.context, id))

    # Right to be forgotten: crypto-shredding makes the personal data unreadable in the log too.
    @strawberry.mutation
    async def forget_me(self, info: Info, password: str) -> DeletePayload:
        return _deleted(await users.forget_me(info.context, password))

    @strawberry.mutation
    async def forget_user(self, info: Info, id: strawberry.ID) -> DeletePayload:
        return _deleted(await users.forget_user(info.context, id))

    @strawberry.mutation
    async def rebuild_projection(self, info: Info, name: str) -> ProjectionStatus:
        return ProjectionStatus.from_status(await admin.rebuild_projection(info.context, name))

    # Re-apply parked events (all, or the one at `position` and those held behind it)
    # in log order, once their cause is fixed; admins only (see projections/retry.py).
    @strawberry.mutation
    async def retry_dead_letters(
        self, info: Info, projection: str, position: Position | None = None
    ) -> RetryDeadLettersPayload:
        outcome = await admin.retry_dead_letters(info.context, projection, position)
        return RetryDeadLettersPayload.from_outcome(outcome)
