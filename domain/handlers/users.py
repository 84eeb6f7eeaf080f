"""Handlers of the user commands: register, log in, profile, password, forget, promote.

A wrong password anywhere (logIn, changePassword, forgetMe) is a failed login
of that username, counted by one throttle stream per username
(``domain.throttle``). The rules are listed in :mod:`domain.handlers`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from domain import throttle, user, validation
from domain.commands import (
    ChangePassword,
    ForgetMe,
    ForgetUser,
    LogIn,
    PromoteUser,
    RegisterUser,
    UpdateProfile,
)
from domain.errors import InvalidInput, NotFound, Unauthenticated
from domain.ports import Actor, Context, Outcome
from domain.repository import Loaded, load
from domain.streams import throttle_stream_id
from domain.writing import acting, append, commit, expect, new_stream, retrying
from events.catalog import DomainEvent
from events.model import Claim, ClaimTaken


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
