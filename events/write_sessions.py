"""Where the writer's transactions run: one connection, kept for its lifetime.

- SQLite: a plain sqlite3 connection in a thread of its own. The whole group
  transaction (BEGIN IMMEDIATE … COMMIT) runs there in one hop; through the
  async engine every statement would cost a hop and SQLAlchemy's async
  overhead, which dominated the commit (about a millisecond each).
- PostgreSQL (and in-memory SQLite): a connection of the engine, statement by
  statement; the network round trips dominate there, not the hops.

A connection that saw an unexpected error is dropped; the next transaction
opens another.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.db import SECURE_DELETE, is_sqlite, writer_connection
from events.reading import Rows
from events.transaction import Statement, Steps

log = logging.getLogger(__name__)
T = TypeVar("T")

_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


class WriteSession(Protocol):
    dialect: str

    async def run(self, steps: Callable[[], Steps[T]]) -> T:
        """Run the steps in one write transaction and commit; roll back on any error."""
        ...

    async def close(self) -> None: ...


async def write_session_for(engine: AsyncEngine) -> WriteSession:
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:":
        return EngineWriteSession(engine)
    # Same durability as the engine was configured with (create_engine's sqlite_synchronous).
    async with engine.connect() as conn:
        level = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
    return SqliteWriteSession(database, _SYNCHRONOUS.get(int(level or 2), "FULL"))


class SqliteWriteSession:
    dialect = "sqlite"

    def __init__(self, path: str, synchronous: str) -> None:
        self._path = path
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="chronicle-write")

    async def run(self, steps: Callable[[], Steps[T]]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, steps)

    def _transaction(self, steps: Callable[[], Steps[T]]) -> T:
        conn = self._conn or self._open()
        try:
            # IMMEDIATE: the write lock from the start, so another process (the
            # CLI) cannot slip a commit between our reads and our writes.
            conn.execute("BEGIN IMMEDIATE")
            result = drive(steps(), lambda s: _execute(conn, s))
            conn.execute("COMMIT")
            return result
        except BaseException:
            self._drop(conn)
            raise

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in ("busy_timeout=30000", "journal_mode=WAL",  # the wait first: see db.py
                       f"synchronous={self._synchronous}", SECURE_DELETE):
            conn.execute(f"PRAGMA {pragma}")
        self._conn = conn
        return conn

    def _drop(self, conn: sqlite3.Connection) -> None:
        self._conn = None
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
        except sqlite3.Error:
            log.warning("closing the writer's SQLite connection failed", exc_info=True)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _execute(conn: sqlite3.Connection, statement: Statement) -> Rows:
    if statement.many:
        conn.executemany(statement.sql, statement.params)
        return []
    return conn.execute(statement.sql, statement.params).fetchall()


def drive(steps: Steps[T], execute: Callable[[Statement], Rows]) -> T:
    """Run sans-I/O steps synchronously: execute each statement, send its rows back."""
    rows: Rows | None = None
    while True:
        try:
            statement = next(steps) if rows is None else steps.send(rows)
        except StopIteration as done:
            result: T = done.value
            return result
        rows = execute(statement)


class EngineWriteSession:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.dialect = engine.dialect.name
        self._conn: AsyncConnection | None = None

    async def run(self, steps: Callable[[], Steps[T]]) -> T:
        if self._conn is None:
            # kept: a pool checkout and its reset would cost two round trips per group
            self._conn = await writer_connection(self._engine)
        conn = self._conn
        try:
            async with conn.begin():
                return await _drive_async(steps(), conn)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                log.warning("closing the writer's connection failed", exc_info=True)


async def _drive_async(steps: Steps[T], conn: AsyncConnection) -> T:
    rows: Rows | None = None
    while True:
        try:
            statement = next(steps) if rows is None else steps.send(rows)
        except StopIteration as done:
            value: T = done.value
            return value
        params = list(statement.params) if statement.many else tuple(statement.params)
        result = await conn.exec_driver_sql(statement.sql, params)
        rows = result.all() if result.returns_rows else []
