"""Dead-letter storage: the events a projection could not apply, parked with their error.

An event that fails deterministically (its data cannot be stored, a projector
raises on it) is parked here and the projection carries on past it, as
Marten's dead-letter storage does by default: one bad event must never stop
the read side. Like Axon's sequenced dead-letter queue, the *later* events of
the same sequence (the stream, and the rows the projection keys them by, see
:meth:`projections.projection.Projection.sequences`) are parked behind it
("held back") instead of applied: applied without it they could be wrong
(an edit of a post that was never created), and held back they can be
re-applied in order once the cause is fixed, which is exactly what applying
them in the first place would have done.

Rows are per generation: a rebuild parks what it cannot apply in its own
generation, and a generation's dead letters go when its tables do. Only the
process applying the projection writes here (it parks, it retries), so its
in-memory view of what is blocked is always the table's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from events.model import RecordedEvent
from events.tables import POSITION, UtcDateTime

_metadata = MetaData()

projection_dead_letters = Table(
    "projection_dead_letters", _metadata,
    Column("projection", String, primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("position", POSITION, primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("stream_id", String, nullable=False),
    Column("event_type", String, nullable=False),
    Column("error_class", String, nullable=False),
    Column("error_message", Text, nullable=False),
    # the position of the parked event this one waits behind (NULL: it failed itself)
    Column("held_by", POSITION),
    # JSON list of the sequences it belongs to: what it blocks while parked
    Column("sequences", Text, nullable=False),
    Column("first_failed_at", UtcDateTime, nullable=False),
    Column("last_failed_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("retry_requested", Boolean, nullable=False),
)

HELD_BACK = "HeldBack"
"""``error_class`` of an event parked behind an earlier parked event of its sequence."""
MAX_MESSAGE = 2000


@dataclass(frozen=True)
class DeadLetter:
    projection: str
    generation: int
    position: int
    event_id: str
    stream_id: str
    event_type: str
    error_class: str
    error_message: str
    held_by: int | None
    sequences: tuple[str, ...]
    first_failed_at: datetime
    last_failed_at: datetime
    attempts: int
    retry_requested: bool


@dataclass(frozen=True)
class Parking:
    """One event to park: its own failure, or held back behind ``held_by``."""

    event: RecordedEvent
    sequences: frozenset[str]
    error: BaseException | None = None
    held_by: int | None = None


def describe(error: BaseException | None, held_by: int | None) -> tuple[str, str]:
    if error is None:
        return HELD_BACK, f"waits behind the parked event at position {held_by} of its sequence"
    message = str(getattr(error, "orig", None) or error) or type(error).__name__
    return type(error).__name__, message[:MAX_MESSAGE]


def _now() -> datetime:
    return datetime.now(UTC)


async def park(
    conn: AsyncConnection, projection: str, generation: int, parked: Iterable[Parking]
) -> None:
    """Record parked events in the caller's transaction (the one moving the checkpoint)."""
    now = _now()
    rows = []
    for p in parked:
        error_class, message = describe(p.error, p.held_by)
        rows.append({
            "projection": projection, "generation": generation, "position": p.event.position,
            "event_id": str(p.event.event_id), "stream_id": p.event.stream_id,
            "event_type": p.event.type, "error_class": error_class, "error_message": message,
            "held_by": p.held_by, "sequences": orjson.dumps(sorted(p.sequences)).decode(),
            "first_failed_at": now, "last_failed_at": now, "attempts": 1,
            "retry_requested": False,
        })
    if rows:
        await conn.execute(projection_dead_letters.insert(), rows)


def _where(projection: str, generation: int | None = None) -> list[ColumnElement[bool]]:
    t = projection_dead_letters
    where: list[ColumnElement[bool]] = [t.c.projection == projection]
    if generation is not None:
        where.append(t.c.generation == generation)
    return where


async def parked(
    conn: AsyncConnection, projection: str, generation: int | None = None
) -> list[DeadLetter]:
    """The dead letters of ``projection`` (of one generation, if given), in log order."""
    t = projection_dead_letters
    rows = await conn.execute(
        select(t).where(*_where(projection, generation)).order_by(t.c.generation, t.c.position)
    )
    return [_letter(r._mapping) for r in rows]


def _letter(m: object) -> DeadLetter:
    row = dict(m)  # type: ignore[call-overload]
    return DeadLetter(**{
        **row, "sequences": tuple(orjson.loads(row["sequences"])),
        "retry_requested": bool(row["retry_requested"]),
    })


async def blocked(conn: AsyncConnection, projection: str, generation: int) -> dict[str, int]:
    """Per blocked sequence, the position of its first parked event (what later ones wait on)."""
    found: dict[str, int] = {}
    for letter in await parked(conn, projection, generation):
        for sequence in letter.sequences:
            found.setdefault(sequence, letter.held_by or letter.position)
    return found


@dataclass(frozen=True)
class Summary:
    parked: int
    last_error: str | None


async def summary(conn: AsyncConnection, projection: str, generation: int) -> Summary:
    """How many events are parked, and the latest error of one that failed itself."""
    t = projection_dead_letters
    where = _where(projection, generation)
    count = int(await conn.scalar(select(func.count()).select_from(t).where(*where)) or 0)
    if not count:
        return Summary(0, None)
    latest = (await conn.execute(
        select(t.c.position, t.c.error_class, t.c.error_message)
        .where(*where, t.c.held_by.is_(None))
        .order_by(t.c.last_failed_at.desc(), t.c.position.desc()).limit(1)
    )).first()
    error = None
    if latest is not None:
        error = f"position {latest.position}: {latest.error_class}: {latest.error_message}"
    return Summary(count, error)


async def request_retry(
    conn: AsyncConnection, projection: str, generation: int, position: int | None
) -> list[int]:
    """Mark parked events for retry: all, or the one at ``position`` and those held behind
    it. Returns the positions marked (empty: nothing parked there)."""
    t = projection_dead_letters
    letters = await parked(conn, projection, generation)
    chosen = [d for d in letters if position is None or d.position >= position]
    if position is not None:
        first = next((d for d in chosen if d.position == position), None)
        if first is None:
            return []
        sequences, picked = set(first.sequences), []
        for letter in chosen:
            if letter.position == position or sequences & set(letter.sequences):
                sequences |= set(letter.sequences)
                picked.append(letter)
        chosen = picked
    marked = [d.position for d in chosen]
    for part in range(0, len(marked), 500):
        await conn.execute(
            t.update()
            .where(*_where(projection, generation), t.c.position.in_(marked[part:part + 500]))
            .values(retry_requested=True)
        )
    return marked


async def retried(conn: AsyncConnection, letter: DeadLetter) -> None:
    """Applied at last: no longer parked."""
    t = projection_dead_letters
    await conn.execute(t.delete().where(
        *_where(letter.projection, letter.generation), t.c.position == letter.position
    ))


async def failed_again(
    conn: AsyncConnection, letter: DeadLetter, error: BaseException | None, held_by: int | None
) -> None:
    """A retry that did not apply it: still parked, one attempt more, the latest error."""
    t = projection_dead_letters
    error_class, message = describe(error, held_by)
    await conn.execute(
        t.update()
        .where(*_where(letter.projection, letter.generation), t.c.position == letter.position)
        .values(
            error_class=error_class, error_message=message, held_by=held_by,
            attempts=t.c.attempts + 1, last_failed_at=_now(), retry_requested=False,
        )
    )


async def forget(conn: AsyncConnection, projection: str, generation: int) -> None:
    """The dead letters of a generation whose tables are dropped."""
    await conn.execute(
        projection_dead_letters.delete().where(*_where(projection, generation))
    )
