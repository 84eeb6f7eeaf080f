"""The SQLite reader: plain sqlite3 connections of our own, small reads on the loop.

One of the driver-level readers (``events.reading``), picked by
``events.readers.reader_for`` for a SQLite database in a file.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from events.read_recording import note_read
from events.reading import INLINE_ROWS, Rows


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
