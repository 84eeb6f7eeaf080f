"""The PostgreSQL reader: a few asyncpg connections of its own, in autocommit, bounded in time.

One of the driver-level readers (``events.reading``), picked by
``events.readers.reader_for`` for an engine on asyncpg.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from events.read_recording import note_read
from events.reading import Rows


@dataclass(frozen=True)
class ReadTimeouts:
    """Bounds of a driver-level read on PostgreSQL, in seconds (``PgReader``).

    Without them a read on a server that stopped answering (a network
    partition, a stuck lock) waits forever, holding its request and one of the
    reader's few slots. Options given in the database URL take precedence.
    """

    connect: float = 10.0
    """Opening a connection, including authentication."""
    command: float = 30.0
    """One query: the connection is then closed and the read fails."""


class PgReader:
    """Reads on PostgreSQL on a few asyncpg connections of the reader's own.

    Through the engine's pool a read also paid the checkout, the switch to
    AUTOCOMMIT and back, and SQLAlchemy's greenlet bridge: several times a bare
    asyncpg connection's cost for ``SELECT 1``, and most of a snapshotted
    aggregate load (asyncpg's own pool still added timers, timeouts and a reset
    per release). Here a read takes an idle connection
    (at most ``size`` at once), runs its query in autocommit (asyncpg prepares
    it once per connection and keeps it) and puts the connection back; a
    connection that saw any error is closed instead, as it may be mid-query.
    """

    def __init__(
        self, engine: AsyncEngine, *, size: int = 8, timeouts: ReadTimeouts | None = None
    ) -> None:
        self.dialect = engine.dialect.name
        _, options = engine.dialect.create_connect_args(engine.url)
        accepted = inspect.signature(asyncpg.connect).parameters
        timeouts = timeouts or ReadTimeouts()
        self._options = {
            "timeout": timeouts.connect,
            "command_timeout": timeouts.command,
            **{k: v for k, v in options.items() if k in accepted},
        }
        self._slots = asyncio.Semaphore(size)
        self._idle: list[asyncpg.Connection] = []
        self._closed = False

    async def fetch(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        note_read(tables)
        async with self._slots:
            conn = self._idle.pop() if self._idle else await asyncpg.connect(**self._options)
            try:
                rows: Rows = await conn.fetch(sql, *params)
            except BaseException:
                conn.terminate()
                raise
            if self._closed:
                await conn.close()
            else:
                self._idle.append(conn)
            return rows

    async def fetch_small(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        return await self.fetch(sql, params, tables)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
