"""Deciding a group commit in memory: which commits pass their checks, in order.

The writer reads the state the checks need (stream versions, claim owners,
idempotency keys, subject keys, the head) once per group, under the write
lock; :class:`Group` then accepts or refuses each commit in arrival order,
updating that state as it goes, so two commits on one stream in the same
group are checked one after the other. A refused commit changes nothing:
checks run on scratch copies that are merged only on success.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events import ids
from events.crypto import new_key
from events.model import (
    ANY,
    NO_STREAM,
    ClaimTaken,
    Commit,
    CommitResult,
    ConcurrencyError,
    ExpectedVersion,
    IdempotentReplay,
    RecordedEvent,
)
from events.rows import stored_data
from events.serialization import dumps

ClaimKey = tuple[str, str]
_new = object.__new__


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

        Raises IdempotentReplay, ConcurrencyError or ClaimTaken, leaving the group as it was.
        """
        if commit.idempotency_key and commit.idempotency_key in self.replays:
            first = self.replays[commit.idempotency_key]
            raise IdempotentReplay(first.result, first.position)
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
        stored_at, recorded_at, unix_ms = self.stored_at, self.recorded_at, self._unix_ms
        rows, types, key_for = self.event_rows, self.types, self._key_for
        recorded: list[RecordedEvent] = []
        head = self.head
        for append in commit.appends:
            stream_id, stream_type = append.stream_id, append.stream_type
            version = versions[stream_id]
            event_ids = ids.event_ids(unix_ms, len(append.events))
            for domain_event, event_id in zip(append.events, event_ids, strict=True):
                version += 1
                head += 1
                text, subject, plain = stored_data(domain_event, key_for)
                spec = domain_event.spec
                # in the order of rows.EVENT_COLUMNS
                rows.append((
                    head, str(event_id), stream_id, stream_type, version, spec.name,
                    spec.schema_version, text, subject, actor_id, correlation_id,
                    causation_id, stored_at,
                ))
                event = _new(RecordedEvent)  # see rows.recorded_event
                event.__dict__.update({
                    "event_id": event_id, "position": head, "stream_id": stream_id,
                    "stream_type": stream_type, "version": version, "type": spec.name,
                    "schema_version": spec.schema_version, "data": plain,
                    "recorded_at": recorded_at, "actor_id": actor_id,
                    "correlation_id": correlation_id, "causation_id": causation_id,
                })
                recorded.append(event)
                types[spec.name] = None
            if append.events:
                self.streams[stream_id] = None
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
            replay = IdempotentReplay(commit.result, self.head)
            self.replays[commit.idempotency_key] = replay
            self.idempotency_rows.append((
                commit.idempotency_key, dumps(commit.result), self.head, self.stored_at,
            ))
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

