"""The event store's contract: what goes in, what comes out, what can go wrong.

Backends (``events.sqlite``, ``events.postgres``) implement :class:`EventStore`;
one contract test suite (``tests/integration/test_event_store_contract.py``)
runs against each. The domain reaches the store only through the narrower
port in ``domain.ports``, which :class:`EventStore` satisfies.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from events.catalog import DomainEvent
from events.shapes import from_data

ANY: Final = "any"
NO_STREAM: Final = "no_stream"
ExpectedVersion = int | Literal["any", "no_stream"]
"""An exact version (0 = the stream must be empty), ``NO_STREAM`` or ``ANY``."""


class EventStoreError(Exception):
    pass


class ConcurrencyError(EventStoreError):
    """The stream's version was not the expected one; nothing was appended."""

    def __init__(self, stream_id: str, expected: ExpectedVersion, actual: int) -> None:
        super().__init__(f"stream {stream_id}: expected version {expected}, found {actual}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class ClaimTaken(EventStoreError):
    """A unique value (username, email) is already claimed by another owner; nothing appended."""

    def __init__(self, scope: str, value: str) -> None:
        super().__init__(f"{scope} is already taken")
        self.scope = scope
        self.value = value


class IdempotentReplay(EventStoreError):
    """The idempotency key was already used for the same input: here is the first result;
    nothing appended. ``fingerprint`` is the one stored with the key."""

    def __init__(self, result: dict[str, Any], position: int, fingerprint: str = "") -> None:
        super().__init__("idempotency key already used")
        self.result = result
        self.position = position
        self.fingerprint = fingerprint


class IdempotencyKeyReused(EventStoreError):
    """The idempotency key was already used for other input (another fingerprint);
    nothing appended."""

    def __init__(self, key: str) -> None:
        super().__init__("idempotency key already used for other input")
        self.key = key


@dataclass(frozen=True)
class Metadata:
    actor_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """An aggregate's folded state at ``version`` (``state`` is JSON-ready)."""

    stream_id: str
    version: int
    state: dict[str, Any]
    schema_version: int = 1


@dataclass(frozen=True)
class StreamAppend:
    stream_id: str
    stream_type: str
    expected_version: ExpectedVersion
    events: Sequence[DomainEvent]
    snapshot: Snapshot | None = None
    """Optional snapshot of the state after these events, written in the same commit."""


@dataclass(frozen=True)
class Claim:
    """A unique value owned by ``owner`` within ``scope`` (e.g. scope "username")."""

    scope: str
    value: str
    owner: str


@dataclass(frozen=True)
class Commit:
    """Everything one command writes, atomically: all of it or none of it.

    ``claims`` are taken (idempotent for the same owner, ``ClaimTaken`` for
    another); ``releases`` are given up; ``shred`` lists user ids whose
    encryption keys are destroyed in this commit.
    """

    appends: Sequence[StreamAppend]
    metadata: Metadata = Metadata()
    idempotency_key: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    """Stored with ``idempotency_key``; a replay raises ``IdempotentReplay(result)``."""
    fingerprint: str = ""
    """Stored with ``idempotency_key``: a later commit with the key and the same
    fingerprint is a replay, with another one ``IdempotencyKeyReused``."""
    claims: Sequence[Claim] = ()
    releases: Sequence[Claim] = ()
    shred: Sequence[str] = ()


@dataclass(frozen=True)
class RecordedEvent:
    """One stored event as read back: decrypted where the key still exists, upcast."""

    event_id: uuid.UUID
    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    """snake_case keys, current schema version; personal fields are None when shredded."""
    recorded_at: datetime
    actor_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None

    def to_domain(self) -> DomainEvent:
        return from_data(self.type, self.data)


@dataclass(frozen=True)
class StreamEvents:
    """What loading an aggregate reads: a snapshot and the domain events after it."""

    snapshot: Snapshot | None
    events: list[DomainEvent]
    """The events after the snapshot's version (from version 1 without one), in order."""
    version: int
    """Version of the stream's last event read (the snapshot's without one; else 0)."""
    position: int
    """Global position of that event; 0 when there is none."""
    recorded_at: datetime | None
    """When that event was recorded: read only when asked for (``dated``), else None."""


@dataclass(frozen=True)
class CommitResult:
    events: Sequence[RecordedEvent]
    versions: dict[str, int]
    """Each appended stream's version after the commit."""

    @property
    def position(self) -> int:
        """Position of the last event appended (the commit's position)."""
        return self.events[-1].position if self.events else 0


@dataclass(frozen=True)
class Notice:
    """Published on the bus after every commit."""

    first_position: int
    last_position: int
    streams: tuple[str, ...]
    types: tuple[str, ...]


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
