"""What the runner needs from a read model: its tables and how a batch of events lands in them.

A projection folds a whole batch in memory (load the touched rows once, apply
the small per-event functions, write back with a handful of ``executemany``
statements: ``projections.rows``) because one statement per event would cap a
rebuild far below the 20 000 events/s the product needs. The runner opens the
transaction and moves the checkpoint in it; ``apply`` only ever writes rows,
and only through ``projections.writes.Writes``, which notes every table it writes
(``recording_writes``): the runner's notices name them, and the response cache
evicts by them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.model import RecordedEvent

Change = dict[str, Any]
"""One entry of a PROJECTIONS_CHANNEL notice: ``{"kind", "id", "change", ...}``."""


class Projection(abc.ABC):
    name: str
    schema_version: int
    """Bump when the tables' shape or the folding rules change: the runner rebuilds on start."""
    types: tuple[str, ...]
    """Event types this projection reads; the others only move its checkpoint."""
    sequence_fields: ClassVar[Mapping[str, str]] = {}
    """Event data fields naming the rows an event changes, and the kind of row each names
    (``{"post_id": "post"}``): with the stream, what :meth:`sequences` is made of."""

    def sequences(self, event: RecordedEvent) -> frozenset[str]:
        """The sequences ``event`` belongs to: while an event of one of them is parked, the
        later ones wait behind it (``projections.dead_letters``), so none is applied out of
        order. Its stream, and the rows it changes that other streams change too."""
        found = {f"stream:{event.stream_id}"}
        for name, kind in self.sequence_fields.items():
            value = event.data.get(name)
            if value is not None:
                found.add(f"{kind}:{value}")
        return frozenset(found)

    @abc.abstractmethod
    def tables(
        self, metadata: MetaData, suffix: str, schema_version: int | None = None
    ) -> dict[str, Table]:
        """The tables of one generation, registered on ``metadata``, in the shape of the
        ``schema_version`` it was recorded with (None: this code's, ``self.schema_version``).

        A generation built by older code is still served and applied while its
        rebuild into the new shape fills: the tables must describe it as it is."""

    @abc.abstractmethod
    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        """Fold ``events`` into the rows, inside the caller's transaction; return feed changes."""


B = TypeVar("B")


def fold(
    batch: B,
    handlers: Mapping[str, Callable[[B, RecordedEvent], None]],
    events: Sequence[RecordedEvent],
) -> None:
    """Apply each event to the batch with its type's handler; types a projection ignores pass."""
    for event in events:
        handler = handlers.get(event.type)
        if handler is not None:
            handler(batch, event)
