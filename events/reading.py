"""Reads of the log at driver level: one round trip per query.

Loading an aggregate is two single-statement reads (latest snapshot, then
the tail). Through SQLAlchemy's async engine each also costs a pool checkout,
a BEGIN, a ROLLBACK and a connection reset, several times the query itself
(bench/README.md, "Figures behind code comments"). So:

- SQLite: a few sqlite3 connections of our own, in autocommit mode (a
  single SELECT is its own consistent snapshot in WAL mode);
- PostgreSQL: a small asyncpg pool of the reader's own, in autocommit
  (``PgReader``): the engine's pool added to every read.

Every driver-level read names the tables it reads to ``events.read_recording``
(the response cache's tags).
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from events.db import is_sqlite
from events.read_recording import note_read, noted_by_reader

Rows = Sequence[Sequence[Any]]


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


def reader_for(engine: AsyncEngine, timeouts: ReadTimeouts | None = None) -> Reader:
    if is_sqlite(engine):
        database = engine.url.database
        if not database or database == ":memory:":
            # our own connections would open other, empty in-memory databases
            return EngineReader(engine)
        return SqliteReader(database)
    if engine.dialect.driver == "asyncpg":
        return PgReader(engine, timeouts=timeouts or ReadTimeouts())
    return EngineReader(engine)


class EngineReader:
    """Reads through the engine's pool, outside any transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.dialect = engine.dialect.name

    async def fetch(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        note_read(tables)
        with noted_by_reader():
            async with self._engine.connect() as conn:
                if self.dialect == "sqlite":
                    return (await conn.exec_driver_sql(sql, tuple(params))).all()
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                # asyncpg's own records: SQLAlchemy's Row wrapping is a large part of a
                # long read
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                rows: Rows = await driver.fetch(sql, *params)
                return rows

    async def fetch_small(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        return await self.fetch(sql, params, tables)

    async def close(self) -> None:
        return None


INLINE_ROWS: Final = 128
"""Rows a small read fetches on the event loop's thread before handing the rest to a worker."""


class SqliteReader:
    """Plain sqlite3 connections, one per worker thread of a small pool of our own.

    Threads of our own executor, not aiosqlite's: a store someone forgets to
    close must not leave non-daemon threads that keep the interpreter alive.

    Small reads (:meth:`fetch_small`) skip the threads: a hop to a worker and
    back costs many times the read itself on a busy machine, and the read is
    the whole of a snapshotted aggregate load. They run on the event
    loop's thread on connections of their own, which never wait: in WAL mode a
    reader takes no lock a writer holds, and should SQLite still answer busy
    (a checkpoint resetting the WAL, another process recovering it) the read
    is retried on a worker that may wait. A read that turns out long fetches
    its first ``INLINE_ROWS`` rows here and the rest, from the same statement
    (so from the same snapshot of the database), on a worker, so the loop is
    never held for long.
    """

    dialect = "sqlite"

    def __init__(self, path: str, *, size: int = 4) -> None:
        self._path = path
        self._size = size
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        """Connections for small reads not in use (one per read running at once)."""

    async def fetch(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        note_read(tables)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers(), self._fetch, sql, tuple(params))

    async def fetch_small(
        self, sql: str, params: Sequence[Any], tables: Collection[str] | None = None
    ) -> Rows:
        note_read(tables)
        conn = self._idle.pop() if self._idle else self._open(wait=False)
        try:
            cursor = conn.execute(sql, params)
            rows = cursor.fetchmany(INLINE_ROWS)
            if len(rows) == INLINE_ROWS:
                rows += await self._rest(conn, cursor)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                self._discard(conn)
                raise
            self._idle.append(conn)
            return await self.fetch(sql, params)
        except asyncio.CancelledError:
            raise  # only ever from _rest, which saw to the connection
        except BaseException:
            self._discard(conn)
            raise
        self._idle.append(conn)
        return rows

    async def _rest(self, conn: sqlite3.Connection, cursor: sqlite3.Cursor) -> Rows:
        running = self._workers().submit(cursor.fetchall)
        try:
            return await asyncio.wrap_future(running)
        except asyncio.CancelledError:
            # The worker may still be stepping the statement: the connection is
            # closed once it is done with it, never under its feet.
            self._discard(conn, closing=False)
            running.add_done_callback(lambda _: conn.close())
            raise

    def _discard(self, conn: sqlite3.Connection, *, closing: bool = True) -> None:
        """Forget a small reads' connection that failed (it may be mid-statement)."""
        with self._lock:
            if conn in self._opened:
                self._opened.remove(conn)
        if closing:
            conn.close()

    def _workers(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._size, thread_name_prefix="chronicle-read")
        return self._executor

    def _fetch(self, sql: str, params: tuple[Any, ...]) -> Rows:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn.execute(sql, params).fetchall()

    def _open(self, *, wait: bool = True) -> sqlite3.Connection:
        # autocommit: a single SELECT is its own consistent snapshot in WAL mode
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        # WAL is a property of the database file (set by the engine's connections);
        # these only wait on locks like them (the event loop's never), and refuse
        # to write by mistake.
        conn.execute(f"PRAGMA busy_timeout={30000 if wait else 0}")
        conn.execute("PRAGMA query_only=ON")
        with self._lock:
            self._opened.append(conn)
        return conn

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._idle.clear()
        self._local = threading.local()


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
