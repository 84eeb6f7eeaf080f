"""What a mutation hands back to the schema layer: ids and the position to read at."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Written:
    """The aggregate a command wrote to, and the global position of its last event.

    The read model has already reached ``position`` when a mutation returns one.
    """

    id: str
    position: int


@dataclass(frozen=True)
class SignedIn:
    """A bearer token for ``user_id``, after registering or logging in."""

    token: str
    user_id: str
    position: int
