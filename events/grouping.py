"""Deciding a group commit in memory: which commits pass their checks, in order.

The writer reads the state the checks need (stream versions, claim owners,
idempotency keys, subject keys, the head) once per group, under the write
lock; :class:`Group` then accepts or refuses each commit in arrival order,
updating that state as it goes, so two commits on one stream in the same
group are checked one after the other. A refused commit changes nothing:
checks run on scratch copies that are merged only on success.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, overload

from events import ids
from events.catalog import DomainEvent
from events.crypto import new_key
from events.idempotency import stored
from events.model import (
    ANY,
    NO_STREAM,
    ClaimTaken,
    Commit,
    CommitResult,
    ConcurrencyError,
    ExpectedVersion,
    IdempotencyKeyReused,
    IdempotentReplay,
    RecordedEvent,
)
from events.rows import plain_data, recorded_event, stored_text
from events.serialization import dumps

ClaimKey = tuple[str, str]


class CommittedEvents(Sequence[RecordedEvent]):
    """A commit's events as RecordedEvents, each made from its row when asked for.

    The writer's callers want the commit's position and versions (a command
    reads nothing else of its result); building a RecordedEvent, its plain
    data dict and its UUID for every appended event was a large share of the
    writer's Python per event, and garbage for the collector to trace. The
    rows and domain events are the group's own, kept while the result is.
    """

    __slots__ = ("_recorded_at", "_rows", "_sources", "_start", "_stop")

    def __init__(
        self,
        rows: list[tuple[Any, ...]],
        sources: list[DomainEvent],
        start: int,
        stop: int,
        recorded_at: datetime,
    ) -> None:
        self._rows, self._sources = rows, sources
        self._start, self._stop, self._recorded_at = start, stop, recorded_at

    def __len__(self) -> int:
        return self._stop - self._start

    @overload
    def __getitem__(self, index: int) -> RecordedEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordedEvent]: ...

    def __getitem__(self, index: int | slice) -> RecordedEvent | list[RecordedEvent]:
        if isinstance(index, slice):
            return [self._event(i) for i in range(*index.indices(len(self)))]
        at = index + len(self) if index < 0 else index
        if not 0 <= at < len(self):
            raise IndexError(index)
        return self._event(at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))

    def _event(self, at: int) -> RecordedEvent:
        (position, event_id, stream_id, stream_type, version, type_, schema_version, _, _,
         actor_id, correlation_id, causation_id, _) = self._rows[self._start + at]
        return recorded_event(
            event_id=ids.parse_uuid(event_id), position=position, stream_id=stream_id,
            stream_type=stream_type, version=version, type=type_,
            schema_version=schema_version,
            data=plain_data(self._sources[self._start + at]),
            recorded_at=self._recorded_at, actor_id=actor_id,
            correlation_id=correlation_id, causation_id=causation_id,
        )


def matches(expected: ExpectedVersion, actual: int) -> bool:
    if expected == ANY:
        return True
    if expected == NO_STREAM:
        return actual == 0
    return expected == actual


@dataclass
class Group:
    """One group's view of the log, and everything it will write."""

    head: int
    recorded_at: datetime
    stored_at: Any
    """``recorded_at`` as the driver takes it (ISO text on SQLite)."""
    versions: dict[str, int]
    owners: dict[ClaimKey, str]
    replays: dict[str, IdempotentReplay]
    keys: dict[str, bytes | None]
    """Subject keys known to exist; a subject absent here gets a new key on first use."""

    stored_owners: dict[ClaimKey, str] = field(init=False)
    """The owners as read from the database, to write only what changed."""
    event_rows: list[tuple[Any, ...]] = field(default_factory=list)
    snapshot_rows: list[tuple[Any, ...]] = field(default_factory=list)
    idempotency_rows: list[tuple[Any, ...]] = field(default_factory=list)
    event_sources: list[DomainEvent] = field(default_factory=list)
    """The domain event of each of ``event_rows``, for :class:`CommittedEvents`."""
    new_keys: dict[str, bytes] = field(default_factory=dict)
    shredded: set[str] = field(default_factory=set)
    # insertion-ordered sets, for the bus notice
    streams: dict[str, None] = field(default_factory=dict)
    types: dict[str, None] = field(default_factory=dict)
    first_position: int = 0

    def __post_init__(self) -> None:
        self.stored_owners = dict(self.owners)
        self._unix_ms = int(self.recorded_at.timestamp() * 1000)

    def accept(self, commit: Commit) -> CommitResult:
        """Check ``commit`` against the group so far; on success, add it to the group.

        Raises IdempotentReplay, IdempotencyKeyReused, ConcurrencyError or ClaimTaken,
        leaving the group as it was. A key's first use may be earlier in this very
        group: it is in ``replays`` from the moment it is accepted.
        """
        if commit.idempotency_key and commit.idempotency_key in self.replays:
            first = self.replays[commit.idempotency_key]
            if first.fingerprint != commit.fingerprint:
                raise IdempotencyKeyReused(commit.idempotency_key)
            raise IdempotentReplay(first.result, first.position, first.fingerprint)
        before = {a.stream_id: self.versions.get(a.stream_id, 0) for a in commit.appends}
        versions = self._check_versions(commit)
        owners = self._check_claims(commit)
        self.versions.update(versions)
        for claim_key, owner in owners.items():
            if owner is None:
                self.owners.pop(claim_key, None)
            else:
                self.owners[claim_key] = owner
        return self._append(commit, before)

    def _check_versions(self, commit: Commit) -> dict[str, int]:
        after: dict[str, int] = {}
        for append in commit.appends:
            sid = append.stream_id
            actual = after.get(sid, self.versions.get(sid, 0))
            if not matches(append.expected_version, actual):
                raise ConcurrencyError(sid, append.expected_version, actual)
            after[sid] = actual + len(append.events)
        return after

    def _check_claims(self, commit: Commit) -> dict[ClaimKey, str | None]:
        changes: dict[ClaimKey, str | None] = {}
        for release in commit.releases:
            key = (release.scope, release.value)
            if self.owners.get(key) == release.owner:
                changes[key] = None
        for claim in commit.claims:
            key = (claim.scope, claim.value)
            owner = changes[key] if key in changes else self.owners.get(key)
            if owner is not None and owner != claim.owner:
                raise ClaimTaken(claim.scope, claim.value)
            changes[key] = claim.owner
        return changes

    def _append(self, commit: Commit, versions: dict[str, int]) -> CommitResult:
        """Rows for an accepted commit; ``versions`` holds its streams' versions before it."""
        meta = commit.metadata
        actor_id, correlation_id, causation_id = (
            meta.actor_id, meta.correlation_id, meta.causation_id
        )
        stored_at, unix_ms = self.stored_at, self._unix_ms
        rows, types, key_for = self.event_rows, self.types, self._key_for
        first_row = len(rows)
        head = self.head
        for append in commit.appends:
            stream_id, stream_type, appended = append.stream_id, append.stream_type, append.events
            version = versions[stream_id]
            event_ids = ids.event_id_texts(unix_ms, len(appended))
            for domain_event, event_id in zip(appended, event_ids, strict=True):
                version += 1
                head += 1
                spec = domain_event.spec
                text, subject = stored_text(domain_event, key_for)
                # in the order of rows.EVENT_COLUMNS
                rows.append((
                    head, event_id, stream_id, stream_type, version, spec.name,
                    spec.schema_version, text, subject, actor_id, correlation_id,
                    causation_id, stored_at,
                ))
                types[spec.name] = None
            if appended:
                self.streams[stream_id] = None
                self.event_sources.extend(appended)
            versions[stream_id] = version
            if append.snapshot is not None:
                snap = append.snapshot
                self.snapshot_rows.append((
                    snap.stream_id, snap.version, snap.schema_version, dumps(snap.state),
                    stored_at,
                ))
        if head > self.head and not self.first_position:
            self.first_position = self.head + 1
        self.head = head
        for subject in commit.shred:
            self.keys[subject] = None
            self.new_keys.pop(subject, None)
            self.shredded.add(subject)
        if commit.idempotency_key:
            replay = IdempotentReplay(commit.result, self.head, commit.fingerprint)
            self.replays[commit.idempotency_key] = replay
            self.idempotency_rows.append((
                commit.idempotency_key, stored(commit.result, commit.fingerprint), self.head,
                self.stored_at,
            ))
        recorded = CommittedEvents(
            rows, self.event_sources, first_row, len(rows), self.recorded_at
        )
        return CommitResult(events=recorded, versions=versions)

    def _key_for(self, subject: str) -> bytes:
        key = self.keys.get(subject)
        if key is None:
            key = new_key()
            self.keys[subject] = key
            self.new_keys[subject] = key
        return key

    def claim_changes(self) -> tuple[list[ClaimKey], list[tuple[str, str, str]]]:
        """(claims to delete, claims to insert) to turn the stored owners into the group's."""
        deleted: list[ClaimKey] = []
        inserted: list[tuple[str, str, str]] = []
        for key in self.stored_owners.keys() | self.owners.keys():
            before, after = self.stored_owners.get(key), self.owners.get(key)
            if before == after:
                continue
            if before is not None:
                deleted.append(key)
            if after is not None:
                inserted.append((key[0], key[1], after))
        return deleted, inserted

