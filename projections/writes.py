"""How a batch's write statements reach the database: in order, one in flight, tables noted.

A batch writes through :class:`Writes` (opened with :func:`writes`), which
sends each statement as soon as its rows are made, so on SQLite the driver's
thread executes one while the event loop makes the next. Every table written
is noted for :func:`recording_writes`: the runner's notices name them, and the
response cache evicts by them. Which statements to send is ``projections.rows``'.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

_written: ContextVar[set[str | None] | None] = ContextVar("chronicle_written", default=None)
"""The tables written since ``recording_writes`` began (None in it: a statement whose
table is unknown)."""


@contextmanager
def recording_writes() -> Iterator[set[str | None]]:
    """Note the name of every table :class:`Writes` writes in the block."""
    written: set[str | None] = set()
    token = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(token)


class Writes:
    """The write statements of one transaction, each sent as soon as its rows are made.

    Making a statement's rows (sorting, tuples, datetimes as text) is Python
    work in the event loop; executing it is SQLite's, in aiosqlite's thread
    and mostly without the GIL. In a rebuild the two are of the same size,
    and awaited one after the other they took turns on two cores. So on
    SQLite a statement goes straight to the driver's thread, in one hop
    (through SQLAlchemy it takes several, each needing the event loop), and
    executes while the next one's rows are made.

    At most one statement is in flight: ``send`` waits for it before sending
    the next, so statements run in the order sent and each error surfaces
    (as the driver's exception). Use it through :func:`writes`, which waits
    for the last one before the transaction goes on or rolls back. Other
    databases get each statement through SQLAlchemy, awaited in turn.
    """

    def __init__(self, conn: AsyncConnection, driver: Any = None) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self._driver = driver
        """The aiosqlite connection under ``conn``, or None."""
        self._sent: asyncio.Future[Any] | None = None

    async def send(self, sql: str, params: Any, table: str | None) -> None:
        """Execute ``sql``, a write to ``table`` (None: unknown), with ``params`` (a
        list: ``executemany``) once the statement sent before has succeeded (its
        error is raised here)."""
        written = _written.get()
        if written is not None:
            written.add(table)
        await self.flush()
        if self._driver is None:
            await self.conn.exec_driver_sql(sql, params)
            return
        run = self._driver.executemany if isinstance(params, list) else self._driver.execute
        self._sent = asyncio.ensure_future(run(sql, params))
        await asyncio.sleep(0)  # its first step queues it in the driver's thread

    async def flush(self) -> None:
        """Wait for the statement in flight; raise its error."""
        sent, self._sent = self._sent, None
        if sent is not None:
            await sent


@asynccontextmanager
async def writes(conn: AsyncConnection) -> AsyncIterator[Writes]:
    """:class:`Writes` on ``conn``; every statement sent has finished when the block ends."""
    driver = None
    if conn.dialect.driver == "aiosqlite":
        driver = (await conn.get_raw_connection()).driver_connection
    out = Writes(conn, driver)
    try:
        yield out
    except BaseException:
        # The transaction rolls back next: never under a statement still running.
        sent, out._sent = out._sent, None
        if sent is not None:
            await asyncio.wait({sent})
            if not sent.cancelled():
                sent.exception()  # retrieved: the error that left the block is the one raised
        raise
    await out.flush()
