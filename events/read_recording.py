"""Which tables a piece of work read: the response cache's tags.

The response cache tags an answer with the read tables its execution read
(``recording_reads``), so that a projection's batch evicts only the answers
that read what it changed. Every read is seen by one of two seams, whoever
issues it: a driver-level read of ``events.reading`` (a caller naming its
tables, ``fetch(..., tables=...)``; any other is *unknown*), and every
statement through an engine watched with ``watch_engine_reads``
(SQLAlchemy's public ``before_execute`` event: the tables in the statement,
or *unknown* for text SQL). Unknown means "may
have read anything": the cache then evicts the answer with any batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ClauseElement, TextClause
from sqlalchemy.sql.selectable import TableClause


@dataclass(slots=True)
class Reads:
    """What one piece of work read: tables by their names in the database."""

    tables: set[str] = field(default_factory=set)
    unknown: bool = False
    """Some read named no table (raw SQL): it may have read anything."""


_reads: ContextVar[Reads | None] = ContextVar("chronicle_reads", default=None)
"""The current work's record; tasks it starts (DataLoader batches, gathered
resolvers) copy the context and so add to the same record."""


@contextlib.contextmanager
def recording_reads() -> Iterator[Reads]:
    """Record every read of the block (and of the tasks it starts) in the yielded Reads."""
    reads = Reads()
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def note_read(tables: Collection[str] | None) -> None:
    """A read of ``tables`` (None: of tables nobody named) happened in the current work."""
    reads = _reads.get()
    if reads is None:
        return
    if tables is None:
        reads.unknown = True
    else:
        reads.tables.update(tables)


def tables_in(statement: ClauseElement) -> frozenset[str] | None:
    """The tables ``statement`` names (subqueries and joins included), or None when
    it is text whose tables only the database knows."""
    names: set[str] = set()
    for element in visitors.iterate(statement):
        if isinstance(element, TextClause):
            return None
        if isinstance(element, TableClause):
            names.add(element.name)
    return frozenset(names)


def _before_execute(conn: Any, statement: Any, *args: Any) -> None:
    if _reads.get() is None:
        return
    note_read(tables_in(statement) if isinstance(statement, ClauseElement) else None)


def watch_engine_reads(engine: AsyncEngine) -> None:
    """Record the tables of every statement run through ``engine`` (once per engine)."""
    target = engine.sync_engine
    if not event.contains(target, "before_execute", _before_execute):
        event.listen(target, "before_execute", _before_execute)


@contextlib.contextmanager
def noted_by_reader() -> Iterator[None]:
    """A driver-level read noted by its reader: the engine under it adds nothing."""
    token = _reads.set(None)
    try:
        yield
    finally:
        _reads.reset(token)
