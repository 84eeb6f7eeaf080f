"""Reads of the log at driver level: what a reader is, and the SQL it is given.

Loading an aggregate is two single-statement reads (latest snapshot, then
the tail). Through SQLAlchemy's async engine each also costs a pool checkout,
a BEGIN, a ROLLBACK and a connection reset, several times the query itself
(bench/README.md, "Figures behind code comments"). So the log is read through
a :class:`Reader`, one round trip per query (``events.readers.reader_for``
picks one for an engine):

- SQLite: a few sqlite3 connections of our own, in autocommit mode (a
  single SELECT is its own consistent snapshot in WAL mode):
  ``events.sqlite_reader``;
- PostgreSQL: a small asyncpg pool of the reader's own, in autocommit
  (``events.pg_reader``): the engine's pool added to every read.

Every driver-level read names the tables it reads to ``events.read_recording``
(the response cache's tags).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Final, Protocol

Rows = Sequence[Sequence[Any]]

INLINE_ROWS: Final = 128
"""Rows a small read (:meth:`Reader.fetch_small`) is expected to return at most: the
SQLite reader fetches that many on the event loop's thread before handing the rest to
a worker."""


class DriverQuery:
    """Driver SQL with bound parameters, in either backend's parameter style."""

    def __init__(self, dialect: str) -> None:
        self._dollar = dialect != "sqlite"
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        """The placeholder for ``value``, which is bound in order."""
        self.params.append(value)
        return f"${len(self.params)}" if self._dollar else "?"


class Reader(Protocol):
    dialect: str

    async def fetch(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        """The rows of ``sql``; ``tables``: the tables it reads (None: unknown)."""
        ...

    async def fetch_small(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        """A read expected to return few rows (a lookup by key, a stream's tail after its
        snapshot): as :meth:`fetch`, by the cheapest route for reads that small."""
        ...

    async def close(self) -> None: ...
