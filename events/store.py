"""The event store on SQL: SQLite (aiosqlite) and PostgreSQL (asyncpg) alike.

Appends go through one group-committing writer per store (``events.writer``),
which publishes a notice after each commit. The reads are inherited:
aggregate loads from ``events.store_loads``, the other reads of the log from
``events.store_reads``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from events.bus import EVENTS_CHANNEL
from events.idempotency import IDEMPOTENCY_TTL
from events.model import Commit, CommitResult
from events.notices import NoticeSender, Publisher
from events.pg_reader import ReadTimeouts
from events.readers import reader_for
from events.store_loads import SqlLoads
from events.writer import GroupWriter, WriterMetrics, purge_idempotency

__all__ = ["Publisher", "SqlEventStore"]


class SqlEventStore(SqlLoads):
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        bus: Publisher | None = None,
        group_max: int = 1000,
        idempotency_ttl: timedelta = IDEMPOTENCY_TTL,
        read_timeouts: ReadTimeouts | None = None,
    ) -> None:
        self.engine = engine
        self.idempotency_ttl = idempotency_ttl
        self._notices = NoticeSender(bus, EVENTS_CHANNEL)
        self._writer = GroupWriter(engine, group_max=group_max, on_notice=self._notices.offer,
                                   idempotency_ttl=idempotency_ttl)
        self._reader = reader_for(engine, read_timeouts)

    @property
    def metrics(self) -> WriterMetrics:
        """Counters of the writer: commits, group sizes, append latency (sum/count)."""
        return self._writer.metrics

    async def start(self) -> None:
        await purge_idempotency(self.engine, self.idempotency_ttl)
        self._notices.start()
        await self._writer.start()

    async def close(self) -> None:
        await self._writer.stop()
        await self._notices.stop()
        await self._reader.close()

    async def commit(self, commit: Commit) -> CommitResult:
        return await self._writer.submit(commit)
