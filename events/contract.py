"""The event store's interface: what a backend answers, and the loads built on it.

The backend (``events.store.SqlEventStore``, on SQLite and PostgreSQL alike)
implements :class:`EventStore`; one contract test suite
(``tests/integration/test_event_store_contract.py``) runs against each
database. The domain reaches the store only through the narrower port in
``domain.ports``, which :class:`EventStore` satisfies. What goes in and comes
out, and what can go wrong, is in ``events.model``.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from events.model import (
    Commit,
    CommitResult,
    IdempotentReplay,
    RecordedEvent,
    Snapshot,
    StreamEvents,
)


class EventStore(abc.ABC):
    """The log. Appends go through one group-committing writer per process."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Open connections and start the writer."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish pending commits and close."""

    @abc.abstractmethod
    async def commit(self, commit: Commit) -> CommitResult:
        """Append atomically. Raises ConcurrencyError, ClaimTaken, IdempotentReplay,
        IdempotencyKeyReused."""

    @abc.abstractmethod
    async def read_stream(
        self, stream_id: str, *, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """Events of one stream with from_version <= version <= to_version, in order."""

    @abc.abstractmethod
    async def read_all(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        stream_id: str | None = None,
        types: Sequence[str] | None = None,
        to_position: int | None = None,
    ) -> list[RecordedEvent]:
        """Events with position > after (and <= to_position), in position order."""

    async def tail(self, *, after: int = 0, batch: int = 1000) -> AsyncIterator[RecordedEvent]:
        """Every event after ``after`` up to the current head, in batches."""
        while True:
            page = await self.read_all(after=after, limit=batch)
            for recorded in page:
                yield recorded
            if len(page) < batch:
                return
            after = page[-1].position

    @abc.abstractmethod
    async def head_position(self) -> int:
        """Position of the last committed event (0 when empty)."""

    @abc.abstractmethod
    async def stream_version(self, stream_id: str) -> int:
        """Current version of a stream (0 when it does not exist)."""

    @abc.abstractmethod
    async def version_at(self, stream_id: str, at: datetime) -> int:
        """The stream's version as of instant ``at`` (0 if it did not exist yet)."""

    @abc.abstractmethod
    async def latest_snapshot(
        self, stream_id: str, *, max_version: int | None = None
    ) -> Snapshot | None:
        """The newest snapshot with version <= max_version."""

    async def load_stream(
        self, stream_id: str, *, max_version: int | None = None
    ) -> tuple[Snapshot | None, list[RecordedEvent]]:
        """What loading an aggregate needs: the newest snapshot at or below ``max_version``
        and the stream's events from that snapshot's version (included, for its
        position) up to ``max_version``; from version 1 when there is no snapshot.

        This default makes the two reads; a backend may answer both with one.
        """
        snapshot = await self.latest_snapshot(stream_id, max_version=max_version)
        start = snapshot.version if snapshot is not None else 1
        tail = await self.read_stream(stream_id, from_version=start, to_version=max_version)
        return snapshot, tail

    async def load_events(
        self,
        stream_id: str,
        *,
        max_version: int | None = None,
        snapshot_version: int | None = None,
        dated: bool = False,
    ) -> StreamEvents:
        """:meth:`load_stream` as an aggregate folds it: domain events, not RecordedEvents.

        The snapshot, if any, has version <= ``max_version`` and schema version
        ``snapshot_version`` (any when None); the events follow it up to ``max_version``.
        The last event's recorded_at comes only if ``dated``: commands never need it,
        and on PostgreSQL it costs the load a second index probe (see
        ``events.store_loads._load_sql``). This default decodes what :meth:`load_stream`
        reads; a backend may build the domain events straight from its rows.
        """
        snapshot, recorded = await self.load_stream(stream_id, max_version=max_version)
        if snapshot is not None and snapshot_version not in (None, snapshot.schema_version):
            snapshot = None  # of another shape: fold from the start instead
            recorded = await self.read_stream(stream_id, to_version=max_version)
        start = snapshot.version if snapshot is not None else 0
        events = [r.to_domain() for r in recorded if r.version > start]
        if not recorded:
            return StreamEvents(snapshot, events, start, 0, None)
        last = recorded[-1]
        recorded_at = last.recorded_at if dated else None
        return StreamEvents(snapshot, events, last.version, last.position, recorded_at)

    @abc.abstractmethod
    async def claim_owner(self, scope: str, value: str) -> str | None:
        """Who owns a unique value, if anyone."""

    @abc.abstractmethod
    async def idempotent_result(self, key: str) -> IdempotentReplay | None:
        """The stored first result (and fingerprint) for a key used within the store's
        idempotency TTL (``events.transaction.IDEMPOTENCY_TTL`` unless configured)."""

    @abc.abstractmethod
    async def stats(self) -> dict[str, Any]:
        """Counts for ``chronicle events stats``: events, streams, by type, head."""
