"""How a handler writes: who is acting, expected versions, retries, metadata, idempotency.

Every handler is "load, decide, append"; this module holds the parts of that
which are the same for all of them, so the handlers themselves stay short.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from domain import idempotency, user
from domain.aggregate import Aggregate
from domain.errors import Conflict, Unauthenticated
from domain.ports import Actor, Context, Outcome
from domain.repository import Loaded, load, stream_append
from events.catalog import DomainEvent
from events.model import (
    Claim,
    Commit,
    ConcurrencyError,
    IdempotencyKeyReused,
    IdempotentReplay,
    Metadata,
    StreamAppend,
)

S = TypeVar("S")


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


async def first_use(ctx: Context, once: idempotency.Request | None) -> Outcome | None:
    """The first result of this keyed request, if it was made before (a shortcut: the
    commit checks the key again, see ``domain.idempotency``)."""
    if once is None or (first := await ctx.log.idempotent_result(once.key)) is None:
        return None
    return idempotency.replayed(first, once)


async def commit(
    ctx: Context,
    result: dict[str, str],
    appends: Sequence[StreamAppend],
    loaded: Sequence[Loaded[Any]],
    *,
    actor_id: str | None,
    once: idempotency.Request | None = None,
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
                idempotency_key=once.key if once else None,
                result=dict(result) if once else {},
                fingerprint=once.fingerprint if once else "",
                claims=claims,
                releases=releases,
                shred=shred,
            )
        )
    except IdempotentReplay as replay:
        assert once is not None  # only a keyed commit is replayed
        return idempotency.replayed(replay, once)
    except IdempotencyKeyReused:
        raise idempotency.reused() from None
    return Outcome(result, done.position, dict(done.versions))
