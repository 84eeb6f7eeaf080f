"""How a handler writes: who is acting, expected versions, retries, metadata, idempotency.

Every handler is "load, decide, append"; this module holds the parts of that
which are the same for all of them, so the handlers themselves stay short.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from domain import user, validation
from domain.aggregate import Aggregate
from domain.errors import Conflict, Unauthenticated
from domain.ports import Actor, Context, Outcome
from domain.repository import Loaded, load, stream_append
from events.catalog import DomainEvent
from events.model import Claim, Commit, ConcurrencyError, IdempotentReplay, Metadata, StreamAppend

S = TypeVar("S")
MAX_KEY = 255
"""Longest idempotency key: a request id, a UUID, or a hash of the input all fit."""


async def acting(ctx: Context) -> tuple[Actor, Loaded[user.UserState]]:
    """The caller as the log knows them: a forgotten (or unknown) user cannot act.

    The role comes from the log, not from the caller's claim, so a revoked or
    never-granted admin role cannot be asserted from outside.
    """
    if ctx.actor is None:
        raise Unauthenticated("authentication required")
    me = await load(ctx.log, user.AGGREGATE, ctx.actor.user_id)
    user.require_active(me.state)
    return Actor(me.state.user_id, me.state.role), me


def expect(expected: int | None, loaded: Loaded[Any]) -> None:
    """A client that names the version it saw gets CONFLICT when the aggregate moved on."""
    if expected is not None and expected != loaded.version:
        raise Conflict(
            f"expected version {expected}, but the current version is {loaded.version}",
            expected=expected,
            actual=loaded.version,
        )


async def retrying(
    ctx: Context, attempt: Callable[[], Awaitable[Outcome]], expected: int | None = None
) -> Outcome:
    """Run ``attempt`` again with a fresh load when another command got there first.

    With an ``expected`` version the client asked for exactly that version, so a
    concurrent change is a CONFLICT for them to resolve, not something to retry.
    """
    for _ in range(ctx.max_retries):
        try:
            return await attempt()
        except ConcurrencyError as err:
            if expected is not None:
                raise Conflict(str(err), expected=expected, actual=err.actual) from None
    try:
        return await attempt()
    except ConcurrencyError as err:
        raise Conflict(
            "too many concurrent changes; try again", expected=expected, actual=err.actual
        ) from None


def append(
    ctx: Context, aggregate: Aggregate[S], loaded: Loaded[S], events: Sequence[DomainEvent]
) -> StreamAppend:
    return stream_append(aggregate, loaded, events, snapshot_every=ctx.snapshot_every)


def unchanged(aggregate: Aggregate[S], loaded: Loaded[S]) -> StreamAppend:
    """Append nothing, but only if the stream is still at the loaded version.

    Used when a decision rests on another aggregate (a comment or like needs a
    published post): if that post is archived or deleted meanwhile, the commit
    fails as a concurrency error and the retry decides again on the new state.
    """
    return StreamAppend(loaded.stream_id, aggregate.stream_type, loaded.version, [])


def new_stream(aggregate: Aggregate[S], stream_id: str) -> Loaded[S]:
    """A stream that does not exist yet (version 0), for commands that start one."""
    return Loaded(stream_id, aggregate.initial, 0, 0)


def scoped_key(actor: Actor, key: str | None) -> str | None:
    """Idempotency keys are per member: two members' "retry-1" are different requests.

    A key is stored with the first result, so it is held to what storage can hold.
    """
    if key is None:
        return None
    validation.text("idempotencyKey", key, min_len=0, max_len=MAX_KEY, strip=False)
    return f"{actor.user_id}:{key}"


def replayed(replay: IdempotentReplay) -> Outcome:
    return Outcome({k: str(v) for k, v in replay.result.items()}, replay.position)


async def commit(
    ctx: Context,
    result: dict[str, str],
    appends: Sequence[StreamAppend],
    loaded: Sequence[Loaded[Any]],
    *,
    actor_id: str | None,
    idempotency_key: str | None = None,
    claims: Sequence[Claim] = (),
    releases: Sequence[Claim] = (),
    shred: Sequence[str] = (),
) -> Outcome:
    """Commit what was decided, or report where things stand when nothing was.

    A command that appends nothing still returns the position of the newest
    event it read, so the caller's next read can wait for at least that.
    ``actor_id`` is who caused the events: None only for system events.
    """
    if not any(a.events for a in appends):
        return Outcome(
            result,
            max((ld.position for ld in loaded), default=0),
            {ld.stream_id: ld.version for ld in loaded},
        )
    try:
        done = await ctx.log.commit(
            Commit(
                appends,
                Metadata(actor_id=actor_id, correlation_id=ctx.correlation_id),
                idempotency_key=idempotency_key,
                result=dict(result) if idempotency_key else {},
                claims=claims,
                releases=releases,
                shred=shred,
            )
        )
    except IdempotentReplay as replay:
        return replayed(replay)
    return Outcome(result, done.position, dict(done.versions))
