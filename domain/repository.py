"""Loading aggregates from the log: latest snapshot + the tail after it, folded.

Loading costs O(snapshot interval), not O(history), for the present and for
any past version alike (``to_version``). Saving adds a snapshot to the append
whenever the commit takes the stream across a multiple of the interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from domain import post, validation
from domain.aggregate import Aggregate
from domain.ports import EventLog
from events.catalog import DomainEvent
from events.contract import EventStore
from events.model import RecordedEvent, Snapshot, StreamAppend

S = TypeVar("S")


@dataclass(frozen=True)
class Loaded(Generic[S]):
    stream_id: str
    state: S
    version: int
    """0 when the stream does not exist (yet)."""
    position: int
    """Global position of the stream's last event loaded; 0 when there is none."""
    recorded_at: datetime | None = None
    """When that last event was recorded: only in a ``dated`` load."""


async def load(
    log: EventLog,
    aggregate: Aggregate[S],
    stream_id: str,
    *,
    to_version: int | None = None,
    dated: bool = False,
) -> Loaded[S]:
    if not validation.one_line(stream_id):
        # An id from outside that no log could hold (a NUL, a lone surrogate) names
        # no stream: the aggregate does not exist, without asking the store.
        return Loaded(stream_id, aggregate.initial, 0, 0)
    if isinstance(log, EventStore):
        # One read, decoded straight to domain events (no RecordedEvent per event),
        # with a snapshot of this aggregate's current shape only.
        read = await log.load_events(
            stream_id, max_version=to_version, snapshot_version=aggregate.snapshot_version,
            dated=dated,
        )
        state = aggregate.initial
        if read.snapshot is not None:
            state = aggregate.from_snapshot(read.snapshot.state)
        state = aggregate.fold(state, read.events)
        return Loaded(stream_id, state, read.version, read.position, read.recorded_at)
    return await _load_recorded(log, aggregate, stream_id, to_version=to_version, dated=dated)


async def _load_recorded(
    log: EventLog, aggregate: Aggregate[S], stream_id: str, *, to_version: int | None, dated: bool
) -> Loaded[S]:
    """The same through the port alone (any EventLog, such as the tests' in-memory one)."""
    state, start = aggregate.initial, 0
    # One read for both (the snapshotted event itself comes again, not folded,
    # because the snapshot does not know its position).
    snapshot, recorded = await log.load_stream(stream_id, max_version=to_version)
    if snapshot is not None and snapshot.schema_version == aggregate.snapshot_version:
        state, start = aggregate.from_snapshot(snapshot.state), snapshot.version
    elif snapshot is not None and snapshot.version > 1:
        # A snapshot written with an older shape is ignored: fold from the start instead.
        recorded = await log.read_stream(stream_id, to_version=to_version)
    state = aggregate.fold(state, [r.to_domain() for r in recorded if r.version > start])
    if not recorded:
        return Loaded(stream_id, state, start, 0)
    last = recorded[-1]
    return Loaded(stream_id, state, last.version, last.position,
                  last.recorded_at if dated else None)


def stream_append(
    aggregate: Aggregate[S],
    loaded: Loaded[S],
    events: Sequence[DomainEvent],
    *,
    snapshot_every: int,
) -> StreamAppend:
    """Append ``events`` after exactly the loaded version, with a snapshot when one is due."""
    new_version = loaded.version + len(events)
    snapshot = None
    if new_version // snapshot_every > loaded.version // snapshot_every:
        state = aggregate.fold(loaded.state, list(events))
        snapshot = Snapshot(
            loaded.stream_id, new_version, aggregate.to_snapshot(state), aggregate.snapshot_version
        )
    return StreamAppend(
        loaded.stream_id, aggregate.stream_type, loaded.version, list(events), snapshot
    )


# --- time travel, for the API's postAt and Post.history ----------------------


@dataclass(frozen=True)
class PostAt:
    state: post.PostState
    version: int
    as_of: datetime
    """When the last event included in ``state`` was recorded."""


async def post_at(
    log: EventLog, post_id: str, *, version: int | None = None, at: datetime | None = None
) -> PostAt | None:
    """The post as it was at ``version`` or instant ``at`` (the earlier if both; latest if neither).

    None when the post did not exist at that point, or ``version`` is beyond its history.
    """
    if not validation.one_line(post_id):
        return None
    if at is not None:
        version_then = await log.version_at(post_id, at)
        version = version_then if version is None else min(version, version_then)
    if version is not None and version < 1:
        return None
    loaded = await load(log, post.AGGREGATE, post_id, to_version=version, dated=True)
    if loaded.version == 0 or loaded.recorded_at is None:
        return None
    if version is not None and loaded.version < version:
        return None
    return PostAt(loaded.state, loaded.version, loaded.recorded_at)


async def post_history(log: EventLog, post_id: str) -> list[RecordedEvent]:
    """Every event of the post's stream, oldest first (the API redacts before serving)."""
    if not validation.one_line(post_id):
        return []
    return await log.read_stream(post_id)
