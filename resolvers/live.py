"""Subscription.events: catch-up then live, with no gap and no duplicate.

The subscriber listens to the process's one follower of the log
(``resolvers.follower``) first, then reads history from the store up to the
head, in batches, then takes the follower's shared batches. The handoff is by
position: a batch read after a position the subscriber has not reached leaves
a gap, which is filled from the store; events at or before the last one the
subscriber delivered are skipped. A subscriber too slow for the shared stream
is dropped from it (``resolvers.fanout``): it catches up from the store on its
own, from the last position it delivered, and listens again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from domain.errors import InvalidInput, Unauthenticated
from domain.ports import Actor
from events.bus import Bus
from events.model import RecordedEvent
from resolvers import arguments
from resolvers.context import Services
from resolvers.fanout import Lagged
from resolvers.hub import LiveHub
from resolvers.redaction import ServedEvent, serve
from resolvers.visibility import EventVisibility, username_of

BATCH = 500
MAX_STORED_POSITION = 2**63 - 1


class NoBus(RuntimeError):
    """The API was wired without a bus: live subscriptions cannot work."""


def bus_of(services: Services) -> Bus:
    if services.bus is None:
        raise NoBus("Subscriptions are not available: the server has no bus")
    return services.bus


def hub_of(services: Services) -> LiveHub:
    if services.bus is None or services.hub is None:
        raise NoBus("Subscriptions are not available: the server has no bus")
    return services.hub


async def _read_past(
    services: Services,
    actor: Actor,
    after: int,
    to_position: int,
    stream_id: str | None,
    types: Sequence[str] | None,
) -> AsyncIterator[tuple[int, ServedEvent | None]]:
    """Every event in (after, to_position]: (position, event if visible)."""
    # Fresh facts each round: whether a post is published changes over time.
    visibility = EventVisibility(services, actor)
    while after < to_position:
        batch = await services.store.read_all(
            after=after, limit=BATCH, stream_id=stream_id,
            types=list(types) if types is not None else None, to_position=to_position,
        )
        if not batch:
            return
        visible = {e.position for e in await visibility.filter(batch)}
        for event in batch:
            yield event.position, serve(event, actor) if event.position in visible else None
        after = batch[-1].position


def _wanted(event: RecordedEvent, stream_id: str | None, types: Sequence[str] | None) -> bool:
    return (stream_id is None or event.stream_id == stream_id) and (
        types is None or event.type in types
    )


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
    if types is not None:
        arguments.texts("types", types)
    # A query for such a stream finds an empty page; a subscription would wait forever.
    if stream_id is not None and arguments.names_nothing(stream_id):
        raise InvalidInput("streamId", "streamId names no stream: it is no id of the log")
    follower = hub_of(services).log
    # Positions are signed 64-bit in the store: nothing lies past this one.
    # Everything up to `last` was delivered or judged not wanted.
    last = min(after or 0, MAX_STORED_POSITION)
    username = ""
    if not actor.is_admin:
        username = await username_of(services, actor.user_id)
    while True:
        async with follower.fanout.listen() as listener:
            head = await services.store.head_position()
            async for position, event in _read_past(services, actor, last, head, stream_id, types):
                last = position
                if event is not None:
                    yield event
            last = max(last, head)
            try:
                while True:
                    batch = await listener.get()
                    if batch.last <= last:
                        continue
                    if batch.after > last:
                        # A gap: the follower read past us while it was down or starting.
                        async for position, event in _read_past(
                            services, actor, last, batch.last, stream_id, types
                        ):
                            last = position
                            if event is not None:
                                yield event
                        last = batch.last
                        continue
                    fresh = [e for e in batch.events
                             if e.position > last and _wanted(e, stream_id, types)]
                    for event in await batch.visible_to(services, actor, username, fresh):
                        last = event.position
                        yield event
                    last = batch.last
            except Lagged:
                continue  # dropped for falling behind: catch up from `last`, then listen again
