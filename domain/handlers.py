"""Command handlers: load, decide, append. One short function per command, one table.

The rules, in one place (details beside each aggregate; InvalidInput names the
GraphQL input field):

Users (domain.user)
- register: username 3-32 of [A-Za-z0-9_], unique case-insensitively; email a
  plausible address <= 320 chars, normalised lower-case, unique (claimed by its
  sha256, never in plain text); password 8-1024; displayName 1-100, default the
  username. Both claims are taken in the same commit as UserRegistered.
- logIn: per username, ``login_max_failures`` failures within
  ``login_window_seconds`` since the last success give RATE_LIMITED (retryAfter
  = until the oldest of them leaves the window) before the password is checked.
  Every failure (unknown user, wrong password, forgotten user) is recorded and
  answers the same UNAUTHENTICATED; a success after failures resets the count.
  A username that is no text a name could be (control characters, a lone
  surrogate) is BAD_USER_INPUT, and nothing is recorded for it.
- updateProfile: displayName 1-100, bio <= 2000; only changed fields recorded.
- changePassword: the current password must match (else currentPassword).
  forgetMe: the password must match (else password). A wrong password there
  is a failed login of the caller's username: same throttle, same RATE_LIMITED,
  so a stolen token cannot guess the password faster than a login could.
  Tokens issued before a password change no longer name the user (logIn and
  changePassword report the count of changes, ``credentials``, that the token
  they issue carries).
- forgetMe / forgetUser (admins only): the user's key is
  shredded and their email claim released; the username stays taken. A
  forgotten user can neither log in nor act.
- promote: a system event (no actor); promoting an admin records nothing.

Posts (domain.post)
- title 1-200 (stripped), body <= 100 000, <= 10 tags of 1-32 chars,
  lower-cased, duplicates dropped. No text holds a lone surrogate or a control
  character (bodies and bios keep tab, newline and carriage return): what
  the log accepts, every backend can store (domain.validation).
- DRAFT -> PUBLISHED <-> ARCHIVED; archiving a draft is invalid; deleted is
  final (NOT_FOUND from then on).
- Only the author edits, publishes and restores; the author or an admin
  archives and deletes. Others get NOT_FOUND for posts they cannot see (drafts,
  archived) and FORBIDDEN for published ones.
- restorePost(version): 1 <= version <= current; records the content of then.

Comments and likes (domain.comment, domain.like)
- comment body 1-10 000 (stripped), only on published posts; the comment's
  author edits; the comment's author, the post's author or an admin deletes.
- a like is one stream per (post, member): liking twice is one like,
  unliking what is not liked records nothing; published posts only.

Idempotency keys (createPost, addComment; domain.idempotency): scoped to the
caller and the operation, stored with a fingerprint of the input. The same
input again returns the first result and appends nothing; other input with the
key is BAD_USER_INPUT on idempotencyKey; a key is 1-255 printable characters,
not blank.

Every command: unauthenticated callers get UNAUTHENTICATED. Without
``expected_version`` a concurrent change is retried ``max_retries`` times on a
fresh load; with one, a mismatch is CONFLICT and nothing is appended. A
command that records nothing returns the position of the newest event it read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from domain import comment, idempotency, like, post, throttle, user, validation
from domain.commands import (
    AddComment,
    ArchivePost,
    ChangePassword,
    Command,
    CreatePost,
    DeleteComment,
    DeletePost,
    EditComment,
    EditPost,
    ForgetMe,
    ForgetUser,
    LikePost,
    LogIn,
    PromoteUser,
    PublishPost,
    RegisterUser,
    RestorePost,
    UnlikePost,
    UpdateProfile,
)
from domain.errors import InvalidInput, NotFound, Unauthenticated
from domain.ports import Actor, Context, Outcome
from domain.repository import Loaded, load
from domain.streams import like_stream_id, throttle_stream_id
from domain.writing import (
    acting,
    append,
    commit,
    expect,
    first_use,
    new_stream,
    retrying,
    unchanged,
)
from events.catalog import DomainEvent
from events.model import Claim, ClaimTaken

Handler = Callable[[Any, Context], Awaitable[Outcome]]


# --- users -------------------------------------------------------------------


async def register_user(cmd: RegisterUser, ctx: Context) -> Outcome:
    reg = user.registration(cmd)
    # A cheap early answer for the common case; the claims in the commit decide races.
    for scope, value in (("username", reg.username.lower()), ("email", reg.email_digest)):
        if await ctx.log.claim_owner(scope, value) is not None:
            raise InvalidInput(scope, f"{scope} is already taken")
    password_hash = await asyncio.to_thread(ctx.hasher.hash, cmd.password)
    user_id = ctx.new_id()
    events = user.register(reg, user_id=user_id, password_hash=password_hash)
    new = new_stream(user.AGGREGATE, user_id)
    claims = [Claim("username", reg.username.lower(), user_id),
              Claim("email", reg.email_digest, user_id)]
    try:
        return await commit(ctx, {"user_id": user_id}, [append(ctx, user.AGGREGATE, new, events)],
                            [new], actor_id=user_id, claims=claims)
    except ClaimTaken as taken:
        raise InvalidInput(taken.scope, f"{taken.scope} is already taken") from None


async def log_in(cmd: LogIn, ctx: Context) -> Outcome:
    validation.storable("username", cmd.username)
    validation.valid("password", cmd.password)

    async def attempt() -> Outcome:
        now = ctx.clock()
        limit = await _throttle(ctx, cmd.username, now)
        account = await _verified(ctx, await _account(ctx, cmd.username), cmd.password)
        if account is None:
            await _failed(ctx, limit, cmd.username, now, actor_id=None)
            raise Unauthenticated("invalid username or password")
        user_id = account.state.user_id
        reset = throttle.succeeded(limit.state, cmd.username, now=now)
        # The token issued for this login names the password it was issued under.
        result = {"user_id": user_id, "credentials": str(account.state.credentials)}
        return await commit(ctx, result,
                            [append(ctx, throttle.AGGREGATE, limit, reset)], [account],
                            actor_id=user_id)

    return await retrying(ctx, attempt)


async def _throttle(
    ctx: Context, username: str, now: datetime
) -> Loaded[throttle.ThrottleState]:
    """The username's failed password checks; RATE_LIMITED while there are too many."""
    limit = await load(ctx.log, throttle.AGGREGATE, throttle_stream_id(username))
    throttle.check(limit.state, now=now, max_failures=ctx.login_max_failures,
                   window_seconds=ctx.login_window_seconds)
    return limit


