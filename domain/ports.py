"""What handlers need from the outside world, as protocols.

``events.contract.EventStore`` satisfies :class:`EventLog`; tests may pass an
in-memory fake. Handlers never see SQL, GraphQL or a framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from uuid import uuid4

from events.model import Commit, CommitResult, IdempotentReplay, RecordedEvent, Snapshot


class EventLog(Protocol):
    async def commit(self, commit: Commit) -> CommitResult: ...

    async def read_stream(
        self, stream_id: str, *, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]: ...

    async def latest_snapshot(
        self, stream_id: str, *, max_version: int | None = None
    ) -> Snapshot | None: ...

    async def load_stream(
        self, stream_id: str, *, max_version: int | None = None
    ) -> tuple[Snapshot | None, list[RecordedEvent]]:
        """The newest snapshot at or below ``max_version`` and the events from its version
        (from 1 without one) up to ``max_version``: what loading an aggregate reads."""
        ...

    async def version_at(self, stream_id: str, at: datetime) -> int: ...

    async def claim_owner(self, scope: str, value: str) -> str | None: ...

    async def idempotent_result(self, key: str) -> IdempotentReplay | None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


@dataclass(frozen=True)
class Actor:
    """The authenticated caller of a command."""

    user_id: str
    role: str = "MEMBER"

    @property
    def is_admin(self) -> bool:
        return self.role == "ADMIN"


@dataclass(frozen=True)
class Context:
    """Everything a handler may use, built once per command by the caller."""

    log: EventLog
    hasher: PasswordHasher
    actor: Actor | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """Returns an aware UTC datetime; injectable for tests."""
    new_id: Callable[[], str] = field(default=lambda: str(uuid4()))
    correlation_id: str | None = None
    snapshot_every: int = 100
    max_retries: int = 5
    """Conflicts on commands without ``expectedVersion`` are retried this often."""
    login_max_failures: int = 5
    login_window_seconds: int = 900


@dataclass(frozen=True)
class Outcome:
    """What a handler returns: its result (ids) and the position of its last event."""

    result: dict[str, str]
    position: int
    versions: dict[str, int] = field(default_factory=dict)
