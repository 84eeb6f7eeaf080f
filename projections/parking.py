"""Which failures park an event and which are retried, and which events wait behind a parked one.

A *transient* failure says nothing about the events: the connection was
lost, a lock or statement timed out, the database is shutting down or chose
this transaction as a deadlock victim. The batch is rolled back and applied
again with backoff; parking its events would lose them for nothing.

Anything else that fails while applying a batch is taken as *deterministic*:
applying the same events again would fail the same way (text PostgreSQL
cannot hold, a constraint the data breaks, a projector raising on the event).
The batch is then applied again one event per transaction to find the
culprit, which is parked (``projections.dead_letters``) while the others are
applied; every transaction moves the checkpoint with its rows, so the
guarantee of ``projections.batches`` holds throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import exc as sa_exc

from events.model import RecordedEvent
from projections.dead_letters import Parking
from projections.projection import Projection

TRANSIENT_SQLSTATE_CLASSES = frozenset({
    "08",  # connection exception
    "40",  # transaction rollback: serialization failure, deadlock
    "53",  # insufficient resources
    "57",  # operator intervention: query canceled (statement timeout), shutting down
    "58",  # system error (I/O)
})
TRANSIENT_SQLSTATES = frozenset({"55P03"})  # lock_not_available (lock timeout)


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a driver error, if any."""
    orig = getattr(error, "orig", None)
    for source in (orig, getattr(orig, "__cause__", None)):
        code = getattr(source, "pgcode", None) or getattr(source, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def is_transient(error: BaseException) -> bool:
    """True when retrying the same batch later may well succeed (see the module docstring)."""
    if isinstance(error, OSError | TimeoutError | sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        code = sqlstate(error)
        if code is not None:
            return code[:2] in TRANSIENT_SQLSTATE_CLASSES or code in TRANSIENT_SQLSTATES
        # SQLite reports a busy database, I/O trouble and a closed connection this way.
        return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
    return False


@dataclass
class Split:
    """A batch's events: those to apply, and those held back behind a parked event."""

    apply: list[RecordedEvent] = field(default_factory=list)
    held: list[Parking] = field(default_factory=list)
    blocked: dict[str, int] = field(default_factory=dict)
    """The blocked sequences once the held ones are parked."""


def split(
    projection: Projection, events: Sequence[RecordedEvent], blocked: dict[str, int]
) -> Split:
    """Hold back every event sharing a sequence with a parked one, in log order."""
    if not blocked:
        return Split(list(events), [], blocked)
    out = Split(blocked=dict(blocked))
    for event in events:
        hold = hold_back(projection, event, out.blocked)
        if hold is None:
            out.apply.append(event)
        else:
            out.held.append(hold)
    return out


def hold_back(
    projection: Projection, event: RecordedEvent, blocked: dict[str, int]
) -> Parking | None:
    """The parking of ``event`` if a sequence of it is blocked (``blocked`` then grows)."""
    sequences = projection.sequences(event)
    behind = [blocked[s] for s in sequences if s in blocked]
    if not behind:
        return None
    first = min(behind)
    for s in sequences:
        blocked.setdefault(s, first)
    return Parking(event, sequences, held_by=first)


def block(projection: Projection, event: RecordedEvent, blocked: dict[str, int],
          error: BaseException) -> Parking:
    """The parking of ``event`` that failed itself; its sequences are blocked from now on."""
    sequences = projection.sequences(event)
    for s in sequences:
        blocked.setdefault(s, event.position)
    return Parking(event, sequences, error=error)
