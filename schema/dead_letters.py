"""Parked events as admins see them: ``Query.deadLetters`` and ``Mutation.retryDeadLetters``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from schema.scalars import Position


@strawberry.type(
    description="An event a projection could not apply, parked (dead-letter storage) so the "
    "read side carries on without it; retryable with `retryDeadLetters`."
)
class DeadLetter:
    projection: str
    generation: int = strawberry.field(
        description="The generation of the projection's tables it was parked in (a rebuild "
        "parks in its own)."
    )
    position: Position
    event_id: strawberry.ID
    stream_id: strawberry.ID
    event_type: str
    error_class: str = strawberry.field(
        description='The failure\'s kind; "HeldBack" for an event parked behind an earlier '
        "parked event of the same stream or post, which it may depend on."
    )
    error_message: str
    held_by: Position | None = strawberry.field(
        description="For a held-back event, the position of the parked event it waits behind."
    )
    first_failed_at: datetime
    last_failed_at: datetime
    attempts: int

    @classmethod
    def from_letter(cls, d: Any) -> DeadLetter:
        return cls(
            projection=d.projection, generation=d.generation, position=Position(d.position),
            event_id=strawberry.ID(d.event_id), stream_id=strawberry.ID(d.stream_id),
            event_type=d.event_type, error_class=d.error_class, error_message=d.error_message,
            held_by=None if d.held_by is None else Position(d.held_by),
            first_failed_at=d.first_failed_at, last_failed_at=d.last_failed_at,
            attempts=d.attempts,
        )


@strawberry.type
class RetryDeadLettersPayload:
    applied: list[Position] = strawberry.field(
        description="Positions re-applied, in log order, and no longer parked."
    )
    parked: list[DeadLetter] = strawberry.field(
        description="What the projection still has parked after the retry (attempts + 1 for "
        "those retried)."
    )

    @classmethod
    def from_outcome(cls, outcome: Any) -> RetryDeadLettersPayload:
        return cls(
            applied=[Position(p) for p in outcome.applied],
            parked=[DeadLetter.from_letter(d) for d in outcome.parked],
        )
