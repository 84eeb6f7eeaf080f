"""What goes in and out of the event store, and what can go wrong.

Commits and the records read back, snapshots, notices, and the errors a commit
raises; the store's interface is ``events.contract``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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
