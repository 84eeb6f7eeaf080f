"""An in-memory EventLog that keeps the contract of ``events.contract.EventStore``.

It honours what the domain relies on, exactly: exact / "no_stream" / "any"
expected versions (a mismatch appends nothing), claims (idempotent for the
same owner, ClaimTaken for another), releases, idempotency keys
(IdempotentReplay with the first result for the same fingerprint,
IdempotencyKeyReused for another), snapshots written with an append,
and crypto-shredding (personal fields of a shredded subject read back None).
It also records which stream reads it served, so tests can prove that a load
used a snapshot and read only the tail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from events.catalog import DomainEvent, spec_of
from events.model import (
    ANY,
    NO_STREAM,
    Claim,
    ClaimTaken,
    Commit,
    CommitResult,
    ConcurrencyError,
    IdempotencyKeyReused,
    IdempotentReplay,
    Metadata,
    RecordedEvent,
    Snapshot,
    StreamAppend,
)
from events.shapes import data_of


@dataclass(frozen=True)
class StreamRead:
    stream_id: str
    from_version: int
    to_version: int | None
    served: int
    """How many events the read returned."""


@dataclass
class FakeLog:
    clock: Callable[[], datetime] = field(
        default=lambda: datetime(2026, 1, 1, tzinfo=UTC)
    )
    events: list[RecordedEvent] = field(default_factory=list)
    snapshots: dict[str, list[Snapshot]] = field(default_factory=dict)
    claims: dict[tuple[str, str], str] = field(default_factory=dict)
    idempotency: dict[str, IdempotentReplay] = field(default_factory=dict)
    """Key -> its first use (result, position, fingerprint)."""
    shredded: set[str] = field(default_factory=set)
    reads: list[StreamRead] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    before_commit: list[Callable[[FakeLog], None]] = field(default_factory=list)
    """One-shot hooks run at the start of the next commits: lets a test slip in a rival write."""

    # --- the EventLog port ------------------------------------------------------

    async def commit(self, commit: Commit) -> CommitResult:
        await asyncio.sleep(0)  # let concurrent commands interleave, as a real store would
        if self.before_commit:
            self.before_commit.pop(0)(self)
        # Check everything before changing anything: all of it or none of it.
        if commit.idempotency_key in self.idempotency:
            first = self.idempotency[commit.idempotency_key]
            if first.fingerprint != commit.fingerprint:
                raise IdempotencyKeyReused(commit.idempotency_key)
            raise IdempotentReplay(first.result, first.position, first.fingerprint)
        for append in commit.appends:
            self._check_version(append)
        for claim in commit.claims:
            owner = self.claims.get((claim.scope, claim.value))
            if owner is not None and owner != claim.owner:
                raise ClaimTaken(claim.scope, claim.value)
        recorded = [
            self._record(append, event, commit.metadata)
            for append in commit.appends
            for event in append.events
        ]
        for append in commit.appends:
            if append.snapshot is not None:
                self.snapshots.setdefault(append.stream_id, []).append(append.snapshot)
        for claim in commit.claims:
            self.claims[(claim.scope, claim.value)] = claim.owner
        for claim in commit.releases:
            if self.claims.get((claim.scope, claim.value)) == claim.owner:
                del self.claims[(claim.scope, claim.value)]
        self.shredded.update(commit.shred)
        done = CommitResult(
            recorded, {a.stream_id: self._version(a.stream_id) for a in commit.appends}
        )
        if commit.idempotency_key is not None:
            self.idempotency[commit.idempotency_key] = IdempotentReplay(
                dict(commit.result), done.position, commit.fingerprint
            )
        self.commits.append(commit)
        return done

    async def read_stream(
        self, stream_id: str, *, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        found = [
            self._readable(e) for e in self.events
            if e.stream_id == stream_id and e.version >= from_version
            and (to_version is None or e.version <= to_version)
        ]
        self.reads.append(StreamRead(stream_id, from_version, to_version, len(found)))
        return found

    async def latest_snapshot(
        self, stream_id: str, *, max_version: int | None = None
    ) -> Snapshot | None:
        fitting = [
            s for s in self.snapshots.get(stream_id, [])
            if max_version is None or s.version <= max_version
        ]
        return max(fitting, key=lambda s: s.version, default=None)

    async def load_stream(
        self, stream_id: str, *, max_version: int | None = None
    ) -> tuple[Snapshot | None, list[RecordedEvent]]:
        snapshot = await self.latest_snapshot(stream_id, max_version=max_version)
        start = snapshot.version if snapshot is not None else 1
        return snapshot, await self.read_stream(
            stream_id, from_version=start, to_version=max_version
        )

    async def version_at(self, stream_id: str, at: datetime) -> int:
        return max(
            (e.version for e in self.events if e.stream_id == stream_id and e.recorded_at <= at),
            default=0,
        )

    async def claim_owner(self, scope: str, value: str) -> str | None:
        return self.claims.get((scope, value))

    async def idempotent_result(self, key: str) -> IdempotentReplay | None:
        return self.idempotency.get(key)

    # --- for tests: given / then ---------------------------------------------------

    def given(self, stream_id: str, *events: DomainEvent, actor_id: str | None = None) -> None:
        """History that happened before the test's command."""
        stream_type = spec_of(type(events[0]).__name__).stream_type
        append = StreamAppend(stream_id, stream_type, ANY, events)
        for event in events:
            self._record(append, event, Metadata(actor_id=actor_id))

    def given_claim(self, claim: Claim) -> None:
        self.claims[(claim.scope, claim.value)] = claim.owner

    @property
    def head(self) -> int:
        return self.events[-1].position if self.events else 0

    def recorded_after(self, position: int) -> list[DomainEvent]:
        """What was appended after ``position``, as domain events (read as a reader would)."""
        return [self._readable(e).to_domain() for e in self.events if e.position > position]

    def stream(self, stream_id: str) -> list[RecordedEvent]:
        return [self._readable(e) for e in self.events if e.stream_id == stream_id]

    # --- internals -----------------------------------------------------------------

    def _version(self, stream_id: str) -> int:
        return sum(1 for e in self.events if e.stream_id == stream_id)

    def _check_version(self, append: StreamAppend) -> None:
        actual = self._version(append.stream_id)
        expected = append.expected_version
        ok = (
            expected == ANY
            or (expected == NO_STREAM and actual == 0)
            or (isinstance(expected, int) and expected == actual)
        )
        if not ok:
            raise ConcurrencyError(append.stream_id, expected, actual)

    def _record(
        self, append: StreamAppend, event: DomainEvent, metadata: Metadata
    ) -> RecordedEvent:
        """Store one event as the next version of its stream at the next position."""
        spec = spec_of(type(event).__name__)
        recorded = RecordedEvent(
            event_id=uuid.uuid4(),
            position=self.head + 1,
            stream_id=append.stream_id,
            stream_type=append.stream_type,
            version=self._version(append.stream_id) + 1,
            type=spec.name,
            schema_version=spec.schema_version,
            data=data_of(event),
            recorded_at=self.clock(),
            actor_id=metadata.actor_id,
            correlation_id=metadata.correlation_id,
            causation_id=metadata.causation_id,
        )
        self.events.append(recorded)
        return recorded

    def _readable(self, recorded: RecordedEvent) -> RecordedEvent:
        """As the store serves it: personal fields of a shredded subject are gone."""
        spec = spec_of(recorded.type)
        if not spec.subject or recorded.data.get(spec.subject) not in self.shredded:
            return recorded
        data = {k: (None if k in spec.personal else v) for k, v in recorded.data.items()}
        return dataclasses.replace(recorded, data=data)


class TickingClock:
    """A clock the test moves by hand (throttle windows, time travel)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
