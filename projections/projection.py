"""What the runner needs from a read model: its tables and how a batch of events lands in them.

A projection folds a whole batch in memory (load the touched rows once, apply
the small per-event functions, write back with a handful of ``executemany``
statements) because one statement per event would cap a rebuild far below
the 20 000 events/s the product needs. The runner opens the transaction and
moves the checkpoint in it; ``apply`` only ever writes rows.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from events.model import RecordedEvent

Row = dict[str, Any]
Change = dict[str, Any]
"""One entry of a PROJECTIONS_CHANNEL notice: ``{"kind", "id", "change", ...}``."""

IN_CHUNK = 500
"""Ids per ``IN (...)`` list: far below SQLite's and asyncpg's bound-parameter limits."""


class Projection(abc.ABC):
    name: str
    schema_version: int
    """Bump when the tables' shape or the folding rules change: the runner rebuilds on start."""
    types: tuple[str, ...]
    """Event types this projection reads; the others only move its checkpoint."""

    @abc.abstractmethod
    def tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        """The tables of one generation, registered on ``metadata``."""

    @abc.abstractmethod
    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        """Fold ``events`` into the rows, inside the caller's transaction; return feed changes."""


def chunks(values: Iterable[Any], size: int = IN_CHUNK) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def load_rows(
    conn: AsyncConnection, table: Table, column: str, keys: Iterable[Any]
) -> list[Row]:
    """Every row whose ``column`` is one of ``keys``, in a few ``IN`` queries."""
    rows: list[Row] = []
    col = table.c[column]
    for part in chunks(sorted(set(keys))):
        result = await conn.execute(table.select().where(col.in_(part)))
        rows.extend(dict(r._mapping) for r in result)
    return rows


async def delete_rows(
    conn: AsyncConnection, table: Table, column: str, keys: Iterable[Any]
) -> None:
    col = table.c[column]
    for part in chunks(sorted(set(keys))):
        await conn.execute(table.delete().where(col.in_(part)))


async def insert_rows(conn: AsyncConnection, table: Table, rows: list[Row]) -> None:
    if rows:
        await conn.execute(table.insert(), rows)