async def _failed(
    ctx: Context, limit: Loaded[throttle.ThrottleState], username: str, now: datetime, *,
    actor_id: str | None,
) -> None:
    failed = throttle.failed(username, now=now)
    await commit(ctx, {}, [append(ctx, throttle.AGGREGATE, limit, failed)], [limit],
                 actor_id=actor_id)


async def _account(ctx: Context, username: str) -> Loaded[user.UserState] | None:
    """The active user registered under ``username``, if any."""
    user_id = await ctx.log.claim_owner("username", username.lower())
    if user_id is None:
        return None
    account = await load(ctx.log, user.AGGREGATE, user_id)
    return account if account.state.exists and not account.state.forgotten else None


async def _verified(
    ctx: Context, account: Loaded[user.UserState] | None, password: str
) -> Loaded[user.UserState] | None:
    """The account if ``password`` is its password."""
    if account is None:
        # Spend the work a real check costs, so timing does not reveal which names exist.
        await asyncio.to_thread(ctx.hasher.hash, password)
        return None
    ok = await asyncio.to_thread(ctx.hasher.verify, account.state.password_hash, password)
    return account if ok else None


async def update_profile(cmd: UpdateProfile, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        actor, me = await acting(ctx)
        events = user.update_profile(cmd, me.state)
        expect(cmd.expected_version, me)
        return await commit(ctx, {"user_id": actor.user_id},
                            [append(ctx, user.AGGREGATE, me, events)], [me],
                            actor_id=actor.user_id)

    return await retrying(ctx, attempt, cmd.expected_version)


async def change_password(cmd: ChangePassword, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        actor, me = await acting(ctx)
        validation.valid("currentPassword", cmd.current_password)
        validation.password("newPassword", cmd.new_password)
        now = ctx.clock()
        limit = await _throttle(ctx, me.state.username, now)
        ok = await asyncio.to_thread(ctx.hasher.verify, me.state.password_hash,
                                     cmd.current_password)
        if not ok:
            await _failed(ctx, limit, me.state.username, now, actor_id=actor.user_id)
        new_hash = await asyncio.to_thread(ctx.hasher.hash, cmd.new_password) if ok else ""
        events = user.change_password(me.state, current_ok=ok, new_hash=new_hash)
        reset = throttle.succeeded(limit.state, me.state.username, now=now)
        # The caller's new token names the password it is issued under (as logIn's).
        result = {"user_id": actor.user_id, "credentials": str(me.state.credentials + 1)}
        return await commit(ctx, result,
                            [append(ctx, user.AGGREGATE, me, events),
                             append(ctx, throttle.AGGREGATE, limit, reset)], [me],
                            actor_id=actor.user_id)

    return await retrying(ctx, attempt)


async def forget_me(cmd: ForgetMe, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        actor, me = await acting(ctx)
        validation.valid("password", cmd.password)
        now = ctx.clock()
        limit = await _throttle(ctx, me.state.username, now)
        ok = await asyncio.to_thread(ctx.hasher.verify, me.state.password_hash, cmd.password)
        if not ok:
            await _failed(ctx, limit, me.state.username, now, actor_id=actor.user_id)
        return await _forget(ctx, actor, me, user.forget(me.state, password_ok=ok))

    return await retrying(ctx, attempt)


async def forget_user(cmd: ForgetUser, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        actor, _ = await acting(ctx)
        target = await load(ctx.log, user.AGGREGATE, cmd.user_id)
        user.require_forgettable(target.state, by_admin=actor.is_admin)
        return await _forget(ctx, actor, target, user.forget(target.state))

    return await retrying(ctx, attempt)


async def _forget(
    ctx: Context, actor: Actor, target: Loaded[user.UserState], events: list[DomainEvent]
) -> Outcome:
    """Shred the key and free the email for a new account; the username stays taken."""
    user_id = target.state.user_id
    digest = target.state.email_digest
    return await commit(
        ctx, {"user_id": user_id}, [append(ctx, user.AGGREGATE, target, events)], [target],
        actor_id=actor.user_id, shred=[user_id],
        releases=[Claim("email", digest, user_id)] if digest else [],
    )


async def promote_user(cmd: PromoteUser, ctx: Context) -> Outcome:
    async def attempt() -> Outcome:
        user_id = (
            await ctx.log.claim_owner("username", cmd.username.lower())
            if validation.one_line(cmd.username) else None
        )
        if user_id is None:
            raise NotFound("no such user")
        target = await load(ctx.log, user.AGGREGATE, user_id)
        events = user.grant_admin(target.state)
        # Granted from the command line: a system event, recorded with no actor.
        return await commit(ctx, {"user_id": user_id},
                            [append(ctx, user.AGGREGATE, target, events)], [target],
                            actor_id=None)

    return await retrying(ctx, attempt)


# --- posts -------------------------------------------------------------------


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


# --- comments ----------------------------------------------------------------


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


# --- likes -------------------------------------------------------------------

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


# --- the table ---------------------------------------------------------------

HANDLERS: dict[type, Handler] = {
    RegisterUser: register_user,
    LogIn: log_in,
    UpdateProfile: update_profile,
    ChangePassword: change_password,
    ForgetMe: forget_me,
    ForgetUser: forget_user,
    PromoteUser: promote_user,
    CreatePost: create_post,
    EditPost: edit_post,
    PublishPost: publish_post,
    ArchivePost: archive_post,
    DeletePost: delete_post,
    RestorePost: restore_post,
    AddComment: add_comment,
    EditComment: edit_comment,
    DeleteComment: delete_comment,
    LikePost: like_post,
    UnlikePost: unlike_post,
}


async def handle(command: Command, ctx: Context) -> Outcome:
    """Run the handler registered for the command's type."""
    return await HANDLERS[type(command)](command, ctx)
