"""A lease per projection, so exactly one process applies it at a time (PostgreSQL uses an
advisory lock instead: :func:`lease_for`).

A row per projection names its owner and when the claim expires; the owner
renews it from its loop (a heartbeat), anyone may take it once it expired.
Plain conditional UPDATE/INSERT statements, so it works the same on SQLite
and PostgreSQL. The lease is about efficiency and clear ownership: safety does
not rest on clocks, because every batch moves its checkpoint conditionally
(see :func:`projections.bookkeeping.advance`).
"""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, Column, MetaData, String, Table, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from projections.advisory import AdvisoryLease
from projections.transactions import writing

_metadata = MetaData()

projection_leases = Table(
    "projection_leases", _metadata,
    Column("name", String, primary_key=True),
    Column("owner", String, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)


def _now_ms() -> int:
    return int(time.time() * 1000)


def lease_for(engine: AsyncEngine, name: str, owner: str, ttl: float) -> Lease | AdvisoryLease:
    """PostgreSQL: an advisory lock, released the moment its owner's session ends
    (``projections.advisory``); other databases: this lease, which expires after ``ttl``."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine, name, owner, ttl)
    return Lease(engine, name, owner, ttl)


class Lease:
    def __init__(self, engine: AsyncEngine, name: str, owner: str, ttl: float) -> None:
        self.engine = engine
        self.name = name
        self.owner = owner
        self.ttl_ms = int(ttl * 1000)
        self.held = False
        self.renewed_at = 0.0
        """``time.monotonic()`` of the last successful claim."""

    async def claim(self) -> bool:
        """Take or renew the lease if it is ours or expired; ``held`` tells the outcome."""
        t = projection_leases
        now = _now_ms()
        async with writing(self.engine) as conn:
            result = await conn.execute(
                t.update()
                .where(t.c.name == self.name, or_(t.c.owner == self.owner, t.c.expires_at < now))
                .values(owner=self.owner, expires_at=now + self.ttl_ms)
            )
            taken = result.rowcount == 1
        if not taken:
            taken = await self._insert(now)
        self.held = taken
        if taken:
            self.renewed_at = time.monotonic()
        return taken

    async def _insert(self, now: int) -> bool:
        """The first claim ever: the primary key lets exactly one process win."""
        try:
            async with writing(self.engine) as conn:
                await conn.execute(projection_leases.insert().values(
                    name=self.name, owner=self.owner, expires_at=now + self.ttl_ms
                ))
        except IntegrityError:
            return False
        return True

    def due(self) -> bool:
        """Renew a third of the way through, so one slow batch cannot let it lapse."""
        return time.monotonic() - self.renewed_at > self.ttl_ms / 3000

    async def release(self) -> None:
        if not self.held:
            return
        self.held = False
        t = projection_leases
        async with writing(self.engine) as conn:
            mine = (t.c.name == self.name) & (t.c.owner == self.owner)
            await conn.execute(t.update().where(mine).values(expires_at=0))
