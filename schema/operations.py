"""What operators see of the read side: each projection's state, position and lag."""

from __future__ import annotations

from enum import Enum
from typing import Protocol

import strawberry

from schema.scalars import Position


@strawberry.enum
class ProjectionState(Enum):
    CATCHING_UP = "CATCHING_UP"
    LIVE = "LIVE"
    REBUILDING = "REBUILDING"
    FAILED = "FAILED"


class ProjectionInfo(Protocol):
    """What the projection runner reports about one projection."""

    name: str
    state: str
    position: int
    lag: int
    last_error: str | None
    parked: int
    last_parked_error: str | None


@strawberry.type
class ProjectionStatus:
    name: str
    state: ProjectionState
    position: Position = strawberry.field(
        description="Last global position this projection has applied."
    )
    lag: int = strawberry.field(description="Events between `position` and the head of the log.")
    last_error: str | None
    parked_events: int = strawberry.field(
        default=0,
        description="Events this projection could not apply, parked (see `deadLetters`): "
        "the projection carries on without them.",
    )
    last_parked_error: str | None = strawberry.field(
        default=None, description="The latest error that parked an event."
    )

    @classmethod
    def from_status(cls, status: ProjectionInfo) -> ProjectionStatus:
        return cls(
            name=status.name,
            state=ProjectionState(status.state),
            position=Position(status.position),
            lag=status.lag,
            last_error=status.last_error,
            parked_events=status.parked,
            last_parked_error=status.last_parked_error,
        )
