"""The contract's scalars: Position, DateTime and JSON.

Annotate fields with ``Position`` and plain ``datetime``; :data:`SCALAR_MAP`
(``StrawberryConfig.scalar_map`` in ``schema.build_schema``) maps both to the
contract's scalars. ``DateTime`` replaces strawberry's own so every instant
leaves as ISO 8601 in UTC with an explicit offset, whatever the backend handed
back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from strawberry.scalars import JSON

__all__ = ["JSON", "SCALAR_MAP", "Position"]

MAX_POSITION = 2**64 - 1


def serialize_position(value: int) -> str:
    return str(int(value))


def parse_position(value: Any) -> int:
    """Digits only (an int is accepted too): no sign, no blanks, within 64 bits."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise ValueError("Position must be a string of digits")
    position = int(text)
    if position > MAX_POSITION:
        raise ValueError("Position must fit in 64 bits")
    return position


Position = NewType("Position", int)

_POSITION = strawberry.scalar(
    name="Position",
    description=(
        "Global position in the event log: an unsigned 64-bit integer, "
        "serialized as a string of digits."
    ),
    serialize=serialize_position,
    parse_value=parse_position,
)


def serialize_datetime(value: datetime) -> str:
    # Stored instants are UTC; SQLite forgets the offset, so a naive value is UTC.
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat()


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 with an offset; a value without one is ambiguous and refused."""
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("DateTime must be ISO 8601, e.g. 2026-01-31T12:00:00+00:00") from None
    if parsed.tzinfo is None:
        raise ValueError("DateTime needs an offset, e.g. +00:00")
    return parsed.astimezone(UTC)


_DATETIME = strawberry.scalar(
    name="DateTime",
    description="ISO 8601 date-time with offset, UTC.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

SCALAR_MAP: dict[object, Any] = {Position: _POSITION, datetime: _DATETIME}
