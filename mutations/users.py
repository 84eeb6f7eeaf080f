"""Members: register, log in, profile, password, and the right to be forgotten."""

from __future__ import annotations

from domain.commands import ChangePassword, ForgetMe, ForgetUser, LogIn, RegisterUser, UpdateProfile
from domain.errors import Unauthenticated
from events.db import scrub_wal
from mutations.consistency import result_id, run_command
from mutations.results import SignedIn, Written
from resolvers.context import RequestContext


def _caller_id(ctx: RequestContext) -> str:
    if ctx.actor is None:
        raise Unauthenticated("sign in first")
    return ctx.actor.user_id


async def register(
    ctx: RequestContext, username: str, email: str, password: str, display_name: str | None
) -> SignedIn:
    outcome = await run_command(ctx, RegisterUser(username, email, password, display_name))
    user_id = result_id(outcome, "user_id")
    return SignedIn(ctx.services.tokens.issue(user_id), user_id, outcome.position)


async def log_in(ctx: RequestContext, username: str, password: str) -> SignedIn:
    outcome = await run_command(ctx, LogIn(username, password))
    user_id = result_id(outcome, "user_id")
    credentials = int(outcome.result.get("credentials", "0"))
    return SignedIn(ctx.services.tokens.issue(user_id, credentials), user_id, outcome.position)


async def update_profile(
    ctx: RequestContext, display_name: str | None, bio: str | None, expected_version: int | None
) -> Written:
    user_id = _caller_id(ctx)
    outcome = await run_command(ctx, UpdateProfile(display_name, bio, expected_version))
    return Written(result_id(outcome, "user_id", user_id), outcome.position)


async def change_password(ctx: RequestContext, current: str, new: str) -> SignedIn:
    """Also a fresh token: the change retires every token issued before it."""
    caller = _caller_id(ctx)
    outcome = await run_command(ctx, ChangePassword(current, new))
    user_id = result_id(outcome, "user_id", caller)
    credentials = int(outcome.result.get("credentials", "0"))
    return SignedIn(ctx.services.tokens.issue(user_id, credentials), user_id, outcome.position)


async def forget_me(ctx: RequestContext, password: str) -> Written:
    user_id = _caller_id(ctx)
    outcome = await run_command(ctx, ForgetMe(password))
    await scrub_wal(ctx.services.engine)
    return Written(result_id(outcome, "user_id", user_id), outcome.position)


async def forget_user(ctx: RequestContext, user_id: str) -> Written:
    outcome = await run_command(ctx, ForgetUser(user_id))
    await scrub_wal(ctx.services.engine)
    return Written(result_id(outcome, "user_id", user_id), outcome.position)
