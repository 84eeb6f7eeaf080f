"""Subscription.events: catch-up then live, with no gap and no duplicate.

Order matters: subscribe to the bus first, then read the log from the store
up to its head, then follow notices. Anything committed after the subscribe
arrives as a notice; anything before it is in the store; reading the store
from the last emitted position on every notice fills any jump and skips what
was already emitted. A notice is only a wake-up: the store is the record. When
the bus drops us (overflow, disconnect) we subscribe again and re-read the
store from the last emitted position, so nothing falls in between.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from domain.errors import Unauthenticated
from domain.ports import Actor
from events.bus import EVENTS_CHANNEL, Bus, BusError
from resolvers.context import Services
from resolvers.redaction import ServedEvent, serve
from resolvers.visibility import EventVisibility

BATCH = 500
MAX_STORED_POSITION = 2**63 - 1


class NoBus(RuntimeError):
    """The API was wired without a bus: live subscriptions cannot work."""


def bus_of(services: Services) -> Bus:
    if services.bus is None:
        raise NoBus("Subscriptions are not available: the server has no bus")
    return services.bus


async def _read_past(
    services: Services,
    actor: Actor,
    after: int,
    stream_id: str | None,
    types: Sequence[str] | None,
) -> AsyncIterator[tuple[int, ServedEvent | None]]:
    """Every event after ``after`` up to the head: (position, event if visible)."""
    # Fresh facts each round: whether a post is published changes over time.
    visibility = EventVisibility(services, actor)
    while True:
        batch = await services.store.read_all(
            after=after, limit=BATCH, stream_id=stream_id,
            types=list(types) if types is not None else None,
        )
        if not batch:
            return
        visible = {e.position for e in await visibility.filter(batch)}
        for event in batch:
            yield event.position, serve(event, actor) if event.position in visible else None
        after = batch[-1].position
        if len(batch) < BATCH:
            return


def _may_concern(
    notice: dict[str, Any], last: int, stream_id: str | None, types: Sequence[str] | None
) -> bool:
    """False when the notice's commit was already read or holds nothing the filters want.

    Skipping is always safe: the next read starts after ``last`` whatever the
    notice said, so a skipped (or lost) notice only delays, never drops.
    """
    newest = notice.get("last")
    if isinstance(newest, int) and newest <= last:
        return False
    streams = notice.get("streams")
    if stream_id is not None and isinstance(streams, list) and stream_id not in streams:
        return False
    kinds = notice.get("types")
    return types is None or not isinstance(kinds, list) or bool(set(kinds) & set(types))


async def follow_events(
    services: Services,
    actor: Actor | None,
    *,
    after: int | None,
    stream_id: str | None = None,
    types: Sequence[str] | None = None,
) -> AsyncIterator[ServedEvent]:
    if actor is None:
        raise Unauthenticated("Sign in to follow the event log")
    bus = bus_of(services)
    # Positions are signed 64-bit in the store: nothing lies past this one.
    last = min(after or 0, MAX_STORED_POSITION)
    while True:
        async with bus.subscribe(EVENTS_CHANNEL) as notices:
            async for position, event in _read_past(services, actor, last, stream_id, types):
                last = position
                if event is not None:
                    yield event
            try:
                async for notice in notices:
                    if not _may_concern(notice, last, stream_id, types):
                        continue
                    async for position, event in _read_past(
                        services, actor, last, stream_id, types
                    ):
                        last = position
                        if event is not None:
                            yield event
            except BusError:
                continue  # subscribe again, then re-read the store from `last`
        return  # the bus shut down cleanly: the server is stopping
