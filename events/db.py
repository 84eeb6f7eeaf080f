"""Engines and schema migrations for both backends (SQLite, PostgreSQL).

Writes to the log are serialised across processes: on SQLite by taking the
write lock up front (``BEGIN IMMEDIATE``), on PostgreSQL by a transaction-scoped
advisory lock, so positions become visible strictly in commit order and
check-then-insert of claims and idempotency keys cannot race.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

LOG_WRITE_LOCK: Final = 0x6368726F6E01
"""PostgreSQL advisory lock key taken by every transaction that appends to the log."""
MIGRATION_LOCK: Final = 0x6368726F6E02
"""PostgreSQL advisory lock key held while migrating, so concurrent starts upgrade once."""

MIGRATIONS = Path(__file__).parent / "migrations"
_SYNCHRONOUS = {"OFF", "NORMAL", "FULL", "EXTRA"}
WRITE_LOCK_OPTION: Final = "chronicle_write"
"""Execution option: this connection's SQLite transactions begin IMMEDIATE (take the write
lock at BEGIN, waiting up to busy_timeout, instead of failing when they first write)."""
_WRITE = WRITE_LOCK_OPTION  # the name projections/bookkeeping.py imports
SECURE_DELETE: Final = "secure_delete=ON"
"""On every SQLite connection that writes: deleted and overwritten content is zeroed,
so a forgotten member's rows and shredded key leave no bytes in free space."""
SCRUB_ATTEMPTS: Final = 50


def is_sqlite(engine: AsyncEngine | AsyncConnection) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, sqlite_synchronous: str = "FULL") -> AsyncEngine:
    """An async engine: aiosqlite in WAL mode, or asyncpg."""
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_size=10, max_overflow=20)
    synchronous = sqlite_synchronous.upper()
    if synchronous not in _SYNCHRONOUS:
        raise ValueError(f"sqlite_synchronous must be one of {sorted(_SYNCHRONOUS)}")
    in_memory = url.rstrip("/").endswith(":") or ":memory:" in url or "mode=memory" in url
    # An in-memory database lives in one connection (SQLAlchemy picks a static pool).
    # Connections past pool_size are opened and closed per checkout (a thread and a
    # file open each with aiosqlite): size the pool for 32 concurrent requests' reads.
    pool: dict[str, Any] = {} if in_memory else {"pool_size": 16, "max_overflow": 16}
    engine = create_async_engine(url, **pool)
    _configure_sqlite(engine, synchronous)
    return engine


def _configure_sqlite(engine: AsyncEngine, synchronous: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is always DEFERRED; turn it off and
        # issue BEGIN ourselves (below) so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching a new file to WAL needs the write lock,
        # which a concurrent start's migration may hold for seconds (sqlite3's own
        # default wait is 5 s, and a loaded CI box exceeded it).
        for pragma in (
            "busy_timeout=30000",
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            "foreign_keys=ON",
            SECURE_DELETE,
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def writer_connection(engine: AsyncEngine) -> AsyncConnection:
    """A connection whose transactions take the SQLite write lock at BEGIN."""
    conn = await engine.connect()
    await conn.execution_options(**{WRITE_LOCK_OPTION: True})
    return conn


async def lock_log(conn: AsyncConnection) -> None:
    """Inside a write transaction on PostgreSQL: wait for the log's lock (held to COMMIT)."""
    if not is_sqlite(conn):
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOG_WRITE_LOCK})


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction holding the log's write lock from its first statement to COMMIT."""
    conn = await writer_connection(engine)
    try:
        async with conn.begin():
            await lock_log(conn)
            yield conn
    finally:
        await conn.close()


async def scrub_wal(engine: AsyncEngine) -> bool:
    """Copy SQLite's write-ahead log into the database file and empty it.

    Called after a member is forgotten and the read model has dropped their
    data: the WAL still holds earlier images of the pages it was on until a
    checkpoint, and a TRUNCATE checkpoint leaves the WAL file empty. With
    ``secure_delete`` the database file keeps no copy in free space either.
    A reader mid-snapshot makes the checkpoint incomplete: it is tried again.
    Returns whether it completed (always True on PostgreSQL, which has no WAL
    file beside the data to scrub).
    """
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:":
        return True
    for _ in range(SCRUB_ATTEMPTS):
        if await asyncio.to_thread(_checkpoint, database):
            return True
        await asyncio.sleep(0.02)
    return False


def _checkpoint(path: str) -> bool:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy
    finally:
        conn.close()


def alembic_config(url: str) -> Config:
    """Alembic configured from the package itself: no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


_MIGRATING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
"""One migration at a time per event loop (see :func:`migrate`)."""


async def migrate(url: str) -> None:
    """Upgrade the schema to head. Safe on every start and from concurrent processes.

    Processes are kept apart by the database: SQLite's write lock taken at
    BEGIN, PostgreSQL's advisory lock. Within one process that is not enough:
    Alembic keeps the running migration's environment in module globals, and
    two migrations on one event loop interleave at every statement (each
    awaits its driver), so they read each other's environment (seen as
    "table events already exists" and KeyError('config')). They take turns here.
    """
    loop = asyncio.get_running_loop()
    turn = _MIGRATING.setdefault(loop, asyncio.Lock())
    async with turn:
        if url.startswith("sqlite"):
            database = make_url(url).database
            if database and database != ":memory:":
                await asyncio.to_thread(_switch_to_wal, database)
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.execution_options(**{_WRITE: True})
                async with conn.begin():
                    if not is_sqlite(conn):
                        # Held until COMMIT: a second process waits, then finds head applied.
                        await conn.execute(
                            text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK}
                        )
                    await conn.run_sync(_upgrade, url)
        finally:
            await engine.dispose()


WAL_SWITCH_TIMEOUT: Final = 30.0


def _switch_to_wal(path: str) -> None:
    """Put a (possibly new) SQLite file in WAL mode, waiting out other processes doing the same.

    Switching takes an exclusive lock, and two connections both trying from
    a shared lock is a deadlock SQLite breaks by answering one of them
    "database is locked" at once, without waiting out its busy timeout. Done
    here, in a worker thread that may sleep between tries, every engine
    connection afterwards finds the file in WAL mode already (a no-op). WAL is
    a property of the file: it stays.
    """
    deadline = time.monotonic() + WAL_SWITCH_TIMEOUT
    pause = 0.01
    while True:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout={int(WAL_SWITCH_TIMEOUT * 1000)}")
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        finally:
            conn.close()
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
