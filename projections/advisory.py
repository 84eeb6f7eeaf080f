"""On PostgreSQL, ownership of a projection is a session-level advisory lock.

The owner holds ``pg_try_advisory_lock`` on a connection of its own, opened
outside the engine's pool and kept for as long as it applies the projection.
The server releases the lock the moment that session ends: a clean stop
unlocks, and an owner killed outright (``kill -9``, a lost machine whose
connection the server sees close) frees it as soon as the server notices, so
a survivor's next claim (on its next wake-up or poll) takes over, with no TTL
to sit out as the lease of ``projections.lease`` has (SQLite keeps that one).

As with the lease, safety does not rest on the lock: every batch moves its
checkpoint conditionally (:func:`projections.bookkeeping.advance`), so an
owner that lost its session without noticing yet cannot apply a batch twice.
The owner checks its session every third of ``ttl`` (``due``).
"""

from __future__ import annotations

import contextlib
import logging
import time
import zlib
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

LOCK_CLASS = 0x63687270
"""First half of every projection's lock key ("chrp"): the two-int4 key space of advisory
locks is apart from the bigint one the log's own locks use (``events.db``)."""
CONNECT_TIMEOUT = 5.0


def lock_key(name: str) -> int:
    """The second half of the key: a stable signed 32-bit hash of the projection's name."""
    value = zlib.crc32(name.encode())
    return value - 2**32 if value >= 2**31 else value


class AdvisoryLease:
    def __init__(self, engine: AsyncEngine, name: str, owner: str, ttl: float) -> None:
        self.name = name
        self.owner = owner
        self.ttl_ms = int(ttl * 1000)
        self.held = False
        self.renewed_at = 0.0
        """``time.monotonic()`` of the last claim or check that found the lock held."""
        url = engine.url.set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._conn: Any = None
        """The session holding (or trying for) the lock; None until the first claim."""

    async def claim(self) -> bool:
        """Take the lock if free, or confirm this session still holds it."""
        try:
            if self._conn is None or self._conn.is_closed():
                self.held = False
                self._conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT)
            if self.held:
                await self._conn.fetchval("SELECT 1")
            else:
                self.held = bool(await self._conn.fetchval(
                    "SELECT pg_try_advisory_lock($1, $2)", LOCK_CLASS, lock_key(self.name)
                ))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            # The session is gone, and the lock with it: claim afresh next time.
            log.warning("projection %s: lock session lost (%r)", self.name, error)
            await self._discard()
            return False
        if self.held:
            self.renewed_at = time.monotonic()
        return self.held

    def due(self) -> bool:
        return time.monotonic() - self.renewed_at > self.ttl_ms / 3000

    async def release(self) -> None:
        """Ending the session releases the lock (and leaves nothing to clean up)."""
        await self._discard()

    async def _discard(self) -> None:
        self.held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)
            if not conn.is_closed():
                conn.terminate()
